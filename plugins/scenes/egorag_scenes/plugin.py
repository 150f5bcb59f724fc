"""Registers the scene splitters (imported lazily, so start-up stays fast)."""

from egorag_core import hookimpl
from egorag_core.hookspecs import Register


@hookimpl
def register_scene_splitters(register: Register) -> None:
    register("content", "egorag_scenes.splitters:ContentSplitter", "PySceneDetect ContentDetector")
    register(
        "adaptive", "egorag_scenes.splitters:AdaptiveSplitter", "PySceneDetect AdaptiveDetector"
    )
