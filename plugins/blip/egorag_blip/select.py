"""Pure helpers: small pixel features (for K-means keyframes), caption merging with
near-duplicate sentences joined (the text cleaning itself is
:func:`egorag_core.hf.clean_generated_text`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import numpy as np
from egorag_core.hf import clean_generated_text


def pixel_features(frames: np.ndarray, side: int = 16) -> np.ndarray:
    """One row per frame: the frame shrunk to ``side`` x ``side`` RGB, scaled to [0, 1]."""
    from PIL import Image

    rows = [
        np.asarray(Image.fromarray(f).resize((side, side), Image.BILINEAR), np.float32).ravel()
        for f in frames
    ]
    return np.stack(rows) / 255.0


def sentence_key(sentence: str) -> str:
    """What makes two sentences "the same": case, whitespace and punctuation ignored."""
    kept = (c for c in sentence.casefold() if not unicodedata.category(c).startswith("P"))
    return " ".join("".join(kept).split())


#: Sentences whose word sets are at least this similar (:func:`token_set_similarity`) are one.
MERGE_SIMILARITY = 0.6


def words(sentence: str) -> frozenset[str]:
    """The distinct words of ``sentence`` (as :func:`sentence_key` normalises them)."""
    return frozenset(sentence_key(sentence).split())


def token_set_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two sentences' word sets (0 when both are empty)."""
    x, y = words(a), words(b)
    return len(x & y) / len(x | y) if x or y else 0.0


def sentences_of(caption: str) -> list[str]:
    """The non-empty sentences of a cleaned caption."""
    parts = re.split(r"(?<=[.!?])\s+|\n+", clean_generated_text(caption))
    return [p.strip() for p in parts if sentence_key(p)]


def merge_captions(captions: Iterable[str], similarity: float = MERGE_SIMILARITY) -> str:
    """One description from several captions: their sentences in order, near-duplicates once
    (word-set similarity >= ``similarity``; of two, the wording with more distinct words is
    kept, in the first one's place), each capitalised and ending with a full stop."""
    kept: list[str] = []
    for caption in captions:
        for part in sentences_of(caption):
            same = (i for i, k in enumerate(kept) if token_set_similarity(part, k) >= similarity)
            match = next(same, None)
            if match is None:
                kept.append(part)
            elif len(words(part)) > len(words(kept[match])):
                kept[match] = part
    return " ".join(p[0].upper() + p[1:] + ("" if p[-1] in ".!?" else ".") for p in kept)
