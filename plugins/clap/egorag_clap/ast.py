"""AudioSet sound events with transformers ``ASTForAudioClassification``."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from egorag_core.batching import across_groups
from egorag_core.components import ModelComponent, ModelRole, VideoJob
from egorag_core.media import AUDIO_SAMPLE_RATE

from .audio import resample, windows
from .options import ASTOptions

#: Frame shift of the AST (Kaldi fbank) features, seconds.
FRAME_SHIFT_S = 0.01

#: ``[start, end)`` sample spans of audio windows.
Spans = list[tuple[int, int]]


def build_tiny_ast(folder: Path) -> None:
    """A tiny random-weight AST tagger (real config with labels, feature extractor, files)."""
    from transformers import ASTConfig, ASTFeatureExtractor, ASTForAudioClassification

    labels = ["Speech", "Music", "Vehicle", "Bird", "Silence"]
    config = ASTConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_mel_bins=32,
        max_length=200,
        id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
    )
    ASTForAudioClassification(config).save_pretrained(folder)
    ASTFeatureExtractor(
        num_mel_bins=32, max_length=200, sampling_rate=AUDIO_SAMPLE_RATE
    ).save_pretrained(folder)


def load_ast(location: str, device: str, options: ASTOptions) -> tuple[Any, Any]:
    """``(ASTForAudioClassification, feature extractor)`` from ``location``, on ``device``."""
    from egorag_core.hf import quiet_transformers
    from transformers import ASTForAudioClassification, AutoFeatureExtractor

    with quiet_transformers():
        model = ASTForAudioClassification.from_pretrained(location).to(device).eval()
        return model, AutoFeatureExtractor.from_pretrained(location)


def merge_events(
    per_window: list[list[tuple[str, float]]], spans: list[tuple[float, float]], top_k: int
) -> list[dict[str, Any]]:
    """Join a label's events in consecutive windows (score = max); the ``top_k`` best."""
    events: list[dict[str, Any]] = []
    open_: dict[str, dict[str, Any]] = {}
    for labels, (start, end) in zip(per_window, spans, strict=True):
        current = {}
        for label, score in labels:
            ev = open_.get(label)
            if ev is not None and abs(ev["end"] - start) < 1e-6:
                ev["end"], ev["score"] = end, max(ev["score"], score)
            else:
                ev = {"label": label, "score": score, "start": start, "end": end}
                events.append(ev)
            current[label] = ev
        open_ = current
    events.sort(key=lambda e: -e["score"])
    return [{**e, "score": round(float(e["score"]), 4)} for e in events[:top_k]]


class ASTEvents(ModelComponent[ASTOptions]):
    """Sets ``result.extras["events"] = [{label, score, start, end}]`` (absolute seconds): per
    window of the model's input length, the labels scoring above ``threshold``."""

    roles = (ModelRole(load=load_ast, key="ast", tiny=build_tiny_ast, tiny_name="ast",
                       estimated_bytes=350_000_000),)  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.passes = 0

    def stats(self) -> dict[str, Any]:
        """For the run report: AST forward passes."""
        return {"ast_passes": self.passes}

    def process(self, job: VideoJob) -> None:
        """Set each scene's ``extras["events"]``. The windows of consecutive scenes share
        forward passes, ``batch_size`` windows at a time."""
        with self.model(job) as (model, extractor):
            scenes = job.progress(range(len(job.scenes)), "events")

            def groups() -> Iterator[tuple[tuple[int, Spans], list[np.ndarray]]]:
                rate = int(extractor.sampling_rate)  # read at the model's own rate
                for i in scenes:
                    chunks, spans = self.chunks(extractor, job.scene_audio(i, rate), rate)
                    yield (i, spans), chunks

            run = partial(self.forward, model, extractor)
            for (i, spans), scores in across_groups(groups(), self.options.batch_size, run):
                job.results[i].extras["events"] = self.merged(
                    model, extractor, scores, spans, job.scenes[i].start
                )

    def chunks(
        self, extractor: Any, clip: np.ndarray | None, clip_rate: int = AUDIO_SAMPLE_RATE
    ) -> tuple[list[np.ndarray], Spans]:
        """``clip`` (sampled at ``clip_rate``) at the extractor's rate cut into windows of the
        model's input length, and their sample spans; none for missing or empty audio."""
        if clip is None or clip.size == 0:
            return [], []
        rate = int(extractor.sampling_rate)
        audio = resample(clip, clip_rate, rate)
        size = int(round(extractor.max_length * FRAME_SHIFT_S * rate))
        spans = windows(audio.size, size, int(self.options.min_window_s * rate))
        return [audio[a:b] for a, b in spans], spans

    def forward(self, model: Any, extractor: Any, chunks: list[np.ndarray]) -> np.ndarray:
        """Sigmoid scores ``(len(chunks), num_labels)`` float32 of audio windows, one pass."""
        import torch

        device = next(model.parameters()).device
        rate = int(extractor.sampling_rate)
        inputs = extractor(chunks, sampling_rate=rate, return_tensors="pt").to(device)
        with torch.no_grad():
            scores = torch.sigmoid(model(**inputs).logits.float()).cpu().numpy()
        self.passes += 1
        return scores

    def scores(self, model: Any, extractor: Any, clip: np.ndarray) -> tuple[np.ndarray, Spans]:
        """Sigmoid scores ``(windows, num_labels)`` of 16 kHz ``clip`` and the sample spans
        (at the extractor's rate) of its windows."""
        chunks, spans = self.chunks(extractor, clip)
        if not chunks:
            return np.zeros((0, model.config.num_labels), np.float32), []
        run = partial(self.forward, model, extractor)
        _, scores = next(across_groups([(None, chunks)], self.options.batch_size, run))
        return scores, spans

    def events(
        self, model: Any, extractor: Any, clip: np.ndarray | None, offset: float
    ) -> list[dict[str, Any]]:
        """The merged events of 16 kHz ``clip`` whose scene starts at ``offset`` seconds."""
        if clip is None or clip.size == 0:
            return []
        scores, spans = self.scores(model, extractor, clip)
        return self.merged(model, extractor, scores, spans, offset)

    def merged(
        self, model: Any, extractor: Any, scores: np.ndarray, spans: Spans, offset: float
    ) -> list[dict[str, Any]]:
        """The events of windows ``spans`` with ``scores``, in seconds from ``offset``: labels
        at or above ``threshold``, joined across consecutive windows, the ``top_k`` best."""
        rate = float(extractor.sampling_rate)
        names = model.config.id2label
        threshold = self.options.threshold
        per_window = [
            [(names[j], float(row[j])) for j in np.argsort(-row) if row[j] >= threshold]
            for row in scores
        ]
        times = [(round(offset + a / rate, 3), round(offset + b / rate, 3)) for a, b in spans]
        return merge_events(per_window, times, self.options.top_k)
