"""Approximate-nearest-neighbour (ANN) indexes on the ``scenes`` table's vector columns.

Below :attr:`IndexSettings.min_rows` vectors a column is searched exactly (LanceDB's flat
scan is fast enough there and exact). Once a column holds that many vectors it gets an
``IVF_FLAT`` index (cosine; about one partition per 1024 vectors, :func:`ivf_partitions`):
search then compares the query with every vector of the ``nprobes`` partitions whose centroids
are nearest, at full precision, so what it finds needs no re-ranking. The quantised kinds
(``IVF_PQ``: :func:`ivf_pq_params`; ``IVF_HNSW_SQ``) store less but must re-rank
``refine_factor`` x k candidates by their exact distance, reading each one's vector from the
table: at 1 M scenes that read cost more than the whole ``IVF_FLAT`` search
(benchmarks/README.md, search_scale.py). Rows added later are searched exactly beside the
index until they pass :attr:`IndexSettings.fold_fraction` of the indexed rows; then
``optimize()`` folds them into every index (vector and full-text) without retraining.
Building an index commits a new table version only when it is done: a process killed
meanwhile leaves the table as it was (searchable, with its old index or none), and the next
:func:`maintain` builds it again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: Index kinds :func:`maintain` can build (chosen by ``benchmarks/search_scale.py``).
KINDS = ("IVF_FLAT", "IVF_PQ", "IVF_HNSW_SQ")
#: LanceDB's names (``list_indices()``) of the kinds whose distances are not exact.
QUANTISED = ("IvfPq", "IvfHnswSq", "IvfSq", "IvfRq", "IvfHnswPq")
#: The fewest vectors an index is trained on (256 centroids per PQ sub-vector).
TRAIN_ROWS = 256


@dataclass(frozen=True)
class IndexSettings:
    """When and how the vector columns are indexed."""

    #: A vector column gets an ANN index once it holds this many vectors.
    min_rows: int = 100_000
    #: Rows added since the index was built are folded in once they pass this share of it.
    fold_fraction: float = 0.05
    #: ``IVF_FLAT``, ``IVF_PQ`` or ``IVF_HNSW_SQ``.
    kind: str = "IVF_FLAT"

    def __post_init__(self) -> None:
        from .errors import ConfigError

        if self.kind not in KINDS:
            raise ConfigError(f"--kind {self.kind}: choose one of {', '.join(KINDS)}")
        if self.min_rows < 1:
            raise ConfigError(f"--min-rows {self.min_rows}: give at least 1")
        if not 0 < self.fold_fraction <= 1:
            raise ConfigError(f"fold_fraction {self.fold_fraction}: give a share in (0, 1]")


#: Search defaults. ``refine_factor`` applies to the quantised kinds only: at 1 M rows of
#: ``IVF_PQ`` 10 gave recall@10 0.74-0.77 against exact search, 40 gives 0.96-0.99
#: (benchmarks/README.md, search_scale.py).
NPROBES = 32
REFINE_FACTOR = 40
#: Vectors per IVF partition aimed at (``IVF_FLAT``, ``IVF_HNSW_SQ``), and the most partitions.
PARTITION_ROWS = 1024
MAX_PARTITIONS = 4096


def ivf_partitions(rows: int) -> int:
    """IVF partitions for ``rows`` vectors: about one per :data:`PARTITION_ROWS` (at least 1,
    at most :data:`MAX_PARTITIONS`), so ``nprobes`` partitions hold a few thousand vectors."""
    return max(1, min(MAX_PARTITIONS, round(rows / PARTITION_ROWS)))


def ivf_pq_params(rows: int, dim: int) -> dict[str, int]:
    """IVF partitions (about one per 4096 rows, at least 1, at most 4096) and PQ sub-vectors
    (8 dimensions each where the dimension allows, else the largest divisor up to dim/8)."""
    partitions = max(1, min(4096, round(rows / 4096)))
    sub = max(d for d in range(1, max(1, dim // 8) + 1) if dim % d == 0)
    return {"num_partitions": partitions, "num_sub_vectors": sub}


def index_config(kind: str, rows: int, dim: int) -> Any:
    """The LanceDB index config of ``kind`` for a column of ``rows`` vectors of ``dim``."""
    from lancedb.index import IvfFlat, IvfHnswSq, IvfPq

    if kind == "IVF_FLAT":
        return IvfFlat(distance_type="cosine", num_partitions=ivf_partitions(rows))
    if kind == "IVF_HNSW_SQ":
        partitions = max(1, min(1024, round(math.sqrt(rows) / 4)))
        return IvfHnswSq(distance_type="cosine", num_partitions=partitions)
    params = ivf_pq_params(rows, dim)
    return IvfPq(distance_type="cosine", num_partitions=params["num_partitions"],
                 num_sub_vectors=params["num_sub_vectors"])


def vector_columns(table: Any) -> dict[str, int]:
    """The table's vector columns and their dimension."""
    return {f.name: f.type.list_size for f in table.schema if f.name.endswith("_vector")}


def indexed_columns(table: Any) -> dict[str, str]:
    """Column -> index name, for every index on the table."""
    return {c: i.name for i in table.list_indices() for c in i.columns}


def quantised_columns(table: Any) -> set[str]:
    """The vector columns whose index gives approximate distances (worth re-ranking)."""
    return {c for i in table.list_indices() if i.index_type in QUANTISED for c in i.columns}


def build_missing(table: Any, settings: IndexSettings) -> list[str]:
    """Build an ANN index on each vector column that has none and holds ``min_rows`` vectors
    (and at least :data:`TRAIN_ROWS`, which training product quantisation needs); the columns
    indexed."""
    needed = max(settings.min_rows, TRAIN_ROWS)
    if table.count_rows() < needed:  # from the table's metadata: no column is read
        return []
    indexed = indexed_columns(table)
    built = []
    for column, dim in vector_columns(table).items():
        if column in indexed:
            continue
        rows = table.count_rows(f"{column} IS NOT NULL")
        if rows >= needed:
            config = index_config(settings.kind, rows, dim)
            table.create_index(column, config=config, name=f"{column}_idx", replace=True)
            built.append(column)
    return built


def waiting(table: Any) -> dict[str, tuple[int, int]]:
    """Per index: (indexed rows, rows added since, not yet in it)."""
    out = {}
    for column, name in indexed_columns(table).items():
        stats = table.index_stats(name)
        if stats is not None:
            out[column] = (stats.num_indexed_rows, stats.num_unindexed_rows)
    return out


def needs_folding(table: Any, settings: IndexSettings, full_text_rows: int,
                  full_text: tuple[str, ...]) -> bool:  # fmt: skip
    """Whether rows added since the indexes were built should be folded in now: past
    ``fold_fraction`` of a vector index, or past both ``full_text_rows`` and the indexed rows
    of a full-text index."""
    vectors = vector_columns(table)
    for column, (indexed, added) in waiting(table).items():
        if column in vectors and added > settings.fold_fraction * indexed:
            return True
        if column in full_text and added > max(full_text_rows, indexed):
            return True
    return False


def maintain(table: Any, settings: IndexSettings, full_text_rows: int,
             full_text: tuple[str, ...], force: bool = False) -> list[str]:  # fmt: skip
    """Build the vector indexes due and fold waiting rows in when due (everything, now, with
    ``force``); one line per thing done."""
    done = [f"built a {settings.kind} index on {c}" for c in build_missing(table, settings)]
    due = needs_folding(table, settings, full_text_rows, full_text)
    if due or (force and any(added for _, added in waiting(table).values())):
        table.optimize()
        done.append("folded the rows added since into the indexes")
    return done
