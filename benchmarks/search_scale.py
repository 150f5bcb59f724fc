"""Benchmark: ``egorag search`` on indexes of 100 k and 1 M scenes.

The index is egorag's own (the ``scenes``, ``videos`` and ``columns`` tables with the columns
and types a run writes: the schema is checked against a video committed by ``LanceStore``),
filled with vectors that have real structure: all-MiniLM-L6-v2 embeddings (the packaged
weights) of a few thousand distinct generated transcript sentences and captions, each reused
by many scenes with a perturbation (a random vector of norm ``--noise`` added, then scaled back
to unit length). ``text_vector``/``audio_vector`` follow the scene's sentence and
``caption_vector``/``video_vector`` its caption; the 512-d video and audio vectors are the
384-d embeddings through fixed random projections. Transcripts and captions are the sentences,
so the full-text lists have real words too. 1000 scenes of 30 s per video; one video every
12 hours of wall clock.

The ANN and full-text indexes are built by ``LanceStore.maintain()`` (what a run does when a
column passes ``min_rows``). Then, in a fresh process: per modality and for ``auto``, p50/p95
of warm ``SearchIndex.search`` (query embedding included: by the packaged MiniLM's numpy path;
video and audio queries through the same projections, for want of real X-CLIP/CLAP weights
here), recall@10 of each vector list against the exact search of the same query vector, and
the same with a ``--after/--before`` prefilter. Last, cold ``egorag search`` processes (their
wall time, and whether torch was imported). Build and query phases run under
``/usr/bin/time -v`` for their peak RSS.

    nice -n 19 .venv/bin/python benchmarks/search_scale.py --rows 100000 --out /tmp/scale-100k
    nice -n 19 .venv/bin/python benchmarks/search_scale.py --rows 1000000 --out /tmp/scale-1m
    # the same rows (a copy of --out), vector indexes built again as another kind
    nice -n 19 .venv/bin/python benchmarks/search_scale.py --rows 100000 --out /tmp/hnsw \
        --reindex --kind IVF_HNSW_SQ
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_long import checkout, egorag_cli, machine  # noqa: E402

SCENES_PER_VIDEO = 1000
SCENE_SECONDS = 30.0
FINGERPRINT = "benchfp0000000000"
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
SUBJECTS = ["I", "my sister", "the old neighbour", "a courier", "the teacher", "my friend Sam",
            "the barista", "a small child", "the mechanic", "grandma", "the doctor", "a tourist"]
ACTIONS = ["left", "found", "bought", "dropped", "painted", "repaired", "forgot", "carried",
           "washed", "ordered", "hid", "lent", "photographed", "returned", "broke", "wrapped"]
OBJECTS = ["the car keys", "a red umbrella", "the blue bicycle", "two train tickets",
           "a birthday cake", "the laptop charger", "a bag of oranges", "the kitchen scissors",
           "my passport", "a wool scarf", "the garden hose", "a box of photographs",
           "the phone", "a bottle of olive oil", "the guitar", "a stack of letters"]
PLACES = ["in the kitchen", "at the station", "on the balcony", "at the office", "in the car",
          "at the market", "by the river", "in the garage", "at the cafe", "in the park",
          "at the library", "on the bus", "in the bathroom", "at the pharmacy"]
WHEN = ["this morning", "after lunch", "last night", "before the meeting", "on Sunday",
        "at dawn", "during the storm", "yesterday"]
SCENE_OF = ["a person holding", "a table with", "a close view of", "a hand reaching for",
            "a shelf holding", "someone looking at", "a blurry shot of", "a bright room with"]
LIGHT = ["in daylight", "at night", "in the rain", "under a lamp", "seen from above",
         "seen from the doorway"]


def sentences(count: int, seed: int, caption: bool = False) -> list[str]:
    """``count`` distinct generated transcript sentences (or captions)."""
    rng = np.random.default_rng(seed)
    kinds = [SCENE_OF, OBJECTS, PLACES, LIGHT] if caption else [SUBJECTS, ACTIONS, OBJECTS,
                                                                PLACES, WHEN]  # fmt: skip
    assert count <= np.prod([len(k) for k in kinds]), "fewer combinations than asked for"
    out: dict[str, None] = {}
    while len(out) < count:
        o, p = OBJECTS[rng.integers(len(OBJECTS))], PLACES[rng.integers(len(PLACES))]
        if caption:
            text = f"{SCENE_OF[rng.integers(len(SCENE_OF))]} {o} {p} {LIGHT[rng.integers(6)]}"
        else:
            s, a, w = (x[rng.integers(len(x))] for x in (SUBJECTS, ACTIONS, WHEN))
            text = f"{s} {a} {o} {p} {w}"
        out[text] = None
    return list(out)


def minilm() -> Any:
    """The packaged all-MiniLM-L6-v2 as the text encoder's numpy query path runs it."""
    from egorag_minilm.encoder import packaged_model_path
    from egorag_minilm.numpy_bert import NumpyBert

    return NumpyBert(packaged_model_path(), "mean", 256)


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def projections() -> dict[str, np.ndarray]:
    """The fixed 384 -> 512 maps giving the video (from captions) and audio (from sentences)
    vectors."""
    rng = np.random.default_rng(7)
    return {m: (rng.standard_normal((384, 512)) / np.sqrt(384)).astype(np.float32)
            for m in ("video", "audio")}  # fmt: skip


def topics(out: Path, count: int) -> dict[str, Any]:
    """The distinct sentences and captions and their embeddings (cached in ``out``)."""
    cache = out / "topics.npz"
    texts, captions = sentences(count, 1), sentences(count, 2, caption=True)
    if cache.is_file():
        held = np.load(cache)
        return {"texts": texts, "captions": captions, "text": held["text"],
                "caption": held["caption"]}  # fmt: skip
    model = minilm()
    text = np.concatenate([model.embed(texts[i:i + 64]) for i in range(0, count, 64)])
    caption = np.concatenate([model.embed(captions[i:i + 64]) for i in range(0, count, 64)])
    np.savez(cache, text=text, caption=caption)
    return {"texts": texts, "captions": captions, "text": text, "caption": caption}


def vector_array(rows: np.ndarray) -> pa.Array:
    return pa.FixedSizeListArray.from_arrays(pa.array(rows.reshape(-1)), rows.shape[1])


def scene_batch(first_video: int, videos: int, t: dict[str, Any], noise: float,
                rng: np.random.Generator) -> pa.Table:  # fmt: skip
    """The ``scenes`` rows of ``videos`` videos, numbered from ``first_video``."""
    n = videos * SCENES_PER_VIDEO
    which_text = rng.integers(len(t["texts"]), size=n)
    which_caption = rng.integers(len(t["captions"]), size=n)
    proj = projections()

    def perturbed(base: np.ndarray) -> np.ndarray:
        jitter = rng.standard_normal(base.shape).astype(np.float32)
        return unit(base + noise * unit(jitter))

    video_ids = np.repeat(np.arange(first_video, first_video + videos), SCENES_PER_VIDEO)
    index = np.tile(np.arange(SCENES_PER_VIDEO), videos)
    starts = index * SCENE_SECONDS
    began = [START + dt.timedelta(hours=12 * int(v)) for v in video_ids]
    wall = pa.timestamp("us", tz="UTC")
    return pa.table({
        "key": [f"bench{v:06d}-{FINGERPRINT}" for v in video_ids],
        "video_name": [f"day{v:06d}" for v in video_ids],
        "video_path": [f"/footage/day{v:06d}.mp4" for v in video_ids],
        "scene_index": pa.array(index, type=pa.int32()),
        "start": pa.array(starts, type=pa.float64()),
        "end": pa.array(starts + SCENE_SECONDS, type=pa.float64()),
        "transcript": [t["texts"][i] for i in which_text],
        "caption_text": [t["captions"][i] for i in which_caption],
        "extras": ["{}"] * n,
        "video_vector": vector_array(perturbed(t["caption"][which_caption] @ proj["video"])),
        "audio_vector": vector_array(perturbed(t["text"][which_text] @ proj["audio"])),
        "text_vector": vector_array(perturbed(t["text"][which_text])),
        "caption_vector": vector_array(perturbed(t["caption"][which_caption])),
        "wall_start": pa.array([b + dt.timedelta(seconds=float(s)) for b, s in
                                zip(began, starts, strict=True)], type=wall),
        "wall_end": pa.array([b + dt.timedelta(seconds=float(s) + SCENE_SECONDS) for b, s in
                              zip(began, starts, strict=True)], type=wall),
    })  # fmt: skip


def video_rows(videos: int) -> pa.Table:
    """The ``videos`` rows (global vectors left out: search does not read them)."""
    n = range(videos)
    return pa.table({
        "key": [f"bench{v:06d}-{FINGERPRINT}" for v in n],
        "content_hash": [f"bench{v:06d}" for v in n],
        "config_fingerprint": [FINGERPRINT] * videos,
        "video_name": [f"day{v:06d}" for v in n], "video_path": [f"/footage/day{v:06d}.mp4"
                                                                 for v in n],
        "duration": pa.array([SCENES_PER_VIDEO * SCENE_SECONDS] * videos, type=pa.float64()),
        "has_audio": [True] * videos,
        "num_scenes": pa.array([SCENES_PER_VIDEO] * videos, type=pa.int32()),
        "encoded_at": [dt.datetime.now(dt.timezone.utc).isoformat()] * videos,
        "config": ["{}"] * videos, "same_as": pa.array([None] * videos, type=pa.string()),
        "recorded_at": pa.array([START + dt.timedelta(hours=12 * v) for v in n],
                                type=pa.timestamp("us", tz="UTC")),
    })  # fmt: skip


def column_records() -> list[dict[str, Any]]:
    """``columns`` rows: text and caption written by ``text=minilm`` (the packaged model, so
    ``egorag search`` embeds queries with it); video and audio by this benchmark's projection
    (not a component egorag can rebuild: the CLI says so and leaves them out)."""
    from egorag_core.columns import ColumnSource, model_records
    from egorag_core.components import Settings
    from egorag_core.options import options_dict, options_file, read_options_file
    from egorag_minilm.encoder import SentenceTextEncoder

    raw = read_options_file(options_file("egorag_minilm.encoder", "text", "minilm"))
    encoder = SentenceTextEncoder(raw, Settings(), group="text")
    encoder.check()
    text = [ColumnSource(c, FINGERPRINT, "text", "minilm", options_dict(encoder.options), False,
                         "", "egorag_minilm.encoder:SentenceTextEncoder", model_records(encoder),
                         384) for c in ("text_vector", "caption_vector")]  # fmt: skip
    other = [ColumnSource(f"{m}_vector", FINGERPRINT, stage, "bench-projection", {}, False, "",
                          "search_scale:projection", (), 512)
             for m, stage in (("video", "video"), ("audio", "audio.embedding"))]  # fmt: skip
    return [s.to_row() for s in text + other]


def store_schema(out: Path) -> pa.Schema:
    """The ``scenes`` schema ``LanceStore.commit`` writes for a video with these vectors."""
    from egorag_core.data import Scene, SceneEncoding, VideoDatapoint
    from egorag_core.store import LanceStore

    vec = {m: np.ones(d, np.float32) / np.sqrt(d) for m, d in
           (("video", 512), ("audio", 512), ("text", 384), ("caption", 384))}  # fmt: skip
    point = VideoDatapoint("/x.mp4", "x", [Scene(0, 1)], scene_embeddings=[SceneEncoding(
        **vec, transcript="a", caption_text="b")], has_audio=True, duration=1.0,
        recorded_at="2026-01-01T00:00:00Z")  # fmt: skip
    store = LanceStore(out / "schema-check")
    store.commit("x-fp", point, "x", "fp", {})
    written = store.table("scenes").schema
    shutil.rmtree(out / "schema-check")
    return written


def conform(batch: pa.Table, schema: pa.Schema) -> pa.Table:
    """``batch`` in the store's column order; columns it lacks (what the benchmark does not
    model, e.g. ``keyframe_times``) as nulls; a column the store does not write is an error."""
    extra = set(batch.schema.names) - set(schema.names)
    assert not extra, f"the store writes no {extra}"
    columns = [batch.column(f.name) if f.name in batch.schema.names else
               pa.nulls(len(batch), f.type) for f in schema]  # fmt: skip
    for field in schema:
        if field.name in batch.schema.names:
            assert batch.schema.field(field.name).type == field.type, field
    return pa.Table.from_arrays(columns, schema=schema)


def build(out: Path, rows: int, distinct: int, noise: float, min_rows: int, kind: str) -> dict:
    """Write the index and build its indexes; timings and sizes."""
    import lancedb

    from egorag_core.store import LanceStore
    from egorag_core.vector_index import IndexSettings

    t = topics(out, distinct)
    index = out / "index"
    shutil.rmtree(index, ignore_errors=True)
    db = lancedb.connect(str(index))
    videos = rows // SCENES_PER_VIDEO
    rng = np.random.default_rng(0)
    start, table, per = time.perf_counter(), None, 50
    schema = store_schema(out)
    for first in range(0, videos, per):
        batch = conform(scene_batch(first, min(per, videos - first), t, noise, rng), schema)
        if table is None:
            table = db.create_table("scenes", data=batch)
        else:
            table.add(batch)
    db.create_table("videos", data=video_rows(videos))
    db.create_table("columns", data=pa.Table.from_pylist(column_records()))
    written = time.perf_counter() - start
    store = LanceStore(index, create=False, index=IndexSettings(min_rows=min_rows, kind=kind))
    start = time.perf_counter()
    done = store.maintain()
    built = time.perf_counter() - start
    size = sum(f.stat().st_size for f in index.rglob("*") if f.is_file())
    return {"rows": rows, "videos": videos, "write_s": written, "index_s": built,
            "done": done, "disk_bytes": size}  # fmt: skip


def reindex(out: Path, min_rows: int, kind: str) -> dict:
    """Drop the vector indexes of the index in ``out`` and build them again as ``kind``."""
    from egorag_core.store import LanceStore
    from egorag_core.vector_index import IndexSettings, indexed_columns

    store = LanceStore(out / "index", create=False,
                       index=IndexSettings(min_rows=min_rows, kind=kind))  # fmt: skip
    table = store.table("scenes")
    for column, name in indexed_columns(table).items():
        if column.endswith("_vector"):
            table.drop_index(name)
    start = time.perf_counter()
    done = store.maintain()
    size = sum(f.stat().st_size for f in (out / "index").rglob("*") if f.is_file())
    return {"rows": table.count_rows(), "index_s": time.perf_counter() - start, "done": done,
            "disk_bytes": size}  # fmt: skip


class ProjectionQuery:
    """Video/audio queries: the MiniLM query embedding through the benchmark's projection."""

    def __init__(self, matrix: np.ndarray):
        self.matrix, self.model = matrix, minilm()

    def embed_query(self, texts: list[str], scheduler: Any) -> np.ndarray:
        return unit(self.model.embed(texts) @ self.matrix)


def open_index(out: Path) -> Any:
    """A ``SearchIndex`` whose video/audio columns are embedded by :class:`ProjectionQuery`."""
    from egorag_core.retrieval import SearchIndex

    class BenchIndex(SearchIndex):
        def embedder(self, source: Any) -> Any:
            if source.option == "bench-projection":
                key = source.column
                if key not in self._built:
                    self._built[key] = ProjectionQuery(projections()[key.split("_")[0]])
                return self._built[key]
            return super().embedder(source)

    return BenchIndex(out / "index")


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {"p50_ms": statistics.median(ms), "p95_ms": ms[min(len(ms) - 1, int(0.95 * len(ms)))]}


def timed_searches(index: Any, queries: list[str], modality: str, rounds: int = 1,
                   **filters: Any) -> dict:  # fmt: skip
    """p50/p95 of ``index.search`` over ``queries`` asked ``rounds`` times over (the query
    embedding included each time)."""
    index.search(queries[0], 10, modality, **filters)  # warm: models, caches
    seconds = []
    for query in queries * rounds:
        index._vectors.clear()
        start = time.perf_counter()
        index.search(query, 10, modality, **filters)
        seconds.append(time.perf_counter() - start)
    return {**percentiles(seconds), "n": len(seconds)}


def recall(index: Any, queries: list[str], where: str | None = None,
           depth: int = 10) -> dict[str, float]:  # fmt: skip
    """Per vector list: the share of the exact top 10 that the ANN search's top 10 holds, the
    list searched ``depth`` deep for 10 hits (50: as ``auto`` searches it)."""
    sources, _ = index.plan("auto")
    out = {}
    for source in (s for s in sources if s.producer is not None):
        found = []
        for query in queries:
            index.exact = True
            exact = {(r["key"], r["scene_index"]) for r in index.ranked(source, query, 10, where)}
            index.exact = False
            rows = index.ranked(source, query, depth, where, 10)[:10]
            ann = {(r["key"], r["scene_index"]) for r in rows}
            if exact:
                found.append(len(exact & ann) / len(exact))
        out[source.label] = float(np.mean(found))
    return out


def query_set(count: int, seed: int) -> list[str]:
    """``count`` queries, transcript-like and caption-like in turn."""
    texts = sentences(count, seed) + sentences(count, seed + 1, caption=True)
    return [texts[i // 2 + (i % 2) * count] for i in range(count)]


def query_phase(out: Path, count: int, nprobes: int, refine: int, rounds: int) -> dict:
    """Latency per modality; ``auto`` three ways: queries no list has seen (the partitions
    they probe read now, unless an earlier query read them), the query set's first ``auto``
    pass (after each single list has searched it), and warm: ``rounds`` more passes."""
    index = open_index(out)
    index.nprobes, index.refine_factor = nprobes, refine
    queries = query_set(count, 11)
    result: dict[str, Any] = {"latency": {}, "nprobes": nprobes, "refine_factor": refine}
    for modality in ("text", "caption", "video", "audio", "transcript"):
        result["latency"][modality] = timed_searches(index, queries, modality)
    latency = result["latency"]
    latency["auto, new queries"] = timed_searches(index, query_set(count, 31), "auto")
    latency["auto, first pass"] = timed_searches(index, queries, "auto")
    latency["auto"] = timed_searches(index, queries, "auto", rounds)
    videos = index.scenes.count_rows() // SCENES_PER_VIDEO  # one every 12 h: a week mid-way
    middle = START + dt.timedelta(hours=6 * videos)
    week = {"after": middle.isoformat(), "before": (middle + dt.timedelta(days=7)).isoformat()}
    result["week"] = week
    result["latency"]["auto, one week (prefilter)"] = timed_searches(index, queries, "auto",
                                                                     **week)  # fmt: skip
    result["recall_at_10"] = recall(index, queries)
    result["recall_at_10_as_auto_lists"] = recall(index, queries, depth=50)
    result["recall_at_10_one_week"] = recall(index, queries, index.time_filter(**week))
    return result


def cold_cli(out: Path, runs: int) -> dict:
    """Wall seconds of fresh ``egorag search`` processes, and whether any imported torch."""
    seconds, torch = [], False
    for i in range(runs):
        query = sentences(runs, 21)[i]
        start = time.perf_counter()
        proc = subprocess.run([egorag_cli(), "search", query, "--index", str(out / "index")],
                              capture_output=True, text=True)  # fmt: skip
        seconds.append(time.perf_counter() - start)
        assert proc.returncode == 0, proc.stderr
    probe = subprocess.run([sys.executable, "-X", "importtime", "-m", "egorag_core.cli",
                            "search", "keys", "--index", str(out / "index")],
                           capture_output=True, text=True)  # fmt: skip
    torch = bool(re.search(r"\|\s+torch$", probe.stderr, re.M))
    return {"wall_s": seconds, "median_s": statistics.median(seconds), "torch": torch}


def under_time(args: list[str]) -> tuple[dict, int]:
    """Run this script's ``args`` phase under /usr/bin/time -v: its JSON and peak RSS (KiB)."""
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, __file__, *args],
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return json.loads(proc.stdout.strip().splitlines()[-1]), peak


def main() -> None:
    from egorag_core.vector_index import NPROBES, REFINE_FACTOR, IndexSettings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/egorag-search-scale"))
    parser.add_argument("--distinct", type=int, default=4000, help="sentences and captions")
    parser.add_argument("--noise", type=float, default=0.5, help="perturbation norm")
    parser.add_argument("--min-rows", type=int, default=100_000, help="ANN index threshold")
    parser.add_argument("--kind", default=IndexSettings.kind)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="warm auto passes of the queries")
    parser.add_argument("--nprobes", type=int, default=None)
    parser.add_argument("--refine-factor", type=int, default=None)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--skip-build", action="store_true", help="reuse the index in --out")
    parser.add_argument("--reindex", action="store_true",
                        help="reuse the rows in --out; build the vector indexes again as --kind")
    parser.add_argument("--phase", choices=["build", "query"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    nprobes, refine = args.nprobes or NPROBES, args.refine_factor or REFINE_FACTOR
    if args.phase == "build" and args.reindex:
        print(json.dumps(reindex(args.out, args.min_rows, args.kind)))
        return
    if args.phase == "build":
        print(json.dumps(build(args.out, args.rows, args.distinct, args.noise, args.min_rows,
                               args.kind)))  # fmt: skip
        return
    if args.phase == "query":
        print(json.dumps(query_phase(args.out, args.queries, nprobes, refine, args.rounds)))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"machine": machine(), "checkout": checkout(),
                              "command": " ".join(sys.argv)}  # fmt: skip
    common = ["--out", str(args.out), "--rows", str(args.rows)]
    if not args.skip_build:
        report["build"], report["build_peak_rss_kib"] = under_time(
            common + ["--phase", "build", "--distinct", str(args.distinct), "--noise",
                      str(args.noise), "--min-rows", str(args.min_rows), "--kind", args.kind]
            + (["--reindex"] if args.reindex else []))
    report["query"], report["query_peak_rss_kib"] = under_time(
        common + ["--phase", "query", "--queries", str(args.queries), "--rounds", str(args.rounds),
                  "--nprobes", str(nprobes), "--refine-factor", str(refine)])  # fmt: skip
    report["cold_cli"] = cold_cli(args.out, args.cold_runs)
    text = json.dumps(report, indent=2, default=str)
    (args.out / f"report-{args.rows}-{args.kind}.json").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
