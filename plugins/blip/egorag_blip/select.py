"""Pure helpers: small pixel features (for K-means keyframes), caption merging (the text
cleaning itself is :func:`egorag_core.hf.clean_generated_text`)."""

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


def merge_captions(captions: Iterable[str]) -> str:
    """One description from several captions: each sentence once (first wording kept), in
    order, capitalised and ending with a full stop."""
    seen: set[str] = set()
    sentences: list[str] = []
    for caption in captions:
        for part in re.split(r"(?<=[.!?])\s+|\n+", clean_generated_text(caption)):
            part = part.strip()
            key = sentence_key(part)
            if not key or key in seen:
                continue
            seen.add(key)
            if part[-1] not in ".!?":
                part += "."
            sentences.append(part[0].upper() + part[1:])
    return " ".join(sentences)
