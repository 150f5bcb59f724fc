"""Loading Qwen2-VL: dtype and attention choice, the memory estimate, model + tokenizer."""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass, field
from typing import Any

from egorag_core.hf import quiet_transformers, torch_dtype

from .options import Qwen2VLOptions
from .preprocess import VideoPreprocessConfig
from .shared import InputsCache
from .tiny import CHAT_TEMPLATE

_DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}


@dataclass
class Qwen2VL:
    """A loaded Qwen2-VL: model, tokenizer, the processor's preprocessing settings, and the
    scene inputs one stage preprocessed for another on this same instance."""

    model: Any
    tokenizer: Any
    preprocess: VideoPreprocessConfig
    device: str
    inputs: InputsCache = field(default_factory=InputsCache)


def resolve_dtype(option: str | None, device: str) -> str:
    """``auto``: bfloat16 on CUDA, float32 elsewhere; otherwise the name given."""
    name = (option or "auto").replace("torch.", "")
    if name == "auto":
        return "bfloat16" if device.startswith("cuda") else "float32"
    if name not in _DTYPE_BYTES:
        raise ValueError(f"torch_dtype={option}: use auto, bfloat16, float16 or float32")
    return name


def resolve_attn(option: str | None, device: str) -> str:
    """``auto``: flash_attention_2 on CUDA when flash-attn is installed, else sdpa."""
    name = option or "auto"
    if name != "auto":
        return name
    has_fa2 = importlib.util.find_spec("flash_attn") is not None
    return "flash_attention_2" if has_fa2 and device.startswith("cuda") else "sdpa"


@functools.lru_cache(maxsize=32)
def estimate_bytes(location: str, dtype: str) -> int:
    """Parameter bytes computed from the model's config (0 when it cannot be read)."""
    try:
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(location)
    except Exception:
        return 0
    t, v = config.text_config, config.vision_config
    h, kv = t.hidden_size, t.num_key_value_heads * (t.hidden_size // t.num_attention_heads)
    layer = 2 * h * h + 2 * h * kv + h + 2 * kv + 3 * h * t.intermediate_size + 2 * h
    lm_head = 0 if config.tie_word_embeddings else t.vocab_size * h
    text = t.vocab_size * h + t.num_hidden_layers * layer + h + lm_head
    e, m = v.embed_dim, v.embed_dim * v.spatial_merge_size**2
    block = 4 * e * e + 4 * e + 2 * e * e * v.mlp_ratio + e * (v.mlp_ratio + 1) + 4 * e
    vision = (v.in_channels * v.temporal_patch_size * v.patch_size**2 * e + v.depth * block
              + 2 * e + m * m + m + m * v.hidden_size + v.hidden_size)  # fmt: skip
    return (text + vision) * _DTYPE_BYTES[dtype]


def load_qwen2vl(location: str, device: str, dtype: str, attn: str) -> Qwen2VL:
    """Load model, tokenizer and processor settings from ``location`` onto ``device``."""
    from transformers import AutoTokenizer, Qwen2VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        Qwen2VLImageProcessorPil,
    )

    with quiet_transformers():
        model = Qwen2VLForConditionalGeneration.from_pretrained(
            location, dtype=torch_dtype(dtype, device), attn_implementation=attn
        )
        tokenizer = AutoTokenizer.from_pretrained(location)
        processor = Qwen2VLImageProcessorPil.from_pretrained(location)
    model = model.to(device).eval()
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = CHAT_TEMPLATE
    return Qwen2VL(model, tokenizer, VideoPreprocessConfig.from_processor(processor), device)


def load_for_options(location: str, device: str, options: Qwen2VLOptions) -> Qwen2VL:
    """:func:`load_qwen2vl` with the dtype and attention ``options`` choose for ``device``."""
    dtype = resolve_dtype(options.torch_dtype, device)
    attn = resolve_attn(options.attn_implementation, device)
    return load_qwen2vl(location, device, dtype, attn)
