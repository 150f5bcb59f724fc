"""The scene splitters on real video files with known hard cuts."""

import os

import pytest

from egorag_core.components import Settings
from egorag_core.testing import make_video, open_job
from egorag_scenes.splitters import AdaptiveSplitter, ContentSplitter

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SETTINGS = Settings(show_progress=False)


@pytest.fixture(scope="module")
def three_cuts(tmp_path_factory):
    segments = [("testsrc2", 2.0), ("smptebars", 3.0), ("color=c=blue", 2.0)]
    return make_video(tmp_path_factory.mktemp("v") / "cuts.mp4", segments, audio=None)


@pytest.mark.parametrize("splitter", [ContentSplitter, AdaptiveSplitter])
def test_detectors_find_the_hard_cuts(three_cuts, splitter):
    with open_job(three_cuts) as job:
        scenes = splitter({}, SETTINGS).split(job)
    assert [round(s.start, 2) for s in scenes] == [0.0, 2.0, 5.0]
    assert scenes[-1].end == pytest.approx(7.0)


def test_frame_skip_still_finds_cuts_near_the_boundaries(three_cuts):
    with open_job(three_cuts) as job:
        scenes = ContentSplitter({"frame_skip": 1, "min_scene_len": 5}, SETTINGS).split(job)
    assert len(scenes) == 3
    assert abs(scenes[1].start - 2.0) <= 0.2 and abs(scenes[2].start - 5.0) <= 0.2
