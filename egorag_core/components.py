"""Base classes for the components plugins register, and the job they work on."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, is_dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, cast, get_args

import numpy as np

from .data import Scene, SceneEncoding, VideoDatapoint
from .media import AUDIO_SAMPLE_RATE, AudioReader, VideoFrames, VideoInfo, extract_audio
from .models import ModelSource, resolve_model, weights_bytes
from .options import NoOptions, parse_options
from .scheduler import ModelScheduler, ModelSpec
from .window import FrameSampling, FrameSource

T = TypeVar("T")
#: A component's options dataclass.
OptionsT = TypeVar("OptionsT")


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
        frames: VideoFrames | FrameSource,
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
        #: Video time (s) of the first sample of :meth:`audio`: 0, or for the ASR of one shard
        #: of a long video (``executor.shard_minutes``) where its span of the track begins.
        self.audio_start = 0.0
        #: Video time (s) where that span ends (``None``: the end of the track).
        self.audio_end: float | None = None
        #: Whether a stage after the video stage reads ``result.keyframes`` (set by the core
        #: from their :meth:`StageComponent.reads_keyframes`): when not, a video stage hands
        #: only ``keyframe_times``, and the window does not hold the keyframes' frames.
        self.keyframes_wanted = True
        self._audio: np.ndarray | None = None
        self._readers: dict[int, AudioReader] = {}

    @property
    def path(self) -> str:
        return self.info.path

    def window(self, span: range, frames: FrameSource) -> VideoJob:
        """A job over the scenes in ``span`` (sharing their results), reading ``frames``."""
        part = VideoJob(self.datapoint, self.info, frames, self.scheduler, self.settings)
        part.scenes = self.scenes[span.start : span.stop]
        part.results = self.results[span.start : span.stop]
        part._audio, part._readers = self._audio, self._readers
        part.keyframes_wanted = self.keyframes_wanted
        return part

    @property
    def has_audio(self) -> bool:
        return self.info.has_audio

    def audio(self) -> np.ndarray | None:
        """The whole audio track, 16 kHz mono float32 aligned to video time, extracted once;
        ``None`` without audio."""
        if not self.info.has_audio:
            return None
        if self._audio is None:
            self._audio = extract_audio(self.info.path, video_start=self.info.video_start,
                                        expected_seconds=self.info.duration)
        return self._audio

    def read_audio(
        self, start: float, end: float, rate: int = AUDIO_SAMPLE_RATE
    ) -> np.ndarray | None:
        """The samples of ``[start, end)`` (video time) at ``rate``, read from the file at that
        rate; ``None`` without audio. Read forward through the video for bounded memory:
        spans in time order cost one decode of the track."""
        if not self.info.has_audio:
            return None
        if rate == AUDIO_SAMPLE_RATE and self._audio is not None:
            return self._audio[int(round(start * rate)) : int(round(end * rate))]
        if rate not in self._readers:
            self._readers[rate] = AudioReader(self.info, rate)
        return self._readers[rate].read(start, end)

    def scene_audio(self, index: int, rate: int = AUDIO_SAMPLE_RATE) -> np.ndarray | None:
        """The samples of scene ``index`` at ``rate`` (possibly empty); ``None`` without
        audio."""
        scene = self.scenes[index]
        return self.read_audio(scene.start, scene.end, rate)

    def close(self) -> None:
        """Stop the audio readers (the frames belong to whoever opened them)."""
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()

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


class Component(Generic[OptionsT]):
    """Common to every component: typed options, run settings, declared models.

    Declare the options as a dataclass and name it as the type parameter
    (``class MyEncoder(StageComponent[MyOptions])``): the values come from the component's YAML
    file and are checked against the dataclass before any work; ``self.options`` is an instance.
    """

    #: The options dataclass; taken from the type parameter when not set.
    Options: ClassVar[type] = NoOptions

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "Options" in cls.__dict__:
            return
        for base in getattr(cls, "__orig_bases__", ()):
            args = [a for a in get_args(base) if isinstance(a, type) and is_dataclass(a)]
            if args:
                cls.Options = args[0]
                return

    def __init__(
        self,
        options: OptionsT | Mapping[str, Any] | None = None,
        settings: Settings | None = None,
        group: str = "",
    ):
        #: The config group this component was selected in (``video``, ``audio/asr``...).
        self.group = group
        if options is None or isinstance(options, Mapping):
            options = parse_options(self.Options, dict(options or {}), self.key_prefix)
        self.options: OptionsT = cast(OptionsT, options)
        self.settings = settings or Settings()

    @property
    def key_prefix(self) -> str:
        """The config key of this component's options, for messages (``video``, ``audio.asr``)."""
        return self.group.replace("/", ".") or type(self).__name__

    def models(self) -> list[ModelSpec]:
        """The models this component will ask the scheduler for (used to plan sharing)."""
        return []

    def check(self) -> None:
        """Before any work: raise :class:`~egorag_core.errors.ModelUnavailable` with one line
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


class SceneSplitter(Component[OptionsT], ABC):
    """Splits a video into scenes (config group ``scenes``)."""

    @abstractmethod
    def split(self, job: VideoJob) -> list[Scene]:
        """Return ordered, non-overlapping scenes covering ``job``'s video."""


class StageComponent(Component[OptionsT], ABC):
    """A video encoder, captioner, audio analyzer or text encoder."""

    @abstractmethod
    def process(self, job: VideoJob) -> None:
        """Fill this stage's fields in ``job.results`` (one :class:`SceneEncoding` per scene).
        Frame stages (video, caption) get the scenes in windows: one call per window."""

    def frame_sampling(self) -> FrameSampling | None:
        """How this stage calls ``job.frames.sample`` for each scene, if it does: the core
        then decodes those frames once for every stage of the window. ``None``: no frames,
        or frames asked for otherwise (they are then decoded on demand)."""
        return None

    def frame_samplings(self) -> list[FrameSampling]:
        """Every sampling this stage reads a scene's frames with (:meth:`frame_sampling`, and
        for a stage that reads more than one way, the others): the window holds them all."""
        sampling = self.frame_sampling()
        return [] if sampling is None else [sampling]

    def frame_side(self) -> int | None:
        """The shorter side (pixels) this stage's model needs of the frames it reads or is
        handed (keyframes): a window's frames are decoded at the largest side its stages
        declare, never above the video's. ``None``: full size."""
        return None

    def keyframe_sampling(self) -> FrameSampling | None:
        """How this video stage picks the frames it hands on as ``result.keyframes``, if a
        fixed sampling does: the window holds them only when a later stage reads keyframes
        (``job.keyframes_wanted``). ``None``: none handed, or picked otherwise."""
        return None

    def reads_keyframes(self) -> bool:
        """Whether this stage reads the ``result.keyframes`` the video stage left (the
        default: a captioner may). ``False`` spares their decode when no stage reads them."""
        return True

    def scenes_per_call(self) -> int:
        """How many scenes this frame stage's model sees in one call (its ``batch_size``):
        the core makes a window of scenes a whole number of them, so no call runs part
        full in the middle of a video. ``1``: no batches across scenes."""
        return 1


@dataclass(frozen=True)
class ModelRole:
    """One model a :class:`ModelComponent` uses: which option names it and how it is built.

    ``load(location, device, options)`` returns the model (any object, e.g. ``(model,
    processor)``) placed on ``device``. ``tiny(folder)`` saves a tiny random-weight model of the
    same family, used with ``preset=tiny``; bump ``tiny_version`` when it changes. Two components
    whose roles have equal ``key`` and resolve to the same location share one loaded instance.
    """

    load: Callable[[str, str, Any], Any]
    option: str = "model"
    key: str = ""
    tiny: Callable[[Path], None] | None = None
    tiny_name: str = ""
    tiny_version: str = "1"
    #: Planning estimate for hub ids; a local folder's weight files are measured instead.
    estimated_bytes: int = 500 * 2**20


class ModelComponent(StageComponent[OptionsT]):
    """A stage component whose models are named by options and resolved lazily.

    Subclasses list their models in ``roles`` and use them as context managers::

        with self.model(job) as (model, processor):
            ...

    ``resolve`` (where weights come from) and ``variant`` (what besides the location tells two
    instances apart, e.g. the dtype) may be overridden.
    """

    roles: ClassVar[tuple[ModelRole, ...]] = ()

    def __init__(
        self,
        options: OptionsT | Mapping[str, Any] | None = None,
        settings: Settings | None = None,
        group: str = "",
    ):
        super().__init__(options, settings, group)
        self._specs: dict[str, ModelSpec] = {}

    def role(self, option: str | None = None) -> ModelRole:
        """The role named by ``option`` (the first role when ``None``)."""
        for role in self.roles:
            if option is None or role.option == option:
                return role
        raise KeyError(f"{type(self).__name__} has no model option {option!r}")

    def resolve(self, role: ModelRole) -> ModelSource:
        """Where ``role``'s weights come from: a tiny build with ``preset=tiny``, else the
        folder or hub id in its option; raises ``ModelUnavailable`` (one line)."""
        return resolve_model(
            str(getattr(self.options, role.option)),
            f"{self.key_prefix}.{role.option}",
            tiny=self.settings.tiny,
            tiny_name=role.tiny_name or None,
            tiny_builder=role.tiny,
            cache_dir=self.settings.cache_dir,
            tiny_version=role.tiny_version,
        )

    def variant(self, role: ModelRole) -> str:
        """What besides the location tells two loaded instances apart (e.g. the dtype).
        Everything the loader reads from the options must show in the key, since a shared
        instance is loaded with the options of the first component that asks for it."""
        return ""

    def estimated_bytes(self, role: ModelRole, location: str) -> int:
        """Planning estimate: a local folder's weight files, else ``role.estimated_bytes``."""
        return weights_bytes(location, role.estimated_bytes)

    def spec(self, option: str | None = None) -> ModelSpec:
        """The :class:`ModelSpec` of a role, resolved once."""
        role = self.role(option)
        if role.option not in self._specs:
            source = self.resolve(role)
            location, options = source.location, self.options
            parts = (role.key or role.option, location, self.variant(role))
            self._specs[role.option] = ModelSpec(
                key=":".join(p for p in parts if p),
                load=lambda device: role.load(location, device, options),
                model_id=location,
                estimated_bytes=self.estimated_bytes(role, location),
                random_weights=source.random_weights,
            )
        return self._specs[role.option]

    def check(self) -> None:
        self._specs.clear()
        for role in self.roles:
            self.spec(role.option)

    def models(self) -> list[ModelSpec]:
        return [self.spec(role.option) for role in self.roles]

    @contextlib.contextmanager
    def model(self, job: VideoJob, option: str | None = None) -> Iterator[Any]:
        """The loaded model of a role, from the job's scheduler, for the block."""
        with job.scheduler.use(self.spec(option)) as model:
            yield model
