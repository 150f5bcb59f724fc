"""Batches that cross scene boundaries: a model sees up to ``size`` items per call, whichever
scenes they come from, and each scene gets its own outputs back, in order."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

K = TypeVar("K")


def across_groups(
    groups: Iterable[tuple[K, Sequence[Any]]],
    size: int,
    run: Callable[[list[Any]], np.ndarray],
) -> Iterator[tuple[K, np.ndarray]]:
    """``(key, outputs)`` for each ``(key, items)`` of ``groups``, in order. ``run`` maps a list
    of items to one output row per item; it is called with ``size`` items at a time (fewer only
    for the last call), filled across group boundaries. ``groups`` is read lazily: at most one
    batch and one group are held. A group without items gets an empty array."""
    size = max(1, size)
    waiting: deque[tuple[K, int]] = deque()  # groups not yet handed out, with their sizes
    items: list[Any] = []
    rows: list[np.ndarray] = []  # outputs computed and not yet handed out
    for key, group in groups:
        waiting.append((key, len(group)))
        items.extend(group)
        while len(items) >= size:
            rows.extend(run(items[:size]))
            del items[:size]
            yield from _ready(waiting, rows)
        yield from _ready(waiting, rows)
    if items:
        rows.extend(run(items))
    yield from _ready(waiting, rows)


def _ready(waiting: deque[tuple[K, int]], rows: list[np.ndarray]) -> Iterator[tuple[K, np.ndarray]]:
    """Hand out (and forget) the leading groups whose outputs are all in ``rows``."""
    while waiting and waiting[0][1] <= len(rows):
        key, count = waiting.popleft()
        yield key, np.stack(rows[:count]) if count else np.empty((0,), np.float32)
        del rows[:count]
