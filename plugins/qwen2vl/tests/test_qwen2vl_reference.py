"""Qwen2-VL run as its reference code runs it: qwen-vl-utils' video pixel floor and minimum
frame count, the attention choice and its fallback, and unit-vector embeddings."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from egorag_core import Scene

from egorag_qwen2vl.encoder import pool_tokens
from egorag_qwen2vl.loading import choose_attn, load_with_fallback
from egorag_qwen2vl.preprocess import VIDEO_MIN_PIXELS

#: egorag_video is 4 s of 160x120 at 10 fps: 19,200 px a frame, 10 frames in this 1 s scene.
SHORT = Scene(1.0, 2.0)


def test_video_pixel_floor_is_qwen_vl_utils(qwen, egorag_component, egorag_job, egorag_video):
    assert VIDEO_MIN_PIXELS == 128 * 28 * 28
    encoder = egorag_component("video", "qwen2vl")
    assert encoder.preprocess_config(qwen).min_pixels == VIDEO_MIN_PIXELS
    with egorag_job(egorag_video, [SHORT]) as job:
        inputs = encoder.scene_inputs(job, qwen, SHORT)
    _, grid_h, grid_w = inputs.video_grid_thw.tolist()[0]
    patch = qwen.preprocess.patch_size
    assert grid_h * grid_w * patch * patch >= VIDEO_MIN_PIXELS > 160 * 120
    assert (grid_h * patch, grid_w * patch) == (280, 392)  # qwen-vl-utils' smart_resize


def test_short_scene_gets_four_distinct_frames(qwen, egorag_component, egorag_job, egorag_video):
    for group, name in [("video", "qwen2vl"), ("caption", "captioner2")]:
        component = egorag_component(group, name)
        assert round(SHORT.duration * component.options.fps) == 1
        with egorag_job(egorag_video, [SHORT]) as job:
            frames = component.scene_frames(job, SHORT)
            inputs = component.scene_inputs(job, qwen, SHORT)
        assert len(frames) == 4
        assert len({f.tobytes() for f in frames.array}) == 4
        assert all(SHORT.start <= t < SHORT.end for t in frames.times)
        assert inputs.video_grid_thw.tolist()[0][0] == 2  # 4 frames / temporal patch 2


def test_max_frames_still_caps_the_minimum(egorag_component, egorag_job, egorag_video):
    component = egorag_component("video", "qwen2vl", max_frames=3)
    with egorag_job(egorag_video, [SHORT]) as job:
        assert len(component.scene_frames(job, SHORT)) == 3


@pytest.mark.parametrize(
    "importable,capability,dtype,expected",
    [
        (True, (8, 0), "bfloat16", "flash_attention_2"),
        (True, (9, 0), "float16", "flash_attention_2"),
        (True, (7, 5), "bfloat16", "sdpa"),  # Turing: FA2 needs Ampere or newer
        (True, (8, 6), "float32", "sdpa"),  # FA2 runs fp16/bf16 only
        (False, (9, 0), "bfloat16", "sdpa"),
        (True, None, "bfloat16", "sdpa"),  # no CUDA device
    ],
)
def test_auto_attention_choice(importable, capability, dtype, expected):
    assert choose_attn(importable, capability, dtype) == expected


class FlashAttnFailsLoader:
    """Test double for the model loader: raises as transformers does when FlashAttention 2
    cannot be used, loads (returns a label) otherwise. The real FA2 cannot run on CPU."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, attn: str) -> str:
        self.calls.append(attn)
        if attn == "flash_attention_2":
            raise ImportError("FlashAttention2 has been toggled on, but it cannot be used")
        return f"model with {attn}"


def test_flash_attention_load_failure_falls_back_to_sdpa(caplog):
    loader = FlashAttnFailsLoader()
    with caplog.at_level(logging.WARNING):
        model, attn = load_with_fallback(loader, "flash_attention_2")
    assert (model, attn) == ("model with sdpa", "sdpa")
    assert loader.calls == ["flash_attention_2", "sdpa"]
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and "\n" not in record.getMessage()
    assert "flash_attention_2" in record.getMessage() and "sdpa" in record.getMessage()


def test_other_attention_failures_are_not_hidden():
    loader = FlashAttnFailsLoader()
    assert load_with_fallback(loader, "sdpa") == ("model with sdpa", "sdpa")

    def broken(attn: str) -> str:
        raise ImportError("no such thing")

    with pytest.raises(ImportError):
        load_with_fallback(broken, "eager")


def test_pooled_embeddings_are_unit_vectors(egorag_component, egorag_job, egorag_video):
    tokens = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    for pooling in ("mean", "first"):
        vector = pool_tokens(tokens + 1, pooling)
        assert vector.dtype == np.float32
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
        encoder = egorag_component("video", "qwen2vl", pooling=pooling)
        with egorag_job(egorag_video, [Scene(0.0, 2.0), Scene(2.0, 4.0)]) as job:
            encoder.process(job)
        norms = [float(np.linalg.norm(r.video)) for r in job.results]
        np.testing.assert_allclose(norms, 1.0, atol=1e-5)
