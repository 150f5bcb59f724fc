"""Fixtures of the egorag-speakers tests: a multi-scene video with real synthetic speech."""

from __future__ import annotations

import os
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from egorag_core.data import Scene  # noqa: E402
from egorag_core.testing import sample_video  # noqa: E402

SCENE_S = 3.5
#: (espeak-ng voice and pitch, sentence): one per scene, two voices alternating.
SENTENCES = [
    (["-v", "en-us+klatt", "-p", "40"], "The quick brown fox jumps over the lazy dog."),
    (["-v", "en+f4", "-p", "99"], "I would like a cup of tea with milk please."),
    (["-v", "en-us+klatt", "-p", "40"], "The weather is sunny and warm today."),
    (["-v", "en+f4", "-p", "99"], "My phone is on the kitchen table."),
]


def _speech(args: list[str], text: str, folder: Path) -> np.ndarray:
    wav = folder / "s.wav"
    subprocess.run(["espeak-ng", *args, "-s", "150", "-w", str(wav), text], check=True)
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(wav), "-ac", "1", "-ar", "16000",
         "-f", "f32le", "-"], check=True, capture_output=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype=np.float32)


def make_speech_video(path: Path) -> tuple[list[Scene], list[tuple[float, float]]]:
    """Real footage (bikes.mp4, looped) with one spoken sentence per 3.5 s scene; returns the
    scenes and the spans (seconds) of the sentences."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is needed")
    total = SCENE_S * len(SENTENCES)
    track = np.zeros(int(total * 16000), dtype=np.float32)
    spans = []
    for i, (args, text) in enumerate(SENTENCES):
        clip = _speech(args, text, path.parent)[: int((SCENE_S - 0.5) * 16000)]
        a = int((i * SCENE_S + 0.25) * 16000)
        track[a : a + clip.size] = clip
        spans.append((a / 16000, (a + clip.size) / 16000))
    wav = path.with_suffix(".wav")
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(track, -1, 1) * 32767).astype("<i2").tobytes())
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-v", "error", "-stream_loop", "-1",
         "-i", str(sample_video("bikes.mp4")), "-i", str(wav), "-map", "0:v", "-map", "1:a",
         "-t", str(total), "-vf", "scale=160:-2,fps=10", "-c:v", "libx264", "-g", "10",
         "-c:a", "aac", str(path)], check=True,
    )  # fmt: skip
    return [Scene(i * SCENE_S, (i + 1) * SCENE_S) for i in range(len(SENTENCES))], spans


@pytest.fixture(scope="session")
def speech_video(tmp_path_factory):
    path = tmp_path_factory.mktemp("speech") / "speech.mp4"
    scenes, spans = make_speech_video(path)
    return path, scenes, spans


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("egorag-cache")
