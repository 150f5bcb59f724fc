"""The index: an embedded LanceDB database with a ``scenes`` and a ``videos`` table.

Every finished video is one commit keyed by ``<content hash of the file>-<config fingerprint>``:
its scene rows are written first (after deleting any left by an interrupted write of the same
key), then its ``videos`` row, which marks it done. A rerun skips keys present in ``videos``; a
run killed at any moment loses at most the video in flight and never leaves duplicates, because
readers and resumes go through the ``videos`` table. Vectors are fixed-size float32 columns
(``video_vector``, ``audio_vector``, ``text_vector``, ``caption_vector``), added the first time a
modality appears, so LanceDB can search them and pyarrow/pandas can read them. The ``columns``
table records which component and options wrote each vector column (:mod:`egorag_core.columns`),
and ``transcript`` and ``caption_text`` have LanceDB full-text (BM25) indexes. Where an ``ocr``
stage ran, ``scenes`` and ``videos`` also have an ``ocr_text`` column (full-text indexed in
``scenes``) and ``ocr_vector`` where text was found; without OCR the tables are as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from .clock import recording_start
from .columns import COLUMNS, ColumnSource, for_columns, sources_from_config
from .data import MODALITIES, Scene, SceneEncoding, VideoDatapoint, VideoDataset
from .vector_index import IndexSettings

SCENES = "scenes"
VIDEOS = "videos"
#: Text columns of ``scenes`` with a full-text (BM25) index (``ocr_text`` where it exists).
FULL_TEXT = ("transcript", "caption_text", "ocr_text")
#: Wall-clock columns (``videos.recorded_at``, ``scenes.wall_start``/``wall_end``): UTC.
WALL_CLOCK = pa.timestamp("us", tz="UTC")
#: Unindexed rows that make a commit optimise the full-text indexes (when they also outnumber
#: the indexed rows, so the work stays proportional to what was added).
OPTIMIZE_ROWS = 10_000


from .errors import StoreError  # noqa: E402  (re-exported)


def content_hash(path: str | Path, chunk: int = 2**20) -> str:
    """SHA-256 of the file's bytes (hex, first 32 characters)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()[:32]


def config_fingerprint(stages: Mapping[str, Any]) -> str:
    """A short hash of the stage configuration that decides the index's content."""
    text = json.dumps(stages, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _vector_column(name: str, vectors: list[np.ndarray | None]) -> pa.Array | None:
    """Column ``name``: fixed-size float32 lists; ``None`` entries become nulls (``None`` when all
    are missing). Raises :class:`StoreError` for mixed sizes or non-finite values."""
    present = [v for v in vectors if v is not None]
    if not present:
        return None
    dim = int(np.asarray(present[0]).reshape(-1).shape[0])
    rows: list[list[float] | None] = []
    for v in vectors:
        if v is None:
            rows.append(None)
            continue
        flat = np.asarray(v, dtype=np.float32).reshape(-1)
        if flat.shape[0] != dim:
            raise StoreError(f"{name}: vectors differ in size ({flat.shape[0]} vs {dim})")
        if not np.isfinite(flat).all():
            raise StoreError(f"{name}: a vector holds NaN or infinite values")
        rows.append(flat.tolist())
    return pa.array(rows, type=pa.list_(pa.float32(), dim))


def _with_vectors(columns: dict[str, Any], vectors: dict[str, list[np.ndarray | None]]) -> pa.Table:
    table = pa.table(columns)
    for name, values in vectors.items():
        array = _vector_column(f"{name}_vector", values)
        if array is not None:
            table = table.append_column(f"{name}_vector", array)
    return table


class LanceStore:
    """The egorag index at ``path`` (a folder; created on first write). ``sources``: per stage
    that writes a vector column, what the run's component is (:func:`~egorag_core.columns.
    stage_sources`), recorded in the ``columns`` table with the first vectors of each column.
    ``create=False`` opens an existing index only (:class:`StoreError` when there is none)."""

    def __init__(self, path: str | Path, sources: Mapping[str, ColumnSource] | None = None,
                 create: bool = True, index: IndexSettings | None = None):  # fmt: skip
        import lancedb

        self.path = Path(path)
        if create:
            self.path.mkdir(parents=True, exist_ok=True)
        elif not self.path.is_dir():
            raise StoreError(f"{self.path}: no index there (give --index DIR, an index folder)")
        self._db = lancedb.connect(str(self.path))
        self._lock = threading.Lock()
        self.sources = dict(sources or {})
        self._recorded: set[tuple[str, str]] | None = None
        self._full_text_indexed: set[str] = set()
        #: When the vector columns get ANN indexes (:mod:`egorag_core.vector_index`).
        self.index = index or IndexSettings()

    def tables(self) -> list[str]:
        """The tables the index holds."""
        return list(self._db.list_tables().tables)

    def _table(self, name: str) -> Any:
        return self._db.open_table(name) if name in self._db.list_tables().tables else None

    def table(self, name: str) -> Any:
        """The LanceDB table ``name`` (``scenes``, ``videos``, ``columns``), ``None`` if absent."""
        return self._table(name)

    def done_keys(self) -> set[str]:
        """Keys of every committed video."""
        table = self._table(VIDEOS)
        if table is None:
            return set()
        return set(table.to_arrow().column("key").to_pylist())

    def _write(self, name: str, data: pa.Table) -> None:
        """Create or append to table ``name``, adding new columns. Null vectors stay null
        (LanceDB's default, ``on_bad_vectors="error"``, rejects them in columns of 10+ floats)."""
        table = self._table(name)
        if table is None:
            self._db.create_table(name, data=data, on_bad_vectors="null")
            return
        schema = table.schema
        for field in data.schema:
            if field.name not in schema.names:
                table.add_columns(field)
            elif (held := schema.field(field.name).type) != field.type:
                raise StoreError(
                    f"{self.path}: column {name}.{field.name} holds {held}, this run gives "
                    f"{field.type}; use another store.path for this config"
                )
        table.add(data, on_bad_vectors="null")

    def commit(self, key: str, point: VideoDatapoint, content: str, fingerprint: str,
               config: Mapping[str, Any]) -> None:  # fmt: skip
        """Write one finished video atomically (scenes, then the ``videos`` row)."""
        scenes = _with_vectors(
            _scene_columns(key, point),
            {m: [getattr(e, m) for e in point.scene_embeddings] for m in MODALITIES},
        )
        began = recording_start(point.recorded_at, point.video_path)
        scenes = _with_wall_clock(scenes, began, point.scenes)
        video = _with_vectors(
            {
                "key": [key],
                "content_hash": [content],
                "config_fingerprint": [fingerprint],
                "video_name": [point.video_name],
                "video_path": [point.video_path],
                "duration": pa.array([point.duration], type=pa.float64()),
                "has_audio": [bool(point.has_audio)],
                "num_scenes": pa.array([len(point.scenes)], type=pa.int32()),
                "encoded_at": [dt.datetime.now(dt.timezone.utc).isoformat()],
                "config": [json.dumps(config, sort_keys=True, default=str)],
                "same_as": pa.array([None], type=pa.string()),
                "recorded_at": pa.array([began], type=WALL_CLOCK),
                **({"ocr_text": [point.ocr_text]} if point.ocr_text is not None else {}),
            },
            {m: [point.global_embeddings.get(m)] for m in MODALITIES},
        )
        with self._lock:
            for name in (SCENES, VIDEOS):  # rows of an interrupted or repeated write
                table = self._table(name)
                if table is not None:
                    table.delete(f"key = '{key}'")
            self._write(SCENES, scenes)
            self._write(VIDEOS, video)
            self._record_columns(fingerprint, scenes.schema)
            self._index_full_text()
            self._maintain_vectors()

    def _record_columns(self, fingerprint: str, schema: pa.Schema) -> None:
        """Add the ``columns`` rows of this run's vector columns not yet recorded."""
        if not self.sources:
            return
        if self._recorded is None:
            table = self._table(COLUMNS)
            rows = [] if table is None else table.to_arrow().to_pylist()
            self._recorded = {(r["config_fingerprint"], r["column"]) for r in rows}
        vectors = [(f.name, f.type.list_size) for f in schema if f.name.endswith("_vector")]
        new = [s for s in for_columns(self.sources, vectors, fingerprint)
               if (fingerprint, s.column) not in self._recorded]  # fmt: skip
        if new:
            self._write(COLUMNS, pa.Table.from_pylist([s.to_row() for s in new]))
            self._recorded.update((fingerprint, s.column) for s in new)

    def _index_full_text(self) -> None:
        """LanceDB full-text indexes on ``transcript``, ``caption_text`` and ``ocr_text`` (where
        it exists), made once each. Rows added later are searched too (unindexed rows are
        scanned); once they outnumber both :data:`OPTIMIZE_ROWS` and the indexed ones,
        ``optimize()`` (:meth:`_maintain_vectors`) brings them into the indexes (and compacts
        the table's small per-video files)."""
        from lancedb.index import FTS

        table = self._table(SCENES)
        columns = {c for c in FULL_TEXT if c in table.schema.names}
        if not columns <= self._full_text_indexed:
            indexed = {c for i in table.list_indices() for c in i.columns}
            for column in sorted(columns - indexed):
                table.create_index(column, config=FTS())
            self._full_text_indexed |= columns

    def _maintain_vectors(self, force: bool = False) -> list[str]:
        """ANN indexes on the vector columns past ``index.min_rows``, and rows added since
        folded into every index when due (:func:`~egorag_core.vector_index.maintain`); one
        line per thing done."""
        from .vector_index import maintain

        table = self._table(SCENES)
        return maintain(table, self.index, OPTIMIZE_ROWS, FULL_TEXT, force)

    def maintain(self, force: bool = False) -> list[str]:
        """What a commit does to the indexes (``egorag index optimize``), with ``force`` also
        folding every row added since the indexes were built; one line per thing done."""
        with self._lock:
            if self._table(SCENES) is None:
                return []
            self._index_full_text()
            return self._maintain_vectors(force)

    def column_sources(self) -> list[ColumnSource]:
        """What wrote each vector column, per config fingerprint: the ``columns`` records,
        else (an index older than them) the run config of the ``videos`` rows."""
        table, videos = self._table(COLUMNS), self._table(VIDEOS)
        found = [ColumnSource.from_row(r) for r in table.to_arrow().to_pylist()] if table else []
        known = {(s.fingerprint, s.column) for s in found}
        scenes = self._table(SCENES)
        dims = {f.name: f.type.list_size for f in scenes.schema if f.name.endswith("_vector")} \
            if scenes is not None else {}  # fmt: skip
        rows = videos.to_arrow().to_pylist() if videos is not None else []
        for row in rows:
            fingerprint, config = row.get("config_fingerprint"), row.get("config")
            for column, dim in dims.items():
                if fingerprint is None or (fingerprint, column) in known or not config:
                    continue
                source = sources_from_config(column, fingerprint, json.loads(config), dim)
                if source is not None:
                    found.append(source)
                    known.add((fingerprint, column))
        return found

    def names(self) -> dict[str, list[tuple[str, str]]]:
        """Per committed key, every ``(video_name, video_path)`` it is known by: the encoded
        one first, then its aliases."""
        table = self._table(VIDEOS)
        rows = [] if table is None else table.to_arrow().to_pylist()
        out: dict[str, list[tuple[str, str]]] = {}
        for row in sorted(rows, key=lambda r: r.get("same_as") is not None):
            out.setdefault(row["key"], []).append((row["video_name"], row["video_path"]))
        return out

    def add_alias(self, key: str, name: str, path: str) -> None:
        """Record ``name`` and ``path`` as one more name of committed video ``key``: a copy of
        its ``videos`` row whose ``same_as`` is the encoded video's path; its scenes are not
        copied. Raises :class:`StoreError` when ``key`` is not committed."""
        with self._lock:
            table = self._table(VIDEOS)
            rows = [] if table is None else table.to_arrow().to_pylist()
            first = next((r for r in rows if r["key"] == key and r.get("same_as") is None), None)
            if first is None:
                raise StoreError(f"{self.path}: no video {key} to give the name {name!r}")
            alias = {**first, "video_name": name, "video_path": path,
                     "same_as": first["video_path"],
                     "encoded_at": dt.datetime.now(dt.timezone.utc).isoformat()}  # fmt: skip
            self._write(VIDEOS, pa.Table.from_pylist([alias], schema=table.schema))

    def find(self, name: str) -> VideoDatapoint | None:
        """The stored video known by ``name`` (a video name or path, its own or an alias's,
        see :meth:`add_alias`); the first match, ``None`` when there is none."""
        keys = [k for k, known in self.names().items() if any(name in pair for pair in known)]
        points = self._points({keys[0]}) if keys else []
        return points[0] if points else None

    def read(self) -> VideoDataset:
        """Every committed video with its scenes (once, under the name it was encoded with),
        as a :class:`VideoDataset`."""
        return VideoDataset(self._points(), encoded=True)

    def _points(self, keys: set[str] | None = None) -> list[VideoDatapoint]:
        """The committed videos (of ``keys``, or all), without alias rows."""
        videos, scenes = self._table(VIDEOS), self._table(SCENES)
        if videos is None or scenes is None:
            return []
        rows = [r for r in videos.to_arrow().to_pylist()
                if r.get("same_as") is None and (keys is None or r["key"] in keys)]  # fmt: skip
        scene_rows: dict[str, list[dict[str, Any]]] = {}
        for row in scenes.to_arrow().to_pylist():
            if keys is None or row["key"] in keys:
                scene_rows.setdefault(row["key"], []).append(row)
        return [_datapoint(row, scene_rows.get(row["key"], [])) for row in rows]


def _with_wall_clock(scenes: pa.Table, began: dt.datetime | None,
                     spans: list[Scene]) -> pa.Table:  # fmt: skip
    """``scenes`` with ``wall_start`` and ``wall_end``: the recording start plus each scene's
    offsets (nulls when the start is unknown)."""
    for name, offsets in (("wall_start", [s.start for s in spans]),
                          ("wall_end", [s.end for s in spans])):  # fmt: skip
        times = [None if began is None else began + dt.timedelta(seconds=o) for o in offsets]
        scenes = scenes.append_column(name, pa.array(times, type=WALL_CLOCK))
    return scenes


def _scene_columns(key: str, point: VideoDatapoint) -> dict[str, Any]:
    """The ``scenes`` rows of ``point`` but their vectors (``ocr_text`` only where an ``ocr``
    stage ran; ``keyframe_times``: the seconds of the frames the video stage picked, empty
    where it picked none)."""
    n, encodings = len(point.scenes), point.scene_embeddings
    columns: dict[str, Any] = {
        "key": [key] * n,
        "video_name": [point.video_name] * n,
        "video_path": [point.video_path] * n,
        "scene_index": pa.array(range(n), type=pa.int32()),
        "start": pa.array([s.start for s in point.scenes], type=pa.float64()),
        "end": pa.array([s.end for s in point.scenes], type=pa.float64()),
        "transcript": [e.transcript for e in encodings],
        "caption_text": [e.caption_text for e in encodings],
        "extras": [json.dumps(e.extras, default=str) for e in encodings],
        "keyframe_times": pa.array([[float(t) for t in e.keyframe_times] for e in encodings],
                                   type=pa.list_(pa.float64())),  # fmt: skip
    }
    if any(e.ocr_text is not None for e in encodings):
        columns["ocr_text"] = pa.array([e.ocr_text for e in encodings], type=pa.string())
    return columns


def _datapoint(row: dict[str, Any], scene_rows: list[dict[str, Any]]) -> VideoDatapoint:
    """A ``videos`` row and its ``scenes`` rows as a :class:`VideoDatapoint`."""
    rows = sorted(scene_rows, key=lambda r: r["scene_index"])
    return VideoDatapoint(
        row["video_path"],
        row["video_name"],
        scenes=[Scene(r["start"], r["end"]) for r in rows],
        scene_embeddings=[_encoding(r) for r in rows],
        global_embeddings={
            m: np.asarray(row[f"{m}_vector"], dtype=np.float32)
            for m in MODALITIES
            if row.get(f"{m}_vector") is not None
        },
        has_audio=row["has_audio"],
        duration=row["duration"],
        ocr_text=row.get("ocr_text"),
        recorded_at=row["recorded_at"].isoformat() if row.get("recorded_at") else None,
    )


def _encoding(row: dict[str, Any]) -> SceneEncoding:
    vectors: dict[str, Any] = {
        m: None if row.get(f"{m}_vector") is None else np.asarray(row[f"{m}_vector"], np.float32)
        for m in MODALITIES
    }
    return SceneEncoding(
        **vectors,
        transcript=row["transcript"],
        caption_text=row["caption_text"],
        ocr_text=row.get("ocr_text"),
        keyframe_times=list(row.get("keyframe_times") or []),
        extras=json.loads(row["extras"] or "{}"),
    )
