"""The ASR component shared by both backends: one pass per video, words assigned to scenes."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np
from egorag_core.components import ModelComponent, ModelRole, Settings, VideoJob
from egorag_core.errors import OptionsError
from egorag_core.media import AUDIO_SAMPLE_RATE

from .assign import assign_words, join_words, scene_segments, tighten_words
from .chunks import peak
from .options import MODES, WhisperOptions

#: Audio shorter than this (seconds) is not transcribed.
MIN_SECONDS = 0.1
#: A segment over ``no_speech_threshold`` is kept when its average token log-probability is at
#: least this (whisper's own ``logprob_threshold`` rule).
LOGPROB_THRESHOLD = -1.0

OptionsT = TypeVar("OptionsT", bound=WhisperOptions)


class WhisperASR(ModelComponent[OptionsT]):
    """Transcribes ``job.audio()`` once (``mode: video``) or each scene (``mode: scene``) and
    sets ``transcript`` plus ``extras["words"]`` / ``["segments"]`` (absolute seconds).

    A backend declares its model in ``roles``, overrides ``resolve`` and implements ``run``."""

    def __init__(
        self,
        options: OptionsT | Mapping[str, Any] | None = None,
        settings: Settings | None = None,
        group: str = "",
    ):
        super().__init__(options, settings, group)
        if self.options.mode not in MODES:
            raise OptionsError(
                f"{self.key_prefix}.mode={self.options.mode}: expected {' or '.join(MODES)}"
            )
        #: Number of transcription passes so far (one per video with ``mode: video``).
        self.transcribe_calls = 0

    def stats(self) -> dict[str, Any]:
        """For the run report: transcription passes (one per video with ``mode: video``)."""
        return {"transcribe_calls": self.transcribe_calls, "mode": self.options.mode}

    def option_key(self, role: ModelRole) -> str:
        """The config key that names ``role``'s model (``audio.asr.model``), for messages."""
        return f"{self.key_prefix}.{role.option}"

    # -- backend ---------------------------------------------------------------------------
    @abstractmethod
    def run(self, model: Any, audio: np.ndarray) -> list[dict[str, Any]]:
        """Segments ``{start, end, text, no_speech_prob, avg_logprob, words: [{start, end,
        word, probability}]}`` of ``audio``, times relative to its start."""

    # -- component --------------------------------------------------------------------------
    def process(self, job: VideoJob) -> None:
        """Fill each scene's ``transcript``, ``extras["words"]`` and ``extras["segments"]``."""
        if self.options.mode == "scene":
            per_scene = [
                self._words(job, job.scene_audio(i), job.scenes[i].start)
                for i in job.progress(range(len(job.scenes)), "asr")
            ]
        else:
            per_scene = assign_words(self._video_words(job), job.scenes)
        for result, words in zip(job.results, per_scene, strict=True):
            result.transcript = join_words(words)
            result.extras["words"] = [
                {k: w[k] for k in ("start", "end", "probability")} | {"word": w["word"].strip()}
                for w in words
            ]
            result.extras["segments"] = scene_segments(words)

    def _video_words(self, job: VideoJob) -> list[dict[str, Any]]:
        """Words of the whole track (``mode: video``), absolute times."""
        return self._words(job, job.audio(), job.audio_start)

    def _words(self, job: VideoJob, audio: np.ndarray | None, offset: float) -> list[dict]:
        """Words of ``audio`` (absolute times), each tagged with its segment number."""
        if audio is None or not self._worth_transcribing(audio):
            return []
        with self.model(job) as model:
            segments = self.run(model, np.ascontiguousarray(audio, dtype=np.float32))
        self.transcribe_calls += 1
        return self._clean(segments, offset)

    def _worth_transcribing(self, audio: np.ndarray) -> bool:
        """Long enough and loud enough (peak at least ``silence_peak``)."""
        if audio.size < MIN_SECONDS * AUDIO_SAMPLE_RATE:
            return False
        return peak(audio) >= self.options.silence_peak

    def _is_silence(self, segment: dict[str, Any]) -> bool:
        """Whisper's rule: no-speech probability over ``no_speech_threshold`` and an average
        log-probability (when the backend gives one) under ``LOGPROB_THRESHOLD``."""
        threshold = self.options.no_speech_threshold
        if threshold is None or segment.get("no_speech_prob", 0.0) <= threshold:
            return False
        return float(segment.get("avg_logprob", float("-inf"))) < LOGPROB_THRESHOLD

    def _clean(self, segments: list[dict[str, Any]], offset: float) -> list[dict[str, Any]]:
        """Drop segments whisper itself thinks are not speech; absolute, rounded times."""
        words = []
        for n, seg in enumerate(segments):
            if self._is_silence(seg):
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
