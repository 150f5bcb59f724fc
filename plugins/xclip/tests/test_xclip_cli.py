"""End to end through the ``egorag`` command: video=xclip with tiny models on real footage."""

from __future__ import annotations

from importlib import metadata

import pytest
from egorag_core.testing import sample_video


def installed(entry_point: str) -> bool:
    return any(ep.name == entry_point for ep in metadata.entry_points(group="egorag"))


@pytest.mark.slow
def test_egorag_cli_video_xclip(run_egorag):
    caption = "captioner1" if installed("blip") else "none"
    result = run_egorag(
        "scenes=fixed", "scenes.seconds=2.5", "video=xclip", f"caption={caption}",
        "audio=none", "text=none", input=sample_video("bikes.mp4"), timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = result.report
    assert report["counts"] == {"ok": 1, "skipped": 0, "failed": 0}
    video = report["stages"]["video"]
    assert video["option"] == "xclip"
    assert [m["random_weights"] for m in video["models"]] == [True, True]
    assert all(n == 1 for n in report["model_loads"].values())

    import lancedb
    from transformers import AutoConfig

    scenes = lancedb.connect(report["index"]).open_table("scenes").to_pandas()
    xclip_folder = video["models"][1]["model_id"]
    dim = AutoConfig.from_pretrained(xclip_folder).projection_dim
    assert len(scenes) >= 1
    assert all(len(v) == dim for v in scenes["video_vector"])
    if caption != "none":
        assert all(isinstance(t, str) and t for t in scenes["caption_text"])
