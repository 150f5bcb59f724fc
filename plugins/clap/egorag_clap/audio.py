"""Small audio helpers: resampling and fixed windows."""

from __future__ import annotations

from math import gcd

import numpy as np


def resample(audio: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """``audio`` at ``target_rate`` (polyphase filter), float32."""
    if source_rate == target_rate or audio.size == 0:
        return audio.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    g = gcd(source_rate, target_rate)
    return resample_poly(audio, target_rate // g, source_rate // g).astype(np.float32)


def windows(n: int, size: int, min_last: int = 0) -> list[tuple[int, int]]:
    """``[start, end)`` windows of ``size`` samples covering ``n`` samples; a last window
    shorter than ``min_last`` is dropped unless it is the only one."""
    if n <= 0:
        return []
    spans = [(a, min(a + size, n)) for a in range(0, n, size)]
    if len(spans) > 1 and spans[-1][1] - spans[-1][0] < min_last:
        spans.pop()
    return spans

