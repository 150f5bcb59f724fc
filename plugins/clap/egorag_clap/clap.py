"""CLAP audio embeddings with transformers ``ClapModel`` (not the laion-clap package)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from egorag_core.batching import across_groups
from egorag_core.components import ModelComponent, ModelRole, VideoJob
from egorag_core.media import AUDIO_SAMPLE_RATE
from egorag_core.scheduler import ModelScheduler

from .audio import resample, windows
from .options import ClapOptions


def build_tiny_clap(folder: Path) -> None:
    """A tiny random-weight CLAP (real config, processor and files) saved to ``folder``."""
    from egorag_core.tiny import train_tiny_tokenizer
    from transformers import (
        ClapAudioConfig,
        ClapConfig,
        ClapFeatureExtractor,
        ClapModel,
        ClapProcessor,
        ClapTextConfig,
    )

    text = ClapTextConfig(vocab_size=512, hidden_size=32, num_hidden_layers=1,
                          num_attention_heads=2, intermediate_size=64,
                          max_position_embeddings=80, projection_dim=16)
    audio = ClapAudioConfig(spec_size=64, num_mel_bins=16, window_size=4, patch_size=4,
                            patch_embeds_hidden_size=16, hidden_size=32, depths=[1, 1],
                            num_attention_heads=[1, 2], projection_dim=16)
    config = ClapConfig(text_config=text.to_dict(), audio_config=audio.to_dict(),
                        projection_dim=16)
    tokenizer = train_tiny_tokenizer(512, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                     pad_token="<pad>", mask_token="<mask>")
    extractor = ClapFeatureExtractor(feature_size=16, sampling_rate=48000, max_length_s=2,
                                     hop_length=480, fft_window_size=1024,
                                     truncation="rand_trunc", padding="repeatpad")
    ClapModel(config).save_pretrained(folder)
    ClapProcessor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)


def load_clap(location: str, device: str, options: ClapOptions) -> tuple[Any, Any]:
    """``(ClapModel, ClapProcessor)`` from ``location``, the model on ``device``."""
    from egorag_core.hf import quiet_transformers
    from transformers import ClapModel, ClapProcessor

    with quiet_transformers():
        model = ClapModel.from_pretrained(location).to(device).eval()
        return model, ClapProcessor.from_pretrained(location)


class ClapEmbedder(ModelComponent[ClapOptions]):
    """Sets ``result.audio``: the CLAP embedding (``projection_dim``) of the scene's audio;
    scenes longer than the feature extractor's window are embedded in windows and averaged."""

    roles = (ModelRole(load=load_clap, key="clap", tiny=build_tiny_clap, tiny_name="clap",
                       estimated_bytes=620_000_000),)  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.passes = 0

    def stats(self) -> dict[str, Any]:
        """For the run report: CLAP forward passes (``get_audio_features`` calls)."""
        return {"clap_passes": self.passes}

    def process(self, job: VideoJob) -> None:
        """Set each scene's ``audio`` vector (``None`` for empty scene audio). The windows of
        consecutive scenes share forward passes, ``batch_size`` windows at a time."""
        with self.model(job) as (model, processor):
            scenes = job.progress(range(len(job.scenes)), "clap")
            rate = int(processor.feature_extractor.sampling_rate)  # 48 kHz: read at it
            groups = ((i, self.chunks(processor, job.scene_audio(i, rate), rate))
                      for i in scenes)  # fmt: skip
            run = partial(self.forward, model, processor)
            for i, rows in across_groups(groups, self.options.batch_size, run):
                job.results[i].audio = mean_unit(rows)

    def embed(
        self,
        model: Any,
        processor: Any,
        clip: np.ndarray | None,
        clip_rate: int = AUDIO_SAMPLE_RATE,
    ) -> tuple[np.ndarray | None, int]:
        """The embedding of ``clip`` (sampled at ``clip_rate``) and the number of windows it
        took (``None``, 0 for empty audio)."""
        chunks = self.chunks(processor, clip, clip_rate)
        run = partial(self.forward, model, processor)
        _, rows = next(across_groups([(None, chunks)], self.options.batch_size, run))
        return mean_unit(rows), len(chunks)

    def chunks(
        self, processor: Any, clip: np.ndarray | None, clip_rate: int = AUDIO_SAMPLE_RATE
    ) -> list[np.ndarray]:
        """``clip`` (sampled at ``clip_rate``) at the feature extractor's rate, cut into windows
        of its input length (``nb_max_samples``); none for missing or empty audio."""
        if clip is None or clip.size == 0:
            return []
        fe = processor.feature_extractor
        rate = int(fe.sampling_rate)
        audio = resample(clip, clip_rate, rate)
        spans = windows(audio.size, int(fe.nb_max_samples), int(self.options.min_window_s * rate))
        return [audio[a:b] for a, b in spans]

    def forward(self, model: Any, processor: Any, chunks: list[np.ndarray]) -> np.ndarray:
        """L2-normalised CLAP embeddings ``(len(chunks), dim)`` float32, one forward pass."""
        import torch

        rate = int(processor.feature_extractor.sampling_rate)
        device = next(model.parameters()).device
        inputs = processor(audio=chunks, sampling_rate=rate, return_tensors="pt").to(device)
        with torch.no_grad():
            out = model.get_audio_features(**inputs)
        out = out if isinstance(out, torch.Tensor) else out.pooler_output
        self.passes += 1
        return torch.nn.functional.normalize(out.float(), dim=-1).cpu().numpy()

    def embed_query(self, texts: Sequence[str], scheduler: ModelScheduler) -> np.ndarray:
        """Search queries through CLAP's text tower, unit length: the space of the ``audio``
        vectors, ``(len(texts), projection_dim)`` float32 (``egorag search``)."""
        from .query import text_embeddings

        with scheduler.use(self.spec()) as (model, processor):
            return text_embeddings(model, processor, texts)


def mean_unit(rows: np.ndarray) -> np.ndarray | None:
    """The unit-length mean of ``rows`` (float32); ``None`` when there are none."""
    if len(rows) == 0:
        return None
    mean = rows.mean(0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
