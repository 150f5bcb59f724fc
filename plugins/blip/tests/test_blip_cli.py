"""End to end through the ``egorag`` command: caption=captioner1 with a tiny BLIP."""

from __future__ import annotations

import pytest
from egorag_core.testing import sample_video


@pytest.mark.slow
def test_egorag_cli_caption_captioner1(run_egorag):
    # video=none: the captioner samples its own frames (no keyframes handed on).
    result = run_egorag(
        "scenes=fixed", "scenes.seconds=2.5", "video=none", "caption=captioner1",
        "audio=none", "text=none", input=sample_video("bikes.mp4"), timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = result.report
    assert report["counts"] == {"ok": 1, "skipped": 0, "failed": 0}
    caption = report["stages"]["caption"]
    assert caption["option"] == "captioner1"
    assert [m["random_weights"] for m in caption["models"]] == [True]

    import lancedb

    scenes = lancedb.connect(report["index"]).open_table("scenes").to_pandas()
    assert len(scenes) >= 1
    assert all(isinstance(t, str) and t.strip() for t in scenes["caption_text"])
