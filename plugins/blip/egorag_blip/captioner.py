"""The ``captioner1`` captioner: BLIP captions of at most 5 representative keyframes, merged."""

from __future__ import annotations

from collections.abc import Mapping
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

from .select import clean_text, merge_captions, pixel_features

DEFAULTS: dict[str, Any] = {
    "model": "Salesforce/blip-image-captioning-base",
    "max_keyframes": 5,
    "sample_fps": 1.0,
    "max_frames": 32,
    "batch_size": 8,
    "max_new_tokens": 30,
    "min_new_tokens": 1,
    "num_beams": 1,
    "prompt": None,
    "seed": 0,
    "dtype": "float32",
}

#: At least this many new tokens from random-weight (tiny) models, so captions are non-empty.
RANDOM_WEIGHTS_MIN_NEW_TOKENS = 5


def load_blip(location: str, device: str, dtype: str | None) -> tuple[Any, Any]:
    """``(BlipForConditionalGeneration, BlipProcessor)`` from a folder or hub id."""
    from transformers import AutoProcessor, BlipForConditionalGeneration

    with quiet_transformers():
        model = BlipForConditionalGeneration.from_pretrained(
            location, dtype=torch_dtype(dtype, device)
        )
        processor = AutoProcessor.from_pretrained(location)
    return model.to(device).eval(), processor


class BlipCaptioner(StageComponent):
    """Per scene: up to ``max_keyframes`` representative frames (K-means on shrunk pixels) of
    the video stage's keyframes, or of frames sampled here; a BLIP caption of each; the
    captions merged into one description without repeated sentences."""

    def __init__(self, options: Mapping[str, Any], settings: Settings):
        super().__init__({**DEFAULTS, **dict(options)}, settings)

    @cached_property
    def source(self) -> ModelSource:
        from .tiny import build_tiny_blip

        return resolve_model(
            str(self.options["model"]),
            "caption.model",
            tiny=self.settings.tiny,
            tiny_name="blip-captioner",
            tiny_builder=build_tiny_blip,
            cache_dir=self.settings.cache_dir,
        )

    def check(self) -> None:
        self.source  # noqa: B018 - resolving raises ModelUnavailable

    @cached_property
    def spec(self) -> ModelSpec:
        src, dtype = self.source, self.options["dtype"]
        return ModelSpec(
            key=f"blip-caption:{src.location}:{dtype}",
            load=lambda device: load_blip(src.location, device, dtype),
            model_id=src.location,
            estimated_bytes=weights_bytes(src.location, 1000 * 2**20),
            random_weights=src.random_weights,
        )

    def models(self) -> list[ModelSpec]:
        return [self.spec]

    def choose_frames(self, job: VideoJob, index: int) -> np.ndarray:
        """The representative frames (time order) of scene ``index``."""
        frames = job.results[index].keyframes
        if frames is None or len(frames) == 0:
            frames = job.frames.sample(
                job.scenes[index],
                fps=float(self.options["sample_fps"]),
                max_frames=int(self.options["max_frames"]),
            ).array
        chosen = kmeans_keyframes(
            pixel_features(frames), int(self.options["max_keyframes"]), int(self.options["seed"])
        )
        return frames[chosen]

    def process(self, job: VideoJob) -> None:
        with job.scheduler.use(self.spec) as (model, processor):
            for i in job.progress(range(len(job.scenes)), "caption"):
                result = job.results[i]
                captions = self.caption_frames(model, processor, self.choose_frames(job, i))
                result.caption_text = merge_captions(captions)
                result.keyframes = None

    def caption_frames(self, model: Any, processor: Any, frames: np.ndarray) -> list[str]:
        """One clean BLIP caption per frame, ``batch_size`` frames per ``generate`` call."""
        import torch

        prompt = self.options["prompt"]
        min_new = int(self.options["min_new_tokens"] or 0)
        if self.source.random_weights:
            min_new = max(min_new, RANDOM_WEIGHTS_MIN_NEW_TOKENS)
        tokenizer = processor.tokenizer
        never = {tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.cls_token_id,
                 tokenizer.mask_token_id, model.config.text_config.bos_token_id}  # fmt: skip
        never.discard(None)
        never.discard(model.config.text_config.sep_token_id)
        generate = {
            "max_new_tokens": int(self.options["max_new_tokens"]),
            "min_new_tokens": min_new,
            "num_beams": int(self.options["num_beams"]),
            "suppress_tokens": sorted(never),
        }
        batch = max(1, int(self.options["batch_size"]))
        captions: list[str] = []
        for start in range(0, len(frames), batch):
            images = list(frames[start : start + batch])
            text = [prompt] * len(images) if prompt else None
            inputs = processor(images=images, text=text, return_tensors="pt").to(model.device)
            inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
            with torch.inference_mode():
                out = model.generate(**inputs, **generate)
            captions += [
                clean_text(t) for t in processor.batch_decode(out, skip_special_tokens=True)
            ]
        return captions
