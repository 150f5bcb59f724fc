"""End to end through the ``egorag`` command: video=xclip with tiny models on real footage."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from egorag_core.testing import sample_video

ROOT = Path(__file__).resolve().parents[3]  # the repository (its conf/ holds preset=tiny)


def installed(entry_point: str) -> bool:
    return any(ep.name == entry_point for ep in metadata.entry_points(group="egorag"))


@pytest.mark.slow
def test_egorag_cli_video_xclip(xclip_settings, tmp_path):
    egorag = shutil.which("egorag", path=str(Path(sys.executable).parent))
    if egorag is None or not (ROOT / "conf" / "preset" / "tiny.yaml").is_file():
        pytest.skip("the egorag command or the repo's preset=tiny is not available")
    caption = "captioner1" if installed("blip") else "none"
    out = tmp_path / "out"
    cmd = [egorag, "scenes=fixed", "scenes.seconds=2.5",
           "video=xclip", f"caption={caption}", "audio=none", "text=none",
           "preset=tiny", f"input={sample_video('bikes.mp4')}", f"output_dir={out}",
           f"models.cache_dir={xclip_settings.cache_dir}", "progress=false"]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((out / "run_report.json").read_text())
    assert report["counts"] == {"ok": 1, "skipped": 0, "failed": 0}
    video = report["stages"]["video"]
    assert video["option"] == "xclip"
    assert [m["random_weights"] for m in video["models"]] == [True, True]
    assert all(n == 1 for n in report["model_loads"].values())

    import lancedb
    from transformers import AutoConfig

    scenes = lancedb.connect(out / "index").open_table("scenes").to_pandas()
    xclip_folder = video["models"][1]["model_id"]
    dim = AutoConfig.from_pretrained(xclip_folder).projection_dim
    assert len(scenes) >= 1
    assert all(len(v) == dim for v in scenes["video_vector"])
    if caption != "none":
        assert all(isinstance(t, str) and t for t in scenes["caption_text"])
