"""What the store keeps for search: the column records and the full-text indexes."""

from __future__ import annotations

import json

from test_store import point

import egorag_core.store as store_module
from egorag_core.columns import ColumnSource
from egorag_core.store import LanceStore


def test_full_text_indexes_are_made_and_kept_up_to_date(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(store_module, "OPTIMIZE_ROWS", 6)
    store = LanceStore(tmp_path / "index")
    for i in range(5):
        p = point(f"v{i}", 4)
        store.commit(f"hash-v{i}-fp", p, f"hash-v{i}", "fp", {"video": {"name": "x"}})
    table = store.table("scenes")
    names = {tuple(i.columns): i.name for i in table.list_indices()}
    assert set(names) == {("transcript",), ("caption_text",)}
    stats = table.index_stats(names[("transcript",)])
    # 4 rows indexed at the first commit; at the 3rd, 8 unindexed (> 6 and > 4): optimised to
    # 12; 8 more since, fewer than the 12 indexed: scanned, not yet indexed
    assert (stats.num_indexed_rows, stats.num_unindexed_rows) == (12, 8)
    hits = table.search("words 2 of v4", query_type="fts", fts_columns="transcript").limit(3)
    assert hits.to_arrow().column("video_name").to_pylist()[0] == "v4"  # the unindexed rows too


def test_column_records_are_written_once_per_config_and_column(tmp_path) -> None:
    source = ColumnSource("", "", "video", "colorhist", {"bins": 8}, False, "/cache",
                          "pkg.mod:Encoder", ({"model_id": "bins=8", "random_weights": False},))
    store = LanceStore(tmp_path / "index", {"video": source})
    for name in ("a", "b"):
        store.commit(f"hash-{name}-fp", point(name, 3), f"hash-{name}", "fp", {"video": {}})
    store.commit("hash-c-fp2", point("c", 2), "hash-c", "fp2", {"video": {}})
    rows = store.table("columns").to_arrow().to_pylist()
    assert sorted((r["config_fingerprint"], r["column"]) for r in rows) == [
        ("fp", "video_vector"), ("fp2", "video_vector")]  # text/audio: no stage recorded them
    assert rows[0]["dim"] == 6 and json.loads(rows[0]["options"]) == {"bins": 8}
    found = {(s.fingerprint, s.column): s for s in store.column_sources()}
    assert found[("fp", "video_vector")].component == "pkg.mod:Encoder"
    assert found[("fp", "video_vector")].recorded is True
    assert len(found) == 2
