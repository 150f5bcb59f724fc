"""openai-whisper (PyTorch) backend; ``preset=tiny`` builds a tiny random-weight checkpoint."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
from egorag_core.components import ModelRole
from egorag_core.models import ModelSource, ModelUnavailable, hub_offline

from .asr import WhisperASR
from .chunks import SAMPLE_RATE, speech_spans
from .options import OpenAIWhisperOptions
from .packaged import is_packaged

log = logging.getLogger("egorag.whisper")
TINY_FILE = "model.pt"
#: Seconds of audio whisper detects the language on.
DETECT_S = 30


def build_tiny_whisper(folder: Path) -> None:
    """Save a tiny random-weight English-only openai-whisper checkpoint to ``folder``."""
    from dataclasses import asdict

    import torch
    from whisper.model import ModelDimensions, Whisper

    dims = ModelDimensions(
        n_mels=80, n_audio_ctx=1500, n_audio_state=32, n_audio_head=2, n_audio_layer=1,
        n_vocab=51864, n_text_ctx=64, n_text_state=32, n_text_head=2, n_text_layer=1,
    )  # fmt: skip
    torch.manual_seed(0)
    model = Whisper(dims)
    torch.nn.init.normal_(model.decoder.positional_embedding, std=0.02)  # torch.empty in whisper
    torch.save({"dims": asdict(dims), "model_state_dict": model.state_dict()}, folder / TINY_FILE)


def detect_language(model: Any, audio: np.ndarray) -> tuple[str, float, float]:
    """The language of ``audio``'s first voiced 30 s (from its first speech, Silero VAD; from
    its start when none is found), as openai-whisper's ``detect_language`` ranks it: code,
    probability and the second it was detected from. openai-whisper itself looks at the first
    30 s, which may be music or silence (whisper/transcribe.py)."""
    import whisper

    start = next((a for a, _ in speech_spans(audio, True)), 0)
    clip = whisper.pad_or_trim(audio[start : start + DETECT_S * SAMPLE_RATE])
    mel = whisper.log_mel_spectrogram(clip, model.dims.n_mels).to(model.device)
    _, probs = model.detect_language(mel.to(next(model.parameters()).dtype))
    language = max(probs, key=probs.get)
    return language, float(probs[language]), start / SAMPLE_RATE


def download_root(options: OpenAIWhisperOptions) -> str:
    """``options.download_root``, or openai-whisper's default (``~/.cache/whisper``)."""
    cache = os.getenv("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
    return str(Path(options.download_root or os.path.join(cache, "whisper")).expanduser())


def load_openai_whisper(location: str, device: str, options: OpenAIWhisperOptions) -> Any:
    """``whisper.load_model`` of a ``.pt`` file or a model name, on ``device``."""
    import whisper

    return whisper.load_model(location, device=device, download_root=download_root(options))


class OpenAIWhisperASR(WhisperASR[OpenAIWhisperOptions]):
    """ASR with ``whisper.load_model``; ``model`` is a name (``large-v3``) or a ``.pt`` file."""

    roles = (ModelRole(load=load_openai_whisper, key="openai-whisper", tiny=build_tiny_whisper,
                       tiny_name="openai-whisper", estimated_bytes=int(3.09e9)),)  # fmt: skip

    def resolve(self, role: ModelRole) -> ModelSource:
        """A ``.pt`` file, the tiny random checkpoint with ``preset=tiny``, or a model name
        found in ``download_root``; raises ``ModelUnavailable`` (one line)."""
        model, option = self.options.model, self.option_key(role)
        if is_packaged(model):
            raise ModelUnavailable(
                f"{option}={model}: packaged models are CTranslate2 weights; use "
                "audio/asr=faster_whisper, or give openai-whisper a name or a .pt file"
            )
        path = Path(model).expanduser()
        if path.is_file():
            return ModelSource(str(path))
        if self.settings.tiny:  # the core builds role.tiny into the cache
            folder = Path(super().resolve(role).location)
            return ModelSource(str(folder / TINY_FILE), random_weights=True)
        return self._named(model, option)

    def _named(self, model: str, option: str) -> ModelSource:
        """The checkpoint of openai-whisper model name ``model`` in ``download_root``."""
        import whisper

        url = whisper._MODELS.get(model)
        if url is None:
            raise ModelUnavailable(
                f"{option}={model}: not a .pt file nor an openai-whisper model name "
                f"({', '.join(whisper.available_models())})"
            )
        cached = Path(download_root(self.options)) / os.path.basename(url)
        if cached.is_file():
            return ModelSource(str(cached))
        if hub_offline():
            raise ModelUnavailable(
                f"{option}={model}: {cached} not found and offline; download it first, set "
                f"{option}=/path/to/model.pt, or use audio/asr=faster_whisper "
                f"{option}=packaged:tiny.en"
            )
        return ModelSource(model)

    def run(self, model: Any, audio: np.ndarray) -> list[dict[str, Any]]:
        """Segments with word timestamps (see :meth:`WhisperASR.run`)."""
        o = self.options
        out = model.transcribe(
            audio,
            language=o.language or self.language(model, audio),
            task=o.task,
            beam_size=o.beam_size,
            temperature=tuple(o.temperature),
            word_timestamps=True,
            # Random weights emit random timestamp tokens and whisper's seek loop then crawls.
            without_timestamps=self.spec().random_weights,
            condition_on_previous_text=o.condition_on_previous_text,
            fp16=str(model.device).startswith("cuda"),
            verbose=None,
        )
        return list(out["segments"])

    def language(self, model: Any, audio: np.ndarray) -> str:
        """``en`` for an English-only model; else the language of the first voiced 30 s,
        logged with how to force another."""
        if not model.is_multilingual:
            return "en"
        language, prob, start = detect_language(model, audio)
        log.info(
            "openai-whisper: language %r (p=%.2f) detected on the 30 s from %.1f s (first "
            "speech); set %s.language=<code> to force one", language, prob, start,
            self.key_prefix,
        )  # fmt: skip
        return language
