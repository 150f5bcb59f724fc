"""The ``xclip`` video encoder: CLIP features -> K-means keyframes -> X-CLIP video embedding."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

import numpy as np
from egorag_core import ModelSpec, Settings, StageComponent, VideoJob
from egorag_core.keyframes import kmeans_keyframes
from egorag_core.models import (
    ModelSource,
    quiet_transformers,
    resolve_model,
    torch_dtype,
    weights_bytes,
)

from .keyframes import resample_in_time

DEFAULTS: dict[str, Any] = {
    "clip_model": "openai/clip-vit-base-patch32",
    "model": "microsoft/xclip-base-patch16",
    "sample_fps": 2.0,
    "max_frames": 64,
    "num_keyframes": 8,
    "batch_size": 16,
    "seed": 0,
    "dtype": "float32",
}


def load_clip_vision(location: str, device: str, dtype: str | None) -> tuple[Any, Any]:
    """``(CLIPVisionModelWithProjection, image processor)`` from a CLIP folder or hub id."""
    from transformers import AutoConfig, AutoImageProcessor, CLIPVisionModelWithProjection

    with quiet_transformers():
        config = AutoConfig.from_pretrained(location)
        if getattr(config, "vision_config", None) is not None:  # a full CLIPModel checkpoint
            vision = config.vision_config
            vision.projection_dim = config.projection_dim
            config = vision
        model = CLIPVisionModelWithProjection.from_pretrained(
            location, config=config, dtype=torch_dtype(dtype, device)
        )
        processor = AutoImageProcessor.from_pretrained(location)
    return model.to(device).eval(), processor


def load_xclip(location: str, device: str, dtype: str | None) -> tuple[Any, Any]:
    """``(XCLIPModel, image processor)`` from an X-CLIP folder or hub id."""
    from transformers import AutoImageProcessor, XCLIPModel

    with quiet_transformers():
        model = XCLIPModel.from_pretrained(location, dtype=torch_dtype(dtype, device))
        processor = AutoImageProcessor.from_pretrained(location)
    return model.to(device).eval(), processor


class XClipVideoEncoder(StageComponent):
    """Per scene: sampled frames -> CLIP image features -> K-means keyframes (time order) ->
    X-CLIP ``get_video_features`` of those keyframes (the scene's video embedding)."""

    def __init__(self, options: Mapping[str, Any], settings: Settings):
        super().__init__({**DEFAULTS, **dict(options)}, settings)

    # -- models ---------------------------------------------------------------------------------
    def _resolve(self, option: str, tiny_name: str, builder_name: str) -> ModelSource:
        from . import tiny

        return resolve_model(
            str(self.options[option]),
            f"video.{option}",
            tiny=self.settings.tiny,
            tiny_name=tiny_name,
            tiny_builder=getattr(tiny, builder_name),
            cache_dir=self.settings.cache_dir,
        )

    @cached_property
    def clip_source(self) -> ModelSource:
        return self._resolve("clip_model", "xclip-clip", "build_tiny_clip")

    @cached_property
    def xclip_source(self) -> ModelSource:
        return self._resolve("model", "xclip-xclip", "build_tiny_xclip")

    def check(self) -> None:
        self.clip_source, self.xclip_source  # noqa: B018 - resolving raises ModelUnavailable

    def _spec(
        self, kind: str, src: ModelSource, loader: Callable[..., Any], default_bytes: int
    ) -> ModelSpec:
        """The spec of one model: ``loader(location, device, dtype)``, keyed by kind and dtype."""
        dtype = self.options["dtype"]
        return ModelSpec(
            key=f"{kind}:{src.location}:{dtype}",
            load=lambda device: loader(src.location, device, dtype),
            model_id=src.location,
            estimated_bytes=weights_bytes(src.location, default_bytes),
            random_weights=src.random_weights,
        )

    @cached_property
    def clip_spec(self) -> ModelSpec:
        return self._spec("clip-vision", self.clip_source, load_clip_vision, 600 * 2**20)

    @cached_property
    def xclip_spec(self) -> ModelSpec:
        return self._spec("xclip", self.xclip_source, load_xclip, 800 * 2**20)

    def models(self) -> list[ModelSpec]:
        return [self.clip_spec, self.xclip_spec]

    # -- work -----------------------------------------------------------------------------------
    def process(self, job: VideoJob) -> None:
        """Keyframes of every scene with CLIP, then every embedding with X-CLIP, so each model
        is loaded at most once per video even under a tight memory budget."""
        with job.scheduler.use(self.clip_spec) as (model, processor):
            for i in job.progress(range(len(job.scenes)), "video keyframes"):
                frames = job.frames.sample(
                    job.scenes[i],
                    fps=float(self.options["sample_fps"]),
                    max_frames=int(self.options["max_frames"]),
                )
                features = self.clip_features(model, processor, frames.array)
                chosen = kmeans_keyframes(
                    features, int(self.options["num_keyframes"]), int(self.options["seed"])
                )
                job.results[i].keyframes = frames.array[chosen]
                job.results[i].keyframe_times = [float(frames.times[j]) for j in chosen]
        with job.scheduler.use(self.xclip_spec) as (model, processor):
            for i in job.progress(range(len(job.scenes)), "video embedding"):
                result = job.results[i]
                result.video = self.video_embedding(model, processor, result.keyframes)

    def clip_features(self, model: Any, processor: Any, frames: np.ndarray) -> np.ndarray:
        """L2-normalised CLIP image embeddings of ``frames`` (T,H,W,3), ``batch_size`` at a time."""
        import torch

        batch = max(1, int(self.options["batch_size"]))
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
