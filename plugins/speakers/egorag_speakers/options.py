"""The options of the resemblyzer speaker labeller (the schema: names and types; the values,
with their explanations, are in ``conf/audio/speakers/resemblyzer.yaml``). Imports nothing
heavy."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ResemblyzerOptions:
    """``audio/speakers=resemblyzer``."""

    num_speakers: int | None
    threshold: float
    window_s: float
    min_rms: float
