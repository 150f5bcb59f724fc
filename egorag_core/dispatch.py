"""The encode step handed to an executor as tasks, its results back in input order.

A task is one video (``video``), or for a video to be sharded (``executor.shard_minutes``) its
scene split (``split``) and then one task per shard (``part``); the driver merges a sharded
video's parts in scene order. :func:`perform` runs a task where the executor puts it (a thread,
a Ray actor) and never raises; :func:`encode_in_order` keeps the executor busy and yields each
video's result in input order, so the driver commits them one by one as before.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from .config import ExecutorConfig
from .data import VideoDatapoint, validate_scenes
from .executor import Executor, LocalExecutor
from .report import VideoRecord
from .run import (
    EncodeContext,
    EncodedVideo,
    EncodeFailure,
    Prepared,
    encode_or_fail,
    failure_line,
    split_or_fail,
)
from .shards import Part, Split, plan_parts
from .window import FrameCounts

Result = EncodedVideo | EncodeFailure
#: The outcome of a video already yielded (late results of its other parts are dropped).
_YIELDED = EncodeFailure("yielded")


@dataclass(frozen=True)
class Task:
    """One unit of work: ``kind`` is ``video``, ``split`` or ``part``; ``n`` is the video's
    place among the run's pending videos."""

    n: int
    kind: str
    record: VideoRecord
    part: Part | None = None


def perform(context: EncodeContext, task: Task) -> Result | Split:
    """Run ``task`` with ``context``; errors come back as an :class:`EncodeFailure`."""
    if task.kind == "split":
        return split_or_fail(context, task.record)
    return encode_or_fail(context, task.record, task.part)


@contextmanager
def open_executor(
    prepared: Prepared, choices: Mapping[str, str], needed: bool = True
) -> Iterator[Executor]:
    """The run's executor, closed at the end: ``executor=ray``'s actors when there is work
    (``needed``), else this process's threads (``max_workers``)."""
    config = prepared.config
    executor: Executor
    if config.executor.name == "ray" and needed:
        from .ray_executor import RayExecutor

        executor = RayExecutor(config, choices)
    else:
        executor = LocalExecutor(config.max_workers, partial(perform, prepared.context))
    try:
        yield executor
    finally:
        executor.close()


@dataclass
class _Video:
    """One pending video: its shards once known, their results, and its outcome."""

    record: VideoRecord
    split: Split | None = None
    parts: list[Part] = field(default_factory=list)
    done: dict[int, EncodedVideo] = field(default_factory=dict)
    outcome: Result | None = None


def encode_in_order(
    executor: Executor,
    records: Sequence[VideoRecord],
    config: ExecutorConfig,
    last_task: Callable[[], None] | None = None,
) -> Iterator[Result]:
    """Each record's result, in order, with at most ``executor.capacity`` tasks running and
    at most twice that many finished videos waiting for an earlier one. ``last_task`` is
    called once, when the one task left running is the run's last."""
    videos = [_Video(r) for r in records]
    ready: deque[Task] = deque()
    started = head = running = splitting = 0
    while head < len(videos):
        while running < executor.capacity:
            if not ready and started < len(videos) and started - head <= 2 * executor.capacity:
                ready.extend(_first_tasks(started, videos[started], config))
                started += 1
                continue
            if not ready:
                break
            task = ready.popleft()
            if videos[task.n].outcome is None:  # a failed part drops its video's other parts
                executor.submit(task)
                running += 1
                splitting += task.kind == "split"
        if last_task and started == len(videos) and not ready and running <= 1 and not splitting:
            last_task()
            last_task = None
        outcome = videos[head].outcome
        if outcome is not None:
            yield outcome
            videos[head] = _Video(videos[head].record, outcome=_YIELDED)  # let its vectors go
            head += 1
            continue
        task, result = executor.next_done()
        running -= 1
        splitting -= task.kind == "split"
        ready.extend(_take(videos[task.n], task, result, config))


def _first_tasks(n: int, video: _Video, config: ExecutorConfig) -> list[Task]:
    """The video whole, or its split (or, with scenes given, its parts)."""
    record = video.record
    assert record.info is not None and record.point is not None
    minutes = config.shard_minutes
    if minutes is None or record.info.duration <= minutes * 60:
        return [Task(n, "video", record)]
    if not record.point.precomputed_scenes:
        return [Task(n, "split", record)]
    try:
        scenes = validate_scenes(record.point.precomputed_scenes, record.info.duration,
                                 record.video_path)  # fmt: skip
    except Exception as exc:
        video.outcome = EncodeFailure(failure_line(record.video_path, exc))
        return []
    video.split = Split(tuple(scenes), 0.0, record.info.duration)
    return _part_tasks(n, video, config)


def _part_tasks(n: int, video: _Video, config: ExecutorConfig) -> list[Task]:
    assert video.split is not None and config.shard_minutes is not None
    video.parts = plan_parts(video.split.scenes, config.shard_minutes * 60,
                             config.shard_overlap_seconds)  # fmt: skip
    return [Task(n, "part", video.record, part) for part in video.parts]


def _take(video: _Video, task: Task, result: Any, config: ExecutorConfig) -> list[Task]:
    """Record a finished task; return the tasks it leads to (a split's parts)."""
    if video.outcome is not None:
        return []
    if isinstance(result, EncodeFailure) or task.kind == "video":
        video.outcome = result
        return []
    if task.kind == "split":
        video.split = result
        return _part_tasks(task.n, video, config)
    assert task.part is not None
    video.done[video.parts.index(task.part)] = result
    if len(video.done) == len(video.parts):
        video.outcome = merge(video)
    return []


def merge(video: _Video) -> EncodedVideo:
    """A sharded video's parts joined in scene order: one result as if encoded whole."""
    assert video.split is not None and video.record.info is not None
    parts = [video.done[i] for i in range(len(video.parts))]
    encodings = tuple(e for p in parts for e in p.encodings)
    point = VideoDatapoint(video.record.video_path, "", scene_embeddings=list(encodings))
    seconds: dict[str, float] = {"scenes": video.split.seconds}
    frames = FrameCounts()
    for p in parts:
        frames.add(p.frames.needed, p.frames.decoded)
        for stage, s in p.stage_seconds.items():
            seconds[stage] = seconds.get(stage, 0.0) + s
    return EncodedVideo(
        tuple(s for p in parts for s in p.scenes), encodings, point.compute_global_embeddings(),
        parts[0].has_audio, parts[0].duration, seconds, frames,
    )  # fmt: skip
