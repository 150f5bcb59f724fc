"""Scene splitters built into the core (no extra dependencies): fixed-length windows and the
scenes given in the input. Registered like any plugin, under the name ``builtin``."""

from __future__ import annotations

import math

from .components import SceneSplitter, VideoJob
from .data import InputError, Scene
from .hookspecs import hookimpl


def scenes_from_cuts(cuts: list[float], duration: float, min_length: float = 0.0) -> list[Scene]:
    """Scenes between consecutive cut times over ``[0, duration]``; cuts closer than
    ``min_length`` to the previous boundary or to the end are dropped."""
    bounds = [0.0]
    for t in sorted(cuts):
        if min_length <= t - bounds[-1] and min_length <= duration - t and 0 < t < duration:
            bounds.append(t)
    bounds.append(duration)
    return [Scene(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]


class FixedSplitter(SceneSplitter):
    """Windows of ``seconds`` each; a last window shorter than ``min_last_seconds`` joins the
    previous one."""

    def split(self, job: VideoJob) -> list[Scene]:
        length = float(self.options.get("seconds", 10.0))
        if length <= 0:
            raise ValueError("scenes.seconds must be positive")
        duration = job.frames.duration
        cuts = [length * k for k in range(1, math.ceil(duration / length))]
        return scenes_from_cuts(cuts, duration, float(self.options.get("min_last_seconds", 0.0)))


class PrecomputedSplitter(SceneSplitter):
    """The scenes given for the video in the input JSON (``"scenes": [[start, end], ...]``)."""

    def split(self, job: VideoJob) -> list[Scene]:
        scenes = job.datapoint.precomputed_scenes
        if not scenes:
            raise InputError(f"{job.path}: scenes=precomputed but the input gives no scenes")
        return list(scenes)


@hookimpl
def register_scene_splitters(register) -> None:
    register("fixed", FixedSplitter, "fixed-length windows")
    register("precomputed", PrecomputedSplitter, "scenes from the input JSON")
