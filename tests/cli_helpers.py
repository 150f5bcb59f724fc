"""Helpers shared by the tests: run the CLI, read reports, compose and run in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PLUGINS = "scenes,minilm,testplugin"
REPO = Path(__file__).resolve().parents[1]
FAST = ["video=colorhist", "caption=colorname", "audio=none", "text=none", "progress=false"]


def egorag_command() -> list[str]:
    exe = Path(sys.executable).parent / "egorag"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "egorag_core.cli"]


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"EGORAG_PLUGINS": PLUGINS, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run ``egorag ARGS`` from the repository root (so ``conf/`` presets are found)."""
    return subprocess.run(
        [*egorag_command(), *args],
        cwd=REPO,
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def read_report(folder: Path) -> dict:
    return json.loads((Path(folder) / "run_report.json").read_text())


def compose_and_run(overrides, dataset, output_dir, host=None, edit=None):
    """Compose the config like the CLI does and call :func:`egorag_core.run.run`."""
    from egorag_core.config import compose
    from egorag_core.run import run

    cfg, choices = compose(list(overrides))
    cfg["device"] = "cpu"
    if edit is not None:
        edit(cfg)
    return run(cfg, dataset, output_dir, choices=choices, host=host)
