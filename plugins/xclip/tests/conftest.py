"""Fixtures for egorag-xclip: tiny models built once per session, offline."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import pytest  # noqa: E402
from egorag_core import Settings  # noqa: E402


@pytest.fixture(scope="session")
def xclip_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings with tiny models, built once into a session cache."""
    settings = Settings(
        tiny=True, cache_dir=tmp_path_factory.mktemp("xclip-cache"), show_progress=False
    )
    from egorag_xclip.encoder import XClipVideoEncoder

    XClipVideoEncoder({}, settings).check()  # builds both tiny folders
    return settings


@pytest.fixture(scope="session")
def xclip_two_scene_video(tmp_path_factory: pytest.TempPathFactory):
    """A real 4 s H.264 file, 10 fps, two shots with a hard cut at 2 s, no audio."""
    from egorag_core.testing import make_video

    return make_video(tmp_path_factory.mktemp("xclip-media") / "two.mp4", audio=None)
