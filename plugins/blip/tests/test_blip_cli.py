"""End to end through the ``egorag`` command: caption=captioner1 with a tiny BLIP."""

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
def test_egorag_cli_caption_captioner1(blip_settings, tmp_path):
    egorag = shutil.which("egorag", path=str(Path(sys.executable).parent))
    if egorag is None or not (ROOT / "conf" / "preset" / "tiny.yaml").is_file():
        pytest.skip("the egorag command or the repo's preset=tiny is not available")
    out = tmp_path / "out"
    # video=none: the captioner samples its own frames (no keyframes handed on).
    cmd = [egorag, "scenes=fixed", "scenes.seconds=2.5",
           "video=none", "caption=captioner1", "audio=none", "text=none",
           "preset=tiny", f"input={sample_video('bikes.mp4')}", f"output_dir={out}",
           f"models.cache_dir={blip_settings.cache_dir}", "progress=false"]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((out / "run_report.json").read_text())
    assert report["counts"] == {"ok": 1, "skipped": 0, "failed": 0}
    caption = report["stages"]["caption"]
    assert caption["option"] == "captioner1"
    assert [m["random_weights"] for m in caption["models"]] == [True]

    import lancedb

    scenes = lancedb.connect(out / "index").open_table("scenes").to_pandas()
    assert len(scenes) >= 1
    assert all(isinstance(t, str) and t.strip() for t in scenes["caption_text"])
