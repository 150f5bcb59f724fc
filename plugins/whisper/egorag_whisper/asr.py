"""The ASR component shared by both backends: one pass per video, words assigned to scenes."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np
from egorag_core.components import Settings, StageComponent, VideoJob
from egorag_core.media import AUDIO_SAMPLE_RATE
from egorag_core.models import ModelSource
from egorag_core.scheduler import ModelSpec

from .assign import assign_words, join_words, scene_segments, tighten_words

OPTION = "audio.asr.model"
#: Audio shorter than this (seconds) is not transcribed.
MIN_SECONDS = 0.1

DEFAULTS: dict[str, Any] = {
    "model": "large-v3",
    "mode": "video",
    "language": None,
    "task": "transcribe",
    "vad_filter": True,
    "no_speech_threshold": 0.6,
    "beam_size": 5,
    "condition_on_previous_text": True,
    "silence_peak": 1e-3,
}


class WhisperASR(StageComponent):
    """Transcribes ``job.audio()`` once (``mode: video``) or each scene (``mode: scene``) and
    sets ``transcript`` plus ``extras["words"]`` / ``["segments"]`` (absolute seconds)."""

    backend = "whisper"

    def __init__(self, options: Mapping[str, Any], settings: Settings):
        super().__init__({**DEFAULTS, **dict(options)}, settings)
        if self.options["mode"] not in ("video", "scene"):
            raise ValueError(f"audio.asr.mode={self.options['mode']}: expected video or scene")
        self._source: ModelSource | None = None
        #: Number of transcription passes so far (one per video with ``mode: video``).
        self.transcribe_calls = 0

    def stats(self) -> dict[str, Any]:
        """For the run report: transcription passes (one per video with ``mode: video``)."""
        return {"transcribe_calls": self.transcribe_calls, "mode": self.options["mode"]}

    # -- backend ---------------------------------------------------------------------------
    @abstractmethod
    def resolve(self) -> ModelSource:
        """Where the weights come from; raises ``ModelUnavailable`` (one line)."""

    @abstractmethod
    def load(self, location: str, device: str) -> Any:
        """Build the model on ``device``."""

    @abstractmethod
    def run(self, model: Any, audio: np.ndarray) -> list[dict[str, Any]]:
        """Segments ``{start, end, text, no_speech_prob, words: [{start, end, word,
        probability}]}`` of ``audio``, times relative to its start."""

    def variant(self, device: str) -> str:
        """Part of the model key besides the location (e.g. the compute type)."""
        return ""

    def estimated_bytes(self, location: str) -> int:
        return 0

    # -- component --------------------------------------------------------------------------
    @property
    def source(self) -> ModelSource:
        if self._source is None:
            self._source = self.resolve()
        return self._source

    def check(self) -> None:
        self._source = self.resolve()

    def models(self) -> list[ModelSpec]:
        loc = self.source.location
        return [
            ModelSpec(
                key=f"{self.backend}:{loc}:{self.variant(self.settings.device)}",
                load=lambda device: self.load(loc, device),
                model_id=loc,
                estimated_bytes=self.estimated_bytes(loc),
                random_weights=self.source.random_weights,
            )
        ]

    def process(self, job: VideoJob) -> None:
        audio = job.audio()
        if self.options["mode"] == "scene":
            per_scene = []
            for i in job.progress(range(len(job.scenes)), "asr"):
                clip = job.scene_audio(i)
                offset = job.scenes[i].start
                per_scene.append(self._words(job, clip, offset))
        else:
            per_scene = assign_words(self._words(job, audio, 0.0), job.scenes)
        for result, words in zip(job.results, per_scene, strict=True):
            result.transcript = join_words(words)
            result.extras["words"] = [
                {k: w[k] for k in ("start", "end", "probability")} | {"word": w["word"].strip()}
                for w in words
            ]
            result.extras["segments"] = scene_segments(words)

    def _words(self, job: VideoJob, audio: np.ndarray | None, offset: float) -> list[dict]:
        """Words of ``audio`` (absolute times), each tagged with its segment number."""
        if not self._worth_transcribing(audio):
            return []
        assert audio is not None
        with job.scheduler.use(self.models()[0]) as model:
            segments = self.run(model, np.ascontiguousarray(audio, dtype=np.float32))
        self.transcribe_calls += 1
        return self._clean(segments, offset)

    def _worth_transcribing(self, audio: np.ndarray | None) -> bool:
        if audio is None or audio.size < MIN_SECONDS * AUDIO_SAMPLE_RATE:
            return False
        return float(np.max(np.abs(audio))) >= float(self.options["silence_peak"])

    def _clean(self, segments: list[dict[str, Any]], offset: float) -> list[dict[str, Any]]:
        """Drop segments whisper itself thinks are not speech; absolute, rounded times."""
        threshold = self.options["no_speech_threshold"]
        words = []
        for n, seg in enumerate(segments):
            if threshold is not None and seg.get("no_speech_prob", 0.0) > threshold:
                continue
            seg_words = seg.get("words") or [
                {"start": seg["start"], "end": seg["end"], "word": seg["text"], "probability": 1.0}
            ]
            for w in seg_words:
                if not str(w["word"]).strip():
                    continue
                words.append({
                    "start": round(float(w["start"]) + offset, 3),
                    "end": round(float(w["end"]) + offset, 3),
                    "word": str(w["word"]),
                    "probability": round(float(w.get("probability", 1.0)), 4),
                    "segment": n,
                })  # fmt: skip
        return tighten_words(words)
