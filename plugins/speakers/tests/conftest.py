"""Fixtures of the egorag-speakers tests: a multi-scene video with real synthetic speech."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def speech_video(tmp_path_factory):
    """Real footage with one spoken sentence per 3.5 s scene: ``(path, scenes, spans)``."""
    from egorag_core.testing import make_speech_video

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is needed")
    path = tmp_path_factory.mktemp("speech") / "speech.mp4"
    scenes, spans = make_speech_video(path)
    return path, scenes, spans


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("egorag-cache")
