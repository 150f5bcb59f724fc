"""Search an egorag index by words: ``egorag search`` and :func:`search`.

A query is compared with a vector column only once embedded by the component that wrote the
column (the ``columns`` records, :mod:`egorag_core.columns`), rebuilt from its recorded options
the way a run builds it (``preset=tiny`` and the run's model cache, the offline rules, models
through a :class:`~egorag_core.scheduler.ModelScheduler`) and asked for its
``embed_query`` (:class:`~egorag_core.hookspecs.QueryEmbedder`). Transcripts, captions and the
text read in frames (``ocr_text``) are also searched by LanceDB's full-text (BM25) index.
``auto`` fuses every list it can search by reciprocal rank fusion; one modality keeps its own
score (cosine similarity, or BM25).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .clock import local_text
from .columns import ColumnSource
from .errors import ConfigError, SearchError, StoreError
from .store import SCENES, VIDEOS, LanceStore
from .vector_index import NPROBES, REFINE_FACTOR, quantised_columns

#: What ``--modality`` accepts.
SEARCH_MODALITIES = ("auto", "text", "caption", "transcript", "video", "audio", "ocr")
#: The vector column each vector modality searches.
VECTOR_COLUMNS = {
    "text": "text_vector",
    "caption": "caption_vector",
    "video": "video_vector",
    "audio": "audio_vector",
    "ocr": "ocr_vector",
}
#: Full-text lists: label -> column; the modality each belongs to.
FULL_TEXT = {"transcript": "transcript", "caption words": "caption_text", "ocr words": "ocr_text"}
FULL_TEXT_MODALITY = {"transcript": "transcript", "caption words": "caption", "ocr words": "ocr"}
#: Reciprocal rank fusion: a scene scores sum(1 / (RRF_K + rank)) over the lists.
RRF_K = 60
ROW_FIELDS = ["key", "video_name", "video_path", "scene_index", "start", "end", "transcript",
              "caption_text"]  # fmt: skip
#: What each list of a search reads besides the score and row id (by which fusion knows a
#: scene): nothing. The hits' ``ROW_FIELDS`` are read once, for the ``k`` rows shown (at 1 M
#: scenes, reading them for every list's 50 rows took longer than its vector search).
LIST_FIELDS: list[str] = []


@dataclass(frozen=True)
class Hit:
    """One scene found: where it is, how well it matched and what it says."""

    video_name: str
    video_path: str
    start: float
    end: float
    #: Cosine similarity or BM25 score for one list; the fused (RRF) score for several.
    score: float
    #: The lists that found it, best rank first: ``text``, ``transcript``, ``text+transcript``.
    modality: str
    transcript: str
    caption_text: str
    scene_index: int
    #: The video's key in the index.
    key: str
    #: The text read in the scene's frames, one line each ("" where none was found); ``None``
    #: for an index without an ``ocr`` stage (and then left out of :meth:`to_dict`).
    ocr_text: str | None = None
    #: When the scene began on the wall clock (local time, ``2026-11-28 15:04:05``); ``None``
    #: when its video's recording start is unknown (and then left out of :meth:`to_dict`).
    wall_time: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for name in ("ocr_text", "wall_time"):
            if out[name] is None:
                del out[name]
        return out


@dataclass(frozen=True)
class Source:
    """One ranked list: a vector column compared with the query embedded by ``producer``
    (restricted to its videos by ``where`` when others wrote the column too), or a full-text
    search of a text column (``producer`` ``None``)."""

    label: str
    column: str
    producer: ColumnSource | None = None
    where: str | None = None


def index_folder(path: str | Path) -> Path:
    """``path``, or ``path/index`` when ``path`` is a run's output folder."""
    path = Path(path)
    if path.is_dir() and not any(path.glob("*.lance")) and (path / "index").is_dir():
        return path / "index"
    return path


class SearchIndex:
    """An index opened for searching; components and models are built once, on first use.
    Raises :class:`~egorag_core.errors.StoreError` when there is no index with scenes."""

    def __init__(self, path: str | Path, device: str = "cpu", nprobes: int = NPROBES,
                 refine_factor: int = REFINE_FACTOR, exact: bool = False):  # fmt: skip
        self.path = index_folder(path)
        self.store = LanceStore(self.path, create=False)
        if SCENES not in self.store.tables():
            raise StoreError(f"{self.path}: the index holds no scenes yet (encode videos first: "
                             "egorag input=VIDEOS output_dir=...)")  # fmt: skip
        self.scenes = self.store.table(SCENES)
        if self.scenes.count_rows() == 0:
            raise StoreError(f"{self.path}: the index holds no scenes yet")
        from .scheduler import ModelScheduler

        self.device = device
        self.scheduler = ModelScheduler(device)
        self.columns = {f.name: f.type.list_size for f in self.scenes.schema
                        if f.name.endswith("_vector")}  # fmt: skip
        self.sources = [s for s in self.store.column_sources() if s.column in self.columns]
        names = self.scenes.schema.names
        #: Whether an ``ocr`` stage wrote any of the index (else OCR goes unmentioned).
        self.has_ocr = "ocr_text" in names
        self.fields = ROW_FIELDS + (["ocr_text"] if self.has_ocr else [])
        #: Whether scenes carry wall-clock times (an index older than them has none).
        self.has_clock = "wall_start" in names
        self.fields += ["wall_start"] if self.has_clock else []
        #: ANN search: partitions probed, candidates re-ranked exactly (x k, the hits asked)
        #: where the column's index is quantised; ``exact`` reads every vector instead (the
        #: reference the ANN recall is measured against).
        self.nprobes, self.refine_factor, self.exact = nprobes, refine_factor, exact
        #: The vector columns whose index gives approximate distances (re-ranked).
        self.quantised = quantised_columns(self.scenes)
        #: Whether the lists of one search run at once (``auto``).
        self.concurrent = True
        #: Per full-text column, whether any scene has words in it.
        self.texts = {c: c in names and self._any(f"{c} IS NOT NULL AND {c} != ''")
                      for c in FULL_TEXT.values()}  # fmt: skip
        self._built: dict[str, Any] = {}
        self._prints: set[str] | None = None
        self._vectors: dict[tuple[str, str], np.ndarray] = {}
        self._host: Any = None

    # -- what can be searched -------------------------------------------------------------------
    def plan(self, modality: str = "auto") -> tuple[list[Source], list[str]]:
        """The lists a ``modality`` search reads, and one line per part of it that cannot be
        searched, saying why."""
        if modality not in SEARCH_MODALITIES:
            choices = ", ".join(SEARCH_MODALITIES)
            raise SearchError(f"--modality {modality}: choose one of {choices}")
        wanted = [m for m in VECTOR_COLUMNS if modality in ("auto", m)
                  and (m != "ocr" or self.has_ocr or modality == "ocr")]  # fmt: skip
        sources: list[Source] = []
        notes: list[str] = []
        for name in wanted:
            found, problems = self._vector_sources(name)
            sources += found
            notes += problems
        for label, column in FULL_TEXT.items():
            if modality not in ("auto", FULL_TEXT_MODALITY[label]):
                continue
            if column == "ocr_text" and not self.has_ocr:
                continue  # said once, by the vector list
            if self.texts[column]:
                sources.append(Source(label, column))
            else:
                notes.append(f"{FULL_TEXT_MODALITY[label]}: every {column} is empty")
        return sources, notes

    def _vector_sources(self, modality: str) -> tuple[list[Source], list[str]]:
        """The lists of one vector modality: one per distinct writer of its column."""
        column = VECTOR_COLUMNS[modality]
        if modality == "ocr" and not self.has_ocr:
            return [], ["ocr: no text was read in the frames of this index (encode with an ocr "
                        "stage: ocr=rapidocr)"]  # fmt: skip
        if column not in self.columns:
            return [], [f"{modality}: the index has no {column}"]
        writers: dict[str, list[ColumnSource]] = {}
        for source in self.sources:
            if source.column == column:
                writers.setdefault(source.identity(), []).append(source)
        if not writers:
            return [], [f"{modality}: no record of the component that wrote {column} (an index "
                        "written before egorag kept run configs): not searched"]  # fmt: skip
        fingerprints = self._fingerprints()
        found, notes = [], []
        for group in writers.values():
            try:
                self.embedder(group[0])
            except SearchError as exc:
                notes.append(f"{modality}: {exc}")
                continue
            prints = sorted({s.fingerprint for s in group})
            where = None if set(prints) >= fingerprints else " OR ".join(
                f"key LIKE '%-{p}%'" for p in prints)  # fmt: skip
            found.append(Source(modality, column, group[0], where))
        return found, notes

    def _any(self, where: str) -> bool:
        """Whether a scene matches ``where`` (the scan stops at the first)."""
        return bool(self.scenes.search().where(where).select(["key"]).limit(1).to_arrow())

    def _fingerprints(self) -> set[str]:
        """The config fingerprints of the index's videos (read once)."""
        if self._prints is None:
            videos = self.store.table(VIDEOS)
            names = [] if videos is None else videos.schema.names
            self._prints = set() if "config_fingerprint" not in names else set(
                videos.to_arrow().column("config_fingerprint").to_pylist())  # fmt: skip
        return self._prints

    def describe(self) -> list[str]:
        """One line per modality: what ``auto`` searches it with, or why it cannot."""
        sources, notes = self.plan("auto")
        lines = []
        for s in sources:
            by = f"query embedded by {s.producer.selection}" if s.producer else "full text (BM25)"
            lines.append(f"{s.label}: {s.column}, {by}")
        return lines + [f"not searched: {n}" for n in notes]

    # -- query embedding ------------------------------------------------------------------------
    def embedder(self, source: ColumnSource) -> Any:
        """The component that wrote ``source``'s column, rebuilt as the run built it; raises
        :class:`SearchError` (one line) when it cannot embed a query into that column."""
        key = source.identity()
        if key not in self._built:
            try:
                self._built[key] = self._build(source)
            except SearchError as exc:
                self._built[key] = exc
        built = self._built[key]
        if isinstance(built, SearchError):
            raise built
        return built

    def _build(self, source: ColumnSource) -> Any:
        from .components import Settings
        from .hookspecs import QueryEmbedder
        from .pipeline import build_component
        from .plugins import load_plugins

        cache = Path(source.cache_dir or "~/.cache/egorag").expanduser()
        settings = Settings(self.device, source.tiny, cache, show_progress=False)
        self._host = self._host or load_plugins()
        try:
            component = build_component(self._host, source.group, source.option,
                                        source.options, settings)  # fmt: skip
        except ConfigError as exc:
            raise SearchError(f"{source.column} was written by {source.selection}, which "
                              f"cannot be rebuilt here: {exc}") from None  # fmt: skip
        if not isinstance(component, QueryEmbedder):
            name = type(component).__name__
            raise SearchError(f"{source.column} was written by {source.selection} ({name}), "
                              "which has no text side: not searchable by words")  # fmt: skip
        problem = other_models(source, component)
        if problem:
            raise SearchError(problem)
        return component

    def query_vector(self, source: ColumnSource, text: str) -> np.ndarray:
        """``text`` embedded by the component that wrote ``source``'s column (float32, the
        column's size)."""
        key = (source.identity(), text)
        if key not in self._vectors:
            rows = np.asarray(self.embedder(source).embed_query([text], self.scheduler))
            dim = self.columns[source.column]
            if rows.shape != (1, dim):
                raise SearchError(f"{source.column}: {source.selection} embeds a query as "
                                  f"{rows.shape[1:]} values, the column holds {dim}")  # fmt: skip
            self._vectors[key] = rows[0].astype(np.float32)
        return self._vectors[key]

    # -- search ---------------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, modality: str = "auto", video: str | None = None,
               after: str | None = None, before: str | None = None) -> list[Hit]:  # fmt: skip
        """The ``k`` best scenes for ``query``; ``video`` (a name or path) restricts the search
        to one video, ``after`` / ``before`` (wall-clock times, ``2026-11-28T15:00``; no zone:
        local time) to the scenes recorded in that range. The restrictions are LanceDB
        prefilters: applied before the top ``k`` is taken. Raises :class:`SearchError` (one
        line) when it cannot be done."""
        query = query.strip()
        if not query:
            raise SearchError('empty query: give the words to search for, e.g. "a red bike"')
        if k < 1:
            raise SearchError(f"--k {k}: give at least 1")
        filters = [f for f in (self.video_filter(video), self.time_filter(after, before)) if f]
        where = " AND ".join(f"({f})" for f in filters) or None
        sources, notes = self.plan(modality)
        if not sources and modality == "auto":
            raise SearchError(f"nothing in {self.path} is searchable by words: {'; '.join(notes)}")
        if not sources:  # each note starts with the modality: "video: ..."
            raise SearchError(f"--modality {notes[0]}")
        depth = k if len(sources) == 1 else max(50, 4 * k)
        best = fused(self.ranked_lists(sources, query, depth, where, k), k)
        shown = self.rows([row["_rowid"] for row, _, _ in best])
        return [_hit({**row, **shown[row["_rowid"]]}, score, label) for row, score, label in best]

    def rows(self, row_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """What the hits show of these rows (one read for them all), by row id."""
        if not row_ids:
            return {}
        taken = self.scenes.take_row_ids(list(row_ids)).select(self.fields).with_row_id()
        return {r["_rowid"]: r for r in taken.to_arrow().to_pylist()}

    def ranked_lists(self, sources: Sequence[Source], query: str, depth: int,
                     where: str | None, k: int | None = None,
                     ) -> list[tuple[Source, list[dict[str, Any]]]]:  # fmt: skip
        """Each source's rows (:meth:`ranked`, reading only what fusion needs). With
        ``concurrent``, at once, in threads (numpy and LanceDB work outside the GIL): each
        model embeds the query once, each list waits for its vector only, the full-text lists
        for nothing."""

        def one(source: Source) -> list[dict[str, Any]]:
            return self.ranked(source, query, depth, where, k, LIST_FIELDS)

        if len(sources) == 1 or not self.concurrent:
            return [(s, one(s)) for s in sources]
        from concurrent.futures import Future, ThreadPoolExecutor

        with ThreadPoolExecutor(len(sources)) as pool:
            vectors: dict[str, Future] = {}  # submitted first: no list waits on a queued one
            for producer in (s.producer for s in sources if s.producer is not None):
                if producer.identity() not in vectors:
                    vectors[producer.identity()] = pool.submit(self.query_vector, producer, query)

            def after_vector(source: Source) -> list[dict[str, Any]]:
                if source.producer is not None:
                    vectors[source.producer.identity()].result()
                return one(source)

            return list(zip(sources, pool.map(after_vector, sources), strict=True))

    def video_filter(self, video: str | None) -> str | None:
        """The filter of the scenes of ``video`` (a name or path, an alias's too)."""
        if video is None:
            return None
        names = self.store.names()
        keys = [k for k, known in names.items() if any(video in pair for pair in known)]
        if not keys:
            listed = sorted({n for known in names.values() for n, _ in known})
            shown = ", ".join(listed[:10]) + (" ..." if len(listed) > 10 else "")
            raise SearchError(f"--video {video}: no such video in the index (videos: {shown})")
        return "key IN (" + ", ".join("'" + k.replace("'", "''") + "'" for k in keys) + ")"

    def time_filter(self, after: str | None, before: str | None) -> str | None:
        """The filter of the scenes that overlap ``[after, before)`` on the wall clock."""
        from .clock import parse_time, sql_time

        if after is None and before is None:
            return None
        if not self.has_clock:
            option = "--after" if after is not None else "--before"
            raise SearchError(f"{option}: {self.path} holds no recording times (encoded before "
                              "egorag kept them): encode again to search by time")  # fmt: skip
        parts = []
        if after is not None:
            parts.append(f"wall_end > {sql_time(parse_time(after, '--after'))}")
        if before is not None:
            parts.append(f"wall_start < {sql_time(parse_time(before, '--before'))}")
        return " AND ".join(parts)

    def ranked(self, source: Source, query: str, depth: int, where: str | None = None,
               k: int | None = None, fields: Sequence[str] | None = None,
               ) -> list[dict[str, Any]]:  # fmt: skip
        """The ``depth`` rows of ``source`` for ``query``, best first, each with its ``score``,
        ``_rowid`` and ``fields`` (default: what a hit shows); a quantised index re-ranks
        ``refine_factor`` x ``k`` candidates (``k``: the hits asked, ``depth`` unless given),
        at least ``depth``."""
        if source.producer is None:
            builder = self.scenes.search(query, query_type="fts", fts_columns=source.column)
            scored = "_score"
        else:
            vector = self.query_vector(source.producer, query)
            builder = self.scenes.search(vector, vector_column_name=source.column)
            builder, scored = builder.distance_type("cosine"), "_distance"
            if self.exact:
                builder = builder.bypass_vector_index()
            else:
                # at least nprobes partitions, more while a narrow filter leaves fewer than k
                builder = builder.minimum_nprobes(self.nprobes).maximum_nprobes(0)
                if source.column in self.quantised:
                    wanted = self.refine_factor * (k or depth)
                    builder = builder.refine_factor(max(1, -(-wanted // depth)))
        filters = [f"({f})" for f in (source.where, where) if f]
        if filters:
            builder = builder.where(" AND ".join(filters), prefilter=True)
        fields = self.fields if fields is None else fields
        builder = builder.select([*fields, scored]).with_row_id(True).limit(depth)
        rows = builder.to_arrow().to_pylist()
        for row in rows:  # BM25 as it is; cosine similarity from the cosine distance
            row["score"] = row["_score"] if scored == "_score" else 1.0 - row["_distance"]
        return rows


def other_models(source: ColumnSource, component: Any) -> str | None:
    """Why ``component`` cannot embed queries for ``source``'s column: a random-weight model
    that wrote it is gone or was built again (other random weights mean nothing); ``None``
    when its models are the ones recorded."""
    from .columns import weights_sha256

    now = {spec.model_id: spec for spec in component.models()}
    if not source.recorded and any(spec.random_weights for spec in now.values()):
        return (f"{source.column} was written with random-weight models (preset=tiny) before "
                "egorag recorded which: not searched; encode again to search it")  # fmt: skip
    for model in source.models:
        if not model.get("random_weights"):
            continue
        same = model["model_id"] in now
        if not same or weights_sha256(model["model_id"]) != model.get("weights_sha256"):
            return (f"{source.column} was written by random-weight model {model['model_id']} "
                    "(preset=tiny), which is gone or was built again since: other random "
                    "weights would mean nothing; encode again to search it")  # fmt: skip
    return None


def tied_ranks(rows: Sequence[dict[str, Any]]) -> list[int]:
    """1-based ranks of rows sorted best first, rows of equal score sharing the best rank: a
    list that scores scenes alike (a caption every scene shares) then favours none of them."""
    ranks: list[int] = []
    for i, row in enumerate(rows):
        same = i > 0 and abs(float(row["score"]) - float(rows[i - 1]["score"])) <= 1e-6
        ranks.append(ranks[-1] if same else i + 1)
    return ranks


def fuse(lists: Sequence[tuple[Source, list[dict[str, Any]]]], k: int) -> list[Hit]:
    """One list keeps its own scores; several are fused by reciprocal rank fusion (rows of
    equal score share a rank)."""
    return [_hit(row, score, label) for row, score, label in fused(lists, k)]


def fused(lists: Sequence[tuple[Source, list[dict[str, Any]]]],
          k: int) -> list[tuple[dict[str, Any], float, str]]:  # fmt: skip
    """The ``k`` best rows of :func:`fuse`, each with its score and the lists that found it."""
    if len(lists) == 1:
        source, rows = lists[0]
        return [(row, float(row["score"]), source.label) for row in rows[:k]]
    scores: dict[Any, float] = {}
    labels: dict[Any, list[tuple[int, str]]] = {}
    rows_by_scene: dict[Any, dict[str, Any]] = {}
    for source, rows in lists:
        for rank, row in zip(tied_ranks(rows), rows, strict=True):
            scene = row["_rowid"] if "_rowid" in row else (row["key"], int(row["scene_index"]))
            scores[scene] = scores.get(scene, 0.0) + 1.0 / (RRF_K + rank)
            labels.setdefault(scene, []).append((rank, source.label))
            rows_by_scene.setdefault(scene, row)
    best = sorted(scores, key=lambda s: (-scores[s], s))[:k]
    out = []
    for scene in best:
        names = list(dict.fromkeys(label for _, label in sorted(labels[scene])))
        out.append((rows_by_scene[scene], scores[scene], "+".join(names)))
    return out


def _hit(row: dict[str, Any], score: float, modality: str) -> Hit:
    return Hit(
        row["video_name"], row["video_path"], float(row["start"]), float(row["end"]), score,
        modality, row["transcript"] or "", row["caption_text"] or "", int(row["scene_index"]),
        row["key"], (row.get("ocr_text") or "") if "ocr_text" in row else None,
        local_text(row["wall_start"]) if row.get("wall_start") else None,
    )  # fmt: skip


def search(index: str | Path | SearchIndex, query: str, k: int = 5, modality: str = "auto",
           video: str | None = None, device: str = "cpu", after: str | None = None,
           before: str | None = None) -> list[Hit]:  # fmt: skip
    """The ``k`` scenes of the index (a folder, or an open :class:`SearchIndex`, which keeps
    its models loaded between queries) that best match ``query``. ``modality``: ``auto`` (every
    list fused), ``text``, ``caption``, ``transcript``, ``video``, ``audio`` or ``ocr``;
    ``video``, ``after`` and ``before`` restrict it (:meth:`SearchIndex.search`)."""
    engine = index if isinstance(index, SearchIndex) else SearchIndex(index, device)
    return engine.search(query, k, modality, video, after, before)


def clock(seconds: float) -> str:
    """``h:mm:ss.s``."""
    tenths = int(round(seconds * 10))
    hours, rest = divmod(tenths, 36000)
    minutes, rest = divmod(rest, 600)
    return f"{hours}:{minutes:02d}:{rest / 10:04.1f}"


def snippet(text: str, width: int = 90) -> str:
    """``text`` on one line, cut to ``width`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3].rstrip() + "..."


def matched_lines(text: str, query: str, most: int = 2) -> list[str]:
    """The lines of ``text`` sharing the most words with ``query`` (at most ``most``, in their
    order); the first lines when none shares a word."""
    wanted = {w for w in re.findall(r"\w+", query.casefold())}
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    shared = [len(wanted & set(re.findall(r"\w+", line.casefold()))) for line in lines]
    best = sorted(range(len(lines)), key=lambda i: -shared[i])[:most]
    return [lines[i] for i in sorted(best)] if any(shared) else lines[:most]


def format_hits(hits: Sequence[Hit], query: str = "") -> str:
    """The hits as the CLI prints them (with the text read in frames that matches ``query``)."""
    if not hits:
        return "no hits"
    lines = []
    for i, hit in enumerate(hits, 1):
        when = f"  ({hit.wall_time})" if hit.wall_time else ""
        lines.append(f"{i}. {hit.video_name}  {clock(hit.start)}-{clock(hit.end)}{when}  "
                     f"score {hit.score:.4f}  [{hit.modality}]")  # fmt: skip
        if hit.transcript.strip():
            lines.append(f"   transcript: {snippet(hit.transcript)}")
        if hit.caption_text.strip():
            lines.append(f"   caption:    {snippet(hit.caption_text)}")
        if hit.ocr_text and hit.ocr_text.strip():
            read = " | ".join(matched_lines(hit.ocr_text, query))
            lines.append(f"   in frame:   {snippet(read)}")
    return "\n".join(lines)
