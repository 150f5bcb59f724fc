"""A run in four plain steps, each a function of what the one before returned:

``prepare`` (settings, plugins, components, scheduler plan, store, report) -> ``plan`` (probe,
hash and key every video, decide skips and duplicates, all in the driver) -> ``encode`` (one
video; returns an immutable :class:`EncodedVideo`; the only step an executor distributes) ->
``commit`` (the driver writes each finished video to the index and the report).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .columns import stage_sources
from .components import Settings, VideoJob
from .config import RunConfig, run_config
from .data import (
    Scene,
    SceneEncoding,
    VideoDatapoint,
    VideoDataset,
    unit_scene_vectors,
    validate_scenes,
)
from .errors import InputError, StageError
from .executor import check_executor
from .media import VideoFrames, frame_size, probe
from .ocr import video_text
from .pipeline import FRAME_STAGES, Pipeline, build_pipeline
from .plugins import PluginHost, failed_plugins, load_plugins
from .report import RunReport, VideoRecord
from .scheduler import ModelScheduler
from .shards import CONTEXT_STAGES, Part, SpanJob, Split, check_sharding
from .store import LanceStore, config_fingerprint, content_hash
from .window import (
    FrameCounts,
    FrameSampling,
    decode_side,
    decoded_windows,
    needed_indices,
    window_batch,
    windows,
)

log = logging.getLogger("egorag")


@dataclass(frozen=True)
class EncodeContext:
    """What the encode step needs: the components, the scheduler, the settings."""

    pipeline: Pipeline
    scheduler: ModelScheduler
    settings: Settings
    frame_cache_bytes: int
    window_bytes: int
    decode_ahead: bool
    #: Modalities already warned about (vectors not unit length), so the log says it once.
    warned: set[str] = dataclasses.field(default_factory=set)


@dataclass(frozen=True)
class Prepared:
    """The outcome of :func:`prepare`: everything a run needs before its first video."""

    config: RunConfig
    context: EncodeContext
    store: LanceStore
    report: RunReport
    fingerprint: str
    stage_config: dict[str, Any]
    output_dir: Path


@dataclass(frozen=True)
class EncodedVideo:
    """What :func:`encode` returns for one video."""

    scenes: tuple[Scene, ...]
    encodings: tuple[SceneEncoding, ...]
    global_embeddings: Mapping[str, np.ndarray]
    has_audio: bool
    duration: float
    stage_seconds: Mapping[str, float]
    #: Frames the video and caption stages read, and frames decoded for them.
    frames: FrameCounts


@dataclass(frozen=True)
class EncodeFailure:
    """:func:`encode` raised: the one-line reason."""

    reason: str


# -- prepare ----------------------------------------------------------------------------------
#: Device nodes a CUDA (NVIDIA) or ROCm (AMD) GPU shows on Linux; without one torch sees none.
GPU_DEVICE_NODES = ("/dev/nvidiactl", "/dev/kfd")


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``. On Linux without a GPU's
    device node, ``cpu`` without importing torch (the audio stages then start without it)."""
    if device != "auto":
        return device
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return "cpu"
    if sys.platform.startswith("linux") and not any(map(os.path.exists, GPU_DEVICE_NODES)):
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def default_budget(device: str, share: float = 1.0) -> int:
    """80% of the device's memory (of ``share`` of it), in bytes."""
    if device.startswith("cuda"):
        import torch

        index = int(device.split(":")[1]) if ":" in device else 0
        return int(0.8 * share * torch.cuda.get_device_properties(index).total_memory)
    import psutil

    return int(0.8 * psutil.virtual_memory().total)


def build_context(
    config: RunConfig,
    choices: Mapping[str, str] | None = None,
    host: PluginHost | None = None,
    gpu_share: float = 1.0,
) -> EncodeContext:
    """Settings, plugins, the checked pipeline and its scheduler: what :func:`encode` needs.
    The driver builds one, and so does each ``executor=ray`` worker; ``gpu_share`` is the part
    of a GPU that is this process's (its default memory budget shrinks to match)."""
    device = resolve_device(config.device)
    settings = Settings(device, config.models.tiny, config.cache_dir, config.progress)
    host = host or load_plugins()
    for plugin in failed_plugins(host):
        log.warning("plugin %s (%s) failed to load: %s", plugin.name, plugin.module, plugin.error)
    pipeline = build_pipeline(config, settings, host, choices or {})
    budget_gb = config.models.memory_budget_gb
    share = gpu_share if device.startswith("cuda") else 1.0
    budget = int(budget_gb * 2**30) if budget_gb is not None else default_budget(device, share)
    scheduler = ModelScheduler(device, budget)
    scheduler.plan(pipeline.plan())
    return EncodeContext(
        pipeline, scheduler, settings, config.frame_cache_bytes, config.window_bytes,
        config.media.decode_ahead,
    )  # fmt: skip


def prepare(
    cfg: Mapping[str, Any] | RunConfig,
    output_dir: str | Path,
    choices: Mapping[str, str] | None = None,
    host: PluginHost | None = None,
) -> Prepared:
    """Settings, plugins, checked components, the scheduler's plan, the store and the report.
    Raises :class:`~egorag_core.errors.ConfigError` (one line) when the run cannot start."""
    config = run_config(cfg)
    check_executor(config.executor)
    index = config.store.index.settings()
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    context = build_context(config, choices, host)
    pipeline, settings = context.pipeline, context.settings
    check_sharding(config.executor, [name for name, _ in pipeline.stages])
    store_path = Path(config.store.path or output_dir / "index")
    report = RunReport(
        output_dir / "run_report.json", pipeline.describe(), settings, context.scheduler,
        pipeline.stats,
    )  # fmt: skip
    report.index_path = str(store_path)
    report.executor = config.executor.name
    stages = pipeline.fingerprint_config(settings.tiny)
    store = LanceStore(store_path, stage_sources(pipeline, settings), index=index)
    return Prepared(
        config, context, store, report,
        config_fingerprint(stages), stages,
        output_dir,
    )  # fmt: skip


# -- plan -------------------------------------------------------------------------------------
def plan(prepared: Prepared, dataset: VideoDataset) -> list[VideoRecord]:
    """One record per video, in input order: probed, hashed and keyed; ``skipped`` when the
    index or an earlier entry has its content (under another name: ``same_as``), ``failed``
    when its input is bad, else ``pending``."""
    stored = prepared.store.names()
    listed: dict[str, list[tuple[str, str]]] = {}
    records = []
    for point in dataset:
        record = VideoRecord(point.video_name, point.video_path, point=point)
        try:
            if point.input_error:
                raise InputError(point.input_error)
            record.info = probe(point.video_path)
            record.content_hash = content_hash(point.video_path)
            record.key = _video_key(record.content_hash, prepared.fingerprint, point)
        except Exception as exc:
            record.status, record.reason = "failed", failure_line(point.video_path, exc)
        else:
            _skip_known(record, stored.get(record.key, []), listed.setdefault(record.key, []))
        records.append(record)
    return records


def _skip_known(record: VideoRecord, stored: list[tuple[str, str]],
                listed: list[tuple[str, str]]) -> None:  # fmt: skip
    """Skip a video whose content the index (``stored``) or an earlier entry (``listed``)
    has, as ``(name, path)`` pairs; under a new name it becomes an alias (``same_as``)."""
    me = (record.video_name, record.video_path)
    if me in stored:
        record.status, record.reason = "skipped", "already in the index"
    elif me in listed:
        record.status, record.reason = "skipped", "listed twice; encoded once"
    elif stored or listed:
        name, path = (stored or listed)[0]
        record.status, record.same_as = "skipped", path
        record.reason = f"same content as {path}" + (f" ({name})" if path == me[1] else "")
    listed.append(me)


def _video_key(content: str, fingerprint: str, point: VideoDatapoint) -> str:
    """Content hash + config fingerprint (+ the given scenes, which decide the output too)."""
    key = f"{content}-{fingerprint}"
    if point.precomputed_scenes:
        scenes = [s.to_dict() for s in point.precomputed_scenes]
        key += "-" + config_fingerprint({"scenes": scenes})[:8]
    return key


# -- encode -----------------------------------------------------------------------------------


def encode(context: EncodeContext, record: VideoRecord, part: Part | None = None) -> EncodedVideo:
    """Encode one planned video: open its decoder once, split scenes, run the audio stages
    over the whole video, the frame stages window by window, then the text stage. With
    ``part``, only that shard of the video's scenes (see :mod:`egorag_core.shards`)."""
    assert record.info is not None and record.point is not None
    info = record.info
    timings: dict[str, float] = {}
    counts = FrameCounts()
    with VideoFrames(info, cache_bytes=context.frame_cache_bytes) as frames:
        job = VideoJob(record.point, info, frames, context.scheduler, context.settings)
        try:
            _encode_job(context, job, record.point, timings, counts, part)
        finally:
            job.close()
        duration = frames.duration
    _unit_vectors(context, info.path, job.results)
    point = VideoDatapoint(info.path, "", scene_embeddings=job.results)
    return EncodedVideo(
        tuple(job.scenes), tuple(job.results), point.compute_global_embeddings(),
        info.has_audio, duration, timings, counts,
    )  # fmt: skip


def _encode_job(
    context: EncodeContext,
    job: VideoJob,
    point: VideoDatapoint,
    timings: dict[str, float],
    counts: FrameCounts,
    part: Part | None = None,
) -> None:
    """Split ``job``'s video into scenes (or take ``part``'s), then run every stage over them
    (the ASR of a part over its overlap's scenes too)."""
    pipeline, frames = context.pipeline, job.frames
    start = time.perf_counter()
    given = part.scenes if part is not None else point.precomputed_scenes
    scenes = given or _run_stage("scenes", pipeline.splitter.split, job)
    job.scenes = validate_scenes(scenes, frames.duration, job.path)
    job.results = [SceneEncoding() for _ in job.scenes]
    timings["scenes"] = time.perf_counter() - start
    frame_stages = [(n, c) for n, c in pipeline.stages if n in FRAME_STAGES]
    audio = [(n, c) for n, c in pipeline.stages if n.startswith("audio.")]
    # In the pipeline's run order: audio, the frame windows, then text.
    _run_audio(context, job, audio, timings, part)
    assert isinstance(frames, VideoFrames)
    _run_windows(context, job, frames, frame_stages, timings, counts)
    for name, component in pipeline.stages:
        if name not in FRAME_STAGES and not name.startswith("audio."):
            _timed_stage(context, name, component, job, timings)


def _run_audio(
    context: EncodeContext,
    job: VideoJob,
    stages: list[tuple[str, Any]],
    timings: dict[str, float],
    part: Part | None,
) -> None:
    """The audio stages of a video with audio (the ASR of a part over its overlap's scenes)."""
    if not job.has_audio:
        return
    wide = SpanJob(job, part) if part is not None else job
    try:
        for name, component in stages:
            target = wide if name in CONTEXT_STAGES else job
            _timed_stage(context, name, component, target, timings)
    finally:
        if wide is not job:
            wide.close()


def split_scenes(context: EncodeContext, record: VideoRecord) -> Split:
    """The scenes of a planned video, found alone (the first task of a sharded video)."""
    assert record.info is not None and record.point is not None
    with VideoFrames(record.info, cache_bytes=context.frame_cache_bytes) as frames:
        job = VideoJob(record.point, record.info, frames, context.scheduler, context.settings)
        try:
            start = time.perf_counter()
            scenes = _run_stage("scenes", context.pipeline.splitter.split, job)
            scenes = validate_scenes(scenes, frames.duration, job.path)
            return Split(tuple(scenes), time.perf_counter() - start, frames.duration)
        finally:
            job.close()


def _unit_vectors(context: EncodeContext, path: str, results: list[SceneEncoding]) -> None:
    """Every scene vector to unit length (they are searched by cosine); one warning per run
    for each modality a plugin gave unnormalised."""
    for modality in sorted(unit_scene_vectors(results) - context.warned):
        context.warned.add(modality)
        log.warning(
            "%s vectors are not unit length (first in %s): normalised; zero or NaN ones dropped",
            modality, path,
        )  # fmt: skip


def _run_windows(
    context: EncodeContext,
    job: VideoJob,
    frames: VideoFrames,
    stages: list[tuple[str, Any]],
    timings: dict[str, float],
    counts: FrameCounts,
) -> None:
    """The frame stages, one window of scenes at a time; keyframes freed after each window.
    When the models do not all stay resident, one window (no model reloads per window)."""
    needed = needed_indices(frames, job.scenes, _window_samplings(job, stages))
    spans: list[range] = [range(len(job.scenes))]
    side = decode_side([c.frame_side() for _, c in stages])
    size = frame_size(job.info.width, job.info.height, side)  # what the models need
    if context.scheduler.keeps_models_resident:
        width, height = size or (job.info.width, job.info.height)
        batch = window_batch([c.scenes_per_call() for _, c in stages])
        spans = list(windows(needed, width * height * 3, context.window_bytes, batch))
    else:  # frames on demand (cached, full size), each model used once for the whole video
        needed, size = [set() for _ in needed], None
    ahead = context.decode_ahead
    for span, held in decoded_windows(frames, spans, needed, counts, ahead, size):
        part = job.window(span, held)
        for name, component in stages:
            _timed_stage(context, name, component, part, timings, release=False)
        for result in part.results:  # keyframes are never stored; free them with the window
            result.keyframes = None
    for name, _ in stages:
        context.scheduler.stage_done(name)


def _window_samplings(job: VideoJob, stages: list[tuple[str, Any]]) -> list[FrameSampling]:
    """Every sampling the frame stages read with; the video stage's keyframes only when a
    later stage reads them (``job.keyframes_wanted`` is set to that)."""
    job.keyframes_wanted = any(c.reads_keyframes() for name, c in stages if name != "video")
    samplings = [s for _, c in stages for s in c.frame_samplings()]
    if job.keyframes_wanted:
        samplings += [s for _, c in stages if (s := c.keyframe_sampling()) is not None]
    return samplings


def _timed_stage(
    context: EncodeContext,
    name: str,
    component: Any,
    job: VideoJob,
    timings: dict[str, float],
    release: bool = True,
) -> None:
    start = time.perf_counter()
    try:
        _run_stage(name, component.process, job)
    finally:
        if release:  # frame stages end in _run_windows, after their last window
            context.scheduler.stage_done(name)
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start


def _run_stage(name: str, fn: Any, job: VideoJob) -> Any:
    try:
        return fn(job)
    except InputError:
        raise
    except Exception as exc:
        raise StageError(name, exc) from exc


def encode_or_fail(
    context: EncodeContext, record: VideoRecord, part: Part | None = None
) -> EncodedVideo | EncodeFailure:
    """:func:`encode`, with any error turned into an :class:`EncodeFailure` (one bad video
    must not stop the batch)."""
    try:
        return encode(context, record, part)
    except Exception as exc:
        log.debug("%s", traceback.format_exc())
        return EncodeFailure(failure_line(record.video_path, exc))


def split_or_fail(context: EncodeContext, record: VideoRecord) -> Split | EncodeFailure:
    """:func:`split_scenes`, with any error turned into an :class:`EncodeFailure`."""
    try:
        return split_scenes(context, record)
    except Exception as exc:
        log.debug("%s", traceback.format_exc())
        return EncodeFailure(failure_line(record.video_path, exc))


def failure_line(path: str, exc: BaseException) -> str:
    """One line naming the file and the problem."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if text.startswith(path) else f"{path}: {text}"


# -- commit -----------------------------------------------------------------------------------
def commit(
    prepared: Prepared, record: VideoRecord, result: EncodedVideo | EncodeFailure
) -> VideoDatapoint | None:
    """Write a finished video to the index (its ``videos`` row last); return the stored
    datapoint, or ``None`` when it failed."""
    if isinstance(result, EncodeFailure):
        record.status, record.reason = "failed", result.reason
        return None
    assert record.point is not None
    encoded = dataclasses.replace(
        record.point, scenes=list(result.scenes), scene_embeddings=list(result.encodings),
        global_embeddings=dict(result.global_embeddings), has_audio=result.has_audio,
        duration=result.duration, ocr_text=video_text([e.ocr_text for e in result.encodings]),
    )  # fmt: skip
    record.stage_seconds = dict(result.stage_seconds)
    record.scenes, record.has_audio = len(result.scenes), result.has_audio
    record.frames_needed, record.frames_decoded = result.frames.needed, result.frames.decoded
    try:
        start = time.perf_counter()
        prepared.store.commit(
            record.key, encoded, record.content_hash, prepared.fingerprint, prepared.stage_config
        )
        record.stage_seconds["store"] = time.perf_counter() - start
    except Exception as exc:
        record.status, record.reason = "failed", failure_line(record.video_path, exc)
        return None
    record.status = "ok"
    return encoded


def add_alias(prepared: Prepared, record: VideoRecord) -> None:
    """Store a ``same_as`` video's name and path as another name of the content already in
    the index; when its first copy failed, it fails too."""
    if record.key not in prepared.store.done_keys():
        record.status = "failed"
        record.reason = f"{record.video_path}: {record.reason}, which was not stored"
        return
    try:
        prepared.store.add_alias(record.key, record.video_name, record.video_path)
    except Exception as exc:
        record.status, record.reason = "failed", failure_line(record.video_path, exc)


def _report(prepared: Prepared, record: VideoRecord) -> None:
    if record.status == "failed":
        log.error("failed: %s", record.reason)
    elif record.status == "skipped":
        log.info("skipped (%s): %s", record.reason, record.video_path)
    prepared.report.add(record)


# -- the whole run ----------------------------------------------------------------------------
@dataclass
class RunOutcome:
    """What :func:`run` did: the encoded dataset (this run's videos) and the report."""

    dataset: VideoDataset
    report: RunReport

    @property
    def failed(self) -> int:
        return sum(v.status == "failed" for v in self.report.videos)


def run(
    cfg: Mapping[str, Any] | RunConfig,
    dataset: VideoDataset,
    output_dir: str | Path,
    *,
    choices: Mapping[str, str] | None = None,
    host: PluginHost | None = None,
) -> RunOutcome:
    """Encode ``dataset`` with the composed config ``cfg`` into the index under ``output_dir``;
    write ``run_report.json`` beside it. Raises :class:`~egorag_core.errors.ConfigError`
    before any work when the configuration cannot run."""
    from .dispatch import encode_in_order, open_executor

    prepared = prepare(cfg, output_dir, choices, host)
    for line in _describe_lines(prepared.context):
        log.info(line)
    records = plan(prepared, dataset)
    todo = [r for r in records if r.status == "pending"]
    encoded: list[VideoDatapoint] = []
    try:
        with open_executor(prepared, choices or {}, needed=bool(todo)) as executor:
            prepared.report.workers = executor.workers
            results = encode_in_order(executor, todo, prepared.config.executor,
                                      prepared.context.scheduler.last_video)  # fmt: skip
            for record in _progress(records, prepared.context.settings):
                if record.status == "pending":
                    result = next(results)
                    record.seconds = _encode_seconds(result)
                    stored = commit(prepared, record, result)
                    encoded += [stored] if stored is not None else []
                elif record.same_as:
                    add_alias(prepared, record)
                _report(prepared, record)
        for line in prepared.store.maintain():  # also what an earlier, killed run left undone
            log.info("index: %s", line)
    finally:
        prepared.context.scheduler.release_all()
        prepared.report.write()
    _export_pickle(prepared)
    return RunOutcome(VideoDataset(encoded, encoded=True), prepared.report)


def _encode_seconds(result: EncodedVideo | EncodeFailure) -> float:
    return sum(result.stage_seconds.values()) if isinstance(result, EncodedVideo) else 0.0


def _export_pickle(prepared: Prepared) -> None:
    export = prepared.config.store.export_pickle
    if export:
        path = prepared.output_dir / export  # an absolute path stays as it is
        prepared.store.read().save(path)
        log.info("pickle written to %s (trusted input only)", path)


def _describe_lines(context: EncodeContext) -> Iterator[str]:
    yield f"device: {context.settings.device}"
    for stage, info in context.pipeline.describe().items():
        models = ", ".join(
            f"{m['model_id']}{' (RANDOM WEIGHTS)' if m['random_weights'] else ''}"
            for m in info["models"]
        )
        yield f"{stage}: {info['option']} [{info['component']}] {models}".rstrip()


def _progress(items: list[VideoRecord], settings: Settings) -> Iterator[VideoRecord]:
    if not settings.show_progress:
        yield from items
        return
    from tqdm.auto import tqdm

    yield from tqdm(items, total=len(items), desc="videos", unit="video")


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
