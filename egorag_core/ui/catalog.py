"""One index as the page reads it: its videos and scenes, its search, and the files it names.

Nothing here takes a path from a request: videos are found by their key in the index, and the
only files served are the ones the index names (:func:`servable`).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SearchError
from ..store import SCENES, VIDEOS

#: The scene columns a page shows (those an index lacks are left out).
SCENE_FIELDS = ("key", "scene_index", "start", "end", "transcript", "caption_text", "extras",
                "ocr_text", "keyframe_times", "wall_start")  # fmt: skip


@dataclass(frozen=True)
class Media:
    """A video file as the page may serve it: ``path`` where it can, else ``problem`` (one
    sentence for the page)."""

    path: Path | None
    problem: str = ""


def servable(named: str) -> Media:
    """The file at ``named`` (a path the index holds) if it may be served: it exists, is a
    regular file, has no ``..`` in it, and is no link out of its own folder."""
    path = Path(named)
    if ".." in path.parts:
        return Media(None, f"{named}: a path with '..' in it is not served")
    path = path.absolute()
    try:
        if not path.exists():
            return Media(None, f"{named} is missing (moved or deleted after it was indexed)")
        real, folder = path.resolve(strict=True), path.parent.resolve(strict=True)
    except OSError as exc:
        return Media(None, f"{named} cannot be read ({exc.strerror or exc})")
    if not real.is_relative_to(folder):
        return Media(None, f"{named} links to a file outside its folder: not served")
    if not real.is_file():
        return Media(None, f"{named} is not a regular file: not served")
    return Media(real)


@dataclass(frozen=True)
class Video:
    """One committed video of the index."""

    key: str
    name: str
    path: str
    duration: float
    num_scenes: int
    #: Every ``(name, path)`` it is known by, the encoded one first (aliases: the same bytes).
    names: tuple[tuple[str, str], ...] = ()

    def media(self) -> Media:
        """Its file (the encoded path, else an alias's that can be served)."""
        found = [servable(path) for _, path in self.names or ((self.name, self.path),)]
        return next((m for m in found if m.path is not None), found[0])


@dataclass
class SceneView:
    """One scene as the video page shows it."""

    index: int
    start: float
    end: float
    transcript: str
    caption: str
    ocr_lines: list[str]
    keyframe_times: list[float]
    extras: dict[str, Any] = field(default_factory=dict)
    wall_time: str | None = None

    @property
    def thumb_time(self) -> float:
        """Where its thumbnail is taken: the middle keyframe, else the scene's middle."""
        inside = [t for t in self.keyframe_times if self.start <= t < self.end + 1e-6]
        return inside[len(inside) // 2] if inside else (self.start + self.end) / 2

    def lines(self) -> list[dict[str, Any]]:
        """Transcript lines with times (and speakers where diarized), in time order."""
        rows = self.extras.get("speakers") or self.extras.get("segments") or []
        out = [{"start": float(r.get("start", self.start)), "end": float(r.get("end", self.end)),
                "speaker": r.get("speaker"), "text": str(r.get("text") or "").strip()}
               for r in rows if isinstance(r, dict)]  # fmt: skip
        if not out and self.transcript.strip():
            out = [{"start": self.start, "end": self.end, "speaker": None,
                    "text": self.transcript.strip()}]  # fmt: skip
        return sorted((r for r in out if r["text"] or r["speaker"]), key=lambda r: r["start"])

    def events(self) -> list[dict[str, Any]]:
        """Sound events (label, score, start, end), best first."""
        rows = [r for r in self.extras.get("events") or [] if isinstance(r, dict)]
        return sorted(rows, key=lambda r: -float(r.get("score", 0.0)))


def wall_text(value: Any) -> str | None:
    """A stored UTC time as local time, ``2026-11-28 15:04:05``."""
    if not isinstance(value, dt.datetime):
        return None
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def scene_view(row: dict[str, Any]) -> SceneView:
    """A ``scenes`` row as a :class:`SceneView`."""
    try:
        extras = json.loads(row.get("extras") or "{}")
    except ValueError:
        extras = {}
    ocr = str(row.get("ocr_text") or "")
    return SceneView(
        int(row["scene_index"]), float(row["start"]), float(row["end"]),
        row.get("transcript") or "", row.get("caption_text") or "",
        [line.strip() for line in ocr.splitlines() if line.strip()],
        [float(t) for t in row.get("keyframe_times") or []],
        extras if isinstance(extras, dict) else {}, wall_text(row.get("wall_start")),
    )  # fmt: skip


class Catalog:
    """An index opened for the page. Opening it loads no model: the query model is built on
    the first search and kept for the next ones. Raises
    :class:`~egorag_core.errors.StoreError` when there is no index with scenes at ``path``."""

    def __init__(self, path: str | Path, device: str = "cpu", label: str = ""):
        from ..retrieval import SearchIndex

        self.engine = SearchIndex(path, device)
        self.path: Path = self.engine.path
        self.label = label or str(self.path)
        self._search_lock = threading.Lock()
        self._videos: dict[str, Video] = {}
        self._version: Any = None
        self._fields = [f for f in SCENE_FIELDS if f in self.engine.scenes.schema.names]

    def videos(self) -> dict[str, Video]:
        """The committed videos by key, in the order they were indexed (re-read when the
        ``videos`` table changes)."""
        table = self.engine.store.table(VIDEOS)
        version = table.version if table is not None else None
        if version != self._version or not self._videos:
            names = self.engine.store.names()
            rows = [] if table is None else table.search().select(
                ["key", "video_name", "video_path", "duration", "num_scenes", "same_as"]
            ).limit(None).to_arrow().to_pylist()  # fmt: skip
            self._videos = {r["key"]: Video(r["key"], r["video_name"], r["video_path"],
                                            float(r["duration"] or 0.0), int(r["num_scenes"]),
                                            tuple(names.get(r["key"], ())))
                            for r in rows if r.get("same_as") is None}  # fmt: skip
            self._version = version
        return self._videos

    def video(self, key: str) -> Video | None:
        """The video of ``key``; ``None`` when the index has none (any other string)."""
        return self.videos().get(key)

    def _rows(self, where: str, limit: int | None = None) -> list[dict[str, Any]]:
        table = self.engine.store.table(SCENES)
        rows = table.search().where(where).select(self._fields).limit(limit).to_arrow()
        return sorted(rows.to_pylist(), key=lambda r: int(r["scene_index"]))

    def scenes(self, key: str) -> list[SceneView]:
        """The scenes of video ``key`` in time order (none for a key the index lacks)."""
        if self.video(key) is None:
            return []
        return [scene_view(r) for r in self._rows(f"key = '{_quoted(key)}'")]

    def scene(self, key: str, index: int) -> SceneView | None:
        """Scene ``index`` of video ``key``, ``None`` when there is no such scene."""
        if self.video(key) is None:
            return None
        rows = self._rows(f"key = '{_quoted(key)}' AND scene_index = {int(index)}", 1)
        return scene_view(rows[0]) if rows else None

    def search(self, query: str, modality: str = "auto", video: str | None = None,
               k: int = 20) -> tuple[list[Any], list[str]]:  # fmt: skip
        """The hits of :func:`egorag_core.search` and the lines on what was not searched;
        raises :class:`~egorag_core.errors.SearchError` (one line) when it cannot search."""
        from ..retrieval import search

        with self._search_lock:  # one query at a time: the models are shared
            hits = search(self.engine, query, k=k, modality=modality, video=video or None)
            notes = self.engine.plan(modality)[1]
        return hits, notes

    def modalities(self) -> Sequence[str]:
        from ..retrieval import SEARCH_MODALITIES

        return SEARCH_MODALITIES


def _quoted(text: str) -> str:
    """``text`` inside a SQL string literal."""
    if "\x00" in text:
        raise SearchError("a key holds a NUL character")
    return text.replace("'", "''")
