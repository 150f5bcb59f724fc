"""Batches across scene boundaries (pure function, no models)."""

from __future__ import annotations

import numpy as np

from egorag_core.batching import across_groups


def double(items: list[int]) -> np.ndarray:
    return np.asarray(items)[:, None] * 2.0


def test_batches_fill_across_groups_and_outputs_go_back_per_group():
    calls: list[list[int]] = []

    def run(items: list[int]) -> np.ndarray:
        calls.append(list(items))
        return double(items)

    groups = [("a", [1, 2, 3]), ("b", []), ("c", [4]), ("d", [5, 6, 7, 8, 9])]
    out = list(across_groups(groups, 4, run))
    assert calls == [[1, 2, 3, 4], [5, 6, 7, 8], [9]]
    assert [key for key, _ in out] == ["a", "b", "c", "d"]
    assert [rows[:, 0].tolist() if len(rows) else [] for _, rows in out] == [
        [2, 4, 6], [], [8], [10, 12, 14, 16, 18]
    ]  # fmt: skip


def test_groups_are_read_lazily_and_handed_out_when_complete():
    read: list[str] = []

    def groups():
        for key, items in [("a", [1, 2]), ("b", [3, 4, 5]), ("c", [6])]:
            read.append(key)
            yield key, items

    out = across_groups(groups(), 2, double)
    assert next(out)[0] == "a" and read == ["a"]
    assert next(out)[0] == "b" and read == ["a", "b", "c"]  # 5 waited for 6 to fill a batch
    assert next(out)[0] == "c"


def test_size_below_one_means_one():
    assert [rows.shape for _, rows in across_groups([(0, [1, 2])], 0, double)] == [(2, 1)]
