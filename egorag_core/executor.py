"""Executors run the encode step's tasks; stages never assume one process.

An executor takes tasks (:meth:`Executor.submit`) and hands back each finished one with its
result (:meth:`Executor.next_done`), at most :attr:`Executor.capacity` running at once.
:class:`LocalExecutor` uses threads of this process (``max_workers``; with one it runs each
task in the caller's thread); ``executor=ray`` uses Ray actors
(:mod:`egorag_core.ray_executor`). :mod:`egorag_core.dispatch` decides what the tasks are.
"""

from __future__ import annotations

import importlib.util
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from .errors import ConfigError

if TYPE_CHECKING:
    from .config import ExecutorConfig

T = TypeVar("T")
R = TypeVar("R")

#: The one line when ``executor=ray`` is chosen without Ray installed.
RAY_MISSING = "executor=ray needs Ray: pip install 'egorag-core[ray]'"


class Executor(Protocol):
    """Where tasks run."""

    #: Tasks that run at once.
    capacity: int

    def submit(self, task: Any) -> None:
        """Start ``task`` (or queue it until a worker is free)."""

    def next_done(self) -> tuple[Any, Any]:
        """Wait for a submitted task to finish; return it and its result."""
        ...

    def workers(self) -> list[dict[str, Any]]:
        """Per worker, what it did (for the run report); empty for this process's threads."""
        ...

    def close(self) -> None:
        """Stop the workers (tasks still running are abandoned or awaited)."""


class LocalExecutor(Generic[T, R]):
    """Threads of this process, running ``fn`` on each task."""

    def __init__(self, max_workers: int, fn: Callable[[T], R]):
        if max_workers < 1:
            raise ConfigError(f"max_workers={max_workers}: must be at least 1")
        self.capacity = max_workers
        self.fn = fn
        self._queued: deque[T] = deque()
        self._running: dict[Future[R], T] = {}
        self._pool: ThreadPoolExecutor | None = None
        if max_workers > 1:
            self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="egorag")

    def submit(self, task: T) -> None:
        if self._pool is None:
            self._queued.append(task)  # run by next_done, in the caller's thread
        else:
            self._running[self._pool.submit(self.fn, task)] = task

    def next_done(self) -> tuple[T, R]:
        if self._pool is None:
            task = self._queued.popleft()
            return task, self.fn(task)
        done, _ = wait(self._running, return_when=FIRST_COMPLETED)
        future = next(iter(done))
        return self._running.pop(future), future.result()

    def workers(self) -> list[dict[str, Any]]:
        return []

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def check_executor(config: ExecutorConfig) -> None:
    """Raise :class:`ConfigError` (one line naming the option) for executor settings that
    cannot run, before any work; nothing is imported."""
    if config.name not in ("local", "ray"):
        raise ConfigError(f"executor={config.name}: expected executor=local or executor=ray")
    if config.name != "ray":
        return
    try:
        missing = importlib.util.find_spec("ray") is None
    except (ImportError, ValueError):
        missing = True
    if missing:
        raise ConfigError(RAY_MISSING)
    if config.workers < 1:
        raise ConfigError(f"executor.workers={config.workers}: must be at least 1")
    for key in ("num_cpus_per_worker", "num_gpus_per_worker"):
        if getattr(config, key) < 0:
            raise ConfigError(f"executor.{key}={getattr(config, key)}: must be at least 0")
