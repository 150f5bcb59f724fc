"""``egorag search`` / ``eval`` and ``egorag_core.search`` on a real chain: a narrated video
(real footage, espeak-ng facts in four voices) transcribed by the packaged whisper tiny.en and
embedded by the packaged MiniLM, searched with questions that paraphrase the facts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import REPO, cli_env, compose_and_run, run_cli
from narration import FACTS, NAME, WORDS, make_narrated

from egorag_core import VideoDataset

#: The plugins these tests load (the core's tests load only what they rely on).
WITH_ASR = "scenes,minilm,whisper,testplugin"


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return cli_env(EGORAG_PLUGINS=WITH_ASR)


@pytest.fixture(scope="module")
def narrated(tmp_path_factory) -> tuple[Path, Path]:
    """``narrated.mp4`` and its ``queries.json`` (tests/narration.py)."""
    return make_narrated(tmp_path_factory.mktemp("narrated"))


@pytest.fixture(scope="module")
def narrated_index(narrated, tmp_path_factory) -> Path:
    """The narrated video encoded once (its words only), in this process: its index."""
    video, _ = narrated
    out = tmp_path_factory.mktemp("narrated-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EGORAG_PLUGINS", WITH_ASR)
        outcome = compose_and_run(WORDS, VideoDataset.from_path(video), out)
    assert outcome.report.counts()["ok"] == 1
    return out / "index"


@pytest.fixture(autouse=True)
def asr_plugins(monkeypatch) -> None:
    monkeypatch.setenv("EGORAG_PLUGINS", WITH_ASR)


@pytest.fixture()
def cli(capsys):
    """``egorag COMMAND ARGS`` in this process (no start-up cost): exit status, out, err."""
    from egorag_core.cli import main

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit:
            main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), exit.value.code, out, err)

    return run


def one_error_line(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    """The run failed with exit status 2 and one line (no traceback) holding ``words``."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_eval_recall_at_5_on_paraphrased_questions(narrated, narrated_index, cli) -> None:
    _, queries = narrated
    proc = cli("eval", str(queries), "--index", str(narrated_index), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    print({m: {k: round(v, 3) for k, v in r.items() if k != "ranks"}
           for m, r in report["modalities"].items()})  # fmt: skip
    assert report["queries"] == len(FACTS)
    assert set(report["modalities"]) == {"auto", "text", "transcript"}
    assert report["modalities"]["auto"]["recall@5"] >= 0.9
    assert report["modalities"]["text"]["recall@5"] >= 0.9
    assert report["modalities"]["text"]["mrr"] >= 0.8
    # no video encoder, captioner or audio embedding ran: said, not evaluated
    assert set(report["skipped"]) == {"caption", "video", "audio"}
    table = cli("eval", str(queries), "--index", str(narrated_index), "--modality", "text")
    assert table.returncode == 0, table.stderr
    assert "R@5" in table.stdout and table.stdout.splitlines()[2].startswith("text ")


def test_search_prints_time_stamped_scenes(narrated_index, env) -> None:
    proc = run_cli("search", "where did we park the car?", "--index", str(narrated_index),
                   "--k", "3", env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith(f"1. {NAME}  0:00:15.0-0:00:20.0  score ")
    assert first.endswith("[text+transcript]")  # both lists found it
    assert "garage" in proc.stdout.splitlines()[1]  # the transcript snippet
    assert "not searched: video: the index has no video_vector" in proc.stderr


def test_json_hits_and_the_python_api_agree(narrated_index, cli) -> None:
    import egorag_core

    question = "where is my travel document kept?"
    proc = cli("search", question, "--index", str(narrated_index), "--json", "--modality", "text")
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)
    assert len(hits) == 5
    keys = {"video_name", "video_path", "start", "end", "score", "modality", "transcript",
            "caption_text"}  # fmt: skip
    assert keys <= set(hits[0])
    assert (hits[0]["start"], hits[0]["end"], hits[0]["modality"]) == (5.0, 10.0, "text")
    assert "passport" in hits[0]["transcript"].lower()
    assert hits == sorted(hits, key=lambda h: -h["score"])
    api = egorag_core.search(narrated_index, question, k=5, modality="text")
    assert [h.to_dict() for h in api] == hits
    assert isinstance(api[0], egorag_core.Hit)


def test_auto_fuses_vectors_and_full_text(narrated_index) -> None:
    from egorag_core import SearchIndex

    index = SearchIndex(narrated_index)
    sources, notes = index.plan("auto")
    assert [(s.label, s.column) for s in sources] == [
        ("text", "text_vector"), ("transcript", "transcript")]  # fmt: skip
    assert sources[0].producer.selection == "text=minilm"
    lines = index.describe()  # what it can and cannot do with this index
    assert lines[:2] == ["text: text_vector, query embedded by text=minilm",
                         "transcript: transcript, full text (BM25)"]  # fmt: skip
    assert "not searched: video: the index has no video_vector" in lines
    hits = index.search("passport", k=3)
    assert hits[0].modality == "text+transcript"  # found by both lists
    assert hits[0].score == pytest.approx(2 / 61)  # rank 1 in each: 1/(60+1) twice
    transcript = index.search("passport", k=3, modality="transcript")
    assert len(transcript) == 1 and transcript[0].modality == "transcript"  # BM25 matches only


def test_the_index_records_the_model_of_each_column(narrated_index) -> None:
    import lancedb

    db = lancedb.connect(str(narrated_index))
    (row,) = db.open_table("columns").to_arrow().to_pylist()
    assert (row["column"], row["stage"], row["option"]) == ("text_vector", "text", "minilm")
    assert row["component"] == "egorag_minilm.encoder:SentenceTextEncoder"
    assert json.loads(row["options"])["model"] == "packaged"
    (model,) = json.loads(row["models"])
    assert model["model_id"].endswith("model") and model["random_weights"] is False
    assert row["dim"] == 384 == db.open_table("scenes").schema.field("text_vector").type.list_size


def test_restricted_to_one_video(narrated_index, cli) -> None:
    proc = cli("search", "passport", "--index", str(narrated_index), "--video", NAME, "--k", "2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"1. {NAME}  0:00:05.0")


def test_cannot_search_one_clear_line(narrated_index, tmp_path, env, cli) -> None:
    index = str(narrated_index)
    # the real command: exit status 2, one line, no traceback
    one_error_line(run_cli("search", "keys", "--index", str(tmp_path / "nope"), env=env),
                   "no index there", "--index")  # fmt: skip
    one_error_line(run_cli("search", "  ", "--index", index, env=env), "empty query")
    (tmp_path / "empty").mkdir()
    one_error_line(cli("search", "keys", "--index", str(tmp_path / "empty")), "holds no scenes")
    one_error_line(cli("search", "keys", "--index", index, "--video", "elsewhere"),
                   "--video elsewhere", NAME)  # fmt: skip
    one_error_line(cli("search", "keys", "--index", index, "--modality", "video"),
                   "--modality video", "no video_vector")  # fmt: skip
    one_error_line(cli("search", "keys", "--index", index, "--modality", "smell"),
                   "--modality smell")  # fmt: skip
    one_error_line(cli("search", "keys", "--index", index, "--k", "0"), "--k 0")
    one_error_line(cli("eval", str(tmp_path / "q.json"), "--index", index),
                   "queries file not found")  # fmt: skip


def test_an_index_without_column_records_still_opens(narrated_index, tmp_path, cli) -> None:
    import lancedb

    old = tmp_path / "old"
    shutil.copytree(narrated_index, old)
    db = lancedb.connect(str(old))
    db.drop_table("columns")  # written before the records: the run config tells the model
    proc = cli("search", "which floor did we leave the vehicle on?", "--index", str(old),
               "--k", "1", "--modality", "text")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "0:00:15.0-0:00:20.0" in proc.stdout and "[text]" in proc.stdout
    db.open_table("videos").drop_columns(["config"])  # older still: no record of the model
    proc = cli("search", "passport", "--index", str(old), "--k", "1")
    assert proc.returncode == 0, proc.stderr
    assert "[transcript]" in proc.stdout  # full text still works
    assert "not searched: text: no record of the component that wrote text_vector" in proc.stderr


def test_an_encoder_without_a_text_side_is_said_so(tmp_path, noaudio_video, cli) -> None:
    out = tmp_path / "out"
    outcome = compose_and_run(
        ["video=colorhist", "caption=colorname", "audio=none", "text=minilm", "scenes=fixed",
         "scenes.seconds=2", "progress=false"], VideoDataset.from_path(noaudio_video), out,
    )  # fmt: skip
    assert outcome.report.counts()["ok"] == 1
    line = one_error_line(cli("search", "green", "--index", str(out), "--modality", "video"),
                          "video=colorhist", "no text side")  # fmt: skip
    assert line.startswith("egorag search: error: --modality video: video_vector was written by")
    proc = cli("search", "mostly green", "--index", str(out), "--k", "1")
    assert proc.returncode == 0, proc.stderr  # captions are searched, the video column is not
    assert "[caption" in proc.stdout and "caption:    mostly " in proc.stdout
    assert "not searched: video: video_vector was written by video=colorhist" in proc.stderr


def test_video_dataset_loads_an_index_folder(narrated_index) -> None:
    (point,) = VideoDataset.load(narrated_index.parent)  # a run's output folder
    assert point.video_name == NAME and len(point.scenes) == len(FACTS)
    assert "passport" in point.scene_embeddings[1].transcript.lower()
    assert point.scene_embeddings[1].text.shape == (384,)
    assert len(VideoDataset.load(narrated_index)) == 1


PROBE = """
import json, sys
from egorag_core.cli import main
out = sys.argv[1]
sys.argv = ["egorag", *sys.argv[2:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
heavy = [m for m in ("torch", "transformers", "sentence_transformers", "lancedb")
         if m in sys.modules]
json.dump({"code": code, "heavy": heavy}, open(out, "w"))
"""


@pytest.mark.parametrize("command", ["search", "eval", "compare"])
def test_help_does_not_import_torch(tmp_path, command) -> None:
    script, result = tmp_path / "probe.py", tmp_path / "result.json"
    script.write_text(PROBE)
    proc = subprocess.run([sys.executable, str(script), str(result), command, "--help"],
                          cwd=REPO, env=cli_env(), capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    data = json.loads(result.read_text())
    assert data == {"code": 0, "heavy": []}, proc.stderr
    assert f"usage: egorag {command}" in proc.stdout
