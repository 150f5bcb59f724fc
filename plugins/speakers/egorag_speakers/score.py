"""Scoring speaker labels against reference turns (pure numpy/scipy): time-weighted over the
reference's speech, or per word."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

Turn = tuple[float, float, str]


def read_rttm(path: str | Path) -> list[Turn]:
    """``(start, end, speaker)`` of every ``SPEAKER`` line of an RTTM file."""
    out = []
    for line in Path(path).read_text().splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            out.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    return out


def read_stm(path: str | Path) -> list[Turn]:
    """``(start, end, speaker)`` of every segment of an STM transcript."""
    out = []
    for line in Path(path).read_text().splitlines():
        f = line.split()
        if len(f) >= 5 and not line.startswith(";;"):
            out.append((float(f[3]), float(f[4]), f[2]))
    return out


def best_mapped(table: np.ndarray) -> float:
    """The largest total of a (reference, hypothesis) agreement ``table`` under a one-to-one
    mapping of hypothesis labels to reference labels."""
    from scipy.optimize import linear_sum_assignment

    if table.size == 0:
        return 0.0
    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum())


def _grid(turns: Sequence[Turn], names: list[str], n: int, step: float) -> np.ndarray:
    """(speakers, frames) bool: who speaks in each ``step`` frame."""
    grid = np.zeros((len(names), n), dtype=bool)
    for a, b, s in turns:
        grid[names.index(s), int(round(a / step)) : int(round(b / step))] = True
    return grid


def time_accuracy(hypothesis: Sequence[Turn], reference: Sequence[Turn],
                  step: float = 0.01) -> float:
    """Fraction of the reference's single-speaker time whose hypothesis label is right under
    the best one-to-one mapping of labels. Time where two reference speakers overlap is left
    out; reference speech with no hypothesis label, or two, counts as wrong."""
    end = max(b for _, b, _ in [*reference, *hypothesis])
    n = int(np.ceil(end / step)) + 1
    refs = sorted({s for _, _, s in reference})
    hyps = sorted({s for _, _, s in hypothesis})
    ref, hyp = _grid(reference, refs, n, step), _grid(hypothesis, hyps, n, step)
    single = ref.sum(axis=0) == 1
    scored = single & (hyp.sum(axis=0) == 1)
    table = (ref[:, None, :] & hyp[None, :, :] & scored).sum(axis=2)
    return best_mapped(table) / max(int(single.sum()), 1)


def word_accuracy(words: Sequence[dict[str, Any]], reference: Sequence[Turn]) -> float:
    """Fraction of ``words`` (``start``, ``end``, ``speaker``) whose speaker is the reference
    speaker of the turn nearest their middle, under the best mapping of labels."""
    pairs: list[tuple[str, str]] = []
    for w in words:
        mid = (float(w["start"]) + float(w["end"])) / 2
        turn = min(reference, key=lambda t: max(t[0] - mid, mid - t[1], 0.0))
        pairs.append((turn[2], str(w["speaker"])))
    refs, hyps = sorted({r for r, _ in pairs}), sorted({h for _, h in pairs})
    table = np.zeros((len(refs), len(hyps)))
    for r, h in pairs:
        table[refs.index(r), hyps.index(h)] += 1
    return best_mapped(table) / max(len(pairs), 1)
