"""How well an index answers known questions: ``egorag eval QUERIES.json --index DIR``.

``QUERIES.json`` is a list of ``{"query", "video", "start", "end"}`` (times in seconds; ``video``
a name or path the index knows). A hit is a returned scene of that video overlapping the span.
For every modality the index can search, and for ``auto``, each query is searched once for its
top 10: recall@k is the share of queries with a hit in the first k, MRR the mean of 1/rank of
the first hit (0 when none is in the top 10).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError, SearchError
from .retrieval import SEARCH_MODALITIES, Hit, SearchIndex

KS = (1, 5, 10)


@dataclass(frozen=True)
class Query:
    """A question and where its answer is: ``video`` (name or path) from ``start`` to ``end``."""

    query: str
    video: str
    start: float
    end: float


def load_queries(path: str | Path) -> list[Query]:
    """The queries of a JSON file; :class:`InputError` (one line) when it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: queries file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: malformed JSON ({exc})") from None
    if not isinstance(data, list) or not data:
        raise InputError(f'{path}: expected a non-empty list of {{"query", "video", "start", '
                         '"end"}')  # fmt: skip
    out = []
    for i, entry in enumerate(data):
        try:
            query = Query(str(entry["query"]), str(entry["video"]), float(entry["start"]),
                          float(entry["end"]))  # fmt: skip
        except (KeyError, TypeError, ValueError):
            raise InputError(f'{path} entry {i}: needs "query", "video", "start" and "end" '
                             "(seconds)") from None  # fmt: skip
        if not query.query.strip() or query.end < query.start:
            raise InputError(f"{path} entry {i}: empty query or end before start")
        out.append(query)
    return out


def first_relevant(hits: Sequence[Hit], query: Query, names: dict[str, set[str]]) -> int | None:
    """The 1-based rank of the first hit in ``query``'s video overlapping its span."""
    for rank, hit in enumerate(hits, 1):
        if query.video in names.get(hit.key, set()) and hit.start < query.end and \
                hit.end > query.start:  # fmt: skip
            return rank
    return None


def metrics(ranks: Sequence[int | None]) -> dict[str, float]:
    """recall@1/5/10 and MRR of the ranks (``None``: not found in the top 10)."""
    n = max(len(ranks), 1)
    out = {f"recall@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in KS}
    out["mrr"] = sum(1.0 / r for r in ranks if r is not None) / n
    return out


def evaluate(index: SearchIndex, queries: Sequence[Query],
             modalities: Sequence[str] | None = None) -> dict[str, Any]:  # fmt: skip
    """Per modality (default: ``auto`` and every one the index can search), recall@1/5/10,
    MRR and the rank of each query; modalities it cannot search under ``"skipped"``."""
    names = {key: {n for pair in known for n in pair} for key, known in index.store.names().items()}
    known = set().union(*names.values()) if names else set()
    for q in queries:
        if q.video not in known:
            raise SearchError(f"query {q.query!r}: no video {q.video!r} in the index")
    results: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    default = [m for m in SEARCH_MODALITIES if m != "ocr" or index.has_ocr]
    for modality in modalities or default:
        sources, notes = index.plan(modality)
        if not sources:
            skipped[modality] = notes[0] if notes else "nothing to search"
            continue
        ranks = [first_relevant(index.search(q.query, max(KS), modality), q, names)
                 for q in queries]  # fmt: skip
        results[modality] = {**metrics(ranks), "queries": len(queries), "ranks": ranks}
    return {"index": str(index.path), "queries": len(queries), "modalities": results,
            "skipped": skipped}  # fmt: skip


def format_report(report: dict[str, Any]) -> str:
    """The evaluation as a plain table."""
    lines = [f"{report['queries']} queries, index {report['index']}",
             f"{'modality':<12}{'R@1':>7}{'R@5':>7}{'R@10':>7}{'MRR':>7}"]  # fmt: skip
    for modality, m in report["modalities"].items():
        lines.append(f"{modality:<12}" + "".join(
            f"{m[key]:>7.3f}" for key in ("recall@1", "recall@5", "recall@10", "mrr")))
    lines += [f"not evaluated: {note}" for note in report["skipped"].values()]
    return "\n".join(lines)
