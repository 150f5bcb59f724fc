"""Time resampling of keyframes to a model's frame count and the sampling rate that gives a
scene enough frames (K-means keyframe selection itself is
:func:`egorag_core.keyframes.kmeans_keyframes`)."""

from __future__ import annotations


def resample_in_time(count: int, length: int) -> list[int]:
    """``length`` indices into ``count`` items in time order: repeats when ``count < length``
    (``3 -> 8``: 0 0 0 1 1 1 2 2), a uniform subset when ``count > length``."""
    if count <= 0:
        raise ValueError("no frames to resample")
    return [(i * count) // length for i in range(length)]
