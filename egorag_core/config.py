"""The run's typed configuration: Hydra structured configs, every default in one place.

The core sections (run, models, media, store, executor) are dataclasses stored in Hydra's
ConfigStore as ``egorag_schema``, the base of ``config.yaml``; a mistyped value is an error at
composition. The stage sections (scenes, video, caption, ocr, audio, text) hold component options,
checked against each component's own options dataclass when the pipeline is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .vector_index import IndexSettings

#: OmegaConf's marker of a value that must be given.
MISSING = "???"

#: The config groups that select components, in the order stages run (``scenes`` first).
STAGE_GROUPS: tuple[str, ...] = (
    "scenes",
    "video",
    "caption",
    "ocr",
    "audio/asr",
    "audio/embedding",
    "audio/events",
    "audio/speakers",
    "text",
)


@dataclass
class ModelsConfig:
    #: Use tiny random-weight models wherever no packaged real weights exist (preset=tiny).
    tiny: bool = False
    #: Where built tiny models and other egorag caches live.
    cache_dir: str = "~/.cache/egorag"
    #: Models kept loaded at once, in GiB; null: 80% of the device's memory.
    memory_budget_gb: float | None = None


@dataclass
class MediaConfig:
    #: Decoded frames cached per video for reads no stage declared, in MiB.
    frame_cache_mb: float = 256.0
    #: Frames held for one window of scenes (decoded once for the video and caption stages, at
    #: the size their models need); memory per video stays about this (twice with
    #: decode_ahead), whatever its length. A window of 16 MB holds about 6 scenes of 640x360
    #: video (frames at Qwen2-VL's size), cut to 4: a window holds whole batches of its
    #: stages' batch_size; raise it with larger batches (on a GPU). Qwen2-VL's inputs kept for
    #: the captioner (uint8 patches) are no larger than the window's frames. 16 MB peaked
    #: 48 MB lower than 32 MB on the 10-min video of benchmarks/bench_clip_method.py
    #: (benchmarks/README.md).
    window_mb: float = 16.0
    #: Decode the next window in a background thread while the models work on this one.
    decode_ahead: bool = True


@dataclass
class IndexConfig:
    """When the ``scenes`` vector columns get ANN indexes and which kind
    (:class:`egorag_core.vector_index.IndexSettings`, where the defaults are chosen)."""

    #: A vector column gets an ANN index once it holds this many vectors (below: exact search).
    min_rows: int = IndexSettings.min_rows
    #: Rows added since an index was built are folded in once they pass this share of it.
    fold_fraction: float = IndexSettings.fold_fraction
    #: The ANN index kind: ``IVF_FLAT``, ``IVF_PQ`` or ``IVF_HNSW_SQ``.
    kind: str = IndexSettings.kind

    def settings(self) -> IndexSettings:
        """These options checked (:class:`~egorag_core.errors.ConfigError` when out of range)."""
        return IndexSettings(self.min_rows, self.fold_fraction, self.kind)


@dataclass
class StoreConfig:
    #: The index: an embedded LanceDB database (tables ``videos`` and ``scenes``).
    name: str = "lancedb"
    #: null: ``<output dir of the run>/index``.
    path: str | None = None
    #: Also write the seed's pickle here (trusted input only: loading a pickle runs code); a
    #: relative path is relative to the run's output dir (each --multirun job writes its own).
    export_pickle: str | None = None
    #: The vector columns' ANN indexes (``store.index.min_rows``, ``.fold_fraction``, ``.kind``);
    #: how a search probes them is ``egorag search``'s options.
    index: IndexConfig = field(default_factory=IndexConfig)


@dataclass
class ExecutorConfig:
    """Where videos are encoded: ``executor=local`` (threads) or ``executor=ray`` (actors).
    ``address``, ``workers`` and the per-worker resources are read by ``executor=ray`` only;
    the shard settings by both."""

    #: ``local``: threads on this machine (``max_workers`` videos at once); ``ray``: long-lived
    #: Ray actors, each with its own pipeline and models (egorag_core/ray_executor.py).
    name: str = "local"
    #: Ray cluster to join (``auto``, ``HOST:6379``, ``ray://HOST:10001``); null: start a local
    #: one for the run (stopped at its end). A process that already runs Ray uses that one.
    address: str | None = None
    #: Ray actors, each loading every model of the pipeline once.
    workers: int = 2
    #: CPUs Ray reserves for each worker.
    num_cpus_per_worker: float = 1.0
    #: GPUs for each worker (0.5: two workers share one GPU, each with half its memory budget).
    num_gpus_per_worker: float = 0.0
    #: Split a video longer than this into shards of contiguous scenes of about this length,
    #: encoded at once by different workers (or threads) and merged before the commit; null: off.
    shard_minutes: float | None = None
    #: Audio on each side of a shard that the ASR hears too, so words at its edges are decoded
    #: in context; each word is kept by the one shard holding its scene.
    shard_overlap_seconds: float = 10.0


@dataclass
class RunConfig:
    """The whole run. Stage sections are free-form here and checked per component."""

    #: A JSON list of videos ({"path", "name", "scenes"}), a folder of videos, or one file.
    input: str = MISSING
    #: Where the index and run_report.json go. Rerunning with the same output_dir resumes.
    output_dir: str = "egorag-output"
    #: ``auto``: cuda when available, else cpu.
    device: str = "auto"
    #: Videos encoded at once.
    max_workers: int = 1
    progress: bool = True
    models: ModelsConfig = field(default_factory=ModelsConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)
    scenes: Any = None
    video: Any = None
    caption: Any = None
    ocr: Any = None
    audio: Any = None
    text: Any = None

    @property
    def cache_dir(self) -> Path:
        return Path(self.models.cache_dir).expanduser()

    @property
    def frame_cache_bytes(self) -> int:
        return int(self.media.frame_cache_mb * 2**20)

    @property
    def window_bytes(self) -> int:
        return int(self.media.window_mb * 2**20)

    def section(self, group: str) -> dict[str, Any] | None:
        """The options of a stage group (``audio/asr`` -> ``audio.asr``), or ``None``."""
        first, _, rest = group.partition("/")
        node = getattr(self, first, None)
        if rest:
            node = node.get(rest) if isinstance(node, Mapping) else None
        return dict(node) if isinstance(node, Mapping) else None


def register_schema() -> None:
    """Store :class:`RunConfig` in Hydra's ConfigStore as ``egorag_schema`` (idempotent)."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="egorag_schema", node=RunConfig)


def run_config(cfg: Mapping[str, Any] | RunConfig) -> RunConfig:
    """A :class:`RunConfig` from a composed config (plain dict or DictConfig); mistyped or
    unknown core keys raise :class:`~egorag_core.errors.ConfigError`."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from .errors import ConfigError

    if isinstance(cfg, RunConfig):
        return cfg
    plain = dict(cfg)
    plain.pop("hydra", None)
    plain.setdefault("input", "-")
    try:
        node = OmegaConf.merge(OmegaConf.structured(RunConfig), plain)
        out = OmegaConf.to_object(node)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", "") or "?"
        raise ConfigError(f"{key}: {str(exc).splitlines()[0]}") from None
    assert isinstance(out, RunConfig)
    return out


def compose(overrides: Sequence[str] = ()) -> tuple[dict[str, Any], dict[str, str]]:
    """The composed config as a plain dict, and the chosen option of every group (the Python
    API's way to get what the CLI gets, with the same search path)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    register_schema()
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="egorag_core.conf", version_base=None):
        cfg = hydra_compose("config", overrides=["input=-", *overrides], return_hydra_config=True)
        choices = dict(cfg.hydra.runtime.choices)
        plain = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(plain, dict)
    plain.pop("hydra", None)
    return {str(k): v for k, v in plain.items()}, {k: str(v) for k, v in choices.items()}
