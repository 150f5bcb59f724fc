"""pytest fixtures for egorag plugin authors, loaded automatically where egorag-core is
installed (entry point ``pytest11``). Tests run offline (``HF_HUB_OFFLINE=1``).

- ``egorag_settings``: ``preset=tiny`` settings with a session cache for tiny models.
- ``egorag_video``: a real 4 s H.264 file, two shots with a hard cut at 2 s, a tone.
- ``egorag_component``: ``egorag_component("video", "myencoder", fps=2.0)`` builds a registered
  component from its YAML (options checked), as a run would.
- ``egorag_job``: ``with egorag_job(path, scenes) as job:`` a job with its decoder open.
- ``run_egorag``: ``run_egorag("video=myencoder", input=path)`` runs the ``egorag`` command
  (``preset=tiny``, progress off) in a temporary folder and returns its result and report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .components import Settings, VideoJob
from .data import Scene
from .scheduler import ModelScheduler


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def egorag_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """``preset=tiny`` settings on CPU, progress off, tiny models cached for the session."""
    cache = tmp_path_factory.mktemp("egorag-cache")
    return Settings(device="cpu", tiny=True, cache_dir=cache, show_progress=False)


@pytest.fixture(scope="session")
def egorag_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 4 s 160x120 10 fps H.264 file: testsrc2 then smptebars (cut at 2 s), a tone."""
    from .testing import make_video

    return make_video(tmp_path_factory.mktemp("egorag-media") / "two-shots.mp4")


@pytest.fixture()
def egorag_component(egorag_settings: Settings) -> Callable[..., Any]:
    """Build the component registered as ``group=name`` with option overrides."""
    from .pipeline import build_component
    from .plugins import load_plugins

    def build(group: str, name: str, settings: Settings | None = None, **options: Any) -> Any:
        host = load_plugins()
        return build_component(host, group, name, options, settings or egorag_settings)

    return build


@pytest.fixture()
def egorag_job(
    egorag_settings: Settings,
) -> Callable[..., AbstractContextManager[VideoJob]]:
    """``egorag_job(path, scenes=None, scheduler=None)``: a :class:`VideoJob` with its decoder
    open (a fresh :class:`ModelScheduler` unless one is given)."""
    from .testing import open_job

    def job(
        path: str | Path, scenes: list[Scene] | None = None, scheduler: ModelScheduler | None = None
    ) -> Any:
        return open_job(path, scenes, scheduler=scheduler, settings=egorag_settings)

    return job


@dataclass
class EgoragResult:
    """What ``run_egorag`` returns."""

    returncode: int
    stdout: str
    stderr: str
    output_dir: Path

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.output_dir / "run_report.json").read_text())


@pytest.fixture()
def run_egorag(tmp_path: Path, egorag_settings: Settings) -> Callable[..., EgoragResult]:
    """Run ``egorag preset=tiny ARGS input=... output_dir=<tmp>`` in a subprocess."""

    def run(*args: str, input: str | Path, timeout: float = 600) -> EgoragResult:
        out = tmp_path / "egorag-out"
        cmd = [*_egorag_command(), "preset=tiny", "progress=false", *args, f"input={input}",
               f"output_dir={out}", f"models.cache_dir={egorag_settings.cache_dir}"]  # fmt: skip
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
        proc = subprocess.run(
            cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout
        )
        return EgoragResult(proc.returncode, proc.stdout, proc.stderr, out)

    return run


def _egorag_command() -> list[str]:
    exe = Path(sys.executable).with_name("egorag")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "egorag_core.cli"]


