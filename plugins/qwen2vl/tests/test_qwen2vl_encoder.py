"""video=qwen2vl on real video through the tiny model: dims, pooling, keyframes, options."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
from egorag_core import Scene
from egorag_core.errors import ModelUnavailable, OptionsError

from egorag_qwen2vl import loading
from egorag_qwen2vl.encoder import merged_tokens, pool_tokens
from egorag_qwen2vl.loading import estimate_bytes, resolve_attn, resolve_dtype
from egorag_qwen2vl.preprocess import preprocess_frames, smart_resize

SCENES = [Scene(0.0, 2.0), Scene(2.0, 4.0)]  # the two shots of egorag_video


@pytest.fixture()
def encode(egorag_component, egorag_job, egorag_video):
    """``encode(**options)``: video=qwen2vl built with ``options`` run over ``SCENES``."""

    def run(**options):
        encoder = egorag_component("video", "qwen2vl", **options)
        with egorag_job(egorag_video, SCENES) as job:
            encoder.process(job)
            return job.results

    return run


def test_merged_tokens_have_text_hidden_size(qwen, egorag_job, egorag_video):
    config = qwen.model.config
    with egorag_job(egorag_video) as job:
        frames = job.frames.sample(job.scenes[0], fps=1.0, max_frames=32)
    inputs = preprocess_frames(frames.array, qwen.preprocess)
    tokens = merged_tokens(qwen, inputs.pixel_values_videos, inputs.video_grid_thw)
    assert tokens.shape == (inputs.num_video_tokens, config.text_config.hidden_size)


def test_embeddings_dim_dtype_and_keyframes(encode, qwen):
    results = encode()
    hidden = qwen.model.config.text_config.hidden_size
    for scene, result in zip(SCENES, results, strict=True):
        assert result.video.shape == (hidden,) and result.video.dtype == np.float32
        assert np.isfinite(result.video).all()
        assert result.keyframes.shape[0] == 8 and result.keyframes.dtype == np.uint8
        assert result.keyframes.shape[1:] == (120, 160, 3)
        times = result.keyframe_times
        assert times == sorted(times) and scene.start <= times[0] and times[-1] < scene.end
    assert not np.allclose(results[0].video, results[1].video)
    assert encode(num_keyframes=3)[0].keyframes.shape[0] == 3


@pytest.mark.parametrize("wanted", [True, False])
def test_window_holds_every_frame_the_encoder_reads(
    egorag_component, egorag_job, egorag_video, wanted
):
    """What the encoder declares (the frames at ``fps``, and the keyframes when a later stage
    reads them) is all it reads: in a window of those frames nothing goes back to the
    decoder. Without readers, only the keyframes' times are handed on."""
    from egorag_core.window import FrameCounts, WindowFrames, needed_indices

    encoder = egorag_component("video", "qwen2vl")
    samplings = encoder.frame_samplings() + ([encoder.keyframe_sampling()] if wanted else [])
    with egorag_job(egorag_video, SCENES) as job:
        needed = needed_indices(job.frames, SCENES, samplings)
        counts = FrameCounts()
        window = job.window(range(len(SCENES)),
                            WindowFrames(job.frames, set().union(*needed), counts))  # fmt: skip
        window.keyframes_wanted = wanted
        encoder.process(window)
        picked = [encoder.keyframe_sampling().indices(job.frames, scene) for scene in SCENES]
        fps = job.frames.fps
    assert counts.needed == counts.decoded == len(set().union(*needed))  # no request missed
    keys = encoder.options.num_keyframes
    for scene, result, indices in zip(SCENES, window.results, picked, strict=True):
        assert result.keyframe_times == [i / fps for i in indices] and len(indices) == keys
        assert scene.start <= result.keyframe_times[0] < result.keyframe_times[-1] < scene.end
        assert (result.keyframes.shape[0] == keys) if wanted else result.keyframes is None


def test_mean_and_first_pooling(encode):
    mean = encode(pooling="mean")
    first = encode(pooling="first")
    assert mean[0].video.shape == first[0].video.shape
    assert not np.allclose(mean[0].video, first[0].video)
    tokens = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    mean, first = np.array([4.5, 5.5, 6.5]), np.array([0.0, 1.0, 2.0])  # then L2-normalised
    np.testing.assert_allclose(pool_tokens(tokens, "mean"), mean / np.linalg.norm(mean), 1e-6)
    np.testing.assert_allclose(pool_tokens(tokens, "first"), first / np.linalg.norm(first), 1e-6)
    with pytest.raises(ValueError):
        pool_tokens(tokens, "max")


def test_pixel_budget_option_changes_token_count(qwen, egorag_component, egorag_job, egorag_video):
    encoder = egorag_component("video", "qwen2vl", max_pixels=56 * 56)
    with egorag_job(egorag_video) as job:
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
    assert resolve_attn("auto", "cpu", "float32") == "sdpa"
    assert resolve_attn("eager", "cuda", "bfloat16") == "eager"
    # an Ampere GPU with flash-attn importable (facts stubbed: no GPU here)
    monkeypatch.setattr(loading, "flash_attn_imports", lambda: True)
    monkeypatch.setattr(loading, "cuda_capability", lambda device: (8, 0))
    assert resolve_attn("auto", "cuda", "bfloat16") == "flash_attention_2"
    assert resolve_attn("auto", "cuda", "float32") == "sdpa"


def test_estimated_bytes_from_config(tiny_folder, qwen, egorag_component):
    params = sum(p.numel() for p in qwen.model.parameters())
    assert estimate_bytes(str(tiny_folder), "float32") == params * 4
    assert estimate_bytes(str(tiny_folder), "bfloat16") == params * 2
    assert estimate_bytes("/nonexistent/folder", "float32") == 0
    assert egorag_component("video", "qwen2vl").spec().estimated_bytes == params * 4


def test_estimated_bytes_read_either_config_layout(tiny_folder, tmp_path):
    """The hub's Qwen2-VL configs keep the text fields at the top level: the same count."""
    config = json.loads((tiny_folder / "config.json").read_text())
    flat = {k: v for k, v in config.items() if k != "text_config"} | config["text_config"]
    (tmp_path / "config.json").write_text(json.dumps(flat))
    assert estimate_bytes(str(tmp_path), "float32") == estimate_bytes(str(tiny_folder), "float32")


@pytest.mark.parametrize("group,name", [("video", "qwen2vl"), ("caption", "captioner2")])
def test_missing_model_is_one_line_error(tmp_path, egorag_settings, egorag_component, group, name):
    settings = replace(egorag_settings, tiny=False)
    missing = re.escape(str(tmp_path / "nope"))
    with pytest.raises(ModelUnavailable, match=rf"^{group}\.model={missing}: folder not found$"):
        egorag_component(group, name, settings=settings, model=str(tmp_path / "nope"))
    with pytest.raises(ModelUnavailable, match=rf"^{group}\.model=Qwen/Not-A-Model: .*OFFLINE"):
        egorag_component(group, name, settings=settings, model="Qwen/Not-A-Model")


def test_mistyped_option_names_key_and_file(egorag_component):
    with pytest.raises(OptionsError, match=r"^video\.fps='fast': expected float .*qwen2vl\.yaml"):
        egorag_component("video", "qwen2vl", fps="fast")
    with pytest.raises(OptionsError, match=r"^video\.poolng: unknown option .*qwen2vl\.yaml"):
        egorag_component("video", "qwen2vl", poolng="first")


@pytest.mark.parametrize(
    "key,value", [("pooling", "max"), ("preprocess", "pil"), ("torch_dtype", "int8")]
)
def test_unknown_choice_is_rejected_before_loading(egorag_component, key, value):
    with pytest.raises(OptionsError, match=rf"^video\.{key}={value}: use one of "):
        egorag_component("video", "qwen2vl", **{key: value})


def test_scheduler_sees_model(egorag_component, egorag_job, egorag_video):
    encoder = egorag_component("video", "qwen2vl")
    with egorag_job(egorag_video, SCENES) as job:
        encoder.process(job)
    (stats,) = job.scheduler.report()["models"].values()
    assert stats["loads"] == 1 and stats["random_weights"] is True
    assert encoder.describe()["models"][0]["random_weights"] is True


def test_both_stages_say_how_many_scenes_they_see_a_call(egorag_component):
    """The core makes windows of scenes whole batches of ``batch_size``."""
    assert egorag_component("video", "qwen2vl", batch_size=3).scenes_per_call() == 3
    assert egorag_component("caption", "captioner2", batch_size=2).scenes_per_call() == 2
