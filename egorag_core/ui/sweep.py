"""The jobs of a sweep (an ``egorag --multirun`` output folder) for the sweep page: the table
and chart of :mod:`egorag_core.compare`, and one :class:`~.catalog.Catalog` per job's index."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ..errors import EgoragError
from .catalog import Catalog


class Sweep:
    """The sweep in ``folder``: its jobs, each job's index (where it has scenes), the
    comparison rows. Raises :class:`~egorag_core.errors.SearchError` when ``folder`` holds no
    job."""

    def __init__(self, folder: str | Path, device: str = "cpu",
                 queries: str | Path | None = None):  # fmt: skip
        from ..compare import find_jobs
        from ..evaluate import load_queries

        self.folder = Path(folder)
        self.jobs = find_jobs(self.folder)
        self.device = device
        #: ``egorag eval``'s questions: the table and chart then have recall@5 and MRR.
        self.queries = load_queries(queries) if queries else None
        self._rows: list[dict[str, Any]] | None = None
        self._lock = threading.Lock()
        #: Per job folder, why its index cannot be shown (no scenes, unreadable).
        self.problems: dict[str, str] = {}

    def catalogs(self) -> list[Catalog]:
        """A catalog per job whose index can be opened, labelled with the overrides that
        differ between the jobs."""
        from ..compare import differing, job_overrides

        overrides = [job_overrides(job) for job in self.jobs]
        keys = differing(overrides)
        out = []
        for job, given in zip(self.jobs, overrides, strict=True):
            name = str(job.relative_to(self.folder)) if job != self.folder else "."
            label = " ".join(f"{k}={given.get(k, '-')}" for k in keys) or name
            try:
                out.append(Catalog(job / "index", self.device, label))
            except EgoragError as exc:
                self.problems[name] = str(exc)
        return out

    def rows(self) -> list[dict[str, Any]]:
        """``egorag compare``'s rows (made once, on the first visit: with queries, that
        loads the query models)."""
        from ..compare import compare

        with self._lock:
            if self._rows is None:
                self._rows = compare(self.folder, self.queries, self.device)
            return self._rows

    def table(self) -> tuple[list[str], list[list[str]]]:
        """The comparison's header and cells, as ``egorag compare`` prints them."""
        from ..compare import flat

        return flat(self.rows())

    def chart(self, folder: Path) -> tuple[Path | None, str]:
        """``compare.png`` of the sweep (made under ``folder`` once), or ``None`` and why."""
        from ..compare import chart

        path = folder / "compare.png"
        with self._lock:
            if path.is_file():
                return path, ""
        try:
            return chart(self.rows(), path), ""
        except ImportError:
            return None, "no chart: pip install 'egorag-core[compare]' (matplotlib)"
