"""Benchmark: encoding cost against video length.

Makes real H.264 videos (ffmpeg test patterns, a hard cut every 5 s, with audio) of several
lengths and encodes each in a fresh process (so peak RSS is per run), through the same ``run``
the CLI uses. Prints, per length: wall seconds, video seconds encoded per wall second, seconds
per stage, peak RSS and model loads. Cost should grow linearly with length while memory stays
flat.

    .venv/bin/python benchmarks/bench_pipeline.py                       # core stages only
    .venv/bin/python benchmarks/bench_pipeline.py --lengths 30 60 120 \\
        -- preset=tiny video=xclip caption=captioner1                    # any overrides
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_OVERRIDES = ["video=none", "caption=none", "audio=none"]
PATTERNS = ("testsrc2", "smptebars", "color=c=blue", "rgbtestsrc", "color=c=red")


def make_long_video(path: Path, seconds: int, size: str, fps: int) -> Path:
    from egorag_core.testing import make_video

    segments = [(PATTERNS[i % len(PATTERNS)], 5.0) for i in range(max(1, seconds // 5))]
    return make_video(path, segments, size=size, fps=fps)


def one(video: str, out: str, overrides: list[str]) -> dict:
    """Encode ``video`` in this process and return the measurements."""
    from egorag_core.config import compose
    from egorag_core.data import VideoDataset
    from egorag_core.run import run

    cfg, choices = compose([*overrides, "progress=false"])
    start = time.perf_counter()
    outcome = run(cfg, VideoDataset.from_path(video), out, choices=choices)
    wall = time.perf_counter() - start
    report = outcome.report.as_dict()
    (video_report,) = report["videos"]
    if video_report["status"] != "ok":
        raise SystemExit(f"benchmark video failed: {video_report['reason']}")
    return {
        "wall_seconds": wall,
        "scenes": video_report["scenes"],
        "stage_seconds": video_report["stage_seconds"],
        "peak_rss_mb": report["peak_rss_bytes"] / 2**20,
        "model_loads": sum(report["model_loads"].values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[30, 60, 120])
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--one", nargs=2, metavar=("VIDEO", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("overrides", nargs="*", help="egorag overrides (after --)")
    args = parser.parse_args()
    overrides = args.overrides or DEFAULT_OVERRIDES
    if args.one:
        print(json.dumps(one(args.one[0], args.one[1], overrides)))
        return

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rows = []
    with tempfile.TemporaryDirectory(prefix="egorag-bench-") as tmp:
        for seconds in args.lengths:
            video = make_long_video(Path(tmp) / f"v{seconds}.mp4", seconds, args.size, args.fps)
            out = Path(tmp) / f"out{seconds}"
            cmd = [sys.executable, __file__, "--one", str(video), str(out), "--", *overrides]
            result = subprocess.run(cmd, check=True, capture_output=True, text=True)
            rows.append((seconds, json.loads(result.stdout.strip().splitlines()[-1])))

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}")
    print(f"overrides: {' '.join(overrides)}; video {args.size} @ {args.fps} fps, cut every 5 s")
    stages = sorted({s for _, r in rows for s in r["stage_seconds"]})
    header = ["length s", "wall s", "video s / wall s", "scenes", "peak RSS MB", "loads", *stages]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for seconds, r in rows:
        cells = [
            str(seconds),
            f"{r['wall_seconds']:.1f}",
            f"{seconds / r['wall_seconds']:.2f}",
            str(r["scenes"]),
            f"{r['peak_rss_mb']:.0f}",
            str(r["model_loads"]),
            *(f"{r['stage_seconds'].get(s, 0.0):.2f}" for s in stages),
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
