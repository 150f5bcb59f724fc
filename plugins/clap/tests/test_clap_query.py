"""``embed_query``: search queries through CLAP's text tower, in the space of the ``audio``
vectors (tiny random weights: sizes and the code path)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from egorag_core.hookspecs import QueryEmbedder
from egorag_core.scheduler import ModelScheduler
from transformers import ClapModel, ClapProcessor


def test_queries_are_text_tower_features_of_the_audio_size(egorag_component: Any) -> None:
    embedder = egorag_component("audio/embedding", "clap")
    assert isinstance(embedder, QueryEmbedder)
    texts = ["a dog barks", "music noise people car street door window light dark " * 20]
    vectors = embedder.embed_query(texts, ModelScheduler("cpu"))
    folder = embedder.spec().model_id
    model = ClapModel.from_pretrained(folder).eval()
    assert vectors.shape == (2, model.config.projection_dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    inputs = ClapProcessor.from_pretrained(folder).tokenizer(texts[:1], return_tensors="pt")
    with torch.inference_mode():
        out = model.get_text_features(**inputs)
    out = out if isinstance(out, torch.Tensor) else out.pooler_output
    np.testing.assert_allclose(vectors[0], torch.nn.functional.normalize(out, dim=-1)[0].numpy(),
                               atol=1e-5)  # fmt: skip
