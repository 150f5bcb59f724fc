"""Qwen2-VL's vision tokens have no text side: ``egorag search --modality video`` says so in one
line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any


def egorag(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("egorag")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "egorag_core.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=300)


def test_video_vectors_are_not_searchable_by_words(run_egorag: Any, egorag_video: Path) -> None:
    result = run_egorag("video=qwen2vl", "caption=none", "audio=none", "text=none",
                        "scenes=fixed", "scenes.seconds=2", input=egorag_video)  # fmt: skip
    assert result.returncode == 0, result.stderr
    index = str(result.output_dir / "index")
    proc = egorag("search", "a test pattern", "--index", index, "--modality", "video")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "--modality video: video_vector was written by video=qwen2vl" in line
    assert "no text side" in line
