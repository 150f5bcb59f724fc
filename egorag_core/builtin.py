"""Scene splitters built into the core (no extra dependencies): fixed-length windows and the
scenes given in the input. Registered like any plugin, under the name ``builtin``."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .components import SceneSplitter, VideoJob
from .data import Scene
from .errors import InputError
from .hookspecs import Register, hookimpl
from .options import NoOptions


def scenes_from_cuts(cuts: list[float], duration: float, min_length: float = 0.0) -> list[Scene]:
    """Scenes between consecutive cut times over ``[0, duration]``; cuts closer than
    ``min_length`` to the previous boundary or to the end are dropped."""
    bounds = [0.0]
    for t in sorted(cuts):
        if min_length <= t - bounds[-1] and min_length <= duration - t and 0 < t < duration:
            bounds.append(t)
    bounds.append(duration)
    return [Scene(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]


@dataclass
class FixedOptions:
    seconds: float
    min_last_seconds: float


class FixedSplitter(SceneSplitter[FixedOptions]):
    """Windows of ``seconds`` each; a last window shorter than ``min_last_seconds`` joins the
    previous one."""

    def split(self, job: VideoJob) -> list[Scene]:
        length = self.options.seconds
        if length <= 0:
            raise ValueError("scenes.seconds must be positive")
        duration = job.frames.duration
        cuts = [length * k for k in range(1, math.ceil(duration / length))]
        return scenes_from_cuts(cuts, duration, self.options.min_last_seconds)


class PrecomputedSplitter(SceneSplitter[NoOptions]):
    """The scenes given for the video in the input JSON (``"scenes": [[start, end], ...]``)."""

    def split(self, job: VideoJob) -> list[Scene]:
        scenes = job.datapoint.precomputed_scenes
        if not scenes:
            raise InputError(f"{job.path}: scenes=precomputed but the input gives no scenes")
        return list(scenes)


@hookimpl
def register_scene_splitters(register: Register) -> None:
    register("fixed", FixedSplitter, "fixed-length windows")
    register("precomputed", PrecomputedSplitter, "scenes from the input JSON")
