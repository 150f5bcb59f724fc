"""Scenes in bounded windows: the frames the stages of a window of scenes will read are decoded
once, in one forward pass, held while the window's frame stages run, then let go.

Memory per video then depends on the window, not on the number of scenes: keyframes handed from
the video stage to the captioner live only as long as their window.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .data import Scene
from .media import Frames, VideoFrames, sample_indices

#: A window never holds more scenes than this, whatever their frames weigh.
MAX_WINDOW_SCENES = 64


@dataclass(frozen=True)
class FrameSampling:
    """How a stage samples a scene's frames: ``fps`` (``None``: every frame), at least
    ``min_frames`` when the scene has them (the rate is raised for short scenes), at most
    ``max_frames``. A stage reads with :meth:`sample`, so what it reads is what it declared."""

    fps: float | None
    max_frames: int
    min_frames: int = 1

    def scene_fps(self, scene: Scene) -> float | None:
        """``fps``, raised so that ``scene`` asks for at least ``min_frames`` frames."""
        if self.fps is None or scene.duration <= 0:
            return self.fps
        return max(self.fps, self.min_frames / scene.duration)

    def indices(self, frames: FrameSource, scene: Scene) -> list[int]:
        """The frame indices of ``scene`` this sampling reads."""
        fps = self.scene_fps(scene)
        return sample_indices(scene, frames.fps, frames.frame_count, fps, self.max_frames)

    def sample(self, frames: FrameSource, scene: Scene) -> Frames:
        """The frames of ``scene`` this sampling reads."""
        return frames.get(self.indices(frames, scene))


class FrameSource(Protocol):
    """What stages read frames from (``job.frames``)."""

    fps: float
    frame_count: int

    @property
    def duration(self) -> float: ...

    def get(self, indices: Sequence[int]) -> Frames: ...

    def sample(self, scene: Scene, fps: float | None = 1.0, max_frames: int = 32) -> Frames: ...

    def at_times(self, times: Sequence[float]) -> Frames: ...


@dataclass
class FrameCounts:
    """Frames the stages read against frames decoded for them, over one video."""

    needed: int = 0
    decoded: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, needed: int, decoded: int) -> None:
        with self._lock:  # windows are decoded in a background thread
            self.needed += needed
            self.decoded += decoded

    def __getstate__(self) -> dict[str, int]:
        """The counts without the lock: results travel between processes (executor=ray)."""
        return {"needed": self.needed, "decoded": self.decoded}

    def __setstate__(self, state: dict[str, int]) -> None:
        self.needed, self.decoded = state["needed"], state["decoded"]
        self._lock = threading.Lock()


def decode_side(sides: Sequence[int | None]) -> int | None:
    """The shorter side to decode a window's frames at: the largest any of its stages needs;
    ``None`` (full size) when a stage needs full size or none declares one."""
    if not sides or any(side is None for side in sides):
        return None
    return max(side for side in sides if side is not None)


def needed_indices(
    frames: FrameSource, scenes: Sequence[Scene], samplings: Sequence[FrameSampling]
) -> list[set[int]]:
    """Per scene, the frame indices the declared samplings will ask for."""
    return [{i for s in samplings for i in s.indices(frames, scene)} for scene in scenes]


def windows(
    needed: Sequence[set[int]], frame_bytes: int, budget_bytes: int, batch: int = 1
) -> Iterator[range]:
    """Consecutive scene ranges whose needed frames fit ``budget_bytes`` (at least one scene,
    at most :data:`MAX_WINDOW_SCENES`). A window that holds ``batch`` scenes or more holds a
    whole number of ``batch``-es, so a model that sees ``batch`` scenes a call gets full calls;
    the scenes cut off start the next window."""
    start, held, batch = 0, 0, max(1, batch)
    i = 0
    while i < len(needed):
        size = len(needed[i]) * frame_bytes
        if i > start and (held + size > budget_bytes or i - start >= MAX_WINDOW_SCENES):
            count = i - start
            end = start + (count // batch * batch if count >= batch else count)
            yield range(start, end)
            start, held, i = end, 0, end
            continue
        held += size
        i += 1
    if start < len(needed):
        yield range(start, len(needed))


def window_batch(sizes: Sequence[int]) -> int:
    """The scenes a window is made a whole number of, for stages that see ``sizes`` scenes a
    call: their least common multiple when it is at most the largest of them times two (4 and
    2: 4; 4 and 8: 8), else the largest (4 and 3: 4)."""
    sizes = [max(1, s) for s in sizes] or [1]
    common = math.lcm(*sizes)
    return common if common <= 2 * max(sizes) else max(sizes)


class WindowFrames:
    """The frames of one window, decoded once (at ``size``, or full size) and held; other
    requests go to the decoder (at the same size)."""

    def __init__(
        self,
        frames: VideoFrames,
        indices: set[int],
        counts: FrameCounts,
        size: tuple[int, int] | None = None,
    ):
        self._frames, self.size = frames, size
        self.fps, self.frame_count = frames.fps, frames.frame_count
        self._counts = counts
        self._held: dict[int, np.ndarray] = {}
        if indices:
            self._held = frames.decode_each(sorted(indices), size)
        counts.add(len(self._held), len(self._held))

    @property
    def duration(self) -> float:
        return self._frames.duration

    def get(self, indices: Sequence[int]) -> Frames:
        idx = tuple(min(self.frame_count - 1, max(0, int(i))) for i in indices)
        if not all(i in self._held for i in idx):
            missing = len(set(idx) - set(self._held))
            self._counts.add(missing, missing)
            return self._frames.get(idx) if self.size is None else \
                self._frames.get_uncached(idx, self.size)  # fmt: skip
        array = np.stack([self._held[i] for i in idx])
        return Frames(array, idx, tuple(i / self.fps for i in idx))

    def sample(self, scene: Scene, fps: float | None = 1.0, max_frames: int = 32) -> Frames:
        return self.get(sample_indices(scene, self.fps, self.frame_count, fps, max_frames))

    def at_times(self, times: Sequence[float]) -> Frames:
        return self.get([int(t * self.fps) for t in times])

    def __getattr__(self, name: str) -> Any:  # iter_chunks, info...: the decoder's own
        return getattr(self._frames, name)


def decoded_windows(
    frames: VideoFrames,
    spans: Sequence[range],
    needed: Sequence[set[int]],
    counts: FrameCounts,
    ahead: bool = True,
    size: tuple[int, int] | None = None,
) -> Iterator[tuple[range, WindowFrames]]:
    """Each span with its frames decoded (at ``size``, or full size). With ``ahead``, the next
    span's frames are decoded in a background thread while the caller works on the current one
    (two windows held at once), so the models are not left waiting on the decoder."""

    def load(span: range) -> WindowFrames:
        return WindowFrames(frames, set().union(*(needed[i] for i in span)), counts, size)

    if not ahead:
        for span in spans:
            yield span, load(span)
        return
    with ThreadPoolExecutor(1, thread_name_prefix="egorag-decode") as pool:
        pending = pool.submit(load, spans[0]) if spans else None
        for k, span in enumerate(spans):
            assert pending is not None
            held = pending.result()
            pending = pool.submit(load, spans[k + 1]) if k + 1 < len(spans) else None
            yield span, held
