"""End to end through the ``egorag`` command: video=qwen2vl caption=captioner2 preset=tiny."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from egorag_core.testing import sample_video

ROOT = Path(__file__).resolve().parents[3]  # the repository (its conf/ holds preset=tiny)


@pytest.mark.slow
def test_egorag_cli_qwen2vl_captioner2(qwen_settings, qwen, tmp_path):
    egorag = shutil.which("egorag", path=str(Path(sys.executable).parent))
    if egorag is None or not (ROOT / "conf" / "preset" / "tiny.yaml").is_file():
        pytest.skip("the egorag command or the repo's preset=tiny is not available")
    out = tmp_path / "out"
    cmd = [egorag, "scenes=fixed", "scenes.seconds=2.5",
           "video=qwen2vl", "caption=captioner2", "audio=none", "text=none",
           "preset=tiny", f"input={sample_video('bikes.mp4')}", f"output_dir={out}",
           f"models.cache_dir={qwen_settings.cache_dir}", "progress=false",
           "caption.max_new_tokens=8"]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((out / "run_report.json").read_text())
    assert report["counts"] == {"ok": 1, "skipped": 0, "failed": 0}
    assert list(report["model_loads"].values()) == [1]  # one Qwen2-VL for both stages
    for stage in ("video", "caption"):
        assert [m["random_weights"] for m in report["stages"][stage]["models"]] == [True]

    import lancedb

    scenes = lancedb.connect(out / "index").open_table("scenes").to_pandas()
    hidden = qwen.model.config.text_config.hidden_size
    assert len(scenes) >= 1 and all(len(v) == hidden for v in scenes["video_vector"])
    assert all(isinstance(t, str) and t == " ".join(t.split()) for t in scenes["caption_text"])
