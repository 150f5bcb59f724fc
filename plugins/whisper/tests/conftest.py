"""Fixtures of the egorag-whisper tests: a multi-scene video with real synthetic speech."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from egorag_core.data import Scene  # noqa: E402


@pytest.fixture(scope="session")
def speech_video(tmp_path_factory) -> tuple[Path, list[Scene]]:
    """Real footage with one spoken sentence per 3.5 s scene: ``(path, scenes)``."""
    from egorag_core.testing import make_speech_video

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is needed")
    path = tmp_path_factory.mktemp("speech") / "speech.mp4"
    scenes, _ = make_speech_video(path)
    return path, scenes


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("egorag-cache")
