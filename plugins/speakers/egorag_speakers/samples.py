"""Speech with known speaker turns, for tests and benchmarks: the real two-speaker recording
shipped in the ``pyannote-audio`` wheel, and synthetic conversations spoken by espeak-ng
voices. Both are written as small videos (grey frames, AAC audio), as egorag reads them."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .score import Turn

#: espeak-ng voices (``-v`` voice, ``-p`` pitch) that resemblyzer tells apart.
VOICES: tuple[tuple[str, ...], ...] = (
    ("-v", "en-us+klatt", "-p", "40"),
    ("-v", "en+f4", "-p", "99"),
    ("-v", "en-gb+m3", "-p", "20"),
)

#: Lines of a conversation, spoken in turn.
LINES = (
    "Did you see the game last night?",
    "No, I was working late, who won?",
    "The home team won by two goals.",
    "That is great news, I will watch the replay.",
    "Let us meet for lunch tomorrow.",
    "Sure, how about noon at the cafe?",
    "Noon works for me.",
    "Bring the report please.",
    "I will send it tonight.",
    "Thanks, see you then.",
    "Okay.",
    "Goodbye everyone.",
)

RATE = 16000


def pyannote_sample() -> tuple[Path, Path, Path]:
    """``(sample.wav, sample.rttm, sample.stm)``: 30 s of a real two-speaker telephone
    conversation, its reference turns and transcript, shipped in the ``pyannote-audio`` wheel
    (found without importing pyannote). Raises ``FileNotFoundError`` naming the install."""
    spec = importlib.util.find_spec("pyannote.audio") if importlib.util.find_spec(
        "pyannote") else None
    if spec is not None and spec.submodule_search_locations:
        folder = Path(spec.submodule_search_locations[0]) / "sample"
        files = tuple(folder / f"sample.{ext}" for ext in ("wav", "rttm", "stm"))
        if all(f.is_file() for f in files):
            return files  # type: ignore[return-value]
    raise FileNotFoundError(
        "pyannote-audio's sample/sample.wav is missing: pip install --no-deps pyannote-audio "
        "(only its sample files are used; `make setup` installs it so)"
    )


def speak(voice: Sequence[str], text: str) -> np.ndarray:
    """``text`` spoken by espeak-ng with ``voice``, 16 kHz mono float32, silence trimmed."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        subprocess.run(["espeak-ng", *voice, "-s", "160", "-w", str(wav), text], check=True)
        raw = subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-i", str(wav), "-ac", "1", "-ar", str(RATE),
             "-f", "f32le", "-"], check=True, capture_output=True,
        ).stdout  # fmt: skip
    clip = np.frombuffer(raw, dtype=np.float32)
    loud = np.flatnonzero(np.abs(clip) > 0.01)
    return clip[loud[0] : loud[-1] + 1] if loud.size else clip


def conversation_audio(order: Sequence[int], gap_s: float = 0.3,
                       lead_s: float = 0.5) -> tuple[np.ndarray, list[Turn], list[str]]:
    """The :data:`LINES` spoken in turn by ``VOICES[order[i]]``, ``gap_s`` apart:
    ``(audio, reference turns (start, end, "voice<n>"), texts)``."""
    parts, turns, texts, t = [np.zeros(int(lead_s * RATE), np.float32)], [], [], lead_s
    for voice, text in zip(order, LINES, strict=False):
        clip = speak(VOICES[voice], text)
        turns.append((round(t, 3), round(t + clip.size / RATE, 3), f"voice{voice}"))
        texts.append(text)
        parts += [clip, np.zeros(int(gap_s * RATE), np.float32)]
        t += clip.size / RATE + gap_s
    return np.concatenate(parts), turns, texts


def write_wav(path: Path, audio: np.ndarray) -> Path:
    """``audio`` (16 kHz float32) as 16-bit PCM WAV."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def as_video(audio_file: str | Path, path: str | Path) -> Path:
    """A video of grey 64x64 frames (5 fps) with ``audio_file`` as its AAC track."""
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("ffmpeg is needed to make test videos")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-v", "error", "-f", "lavfi",
         "-i", "color=c=gray:size=64x64:rate=5", "-i", str(audio_file), "-shortest",
         "-c:v", "libx264", "-c:a", "aac", "-b:a", "128k", str(path)], check=True,
    )  # fmt: skip
    return Path(path)


def conversation_video(path: str | Path, order: Sequence[int]) -> tuple[Path, list[Turn],
                                                                       list[str]]:
    """:func:`conversation_audio` written as a video at ``path``: ``(path, turns, texts)``.
    Needs espeak-ng and ffmpeg."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is needed to make speech")
    audio, turns, texts = conversation_audio(order)
    path = Path(path)
    wav = write_wav(path.with_suffix(".wav"), audio)
    return as_video(wav, path), turns, texts
