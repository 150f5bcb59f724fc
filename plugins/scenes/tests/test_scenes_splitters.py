"""The scene splitters on real video files with known hard cuts."""

import os

import pytest

from egorag_core.components import Settings
from egorag_core.data import InputError, Scene
from egorag_core.testing import make_video, open_job
from egorag_scenes.splitters import (
    AdaptiveSplitter,
    ContentSplitter,
    FixedSplitter,
    PrecomputedSplitter,
    scenes_from_cuts,
)

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


def test_fixed_windows_cover_the_video(three_cuts):
    with open_job(three_cuts) as job:
        scenes = FixedSplitter({"seconds": 3.0}, SETTINGS).split(job)
    assert scenes == [Scene(0.0, 3.0), Scene(3.0, 6.0), Scene(6.0, 7.0)]


def test_fixed_short_last_window_joins_the_previous(three_cuts):
    with open_job(three_cuts) as job:
        scenes = FixedSplitter({"seconds": 3.0, "min_last_seconds": 1.5}, SETTINGS).split(job)
    assert scenes == [Scene(0.0, 3.0), Scene(3.0, 7.0)]


def test_scenes_from_cuts_drops_cuts_too_close():
    assert scenes_from_cuts([0.5, 4.0, 9.9], 10.0, min_length=1.0) == [
        Scene(0.0, 4.0),
        Scene(4.0, 10.0),
    ]


def test_precomputed_needs_scenes_in_the_input(three_cuts):
    with open_job(three_cuts) as job:
        with pytest.raises(InputError, match="cuts.mp4.*no scenes"):
            PrecomputedSplitter({}, SETTINGS).split(job)
        job.datapoint.precomputed_scenes = [Scene(0, 1), Scene(1, 7)]
        assert PrecomputedSplitter({}, SETTINGS).split(job) == [Scene(0, 1), Scene(1, 7)]
