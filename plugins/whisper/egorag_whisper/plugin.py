"""Hook implementations of egorag-whisper (no heavy imports here)."""

from __future__ import annotations

from egorag_core import hookimpl


@hookimpl
def register_audio_analyzers(register) -> None:
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
