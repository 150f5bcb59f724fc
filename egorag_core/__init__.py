"""egorag: index long videos for retrieval-augmented generation."""

from .components import (
    Component,
    ModelComponent,
    ModelRole,
    SceneSplitter,
    Settings,
    StageComponent,
    VideoJob,
)
from .data import Scene, SceneEncoding, VideoDatapoint, VideoDataset
from .errors import ConfigError, InputError, ModelUnavailable, OptionsError, PluginError
from .hookspecs import hookimpl
from .scheduler import ModelScheduler, ModelSpec

__version__ = "0.1.0"

__all__ = [
    "Component",
    "ConfigError",
    "InputError",
    "ModelComponent",
    "ModelRole",
    "ModelScheduler",
    "ModelSpec",
    "ModelUnavailable",
    "MultiModalEncoder",
    "OptionsError",
    "PluginError",
    "Scene",
    "SceneEncoding",
    "SceneSplitter",
    "Settings",
    "StageComponent",
    "VideoDatapoint",
    "VideoDataset",
    "VideoJob",
    "hookimpl",
]


def __getattr__(name: str) -> object:
    if name == "MultiModalEncoder":
        from .run import MultiModalEncoder

        return MultiModalEncoder
    raise AttributeError(name)
