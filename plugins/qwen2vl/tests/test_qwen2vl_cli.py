"""End to end through the ``egorag`` command: video=qwen2vl caption=captioner2 preset=tiny."""

from __future__ import annotations

import pytest
from egorag_core.testing import sample_video


@pytest.mark.slow
def test_egorag_cli_qwen2vl_captioner2(run_egorag, qwen):
    result = run_egorag("scenes=fixed", "scenes.seconds=2.5", "video=qwen2vl",
                        "caption=captioner2", "audio=none", "text=none",
                        "caption.max_new_tokens=8", "media.window_mb=64",  # one window
                        input=sample_video("bikes.mp4"))  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = result.report
    assert report["counts"] == {"ok": 1, "skipped": 0, "failed": 0}
    assert list(report["model_loads"].values()) == [1]  # one Qwen2-VL for both stages
    for stage in ("video", "caption"):
        assert [m["random_weights"] for m in report["stages"][stage]["models"]] == [True]
    video, caption = (report["stages"][stage]["stats"] for stage in ("video", "caption"))
    assert video["preprocess_calls"] == 4 and video["vision_calls"] == 1  # batch_size 4
    assert caption["preprocess_calls"] == 0 and caption["preprocess_cache_hits"] == 4
    # captioner2 reads no keyframes: only the frames at fps (1 fps, at least 4) are decoded
    (row,) = report["videos"]
    assert row["frames_needed"] == row["frames_decoded"] <= 4 * 4

    import lancedb

    scenes = lancedb.connect(result.output_dir / "index").open_table("scenes").to_pandas()
    hidden = qwen.model.config.text_config.hidden_size
    assert len(scenes) == 4 and all(len(v) == hidden for v in scenes["video_vector"])
    assert all(isinstance(t, str) and t == " ".join(t.split()) for t in scenes["caption_text"])
    assert all(len(times) == 8 for times in scenes["keyframe_times"])  # times, for thumbnails
