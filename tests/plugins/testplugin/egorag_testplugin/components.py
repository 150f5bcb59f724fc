"""Colour-histogram scene embeddings and dominant-colour captions: real frames, no weights."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from egorag_core.components import StageComponent, VideoJob
from egorag_core.scheduler import ModelSpec
from egorag_core.window import FrameSampling

COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "white": (255, 255, 255),
           "black": (0, 0, 0), "yellow": (255, 255, 0), "grey": (128, 128, 128)}  # fmt: skip


class _Bins:
    """A stand-in "model" the scheduler loads: the histogram bin edges."""

    def __init__(self, bins: int):
        self.edges = np.linspace(0, 256, bins + 1)


@dataclass
class ColorHistogramOptions:
    bins: int
    fps: float
    max_frames: int
    seconds_per_scene: float


class ColorHistogramEncoder(StageComponent[ColorHistogramOptions]):
    """Per scene: a normalised per-channel histogram of the sampled frames (3 * bins floats)."""

    def models(self) -> list[ModelSpec]:
        bins = self.options.bins
        return [ModelSpec(f"colorhist-bins:{bins}", lambda device: _Bins(bins), f"bins={bins}")]

    def frame_sampling(self) -> FrameSampling:
        return FrameSampling(self.options.fps, self.options.max_frames)

    def process(self, job: VideoJob) -> None:
        (spec,) = self.models()
        with job.scheduler.use(spec) as bins:
            for i in job.progress(range(len(job.scenes)), "colorhist"):
                frames = job.frames.sample(job.scenes[i], self.options.fps, self.options.max_frames)
                hist = [np.histogram(frames.array[..., c], bins.edges)[0] for c in range(3)]
                vec = np.concatenate(hist).astype(np.float32)
                job.results[i].video = vec / max(float(vec.sum()), 1.0)
                job.results[i].keyframes = frames.array
                job.results[i].keyframe_times = list(frames.times)
                time.sleep(self.options.seconds_per_scene)


@dataclass
class ColorNameOptions:
    #: ``keyframes``: the video stage's, when it hands some; ``frames``: sample its own.
    source: str
    fps: float
    max_frames: int
    #: Scenes it says it sees per call (it has no model; the core sizes windows by it).
    batch_size: int


class ColorNameCaptioner(StageComponent[ColorNameOptions]):
    """Per scene: "mostly <colour>" from the mean colour of the keyframes (or sampled frames).
    Its stats say how many scenes the largest window it was given held, how many windows it
    was given and how many of them were not a whole number of ``batch_size``-s."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.largest_window = self.windows = self.part_batch_windows = 0

    def scenes_per_call(self) -> int:
        return self.options.batch_size

    def reads_keyframes(self) -> bool:
        return self.options.source == "keyframes"

    def frame_sampling(self) -> FrameSampling | None:
        if self.options.source == "frames":
            return FrameSampling(self.options.fps, self.options.max_frames)
        return None

    def stats(self) -> dict[str, Any]:
        return {"largest_window": self.largest_window, "windows": self.windows,
                "part_batch_windows": self.part_batch_windows}  # fmt: skip

    def process(self, job: VideoJob) -> None:
        names = list(COLOURS)
        table = np.array([COLOURS[n] for n in names], dtype=np.float32)
        self.largest_window = max(self.largest_window, len(job.scenes))
        self.windows += 1
        self.part_batch_windows += len(job.scenes) % self.options.batch_size != 0
        for i in job.progress(range(len(job.scenes)), "colorname"):
            frames = job.results[i].keyframes
            if frames is None or self.options.source == "frames":
                scene = job.scenes[i]
                frames = job.frames.sample(scene, self.options.fps, self.options.max_frames).array
            mean = frames.reshape(-1, 3).mean(axis=0)
            nearest = int(np.argmin(((table - mean) ** 2).sum(axis=1)))
            job.results[i].caption_text = f"mostly {names[nearest]}"
