"""Fixtures of the egorag-speakers tests (the egorag_* fixtures come with egorag-core): a
multi-scene video with real synthetic speech."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from egorag_core.data import Scene


@pytest.fixture(scope="session")
def speech_video(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[Scene], list[tuple[float, float]]]:
    """Real footage with one spoken sentence per 3.5 s scene: ``(path, scenes, spans)``."""
    from egorag_core.testing import make_speech_video

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is needed")
    path = tmp_path_factory.mktemp("speech") / "speech.mp4"
    scenes, spans = make_speech_video(path)
    return path, scenes, spans
