"""Word error rate, for tests and benchmarks of the transcripts."""

from __future__ import annotations

import re


def normalize(text: str) -> list[str]:
    """Lower-case words of ``text``, punctuation dropped (apostrophes kept)."""
    return re.findall(r"[a-z0-9']+", text.lower())


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, on normalized words
    (word-level Levenshtein distance); 0.0 for two empty texts."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref:
        return float(bool(hyp))
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / len(ref)
