"""Hugging Face helpers every model plugin shares: dtype choice, quiet loading, and turning
generated text into a clean caption. Nothing here imports torch or transformers at import."""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

_SPECIAL = re.compile(r"<\|[^|<>]*\|>")
_ROLE = re.compile(r"^\s*(?:system|user|assistant)\s*\n", re.IGNORECASE)
_ANSWER = re.compile(r"(?:^|\n)\s*assistant\s*\n", re.IGNORECASE)


def torch_dtype(name: str | None, device: str = "cpu") -> Any:
    """A torch dtype from its name; ``None`` or ``"auto"``: bfloat16 on CUDA, float32 else."""
    import torch

    if not name or name == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    return getattr(torch, name)


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' load reports and progress bars inside the block."""
    from transformers.utils import logging

    level, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(level)
        if bars:
            logging.enable_progress_bar()


def printable(text: str) -> str:
    """Whitespace controls become spaces; other control, format, private-use and undecodable
    (U+FFFD) characters are dropped."""
    return "".join(
        " " if c.isspace() else c for c in text
        if c.isspace() or (c != "\ufffd" and unicodedata.category(c) not in ("Cc", "Cf", "Co"))
    )  # fmt: skip


def clean_generated_text(text: str, prompt: str | None = None) -> str:
    """Generated text -> caption: no special tokens (``<|...|>``), chat role headers, echo of
    ``prompt`` or unprintable characters; whitespace collapsed and stripped."""
    text = _SPECIAL.sub(" ", text)
    text = _ANSWER.split(text)[-1]  # a whole echoed conversation: keep the answer
    while (stripped := _ROLE.sub("", text, count=1)) != text:
        text = stripped
    text = " ".join(printable(text).split())
    if prompt and text.lower().startswith(prompt.lower()):
        text = text[len(prompt) :]
    return " ".join(text.split())


def image_side(location: str) -> int | None:
    """The shorter frame side (pixels) the image processor saved at ``location`` resizes to:
    ``size["shortest_edge"]``, or the larger of ``height`` and ``width`` (a square resize);
    ``None`` when its config says neither. Reads the processor's config only."""
    from transformers import AutoImageProcessor

    with quiet_transformers():
        processor = AutoImageProcessor.from_pretrained(location)
    size = dict(getattr(processor, "size", None) or {})
    if "shortest_edge" in size:
        return int(size["shortest_edge"])
    if "height" in size and "width" in size:
        return int(max(size["height"], size["width"]))
    return None
