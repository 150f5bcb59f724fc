"""``embed_query``: search queries through X-CLIP's text tower, in the space of the ``video``
vectors (tiny random weights: sizes and the code path)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from egorag_core.hookspecs import QueryEmbedder
from egorag_core.scheduler import ModelScheduler
from transformers import AutoTokenizer, XCLIPModel


def test_queries_are_text_tower_features_of_the_video_size(egorag_component: Any) -> None:
    encoder = egorag_component("video", "xclip")
    assert isinstance(encoder, QueryEmbedder)
    texts = ["the dog runs", "a man rides a bike along the road near the river " * 4]
    vectors = encoder.embed_query(texts, ModelScheduler("cpu"))
    folder = encoder.spec("model").model_id
    model = XCLIPModel.from_pretrained(folder).eval()
    assert vectors.shape == (2, model.config.projection_dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    inputs = AutoTokenizer.from_pretrained(folder)(texts[:1], return_tensors="pt")
    with torch.inference_mode():
        out = model.get_text_features(**inputs)
    out = out if isinstance(out, torch.Tensor) else out.pooler_output
    expected = torch.nn.functional.normalize(out, dim=-1)[0].numpy()
    np.testing.assert_allclose(vectors[0], expected, atol=1e-5)  # the long one was cut to fit
