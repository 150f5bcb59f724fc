"""The ``xclip`` video encoder: CLIP features -> K-means keyframes -> X-CLIP video embedding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from egorag_core import ModelComponent, ModelRole, VideoJob
from egorag_core.hf import quiet_transformers, torch_dtype
from egorag_core.keyframes import kmeans_keyframes
from egorag_core.window import FrameSampling

from . import tiny
from .keyframes import resample_in_time


@dataclass
class XClipOptions:
    """The options of ``video=xclip``; their values are in ``conf/video/xclip.yaml``."""

    #: CLIP hub id or folder (frame features).
    clip_model: str
    #: X-CLIP hub id or folder (video embedding).
    model: str
    #: Frames sampled per second of scene.
    sample_fps: float
    #: At most this many frames sampled per scene.
    max_frames: int
    #: K-means k.
    num_keyframes: int
    #: Frames per CLIP forward pass.
    batch_size: int
    #: K-means ``random_state``.
    seed: int
    #: torch dtype name of both models.
    dtype: str


def load_clip_vision(location: str, device: str, options: XClipOptions) -> tuple[Any, Any]:
    """``(CLIPVisionModelWithProjection, image processor)`` from a CLIP folder or hub id."""
    from transformers import AutoConfig, AutoImageProcessor, CLIPVisionModelWithProjection

    with quiet_transformers():
        config = AutoConfig.from_pretrained(location)
        if getattr(config, "vision_config", None) is not None:  # a full CLIPModel checkpoint
            vision = config.vision_config
            vision.projection_dim = config.projection_dim
            config = vision
        model = CLIPVisionModelWithProjection.from_pretrained(
            location, config=config, dtype=torch_dtype(options.dtype, device)
        )
        processor = AutoImageProcessor.from_pretrained(location)
    return model.to(device).eval(), processor


def load_xclip(location: str, device: str, options: XClipOptions) -> tuple[Any, Any]:
    """``(XCLIPModel, image processor)`` from an X-CLIP folder or hub id."""
    from transformers import AutoImageProcessor, XCLIPModel

    with quiet_transformers():
        model = XCLIPModel.from_pretrained(location, dtype=torch_dtype(options.dtype, device))
        processor = AutoImageProcessor.from_pretrained(location)
    return model.to(device).eval(), processor


class XClipVideoEncoder(ModelComponent[XClipOptions]):
    """Per scene: sampled frames -> CLIP image features -> K-means keyframes (time order) ->
    X-CLIP ``get_video_features`` of those keyframes (the scene's video embedding)."""

    roles = (
        ModelRole(
            load_clip_vision,
            option="clip_model",
            key="clip-vision",
            tiny=tiny.build_tiny_clip,
            tiny_name="xclip-clip",
            estimated_bytes=600 * 2**20,
        ),
        ModelRole(
            load_xclip,
            option="model",
            key="xclip",
            tiny=tiny.build_tiny_xclip,
            tiny_name="xclip-xclip",
            estimated_bytes=800 * 2**20,
        ),
    )

    def variant(self, role: ModelRole) -> str:
        return self.options.dtype

    def frame_sampling(self) -> FrameSampling:
        """The frames :meth:`process` samples, decoded once by the core per window."""
        return FrameSampling(self.options.sample_fps, self.options.max_frames)

    def process(self, job: VideoJob) -> None:
        """Keyframes of every scene with CLIP, then every embedding with X-CLIP, so each model
        is loaded at most once per video even under a tight memory budget."""
        with self.model(job, "clip_model") as (model, processor):
            for i in job.progress(range(len(job.scenes)), "video keyframes"):
                frames = job.frames.sample(
                    job.scenes[i], fps=self.options.sample_fps, max_frames=self.options.max_frames
                )
                features = self.clip_features(model, processor, frames.array)
                chosen = kmeans_keyframes(features, self.options.num_keyframes, self.options.seed)
                job.results[i].keyframes = frames.array[chosen]
                job.results[i].keyframe_times = [float(frames.times[j]) for j in chosen]
        with self.model(job, "model") as (model, processor):
            for i in job.progress(range(len(job.scenes)), "video embedding"):
                result = job.results[i]
                result.video = self.video_embedding(model, processor, result.keyframes)

    def clip_features(self, model: Any, processor: Any, frames: np.ndarray) -> np.ndarray:
        """L2-normalised CLIP image embeddings of ``frames`` (T,H,W,3), ``batch_size`` at a time."""
        import torch

        batch = max(1, self.options.batch_size)
        out = []
        for start in range(0, len(frames), batch):
            images = list(frames[start : start + batch])
            pixels = processor(images=images, return_tensors="pt")["pixel_values"]
            with torch.inference_mode():
                embeds = model(pixel_values=pixels.to(model.device, model.dtype)).image_embeds
            out.append(torch.nn.functional.normalize(embeds.float(), dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)

    @staticmethod
    def video_embedding(model: Any, processor: Any, keyframes: np.ndarray) -> np.ndarray:
        """X-CLIP video features of ``keyframes`` resampled in time order to the model's
        ``num_frames``; a float32 vector of the model's ``projection_dim``."""
        import torch

        num_frames = int(model.config.vision_config.num_frames)
        frames = keyframes[resample_in_time(len(keyframes), num_frames)]
        pixels = processor(list(frames), return_tensors="pt")["pixel_values"]
        if pixels.ndim == 4:  # image processors give (T,C,H,W); video ones (1,T,C,H,W)
            pixels = pixels.unsqueeze(0)
        with torch.inference_mode():
            out = model.get_video_features(pixel_values=pixels.to(model.device, model.dtype))
        embeds = out.pooler_output if hasattr(out, "pooler_output") else out
        return embeds[0].float().cpu().numpy().astype(np.float32)
