"""The options of the resemblyzer speaker labeller (the schema: names and types; the values,
with their explanations, are in ``conf/audio/speakers/resemblyzer.yaml``). Imports nothing
heavy."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ResemblyzerOptions:
    """``audio/speakers=resemblyzer``."""

    num_speakers: int | None
    max_speakers: int
    window_s: float
    hop_s: float
    min_window_s: float
    min_turn_s: float
    vad_mode: int
    max_cluster_windows: int
    batch_size: int
