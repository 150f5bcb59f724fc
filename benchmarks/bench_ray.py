"""Benchmark: ``executor=local`` against ``executor=ray`` (2 workers) with ``preset=tiny``.

Two workloads, made with ``bench_long``'s helpers (640x360 H.264, a hard cut every 2.4 s,
espeak-ng speech on the audio track, looped with ``ffmpeg -stream_loop``): six short videos
(21 to 36 s, all different bytes) in one run, and one 10-minute video in another. Each run is
the ``egorag`` CLI in a fresh process that starts its own Ray (so Ray's start-up is in every
``ray`` figure); the 10-minute video is also run sharded (``executor.shard_minutes``) so both
workers work on it. Cases run in rounds (A, B, A, B...) to spread the machine's load over them;
the table gives medians and every value.

Per run: wall seconds; Ray's start (driver's log: the workers ready); peak RSS of the driver
(its own ``getrusage``, from the report), of each worker (the same, from the report), and the
peak of the whole process tree's summed RSS (driver + Ray's own processes + workers, sampled
every 0.2 s with psutil); model loads (summed over workers).

    .venv/bin/python benchmarks/bench_ray.py --rounds 2
    .venv/bin/python benchmarks/bench_ray.py --rounds 1 --long-minutes 1   # quick check
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_long import SD_SIZE, checkout, egorag_cli, machine, make_long_video, workdir  # noqa: E402

#: Minutes of the six short videos (different lengths: different bytes, no duplicates).
SHORT_MINUTES = (0.35, 0.40, 0.45, 0.50, 0.55, 0.60)
CASES = {
    "local": ["executor=local"],
    "ray": ["executor=ray", "executor.workers=2"],
}


def tree_rss(proc: psutil.Process) -> int:
    """Summed RSS of ``proc`` and all its descendants (processes gone meanwhile skipped)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_case(cmd: list[str], out: Path) -> dict[str, Any]:
    """Run ``cmd``; wall seconds and the peak of the process tree's summed RSS, sampled."""
    start = time.perf_counter()
    with open(out / "stderr.txt", "w") as err:
        popen = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        proc, peak = psutil.Process(popen.pid), 0
        while popen.poll() is None:
            peak = max(peak, tree_rss(proc))
            time.sleep(0.2)
    wall = time.perf_counter() - start
    if popen.returncode != 0:
        raise RuntimeError(f"exit {popen.returncode}: {(out / 'stderr.txt').read_text()[-2000:]}")
    return {"wall_s": wall, "tree_peak_mb": peak / 2**20}


def ray_start_s(out: Path) -> float | None:
    """Seconds Ray took to start and have its workers ready, from the run's log."""
    log = (out / "egorag.log").read_text() if (out / "egorag.log").exists() else ""
    found = re.search(r"workers ready in ([0-9.]+) s", log)
    return float(found.group(1)) if found else None


def measure(inputs: Path, overrides: list[str], out: Path) -> dict[str, Any]:
    """One run in a fresh output folder: the run's figures and the report's."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cmd = [egorag_cli(), "preset=tiny", f"input={inputs}", f"output_dir={out}",
           "progress=false", *overrides]  # fmt: skip
    row = run_case(cmd, out)
    report = json.loads((out / "run_report.json").read_text())
    if report["counts"]["failed"] or not report["counts"]["ok"]:
        raise RuntimeError(f"{out}: {report['counts']}")
    workers = report.get("workers", [])
    return row | {
        "ray_start_s": ray_start_s(out),
        "driver_peak_mb": report["peak_rss_bytes"] / 2**20,
        "worker_peak_mb": [w["peak_rss_bytes"] / 2**20 for w in workers if "peak_rss_bytes" in w],
        "model_loads": sum(report["model_loads"].values()),
        "videos": report["counts"]["ok"],
        "scenes": sum(v["scenes"] for v in report["videos"]),
    }


def make_inputs(work: Path, long_minutes: float) -> dict[str, Path]:
    """The two workloads' listings: ``short`` (six videos) and ``long`` (one)."""
    videos = work / "videos"
    short = [make_long_video(videos, m, SD_SIZE)[0] for m in SHORT_MINUTES]
    long_video, _ = make_long_video(videos, long_minutes, SD_SIZE)
    listings = {}
    for name, paths in (("short", short), ("long", [long_video])):
        listings[name] = work / f"{name}.json"
        listings[name].write_text(json.dumps([{"path": str(p)} for p in paths]))
    return listings


def median_cell(values: list[float | None], digits: int = 1) -> str:
    """``median (v1, v2, ...)``."""
    present = [v for v in values if v is not None]
    if not present:
        return "-"
    listed = ", ".join(f"{v:.{digits}f}" for v in present)
    return f"{statistics.median(present):.{digits}f} ({listed})"


def print_table(rows: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    print("| workload | executor | wall s | Ray start s | driver peak RSS MB | worker peak RSS MB "
          "| process tree peak RSS MB | model loads |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for (workload, case), runs in rows.items():
        workers = [max(r["worker_peak_mb"]) for r in runs if r["worker_peak_mb"]]
        cells = [workload, case, median_cell([r["wall_s"] for r in runs]),
                 median_cell([r["ray_start_s"] for r in runs]),
                 median_cell([r["driver_peak_mb"] for r in runs], 0),
                 median_cell(workers, 0) if workers else "-",
                 median_cell([r["tree_peak_mb"] for r in runs], 0),
                 str(sorted({r["model_loads"] for r in runs}))]  # fmt: skip
        print("| " + " | ".join(cells) + " |")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="A,B rounds (medians over them)")
    parser.add_argument("--long-minutes", type=float, default=10)
    parser.add_argument("--shard-minutes", type=float, default=5,
                        help="shards of the long video under ray (0: no sharded case)")  # fmt: skip
    parser.add_argument("--workdir", help="keep videos and outputs here (reused)")
    parser.add_argument("--json", help="also write every run's figures to this file")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(f"date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"machine: {machine()}")
    print(f"checkout: {checkout()}")
    cases = dict(CASES)
    if args.shard_minutes:
        cases["ray sharded"] = [*CASES["ray"], f"executor.shard_minutes={args.shard_minutes:g}"]
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with workdir(args.workdir) as work:
        listings = make_inputs(work, args.long_minutes)
        measure(listings["short"], ["executor=local"], work / "warmup")  # builds tiny models
        for n in range(args.rounds):
            for workload, listing in listings.items():
                for case, overrides in cases.items():
                    if case == "ray sharded" and workload == "short":
                        continue
                    row = measure(listing, overrides, work / "out" / f"{workload}-{case}-{n}")
                    rows.setdefault((workload, case), []).append(row)
                    print(f"round {n + 1} {workload} {case}: {json.dumps(row)}", flush=True)
    print(f"loadavg at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"command: egorag preset=tiny input=LISTING progress=false + {json.dumps(cases)}")
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps({" / ".join(k): v for k, v in rows.items()},
                                              indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
