"""Bad input is recorded per scene and the video and the batch go on: frames the engine cannot
read, frames too small to hold text, black scenes (the sign video's, test_ocr_signs.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import lancedb
import numpy as np
from egorag_core.media import Frames
from egorag_core.testing import make_video

from egorag_ocr.testing import SIGNS, make_sign_video


class HalfBroken:
    """The job's real frames, except that scenes starting at or after ``broken_from`` come
    as float16 arrays, which PP-OCR's resizing cannot take."""

    def __init__(self, frames, broken_from: float):
        self._frames, self.broken_from = frames, broken_from
        self.fps, self.frame_count = frames.fps, frames.frame_count

    def get(self, indices):
        got = self._frames.get(indices)
        if got.times[0] >= self.broken_from:
            return Frames(got.array.astype(np.float16), got.indices, got.times)
        return got

    def __getattr__(self, name):
        return getattr(self._frames, name)


def test_frames_the_engine_cannot_read_are_recorded_and_the_scene_goes_on(
    egorag_component, egorag_job, signs
) -> None:
    reader = egorag_component("ocr", "rapidocr")
    with egorag_job(signs.path, list(signs.scenes[:2])) as job:
        job.frames = HalfBroken(job.frames, broken_from=signs.scenes[1].start)
        reader.process(job)
    good, bad = (r.extras["ocr"] for r in job.results)
    assert job.results[0].ocr_text == SIGNS[0].text
    assert "skipped" not in good
    assert job.results[1].ocr_text == "" and bad["lines"] == []
    reasons = [s["reason"] for s in bad["skipped"]]
    assert len(reasons) == 2 and all(r.startswith("unreadable: ") for r in reasons), reasons
    assert reader.stats()["frame_errors"] == 2


def test_a_batch_with_a_tiny_video_goes_on(run_egorag, tmp_path) -> None:
    folder = tmp_path / "videos"
    make_video(folder / "tiny.mp4", [("testsrc2", 2.0)], size="12x12", audio=None)
    make_sign_video(folder / "two-signs.mp4", [SIGNS[2], SIGNS[9]])
    result = run_egorag("ocr=rapidocr", "scenes=fixed", "scenes.seconds=2", "video=none",
                        "caption=none", "audio=none", "text=none", input=folder)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = result.report
    assert report["counts"] == {"ok": 2, "skipped": 0, "failed": 0}
    assert [m["random_weights"] for m in report["stages"]["ocr"]["models"]] == [False] * 3
    scenes = lancedb.connect(report["index"]).open_table("scenes").to_pandas()
    tiny = scenes[scenes.video_name == "tiny"]
    assert len(tiny) == 1
    skipped = json.loads(tiny.extras.iloc[0])["ocr"]["skipped"]
    assert [s["reason"] for s in skipped] == ["too small to read (12x12 px, under 16)"] * 2
    signs = scenes[scenes.video_name == "two-signs"].sort_values("scene_index")
    assert list(signs.ocr_text) == [SIGNS[2].text, SIGNS[9].text]


def test_egorag_plugins_lists_it() -> None:
    exe = Path(sys.executable).with_name("egorag")
    out = subprocess.run([str(exe), "plugins"], capture_output=True, text=True, timeout=120)
    assert "ocr=rapidocr - PP-OCRv4" in out.stdout, out.stdout
