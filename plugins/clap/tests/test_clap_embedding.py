"""CLAP through the real transformers classes with a tiny random-weight model."""

import dataclasses

import numpy as np
import pytest
from egorag_core.data import Scene
from egorag_core.errors import OptionsError
from egorag_core.models import ModelUnavailable
from egorag_core.testing import make_video

from egorag_clap.audio import windows
from egorag_clap.clap import ClapEmbedder


def test_windows():
    assert windows(0, 10) == []
    assert windows(5, 10) == [(0, 5)]
    assert windows(25, 10) == [(0, 10), (10, 20), (20, 25)]
    assert windows(21, 10, min_last=2) == [(0, 10), (10, 20)]


def test_scene_embeddings_have_the_config_dim(bunny, egorag_component, egorag_job):
    clap = egorag_component("audio/embedding", "clap")
    assert isinstance(clap, ClapEmbedder)
    spec = clap.models()[0]
    assert spec.random_weights and spec.key.startswith("clap:")
    with egorag_job(bunny, [Scene(0.0, 1.5), Scene(1.5, 5.0)]) as job:
        clap.process(job)
        with clap.model(job) as (model, _processor):
            dim = model.config.projection_dim
    for result in job.results:
        assert result.audio.dtype == np.float32 and result.audio.shape == (dim,)
        assert np.isfinite(result.audio).all()
    assert not np.allclose(job.results[0].audio, job.results[1].audio)
    assert job.scheduler.load_counts() == {spec.key: 1}


def test_long_scene_is_windowed_and_averaged(bunny, egorag_component, egorag_job):
    clap = egorag_component("audio/embedding", "clap")
    with egorag_job(bunny) as job, clap.model(job) as (model, processor):
        clip = job.scene_audio(0)
        window_s = processor.feature_extractor.nb_max_samples / 48000
        assert clip.size / 16000 > 2 * window_s
        vector, n = clap.embed(model, processor, clip)
        one, _ = clap.embed(model, processor, clip[: int(window_s * 16000)])
    assert n == int(np.ceil(clip.size / 16000 / window_s))
    assert vector.shape == (model.config.projection_dim,)
    assert not np.allclose(vector, one)


def test_empty_audio_gives_no_vector(tmp_path, egorag_component, egorag_job):
    clap = egorag_component("audio/embedding", "clap")
    path = make_video(tmp_path / "a.mp4", segments=[("testsrc2", 1.0)])
    with egorag_job(path) as job:
        with clap.model(job) as (model, processor):
            assert clap.embed(model, processor, np.zeros(0, np.float32)) == (None, 0)
        clap.process(job)
    assert job.results[0].audio.shape == (model.config.projection_dim,)


def test_missing_model_is_one_line(egorag_component, egorag_settings):
    real = dataclasses.replace(egorag_settings, tiny=False)
    with pytest.raises(ModelUnavailable) as err:
        egorag_component("audio/embedding", "clap", settings=real, model="nobody/no-clap")
    assert "audio.embedding.model=nobody/no-clap" in str(err.value)
    assert "\n" not in str(err.value)


def test_mistyped_option_names_the_key_and_the_yaml(egorag_component):
    with pytest.raises(OptionsError) as err:
        egorag_component("audio/embedding", "clap", batch_size="eight")
    message = str(err.value)
    assert "audio.embedding.batch_size" in message and "\n" not in message
    assert "conf/audio/embedding/clap.yaml" in message
    with pytest.raises(OptionsError, match=r"audio\.events\.treshold: unknown option"):
        egorag_component("audio/events", "ast", treshold=0.2)


def test_windows_of_several_scenes_share_a_pass(
    bunny, batch_scenes, egorag_component, egorag_job, forward_sizes
):
    clap = egorag_component("audio/embedding", "clap", batch_size=4)
    scenes = batch_scenes
    with egorag_job(bunny, scenes) as job:
        with clap.model(job) as (model, processor):
            sizes = forward_sizes(model.audio_model, "input_features")
            per_scene = [len(clap.chunks(processor, job.scene_audio(i))) for i in range(5)]
        clap.process(job)
        batched, batched_sizes = [r.audio for r in job.results], list(sizes)
        sizes.clear()
        for i in range(len(scenes)):  # the reference: one scene per process call
            clap.process(job.window(range(i, i + 1), job.frames))
    assert per_scene == [1, 1, 0, 1, 2]
    assert batched_sizes == [4, 1]  # 5 windows of 4 scenes in 2 passes...
    assert sizes == [1, 1, 1, 2]  # ...where one scene at a time takes 4
    assert clap.stats() == {"clap_passes": 6}
    assert batched[2] is None and job.results[2].audio is None
    for i in (0, 1, 3, 4):
        assert batched[i].dtype == np.float32
        np.testing.assert_allclose(batched[i], job.results[i].audio, rtol=1e-5, atol=1e-6)
    assert not np.allclose(batched[0], batched[1])


def test_clap_hears_its_whole_band(tmp_path, egorag_component, egorag_job):
    """The scene's audio is read from the file at CLAP's own 48 kHz, not from the 16 kHz track
    (which cannot hold the 12 kHz tone here)."""
    clap = egorag_component("audio/embedding", "clap")
    path = make_video(tmp_path / "tone.mp4", [("testsrc2", 2.0)],
                      audio="sine=frequency=12000:sample_rate=48000")  # fmt: skip
    with egorag_job(path) as job:
        clap.process(job)
        with clap.model(job) as (model, processor):
            assert processor.feature_extractor.sampling_rate == 48000
            clip = job.scene_audio(0, 48000)
            at_48k, _ = clap.embed(model, processor, clip, 48000)
            at_16k, _ = clap.embed(model, processor, job.scene_audio(0))
    peak = np.argmax(np.abs(np.fft.rfft(clip))) * 48000 / clip.size
    assert peak == pytest.approx(12000, abs=5)
    np.testing.assert_allclose(job.results[0].audio, at_48k, atol=1e-5)
    assert np.abs(at_48k - at_16k).max() > 1e-3
