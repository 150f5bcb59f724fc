"""Fixtures for the Qwen2-VL plugin: one tiny random-weight model per session, real videos."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from egorag_core import Settings  # noqa: E402
from egorag_core.testing import make_video  # noqa: E402


@pytest.fixture(scope="session")
def qwen_settings(tmp_path_factory) -> Settings:
    """``preset=tiny`` settings whose cache holds the tiny Qwen2-VL (built once here)."""
    from egorag_qwen2vl.loading import resolve_source

    settings = Settings(tiny=True, cache_dir=tmp_path_factory.mktemp("qwen2vl-cache"),
                        show_progress=False)  # fmt: skip
    resolve_source({}, settings, "video.model")
    return settings


@pytest.fixture(scope="session")
def tiny_folder(qwen_settings) -> Path:
    from egorag_qwen2vl.loading import resolve_source

    return Path(resolve_source({}, qwen_settings, "video.model").location)


@pytest.fixture(scope="session")
def qwen(tiny_folder):
    """The tiny model loaded once, as the scheduler would (float32, sdpa, CPU)."""
    from egorag_qwen2vl.loading import load_qwen2vl

    return load_qwen2vl(str(tiny_folder), "cpu", "float32", "sdpa")


@pytest.fixture(scope="session")
def two_scene_video(tmp_path_factory) -> Path:
    """A real 5 s H.264 file: 2 s testsrc2, then 3 s smptebars."""
    path = tmp_path_factory.mktemp("qwen2vl-media") / "two.mp4"
    return make_video(path, [("testsrc2", 2.0), ("smptebars", 3.0)], audio=None)
