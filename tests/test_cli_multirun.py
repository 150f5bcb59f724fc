"""`egorag --multirun` over two options: one job folder each, with its own report and index."""

from __future__ import annotations

import json

import lancedb
from cli_helpers import run_cli

from egorag_core import VideoDataset


def test_multirun_two_options(tmp_path, noaudio_video):
    out = tmp_path / "sweep"
    proc = run_cli("--multirun", "video=colorhist,none", "caption=none", "audio=none",
                   f"input={noaudio_video}", f"output_dir={out}", "progress=false",
                   "scenes=fixed", "scenes.seconds=2", "store.export_pickle=out.pkl")  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    jobs = sorted(p.parent for p in out.rglob("run_report.json"))
    assert len(jobs) == 2, [str(p) for p in out.rglob("*")]
    assert len({j.name for j in jobs}) == 2
    options = {}
    for job in jobs:
        report = json.loads((job / "run_report.json").read_text())
        assert report["counts"] == {"ok": 1, "skipped": 0, "failed": 0}
        assert report["index"] == str(job / "index")
        assert (job / "index").is_dir()
        option = report["stages"].get("video", {}).get("option")
        options[option] = job
        scenes = lancedb.connect(str(job / "index")).open_table("scenes").to_pandas()
        assert len(scenes) == 2
        has_video = "video_vector" in scenes.columns and scenes["video_vector"].notna().all()
        assert has_video == (option == "colorhist")
        # text=minilm ran in both jobs, with no words and no caption: empty text, no vector
        assert report["stages"]["text"]["option"] == "minilm"
        assert "text_vector" not in scenes.columns
        (exported,) = VideoDataset.load(job / "out.pkl")  # each job writes its own pickle
        assert len(exported.scenes) == 2
        assert ("video" in exported.global_embeddings) == (option == "colorhist")
    assert set(options) == {"colorhist", None}
    assert "video=colorhist" in options["colorhist"].name
