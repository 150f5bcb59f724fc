"""Base classes for the components plugins register, and the job they work on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .data import Scene, SceneEncoding, VideoDatapoint
from .media import AUDIO_SAMPLE_RATE, VideoFrames, VideoInfo, extract_audio
from .scheduler import ModelScheduler, ModelSpec

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """Run-wide settings every component receives."""

    device: str = "cpu"
    #: Use tiny random-weight models for every model without packaged real weights.
    tiny: bool = False
    #: Where built tiny models and other egorag caches live.
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "egorag")
    show_progress: bool = True


class VideoJob:
    """One video in flight: its probe, open decoder, scenes and the results stages fill in."""

    def __init__(
        self,
        datapoint: VideoDatapoint,
        info: VideoInfo,
        frames: VideoFrames,
        scheduler: ModelScheduler,
        settings: Settings,
    ):
        self.datapoint = datapoint
        self.info = info
        self.frames = frames
        self.scheduler = scheduler
        self.settings = settings
        self.scenes: list[Scene] = []
        self.results: list[SceneEncoding] = []
        self._audio: np.ndarray | None = None

    @property
    def path(self) -> str:
        return self.info.path

    @property
    def has_audio(self) -> bool:
        return self.info.has_audio

    def audio(self) -> np.ndarray | None:
        """The whole audio track, 16 kHz mono float32, extracted once; ``None`` without audio."""
        if not self.info.has_audio:
            return None
        if self._audio is None:
            self._audio = extract_audio(self.info.path)
        return self._audio

    def scene_audio(self, index: int) -> np.ndarray | None:
        """The samples of scene ``index`` (possibly empty); ``None`` without audio."""
        audio = self.audio()
        if audio is None:
            return None
        scene = self.scenes[index]
        a = int(round(scene.start * AUDIO_SAMPLE_RATE))
        b = int(round(scene.end * AUDIO_SAMPLE_RATE))
        return audio[a:b]

    def progress(
        self, items: Iterable[T], desc: str, total: int | None = None, unit: str = "scene"
    ) -> Iterator[T]:
        """Iterate ``items`` with a progress bar (over scenes by default) when progress is shown."""
        if not self.settings.show_progress:
            yield from items
            return
        from tqdm.auto import tqdm

        name = Path(self.path).name
        yield from tqdm(items, desc=f"{name}: {desc}", total=total, leave=False, unit=unit)


class Component:
    """Common to every component: options from the config, run settings, declared models."""

    def __init__(self, options: Mapping[str, Any], settings: Settings):
        self.options = dict(options)
        self.settings = settings

    def models(self) -> list[ModelSpec]:
        """The models this component will ask the scheduler for (used to plan sharing)."""
        return []

    def check(self) -> None:
        """Before any work: raise :class:`egorag_core.models.ModelUnavailable` with one line
        naming the model and how to fix it when a needed model cannot be had."""
        return None

    def stats(self) -> dict[str, Any]:
        """Counters for the run report (e.g. ``{"transcribe_calls": 3}``); empty by default."""
        return {}

    def describe(self) -> dict[str, Any]:
        """What ran, for the run report: component name and its models' ids."""
        return {
            "component": type(self).__name__,
            "models": [
                {"model_id": m.model_id, "random_weights": m.random_weights} for m in self.models()
            ],
        }


class SceneSplitter(Component, ABC):
    """Splits a video into scenes (config group ``scenes``)."""

    @abstractmethod
    def split(self, job: VideoJob) -> list[Scene]:
        """Return ordered, non-overlapping scenes covering ``job``'s video."""


class StageComponent(Component, ABC):
    """A video encoder, captioner, audio analyzer or text encoder."""

    @abstractmethod
    def process(self, job: VideoJob) -> None:
        """Fill this stage's fields in ``job.results`` (one :class:`SceneEncoding` per scene)."""
