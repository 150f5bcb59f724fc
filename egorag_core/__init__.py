"""egorag: index long videos for retrieval-augmented generation."""

from .components import SceneSplitter, Settings, StageComponent, VideoJob
from .data import InputError, Scene, SceneEncoding, VideoDatapoint, VideoDataset
from .hookspecs import hookimpl
from .scheduler import ModelScheduler, ModelSpec

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "ModelScheduler",
    "ModelSpec",
    "Scene",
    "SceneEncoding",
    "SceneSplitter",
    "Settings",
    "StageComponent",
    "VideoDatapoint",
    "VideoDataset",
    "VideoJob",
    "hookimpl",
    "MultiModalEncoder",
]


def __getattr__(name: str):
    if name == "MultiModalEncoder":
        from .pipeline import MultiModalEncoder

        return MultiModalEncoder
    raise AttributeError(name)
