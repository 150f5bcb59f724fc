"""The text read in frames is searchable: ``egorag eval`` on questions that ask for each sign in
other words finds them with OCR and not without it, an exact string is found by its words
(BM25), and a hit shows the text that matched."""

from __future__ import annotations

import json
import subprocess

import pytest
from egorag_core import search


@pytest.fixture()
def cli(capsys):
    """``egorag COMMAND ARGS`` in this process: exit status, out, err."""
    from egorag_core.cli import main

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit:
            main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), exit.value.code, out, err)

    return run


def test_eval_finds_the_signs_with_ocr_and_not_without(ocr_run, plain_run, signs, tmp_path,
                                                       cli, needs_text) -> None:  # fmt: skip
    queries = signs.write_queries(tmp_path / "queries.json")
    reports = {}
    for name, done in (("ocr", ocr_run), ("plain", plain_run)):
        proc = cli("eval", str(queries), "--index", str(done.index), "--json")
        assert proc.returncode == 0, proc.stderr
        reports[name] = json.loads(proc.stdout)
        print(name, {m: round(r["recall@5"], 3) for m, r in reports[name]["modalities"].items()})
    with_ocr, without = reports["ocr"]["modalities"], reports["plain"]["modalities"]
    assert with_ocr["auto"]["recall@5"] >= 0.9
    assert with_ocr["ocr"]["recall@5"] >= 0.9
    # the same questions, the same run without OCR (tiny captioner, MiniLM): about chance
    assert without["auto"]["recall@5"] <= 0.5
    assert "ocr" not in without and "ocr" not in reports["plain"]["skipped"]


@pytest.mark.parametrize(("words", "line"), [("latte2024", "WIFI PASSWORD latte2024"),
                                             ("B17", "GATE B17 BOARDING 14:35")])
def test_an_exact_string_is_found_by_its_words(ocr_run, signs, words, line) -> None:
    hits = search(ocr_run.index, words, k=3, modality="ocr")
    assert line in hits[0].ocr_text.splitlines()
    scene = next(signs.scenes[i] for i, s in signs.sign_scenes() if line in s.text)
    assert (hits[0].start, hits[0].end) == (scene.start, scene.end)
    assert "ocr words" in hits[0].modality


def test_a_hit_shows_the_text_that_matched(ocr_run, cli) -> None:
    proc = cli("search", "no parking zone", "--index", str(ocr_run.index), "--modality", "ocr",
               "--k", "1")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "in frame:   NO PARKING | TOW AWAY ZONE" in proc.stdout, proc.stdout
    proc = cli("search", "platform", "--index", str(ocr_run.index), "--json", "--k", "1",
               "--modality", "ocr")  # fmt: skip
    (hit,) = json.loads(proc.stdout)
    assert hit["ocr_text"] == "PLATFORM 6\nTRAINS TO LONDON"
