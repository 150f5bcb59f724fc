"""Hook implementations of egorag-speakers (no heavy imports here)."""

from __future__ import annotations

from egorag_core import hookimpl
from egorag_core.hookspecs import Register


@hookimpl
def register_audio_analyzers(register: Register) -> None:
    """The resemblyzer speaker diarizer, in config group ``audio/speakers``."""
    register("resemblyzer", "egorag_speakers.diarize:ResemblyzerSpeakers",
             "speaker diarization: resemblyzer windows clustered per video, words labelled by time",
             group="audio/speakers")
