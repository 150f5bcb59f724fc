"""Resume after a kill: SIGKILL the CLI once one video is committed, rerun, nothing lost or
duplicated; under ``executor=local`` and ``executor=ray`` (the driver killed: its workers go
with it)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time

import lancedb
import pytest
from cli_helpers import REPO, cli_env, egorag_command, read_report, run_cli

from egorag_core.store import LanceStore
from egorag_core.testing import make_video

# 1.5 s videos cut into three 0.5 s scenes, 0.5 s of (sleeping) work per scene: ~1.5 s a video.
ARGS = ["video=colorhist", "video.seconds_per_scene=0.5", "caption=none", "audio=none",
        "text=none", "scenes=fixed", "scenes.seconds=0.5", "progress=false"]  # fmt: skip


def committed(index) -> int:
    try:
        db = lancedb.connect(str(index))
        if "videos" not in db.list_tables().tables:
            return 0
        return db.open_table("videos").count_rows()
    except Exception:
        return 0


@pytest.fixture()
def three_videos(tmp_path):
    sources = [("testsrc2", "color=c=red"), ("smptebars", "color=c=blue"),
               ("mandelbrot", "color=c=green")]  # fmt: skip
    entries = []
    for i, (a, b) in enumerate(sources):
        path = make_video(tmp_path / f"v{i}.mp4", [(a, 0.8), (b, 0.7)], audio=None)
        entries.append({"path": str(path), "name": f"v{i}"})
    listing = tmp_path / "videos.json"
    listing.write_text(json.dumps(entries))
    return listing


def test_resume_after_kill(tmp_path, three_videos, executor_args):
    out = tmp_path / "out"
    index = out / "index"
    proc = subprocess.Popen(
        [*egorag_command(), *ARGS, *executor_args, f"input={three_videos}", f"output_dir={out}"],
        cwd=REPO, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        # one video committed and its report line written (the report follows the commit)
        while committed(index) < 1 or not (out / "run_report.json").exists():
            assert proc.poll() is None, f"finished before it could be killed: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "no video committed in 90 s"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done_before = committed(index)
    assert done_before < 3, "the run was not interrupted"

    # the index is readable after the kill, and the report (written atomically) parses
    stored = LanceStore(index).read()
    assert len(stored) == done_before
    assert stored[0].video_name == "v0"
    report = read_report(out)
    assert report["videos"][0]["video_name"] == "v0"
    assert report["videos"][0]["status"] == "ok"

    # under ray, the rerun starts a Ray of its own, whose temp folder goes with it
    own_ray = [a for a in executor_args if not a.startswith("executor.address=")]
    with tempfile.TemporaryDirectory(prefix="egr-", dir="/tmp") as temp:
        rerun = run_cli(*ARGS, *own_ray, f"input={three_videos}", f"output_dir={out}",
                        env=cli_env(TMPDIR=temp), timeout=180)  # fmt: skip
        assert os.listdir(temp) == []
    assert rerun.returncode == 0, rerun.stderr
    report = read_report(out)
    statuses = {v["video_name"]: v["status"] for v in report["videos"]}
    assert statuses["v0"] == "skipped"
    assert statuses == {"v0": "skipped", "v1": statuses["v1"], "v2": "ok"}
    assert report["counts"]["skipped"] == done_before
    assert report["counts"]["ok"] == 3 - done_before
    assert f"{done_before} skipped" in rerun.stdout + rerun.stderr

    db = lancedb.connect(str(index))
    videos = db.open_table("videos").to_pandas()
    scenes = db.open_table("scenes").to_pandas()
    assert sorted(videos["video_name"]) == ["v0", "v1", "v2"]
    assert videos["key"].is_unique
    assert len(scenes) == 9
    assert not scenes.duplicated(["key", "scene_index"]).any()
    assert sorted(scenes.groupby("video_name").size().to_dict().items()) == [
        ("v0", 3), ("v1", 3), ("v2", 3)]  # fmt: skip
    back = LanceStore(index).read()
    assert sorted(p.video_name for p in back) == ["v0", "v1", "v2"]
    assert all(len(p.scenes) == 3 and p.scene_embeddings[2].video is not None for p in back)
