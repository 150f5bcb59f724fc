"""A BERT encoder in numpy: the query side of ``text=minilm`` without torch.

A cold ``egorag search`` would spend seconds importing torch and transformers to embed one
query. For a plain sentence-transformers folder (:func:`egorag_minilm.query.plain_layout`)
holding a BERT model (``model_type: bert``, absolute positions, GELU) in
``model.safetensors`` with its ``tokenizer.json``, the same weights run here: tokenised by the
``tokenizers`` library (the fast tokenizer transformers itself wraps), embeddings, the
encoder layers (attention, feed-forward, LayerNorm), pooled and scaled to unit length, in
float32. The result equals sentence-transformers' within 1e-5 (the plugin's tests compare
them). Anything else goes through :class:`egorag_minilm.query.PlainSentenceModel` (torch).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): erf for the exact GELU, in numpy.
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


#: Inputs of at most this many tokens (all texts together) run on one BLAS thread.
SMALL_TOKENS = 4096


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise (float64 inside, |error| < 1.5e-7)."""
    z = np.abs(x.astype(np.float64))
    t = 1.0 / (1.0 + _ERF_P * z)
    poly = t * (_ERF_A[0] + t * (_ERF_A[1] + t * (_ERF_A[2] + t * (_ERF_A[3] + t * _ERF_A[4]))))
    return np.sign(x) * (1.0 - poly * np.exp(-z * z))


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU: x * Phi(x)."""
    return (0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))).astype(np.float32)


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def supported(location: str) -> bool:
    """Whether the folder holds a BERT this module runs (weights and tokenizer files too)."""
    folder = Path(location)
    files = [folder / n for n in ("config.json", "model.safetensors", "tokenizer.json")]
    if not all(f.is_file() for f in files):
        return False
    config = json.loads(files[0].read_text())
    return (config.get("model_type") == "bert" and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute")  # fmt: skip


class NumpyBert:
    """A local BERT folder's tokenizer and weights, embedding queries as sentence-transformers
    does (``pooling`` ``mean`` or ``cls``, then unit length)."""

    def __init__(self, location: str, pooling: str, max_seq_length: int | None):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(location)
        self.config = json.loads((folder / "config.json").read_text())
        loaded = load_file(str(folder / "model.safetensors"))
        self.weights = {k.removeprefix("bert."): np.ascontiguousarray(
            v.T if k.endswith("dense.weight") or k.rsplit(".", 2)[-2] in ("query", "key", "value")
            else v, dtype=np.float32) for k, v in loaded.items() if not k.endswith("position_ids")}
        # linear layers' weights are held transposed (inputs x outputs): x @ w runs in BLAS
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        limit = max_seq_length or self.config.get("max_position_embeddings", 512)
        self.tokenizer.enable_truncation(limit)
        self.tokenizer.no_padding()
        self.pooling = pooling

    def tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids and attention mask, padded to the longest text."""
        encoded = self.tokenizer.encode_batch(list(texts))
        width = max(len(e.ids) for e in encoded)
        ids = np.zeros((len(encoded), width), dtype=np.int64)
        mask = np.zeros((len(encoded), width), dtype=np.float32)
        for row, e in enumerate(encoded):
            ids[row, : len(e.ids)], mask[row, : len(e.ids)] = e.ids, 1.0
        return ids, mask

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        flat = x.reshape(-1, x.shape[-1]) @ self.weights[f"{name}.weight"]
        return (flat + self.weights[f"{name}.bias"]).reshape(*x.shape[:-1], -1)

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        eps = float(self.config.get("layer_norm_eps", 1e-12))
        return layer_norm(x, self.weights[f"{name}.weight"], self.weights[f"{name}.bias"], eps)

    def _layer(self, x: np.ndarray, bias: np.ndarray, i: int) -> np.ndarray:
        """One encoder layer: self-attention, then the feed-forward block."""
        p = f"encoder.layer.{i}"
        heads = int(self.config["num_attention_heads"])
        n, width, hidden = x.shape
        size = hidden // heads

        def split(t: np.ndarray) -> np.ndarray:
            return t.reshape(n, width, heads, size).transpose(0, 2, 1, 3)

        q, k, v = (split(self._linear(x, f"{p}.attention.self.{m}"))
                   for m in ("query", "key", "value"))  # fmt: skip
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size)) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attention = scores / scores.sum(-1, keepdims=True)
        context = (attention @ v).transpose(0, 2, 1, 3).reshape(n, width, hidden)
        x = self._norm(self._linear(context, f"{p}.attention.output.dense") + x,
                       f"{p}.attention.output.LayerNorm")  # fmt: skip
        inner = gelu(self._linear(x, f"{p}.intermediate.dense"))
        return self._norm(self._linear(inner, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")

    def hidden_states(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The last layer's token states, ``(texts, tokens, hidden)``."""
        w = self.weights
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][: ids.shape[1]]
             + w["embeddings.token_type_embeddings.weight"][0])  # fmt: skip
        x = self._norm(x, "embeddings.LayerNorm")
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for i in range(int(self.config["num_hidden_layers"])):
            x = self._layer(x, bias, i)
        return x.astype(np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 rows, one per text. A few short texts (queries) run on one BLAS
        thread: their matrices are too small to share, and on a busy machine waiting for a
        second thread costs more than the products."""
        from threadpoolctl import threadpool_limits

        ids, mask = self.tokens(texts)
        with threadpool_limits(1 if ids.size <= SMALL_TOKENS else None, user_api="blas"):
            states = self.hidden_states(ids, mask)
        if self.pooling == "cls":
            pooled = states[:, 0]
        else:
            pooled = (states * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True),
                                                                    1e-9)  # fmt: skip
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32)
