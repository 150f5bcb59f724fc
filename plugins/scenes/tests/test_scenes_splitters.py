"""The scene splitters on real video files with known hard cuts, built from their YAML."""

import pytest

from egorag_core.errors import OptionsError


@pytest.fixture(scope="module")
def three_cuts(tmp_path_factory):
    """A real 7 s H.264 file with hard cuts at 2 s and 5 s."""
    from egorag_core.testing import make_video

    segments = [("testsrc2", 2.0), ("smptebars", 3.0), ("color=c=blue", 2.0)]
    return make_video(tmp_path_factory.mktemp("v") / "cuts.mp4", segments, audio=None)


@pytest.mark.parametrize("name", ["content", "adaptive"])
def test_detectors_find_the_hard_cuts(three_cuts, egorag_component, egorag_job, name):
    splitter = egorag_component("scenes", name)
    with egorag_job(three_cuts) as job:
        scenes = splitter.split(job)
    assert [round(s.start, 2) for s in scenes] == [0.0, 2.0, 5.0]
    assert scenes[-1].end == pytest.approx(7.0)


def test_frame_skip_still_finds_cuts_near_the_boundaries(three_cuts, egorag_component, egorag_job):
    splitter = egorag_component("scenes", "content", frame_skip=1, min_scene_len=5)
    with egorag_job(three_cuts) as job:
        scenes = splitter.split(job)
    assert len(scenes) == 3
    assert abs(scenes[1].start - 2.0) <= 0.2 and abs(scenes[2].start - 5.0) <= 0.2


def test_kit_video_cut_found(egorag_video, egorag_component, egorag_job):
    with egorag_job(egorag_video) as job:
        scenes = egorag_component("scenes", "content").split(job)
    assert [round(s.start, 2) for s in scenes] == [0.0, 2.0]


def test_yaml_values_are_the_options(egorag_component):
    content = egorag_component("scenes", "content")
    assert (content.options.threshold, content.options.min_scene_len) == (27.0, 15)
    adaptive = egorag_component("scenes", "adaptive", window_width=3)
    assert (adaptive.options.adaptive_threshold, adaptive.options.window_width) == (3.0, 3)


@pytest.mark.parametrize("name", ["content", "adaptive"])
def test_mistyped_option_names_key_and_file(egorag_component, name):
    with pytest.raises(OptionsError, match=rf"scenes\.min_scene_len=.*{name}\.yaml"):
        egorag_component("scenes", name, min_scene_len="long")


def test_unusable_value_is_rejected_before_work(egorag_component):
    with pytest.raises(OptionsError, match=r"^scenes\.chunk_frames=0: must be at least 1"):
        egorag_component("scenes", "content", chunk_frames=0)
