"""encode_in_order tells the run when the one task left running is its last (the scheduler
then releases each model after its last stage instead of keeping it for a next video)."""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace
from typing import Any

import pytest

from egorag_core.config import ExecutorConfig
from egorag_core.dispatch import Task, encode_in_order
from egorag_core.report import VideoRecord
from egorag_core.run import EncodeFailure


class StubExecutor:
    """Runs nothing: tasks finish in the order they were submitted, each as ``done``."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.queue: deque[Task] = deque()
        self.submitted: list[int] = []

    def submit(self, task: Task) -> None:
        self.queue.append(task)
        self.submitted.append(task.n)

    def next_done(self) -> tuple[Task, Any]:
        return self.queue.popleft(), EncodeFailure("done")

    def workers(self) -> list[dict[str, Any]]:
        return []

    def close(self) -> None:
        pass


def records(n: int) -> list[VideoRecord]:
    info = SimpleNamespace(duration=60.0)
    point = SimpleNamespace(precomputed_scenes=None)
    return [VideoRecord(f"v{i}", f"v{i}.mp4", point=point, info=info) for i in range(n)]


@pytest.mark.parametrize("videos,capacity", [(1, 1), (3, 1), (4, 2)])
def test_last_task_is_told_once_when_it_runs_alone(videos, capacity):
    executor = StubExecutor(capacity)
    seen: list[tuple[int, list[int]]] = []

    def last_task() -> None:
        seen.append((len(executor.queue), list(executor.submitted)))

    out = list(encode_in_order(executor, records(videos), ExecutorConfig(), last_task))
    assert len(out) == videos
    assert seen == [(1, list(range(videos)))]  # once; every video handed out, one running
