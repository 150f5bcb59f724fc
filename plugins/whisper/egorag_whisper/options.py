"""The options of both ASR backends (the schema: names and types; the values, with their
explanations, are in ``conf/audio/asr/<name>.yaml``). Imports nothing heavy."""

from __future__ import annotations

from dataclasses import dataclass

#: The values of ``audio.asr.mode``.
MODES = ("video", "scene")


@dataclass
class WhisperOptions:
    """Options both backends take."""

    model: str
    mode: str
    language: str | None
    task: str
    no_speech_threshold: float | None
    beam_size: int
    condition_on_previous_text: bool
    silence_peak: float


@dataclass
class FasterWhisperOptions(WhisperOptions):
    """``audio/asr=faster_whisper``: the shared options plus CTranslate2's."""

    vad_filter: bool
    batch_size: int
    compute_type: str
    cpu_threads: int


@dataclass
class OpenAIWhisperOptions(WhisperOptions):
    """``audio/asr=whisper``: the shared options plus openai-whisper's."""

    download_root: str | None
    temperature: list[float]
