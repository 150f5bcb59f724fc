"""Shared fixtures: real videos made with ffmpeg, the sample clips, a CLI runner, and one
in-process encoding run that several test files inspect."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

# No network in tests: models come from packages or local folders only.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402
from cli_helpers import PLUGINS  # noqa: E402

from egorag_core.testing import make_video, sample_video  # noqa: E402


@pytest.fixture(autouse=True)
def only_core_test_plugins(monkeypatch):
    """The core's tests load only the plugins they rely on (scenes, minilm, testplugin), so
    they do not depend on which other plugins are installed; plugin test suites are untouched."""
    monkeypatch.setenv("EGORAG_PLUGINS", PLUGINS)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", *args], check=True)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def multi_scene_video(media_dir) -> Path:
    """8 s, 10 fps, four 2-second segments with hard cuts (red and blue in between), audio."""
    return make_video(
        media_dir / "multi.mp4",
        [("testsrc2", 2.0), ("color=c=red", 2.0), ("smptebars", 2.0), ("color=c=blue", 2.0)],
    )


@pytest.fixture(scope="session")
def noaudio_video(media_dir) -> Path:
    """4 s, two segments, no audio track."""
    return make_video(
        media_dir / "noaudio.mp4", [("color=c=green", 2.0), ("rgbtestsrc", 2.0)], audio=None
    )


@pytest.fixture(scope="session")
def one_frame_video(media_dir) -> Path:
    path = media_dir / "one-frame.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=1", "-frames:v", "1",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path))  # fmt: skip
    return path


@pytest.fixture(scope="session")
def weird_video(media_dir) -> Path:
    """A path with spaces, unicode and shell characters."""
    return make_video(
        media_dir / "dir with space" / "vid é $(x) ;'&.mp4",
        [("mandelbrot", 1.5), ("color=c=yellow", 1.5)],
    )


@pytest.fixture(scope="session")
def audio_only_file(media_dir) -> Path:
    path = media_dir / "tone.m4a"
    ffmpeg("-f", "lavfi", "-t", "2", "-i", "sine=frequency=440:sample_rate=16000", str(path))
    return path


@pytest.fixture(scope="session")
def bikes() -> Path:
    return sample_video("bikes.mp4")


@pytest.fixture(scope="session")
def bigbuckbunny() -> Path:
    return sample_video("bigbuckbunny.mp4")


@pytest.fixture(scope="session")
def api_run(tmp_path_factory, multi_scene_video, noaudio_video, bigbuckbunny):
    """One full in-process run through the seed's API (scenes=content, colorhist, colorname,
    MiniLM) over three videos, counting every decoder opened, per file."""
    import av

    from egorag_core import MultiModalEncoder, VideoDataset
    from egorag_core.media import VideoFrames

    base = tmp_path_factory.mktemp("api")
    listing = base / "videos.json"
    listing.write_text(
        json.dumps(
            [
                {"path": str(multi_scene_video), "name": "multi"},
                {"path": str(noaudio_video)},
                {"path": str(bigbuckbunny), "name": "bunny"},
            ]
        )
    )
    dataset = VideoDataset.from_json(listing)
    opened: Counter[str] = Counter()
    real_open = av.open

    def counting_open(uri, *args, **kwargs):
        opened[str(uri)] += 1
        return real_open(uri, *args, **kwargs)

    before = VideoFrames.opens_total
    encoder = MultiModalEncoder(
        video_dataset=dataset,
        device="cpu",
        max_workers=2,
        overrides=["video=colorhist", "caption=colorname", "audio=none", "progress=false"],
        output_dir=base / "out",
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EGORAG_PLUGINS", PLUGINS)
        mp.setattr(av, "open", counting_open)
        encoded = encoder.encode_videos()
    return {
        "dataset": dataset,
        "encoded": encoded,
        "encoder": encoder,
        "opens": VideoFrames.opens_total - before,
        "opened": opened,
        "paths": [str(multi_scene_video), str(noaudio_video), str(bigbuckbunny)],
        "base": base,
    }


@pytest.fixture(scope="session")
def ray_address():
    """One local Ray for the whole session (``ray.init(num_cpus=2)``), its temp folder short
    (Ray's socket paths are limited) and removed at the end: in-process runs with
    ``executor=ray`` use it, CLI runs join it with ``executor.address=<this>``."""
    ray = pytest.importorskip("ray")
    import tempfile
    import warnings

    temp = tempfile.mkdtemp(prefix="egorag-ray-test-")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "lancedb fork", RuntimeWarning)
        ray.init(num_cpus=2, _temp_dir=temp, include_dashboard=False, logging_level="ERROR")
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(params=["local", pytest.param("ray", marks=pytest.mark.ray)])
def executor_args(request) -> list[str]:
    """The CLI overrides of each executor a test runs under: none (``executor=local``), or
    ``executor=ray`` joining the session's Ray."""
    if request.param == "local":
        return []
    return ["executor=ray", f"executor.address={request.getfixturevalue('ray_address')}"]


@pytest.fixture()
def copy_video(tmp_path):
    """Copy a video to a new name under tmp_path (same content)."""

    def copy(src: Path, name: str) -> Path:
        dst = tmp_path / name
        shutil.copyfile(src, dst)
        return dst

    return copy
