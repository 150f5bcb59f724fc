"""Hook implementations of egorag-whisper (no heavy imports here)."""

from __future__ import annotations

from egorag_core import hookimpl
from egorag_core.hookspecs import Register


@hookimpl
def register_audio_analyzers(register: Register) -> None:
    """Both backends, in config group ``audio/asr``."""
    register(
        "faster_whisper",
        "egorag_whisper.faster:FasterWhisperASR",
        "ASR with faster-whisper (CTranslate2): one pass per video, words assigned to scenes",
        group="audio/asr",
    )
    register(
        "whisper",
        "egorag_whisper.openai_asr:OpenAIWhisperASR",
        "ASR with openai-whisper (PyTorch): one pass per video, words assigned to scenes",
        group="audio/asr",
    )
