"""Time bookkeeping of diarization (pure numpy): voiced regions, sliding windows, a per-frame
speaker track, speaker turns, and speaker labels for words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: Resolution of the speaker track (seconds per frame).
FRAME_S = 0.01

Span = tuple[float, float]


def voiced_regions(flags: Sequence[bool], step_s: float, min_gap_s: float = 0.3,
                   min_len_s: float = 0.2) -> list[Span]:
    """Spans (seconds) of consecutive voiced ``flags`` (one per ``step_s``), pauses shorter
    than ``min_gap_s`` bridged, regions shorter than ``min_len_s`` dropped."""
    spans: list[list[float]] = []
    start = None
    for i, voiced in enumerate([*flags, False]):
        if voiced and start is None:
            start = i
        elif not voiced and start is not None:
            a, b = start * step_s, i * step_s
            if spans and a - spans[-1][1] < min_gap_s:
                spans[-1][1] = b
            else:
                spans.append([a, b])
            start = None
    return [(round(a, 3), round(b, 3)) for a, b in spans if b - a >= min_len_s]


def sliding_windows(regions: Sequence[Span], window_s: float, hop_s: float,
                    min_window_s: float, duration_s: float) -> list[Span]:
    """Windows of ``window_s`` every ``hop_s`` over each region (the last one ends with it);
    a shorter region gets one window of its own length, at least ``min_window_s`` (centred on
    it, within ``[0, duration_s]``)."""
    out: list[Span] = []
    for a, b in regions:
        if b - a < window_s:
            half = max(b - a, min_window_s) / 2
            mid = min(max((a + b) / 2, half), duration_s - half)
            out.append((max(0.0, mid - half), min(duration_s, mid + half)))
            continue
        starts = list(np.arange(a, b - window_s + 1e-9, hop_s))
        if b - window_s - starts[-1] > 1e-6:
            starts.append(b - window_s)
        out += [(float(s), float(s) + window_s) for s in starts]
    return sorted((round(a, 3), round(b, 3)) for a, b in out)


def speaker_track(windows: Sequence[Span], scores: np.ndarray, regions: Sequence[Span],
                  duration_s: float) -> np.ndarray:
    """Speaker number per :data:`FRAME_S` frame (-1: none): each frame inside a voiced region
    takes the speaker with the highest score summed over the windows covering it.
    ``scores`` is (windows, speakers)."""
    n = int(np.ceil(duration_s / FRAME_S))
    total = np.zeros((n, scores.shape[1]))
    covered = np.zeros(n, dtype=bool)
    for (a, b), row in zip(windows, scores, strict=True):
        i, j = int(round(a / FRAME_S)), int(round(b / FRAME_S))
        total[i:j] += row
        covered[i:j] = True
    voiced = np.zeros(n, dtype=bool)
    for a, b in regions:
        voiced[int(round(a / FRAME_S)) : int(round(b / FRAME_S))] = True
    track = total.argmax(axis=1)
    track[~(voiced & covered)] = -1
    return track


def turns(track: np.ndarray) -> list[tuple[float, float, int]]:
    """``(start, end, speaker)`` runs of one speaker in ``track`` (unlabelled frames end a
    run)."""
    out = []
    edges = np.flatnonzero(np.diff(track)) + 1
    for a, b in zip(np.r_[0, edges], np.r_[edges, len(track)], strict=True):
        if b > a and track[a] >= 0:
            out.append((round(a * FRAME_S, 3), round(b * FRAME_S, 3), int(track[a])))
    return out


def renumber(track: np.ndarray) -> np.ndarray:
    """``track`` with speakers numbered 0, 1... by first appearance in time."""
    order: dict[int, int] = {}
    for s in track[track >= 0]:
        order.setdefault(int(s), len(order))
    out = np.full_like(track, -1)
    for old, new in order.items():
        out[track == old] = new
    return out


def speaker_at(track: np.ndarray, start: float, end: float) -> int:
    """The speaker of most labelled frames in ``[start, end]``, else of the nearest labelled
    frame; -1 when the track has none."""
    labelled = np.flatnonzero(track >= 0)
    if labelled.size == 0:
        return -1
    i = int(np.floor(start / FRAME_S))
    j = max(i + 1, int(np.ceil(end / FRAME_S)))
    inside = track[max(0, i) : j]
    inside = inside[inside >= 0]
    if inside.size:
        return int(np.bincount(inside).argmax())
    mid = (start + end) / 2 / FRAME_S
    return int(track[labelled[np.abs(labelled - mid).argmin()]])


def word_runs(words: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive words of one ``speaker`` as ``{start, end, speaker, text}``."""
    runs: list[dict[str, Any]] = []
    for w in words:
        if runs and runs[-1]["speaker"] == w["speaker"]:
            runs[-1]["end"] = float(w["end"])
            runs[-1]["text"] += " " + str(w["word"]).strip()
        else:
            runs.append({"start": float(w["start"]), "end": float(w["end"]),
                         "speaker": w["speaker"], "text": str(w["word"]).strip()})
    return runs
