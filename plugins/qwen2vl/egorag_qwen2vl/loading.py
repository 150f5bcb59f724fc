"""Loading Qwen2-VL: dtype and attention choice, the memory estimate, model + tokenizer."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

from egorag_core.hf import quiet_transformers, torch_dtype

from .options import Qwen2VLOptions
from .preprocess import VideoPreprocessConfig
from .shared import InputsCache
from .tiny import CHAT_TEMPLATE

_DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
FA2 = "flash_attention_2"
log = logging.getLogger("egorag")
T = TypeVar("T")


@dataclass
class Qwen2VL:
    """A loaded Qwen2-VL: model, tokenizer, the processor's preprocessing settings, and the
    scene inputs one stage preprocessed for another on this same instance."""

    model: Any
    tokenizer: Any
    preprocess: VideoPreprocessConfig
    device: str
    inputs: InputsCache = field(default_factory=InputsCache)
    #: The attention the model was loaded with (``sdpa`` after a failed FA2 load).
    attn_implementation: str = ""


def resolve_dtype(option: str | None, device: str) -> str:
    """``auto``: bfloat16 on CUDA, float32 elsewhere; otherwise the name given."""
    name = (option or "auto").replace("torch.", "")
    if name == "auto":
        return "bfloat16" if device.startswith("cuda") else "float32"
    if name not in _DTYPE_BYTES:
        raise ValueError(f"torch_dtype={option}: use auto, bfloat16, float16 or float32")
    return name


def choose_attn(flash_importable: bool, capability: tuple[int, int] | None, dtype: str) -> str:
    """``auto``'s choice: flash_attention_2 only when ``flash_attn`` imports, the GPU's compute
    capability is at least 8.0 and the dtype is bfloat16 or float16, else sdpa.

    FlashAttention-2 runs on Ampere or newer GPUs in fp16/bf16 only (Dao-AILab/flash-attention
    README; transformers' ``modeling_utils.py`` refuses it on CPU or an older GPU)."""
    if not flash_importable or capability is None or capability < (8, 0):
        return "sdpa"
    return FA2 if dtype in ("bfloat16", "float16") else "sdpa"


@functools.lru_cache(maxsize=1)
def flash_attn_imports() -> bool:
    """Whether ``import flash_attn`` works (a wheel built for another torch fails here)."""
    try:
        import flash_attn  # noqa: F401
    except Exception:
        return False
    return True


def cuda_capability(device: str) -> tuple[int, int] | None:
    """The compute capability of CUDA ``device``; ``None`` for other devices."""
    if not device.startswith("cuda"):
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    major, minor = torch.cuda.get_device_capability(device)
    return int(major), int(minor)


def resolve_attn(option: str | None, device: str, dtype: str) -> str:
    """``auto``: :func:`choose_attn` for ``device`` and ``dtype``; otherwise the name given."""
    name = option or "auto"
    if name != "auto":
        return name
    capability = cuda_capability(device)
    return choose_attn(capability is not None and flash_attn_imports(), capability, dtype)


def load_with_fallback(load: Callable[[str], T], attn: str) -> tuple[T, str]:
    """``(load(attn), attn)``; when a flash_attention_2 load fails, one warning line and
    ``(load("sdpa"), "sdpa")``. Other failures are raised."""
    try:
        return load(attn), attn
    except (ImportError, ValueError, RuntimeError) as error:
        if attn != FA2:
            raise
        reason = " ".join(str(error).split())[:200]
        log.warning("qwen2vl: %s failed to load (%s); using sdpa", FA2, reason)
    return load("sdpa"), "sdpa"


#: Qwen2VLVisionConfig's defaults, for keys a config.json leaves out.
_VISION_DEFAULTS = {"depth": 32, "embed_dim": 1280, "hidden_size": 3584, "mlp_ratio": 4,
                    "in_channels": 3, "patch_size": 14, "spatial_merge_size": 2,
                    "temporal_patch_size": 2}  # fmt: skip
_TEXT_KEYS = ("hidden_size", "num_attention_heads", "intermediate_size", "num_hidden_layers",
              "vocab_size")  # fmt: skip


def _config_fields(location: str) -> tuple[SimpleNamespace, SimpleNamespace, bool]:
    """Text config, vision config and ``tie_word_embeddings`` of the model at ``location``:
    read from its ``config.json`` (no transformers, so no torch, before a model loads), else
    through ``AutoConfig``."""
    path = Path(location) / "config.json"
    raw = json.loads(path.read_text()) if path.is_file() else {}
    text = raw.get("text_config", raw)
    if all(key in text for key in _TEXT_KEYS):
        text = {"num_key_value_heads": text["num_attention_heads"], **text}
        vision = _VISION_DEFAULTS | raw.get("vision_config", {})
        tied = bool(raw.get("tie_word_embeddings", text.get("tie_word_embeddings", False)))
        return SimpleNamespace(**text), SimpleNamespace(**vision), tied
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(location)
    return config.text_config, config.vision_config, bool(config.tie_word_embeddings)


@functools.lru_cache(maxsize=32)
def estimate_bytes(location: str, dtype: str) -> int:
    """Parameter bytes computed from the model's config (0 when it cannot be read)."""
    try:
        t, v, tied = _config_fields(location)
    except Exception:
        return 0
    h, kv = t.hidden_size, t.num_key_value_heads * (t.hidden_size // t.num_attention_heads)
    layer = 2 * h * h + 2 * h * kv + h + 2 * kv + 3 * h * t.intermediate_size + 2 * h
    lm_head = 0 if tied else t.vocab_size * h
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

    def load(implementation: str) -> Any:
        return Qwen2VLForConditionalGeneration.from_pretrained(
            location, dtype=torch_dtype(dtype, device), attn_implementation=implementation
        )

    with quiet_transformers():
        model, attn = load_with_fallback(load, attn)
        tokenizer = AutoTokenizer.from_pretrained(location)
        processor = Qwen2VLImageProcessorPil.from_pretrained(location)
    model = model.to(device).eval()
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = CHAT_TEMPLATE
    config = VideoPreprocessConfig.from_processor(processor)
    return Qwen2VL(model, tokenizer, config, device, attn_implementation=attn)


def load_for_options(location: str, device: str, options: Qwen2VLOptions) -> Qwen2VL:
    """:func:`load_qwen2vl` with the dtype and attention ``options`` choose for ``device``."""
    dtype = resolve_dtype(options.torch_dtype, device)
    attn = resolve_attn(options.attn_implementation, device, dtype)
    return load_qwen2vl(location, device, dtype, attn)
