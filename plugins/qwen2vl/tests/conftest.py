"""Fixtures for the Qwen2-VL plugin: the tiny random-weight model, built and loaded once.

Settings, videos, jobs and components come from egorag's pytest kit (``egorag_settings``,
``egorag_video``, ``egorag_job``, ``egorag_component``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from egorag_core import Settings


@pytest.fixture(scope="session")
def tiny_folder(egorag_settings: Settings) -> Path:
    """The tiny Qwen2-VL that ``video=qwen2vl`` resolves with ``preset=tiny`` (kit cache)."""
    from egorag_core.pipeline import build_component
    from egorag_core.plugins import load_plugins

    encoder = build_component(load_plugins(), "video", "qwen2vl", {}, egorag_settings)
    return Path(encoder.spec().model_id)


@pytest.fixture(scope="session")
def qwen(tiny_folder: Path):
    """The tiny model loaded once, as the scheduler would (float32, sdpa, CPU)."""
    from egorag_qwen2vl.loading import load_qwen2vl

    return load_qwen2vl(str(tiny_folder), "cpu", "float32", "sdpa")
