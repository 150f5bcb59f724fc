"""``egorag --multirun`` over two options, then ``egorag compare``: one row per job in the
table, the CSV and the chart, with each job's recall on the narrated video's questions."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import cli_env, run_cli
from narration import WORDS, make_narrated

from egorag_core.compare import DPI, FIGSIZE

WITH_ASR = "scenes,minilm,whisper,testplugin"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> tuple[Path, Path]:
    """The narrated video encoded twice, ``text=minilm`` and ``text=none``: the sweep folder and
    the questions."""
    folder = tmp_path_factory.mktemp("sweep")
    video, queries = make_narrated(folder)
    words = [w for w in WORDS if not w.startswith("text=")]
    proc = run_cli("--multirun", *words, "text=minilm,none", f"input={video}",
                   f"output_dir={folder / 'out'}", env=cli_env(EGORAG_PLUGINS=WITH_ASR),
                   timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return folder / "out", queries


def test_compare_writes_one_row_per_job(sweep) -> None:
    out, queries = sweep
    proc = run_cli("compare", str(out), "--queries", str(queries),
                   env=cli_env(EGORAG_PLUGINS=WITH_ASR))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader((out / "compare.csv").open()))
    assert len(rows) == 2
    by = {row["overrides"]: row for row in rows}
    assert set(by) == {"text=minilm", "text=none"}  # the only override that differs
    print({k: {c: r[c] for c in ("wall_s", "text_s", "audio.asr_s", "recall@5", "mrr")}
           for k, r in by.items()})  # fmt: skip
    minilm, none = by["text=minilm"], by["text=none"]
    assert float(minilm["recall@5"]) >= 0.9  # words embedded: the paraphrases are found
    assert float(none["recall@5"]) < float(minilm["recall@5"])  # full text alone is not enough
    assert minilm["dims"] == "text:384" and none["dims"] == ""
    for row in rows:
        assert (row["ok"], row["failed"], row["random_weights"]) == ("1", "0", "no")
        assert float(row["wall_s"]) > 0 and float(row["audio.asr_s"]) > 0
        assert int(row["peak_rss_mb"]) > 0 and int(row["model_loads"]) >= 1
    assert float(minilm["text_s"]) > 0 and none["text_s"] == ""
    table = (out / "compare.md").read_text()
    assert table == proc.stdout
    assert table.count("\n| ") == 2 and "| text=minilm |" in table


def test_the_chart_is_an_image_of_the_expected_size(sweep) -> None:
    from PIL import Image

    out, _ = sweep
    if not (out / "compare.png").exists():  # this test may run alone
        assert run_cli("compare", str(out), env=cli_env(EGORAG_PLUGINS=WITH_ASR)).returncode == 0
    with Image.open(out / "compare.png") as image:
        assert image.format == "PNG"
        assert image.size == (int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI))
        pixels = np.asarray(image.convert("L"), dtype=np.float32)
    assert (pixels < 250).mean() > 0.02  # bars, labels and axes drawn, not a blank page
    assert pixels.std() > 10


def test_compare_json_and_bad_folders(sweep, tmp_path) -> None:
    out, _ = sweep
    proc = run_cli("compare", str(out), "--json", env=cli_env(EGORAG_PLUGINS=WITH_ASR))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert sorted(r["overrides"] for r in rows) == ["text=minilm", "text=none"]
    for folder, words in ((tmp_path / "nope", "no such folder"), (tmp_path, "no run_report")):
        proc = run_cli("compare", str(folder))
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        (line,) = proc.stderr.strip().splitlines()
        assert words in line
