"""openai-whisper (PyTorch) backend; ``preset=tiny`` builds a tiny random-weight checkpoint."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from egorag_core.models import ModelSource, ModelUnavailable, build_tiny_model, hub_offline

from .asr import OPTION, WhisperASR
from .packaged import is_packaged

TINY_FILE = "model.pt"


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
    torch.save({"dims": asdict(dims), "model_state_dict": model.state_dict()}, folder / TINY_FILE)


class OpenAIWhisperASR(WhisperASR):
    """ASR with ``whisper.load_model``; ``model`` is a name (``large-v3``) or a ``.pt`` file."""

    backend = "openai-whisper"

    def download_root(self) -> str:
        default = os.path.join(os.getenv("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                               "whisper")
        return str(Path(self.options.get("download_root") or default).expanduser())

    def resolve(self) -> ModelSource:
        model = str(self.options["model"])
        if is_packaged(model):
            raise ModelUnavailable(
                f"{OPTION}={model}: packaged models are CTranslate2 weights; use "
                "audio/asr=faster_whisper, or give openai-whisper a name or a .pt file"
            )
        path = Path(model).expanduser()
        if path.is_file():
            return ModelSource(str(path))
        if self.settings.tiny:
            folder = build_tiny_model("openai-whisper", build_tiny_whisper,
                                      self.settings.cache_dir)
            return ModelSource(str(folder / TINY_FILE), random_weights=True)
        import whisper

        url = whisper._MODELS.get(model)
        if url is None:
            raise ModelUnavailable(
                f"{OPTION}={model}: not a .pt file nor an openai-whisper model name "
                f"({', '.join(whisper.available_models())})"
            )
        cached = Path(self.download_root()) / os.path.basename(url)
        if cached.is_file():
            return ModelSource(str(cached))
        if hub_offline():
            raise ModelUnavailable(
                f"{OPTION}={model}: {cached} not found and offline; download it first, set "
                f"{OPTION}=/path/to/model.pt, or use audio/asr=faster_whisper "
                f"{OPTION}=packaged:tiny.en"
            )
        return ModelSource(model)

    def estimated_bytes(self, location: str) -> int:
        path = Path(location)
        return path.stat().st_size if path.is_file() else int(3.09e9)

    def load(self, location: str, device: str) -> Any:
        import whisper

        return whisper.load_model(location, device=device, download_root=self.download_root())

    def run(self, model: Any, audio: np.ndarray) -> list[dict[str, Any]]:
        o = self.options
        out = model.transcribe(
            audio,
            language=o["language"],
            task=o["task"],
            beam_size=int(o["beam_size"]),
            temperature=tuple(o.get("temperature") or (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)),
            word_timestamps=True,
            # Random weights emit random timestamp tokens and whisper's seek loop then crawls.
            without_timestamps=self.source.random_weights,
            condition_on_previous_text=bool(o["condition_on_previous_text"]),
            fp16=str(model.device).startswith("cuda"),
            verbose=None,
        )
        return list(out["segments"])
