"""``text=minilm`` without sentence-transformers, for plain sentence-transformers folders.

Importing sentence-transformers (which brings scikit-learn and pandas) takes longer than torch
and transformers together, and costs a run's text stage memory. For a sentence-transformers
folder of the plain kind (a transformer, then mean or CLS pooling, then optionally
``Normalize``), such as the packaged all-MiniLM-L6-v2, the vectors are computed without it:
tokenised to the folder's ``max_seq_length``, pooled as its pooling config says, scaled to unit
length: what ``SentenceTransformer.encode(..., normalize_embeddings=True)`` gives (the tests
check it). The
scenes' vectors come from transformers (:class:`PlainSentenceModel`); a query on the CPU from a
BERT in numpy, without importing torch (:mod:`egorag_minilm.numpy_bert`). Any other layout, or
a hub id, goes through sentence-transformers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TRANSFORMER = "sentence_transformers.models.Transformer"
POOLING = "sentence_transformers.models.Pooling"
NORMALIZE = "sentence_transformers.models.Normalize"
OTHER_POOLING = ("pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens",
                 "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken")  # fmt: skip


@dataclass(frozen=True)
class PlainLayout:
    """What a plain sentence-transformers folder does after its transformer."""

    pooling: str  # "mean" or "cls"
    max_seq_length: int | None


def plain_layout(location: str) -> PlainLayout | None:
    """The layout of a local sentence-transformers folder when it is plain, else ``None``."""
    folder = Path(location)
    if not (folder / "modules.json").is_file():
        return None
    modules = json.loads((folder / "modules.json").read_text())
    types = [m.get("type") for m in modules]
    plain = types in ([TRANSFORMER, POOLING], [TRANSFORMER, POOLING, NORMALIZE])
    if not plain or modules[0].get("path"):  # the transformer in the folder itself
        return None
    pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text())
    if any(pooling.get(key) for key in OTHER_POOLING):
        return None
    mean, cls = pooling.get("pooling_mode_mean_tokens"), pooling.get("pooling_mode_cls_token")
    if bool(mean) == bool(cls):
        return None
    config = folder / "sentence_bert_config.json"
    limit = json.loads(config.read_text()).get("max_seq_length") if config.is_file() else None
    return PlainLayout("mean" if mean else "cls", limit)


class PlainSentenceModel:
    """A plain folder's tokenizer and transformer (in transformers), embedding texts."""

    def __init__(self, location: str, device: str, layout: PlainLayout):
        from transformers import AutoModel, AutoTokenizer

        from egorag_core.hf import quiet_transformers

        with quiet_transformers():
            self.tokenizer = AutoTokenizer.from_pretrained(location)
            self.model = AutoModel.from_pretrained(location).to(device).eval()
        self.layout = layout
        #: Tokens a text is cut to (special tokens included), as sentence-transformers reads it.
        self.max_seq_length = layout.max_seq_length or self.tokenizer.model_max_length

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 rows, one per text, ``batch_size`` texts per forward pass."""
        rows = [self._embed_batch(texts[i : i + batch_size])
                for i in range(0, len(texts), max(1, batch_size))]  # fmt: skip
        return np.concatenate(rows) if rows else np.zeros((0, self.model.config.hidden_size))

    def _embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        inputs = self.tokenizer(list(texts), padding=True, truncation=True,
                                max_length=self.max_seq_length,
                                return_tensors="pt").to(self.model.device)  # fmt: skip
        with torch.inference_mode():
            tokens = self.model(**inputs).last_hidden_state
        if self.layout.pooling == "cls":
            pooled = tokens[:, 0]
        else:
            mask = inputs["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled.float(), dim=-1).cpu().numpy()
