"""Keyframe selection shared by plugins: K-means over per-frame features, then the frame
nearest each centroid (needs scikit-learn and scipy, which such plugins depend on)."""

from __future__ import annotations

import warnings

import numpy as np


def nearest_to_centroids(features: np.ndarray, centroids: np.ndarray) -> list[int]:
    """Indices (sorted) of the frame nearest each centroid, one distinct frame per centroid.

    When two centroids share their nearest frame, an optimal one-to-one assignment (minimum
    total distance) gives one of them its next-nearest frame, so the result has
    ``min(len(centroids), len(features))`` distinct frames.
    """
    from scipy.optimize import linear_sum_assignment

    features = np.asarray(features, dtype=np.float64)
    centroids = np.asarray(centroids, dtype=np.float64)
    distances = ((centroids[:, None, :] - features[None, :, :]) ** 2).sum(-1)
    _, frames = linear_sum_assignment(distances)
    return sorted(int(i) for i in frames)


def kmeans_keyframes(features: np.ndarray, k: int, seed: int = 0) -> list[int]:
    """Cluster ``features`` (one row per frame, in time order) into ``min(k, n)`` groups with
    K-means (fixed ``seed``) and return the frame nearest each centroid, in time order."""
    from sklearn.cluster import KMeans

    n = len(features)
    k = min(k, n)
    if k <= 0:
        return []
    if k == n:
        return list(range(n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate frames: fewer distinct clusters than k
        kmeans = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(features)
    return nearest_to_centroids(features, kmeans.cluster_centers_)
