"""Compare the jobs of a sweep: ``egorag compare SWEEP_DIR [--queries QUERIES.json]``.

Every folder under ``SWEEP_DIR`` with a ``run_report.json`` is one job of an ``egorag
--multirun``. One row per job: the overrides that differ between jobs (from Hydra's
``.hydra/overrides.yaml``), videos ok (or skipped) and failed, wall seconds, seconds per stage,
peak RSS (the process's: the jobs of one multirun share a process, so a later job's peak
includes the earlier ones'), model loads, vector sizes per modality, whether any stage ran
random weights, and with queries the ``auto`` recall@5 and MRR of its index
(:mod:`egorag_core.evaluate`). Written to ``SWEEP_DIR/compare.md``, ``compare.csv`` and
``compare.png`` (matplotlib, when installed).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import EgoragError, SearchError

#: The chart's size in inches at :data:`DPI`: 1000 x 450 pixels.
FIGSIZE = (10.0, 4.5)
DPI = 100


def find_jobs(sweep: str | Path) -> list[Path]:
    """The job folders of a sweep (each holds a ``run_report.json``), sorted."""
    sweep = Path(sweep)
    if not sweep.is_dir():
        raise SearchError(f"{sweep}: no such folder (give the output_dir of an egorag --multirun)")
    jobs = sorted(p.parent for p in sweep.rglob("run_report.json"))
    if not jobs:
        raise SearchError(f"{sweep}: no run_report.json under it (not an egorag output folder)")
    return jobs


def job_overrides(job: Path) -> dict[str, str]:
    """The command-line overrides of a job, ``{key: value}`` (Hydra's record of them)."""
    import yaml

    path = job / ".hydra" / "overrides.yaml"
    items = yaml.safe_load(path.read_text()) if path.is_file() else []
    pairs = (str(item).partition("=") for item in items or [])
    return {key: value for key, _, value in pairs}


def differing(overrides: Sequence[dict[str, str]]) -> list[str]:
    """The override keys whose values are not the same in every job (all when one job)."""
    keys = sorted({k for o in overrides for k in o})
    if len(overrides) < 2:
        return keys
    return [k for k in keys if len({o.get(k, "-") for o in overrides}) > 1]


def index_dims(index: Path) -> dict[str, int]:
    """Size of each vector column of an index, by modality (empty without one)."""
    from .store import SCENES, LanceStore

    if not index.is_dir():
        return {}
    table = LanceStore(index, create=False).table(SCENES)
    if table is None:
        return {}
    return {f.name.removesuffix("_vector"): f.type.list_size for f in table.schema
            if f.name.endswith("_vector")}  # fmt: skip


def wall_seconds(report: dict[str, Any]) -> float:
    """From the report's start to its last write."""
    start = dt.datetime.fromisoformat(report["started"])
    return (dt.datetime.fromisoformat(report["finished"]) - start).total_seconds()


def job_row(job: Path, sweep: Path, keys: Sequence[str], queries: Sequence[Any] | None,
            device: str = "cpu") -> dict[str, Any]:  # fmt: skip
    """One row of the comparison."""
    report = json.loads((job / "run_report.json").read_text())
    overrides = job_overrides(job)
    index = Path(report.get("index") or job / "index")
    if not index.is_dir() and (job / "index").is_dir():  # the sweep folder was moved
        index = job / "index"
    models = [m for stage in report["stages"].values() for m in stage.get("models", [])]
    row: dict[str, Any] = {
        "job": str(job.relative_to(sweep)) if job != sweep else ".",
        "overrides": " ".join(f"{k}={overrides.get(k, '-')}" for k in keys),
        "ok": report["counts"].get("ok", 0) + report["counts"].get("skipped", 0),
        "failed": report["counts"].get("failed", 0),
        "wall_s": round(wall_seconds(report), 1),
        "stage_s": {k: round(v, 2) for k, v in report.get("stage_seconds_total", {}).items()},
        "peak_rss_mb": round(report.get("peak_rss_bytes", 0) / 2**20),
        "model_loads": sum(report.get("model_loads", {}).values()),
        "dims": index_dims(index),
        "random_weights": any(m.get("random_weights") for m in models),
    }
    if queries is not None:
        row.update(job_recall(index, queries, device))
    return row


def job_recall(index: Path, queries: Sequence[Any], device: str) -> dict[str, Any]:
    """``auto`` recall@5 and MRR of a job's index (``None`` with the reason when it cannot be
    searched)."""
    from .evaluate import evaluate
    from .retrieval import SearchIndex

    try:
        result = evaluate(SearchIndex(index, device), queries, ["auto"])
    except EgoragError as exc:
        return {"recall@5": None, "mrr": None, "note": str(exc)}
    auto = result["modalities"].get("auto")
    if auto is None:
        return {"recall@5": None, "mrr": None, "note": result["skipped"].get("auto", "")}
    return {"recall@5": round(auto["recall@5"], 3), "mrr": round(auto["mrr"], 3)}


def compare(sweep: str | Path, queries: Sequence[Any] | None = None,
            device: str = "cpu") -> list[dict[str, Any]]:  # fmt: skip
    """One row per job of the sweep in ``sweep`` (see the module's docstring)."""
    sweep = Path(sweep)
    jobs = find_jobs(sweep)
    keys = differing([job_overrides(job) for job in jobs])
    return [job_row(job, sweep, keys, queries, device) for job in jobs]


def flat(rows: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the table: one column per stage, sizes as ``video:512``."""
    stages = list(dict.fromkeys(s for r in rows for s in r["stage_s"]))
    recall = any("recall@5" in r for r in rows)
    header = ["job", "overrides", "ok", "failed", "wall_s", *[f"{s}_s" for s in stages],
              "peak_rss_mb", "model_loads", "dims", "random_weights"]  # fmt: skip
    header += ["recall@5", "mrr"] if recall else []
    cells = []
    for r in rows:
        line = [r["job"], r["overrides"], r["ok"], r["failed"], r["wall_s"],
                *[r["stage_s"].get(s, "") for s in stages], r["peak_rss_mb"], r["model_loads"],
                " ".join(f"{m}:{d}" for m, d in r["dims"].items()),
                "yes" if r["random_weights"] else "no"]  # fmt: skip
        if recall:
            line += ["n/a" if r.get(k) is None else r[k] for k in ("recall@5", "mrr")]
        cells.append(["" if c is None else str(c) for c in line])
    return header, cells


def markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The table in Markdown, with the reasons of any recall left out."""
    header, cells = flat(rows)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in line) + " |" for line in cells]
    lines += [f"\n{r['job']}: no recall: {r['note']}" for r in rows if r.get("note")]
    return "\n".join(lines) + "\n"


def write_csv(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    header, cells = flat(rows)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(cells)
    return path


def chart(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """``compare.png``: seconds per stage (stacked) and recall@5 / MRR, one bar row per job."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [(r["overrides"] or r["job"]).replace(" ", "\n") for r in rows]
    ys = list(range(len(rows)))
    fig, (left, right) = plt.subplots(1, 2, figsize=FIGSIZE, dpi=DPI, sharey=True)
    stages = list(dict.fromkeys(s for r in rows for s in r["stage_s"]))
    base = [0.0] * len(rows)
    for stage in stages:
        values = [r["stage_s"].get(stage, 0.0) for r in rows]
        left.barh(ys, values, left=base, label=stage)
        base = [b + v for b, v in zip(base, values, strict=True)]
    left.set_yticks(ys, labels, fontsize="small")
    left.set_xlabel("seconds (stage totals)")
    left.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=4)
    _recall_panel(right, rows)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _recall_panel(ax: Any, rows: Sequence[dict[str, Any]]) -> None:
    ax.tick_params(labelleft=False)
    if not any(r.get("recall@5") is not None for r in rows):
        ax.text(0.5, 0.5, "no recall: run egorag compare\nwith --queries QUERIES.json",
                ha="center", va="center", transform=ax.transAxes)  # fmt: skip
        ax.set_xticks([])
        return
    for offset, key in ((-0.2, "recall@5"), (0.2, "mrr")):
        values = [r.get(key) or 0.0 for r in rows]
        ax.barh([y + offset for y in range(len(rows))], values, height=0.4, label=key)
    ax.set_xlim(0, 1)
    ax.set_xlabel("auto search")
    ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)


def write_outputs(rows: Sequence[dict[str, Any]], sweep: str | Path) -> tuple[list[Path], str]:
    """``compare.md``, ``compare.csv`` and ``compare.png`` in ``sweep``; the paths written
    and a line saying why the chart was not (matplotlib missing), else ""."""
    sweep = Path(sweep)
    md = sweep / "compare.md"
    md.write_text(markdown(rows))
    written = [md, write_csv(rows, sweep / "compare.csv")]
    try:
        written.append(chart(rows, sweep / "compare.png"))
    except ImportError:
        return written, "compare.png not written: pip install 'egorag-core[compare]' (matplotlib)"
    return written, ""
