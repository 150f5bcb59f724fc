"""The pipeline: build the selected components, then encode each video through every stage.

Per video: probe, open the decoder once, split scenes, run the stages in order (video, caption,
audio analyzers, text), average scene vectors into global ones, commit to the index. A video
that fails gets one line naming the file and the problem; the others go on.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .components import SceneSplitter, Settings, StageComponent, VideoJob
from .data import InputError, SceneEncoding, VideoDatapoint, VideoDataset, validate_scenes
from .executor import LocalExecutor
from .media import VideoFrames, probe
from .models import ModelUnavailable
from .plugins import PluginHost, failed_plugins, load_plugins
from .report import RunReport, VideoOutcome
from .scheduler import ModelScheduler

log = logging.getLogger("egorag")

#: (stage name, config path, registry kind), in the order stages run.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("video", "video", "video"),
    ("caption", "caption", "caption"),
    ("audio.asr", "audio.asr", "audio"),
    ("audio.embedding", "audio.embedding", "audio"),
    ("audio.events", "audio.events", "audio"),
    ("audio.speakers", "audio.speakers", "audio"),
    ("text", "text", "text"),
)

#: Where each group's option is published, to name the package in messages.
PLUGIN_HINTS = {
    "scenes": "egorag-scenes",
    "video": "egorag-xclip / egorag-qwen2vl",
    "caption": "egorag-blip / egorag-qwen2vl",
    "audio.asr": "egorag-whisper",
    "audio.embedding": "egorag-clap",
    "audio.events": "egorag-clap",
    "audio.speakers": "egorag-speakers",
    "text": "egorag-minilm",
}


class ConfigError(RuntimeError):
    """The selected configuration cannot run; the message is one line saying what to do."""


def _section(cfg: Mapping[str, Any], dotted: str) -> Mapping[str, Any] | None:
    node: Any = cfg
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


@dataclass
class Pipeline:
    """The components of a run, checked and ready."""

    splitter: SceneSplitter
    stages: list[tuple[str, StageComponent]]
    selections: dict[str, str] = field(default_factory=dict)

    def plan(self) -> list[tuple[str, list[Any]]]:
        return [(name, component.models()) for name, component in self.stages]

    def stats(self) -> dict[str, dict[str, Any]]:
        out = {"scenes": self.splitter.stats()}
        out.update({name: component.stats() for name, component in self.stages})
        return out

    def describe(self) -> dict[str, Any]:
        out = {"scenes": {"option": self.selections.get("scenes"), **self.splitter.describe()}}
        for name, component in self.stages:
            out[name] = {"option": self.selections.get(name), **component.describe()}
        return out


def build_pipeline(
    cfg: Mapping[str, Any],
    settings: Settings,
    host: PluginHost | None = None,
    choices: Mapping[str, str] | None = None,
) -> Pipeline:
    """Build and check every selected component; raise :class:`ConfigError` (one line) when a
    selected option, plugin or model cannot be had, before any video is touched."""
    host = host or load_plugins()
    choices = choices or {}
    built: dict[str, Any] = {}
    selections: dict[str, str] = {}
    for stage, path, kind in (("scenes", "scenes", "scenes"), *STAGES):
        options = _section(cfg, path)
        group = path.replace(".", "/")
        if options is None or "name" not in options:
            wanted = choices.get(group)
            if stage == "scenes" or (wanted and wanted != "none"):
                other = "fixed" if stage == "scenes" else "none"
                raise ConfigError(
                    f"{group}={wanted or '?'} is not installed: install {PLUGIN_HINTS[stage]} "
                    f"(see `egorag plugins`), or choose another option, e.g. {group}={other}"
                )
            continue
        name = str(options["name"])
        selections[stage] = name
        if name == "none":
            continue
        try:
            registration = host.get(kind, name)
        except KeyError as exc:
            broken = [p.name for p in failed_plugins(host)]
            extra = f"; plugins that failed to load: {', '.join(broken)}" if broken else ""
            raise ConfigError(f"{group}={name}: {exc.args[0]}{extra}") from None
        component = registration.build(dict(options), settings)
        try:
            component.check()
        except ModelUnavailable as exc:
            raise ConfigError(str(exc)) from None
        built[stage] = component
    if "scenes" not in built:
        raise ConfigError("scenes=none: a scene splitter is needed (e.g. scenes=content)")
    stages = [(name, built[name]) for name, _, _ in STAGES if name in built]
    return Pipeline(built["scenes"], stages, selections)


def _drop_keyframes(results: Sequence[SceneEncoding]) -> None:
    for result in results:
        result.keyframes = None


def encode_video(
    point: VideoDatapoint,
    pipeline: Pipeline,
    scheduler: ModelScheduler,
    settings: Settings,
    frame_cache_bytes: int = 256 * 2**20,
    info: Any = None,
) -> dict[str, float]:
    """Encode one video in place (scenes, encodings, global embeddings); return stage seconds."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    info = info or probe(point.video_path)
    timings["probe"] = time.perf_counter() - start
    with VideoFrames(info, cache_bytes=frame_cache_bytes) as frames:
        job = VideoJob(point, info, frames, scheduler, settings)
        start = time.perf_counter()
        if point.precomputed_scenes:
            scenes = point.precomputed_scenes
        else:
            try:
                scenes = pipeline.splitter.split(job)
            except InputError:
                raise
            except Exception as exc:
                raise StageError("scenes", exc) from exc
        job.scenes = validate_scenes(scenes, frames.duration, point.video_path)
        job.results = [SceneEncoding() for _ in job.scenes]
        timings["scenes"] = time.perf_counter() - start
        names = [name for name, _ in pipeline.stages]
        drop_after = "caption" if "caption" in names else "video"
        for name, component in pipeline.stages:
            if name.startswith("audio.") and not info.has_audio:
                continue
            start = time.perf_counter()
            try:
                component.process(job)
            except InputError:
                raise
            except Exception as exc:
                raise StageError(name, exc) from exc
            finally:
                scheduler.stage_done(name)
            if name == drop_after:
                _drop_keyframes(job.results)
            timings[name] = time.perf_counter() - start
        _drop_keyframes(job.results)
    point.scenes = job.scenes
    point.scene_embeddings = job.results
    point.has_audio = info.has_audio
    point.duration = frames.duration
    point.compute_global_embeddings()
    return timings


class StageError(RuntimeError):
    """A stage raised while encoding a video."""

    def __init__(self, stage: str, error: BaseException):
        super().__init__(f"{stage} stage failed: {type(error).__name__}: {error}")
        self.stage = stage


def failure_line(path: str, exc: BaseException) -> str:
    """One line naming the file and the problem."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if text.startswith(path) else f"{path}: {text}"


def default_budget(device: str) -> int:
    """80% of the device's memory, in bytes."""
    if device.startswith("cuda"):
        import torch

        index = int(device.split(":")[1]) if ":" in device else 0
        return int(0.8 * torch.cuda.get_device_properties(index).total_memory)
    import psutil

    return int(0.8 * psutil.virtual_memory().total)


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``."""
    if device != "auto":
        return device
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class RunOutcome:
    """What :func:`run` did: the encoded dataset (this run's videos) and the report."""

    dataset: VideoDataset
    report: RunReport

    @property
    def failed(self) -> int:
        return sum(v.status == "failed" for v in self.report.videos)


def stage_config(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The part of the config that decides what the index holds (hashed into the key)."""
    keys = ("scenes", "video", "caption", "audio", "text")
    out = {k: cfg.get(k) for k in keys}
    out["tiny"] = bool(_section(cfg, "models.tiny"))
    return out


def run(
    cfg: Mapping[str, Any],
    dataset: VideoDataset,
    output_dir: str | Path,
    *,
    choices: Mapping[str, str] | None = None,
    host: PluginHost | None = None,
) -> RunOutcome:
    """Encode ``dataset`` with ``cfg`` (the composed config as a plain dict) into the index under
    ``output_dir``; write ``run_report.json`` beside it. Raises :class:`ConfigError` before any
    work when the configuration cannot run."""
    from .store import LanceStore, config_fingerprint, content_hash

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    models_cfg = cfg.get("models", {}) or {}
    device = resolve_device(str(cfg.get("device", "auto")))
    settings = Settings(
        device=device,
        tiny=bool(models_cfg.get("tiny", False)),
        cache_dir=Path(str(models_cfg.get("cache_dir", "~/.cache/egorag"))).expanduser(),
        show_progress=bool(cfg.get("progress", True)),
    )
    host = host or load_plugins()
    for plugin in failed_plugins(host):
        log.warning("plugin %s (%s) failed to load: %s", plugin.name, plugin.module, plugin.error)
    pipeline = build_pipeline(cfg, settings, host, choices)
    budget_gb = models_cfg.get("memory_budget_gb")
    budget = int(float(budget_gb) * 2**30) if budget_gb is not None else default_budget(device)
    scheduler = ModelScheduler(device, budget)
    scheduler.plan(pipeline.plan())

    store_cfg = cfg.get("store", {}) or {}
    store_path = Path(store_cfg.get("path") or output_dir / "index")
    store = LanceStore(store_path)
    stages = stage_config(cfg)
    fingerprint = config_fingerprint(stages)
    report = RunReport(
        output_dir / "run_report.json", pipeline.describe(), settings, scheduler, pipeline.stats
    )
    report.index_path = str(store_path)
    frame_cache = int(float(_section(cfg, "media.frame_cache_mb") or 256) * 2**20)
    done = store.done_keys()
    for line in _describe_lines(pipeline, settings):
        log.info(line)

    def work(point: VideoDatapoint) -> VideoOutcome:
        outcome = VideoOutcome(point.video_name, point.video_path)
        started = time.perf_counter()
        try:
            if point.input_error:
                raise InputError(point.input_error)
            info = probe(point.video_path)
            outcome.content_hash = content_hash(point.video_path)
            outcome.key = f"{outcome.content_hash}-{fingerprint}"
            if point.precomputed_scenes:  # the given scenes decide the output too
                scenes = [s.to_dict() for s in point.precomputed_scenes]
                outcome.key += "-" + config_fingerprint({"scenes": scenes})[:8]
            if outcome.key in done:
                outcome.status, outcome.reason = "skipped", "already in the index"
                return outcome
            outcome.stage_seconds = encode_video(
                point, pipeline, scheduler, settings, frame_cache, info
            )
            outcome.scenes = len(point.scenes)
            outcome.has_audio = point.has_audio
            outcome.status = "ok"
        except Exception as exc:  # one bad video must not stop the batch
            outcome.status, outcome.reason = "failed", failure_line(point.video_path, exc)
            log.debug("%s", traceback.format_exc())
        finally:
            outcome.seconds = time.perf_counter() - started
        return outcome

    encoded: list[VideoDatapoint] = []
    executor = LocalExecutor(int(cfg.get("max_workers", 1)))
    points = list(dataset)
    try:
        for point, outcome in _progress(executor.map(work, points), len(points), settings):
            if outcome.status == "ok" and outcome.key in done:
                outcome.status, outcome.reason = "skipped", "listed twice; already in the index"
            elif outcome.status == "ok":
                try:
                    start = time.perf_counter()
                    store.commit(outcome.key, point, outcome.content_hash, fingerprint, stages)
                    outcome.stage_seconds["store"] = time.perf_counter() - start
                    done.add(outcome.key)
                    encoded.append(point)
                except Exception as exc:
                    outcome.status = "failed"
                    outcome.reason = failure_line(point.video_path, exc)
            if outcome.status == "failed":
                log.error("failed: %s", outcome.reason)
            elif outcome.status == "skipped":
                log.info("skipped (already in the index): %s", point.video_path)
            report.add(outcome)
    finally:
        scheduler.release_all()
        report.write()
    export = store_cfg.get("export_pickle")
    result = VideoDataset(encoded, encoded=True)
    if export:
        export = output_dir / export  # an absolute path stays as it is
        store.read().save(export)
        log.info("pickle written to %s (trusted input only)", export)
    return RunOutcome(result, report)


def _describe_lines(pipeline: Pipeline, settings: Settings) -> Iterator[str]:
    yield f"device: {settings.device}"
    for stage, info in pipeline.describe().items():
        models = ", ".join(
            f"{m['model_id']}{' (RANDOM WEIGHTS)' if m['random_weights'] else ''}"
            for m in info["models"]
        )
        yield f"{stage}: {info['option']} [{info['component']}] {models}".rstrip()


def _progress(items: Iterator[Any], total: int, settings: Settings) -> Iterator[Any]:
    if not settings.show_progress:
        yield from items
        return
    from tqdm.auto import tqdm

    yield from tqdm(items, total=total, desc="videos", unit="video")


class MultiModalEncoder:
    """The seed's Python API: encode a :class:`VideoDataset` with the configured stages.

    ``overrides`` are Hydra overrides as on the command line (``["video=xclip",
    "preset=tiny"]``); the results are also committed to the index under ``output_dir``.
    """

    def __init__(
        self,
        video_dataset: VideoDataset,
        device: str = "auto",
        max_workers: int = 1,
        overrides: Sequence[str] = (),
        output_dir: str | Path = "egorag-output",
    ):
        self.video_dataset = video_dataset
        self.device = device
        self.max_workers = max_workers
        self.overrides = list(overrides)
        self.output_dir = Path(output_dir)
        self.report: RunReport | None = None

    def config(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The composed config (plain dict) and the selected group options."""
        from .config import compose

        return compose(
            [*self.overrides, f"device={self.device}", f"max_workers={self.max_workers}"]
        )

    def encode_videos(self) -> VideoDataset:
        """Encode every video; failures are logged and listed in :attr:`report`."""
        cfg, choices = self.config()
        outcome = run(cfg, self.video_dataset, self.output_dir, choices=choices)
        self.report = outcome.report
        return outcome.dataset
