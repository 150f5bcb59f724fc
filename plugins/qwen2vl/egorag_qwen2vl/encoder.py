"""``video=qwen2vl``: scene embedding from the Qwen2-VL vision tower's merged tokens."""

from __future__ import annotations

from typing import Any

import numpy as np
from egorag_core import VideoJob

from .base import Qwen2VLComponent
from .loading import Qwen2VL
from .options import CHOICES, VideoOptions

POOLINGS = CHOICES["pooling"]


def pool_tokens(tokens: Any, pooling: str) -> np.ndarray:
    """(N, D) merged vision tokens -> (D,) float32: their mean, or the first (the seed's)."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling={pooling}: use one of {', '.join(POOLINGS)}")
    vector = tokens.float().mean(dim=0) if pooling == "mean" else tokens[0].float()
    return vector.cpu().numpy().astype(np.float32)


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


class Qwen2VLVideoEncoder(Qwen2VLComponent[VideoOptions]):
    """Scene frames at ``fps`` through the vision tower, pooled; ``num_keyframes`` uniform
    keyframes handed on."""

    def process(self, job: VideoJob) -> None:
        pooling, n_key = self.options.pooling, self.options.num_keyframes
        with self.model(job) as qwen:
            for i in job.progress(range(len(job.scenes)), "video"):
                scene, result = job.scenes[i], job.results[i]
                inputs = self.video_inputs(qwen, self.scene_frames(job, scene))
                tokens = merged_tokens(qwen, inputs.pixel_values_videos, inputs.video_grid_thw)
                result.video = pool_tokens(tokens, pooling)
                keyframes = job.frames.sample(scene, fps=None, max_frames=n_key)
                result.keyframes = keyframes.array
                result.keyframe_times = list(keyframes.times)
