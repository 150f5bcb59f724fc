"""``caption=captioner2``: Qwen2-VL describes each scene's video through its chat template."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from egorag_core import VideoJob

from .base import Qwen2VLComponent
from .loading import Qwen2VL
from .preprocess import VideoInputs, expand_video_tokens

DEFAULT_PROMPT = "Describe this scene briefly."
_SPECIAL = re.compile(r"<\|[^|<>]*\|>")
_ROLE = re.compile(r"^\s*(?:system|user|assistant)\s*\n", re.IGNORECASE)
_ANSWER = re.compile(r"(?:^|\n)\s*assistant\s*\n", re.IGNORECASE)


def _printable(text: str) -> str:
    """Whitespace controls become spaces; other control, format, private-use and undecodable
    (U+FFFD) characters are dropped."""
    return "".join(
        " " if c.isspace() else c for c in text
        if c.isspace() or (c != "\ufffd" and unicodedata.category(c) not in ("Cc", "Cf", "Co"))
    )  # fmt: skip


def clean_caption(text: str, prompt: str = DEFAULT_PROMPT) -> str:
    """Generated text -> caption: no special tokens, role headers, prompt echo or unprintable
    characters; whitespace collapsed and stripped."""
    text = _SPECIAL.sub(" ", text)
    text = _ANSWER.split(text)[-1]  # a whole echoed conversation: keep the answer
    while (stripped := _ROLE.sub("", text, count=1)) != text:
        text = stripped
    text = " ".join(_printable(text).split())
    if prompt and text.lower().startswith(prompt.lower()):
        text = text[len(prompt) :]
    return " ".join(text.split())


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
    return [clean_caption(t, prompt) for t in decoded]


class Qwen2VLCaptioner(Qwen2VLComponent):
    """Scene video at ``fps`` + ``prompt`` -> ``generate``; ``batch_size`` scenes per call."""

    group = "caption"

    def process(self, job: VideoJob) -> None:
        prompt = str(self.options.get("prompt") or DEFAULT_PROMPT)
        max_new = int(self.options.get("max_new_tokens") or 64)
        batch = max(1, int(self.options.get("batch_size") or 4))
        with job.scheduler.use(self.spec) as qwen:
            pending: list[int] = []
            for i in job.progress(range(len(job.scenes)), "caption"):
                pending.append(i)
                if len(pending) == batch or i == len(job.scenes) - 1:
                    videos = [self.video_inputs(qwen, self.scene_frames(job, job.scenes[j]))
                              for j in pending]  # fmt: skip
                    for j, text in zip(pending, generate_captions(qwen, videos, prompt, max_new),
                                       strict=True):  # fmt: skip
                        job.results[j].caption_text = text
                    pending = []
