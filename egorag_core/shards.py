"""One long video on many workers: its scenes cut into contiguous shards (``Part``) that are
encoded apart and merged in scene order before the commit (``executor.shard_minutes``).

Every stage of a shard sees only the shard's scenes, except the ASR: it transcribes the shard's
audio plus ``executor.shard_overlap_seconds`` on each side, one pass per shard, and its job
also holds the neighbouring scenes of that overlap (clipped to it). Words are given to scenes
by the ASR's own rule over all those scenes, and the results of the overlap's scenes are
dropped, so a word at a shard's edge goes to the one scene (and shard) the unsharded run gives
it to, decoded with context on both sides: neither lost nor doubled. Speaker labels are
numbered per video, so ``audio/speakers`` cannot be sharded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .components import VideoJob
from .data import Scene, SceneEncoding
from .errors import ConfigError

if TYPE_CHECKING:
    from .config import ExecutorConfig

#: Stages run over a shard's scenes and the scenes of its overlap.
CONTEXT_STAGES = ("audio.asr",)
#: Stages that need the whole video at once.
WHOLE_VIDEO_STAGES = ("audio.speakers",)
#: The last part's ASR hears the track up to this long past the end of the picture.
TAIL_S = 60.0


@dataclass(frozen=True)
class Split:
    """A video's scenes, found by one worker before its shards are handed out."""

    scenes: tuple[Scene, ...]
    seconds: float
    duration: float


@dataclass(frozen=True)
class Part:
    """One shard: its scenes, the (clipped) scenes of the overlap before and after it, and the
    span of audio the ASR hears (``audio_end`` ``None``: to the end of the track)."""

    scenes: tuple[Scene, ...]
    before: tuple[Scene, ...] = ()
    after: tuple[Scene, ...] = ()
    audio_start: float = 0.0
    audio_end: float | None = None


def plan_parts(scenes: Sequence[Scene], seconds: float, overlap: float) -> list[Part]:
    """``scenes`` in contiguous shards of at least ``seconds`` each (a last one shorter than
    half that joins the one before), each with ``overlap`` seconds of context."""
    spans: list[range] = []
    first = 0
    for i, scene in enumerate(scenes):
        if scene.end - scenes[first].start >= seconds or i == len(scenes) - 1:
            spans.append(range(first, i + 1))
            first = i + 1
    if len(spans) > 1 and scenes[-1].end - scenes[spans[-1].start].start < seconds / 2:
        spans[-2:] = [range(spans[-2].start, spans[-1].stop)]
    return [_part(scenes, span, overlap) for span in spans]


def _part(scenes: Sequence[Scene], span: range, overlap: float) -> Part:
    start, end = scenes[span.start].start, scenes[span.stop - 1].end
    a, b = max(0.0, start - overlap), end + overlap
    before = tuple(Scene(max(s.start, a), s.end) for s in scenes[: span.start] if s.end > a)
    after = tuple(Scene(s.start, min(s.end, b)) for s in scenes[span.stop :] if s.start < b)
    return Part(
        tuple(scenes[span.start : span.stop]), before, after,
        a if span.start > 0 else 0.0, b if span.stop < len(scenes) else None,
    )  # fmt: skip


def check_sharding(config: ExecutorConfig, stages: Sequence[str]) -> None:
    """Raise :class:`ConfigError` (one line) for shard settings that cannot work."""
    minutes = config.shard_minutes
    if minutes is None:
        return
    if minutes <= 0 or config.shard_overlap_seconds < 0:
        raise ConfigError(
            "executor.shard_minutes must be positive (null: off) and "
            "executor.shard_overlap_seconds at least 0"
        )
    for stage in WHOLE_VIDEO_STAGES:
        if stage in stages:
            group = stage.replace(".", "/")
            raise ConfigError(
                f"executor.shard_minutes={minutes:g}: {group} numbers speakers over the whole "
                f"video and cannot be sharded; set {group}=none or executor.shard_minutes=null"
            )


class SpanJob(VideoJob):
    """The job the ASR runs on for one part: the overlap's scenes around the part's (with
    results of their own, dropped afterwards; the part's results are shared), and ``audio()``
    the part's span of the track, which starts ``audio_start`` seconds into the video."""

    def __init__(self, job: VideoJob, part: Part):
        super().__init__(job.datapoint, job.info, job.frames, job.scheduler, job.settings)
        self.part = part
        self.audio_start = part.audio_start
        self.audio_end = min(self.info.duration + TAIL_S, part.audio_end or math.inf)
        self.scenes = [*part.before, *job.scenes, *part.after]
        self.results = [SceneEncoding() for _ in part.before] + job.results
        self.results += [SceneEncoding() for _ in part.after]
        self._span: np.ndarray | None = None

    def audio(self) -> np.ndarray | None:
        """The part's span of the track, 16 kHz mono float32, read once."""
        if self._span is None and self.has_audio:
            assert self.audio_end is not None
            self._span = self.read_audio(self.part.audio_start, self.audio_end)
        return self._span
