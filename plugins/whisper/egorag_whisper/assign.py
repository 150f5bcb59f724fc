"""Pure functions: give each scene the words (and segment pieces) that fall inside it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from egorag_core.data import Scene

Word = dict[str, Any]


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def scene_of(start: float, end: float, scenes: Sequence[Scene]) -> int | None:
    """Index of the scene holding most of ``[start, end]``; for a zero-length or uncovered span,
    the scene nearest its midpoint. ``None`` when there are no scenes."""
    if not scenes:
        return None
    overlaps = [_overlap(start, end, s.start, s.end) for s in scenes]
    best = max(range(len(scenes)), key=lambda i: overlaps[i])
    if overlaps[best] > 0:
        return best
    mid = (start + end) / 2
    for i, s in enumerate(scenes):
        if s.start <= mid < s.end:
            return i
    return min(range(len(scenes)), key=lambda i: min(abs(mid - scenes[i].start),
                                                     abs(mid - scenes[i].end)))


def assign_words(words: Sequence[Word], scenes: Sequence[Scene]) -> list[list[Word]]:
    """Split ``words`` (dicts with absolute ``start``/``end``) among ``scenes``: a word across a
    cut goes to the scene holding most of it. Order is kept."""
    out: list[list[Word]] = [[] for _ in scenes]
    for word in words:
        i = scene_of(float(word["start"]), float(word["end"]), scenes)
        if i is not None:
            out[i].append(word)
    return out


def join_words(words: Sequence[Word]) -> str:
    """The text of ``words`` as whisper spells them (tokens carry their leading spaces)."""
    return " ".join("".join(str(w["word"]) for w in words).split())


def scene_segments(words: Sequence[Word]) -> list[dict[str, Any]]:
    """Segment pieces of one scene: its words grouped by the segment they came from
    (``word["segment"]``), with the span and text of those words."""
    groups: dict[Any, list[Word]] = {}
    for word in words:
        groups.setdefault(word.get("segment"), []).append(word)
    return [
        {"start": ws[0]["start"], "end": ws[-1]["end"], "text": join_words(ws)}
        for ws in groups.values()
    ]


def tighten_words(words: list[Word], factor: float = 2.0, floor_s: float = 0.4) -> list[Word]:
    """Whisper stretches the first word after a pause back into the silence (and the last word
    before one into it). Cap a word longer than ``factor`` x the median word duration (at least
    ``floor_s``): the start of a segment's first word, the end of its last word. In place."""
    if not words:
        return words
    durations = sorted(float(w["end"]) - float(w["start"]) for w in words)
    cap = max(floor_s, factor * durations[len(durations) // 2])
    for i, w in enumerate(words):
        if float(w["end"]) - float(w["start"]) <= cap:
            continue
        seg = w.get("segment")
        first = i == 0 or words[i - 1].get("segment") != seg
        last = i == len(words) - 1 or words[i + 1].get("segment") != seg
        if first and not last:
            w["start"] = round(float(w["end"]) - cap, 3)
        elif last and not first:
            w["end"] = round(float(w["start"]) + cap, 3)
    return words
