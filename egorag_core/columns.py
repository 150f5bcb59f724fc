"""Which component wrote each vector column of the index, so that a query is embedded by the
model that wrote the vectors it is compared with.

The store writes one row per (config fingerprint, vector column) into the ``columns`` table the
first time a video of that config gives the column vectors: the stage and its option
(``video=xclip``), the component's full options, ``preset=tiny`` or not, the cache of tiny
models, and the models with their ids (and, for random weights, a hash of the weight files: a
tiny model built again is another random model). An index written before this table existed
is read from the run config kept in each ``videos`` row (the stage, option and options, less
the models).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .components import Settings
    from .pipeline import Pipeline

#: The stage that writes each vector column (the hooks' contract, docs/hooks.md).
COLUMN_STAGES: dict[str, str] = {
    "video_vector": "video",
    "audio_vector": "audio.embedding",
    "text_vector": "text",
    "caption_vector": "text",
    "ocr_vector": "text",
}
#: The table of column records.
COLUMNS = "columns"


@dataclass(frozen=True)
class ColumnSource:
    """What wrote one vector column for the videos of one config fingerprint."""

    column: str
    fingerprint: str
    #: ``video``, ``audio.embedding``, ``text``.
    stage: str
    #: The registered option (``xclip``); rebuilt as ``<group>=<option>``.
    option: str
    #: The component's options as the run used them.
    options: dict[str, Any] = field(default_factory=dict)
    tiny: bool = False
    #: Where the run's tiny models live ("" when unknown: the default cache).
    cache_dir: str = ""
    #: ``module:Class`` of the component ("" when unknown).
    component: str = ""
    #: ``{"model_id", "random_weights", "weights_sha256"}`` per model ([] when unknown).
    models: tuple[dict[str, Any], ...] = ()
    dim: int = 0
    #: False when read from the run config of an index older than the column records.
    recorded: bool = True

    @property
    def group(self) -> str:
        """The config group: ``audio.embedding`` -> ``audio/embedding``."""
        return self.stage.replace(".", "/")

    @property
    def selection(self) -> str:
        """``video=xclip``."""
        return f"{self.group}={self.option}"

    def identity(self) -> str:
        """Equal for two sources whose query is embedded by the same component and models."""
        models = [(m.get("model_id"), m.get("weights_sha256")) for m in self.models]
        parts = [self.stage, self.option, self.options, self.tiny, self.cache_dir, models]
        return json.dumps(parts, sort_keys=True, default=str)

    def to_row(self) -> dict[str, Any]:
        """The ``columns`` table row."""
        return {
            "column": self.column, "config_fingerprint": self.fingerprint, "stage": self.stage,
            "option": self.option, "options": json.dumps(self.options, sort_keys=True, default=str),
            "tiny": self.tiny, "cache_dir": self.cache_dir, "component": self.component,
            "models": json.dumps(list(self.models), default=str), "dim": self.dim,
        }  # fmt: skip

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ColumnSource:
        return cls(
            row["column"], row["config_fingerprint"], row["stage"], row["option"],
            json.loads(row["options"] or "{}"), bool(row["tiny"]), row["cache_dir"] or "",
            row["component"] or "", tuple(json.loads(row["models"] or "[]")), int(row["dim"]),
        )  # fmt: skip


def weights_sha256(location: str) -> str:
    """SHA-256 of a local folder's weight files (``*.safetensors``, ``*.bin``), "" otherwise."""
    folder = Path(location)
    if not folder.is_dir():
        return ""
    files = sorted([*folder.glob("*.safetensors"), *folder.glob("*.bin")])
    if not files:
        return ""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def model_records(component: Any) -> tuple[dict[str, Any], ...]:
    """The component's models: id, random weights or not, and a hash of random weights."""
    out = []
    for spec in component.models():
        record = {"model_id": spec.model_id, "random_weights": spec.random_weights}
        if spec.random_weights:
            record["weights_sha256"] = weights_sha256(spec.model_id)
        out.append(record)
    return tuple(out)


def stage_sources(pipeline: Pipeline, settings: Settings) -> dict[str, ColumnSource]:
    """Per stage that writes a vector column, its source (``column`` and ``dim`` left for the
    store to fill), from the run's checked components."""
    from .options import options_dict

    components = dict(pipeline.stages)
    out = {}
    for stage in set(COLUMN_STAGES.values()):
        component = components.get(stage)
        if component is None:
            continue
        kind = type(component)
        out[stage] = ColumnSource(
            "", "", stage, pipeline.selections.get(stage, ""), options_dict(component.options),
            settings.tiny, str(settings.cache_dir), f"{kind.__module__}:{kind.__qualname__}",
            model_records(component),
        )  # fmt: skip
    return out


def sources_from_config(column: str, fingerprint: str, config: Mapping[str, Any],
                        dim: int = 0) -> ColumnSource | None:  # fmt: skip
    """The source of ``column`` as the run config of a ``videos`` row tells it (the
    fingerprinted stage config: ``{"tiny": ..., "<stage>": {"name": ..., **options}}``)."""
    stage = COLUMN_STAGES.get(column)
    entry = config.get(stage) if stage else None
    if not isinstance(entry, Mapping) or not entry.get("name") or entry["name"] == "none":
        return None
    options = {k: v for k, v in entry.items() if k != "name"}
    assert stage is not None
    return ColumnSource(column, fingerprint, stage, str(entry["name"]), options,
                        bool(config.get("tiny")), dim=dim, recorded=False)  # fmt: skip


def for_columns(stages: Mapping[str, ColumnSource], columns: Iterable[tuple[str, int]],
                fingerprint: str) -> list[ColumnSource]:  # fmt: skip
    """Sources of ``columns`` (``(name, dim)`` pairs) written by a run whose stages are
    ``stages``."""
    import dataclasses

    out = []
    for name, dim in columns:
        stage = stages.get(COLUMN_STAGES.get(name, ""))
        if stage is not None:
            out.append(dataclasses.replace(stage, column=name, fingerprint=fingerprint, dim=dim))
    return out
