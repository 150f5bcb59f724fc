"""``video=qwen2vl``: scene embedding from the Qwen2-VL vision tower's merged tokens."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from egorag_core import VideoJob
from egorag_core.window import FrameSampling

from .base import Qwen2VLComponent
from .loading import Qwen2VL
from .options import CHOICES, VideoOptions
from .preprocess import VideoInputs

POOLINGS = CHOICES["pooling"]


def pool_tokens(tokens: Any, pooling: str) -> np.ndarray:
    """(N, D) merged vision tokens -> (D,) L2-normalised float32: their mean, or the first
    (the seed's)."""
    import torch

    if pooling not in POOLINGS:
        raise ValueError(f"pooling={pooling}: use one of {', '.join(POOLINGS)}")
    vector = tokens.float().mean(dim=0) if pooling == "mean" else tokens[0].float()
    unit = torch.nn.functional.normalize(vector, dim=0)
    return unit.cpu().numpy().astype(np.float32)


def merged_tokens(qwen: Qwen2VL, pixel_values_videos: Any, video_grid_thw: Any) -> Any:
    """Run the vision tower; its ``pooler_output`` holds the merged tokens (text hidden size)."""
    import torch

    model = qwen.model
    visual = getattr(getattr(model, "model", None), "visual", None) or model.visual
    dtype = next(visual.parameters()).dtype
    with torch.inference_mode():
        out = visual(pixel_values_videos.to(qwen.device, dtype),
                     grid_thw=video_grid_thw.to(qwen.device))  # fmt: skip
    return out.pooler_output if hasattr(out, "pooler_output") else out


def packed_merged_tokens(qwen: Qwen2VL, videos: Sequence[VideoInputs]) -> list[Any]:
    """One vision-tower call for ``videos`` packed together (patches and ``grid_thw`` rows
    concatenated; attention stays within each frame pair), split back per video:
    ``t*h*w / merge_size**2`` merged tokens each, as transformers' ``get_video_features``."""
    import torch

    pixels = torch.cat([v.pixel_values_videos for v in videos])
    grids = torch.cat([v.video_grid_thw for v in videos])
    tokens = merged_tokens(qwen, pixels, grids)
    sizes = [v.num_video_tokens for v in videos]
    if sum(sizes) != tokens.shape[0]:
        raise ValueError(f"vision tower gave {tokens.shape[0]} merged tokens, expected {sizes}")
    return list(torch.split(tokens, sizes))


class Qwen2VLVideoEncoder(Qwen2VLComponent[VideoOptions]):
    """Scene frames at ``fps`` through the vision tower, ``batch_size`` scenes per call, pooled;
    ``num_keyframes`` uniform keyframes handed on. Each scene's preprocessed inputs are offered
    to ``caption=captioner2`` when it runs on the same loaded model."""

    def process(self, job: VideoJob) -> None:
        opts = self.options
        offer_bytes = int(opts.preprocess_cache_mb * 2**20)
        with self.model(job) as qwen:
            qwen.inputs.begin_window(job.path)
            for batch in self.scene_batches(job, "video", max(1, opts.batch_size)):
                videos = [self.scene_inputs(job, qwen, job.scenes[i], offer_bytes) for i in batch]
                tokens = packed_merged_tokens(qwen, videos)
                self.count("vision_calls")
                for i, scene_tokens in zip(batch, tokens, strict=True):
                    self.finish_scene(job, i, pool_tokens(scene_tokens, opts.pooling))

    def keyframe_sampling(self) -> FrameSampling:
        """``num_keyframes`` frames spread uniformly over the scene."""
        return FrameSampling(None, self.options.num_keyframes)

    def finish_scene(self, job: VideoJob, index: int, vector: np.ndarray) -> None:
        """Store the scene's embedding and the times of its ``num_keyframes`` uniform
        keyframes; the frames too when a later stage reads them (``job.keyframes_wanted``)."""
        result = job.results[index]
        result.video = vector
        sampling, scene = self.keyframe_sampling(), job.scenes[index]
        if not job.keyframes_wanted:
            indices = sampling.indices(job.frames, scene)
            result.keyframe_times = [i / job.frames.fps for i in indices]
            return
        keyframes = sampling.sample(job.frames, scene)
        result.keyframes = keyframes.array
        result.keyframe_times = list(keyframes.times)
