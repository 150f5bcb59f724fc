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
    "Hit",
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
    "SearchIndex",
    "Settings",
    "StageComponent",
    "VideoDatapoint",
    "VideoDataset",
    "VideoJob",
    "hookimpl",
    "search",
]

#: Imported on first use (``egorag_core.search`` reads LanceDB; the encoder imports the run).
_LAZY = {
    "MultiModalEncoder": "run",
    "search": "retrieval",
    "Hit": "retrieval",
    "SearchIndex": "retrieval",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)
