"""Known-answer tests of the keyframe selection (pure functions, no models)."""

from __future__ import annotations

import numpy as np
import pytest
from egorag_core import Scene
from egorag_core.keyframes import kmeans_keyframes, nearest_to_centroids
from egorag_core.media import sample_indices
from egorag_core.window import FrameSampling

from egorag_xclip.keyframes import resample_in_time


def clustered_features(k: int = 8, per: int = 5, dim: int = 16, seed: int = 1):
    """Frames in time order whose features form ``k`` well separated clusters, visited in an
    interleaved order; in each cluster exactly one frame sits on the cluster mean (the others
    are symmetric offsets around it). Returns ``(features, expected keyframe indices)``."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim)) * 100
    offsets = rng.normal(size=((per - 1) // 2, dim))
    rows, labels, expected = [], [], []
    order = rng.permutation(k * per)  # time position of each (cluster, member)
    members = [(c, m) for c in range(k) for m in range(per)]
    placed = [None] * (k * per)
    for slot, (c, m) in zip(order, members, strict=True):
        placed[slot] = (c, m)
    for t, (c, m) in enumerate(placed):
        if m == 0:
            vec = centres[c]
            expected.append(t)
        else:
            j = (m - 1) // 2
            sign = 1 if m % 2 else -1
            vec = centres[c] + sign * offsets[j]
        rows.append(vec)
        labels.append(c)
    return np.asarray(rows), sorted(expected)


def test_kmeans_picks_the_frame_on_each_centroid_in_time_order():
    features, expected = clustered_features()
    assert kmeans_keyframes(features, 8, seed=0) == expected


def test_nearest_to_centroids_known_answer():
    features = np.array([[0.0, 0], [10, 10], [0.2, 0], [9, 9], [5, 5]])
    centroids = np.array([[9.8, 9.8], [0.05, 0.0]])
    assert nearest_to_centroids(features, centroids) == [0, 1]


def test_shared_nearest_frame_still_gives_distinct_frames():
    features = np.array([[0.0], [1.0], [10.0]])
    centroids = np.array([[0.1], [0.2]])  # both nearest to frame 0
    assert nearest_to_centroids(features, centroids) == [0, 1]


def test_fewer_frames_than_k_keeps_every_frame():
    features = np.random.default_rng(0).normal(size=(3, 4))
    assert kmeans_keyframes(features, 8) == [0, 1, 2]
    assert kmeans_keyframes(features[:1], 8) == [0]


def test_identical_frames_give_distinct_indices():
    features = np.ones((12, 4))
    chosen = kmeans_keyframes(features, 8)
    assert len(chosen) == len(set(chosen)) == 8
    assert chosen == sorted(chosen)


def test_kmeans_is_deterministic():
    features = np.random.default_rng(3).normal(size=(40, 8))
    assert kmeans_keyframes(features, 8, seed=0) == kmeans_keyframes(features, 8, seed=0)


@pytest.mark.parametrize(
    ("count", "length", "expected"),
    [
        (3, 8, [0, 0, 0, 1, 1, 1, 2, 2]),
        (1, 8, [0] * 8),
        (8, 8, list(range(8))),
        (16, 8, [0, 2, 4, 6, 8, 10, 12, 14]),
    ],
)
def test_resample_in_time(count, length, expected):
    assert resample_in_time(count, length) == expected


def test_sampling_asks_short_scenes_for_enough_frames():
    sampling = FrameSampling(2.0, 64, min_frames=8)
    assert sampling.scene_fps(Scene(0.0, 10.0)) == 2.0  # 20 frames at 2 fps: enough
    assert sampling.scene_fps(Scene(1.0, 4.0)) == 8 / 3
    assert sampling.scene_fps(Scene(2.0, 2.0)) == 2.0
    # through the core's sampler: 8 distinct frames of a 3 s scene at 30 fps (6 at 2 fps)
    scene = Scene(1.0, 4.0)
    assert len(sample_indices(scene, 30.0, 300, 2.0, 64)) == 6
    assert len(sample_indices(scene, 30.0, 300, sampling.scene_fps(scene), 64)) == 8
    short = Scene(0.0, 0.1)
    assert len(sample_indices(short, 30.0, 300, sampling.scene_fps(short), 64)) == 3
