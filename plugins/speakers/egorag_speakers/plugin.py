"""Hook implementations of egorag-speakers (no heavy imports here)."""

from __future__ import annotations

from egorag_core import hookimpl


@hookimpl
def register_audio_analyzers(register) -> None:
    register("resemblyzer", "egorag_speakers.diarize:ResemblyzerSpeakers",
             "speaker labels on transcript segments: resemblyzer embeddings clustered per video",
             group="audio/speakers")
