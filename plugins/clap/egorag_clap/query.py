"""Search queries in CLAP's space: its text tower (for ``egorag search``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def text_embeddings(model: Any, processor: Any, texts: Sequence[str]) -> np.ndarray:
    """CLAP ``get_text_features`` of ``texts`` (the text encoder and its projection), unit
    length, ``(len(texts), projection_dim)`` float32: the space of the ``audio`` vectors."""
    import torch

    tokenizer = processor.tokenizer
    # RoBERTa positions start after the padding index: two fewer than the table holds
    limit = min(int(tokenizer.model_max_length),
                int(model.config.text_config.max_position_embeddings) - 2)  # fmt: skip
    device = next(model.parameters()).device
    inputs = tokenizer(list(texts), padding=True, truncation=True, max_length=limit,
                       return_tensors="pt").to(device)  # fmt: skip
    with torch.inference_mode():
        out = model.get_text_features(**inputs)
    embeds = out if isinstance(out, torch.Tensor) else out.pooler_output
    return torch.nn.functional.normalize(embeds.float(), dim=-1).cpu().numpy()
