"""``run_report.json``: per video status and stage times, the models that ran, load counts,
peak memory. Rewritten atomically after every video, so a killed run leaves a valid report.

With ``executor=ray`` the models load in the workers: ``workers`` lists each worker's own
figures (tasks, model loads, stage counters, peak RSS; a worker that died keeps its last), and
``model_loads`` and the stages' ``stats`` are their sums (maxima for ``largest``/``max``/``peak``
counters). ``peak_rss_bytes`` and ``scheduler`` are always the driver's (which, under Ray,
plans the models but loads none)."""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .components import Settings
from .data import VideoDatapoint
from .media import VideoInfo
from .scheduler import ModelScheduler


@dataclass
class VideoRecord:
    """One video from plan to report: what it is, what was decided, what happened."""

    video_name: str
    video_path: str
    status: str = "pending"  # pending | ok | skipped | failed
    reason: str = ""
    scenes: int = 0
    has_audio: bool | None = None
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    key: str = ""
    content_hash: str = ""
    #: Skipped as the same content as this path (encoded once, stored under both names).
    same_as: str = ""
    #: Frames the video and caption stages read, and frames decoded for them.
    frames_needed: int = 0
    frames_decoded: int = 0
    #: The input entry and its probe; not written to the report.
    point: VideoDatapoint | None = field(default=None, repr=False, compare=False)
    info: VideoInfo | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """The report's entry for this video."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _PRIVATE}
        out["stage_seconds"] = {k: round(s, 3) for k, s in self.stage_seconds.items()}
        return out


_PRIVATE = ("point", "info")


def peak_rss_bytes() -> int:
    """Peak resident memory of this process (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if os.uname().sysname == "Darwin" else peak * 1024


def merge_counters(parts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Counters of several workers as one: numbers summed (the largest for keys starting
    with ``largest``, ``max`` or ``peak``), anything else as the first worker gave it."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if key not in out or not number:
                out.setdefault(key, value)
            elif key.startswith(("largest", "max", "peak")):
                out[key] = max(out[key], value)
            else:
                out[key] += value
    return out


class RunReport:
    """Collects outcomes and writes the report file."""

    def __init__(
        self,
        path: Path,
        stages: dict[str, Any],
        settings: Settings,
        scheduler: ModelScheduler,
        stage_stats: Callable[[], dict[str, Any]] = dict,
    ):
        self.path = path
        self.stages = stages
        self.stage_stats = stage_stats
        self.settings = settings
        self.scheduler = scheduler
        self.videos: list[VideoRecord] = []
        self.index_path = ""
        self.executor = "local"
        #: Per-worker figures of a multi-process executor (none for local threads).
        self.workers: Callable[[], list[dict[str, Any]]] = list
        self.started = dt.datetime.now(dt.timezone.utc)

    def add(self, outcome: VideoRecord) -> None:
        self.videos.append(outcome)
        self.write()

    def counts(self) -> dict[str, int]:
        out = {"ok": 0, "skipped": 0, "failed": 0}
        for v in self.videos:
            out[v.status] = out.get(v.status, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        stage_totals: dict[str, float] = {}
        for v in self.videos:
            for stage, seconds in v.stage_seconds.items():
                stage_totals[stage] = stage_totals.get(stage, 0.0) + seconds
        scheduler = self.scheduler.report()
        workers = self.workers()
        stage_stats = self.stage_stats()
        loads = {k: m["loads"] for k, m in scheduler["models"].items()}
        if workers:
            stage_stats = {
                name: merge_counters(w.get("stage_stats", {}).get(name, {}) for w in workers)
                for name in self.stages
            }
            loads = merge_counters(w.get("model_loads", {}) for w in workers)
        return {
            "started": self.started.isoformat(),
            "finished": dt.datetime.now(dt.timezone.utc).isoformat(),
            "index": self.index_path,
            "device": self.settings.device,
            "tiny_models": self.settings.tiny,
            "counts": self.counts(),
            "stages": {
                name: {**info, "stats": stage_stats.get(name, {})}
                for name, info in self.stages.items()
            },
            "stage_seconds_total": {k: round(s, 3) for k, s in stage_totals.items()},
            "model_loads": loads,
            "scheduler": scheduler,
            "peak_rss_bytes": peak_rss_bytes(),
            "executor": self.executor,
            "workers": workers,
            "videos": [v.as_dict() for v in self.videos],
        }

    def write(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.as_dict(), indent=2, default=str) + "\n")
        tmp.replace(self.path)
        return self.path
