"""``executor=ray`` on a local Ray (2 CPUs, one for the session): the same index as
``executor=local``, failing videos and killed workers, and one long video in shards."""

from __future__ import annotations

import json
import re

import lancedb
import numpy as np
import pytest
from cli_helpers import PLUGINS, compose_and_run

from egorag_core import VideoDataset
from egorag_core.data import MODALITIES
from egorag_core.store import LanceStore
from egorag_core.testing import SPEECH_SENTENCES, make_speech_video, make_video

pytestmark = pytest.mark.ray

RAY = ["executor=ray", "executor.workers=2"]


def listing(folder, entries) -> VideoDataset:
    """The videos ``[{"path", "name"}, ...]`` as a JSON listing in ``folder``, read back."""
    path = folder / "videos.json"
    path.write_text(json.dumps([{"path": str(e["path"]), "name": e["name"]} for e in entries]))
    return VideoDataset.from_json(path)


def stored(index) -> dict:
    return {p.video_name: p for p in LanceStore(index).read()}


def assert_same_video(a, b, transcripts: bool = True) -> None:
    assert [(s.start, s.end) for s in a.scenes] == [(s.start, s.end) for s in b.scenes]
    assert a.has_audio == b.has_audio
    for ea, eb in zip(a.scene_embeddings, b.scene_embeddings, strict=True):
        for m in MODALITIES:
            va, vb = getattr(ea, m), getattr(eb, m)
            assert (va is None) == (vb is None), m
            if va is not None:
                np.testing.assert_allclose(va, vb, atol=1e-5, err_msg=m)
        assert ea.caption_text == eb.caption_text
        if transcripts:
            assert ea.transcript == eb.transcript
    assert set(a.global_embeddings) == set(b.global_embeddings)
    for m, v in a.global_embeddings.items():
        np.testing.assert_allclose(v, b.global_embeddings[m], atol=1e-5)


def test_same_index_under_local_and_ray(tmp_path, ray_address, multi_scene_video, noaudio_video,
                                        weird_video, copy_video):  # fmt: skip
    """Content scenes, colour histograms, captions and real MiniLM vectors: the same index,
    the same duplicate decided in the driver; the report sums the workers' model loads, one
    per model per worker that worked."""
    again = copy_video(noaudio_video, "again.mp4")
    args = ["video=colorhist", "caption=colorname", "audio=none", "text=minilm",
            "progress=false"]  # fmt: skip
    dataset = listing(tmp_path, [{"path": multi_scene_video, "name": "multi"},
                                 {"path": noaudio_video, "name": "noaudio"},
                                 {"path": weird_video, "name": "weird"},
                                 {"path": again, "name": "again"}])  # fmt: skip
    local = compose_and_run(args, dataset, tmp_path / "local")
    remote = compose_and_run([*args, *RAY], dataset, tmp_path / "ray")
    outcomes = [[(v.video_name, v.status, v.reason) for v in run.report.videos]
                for run in (local, remote)]  # fmt: skip
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][-1] == ("again", "skipped", f"same content as {noaudio_video}")
    a, b = stored(tmp_path / "local" / "index"), stored(tmp_path / "ray" / "index")
    assert set(a) == set(b) == {"multi", "noaudio", "weird"}
    for name in a:
        assert_same_video(a[name], b[name])
    assert LanceStore(tmp_path / "ray" / "index").find(str(again)).video_name == "noaudio"
    assert any(e.caption is not None for e in b["multi"].scene_embeddings)  # MiniLM ran

    report = json.loads((tmp_path / "ray" / "run_report.json").read_text())
    assert report["executor"] == "ray" and report["counts"]["ok"] == 3
    working = [w for w in report["workers"] if w["tasks"]]
    assert sum(w["tasks"] for w in working) == 3
    for worker in working:  # loaded once per worker, not once per video
        assert set(worker["model_loads"].values()) == {1}, worker
    assert set(report["model_loads"].values()) == {len(working)}
    assert len({w["pid"] for w in report["workers"]}) == 2
    assert all(w["peak_rss_bytes"] > 0 for w in report["workers"])


@pytest.fixture()
def fault_videos(tmp_path):
    """Five short videos; ``video=faulty`` raises on ``jam``, kills its worker on
    ``oom-always`` every time and on ``oom-once`` the first time (marker files)."""
    sources = {"good-a": "testsrc2", "jam": "smptebars", "oom-once": "mandelbrot",
               "oom-always": "rgbtestsrc", "good-b": "color=c=yellow"}  # fmt: skip
    videos = {name: make_video(tmp_path / "videos" / f"{name}.mp4",
                               [(src, 1.0), ("color=c=red", 1.0)], audio=None)
              for name, src in sources.items()}  # fmt: skip
    for name, fault in (("jam", "raise"), ("oom-always", "kill"), ("oom-once", "kill-once")):
        (tmp_path / "videos" / f"{name}.mp4.{fault}").touch()
    return videos


def test_failing_video_and_killed_workers(tmp_path, ray_address, fault_videos, monkeypatch):
    """A video that raises fails with its one line; a worker killed mid-video is replaced and
    the video retried once (ok the second time, or failed when its worker dies again); the
    others finish; a rerun encodes only what failed, nothing lost or duplicated."""
    monkeypatch.setenv("EGORAG_PLUGINS", PLUGINS + ",faulty")
    faults = ["video=faulty", "caption=none", "audio=none", "text=none", "scenes=fixed",
              "scenes.seconds=1", "progress=false", *RAY]  # fmt: skip
    dataset = listing(tmp_path, [{"path": p, "name": n} for n, p in fault_videos.items()])
    outcome = compose_and_run(faults, dataset, tmp_path / "out")
    status = {v.video_name: (v.status, v.reason) for v in outcome.report.videos}
    assert status["good-a"] == status["good-b"] == status["oom-once"] == ("ok", "")
    jam = status["jam"]
    assert jam[0] == "failed" and jam[1].startswith(str(fault_videos["jam"]))
    assert "colour wheel jammed" in jam[1] and "\n" not in jam[1]
    dead = status["oom-always"]
    assert dead[0] == "failed" and dead[1].startswith(str(fault_videos["oom-always"]))
    assert "died, 2 times" in dead[1] and "\n" not in dead[1]

    report = json.loads((tmp_path / "out" / "run_report.json").read_text())
    assert report["counts"] == {"ok": 3, "skipped": 0, "failed": 2}
    died = [w for w in report["workers"] if w.get("died")]
    assert len(died) == 3  # oom-once once, oom-always twice
    assert len(report["workers"]) == 2 + 3  # each dead worker was replaced

    index = tmp_path / "out" / "index"
    assert set(stored(index)) == {"good-a", "oom-once", "good-b"}
    for marker in (tmp_path / "videos").glob("*.mp4.*"):
        marker.unlink()  # the faults are gone: a rerun encodes what failed, and only that
    again = compose_and_run(faults, dataset, tmp_path / "out")
    again_status = {v.video_name: v.status for v in again.report.videos}
    assert again_status == {"good-a": "skipped", "jam": "ok", "oom-once": "skipped",
                            "oom-always": "ok", "good-b": "skipped"}  # fmt: skip
    db = lancedb.connect(str(index))
    videos, scenes = db.open_table("videos").to_pandas(), db.open_table("scenes").to_pandas()
    assert sorted(videos.video_name) == sorted(fault_videos)
    assert videos.key.is_unique
    assert not scenes.duplicated(["key", "scene_index"]).any()
    assert len(scenes) == 2 * len(fault_videos)


@pytest.fixture(scope="module")
def long_speech_video(tmp_path_factory):
    """28 s of real footage with eight spoken sentences (one every 3.5 s)."""
    path = tmp_path_factory.mktemp("long") / "talk.mp4"
    make_speech_video(path, SPEECH_SENTENCES * 2, scene_s=3.5)
    return path


def spoken_words(point) -> list[tuple[str, int, float]]:
    """Every word of a stored video: lower case without punctuation, its scene, its middle."""
    out = []
    for i, encoding in enumerate(point.scene_embeddings):
        for w in encoding.extras["words"]:
            for word in re.sub(r"[^a-z0-9' ]+", " ", w["word"].lower()).split():
                out.append((word, i, (w["start"] + w["end"]) / 2))
    return out


def test_sharded_long_video_matches_unsharded(tmp_path, ray_address, long_speech_video,
                                              monkeypatch):  # fmt: skip
    """2.5 s scenes cut sentences in two; 7.5 s shards cut sentences too (at 7.5, 15 and
    22.5 s). Sharded on two workers, the video has the same scenes and vectors as encoded
    whole, and the real faster-whisper tiny.en, one pass per shard with 10 s of overlap, hears
    the same words (none lost or doubled at the shard edges), each in the scene the whole run
    gives it, but where the two decodes time a word across a scene cut a little apart."""
    pytest.importorskip("egorag_whisper")
    monkeypatch.setenv("EGORAG_PLUGINS", PLUGINS + ",whisper")
    args = ["preset=tiny", "video=colorhist", "caption=colorname", "audio/asr=faster_whisper",
            "audio/embedding=none", "text=none", "scenes=fixed", "scenes.seconds=2.5",
            "progress=false"]  # fmt: skip
    dataset = listing(tmp_path, [{"path": long_speech_video, "name": "talk"}])
    whole = compose_and_run(args, dataset, tmp_path / "whole")
    sharded = compose_and_run([*args, *RAY, "executor.shard_minutes=0.125"], dataset,
                              tmp_path / "sharded")  # fmt: skip
    assert whole.failed == 0 and sharded.failed == 0, sharded.report.videos[0].reason
    a = stored(tmp_path / "whole" / "index")["talk"]
    b = stored(tmp_path / "sharded" / "index")["talk"]
    assert len(a.scenes) == 12
    assert_same_video(a, b, transcripts=False)
    words_a, words_b = spoken_words(a), spoken_words(b)
    assert len(words_a) > 60  # the sixteen sentences were heard
    assert [w for w, _, _ in words_b] == [w for w, _, _ in words_a]
    for (word, scene_a, mid), (_, scene_b, _) in zip(words_a, words_b, strict=True):
        if scene_a != scene_b:  # only a word at a cut, timed on its other side
            cut = a.scenes[max(scene_a, scene_b)].start
            assert abs(scene_a - scene_b) == 1 and abs(mid - cut) < 0.3, (word, mid)
    report = json.loads((tmp_path / "sharded" / "run_report.json").read_text())
    assert report["stages"]["audio.asr"]["stats"]["transcribe_calls"] == 4  # one per shard
    assert sum(w["tasks"] for w in report["workers"]) == 1 + 4  # the split, then the shards
    assert len([w for w in report["workers"] if w["tasks"]]) == 2
