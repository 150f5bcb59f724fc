"""Fixtures of the egorag-whisper tests (the egorag_* fixtures come with egorag-core): a
multi-scene video with real synthetic speech."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from egorag_core.data import Scene


@pytest.fixture(scope="session")
def speech_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Scene]]:
    """Real footage with one spoken sentence per 3.5 s scene: ``(path, scenes)``."""
    from egorag_core.testing import make_speech_video

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is needed")
    path = tmp_path_factory.mktemp("speech") / "speech.mp4"
    scenes, _ = make_speech_video(path)
    return path, scenes


@pytest.fixture(scope="session")
def long_speech_video(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[Scene], list[tuple[float, float]], str]:
    """42 s: the four test sentences three times, one per 3.5 s scene (two 30 s chunks for
    whisper): ``(path, scenes, sentence spans, reference text)``."""
    from egorag_core.testing import SPEECH_SENTENCES, make_speech_video

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is needed")
    sentences = SPEECH_SENTENCES * 3
    path = tmp_path_factory.mktemp("speech") / "long-speech.mp4"
    scenes, spans = make_speech_video(path, sentences)
    return path, scenes, spans, " ".join(text for _, text in sentences)
