"""The LanceDB index: round trip, column types, skip on rerun, no duplicates."""

from __future__ import annotations

import shutil

import lancedb
import numpy as np
import pyarrow as pa
import pytest
from cli_helpers import FAST, compose_and_run

from egorag_core.data import Scene, SceneEncoding, VideoDatapoint, VideoDataset
from egorag_core.store import (
    LanceStore,
    StoreError,
    config_fingerprint,
    content_hash,
)


def point(name: str, n: int, dim: int = 6, with_text: bool = True) -> VideoDatapoint:
    rng = np.random.default_rng(len(name) + n)
    scenes = [Scene(float(i), float(i + 1)) for i in range(n)]
    encodings = [
        SceneEncoding(
            video=rng.random(dim, dtype=np.float32),
            text=rng.random(4, dtype=np.float32) if with_text else None,
            caption=None,
            audio=rng.random(3, dtype=np.float32) if i % 2 == 0 else None,
            transcript=f"words {i} of {name}",
            caption_text=f"caption {i}",
            extras={"events": [["speech", 0.5, i, i + 1]]},
        )
        for i in range(n)
    ]
    p = VideoDatapoint(f"/videos/{name}.mp4", name, scenes=scenes, scene_embeddings=encodings,
                       has_audio=True, duration=float(n))  # fmt: skip
    p.compute_global_embeddings()
    return p


def commit(store: LanceStore, p: VideoDatapoint, key: str | None = None) -> str:
    key = key or f"hash-{p.video_name}-fp"
    store.commit(key, p, f"hash-{p.video_name}", "fp", {"video": {"name": "x"}})
    return key


def assert_same(a: VideoDatapoint, b: VideoDatapoint) -> None:
    assert (a.video_name, a.video_path, a.has_audio, a.duration) == (
        b.video_name, b.video_path, b.has_audio, b.duration)  # fmt: skip
    assert a.scenes == b.scenes
    assert len(a.scene_embeddings) == len(b.scene_embeddings)
    for x, y in zip(a.scene_embeddings, b.scene_embeddings, strict=True):
        for m in ("video", "audio", "text", "caption"):
            vx, vy = getattr(x, m), getattr(y, m)
            assert (vx is None) == (vy is None), m
            if vx is not None:
                np.testing.assert_array_equal(vx, vy)
                assert vy.dtype == np.float32
        assert (x.transcript, x.caption_text, x.extras) == (y.transcript, y.caption_text,
                                                            y.extras)  # fmt: skip
    assert set(a.global_embeddings) == set(b.global_embeddings)
    for m, v in a.global_embeddings.items():
        np.testing.assert_allclose(v, b.global_embeddings[m], rtol=1e-6)


def test_commit_read_round_trip(tmp_path):
    store = LanceStore(tmp_path / "index")
    assert store.done_keys() == set()
    assert len(store.read()) == 0
    a, b = point("a", 3), point("b", 2, with_text=False)
    ka, kb = commit(store, a), commit(store, b)
    assert store.done_keys() == {ka, kb}
    # a fresh handle on the same folder sees both
    back = {p.video_name: p for p in LanceStore(tmp_path / "index").read()}
    assert set(back) == {"a", "b"}
    assert_same(a, back["a"])
    assert_same(b, back["b"])
    assert "caption" not in back["a"].global_embeddings


def test_vector_columns_fixed_size_and_readable_with_pyarrow_pandas(tmp_path):
    store = LanceStore(tmp_path / "index")
    commit(store, point("a", 3))
    commit(store, point("b", 2))
    db = lancedb.connect(str(tmp_path / "index"))
    scenes = db.open_table("scenes").to_arrow()
    assert isinstance(scenes, pa.Table)
    field = scenes.schema.field("video_vector")
    assert pa.types.is_fixed_size_list(field.type)
    assert field.type.list_size == 6
    assert field.type.value_type == pa.float32()
    assert scenes.schema.field("audio_vector").type.list_size == 3
    assert scenes.schema.field("text_vector").type.list_size == 4
    assert scenes.num_rows == 5
    videos = db.open_table("videos").to_arrow()
    assert videos.schema.field("video_vector").type.list_size == 6
    assert videos.num_rows == 2
    df = scenes.to_pandas()
    assert list(df.sort_values(["video_name", "scene_index"])["scene_index"]) == [0, 1, 2, 0, 1]
    row = df[(df.video_name == "a") & (df.scene_index == 0)].iloc[0]
    np.testing.assert_allclose(np.asarray(row["video_vector"]),
                               point("a", 3).scene_embeddings[0].video)  # fmt: skip
    assert row["transcript"] == "words 0 of a"
    assert df[(df.video_name == "a") & (df.scene_index == 1)].iloc[0]["audio_vector"] is None
    vdf = db.open_table("videos").to_pandas()
    assert set(vdf.columns) >= {"key", "content_hash", "config_fingerprint", "video_name",
                                "video_path", "duration", "has_audio", "num_scenes"}  # fmt: skip
    # LanceDB can search the vector column
    hits = db.open_table("scenes").search(point("a", 3).scene_embeddings[1].video,
                                          vector_column_name="video_vector").limit(1).to_list()
    assert hits[0]["video_name"] == "a" and hits[0]["scene_index"] == 1


def test_vector_size_mismatch_is_store_error(tmp_path):
    store = LanceStore(tmp_path / "index")
    commit(store, point("a", 2, dim=6))
    with pytest.raises(StoreError, match="video_vector"):
        commit(store, point("b", 2, dim=7))
    assert store.done_keys() == {"hash-a-fp"}


def test_recommit_after_interrupted_write_leaves_no_duplicates(tmp_path):
    """Scenes written but no videos row (a kill between the two): the rerun replaces them."""
    store = LanceStore(tmp_path / "index")
    a = point("a", 3)
    store._write("scenes", _scene_rows_like_commit(store, a, "k"))
    assert store.done_keys() == set()
    commit(store, a, key="k")
    db = lancedb.connect(str(tmp_path / "index"))
    assert db.open_table("scenes").count_rows() == 3
    assert [p.video_name for p in store.read()] == ["a"]


def _scene_rows_like_commit(store: LanceStore, p: VideoDatapoint, key: str) -> pa.Table:
    tmp = LanceStore(store.path.parent / "scratch")
    tmp.commit(key, p, "h", "fp", {})
    return lancedb.connect(str(tmp.path)).open_table("scenes").to_arrow()


def test_content_hash_and_fingerprint(tmp_path):
    a = tmp_path / "a.bin"
    a.write_bytes(b"x" * 3_000_000)
    b = tmp_path / "b.bin"
    b.write_bytes(b"x" * 2_999_999 + b"y")
    assert content_hash(a) == content_hash(a)
    assert content_hash(a) != content_hash(b)
    assert config_fingerprint({"video": {"bins": 8}}) == config_fingerprint({"video": {"bins": 8}})
    assert config_fingerprint({"video": {"bins": 8}}) != config_fingerprint({"video": {"bins": 4}})


def test_rerun_skips_finished_videos(tmp_path, multi_scene_video, noaudio_video):
    overrides = [*FAST, "scenes=fixed", "scenes.seconds=2"]
    first = compose_and_run(overrides, VideoDataset.from_path(multi_scene_video), tmp_path)
    assert [v.status for v in first.report.videos] == ["ok"]
    dataset = VideoDataset([VideoDatapoint(str(multi_scene_video), "multi"),
                            VideoDatapoint(str(noaudio_video), "noaudio")])  # fmt: skip
    second = compose_and_run(overrides, dataset, tmp_path)
    statuses = {v.video_name: (v.status, v.reason) for v in second.report.videos}
    assert statuses["multi"] == ("skipped", "already in the index")
    assert statuses["noaudio"][0] == "ok"
    report = second.report.as_dict()
    assert report["counts"] == {"ok": 1, "skipped": 1, "failed": 0}
    assert [p.video_name for p in second.dataset] == ["noaudio"]
    stored = LanceStore(tmp_path / "index").read()
    assert sorted(p.video_name for p in stored) == ["multi", "noaudio"]
    # another config is another key: not skipped
    third = compose_and_run([*FAST, "scenes=fixed", "scenes.seconds=4"],
                            VideoDataset.from_path(multi_scene_video), tmp_path)  # fmt: skip
    assert [v.status for v in third.report.videos] == ["ok"]


def test_same_file_listed_twice_is_stored_once(tmp_path, noaudio_video):
    dataset = VideoDataset([VideoDatapoint(str(noaudio_video), "first"),
                            VideoDatapoint(str(noaudio_video), "second"),
                            VideoDatapoint(str(noaudio_video), "first")])  # fmt: skip
    outcome = compose_and_run([*FAST, "scenes=fixed", "scenes.seconds=2"], dataset, tmp_path)
    assert outcome.failed == 0
    reasons = [(v.status, v.reason) for v in outcome.report.videos]
    assert reasons == [("ok", ""), ("skipped", f"same content as {noaudio_video} (first)"),
                       ("skipped", "listed twice; encoded once")]  # fmt: skip
    db = lancedb.connect(str(tmp_path / "index"))
    videos = db.open_table("videos").to_pandas()
    scenes = db.open_table("scenes").to_pandas()
    assert videos["key"].nunique() == 1 and list(videos.video_name) == ["first", "second"]
    assert len(scenes) == 2
    store = LanceStore(tmp_path / "index")
    assert [p.video_name for p in store.read()] == ["first"]  # one video, stored once
    found = store.find("second")
    assert found is not None and found.video_name == "first" and len(found.scenes) == 2


@pytest.fixture()
def two_names(tmp_path, noaudio_video):
    """The same bytes under two file names."""
    folder = tmp_path / "files"
    folder.mkdir()
    a, b = folder / "kitchen.mp4", folder / "copy of kitchen.mp4"
    shutil.copy(noaudio_video, a)
    shutil.copy(noaudio_video, b)
    return a, b


def test_same_content_under_two_names_keeps_both_names(tmp_path, two_names):
    """Encoded once; the second is "same content as <first path>" and found by its own name
    and path, in this run and on a rerun."""
    a, b = two_names
    args = [*FAST, "scenes=fixed", "scenes.seconds=2"]
    first = compose_and_run(args, VideoDataset.from_path(a.parent), tmp_path / "out")
    reasons = {v.video_name: (v.status, v.reason) for v in first.report.videos}
    assert reasons == {"copy of kitchen": ("ok", ""),
                       "kitchen": ("skipped", f"same content as {b}")}  # fmt: skip
    store = LanceStore(tmp_path / "out" / "index")
    assert len(store.read()) == 1
    for name in ("kitchen", str(a), "copy of kitchen", str(b)):
        found = store.find(name)
        assert found is not None and found.video_path == str(b), name
        assert [s.start for s in found.scenes] == [0.0, 2.0]
    assert store.find("nothing") is None
    again = compose_and_run(args, VideoDataset.from_path(a.parent), tmp_path / "out")
    assert {v.reason for v in again.report.videos} == {"already in the index"}
    assert lancedb.connect(str(store.path)).open_table("videos").count_rows() == 2


def test_content_indexed_earlier_under_another_name(tmp_path, two_names):
    """A later run lists the same bytes under a new name: not encoded again, the new name is
    added and found."""
    a, b = two_names
    args = [*FAST, "scenes=fixed", "scenes.seconds=2"]
    compose_and_run(args, VideoDataset.from_path(a), tmp_path / "out")
    later = compose_and_run(args, VideoDataset.from_path(b), tmp_path / "out")
    assert [(v.status, v.reason) for v in later.report.videos] == [
        ("skipped", f"same content as {a}")]  # fmt: skip
    store = LanceStore(tmp_path / "out" / "index")
    found = store.find("copy of kitchen")
    assert found is not None and found.video_path == str(a)
    assert [p.video_name for p in store.read()] == ["kitchen"]
    assert lancedb.connect(str(store.path)).open_table("scenes").count_rows() == 2


def mixed_point(name: str, missing: dict[str, set[int]], n: int = 4) -> VideoDatapoint:
    """Unit vectors of LanceDB's "vector" sizes (>= 10) in every column, ``None`` where
    ``missing`` says so (a modality's set of scene indices)."""
    rng = np.random.default_rng(len(name))
    dims = {"video": 16, "audio": 12, "text": 10, "caption": 10}

    def vec(m: str, i: int) -> np.ndarray | None:
        if i in missing.get(m, set()):
            return None
        v = rng.standard_normal(dims[m]).astype(np.float32)
        return v / np.linalg.norm(v)

    encodings = [SceneEncoding(**{m: vec(m, i) for m in dims}) for i in range(n)]
    p = VideoDatapoint(f"/videos/{name}.mp4", name,
                       scenes=[Scene(float(i), float(i + 1)) for i in range(n)],
                       scene_embeddings=encodings, has_audio=True, duration=float(n))  # fmt: skip
    p.compute_global_embeddings()
    return p


def test_mixed_present_and_missing_vectors_in_every_column(tmp_path):
    """A missing vector in some scenes is normal (audio ending before the picture, no words):
    stored as null, the video kept, whichever scene or column lacks it."""
    store = LanceStore(tmp_path / "index")
    first = {"video": {0}, "audio": {3}, "text": {1, 2}, "caption": {0, 3}}  # first row null too
    a = mixed_point("a", first)
    b = mixed_point("b", {"audio": {0, 1, 2, 3}, "caption": {1}})  # no audio vector at all
    c = mixed_point("c", {"video": {2}, "text": {0, 1, 2, 3}, "caption": {0, 1, 2, 3}})
    for p in (a, b, c):
        commit(store, p)
    back = {p.video_name: p for p in LanceStore(tmp_path / "index").read()}
    assert set(back) == {"a", "b", "c"}
    for p in (a, b, c):
        assert_same(p, back[p.video_name])
    assert "audio" not in back["b"].global_embeddings
    assert set(back["c"].global_embeddings) == {"video", "audio"}
    table = lancedb.connect(str(tmp_path / "index")).open_table("scenes")
    assert table.count_rows("audio_vector IS NULL") == 1 + 4
    hits = table.search(a.scene_embeddings[1].video, vector_column_name="video_vector")
    assert hits.distance_type("cosine").limit(1).to_list()[0]["video_name"] == "a"


def test_a_nan_vector_is_a_store_error_naming_the_column(tmp_path):
    store = LanceStore(tmp_path / "index")
    p = mixed_point("a", {})
    p.scene_embeddings[2].text = np.full(10, np.nan, dtype=np.float32)
    with pytest.raises(StoreError, match="text_vector: a vector holds NaN"):
        commit(store, p)
    assert store.done_keys() == set()


def test_a_second_name_fails_when_its_first_copy_failed(tmp_path, two_names, monkeypatch):
    import egorag_core.run as run_module

    def broken(context, record, part=None):
        raise RuntimeError("decoder exploded")

    monkeypatch.setattr(run_module, "encode", broken)
    a, b = two_names
    outcome = compose_and_run([*FAST, "scenes=fixed", "scenes.seconds=2"],
                              VideoDataset.from_path(a.parent), tmp_path / "out")  # fmt: skip
    reasons = [(v.video_name, v.status, v.reason) for v in outcome.report.videos]
    assert reasons == [
        ("copy of kitchen", "failed", f"{b}: decoder exploded"),
        ("kitchen", "failed", f"{a}: same content as {b}, which was not stored"),
    ]
    assert LanceStore(tmp_path / "out" / "index").find("kitchen") is None
