"""Fixtures of the egorag-clap tests: tiny random-weight models built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from egorag_core.components import Settings  # noqa: E402


@pytest.fixture(scope="session")
def tiny_settings(tmp_path_factory) -> Settings:
    return Settings(tiny=True, cache_dir=tmp_path_factory.mktemp("egorag-cache"),
                    show_progress=False)


@pytest.fixture(scope="session")
def bunny() -> Path:
    from egorag_core.testing import sample_video

    return sample_video("bigbuckbunny.mp4")
