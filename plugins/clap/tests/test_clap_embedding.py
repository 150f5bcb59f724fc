"""CLAP through the real transformers classes with a tiny random-weight model."""

import numpy as np
import pytest
from egorag_core.components import Settings
from egorag_core.data import Scene
from egorag_core.models import ModelUnavailable
from egorag_core.scheduler import ModelScheduler
from egorag_core.testing import make_video, open_job

from egorag_clap.audio import windows
from egorag_clap.clap import ClapEmbedder


def test_windows():
    assert windows(0, 10) == []
    assert windows(5, 10) == [(0, 5)]
    assert windows(25, 10) == [(0, 10), (10, 20), (20, 25)]
    assert windows(21, 10, min_last=2) == [(0, 10), (10, 20)]


def test_scene_embeddings_have_the_config_dim(bunny, tiny_settings):
    clap = ClapEmbedder({"name": "clap"}, tiny_settings)
    clap.check()
    spec = clap.models()[0]
    assert spec.random_weights
    scheduler = ModelScheduler("cpu")
    with open_job(bunny, [Scene(0.0, 1.5), Scene(1.5, 5.0)], scheduler=scheduler,
                  settings=tiny_settings) as job:
        clap.process(job)
        model, processor = scheduler.acquire(spec)
    dim = model.config.projection_dim
    for result in job.results:
        assert result.audio.dtype == np.float32 and result.audio.shape == (dim,)
        assert np.isfinite(result.audio).all()
    assert not np.allclose(job.results[0].audio, job.results[1].audio)
    assert scheduler.load_counts() == {spec.key: 1}


def test_long_scene_is_windowed_and_averaged(bunny, tiny_settings):
    clap = ClapEmbedder({}, tiny_settings)
    scheduler = ModelScheduler("cpu")
    with open_job(bunny, settings=tiny_settings, scheduler=scheduler) as job:
        model, processor = scheduler.acquire(clap.models()[0])
        clip = job.scene_audio(0)
        window_s = processor.feature_extractor.nb_max_samples / 48000
        assert clip.size / 16000 > 2 * window_s
        vector, n = clap.embed(model, processor, clip)
        one, _ = clap.embed(model, processor, clip[: int(window_s * 16000)])
    assert n == int(np.ceil(clip.size / 16000 / window_s))
    assert vector.shape == (model.config.projection_dim,)
    assert not np.allclose(vector, one)


def test_empty_audio_gives_no_vector(tmp_path, tiny_settings):
    clap = ClapEmbedder({}, tiny_settings)
    scheduler = ModelScheduler("cpu")
    model, processor = scheduler.acquire(clap.models()[0])
    assert clap.embed(model, processor, np.zeros(0, np.float32)) == (None, 0)
    path = make_video(tmp_path / "a.mp4", segments=[("testsrc2", 1.0)])
    with open_job(path, settings=tiny_settings, scheduler=scheduler) as job:
        clap.process(job)
    assert job.results[0].audio.shape == (model.config.projection_dim,)


def test_missing_model_is_one_line(tmp_path):
    with pytest.raises(ModelUnavailable) as err:
        ClapEmbedder({}, Settings(cache_dir=tmp_path)).check()
    assert "audio.embedding.model" in str(err.value) and "\n" not in str(err.value)
