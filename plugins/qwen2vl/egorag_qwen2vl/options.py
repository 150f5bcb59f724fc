"""The options of ``video=qwen2vl`` and ``caption=captioner2``: names and types only; the values
and their explanations are in ``conf/video/qwen2vl.yaml`` and ``conf/caption/captioner2.yaml``.

Importable without torch or transformers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Qwen2VLOptions:
    """What both stages read: the model and how scene frames reach it."""

    #: Hub id or local folder; equal ``model``, ``torch_dtype`` and ``attn_implementation`` in
    #: both stages share one loaded model.
    model: str
    torch_dtype: str
    attn_implementation: str
    fps: float
    max_frames: int
    #: ``None``: the model processor's.
    min_pixels: int | None
    max_pixels: int | None
    preprocess: str
    #: Scenes per model call (vision tower: patches packed into one sequence; ``generate``:
    #: left padding); a window of scenes holds a whole number of them.
    batch_size: int


@dataclass
class VideoOptions(Qwen2VLOptions):
    """``video=qwen2vl``: merged vision tokens pooled into the scene embedding."""

    pooling: str
    num_keyframes: int
    #: Cap on preprocessed scene inputs kept for ``caption=captioner2`` on the same model;
    #: ``0``: not kept (the captioner preprocesses again).
    preprocess_cache_mb: float


@dataclass
class CaptionOptions(Qwen2VLOptions):
    """``caption=captioner2``: the chat prompt and ``generate`` settings."""

    prompt: str
    max_new_tokens: int


#: Allowed values of the options that take one of a few names.
CHOICES: dict[str, tuple[str, ...]] = {
    "torch_dtype": ("auto", "bfloat16", "float16", "float32"),
    "preprocess": ("auto", "torch", "official"),
    "pooling": ("mean", "first"),
}
