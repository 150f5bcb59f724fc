"""Benchmark: egorag's whole ``preset=tiny`` pipeline against the original spec's per-scene
clip method, on the same video, side by side (A, B, A, B...), each in a fresh process under
``/usr/bin/time -v``.

The clip method (B), written from the spec: PySceneDetect ``detect(path, ContentDetector())``;
then stage by stage, scenes on a ``ThreadPoolExecutor(2)``: for the video stage each scene is cut
to a temporary clip with ``ffmpeg -ss START -to END -i VIDEO -c:v libx264 -preset fast -crf 23
-an`` and its frames decoded at 1 fps (plus 8 uniform keyframes) for the Qwen2-VL vision tower;
the caption stage cuts a second clip per scene the same way for Qwen2-VL ``generate``; the audio
stage cuts each scene's audio (ffmpeg, 16 kHz) and transcribes it alone (faster-whisper
``transcribe``) and embeds it (CLAP); the text stage embeds each scene's text (MiniLM). The
models are the ones egorag's ``preset=tiny`` builds (its own components, built the way the run
builds them, their models loaded the way the plugins load them), with the same options (fps,
pixel budget, pooling, prompt, tokens, beam size, VAD). Clips go to a temporary folder removed
afterwards, also on error.

    .venv/bin/python benchmarks/bench_clip_method.py --minutes 10 --rounds 2
    .venv/bin/python benchmarks/bench_clip_method.py --minutes 1 --rounds 1      # quick check
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_long import (  # noqa: E402
    SD_SIZE,
    checkout,
    machine,
    make_long_video,
    run_egorag,
    timed,
    wer,
    workdir,
)

T = TypeVar("T")
R = TypeVar("R")
#: The spec's worker count.
WORKERS = 2


def tiny_components() -> dict[str, Any]:
    """egorag's ``preset=tiny`` components by stage (``video``, ``caption``, ``audio.asr``,
    ``audio.embedding``, ``text``), built and checked the way the run builds them."""
    from egorag_core.components import Settings
    from egorag_core.config import compose, run_config
    from egorag_core.pipeline import build_pipeline
    from egorag_core.plugins import load_plugins

    cfg, choices = compose(["preset=tiny", "progress=false", "device=cpu"])
    config = run_config(cfg)
    settings = Settings("cpu", config.models.tiny, config.cache_dir, False)
    return dict(build_pipeline(config, settings, load_plugins(), choices).stages)


def load(component: Any) -> Any:
    """The component's (first) model, loaded as its plugin loads it, on the CPU."""
    return component.spec().load("cpu")


def in_pool(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``fn`` over ``items`` on a ``ThreadPoolExecutor(2)``, results in order."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(fn, items))


def cut_clip(video: str, start: float, end: float, out: Path) -> Path:
    """The spec's temporary scene clip, re-encoded with libx264."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-v", "error", "-ss", f"{start:.3f}", "-to", f"{end:.3f}",
         "-i", video, "-c:v", "libx264", "-preset", "fast", "-crf", "23", "-an", str(out)],
        check=True,
    )  # fmt: skip
    return out


def clip_frames(clip: Path, fps: float, max_frames: int) -> tuple[Any, Any]:
    """The clip's frames at ``fps`` (at most ``max_frames``) and 8 uniform keyframes, decoded
    from the clip (egorag's PyAV decoder, no cache), then the clip deleted."""
    from egorag_core.data import Scene
    from egorag_core.media import VideoFrames, probe

    try:
        info = probe(clip)
        whole = Scene(0.0, info.duration)
        with VideoFrames(info, cache_bytes=0) as frames:
            return frames.sample(whole, fps=fps, max_frames=max_frames), frames.sample(
                whole, fps=None, max_frames=8
            )
    finally:
        clip.unlink(missing_ok=True)


class ClipMethod:
    """The per-scene clip method on one video; ``tmp`` holds the clips while they live."""

    def __init__(self, video: str, tmp: Path, components: dict[str, Any]):
        self.video, self.tmp, self.c = video, tmp, components
        self.seconds: dict[str, float] = {}

    def timed_stage(self, name: str, fn: Callable[[], R]) -> R:
        start = time.perf_counter()
        try:
            return fn()
        finally:
            self.seconds[name] = round(time.perf_counter() - start, 3)

    def scenes(self) -> list[tuple[float, float]]:
        """PySceneDetect's ContentDetector, as the spec uses it."""
        from scenedetect import ContentDetector, detect

        found = detect(self.video, ContentDetector())
        if not found:
            from egorag_core.media import probe

            return [(0.0, probe(self.video).duration)]
        return [(a.seconds, b.seconds) for a, b in found]

    def frames(self, prefix: str, n: int, scene: tuple[float, float]) -> Any:
        """Cut scene ``n`` to ``<prefix>_<n>.mp4`` and decode its frames at the stage's fps."""
        options = self.c["video"].options
        clip = cut_clip(self.video, *scene, self.tmp / f"{prefix}_{n}.mp4")
        sampled, _keyframes = clip_frames(clip, options.fps, options.max_frames)
        return sampled

    def video_stage(self, qwen: Any, scenes: list[tuple[float, float]]) -> list[np.ndarray]:
        """Per scene: clip, frames at 1 fps, vision tower, pooled merged tokens."""
        from egorag_qwen2vl.encoder import merged_tokens, pool_tokens

        encoder = self.c["video"]

        def one(item: tuple[int, tuple[float, float]]) -> np.ndarray:
            inputs = encoder.video_inputs(qwen, self.frames("qwen2vl_scene", *item))
            tokens = merged_tokens(qwen, inputs.pixel_values_videos, inputs.video_grid_thw)
            return pool_tokens(tokens, encoder.options.pooling)

        return in_pool(one, list(enumerate(scenes)))

    def caption_stage(self, qwen: Any, scenes: list[tuple[float, float]]) -> list[str]:
        """Per scene: a second clip, frames at 1 fps, one ``generate`` call."""
        from egorag_qwen2vl.captioner import generate_captions

        captioner = self.c["caption"]
        o = captioner.options

        def one(item: tuple[int, tuple[float, float]]) -> str:
            inputs = captioner.video_inputs(qwen, self.frames("qwen2vl_caption", *item))
            return generate_captions(qwen, [inputs], o.prompt, o.max_new_tokens)[0]

        return in_pool(one, list(enumerate(scenes)))

    def audio_stage(self, scenes: list[tuple[float, float]]) -> list[tuple[str, Any]]:
        """Per scene: its audio cut with ffmpeg, transcribed alone, embedded with CLAP."""
        from egorag_core.media import extract_audio

        asr, clap = self.c["audio.asr"], self.c["audio.embedding"]
        whisper, (clap_model, processor) = load(asr), load(clap)
        o = asr.options

        def one(scene: tuple[float, float]) -> tuple[str, Any]:
            audio = extract_audio(self.video, *scene)
            text = ""
            if audio.size >= 1600 and float(np.max(np.abs(audio))) >= o.silence_peak:
                segments, _ = whisper.transcribe(
                    audio, language=o.language, task=o.task, beam_size=o.beam_size,
                    word_timestamps=True, vad_filter=o.vad_filter,
                    condition_on_previous_text=o.condition_on_previous_text,
                )  # fmt: skip
                text = " ".join(s.text.strip() for s in segments
                                if s.no_speech_prob <= (o.no_speech_threshold or 1.0))  # fmt: skip
            return text, clap.embed(clap_model, processor, audio)[0]

        return in_pool(one, scenes)

    def text_stage(self, transcripts: list[str], captions: list[str]) -> list[np.ndarray]:
        """Per scene: MiniLM of ``Transcript: ... Visuals: ...`` and of the caption."""
        from egorag_minilm.encoder import encode_texts, scene_text

        encoder = self.c["text"]
        model, o = load(encoder), encoder.options

        def one(pair: tuple[str, str]) -> np.ndarray:
            texts = [scene_text(pair[0], pair[1], o.template), pair[1].strip()]
            return encode_texts(model, texts, o.batch_size)

        return in_pool(one, list(zip(transcripts, captions, strict=True)))

    def qwen_stages(self, scenes: list[tuple[float, float]]) -> tuple[list[Any], list[str]]:
        """Load Qwen2-VL once for the video and caption stages; released on return."""
        qwen = self.timed_stage("load qwen2vl", lambda: load(self.c["video"]))
        vectors = self.timed_stage("video", lambda: self.video_stage(qwen, scenes))
        captions = self.timed_stage("caption", lambda: self.caption_stage(qwen, scenes))
        return vectors, captions

    def run(self) -> dict[str, Any]:
        """Every stage, one model family at a time (Qwen2-VL shared by video and caption)."""
        scenes = self.timed_stage("scenes", self.scenes)
        vectors, captions = self.qwen_stages(scenes)
        gc.collect()
        audio = self.timed_stage("audio", lambda: self.audio_stage(scenes))
        transcripts = [t for t, _ in audio]
        texts = self.timed_stage("text", lambda: self.text_stage(transcripts, captions))
        return {
            "scenes": len(scenes), "stage_seconds": self.seconds,
            "video_dim": int(np.asarray(vectors[0]).size),
            "text_shape": list(np.asarray(texts[0]).shape),
            "audio_vectors": sum(v is not None for _, v in audio),
            "transcript": " ".join(t for t in transcripts if t),
        }  # fmt: skip


def clip_method(video: str) -> dict[str, Any]:
    """Run the clip method on ``video`` in this process (clips in a temporary folder that is
    removed afterwards, also on error)."""
    start = time.perf_counter()
    components = tiny_components()
    with tempfile.TemporaryDirectory(prefix="qwen2vl_clips_") as tmp:
        result = ClipMethod(video, Path(tmp), components).run()
        leftover = list(Path(tmp).iterdir())
    return result | {"inner_wall_s": time.perf_counter() - start, "clips_left": len(leftover)}


def run_clip_method(video: Path, out: Path, reference: str) -> dict[str, Any]:
    """The clip method on ``video`` in a fresh process under ``/usr/bin/time -v``."""
    out.mkdir(parents=True, exist_ok=True)
    result_file = out / "clip_method.json"
    cmd = [sys.executable, __file__, "--one", str(video), str(result_file)]
    row = timed(cmd, out / "time.txt")
    result = json.loads(result_file.read_text())
    return row | result | {"wer": wer(reference, result.pop("transcript"))}


def summary(label: str, r: dict[str, Any]) -> str:
    stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stage_seconds"].items())
    cpu = r["user_s"] + r["sys_s"]
    return (f"{label}: wall {r['wall_s']:.1f} s, CPU {cpu:.1f} s, peak RSS "
            f"{r['peak_rss_mb']:.0f} MB, {r['scenes']} scenes, WER {r['wer']:.3f}; "
            f"{stages}")  # fmt: skip


def print_results(rows: list[tuple[str, dict[str, Any]]]) -> None:
    """Each run, then medians and the ratios clip method / egorag."""
    print("| run | method | wall s | CPU s | peak RSS MB | scenes | WER |")
    print("|---|---|---|---|---|---|---|")
    for n, (label, r) in enumerate(rows, 1):
        cpu = r["user_s"] + r["sys_s"]
        print(f"| {n} | {label} | {r['wall_s']:.1f} | {cpu:.1f} | {r['peak_rss_mb']:.0f} "
              f"| {r['scenes']} | {r['wer']:.3f} |")  # fmt: skip
    med: dict[str, dict[str, float]] = {}
    for label in ("egorag", "clip method"):
        mine = [r for lab, r in rows if lab == label]
        med[label] = {k: float(np.median([r[k] for r in mine])) for k in ("wall_s", "peak_rss_mb")}
        med[label]["cpu_s"] = float(np.median([r["user_s"] + r["sys_s"] for r in mine]))
    a, b = med["egorag"], med["clip method"]
    print(f"median wall: egorag {a['wall_s']:.1f} s, clip method {b['wall_s']:.1f} s: egorag "
          f"{b['wall_s'] / a['wall_s']:.2f}x faster (target >= 5x); CPU s ratio "
          f"{b['cpu_s'] / a['cpu_s']:.2f}x")  # fmt: skip
    rss = a["peak_rss_mb"] / b["peak_rss_mb"]
    print(f"median peak RSS: egorag {a['peak_rss_mb']:.0f} MB, clip method "
          f"{b['peak_rss_mb']:.0f} MB: ratio egorag/clip {rss:.2f} (target <= 1.00)")  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help=f"minutes of {SD_SIZE} video")
    parser.add_argument("--rounds", type=int, default=2, help="A, B pairs (egorag, clip method)")
    parser.add_argument("--workdir", help="keep videos and outputs here (reused)")
    parser.add_argument("--one", nargs=2, metavar=("VIDEO", "RESULT"), help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.one:
        Path(args.one[1]).write_text(json.dumps(clip_method(args.one[0])))
        return
    print(f"date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"machine: {machine()}")
    print(f"checkout: {checkout()}")
    rows: list[tuple[str, dict[str, Any]]] = []
    with workdir(args.workdir) as work:
        video, reference = make_long_video(work / "videos", args.minutes, SD_SIZE)
        print(f"video: {video.name}, {SD_SIZE}, {args.minutes:g} min")
        for n in range(args.rounds):
            a = run_egorag(video, work / "out" / f"egorag_{n}", [], reference)
            rows.append(("egorag", a))
            print(summary("egorag", a), flush=True)
            b = run_clip_method(video, work / "out" / f"clip_{n}", reference)
            rows.append(("clip method", b))
            print(summary("clip method", b), flush=True)
    print_results(rows)


if __name__ == "__main__":
    main()
