"""Preprocessing without torchvision: sizes, shapes, token counts, and the official code."""

from __future__ import annotations

import ast
import sys

import numpy as np
import pytest
import torch
from egorag_core import Scene
from egorag_core.testing import sample_video

from egorag_qwen2vl.preprocess import (
    VideoPreprocessConfig,
    expand_video_tokens,
    patchify,
    preprocess_frames,
    preprocess_official,
    preprocess_video,
    smart_resize,
    torchvision_available,
)

CFG = VideoPreprocessConfig(min_pixels=56 * 56, max_pixels=360 * 420)


def _frames(t: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (t, h, w, 3), dtype=np.uint8)


def _official_function(module: str, name: str):
    """A function from transformers' Qwen2-VL source, compiled alone (its module imports
    torchvision, so it cannot be imported here)."""
    import importlib.util
    import math

    path = importlib.util.find_spec(f"transformers.models.qwen2_vl.{module}").origin
    tree = ast.parse(open(path).read())
    body = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)
    namespace = {"torch": torch, "math": math}
    exec(compile(ast.Module([body], []), path, "exec"), namespace)
    return namespace[name]


@pytest.mark.parametrize("h", [28, 55, 100, 120, 360, 480, 719, 1080])
@pytest.mark.parametrize("w", [28, 90, 160, 420, 640, 1280, 1920])
def test_smart_resize_matches_transformers(h, w):
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize as ref

    for lo, hi in [(56 * 56, 360 * 420), (128 * 28 * 28, 768 * 28 * 28), (3136, 12845056)]:
        assert smart_resize(h, w, 28, lo, hi) == ref(h, w, 28, lo, hi)


def test_patchify_matches_official_source():
    official = _official_function("video_processing_qwen2_vl", "patchify")
    for t in (1, 2, 3, 4):
        video = torch.randn(t, 3, 56, 84)
        ours, grid = patchify(video, CFG)
        ref, *ref_grid = official(None, video[None], 14, 2, 2)
        assert tuple(ref_grid) == grid
        assert torch.equal(ours, ref[0])


@pytest.mark.parametrize(
    "t,h,w",
    [(1, 120, 160), (2, 160, 120), (3, 360, 640), (5, 1080, 1920), (32, 480, 640), (4, 40, 400),
     (2, 20, 20)],
)  # fmt: skip
def test_shapes_and_token_counts(t, h, w):
    inputs = preprocess_frames(_frames(t, h, w), CFG)
    rh, rw = smart_resize(h, w, CFG.factor, CFG.min_pixels, CFG.max_pixels)
    grid = inputs.video_grid_thw.tolist()[0]
    assert rh % 28 == 0 and rw % 28 == 0 and CFG.min_pixels <= rh * rw <= CFG.max_pixels
    assert grid == [(t + 1) // 2, rh // CFG.patch_size, rw // CFG.patch_size]
    patch_dim = 3 * CFG.temporal_patch_size * CFG.patch_size**2
    assert inputs.pixel_values_videos.shape == (grid[0] * grid[1] * grid[2], patch_dim)
    assert inputs.pixel_values_videos.dtype == torch.float32
    assert inputs.num_video_tokens == grid[0] * grid[1] * grid[2] // CFG.merge_size**2
    text = expand_video_tokens("a<|video_pad|>b", [inputs.num_video_tokens])
    assert text.count("<|video_pad|>") == inputs.num_video_tokens


def test_odd_frame_count_repeats_last_frame():
    inputs = preprocess_frames(_frames(1, 56, 56), CFG)
    # Every patch row is (C, temporal, p, p): both temporal slots hold the same frame.
    rows = inputs.pixel_values_videos.reshape(-1, 3, 2, 14, 14)
    assert torch.equal(rows[:, :, 0], rows[:, :, 1])


def test_normalisation_uses_processor_mean_std():
    frames = np.full((2, 56, 56, 3), 255, dtype=np.uint8)
    inputs = preprocess_frames(frames, CFG)
    rows = inputs.pixel_values_videos.reshape(-1, 3, 2 * 14 * 14)
    expected = (1 - np.array(CFG.image_mean)) / np.array(CFG.image_std)
    np.testing.assert_allclose(rows[0, :, 0].numpy(), expected, rtol=1e-6)


def test_inputs_keep_uint8_pixels_read_as_the_normalised_floats():
    """The kept patches are the resized uint8 pixels (a quarter of float32's bytes); read, they
    equal to the bit the processor's order: normalise the resized frames, then patchify."""
    frames = _frames(3, 360, 640)
    inputs = preprocess_frames(frames, CFG)
    video = torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous()
    h, w = smart_resize(360, 640, CFG.factor, CFG.min_pixels, CFG.max_pixels)
    resized = torch.nn.functional.interpolate(video, size=[h, w], mode="bicubic",
                                              align_corners=False, antialias=True)  # fmt: skip
    mean = (torch.tensor(CFG.image_mean) * (1.0 / CFG.rescale_factor)).view(1, -1, 1, 1)
    std = (torch.tensor(CFG.image_std) * (1.0 / CFG.rescale_factor)).view(1, -1, 1, 1)
    expected, _ = patchify((resized.to(torch.float32) - mean) / std, CFG)
    assert inputs.patches.dtype == torch.uint8 and inputs.nbytes == expected.numel()
    assert torch.equal(inputs.pixel_values_videos, expected)
    assert torch.equal(inputs.pixel_values_videos, expected)  # reading left the patches alone


def test_scene_lengths_from_real_video(egorag_job):
    """A 1-frame scene, a normal scene and one longer than the frame cap, decoded for real."""
    path = sample_video("bikes.mp4")
    scenes = [Scene(0.0, 0.05), Scene(1.0, 4.0), Scene(0.0, 10.0)]
    with egorag_job(path, scenes) as job:
        counts = [len(job.frames.sample(s, fps=1.0, max_frames=5)) for s in scenes]
        assert counts == [1, 3, 5]
        for scene, n in zip(scenes, counts, strict=True):
            frames = job.frames.sample(scene, fps=1.0, max_frames=5)
            inputs = preprocess_frames(frames.array, CFG)
            assert inputs.video_grid_thw[0, 0].item() == (n + 1) // 2


def test_expand_video_tokens_counts_placeholders():
    with pytest.raises(ValueError):
        expand_video_tokens("no video here", [4])
    assert expand_video_tokens("<|video_pad|>x<|video_pad|>", [1, 2]).count("<|video_pad|>") == 3


@pytest.mark.skipif(not torchvision_available(), reason="torchvision is not installed here")
@pytest.mark.parametrize("t,h,w", [(1, 120, 160), (3, 360, 640), (4, 100, 1000), (2, 56, 84)])
def test_matches_official_video_processor(t, h, w):
    frames = _frames(t, h, w, seed=t)
    ours, ref = preprocess_frames(frames, CFG), preprocess_official(frames, CFG)
    assert torch.equal(ours.video_grid_thw, ref.video_grid_thw)
    diff = (ours.pixel_values_videos - ref.pixel_values_videos).abs().max().item()
    print(f"max abs diff vs Qwen2VLVideoProcessor ({t}x{h}x{w}): {diff:.3g}")
    assert diff < 1e-5


def test_auto_backend_without_torchvision(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # import torchvision now fails
    assert not torchvision_available()
    inputs = preprocess_video(_frames(3, 120, 160), CFG, "auto")
    assert inputs.video_grid_thw.tolist() == [[2, 8, 12]]
