"""Benchmark: the default ``preset=tiny`` pipeline on long videos (wall time, peak RSS).

Makes its own test videos: a 28.8 s H.264 clip (25 fps, ffmpeg test patterns with a hard cut
every 2.4 s, i.e. 25 scenes a minute, and espeak-ng speech of known text on an AAC track), then
``ffmpeg -stream_loop N -c copy`` to each length. Each video is encoded by the ``egorag`` CLI in a
fresh process under ``/usr/bin/time -v`` (peak RSS = "Maximum resident set size"). Reports wall
time, CPU time, per-stage seconds and frames needed/decoded from ``run_report.json``, scenes and
peak RSS, and the ratio of the longest to the shortest video's peak RSS per frame size.

    .venv/bin/python benchmarks/bench_long.py --lengths 1 10 60 --hd-lengths 10
    .venv/bin/python benchmarks/bench_long.py --lengths 1 --hd-lengths    # quick check
    .venv/bin/python benchmarks/bench_long.py --lengths 1 -- audio/asr.batch_size=0  # overrides
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

#: The base clip: 12 segments of 2.4 s (60 frames at 25 fps) = 28.8 s.
SEGMENT_S = 2.4
SEGMENTS = 12
CLIP_S = SEGMENT_S * SEGMENTS
FPS = 25
SD_SIZE = "640x360"
HD_SIZE = "1920x1080"
#: Silence before the first sentence and between sentences of the speech track (seconds).
SPEECH_GAP_S = 0.6
RATE = 16000
#: lavfi sources in an order where every cut (the loop's too) is one PySceneDetect's
#: ContentDetector finds (``color=c=blue`` straight into ``testsrc2`` is missed).
#: A sentence of the speech track: (start s, end s, text).
Spoken = tuple[float, float, str]
PATTERNS = ("testsrc2", "smptebars", "color=c=red", "mandelbrot", "color=c=blue", "rgbtestsrc")


def speech_track(seconds: float, folder: Path) -> tuple[np.ndarray, list[Spoken]]:
    """``seconds`` of 16 kHz espeak-ng speech (the test sentences, cycled, with short gaps)
    and the sentences it holds, ``(start, end, text)`` in order (its known text)."""
    from egorag_core.testing import SPEECH_SENTENCES, _speech

    clips = [(_speech(args, text, folder), text) for args, text in SPEECH_SENTENCES]
    track = np.zeros(int(seconds * RATE), dtype=np.float32)
    spoken: list[Spoken] = []
    at = int(SPEECH_GAP_S * RATE)
    for n in range(10_000):
        clip, text = clips[n % len(clips)]
        if at + clip.size > track.size:
            break
        track[at : at + clip.size] = clip
        spoken.append((at / RATE, (at + clip.size) / RATE, text))
        at += clip.size + int(SPEECH_GAP_S * RATE)
    return track, spoken


def write_wav(path: Path, track: np.ndarray) -> Path:
    """``track`` (16 kHz mono float32) as a 16-bit WAV file."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((np.clip(track, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", *args], check=True)


def make_clip(path: Path, size: str) -> list[Spoken]:
    """Write the base clip (``size``, 25 fps, a hard cut every 2.4 s, speech on a 48 kHz AAC
    track) to ``path``; return the sentences spoken in it."""
    from egorag_core.testing import make_video

    with tempfile.TemporaryDirectory(prefix="egorag-clip-") as tmp:
        segments = [(PATTERNS[i % len(PATTERNS)], SEGMENT_S) for i in range(SEGMENTS)]
        silent = make_video(Path(tmp) / "v.mp4", segments, size=size, fps=FPS, audio=None)
        track, spoken = speech_track(CLIP_S, Path(tmp))
        wav = write_wav(Path(tmp) / "speech.wav", track)
        ffmpeg("-i", str(silent), "-i", str(wav), "-map", "0:v", "-map", "1:a", "-c:v", "copy",
               "-c:a", "aac", "-ar", "48000", "-t", str(CLIP_S), str(path))  # fmt: skip
    return spoken


def make_long_video(folder: Path, minutes: float, size: str) -> tuple[Path, str]:
    """``minutes`` of the base clip at ``size``, looped with ``-stream_loop N -c copy``, in
    ``folder`` (reused when already there); the video and its known text (the sentences that
    end inside it)."""
    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / f"clip_{size}.mp4"
    text_file = clip.with_suffix(".json")
    if not (clip.is_file() and text_file.is_file()):
        text_file.write_text(json.dumps(make_clip(clip, size)))
    spoken = json.loads(text_file.read_text())
    seconds = minutes * 60
    loops = max(1, math.ceil(seconds / CLIP_S))
    video = folder / f"long_{size}_{minutes:g}min.mp4"
    if not video.is_file():
        ffmpeg("-stream_loop", str(loops - 1), "-i", str(clip), "-c", "copy",
               "-t", f"{seconds:g}", str(video))  # fmt: skip
    texts = [t for n in range(loops) for _, end, t in spoken if n * CLIP_S + end <= seconds]
    return video, " ".join(texts)


def words(text: str) -> list[str]:
    """Lower-case words without punctuation."""
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: word-level edit distance over the reference's word count (one numpy
    row per reference word: insertions as a running minimum)."""
    ref, hyp = words(reference), words(hypothesis)
    vocab = {w: n for n, w in enumerate(dict.fromkeys(ref + hyp))}
    hyp_ids = np.array([vocab[w] for w in hyp], dtype=np.int64)
    steps = np.arange(len(hyp) + 1)
    row = steps.copy()
    for i, word in enumerate(ref, 1):
        best = np.empty_like(row)
        best[0] = i
        best[1:] = np.minimum(row[1:] + 1, row[:-1] + (hyp_ids != vocab[word]))
        row = np.minimum.accumulate(best - steps) + steps
    return float(row[-1]) / max(1, len(ref))


def egorag_transcript(index: Path) -> str:
    """Every scene's transcript of the one video in the index at ``index``, in order."""
    from egorag_core.store import LanceStore

    (point,) = list(LanceStore(index).read())
    return " ".join(e.transcript for e in point.scene_embeddings)


def parse_time_v(text: str) -> dict[str, float]:
    """Peak RSS (MB) and CPU seconds from ``/usr/bin/time -v`` output."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        key, _, value = line.strip().rpartition(": ")
        if key == "Maximum resident set size (kbytes)":
            out["peak_rss_mb"] = int(value) / 1024
        elif key == "User time (seconds)":
            out["user_s"] = float(value)
        elif key == "System time (seconds)":
            out["sys_s"] = float(value)
    if "peak_rss_mb" not in out:
        raise RuntimeError(f"no peak RSS in /usr/bin/time output: {text[-300:]}")
    return out


def timed(cmd: Sequence[str], stats: Path) -> dict[str, float]:
    """Run ``cmd`` under ``/usr/bin/time -v``: wall seconds, peak RSS (MB), user/sys seconds.
    Raises ``RuntimeError`` with the end of its output when it fails."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", "-o", str(stats), *cmd],
                          capture_output=True, text=True)  # fmt: skip
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-2000:]
        raise RuntimeError(f"{' '.join(cmd[:3])}... exited {proc.returncode}:\n{tail}")
    return {"wall_s": wall, **parse_time_v(stats.read_text())}


def egorag_cli() -> str:
    """The ``egorag`` console script of this interpreter's environment."""
    script = Path(sys.executable).parent / "egorag"
    return str(script) if script.is_file() else shutil.which("egorag") or "egorag"


def run_egorag(
    video: Path, out: Path, overrides: Sequence[str], reference: str | None = None
) -> dict[str, Any]:
    """Encode ``video`` with ``egorag preset=tiny`` in a fresh process (a fresh ``out``):
    /usr/bin/time figures plus the report's scenes, stage seconds and frame counts, and the
    transcript's WER against ``reference`` when given."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cmd = [egorag_cli(), "preset=tiny", f"input={video}", f"output_dir={out}",
           "progress=false", *overrides]  # fmt: skip
    row = timed(cmd, out / "time.txt")
    report = json.loads((out / "run_report.json").read_text())
    (v,) = report["videos"]
    if v["status"] != "ok":
        raise RuntimeError(f"{video}: {v['status']}: {v['reason']}")
    if reference is not None:
        row["wer"] = wer(reference, egorag_transcript(out / "index"))
    asr = report["stages"].get("audio.asr", {}).get("stats", {})
    return row | {
        "scenes": v["scenes"], "stage_seconds": v["stage_seconds"],
        "frames_needed": v.get("frames_needed"), "frames_decoded": v.get("frames_decoded"),
        "report_peak_rss_mb": report["peak_rss_bytes"] / 2**20, "asr": asr,
        "model_loads": sum(report["model_loads"].values()),
    }  # fmt: skip


@contextmanager
def workdir(path: str | None) -> Iterator[Path]:
    """``path`` (kept, videos reused) or a temporary folder removed at the end."""
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix="egorag-long-") as tmp:
        yield Path(tmp)


def machine() -> str:
    """CPU model, cores, memory, Python: the line printed beside the figures."""
    cpu = platform.processor() or platform.machine()
    with open("/proc/cpuinfo") as f:
        cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    with open("/proc/meminfo") as f:
        mem_kb = int(next(ln.split()[1] for ln in f if ln.startswith("MemTotal")))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{cpu}, nproc {os.cpu_count()}, {mem_kb / 2**20:.1f} GiB, Python "
            f"{platform.python_version()}; load average at start {load}")  # fmt: skip


def checkout() -> str:
    """The commit measured and the files changed on top of it (others edit while we run)."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return proc.stdout

    dirty = [line[3:] for line in git("status", "--short", "-uno").splitlines()]
    return git("rev-parse", "--short", "HEAD").strip() + (f" + changes to {', '.join(dirty)}"
                                                       if dirty else "")  # fmt: skip


def print_table(rows: list[tuple[str, float, dict[str, Any]]]) -> None:
    """The figures as a Markdown table, one row per video."""
    stages = sorted({s for _, _, r in rows for s in r["stage_seconds"]})
    header = ["video", "min", "wall s", "CPU s", "scenes", "frames needed/decoded",
              "peak RSS MB", "WER", *(f"{s} s" for s in stages)]  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for size, minutes, r in rows:
        cells = [size, f"{minutes:g}", f"{r['wall_s']:.1f}", f"{r['user_s'] + r['sys_s']:.1f}",
                 str(r["scenes"]), f"{r['frames_needed']}/{r['frames_decoded']}",
                 f"{r['peak_rss_mb']:.0f}", f"{r.get('wer', float('nan')):.3f}",
                 *(f"{r['stage_seconds'].get(s, 0.0):.1f}" for s in stages)]  # fmt: skip
        print("| " + " | ".join(cells) + " |")


def print_ratios(rows: list[tuple[str, float, dict[str, Any]]]) -> None:
    """Peak RSS of the longest over the shortest video, per frame size (target <= 1.25)."""
    for size in dict.fromkeys(s for s, _, _ in rows):
        mine = sorted((m, r) for s, m, r in rows if s == size)
        if len(mine) < 2:
            continue
        (m0, r0), (m1, r1) = mine[0], mine[-1]
        ratio = r1["peak_rss_mb"] / r0["peak_rss_mb"]
        print(f"{size}: peak RSS {m1:g} min / {m0:g} min = {r1['peak_rss_mb']:.0f} / "
              f"{r0['peak_rss_mb']:.0f} MB = {ratio:.2f} (target <= 1.25)")  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=float, nargs="*", default=[1, 10, 60],
                        help=f"minutes of {SD_SIZE} video")  # fmt: skip
    parser.add_argument("--hd-lengths", type=float, nargs="*", default=[10],
                        help=f"minutes of {HD_SIZE} video")  # fmt: skip
    parser.add_argument("--workdir", help="keep videos and outputs here (reused)")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--no-warmup", action="store_true",
                        help="no unmeasured first run (it builds the tiny models)")  # fmt: skip
    parser.add_argument("overrides", nargs="*", help="extra egorag overrides (after --)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(f"date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"machine: {machine()}")
    print(f"checkout: {checkout()}")
    print(f"command: egorag preset=tiny input=VIDEO progress=false {' '.join(args.overrides)}")
    rows: list[tuple[str, float, dict[str, Any]]] = []
    plan = [(SD_SIZE, m) for m in args.lengths] + [(HD_SIZE, m) for m in args.hd_lengths]
    plan.sort(key=lambda p: (p[1], p[0] == HD_SIZE))  # shortest first
    with workdir(args.workdir) as work:
        if not args.no_warmup and plan:
            video, _ = make_long_video(work / "videos", 0.25, SD_SIZE)
            run_egorag(video, work / "out" / "warmup", args.overrides)
        for size, minutes in plan:
            video, reference = make_long_video(work / "videos", minutes, size)
            out = work / "out" / f"{size}_{minutes:g}"
            r = run_egorag(video, out, args.overrides, reference)
            rows.append((size, minutes, r))
            print(f"{size} {minutes:g} min: {json.dumps(r)}", flush=True)
    print_table(rows)
    print_ratios(rows)
    if args.json:
        Path(args.json).write_text(json.dumps([list(r) for r in rows], indent=1))


if __name__ == "__main__":
    main()
