"""video=qwen2vl on real video through the tiny model: dims, pooling, keyframes, options."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from egorag_core import ModelScheduler, Scene
from egorag_core.models import ModelUnavailable
from egorag_core.testing import open_job

from egorag_qwen2vl.encoder import Qwen2VLVideoEncoder, merged_tokens, pool_tokens
from egorag_qwen2vl.loading import estimate_bytes, resolve_attn, resolve_dtype
from egorag_qwen2vl.preprocess import preprocess_frames, smart_resize

SCENES = [Scene(0.0, 2.0), Scene(2.0, 5.0)]


def _encode(video, settings, **options):
    encoder = Qwen2VLVideoEncoder({"name": "qwen2vl", **options}, settings)
    encoder.check()
    with open_job(video, SCENES, settings=settings) as job:
        encoder.process(job)
        return job.results


def test_merged_tokens_have_text_hidden_size(qwen, two_scene_video):
    config = qwen.model.config
    with open_job(two_scene_video) as job:
        frames = job.frames.sample(job.scenes[0], fps=1.0, max_frames=32)
    inputs = preprocess_frames(frames.array, qwen.preprocess)
    tokens = merged_tokens(qwen, inputs.pixel_values_videos, inputs.video_grid_thw)
    assert tokens.shape == (inputs.num_video_tokens, config.text_config.hidden_size)


def test_embeddings_dim_dtype_and_keyframes(qwen_settings, two_scene_video, qwen):
    results = _encode(two_scene_video, qwen_settings)
    hidden = qwen.model.config.text_config.hidden_size
    for scene, result in zip(SCENES, results, strict=True):
        assert result.video.shape == (hidden,) and result.video.dtype == np.float32
        assert np.isfinite(result.video).all()
        assert result.keyframes.shape[0] == 8 and result.keyframes.dtype == np.uint8
        assert result.keyframes.shape[1:] == (120, 160, 3)
        times = result.keyframe_times
        assert times == sorted(times) and scene.start <= times[0] and times[-1] < scene.end
    assert not np.allclose(results[0].video, results[1].video)


def test_mean_and_first_pooling(qwen_settings, two_scene_video):
    mean = _encode(two_scene_video, qwen_settings, pooling="mean")
    first = _encode(two_scene_video, qwen_settings, pooling="first")
    assert mean[0].video.shape == first[0].video.shape
    assert not np.allclose(mean[0].video, first[0].video)
    tokens = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    np.testing.assert_array_equal(pool_tokens(tokens, "mean"), [4.5, 5.5, 6.5])
    np.testing.assert_array_equal(pool_tokens(tokens, "first"), [0, 1, 2])
    with pytest.raises(ValueError):
        pool_tokens(tokens, "max")


def test_pixel_budget_option_changes_token_count(qwen, two_scene_video, qwen_settings):
    encoder = Qwen2VLVideoEncoder({"name": "qwen2vl", "max_pixels": 56 * 56}, qwen_settings)
    with open_job(two_scene_video) as job:
        frames = encoder.scene_frames(job, job.scenes[0])
    small = encoder.video_inputs(qwen, frames)
    default = preprocess_frames(frames.array, qwen.preprocess)
    h, w = smart_resize(120, 160, 28, qwen.preprocess.min_pixels, 56 * 56)
    assert small.video_grid_thw.tolist()[0][1:] == [h // 14, w // 14] == [2, 4]
    assert small.num_video_tokens < default.num_video_tokens


def test_dtype_and_attention_choice(monkeypatch):
    assert resolve_dtype("auto", "cuda") == "bfloat16"
    assert resolve_dtype("auto", "cpu") == "float32"
    assert resolve_dtype("torch.float16", "cpu") == "float16"
    with pytest.raises(ValueError):
        resolve_dtype("int8", "cpu")
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "flash_attn" else real(name, *a))
    assert resolve_attn("auto", "cuda") == "flash_attention_2"
    assert resolve_attn("auto", "cpu") == "sdpa"
    assert resolve_attn("eager", "cuda") == "eager"


def test_estimated_bytes_from_config(tiny_folder, qwen):
    params = sum(p.numel() for p in qwen.model.parameters())
    assert estimate_bytes(str(tiny_folder), "float32") == params * 4
    assert estimate_bytes(str(tiny_folder), "bfloat16") == params * 2
    assert estimate_bytes("/nonexistent/folder", "float32") == 0


def test_missing_model_is_one_line_error(tmp_path, qwen_settings):
    from dataclasses import replace

    settings = replace(qwen_settings, tiny=False)
    encoder = Qwen2VLVideoEncoder({"name": "qwen2vl", "model": str(tmp_path / "nope")}, settings)
    with pytest.raises(ModelUnavailable, match="video.model="):
        encoder.check()
    hub = Qwen2VLVideoEncoder({"name": "qwen2vl", "model": "Qwen/Not-A-Model"}, settings)
    with pytest.raises(ModelUnavailable, match="HF_HUB_OFFLINE"):
        hub.check()


def test_scheduler_sees_model(qwen_settings, two_scene_video):
    encoder = Qwen2VLVideoEncoder({"name": "qwen2vl"}, qwen_settings)
    encoder.check()
    scheduler = ModelScheduler("cpu")
    with open_job(two_scene_video, SCENES, scheduler=scheduler, settings=qwen_settings) as job:
        encoder.process(job)
    (stats,) = scheduler.report()["models"].values()
    assert stats["loads"] == 1 and stats["random_weights"] is True
    assert encoder.describe()["models"][0]["random_weights"] is True
