"""The options of the scene splitters (names and types; the values are in ``conf/scenes/``).

Importable without OpenCV or PySceneDetect."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DetectorOptions:
    """What every detector splitter reads."""

    min_scene_len: int
    frame_skip: int
    min_seconds: float
    chunk_frames: int


@dataclass
class ContentOptions(DetectorOptions):
    """``scenes=content``: PySceneDetect ``ContentDetector``."""

    threshold: float


@dataclass
class AdaptiveOptions(DetectorOptions):
    """``scenes=adaptive``: PySceneDetect ``AdaptiveDetector``."""

    adaptive_threshold: float
    window_width: int
    min_content_val: float
