"""CLAP audio embeddings with transformers ``ClapModel`` (not the laion-clap package)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from egorag_core.components import ModelComponent, ModelRole, VideoJob
from egorag_core.media import AUDIO_SAMPLE_RATE

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

    def process(self, job: VideoJob) -> None:
        """Set each scene's ``audio`` vector (``None`` for empty scene audio)."""
        with self.model(job) as (model, processor):
            for i in job.progress(range(len(job.scenes)), "clap"):
                clip = job.scene_audio(i)
                vector, _ = self.embed(model, processor, clip)
                job.results[i].audio = vector

    def embed(self, model: Any, processor: Any, clip: np.ndarray | None
              ) -> tuple[np.ndarray | None, int]:
        """The embedding of 16 kHz ``clip`` and the number of windows it took (``None``, 0
        for empty audio)."""
        import torch

        if clip is None or clip.size == 0:
            return None, 0
        fe = processor.feature_extractor
        rate = int(fe.sampling_rate)
        audio = resample(clip, AUDIO_SAMPLE_RATE, rate)
        spans = windows(audio.size, int(fe.nb_max_samples), int(self.options.min_window_s * rate))
        chunks = [audio[a:b] for a, b in spans]
        device = next(model.parameters()).device
        vectors = []
        batch = self.options.batch_size
        for k in range(0, len(chunks), batch):
            inputs = processor(audio=chunks[k : k + batch], sampling_rate=rate,
                               return_tensors="pt").to(device)
            with torch.no_grad():
                out = model.get_audio_features(**inputs)
            out = out if isinstance(out, torch.Tensor) else out.pooler_output
            vectors.append(torch.nn.functional.normalize(out.float(), dim=-1).cpu())
        mean = torch.cat(vectors).mean(0)
        mean = torch.nn.functional.normalize(mean, dim=0)
        return mean.numpy().astype(np.float32), len(chunks)
