"""Words against video and audio vectors: a query is embedded by the text tower of the model that
wrote the column (X-CLIP for ``video=xclip``, CLAP for ``audio/embedding=clap``), which the
index's column records pick. Tiny random weights: these tests check the code path, the sizes and
the model chosen, not retrieval quality."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from cli_helpers import compose_and_run

from egorag_core import SearchIndex, VideoDataset
from egorag_core.errors import SearchError

pytest.importorskip("egorag_xclip")
pytest.importorskip("egorag_clap")

PLUGINS = "scenes,xclip,clap,minilm"


@pytest.fixture(autouse=True)
def cross_modal_plugins(monkeypatch) -> None:
    monkeypatch.setenv("EGORAG_PLUGINS", PLUGINS)


@pytest.fixture(scope="module")
def index(tmp_path_factory, bigbuckbunny):
    """bigbuckbunny.mp4 (real footage with sound) through tiny X-CLIP and tiny CLAP."""
    base = tmp_path_factory.mktemp("crossmodal")
    overrides = ["preset=tiny", f"models.cache_dir={base / 'cache'}", "scenes=fixed",
                 "scenes.seconds=2.5", "video=xclip", "caption=none", "audio/asr=none",
                 "audio/embedding=clap", "text=none", "progress=false"]  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EGORAG_PLUGINS", PLUGINS)
        outcome = compose_and_run(overrides, VideoDataset.from_path(bigbuckbunny), base / "out")
    assert outcome.report.counts()["ok"] == 1
    return base / "out" / "index"


def record(index, column: str) -> dict:
    import lancedb

    rows = lancedb.connect(str(index)).open_table("columns").to_arrow().to_pylist()
    (row,) = [r for r in rows if r["column"] == column]
    return row


def text_tower(model_class, folder, text: str) -> np.ndarray:
    """``get_text_features`` of the model saved in ``folder``, computed here, unit length."""
    import torch
    from transformers import AutoTokenizer

    model = model_class.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    inputs = tokenizer([text], padding=True, return_tensors="pt")
    with torch.inference_mode():
        out = model.get_text_features(**inputs)
    out = out if isinstance(out, torch.Tensor) else out.pooler_output
    return torch.nn.functional.normalize(out.float(), dim=-1)[0].numpy()


@pytest.mark.parametrize(
    ("modality", "selection", "component", "model_class"),
    [("video", "video=xclip", "egorag_xclip.encoder:XClipVideoEncoder", "XCLIPModel"),
     ("audio", "audio/embedding=clap", "egorag_clap.clap:ClapEmbedder", "ClapModel")],
)  # fmt: skip
def test_the_query_goes_through_the_text_tower_of_the_recorded_model(
    index, modality, selection, component, model_class
) -> None:
    import transformers

    column = f"{modality}_vector"
    row = record(index, column)
    assert row["component"] == component and row["tiny"] is True
    models = json.loads(row["models"])
    folder = models[-1]["model_id"]  # X-CLIP's second model (after CLIP); CLAP's only one
    assert models[-1]["random_weights"] is True and len(models[-1]["weights_sha256"]) == 64
    config = transformers.AutoConfig.from_pretrained(folder)
    engine = SearchIndex(index)
    (source,), notes = engine.plan(modality)
    assert source.column == column and source.producer.selection == selection
    assert [n for n in notes if n.startswith(modality)] == []
    query = "the dog runs"  # short enough for the tiny models' 16-token context
    vector = engine.query_vector(source.producer, query)
    assert vector.shape == (config.projection_dim,) == (engine.columns[column],) == (row["dim"],)
    assert vector.dtype == np.float32
    expected = text_tower(getattr(transformers, model_class), folder, query)
    np.testing.assert_allclose(vector, expected, atol=1e-5)
    long = " ".join(["a person walks into the kitchen and opens the fridge"] * 20)
    assert engine.query_vector(source.producer, long).shape == vector.shape  # cut to fit
    hits = engine.search(query, k=2, modality=modality)
    assert [h.modality for h in hits] == [modality, modality]
    assert all(-1.0 <= h.score <= 1.0 for h in hits)


def test_auto_fuses_video_and_audio(index) -> None:
    engine = SearchIndex(index)
    sources, _ = engine.plan("auto")
    assert {s.label for s in sources} == {"video", "audio"}  # no words in this index
    hits = engine.search("a rabbit", k=3)
    assert len(hits) == 3
    assert all(set(h.modality.split("+")) <= {"video", "audio"} for h in hits)


def test_a_random_model_built_again_is_not_used(index) -> None:
    """Other random weights would embed the query into another space: refused, said why."""
    folder = json.loads(record(index, "audio_vector")["models"])[0]["model_id"]
    shutil.rmtree(folder)  # the next build of the tiny CLAP gets other random weights
    engine = SearchIndex(index)
    with pytest.raises(SearchError, match="gone or was built again"):
        engine.search("a rabbit", modality="audio")
    assert {s.label for s in engine.plan("auto")[0]} == {"video"}
