"""Executors run the per-video work; stages never assume one process.

:class:`LocalExecutor` uses threads (``max_workers``); with one worker it runs in the caller's
thread. Results come back in input order, each with its item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class LocalExecutor:
    """Threads on this machine."""

    def __init__(self, max_workers: int = 1):
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Yield ``(item, fn(item))`` in input order; at most ``max_workers`` run at once."""
        items = list(items)
        if self.max_workers == 1:
            for item in items:
                yield item, fn(item)
            return
        with ThreadPoolExecutor(self.max_workers, thread_name_prefix="egorag") as pool:
            futures = [pool.submit(fn, item) for item in items]
            for item, future in zip(items, futures, strict=True):
                yield item, future.result()
