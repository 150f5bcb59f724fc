"""Per-stage memory of one egorag run: RSS at the start and end of every stage call (each
window of the frame stages is one call) and of each video's commit, and the peak inside it.

Runs the ``egorag`` command in this process (the same arguments), with the peak reset before
each stage call (``/proc/self/clear_refs``, Linux): the peaks show which stage sets the run's
peak RSS and by how much. Resetting lowers the process's own high-water mark too, so read the
run's peak from ``/usr/bin/time -v`` of a plain run (``bench_long.py``), not of this one.

    .venv/bin/python benchmarks/stage_rss.py preset=tiny input=VIDEO output_dir=/tmp/rss \\
        progress=false
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

FIELDS = ("VmRSS", "VmHWM", "RssAnon", "RssFile")


def status() -> dict[str, int]:
    """This process's RSS, its peak, and the anonymous and file-backed parts, in MB."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in FIELDS:
            values[key] = int(value.split()[0]) // 1024
    return values


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def probed(name_of: Callable[..., str], call: Callable[..., Any]) -> Callable[..., Any]:
    """``call``, printing ``STAGE name start MB peak MB end MB anon MB file MB`` to stderr."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        before = status()
        reset_peak()
        try:
            return call(*args, **kwargs)
        finally:
            after = status()
            print(f"STAGE {name_of(*args):16s} start {before['VmRSS']:5d} peak {after['VmHWM']:5d}"
                  f" end {after['VmRSS']:5d} anon {after['RssAnon']:5d}"
                  f" file {after['RssFile']:5d}", file=sys.stderr, flush=True)  # fmt: skip

    return wrapper


def main(argv: list[str]) -> None:
    from egorag_core import run
    from egorag_core.cli import main as egorag

    run._timed_stage = probed(lambda context, name, *rest: name, run._timed_stage)
    run.commit = probed(lambda *args: "commit", run.commit)
    egorag(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
