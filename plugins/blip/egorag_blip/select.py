"""Pure helpers: representative frames by K-means on small pixel features, caption merging."""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Iterable

import numpy as np


def pixel_features(frames: np.ndarray, side: int = 16) -> np.ndarray:
    """One row per frame: the frame shrunk to ``side`` x ``side`` RGB, scaled to [0, 1]."""
    from PIL import Image

    rows = [
        np.asarray(Image.fromarray(f).resize((side, side), Image.BILINEAR), np.float32).ravel()
        for f in frames
    ]
    return np.stack(rows) / 255.0


def representative_frames(features: np.ndarray, k: int, seed: int = 0) -> list[int]:
    """Indices, in time order, of ``min(k, n)`` distinct frames: K-means (fixed ``seed``) on
    ``features`` and, for each centroid, its nearest frame (a one-to-one assignment, so two
    centroids never share a frame)."""
    from scipy.optimize import linear_sum_assignment
    from sklearn.cluster import KMeans

    n = len(features)
    k = min(k, n)
    if k <= 0:
        return []
    if k == n:
        return list(range(n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate frames: fewer distinct clusters than k
        centroids = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(features)
    diff = centroids.cluster_centers_[:, None, :] - np.asarray(features)[None, :, :]
    _, frames = linear_sum_assignment((diff.astype(np.float64) ** 2).sum(-1))
    return sorted(int(i) for i in frames)


def clean_text(text: str) -> str:
    """Printable characters only, whitespace collapsed, no leading/trailing spaces."""
    text = "".join(ch if ch.isprintable() and ch != "\ufffd" else " " for ch in text)
    return " ".join(text.split())


def sentence_key(sentence: str) -> str:
    """What makes two sentences "the same": case, whitespace and punctuation ignored."""
    kept = (c for c in sentence.casefold() if not unicodedata.category(c).startswith("P"))
    return " ".join("".join(kept).split())


def merge_captions(captions: Iterable[str]) -> str:
    """One description from several captions: each sentence once (first wording kept), in
    order, capitalised and ending with a full stop."""
    seen: set[str] = set()
    sentences: list[str] = []
    for caption in captions:
        for part in re.split(r"(?<=[.!?])\s+|\n+", clean_text(caption)):
            part = part.strip()
            key = sentence_key(part)
            if not key or key in seen:
                continue
            seen.add(key)
            if part[-1] not in ".!?":
                part += "."
            sentences.append(part[0].upper() + part[1:])
    return " ".join(sentences)
