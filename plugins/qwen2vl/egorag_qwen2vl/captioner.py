"""``caption=captioner2``: Qwen2-VL describes each scene's video through its chat template."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from egorag_core import VideoJob
from egorag_core.hf import clean_generated_text

from .base import Qwen2VLComponent
from .loading import Qwen2VL
from .options import CaptionOptions
from .preprocess import VideoInputs, expand_video_tokens


def chat_prompt(tokenizer: Any, prompt: str, num_video_tokens: int) -> str:
    """The chat-template text for one video + ``prompt``, video pads expanded."""
    messages = [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": prompt}]}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return expand_video_tokens(text, [num_video_tokens])


def generate_captions(
    qwen: Qwen2VL, videos: Sequence[VideoInputs], prompt: str, max_new_tokens: int
) -> list[str]:
    """One left-padded ``generate`` call for ``videos``; the new tokens decoded and cleaned."""
    import torch

    tok, model = qwen.tokenizer, qwen.model
    texts = [chat_prompt(tok, prompt, v.num_video_tokens) for v in videos]
    enc = tok(texts, return_tensors="pt", padding=True, padding_side="left")
    ids = enc["input_ids"]
    types = torch.zeros_like(ids, dtype=torch.int32)
    types[ids == model.config.image_token_id] = 1
    types[ids == model.config.video_token_id] = 2
    dtype = next(model.parameters()).dtype
    pixels = torch.cat([v.pixel_values_videos for v in videos]).to(qwen.device, dtype)
    grids = torch.cat([v.video_grid_thw for v in videos]).to(qwen.device)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    with torch.inference_mode():
        out = model.generate(
            input_ids=ids.to(qwen.device), attention_mask=enc["attention_mask"].to(qwen.device),
            mm_token_type_ids=types.to(qwen.device), pixel_values_videos=pixels,
            video_grid_thw=grids, max_new_tokens=max_new_tokens, do_sample=False,
            pad_token_id=pad_id,
        )  # fmt: skip
    new = out[:, ids.shape[1] :].cpu()
    decoded = tok.batch_decode(new, skip_special_tokens=True, clean_up_tokenization_spaces=False)
    return [clean_generated_text(t, prompt) for t in decoded]


class Qwen2VLCaptioner(Qwen2VLComponent[CaptionOptions]):
    """Scene video at ``fps`` + ``prompt`` -> ``generate``; ``batch_size`` scenes per call."""

    def process(self, job: VideoJob) -> None:
        with self.model(job) as qwen:
            try:
                for batch in self.scene_batches(job, "caption", max(1, self.options.batch_size)):
                    self.caption_batch(job, qwen, batch)
            finally:
                qwen.inputs.end_window(job.path)

    def reads_keyframes(self) -> bool:
        """No: it reads the scene's frames at ``fps`` (or the video stage's inputs of them)."""
        return False

    def caption_batch(self, job: VideoJob, qwen: Qwen2VL, indices: list[int]) -> None:
        """Caption the scenes ``indices`` of ``job`` in one ``generate`` call; inputs the video
        stage preprocessed on this model are reused."""
        videos = [self.scene_inputs(job, qwen, job.scenes[i]) for i in indices]
        texts = generate_captions(qwen, videos, self.options.prompt, self.options.max_new_tokens)
        self.count("generate_calls")
        for i, text in zip(indices, texts, strict=True):
            job.results[i].caption_text = text
