"""A tiny random-weight Qwen2-VL for tests and ``preset=tiny``.

Built from the real config classes and saved with ``save_pretrained``, so it is loaded through
the same ``from_pretrained(folder)`` path as ``Qwen/Qwen2-VL-7B-Instruct``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Qwen2-VL's chat template (as shipped with Qwen/Qwen2-VL-7B-Instruct).
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

#: Qwen2-VL's special tokens; ``<|endoftext|>`` doubles as the pad token, as in the real one.
SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

TINY_NAME = "qwen2vl"


def tiny_config(vocab_size: int, ids: dict[str, int]) -> Any:
    """A two-layer Qwen2-VL config (64-wide text model, 32-wide vision tower) for a tokenizer of
    ``vocab_size`` tokens whose special tokens have the ``ids`` given."""
    from transformers import Qwen2VLConfig

    hidden, heads = 64, 4
    head_dim = hidden // heads
    # mrope sections split the head_dim / 2 rotary frequencies over (t, h, w) as 2:3:3, like
    # the 7B's [16, 24, 24] for head_dim 128.
    unit = head_dim // 16
    mrope = [unit * 2, unit * 3, unit * 3]
    return Qwen2VLConfig(
        text_config={
            "vocab_size": vocab_size,
            "hidden_size": hidden,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": heads,
            "num_key_value_heads": 2,
            "max_position_embeddings": 32768,
            "rope_parameters": {"rope_type": "default", "rope_theta": 1e6, "mrope_section": mrope},
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
        },
        vision_config={
            "depth": 2,
            "embed_dim": 32,
            "hidden_size": hidden,
            "num_heads": 2,
            "mlp_ratio": 2,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )


def build_tiny_qwen2vl(folder: Path) -> None:
    """Save a tiny random Qwen2-VL (model, tokenizer, processor config) into ``folder``."""
    import torch
    from egorag_core.tiny import train_tiny_tokenizer
    from transformers import (
        GenerationConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessorPil,
    )

    tokenizer = train_tiny_tokenizer(
        vocab_size=384,
        special_tokens=SPECIAL_TOKENS,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        chat_template=CHAT_TEMPLATE,
        model_max_length=32768,
    )
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    torch.manual_seed(0)
    model = Qwen2VLForConditionalGeneration(tiny_config(len(tokenizer), ids)).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]],
        pad_token_id=ids["<|endoftext|>"],
        do_sample=False,
    )
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    Qwen2VLImageProcessorPil(
        min_pixels=56 * 56, max_pixels=28 * 28 * 1280, patch_size=14, temporal_patch_size=2,
        merge_size=2,
    ).save_pretrained(folder)  # fmt: skip
