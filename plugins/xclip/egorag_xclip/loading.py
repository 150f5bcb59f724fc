"""Model loading helpers: quiet ``from_pretrained``, size estimates, dtype names."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any


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


def estimate_bytes(location: str, default: int) -> int:
    """Size of the weight files when ``location`` is a local folder, else ``default``."""
    path = Path(location)
    if not path.is_dir():
        return default
    files = [*path.glob("*.safetensors"), *path.glob("*.bin")]
    return sum(f.stat().st_size for f in files) or default


def torch_dtype(name: str | None) -> Any:
    """``"float16"`` -> ``torch.float16``; ``None``/``"auto"`` -> ``torch.float32``."""
    import torch

    if not name or name == "auto":
        return torch.float32
    return getattr(torch, str(name))
