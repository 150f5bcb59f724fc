"""Registers the scene splitters (imported lazily, so start-up stays fast)."""

from egorag_core import hookimpl


@hookimpl
def register_scene_splitters(register):
    register("content", "egorag_scenes.splitters:ContentSplitter", "PySceneDetect ContentDetector")
    register(
        "adaptive", "egorag_scenes.splitters:AdaptiveSplitter", "PySceneDetect AdaptiveDetector"
    )
