"""Benchmark: whole-video ASR, sequential against batched faster-whisper.

Builds a speech track of known text (espeak-ng, forty sentences in two voices, shuffled, 0.3 to
1.2 s apart, until ``--minutes`` are filled) in a small video (64x64 black frames, 16 kHz PCM
audio), then transcribes it through egorag's ``audio/asr=faster_whisper`` component
(``packaged:tiny.en``, int8), once with ``batch_size: 0`` (sequential ``WhisperModel.transcribe``)
and once with ``batch_size: 3`` (the default: ``BatchedInferencePipeline`` fed a batch at a time),
alternating A,B,A,B, each in a fresh process (``--modes ... whole-track`` adds faster-whisper's
pipeline called on the whole track at once, outside egorag). Per run: the ASR pass's wall and
CPU seconds (model loaded and audio extracted before the clock starts), its word error rate
against the known text and the process's peak RSS during the pass. Prints a Markdown table of
medians and the speed ratio.

    .venv/bin/python benchmarks/bench_asr.py                        # 10 min, 2 rounds
    .venv/bin/python benchmarks/bench_asr.py --minutes 20 --rounds 1
    .venv/bin/python benchmarks/bench_asr.py --modes batched whole-track   # vs the bare pipeline
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "I would like a cup of tea with milk please.",
    "The weather is sunny and warm today.",
    "My phone is on the kitchen table.",
    "Please close the window before you leave the house.",
    "The train to the city leaves from the second platform.",
    "She planted red roses along the garden fence.",
    "We need more bread, butter and fresh eggs.",
    "The children played football in the park after school.",
    "He forgot his umbrella at the office again.",
    "The old bridge was closed for repairs last week.",
    "Turn left at the bakery and walk to the end of the street.",
    "The meeting has been moved to tomorrow morning.",
    "A small boat drifted slowly across the quiet lake.",
    "Can you help me carry these boxes upstairs?",
    "The library opens early on weekdays.",
    "My brother is learning to play the guitar.",
    "The soup needs a little more salt and pepper.",
    "Remember to water the plants while I am away.",
    "The museum has a new exhibition about ancient ships.",
    "Our friends are painting their front door green.",
    "The dog barked at the postman every morning.",
    "Please send me the report before lunch.",
    "The mountain road was covered with fresh snow.",
    "She reads a chapter of her book every night.",
    "The market sells apples, pears and cherries.",
    "We watched the sunset from the top of the hill.",
    "The printer on the third floor is out of paper.",
    "He cooked pasta with tomatoes and garlic for dinner.",
    "The bus was late because of heavy traffic.",
    "I left my keys in the pocket of my jacket.",
    "The teacher asked the students to open their books.",
    "A cold wind blew through the empty streets.",
    "They are building a new hospital near the river.",
    "Could you turn down the music a little?",
    "The cat is sleeping on the warm blanket.",
    "We should buy tickets for the concert soon.",
    "The kitchen smells of coffee and fresh bread.",
    "He fixed the broken chair with a few nails.",
    "The plane landed safely despite the storm.",
)
#: espeak-ng voices (and pitch), the two of egorag_core.testing.SPEECH_SENTENCES.
VOICES = (("-v", "en-us+klatt", "-p", "40"), ("-v", "en+f4", "-p", "99"))
ESPEAK_RATE = 22050
#: Each mode's faster_whisper options over the defaults (beam_size 5).
MODES: dict[str, dict[str, int]] = {
    "sequential": {"batch_size": 0},
    "batched": {"batch_size": 3},
    "batched-2": {"batch_size": 2},
    "batched-4": {"batch_size": 4},
    "batched-8": {"batch_size": 8},
    "batched-greedy": {"batch_size": 4, "beam_size": 1},
    "whole-track": {"batch_size": 8},
}


def speak(voice: tuple[str, ...], text: str) -> np.ndarray:
    """``text`` spoken by espeak-ng (150 words/min) as float32 at espeak's 22.05 kHz."""
    out = subprocess.run(["espeak-ng", *voice, "-s", "150", "--stdout", text],
                         check=True, capture_output=True).stdout  # fmt: skip
    with wave.open(io.BytesIO(out)) as w:
        assert w.getframerate() == ESPEAK_RATE and w.getsampwidth() == 2
        frames = w.readframes(w.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768


def build_track(seconds: float, seed: int = 0) -> tuple[np.ndarray, str]:
    """A speech track of ``seconds`` (22.05 kHz) and its text: the sentences shuffled round
    after round, the voice alternating, 0.3-1.2 s of silence between them."""
    rng = random.Random(seed)
    cache: dict[tuple[int, str], np.ndarray] = {}
    pieces: list[np.ndarray] = []
    text: list[str] = []
    size, limit, n = 0, int(seconds * ESPEAK_RATE), 0
    while True:
        order = rng.sample(SENTENCES, len(SENTENCES))
        for sentence in order:
            voice = n % 2
            n += 1
            if (voice, sentence) not in cache:
                cache[voice, sentence] = speak(VOICES[voice], sentence)
            gap = np.zeros(int(rng.uniform(0.3, 1.2) * ESPEAK_RATE), dtype=np.float32)
            clip = cache[voice, sentence]
            if size + gap.size + clip.size > limit:
                pieces.append(np.zeros(limit - size, dtype=np.float32))
                return np.concatenate(pieces), " ".join(text)
            pieces += [gap, clip]
            text.append(sentence)
            size += gap.size + clip.size


def make_video(path: Path, seconds: float) -> str:
    """Write the speech track as a video (black 64x64 at 1 fps, 16 kHz mono PCM in MKV) at
    ``path``; return the reference text."""
    track, text = build_track(seconds)
    wav = path.with_suffix(".wav")
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(ESPEAK_RATE)
        w.writeframes((np.clip(track, -1, 1) * 32767).astype("<i2").tobytes())
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-v", "error", "-f", "lavfi",
         "-i", "color=c=black:s=64x64:r=1", "-i", str(wav), "-map", "0:v", "-map", "1:a",
         "-t", str(seconds), "-c:v", "libx264", "-c:a", "pcm_s16le", "-ar", "16000", "-ac", "1",
         str(path)], check=True,
    )  # fmt: skip
    wav.unlink()
    return text


def memory() -> dict[str, float]:
    """This process's resident memory now and its peak (VmRSS, VmHWM), MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}


def cpu_seconds() -> float:
    """CPU seconds (user + system, all threads) this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def reset_peak() -> bool:
    """Reset this process's peak RSS (Linux ``clear_refs``); False where not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def transcribe(asr: Any, job: Any, mode: str) -> str:
    """The ASR pass of ``mode`` over ``job``'s audio; its text. ``whole-track`` calls
    faster-whisper's own ``BatchedInferencePipeline.transcribe`` on the whole track at once
    (the pipeline's defaults, word timestamps), for comparison with egorag's batched path."""
    if mode != "whole-track":
        asr.process(job)
        return " ".join(r.transcript for r in job.results)
    from faster_whisper import BatchedInferencePipeline

    with job.scheduler.use(asr.spec()) as model:
        segments, _ = BatchedInferencePipeline(model).transcribe(
            job.audio(), beam_size=5, word_timestamps=True, batch_size=MODES[mode]["batch_size"])
        return " ".join(s.text.strip() for s in segments)


def child(video: str, mode: str) -> dict:
    """One ASR pass over ``video`` in this process: wall and CPU seconds, text, memory."""
    from egorag_core.components import Settings
    from egorag_core.pipeline import build_component
    from egorag_core.plugins import load_plugins
    from egorag_core.testing import open_job

    settings = Settings(show_progress=False)
    options = {"model": "packaged:tiny.en", "compute_type": "int8", **MODES[mode]}
    asr = build_component(load_plugins(), "audio/asr", "faster_whisper", options, settings)
    with open_job(video, settings=settings) as job, job.scheduler.use(asr.spec()):
        job.audio()  # extracted (and the model loaded) before the clock starts
        before = memory()["VmRSS"]
        reset = reset_peak()
        start, cpu = time.perf_counter(), cpu_seconds()
        text = transcribe(asr, job, mode)
        wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        peak = memory()["VmHWM"]
    return {"wall_s": wall, "cpu_s": cpu, "rss_before_mb": before, "peak_mb": peak,
            "peak_reset": reset, "text": text, "stats": asr.stats()}  # fmt: skip


def run_child(video: Path, mode: str) -> dict:
    """``child`` in a fresh Python process (so its peak RSS is its own)."""
    cmd = [sys.executable, __file__, "--child", str(video), "--mode", mode]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def machine() -> str:
    """CPU model, cores and Python, in one line."""
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())  # fmt: skip
    return f"{model}, nproc {os.cpu_count()}, Python {platform.python_version()}"


def report(runs: dict[str, list[dict]], reference: str, minutes: float) -> None:
    """Print one Markdown row per mode (medians over the rounds) and the speed ratio."""
    from egorag_whisper.wer import word_error_rate

    print(f"\n{machine()}; {minutes:g} min of speech, {len(reference.split())} words\n")
    print("| mode | options | runs | wall s (median) | wall s (each) | CPU s (median) | WER | "
          "peak RSS MB | RSS before MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    medians, cpus = {}, {}
    for mode, results in runs.items():
        walls = [r["wall_s"] for r in results]
        medians[mode] = statistics.median(walls)
        cpus[mode] = statistics.median(r["cpu_s"] for r in results)
        wers = sorted({round(word_error_rate(reference, r["text"]), 4) for r in results})
        peak = statistics.median(r["peak_mb"] for r in results)
        before = statistics.median(r["rss_before_mb"] for r in results)
        options = " ".join(f"{k}={v}" for k, v in MODES[mode].items())
        print(f"| {mode} | {options} | {len(results)} | {medians[mode]:.1f} | "
              f"{', '.join(f'{w:.1f}' for w in walls)} | {cpus[mode]:.1f} | "
              f"{', '.join(map(str, wers))} | "
              f"{peak:.0f} | {before:.0f} |")
    for mode in [m for m in runs if m != "sequential" and "sequential" in runs]:
        print(f"sequential/{mode}: {medians['sequential'] / medians[mode]:.2f}x wall, "
              f"{cpus['sequential'] / cpus[mode]:.2f}x CPU")


def main() -> None:
    """Parse arguments; build the track, run the modes alternately, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--modes", nargs="+", choices=list(MODES),
                        default=["sequential", "batched"])  # fmt: skip
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=list(MODES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.mode)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-asr-") as tmp:
        video = Path(tmp) / "speech.mkv"
        reference = make_video(video, args.minutes * 60)
        runs: dict[str, list[dict]] = {mode: [] for mode in args.modes}
        for n in range(args.rounds):
            for mode in args.modes:
                runs[mode].append(run_child(video, mode))
                r = runs[mode][-1]
                print(f"round {n + 1} {mode}: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, "
                      f"peak {r['peak_mb']:.0f} MB", file=sys.stderr, flush=True)
        report(runs, reference, args.minutes)


if __name__ == "__main__":
    main()
