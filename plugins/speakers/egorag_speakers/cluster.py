"""Cluster speaker embeddings into labels (pure numpy/scikit-learn)."""

from __future__ import annotations

import numpy as np


def cluster_speakers(embeddings: np.ndarray, threshold: float = 0.35,
                     num_speakers: int | None = None) -> list[int]:
    """Speaker numbers for ``embeddings`` (N, D), numbered by first appearance.

    Agglomerative clustering, average linkage on cosine distance: with ``num_speakers`` that
    many clusters, otherwise clusters closer than ``threshold`` merge (count estimated).
    """
    n = len(embeddings)
    if n == 0:
        return []
    if n == 1 or num_speakers == 1:
        return [0] * n
    from sklearn.cluster import AgglomerativeClustering

    if num_speakers:
        algo = AgglomerativeClustering(n_clusters=min(int(num_speakers), n), metric="cosine",
                                       linkage="average")
    else:
        algo = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold,
                                       metric="cosine", linkage="average")
    raw = algo.fit_predict(np.asarray(embeddings, dtype=np.float64))
    order: dict[int, int] = {}
    return [order.setdefault(int(c), len(order)) for c in raw]
