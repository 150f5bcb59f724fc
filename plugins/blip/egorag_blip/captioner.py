"""The ``captioner1`` captioner: BLIP captions of at most 5 representative keyframes, merged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from egorag_core import ModelComponent, ModelRole, VideoJob
from egorag_core.hf import clean_generated_text, image_side, quiet_transformers, torch_dtype
from egorag_core.keyframes import kmeans_keyframes

from .select import merge_captions, pixel_features
from .tiny import build_tiny_blip

#: At least this many new tokens from random-weight (tiny) models, so captions are non-empty.
RANDOM_WEIGHTS_MIN_NEW_TOKENS = 5

# The defaults follow BLIP's own captioner: salesforce/BLIP configs/caption_coco.yaml
# (prompt 'a picture of ', num_beams 3, max_length 20, min_length 5) and models/blip.py
# (BLIP_Decoder.generate: beam search, lengths counted with the prompt, the prompt cut from
# each caption). transformers' BlipForConditionalGeneration.generate starts the decoder with
# [DEC] + the prompt's tokens, as the reference does.


@dataclass
class BlipOptions:
    """The options of ``caption=captioner1``; values in ``conf/caption/captioner1.yaml``."""

    #: BLIP hub id or folder.
    model: str
    #: Frames captioned per scene (K-means k).
    max_keyframes: int
    #: Without handed keyframes: frames sampled per second of scene...
    sample_fps: float
    #: ...at most this many per scene.
    max_frames: int
    #: Frames per ``generate`` call.
    batch_size: int
    #: Longest caption in tokens, counting ``[DEC]`` and the prompt (the reference's).
    max_length: int
    #: Shortest caption in tokens, counted the same way.
    min_length: int
    num_beams: int
    #: Text the caption starts from (cut from the output), or ``None``.
    prompt: str | None
    #: Sentences whose word sets are at least this similar are merged (1.0: same words only).
    merge_similarity: float
    #: K-means ``random_state``.
    seed: int
    #: torch dtype name of the model.
    dtype: str


def prompt_length(inputs: Any) -> int:
    """Tokens that start every ``generate`` output: ``[DEC]`` and the prompt's (BLIP's
    ``generate`` replaces the processor's first token by ``[DEC]`` and drops its last)."""
    ids = inputs.get("input_ids")
    return 1 if ids is None else int(ids.shape[1]) - 1


def load_blip(location: str, device: str, options: BlipOptions) -> tuple[Any, Any]:
    """``(BlipForConditionalGeneration, BlipProcessor)`` from a folder or hub id."""
    from transformers import AutoProcessor, BlipForConditionalGeneration

    with quiet_transformers():
        model = BlipForConditionalGeneration.from_pretrained(
            location, dtype=torch_dtype(options.dtype, device)
        )
        processor = AutoProcessor.from_pretrained(location)
    return model.to(device).eval(), processor


class BlipCaptioner(ModelComponent[BlipOptions]):
    """Per scene: up to ``max_keyframes`` representative frames (K-means on shrunk pixels) of
    the video stage's keyframes, or of frames sampled here; a BLIP caption of each; the
    captions merged into one description without repeated sentences."""

    roles = (
        ModelRole(
            load_blip,
            key="blip-caption",
            tiny_version="2",  # v2: the tokenizer wraps text in [CLS] ... [SEP]
            tiny=build_tiny_blip,
            tiny_name="blip-captioner",
            estimated_bytes=1000 * 2**20,
        ),
    )

    def variant(self, role: ModelRole) -> str:
        return self.options.dtype

    def frame_side(self) -> int | None:
        """The side BLIP's image processor resizes frames to (384 for the base model)."""
        return image_side(self.spec().model_id)

    def choose_frames(self, job: VideoJob, index: int) -> np.ndarray:
        """The representative frames (time order) of scene ``index``."""
        frames = job.results[index].keyframes
        if frames is None or len(frames) == 0:
            frames = job.frames.sample(
                job.scenes[index], fps=self.options.sample_fps, max_frames=self.options.max_frames
            ).array
        chosen = kmeans_keyframes(
            pixel_features(frames), self.options.max_keyframes, self.options.seed
        )
        return frames[chosen]

    def process(self, job: VideoJob) -> None:
        with self.model(job) as (model, processor):
            for i in job.progress(range(len(job.scenes)), "caption"):
                result = job.results[i]
                captions = self.caption_frames(model, processor, self.choose_frames(job, i))
                result.caption_text = merge_captions(captions, self.options.merge_similarity)
                result.keyframes = None

    def generate_options(self, model: Any, processor: Any) -> dict[str, Any]:
        """``generate`` keyword arguments: lengths, beams, and the special tokens suppressed
        (all but the one that ends a caption)."""
        min_new = RANDOM_WEIGHTS_MIN_NEW_TOKENS if self.spec().random_weights else 0
        tokenizer = processor.tokenizer
        never = {tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.cls_token_id,
                 tokenizer.mask_token_id, model.config.text_config.bos_token_id}  # fmt: skip
        never.discard(None)
        never.discard(model.config.text_config.sep_token_id)
        return {
            "max_length": self.options.max_length,
            "min_length": self.options.min_length,
            "min_new_tokens": min_new,
            "num_beams": self.options.num_beams,
            "suppress_tokens": sorted(never),
        }

    def caption_frames(self, model: Any, processor: Any, frames: np.ndarray) -> list[str]:
        """One clean BLIP caption per frame, ``batch_size`` frames per ``generate`` call; the
        prompt's tokens, which start every output, are cut before decoding."""
        import torch

        prompt = self.options.prompt
        generate = self.generate_options(model, processor)
        batch = max(1, self.options.batch_size)
        captions: list[str] = []
        for start in range(0, len(frames), batch):
            images = list(frames[start : start + batch])
            text = [prompt] * len(images) if prompt else None
            inputs = processor(images=images, text=text, return_tensors="pt").to(model.device)
            inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
            with torch.inference_mode():
                out = model.generate(**inputs, **generate)
            decoded = processor.batch_decode(out[:, prompt_length(inputs) :],
                                             skip_special_tokens=True)  # fmt: skip
            captions += [clean_generated_text(t) for t in decoded]
        return captions
