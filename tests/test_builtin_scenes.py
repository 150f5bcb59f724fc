"""The core's built-in scene splitters (fixed windows, precomputed scenes) on real files."""

import pytest

from egorag_core.builtin import FixedSplitter, PrecomputedSplitter, scenes_from_cuts
from egorag_core.components import Settings
from egorag_core.data import InputError, Scene
from egorag_core.plugins import load_plugins
from egorag_core.testing import make_video, open_job

SETTINGS = Settings(show_progress=False)


@pytest.fixture(scope="module")
def three_cuts(tmp_path_factory):
    segments = [("testsrc2", 2.0), ("smptebars", 3.0), ("color=c=blue", 2.0)]
    return make_video(tmp_path_factory.mktemp("v") / "cuts.mp4", segments, audio=None)


def test_builtin_splitters_load_whatever_plugins_are_selected(monkeypatch):
    monkeypatch.setenv("EGORAG_PLUGINS", "")
    host = load_plugins()
    assert host.get("scenes", "fixed").plugin == "builtin"
    assert host.get("scenes", "precomputed").plugin == "builtin"
    assert [p.name for p in host.plugins] == ["builtin"]


def test_fixed_windows_cover_the_video(three_cuts, egorag_component):
    with open_job(three_cuts) as job:
        scenes = egorag_component("scenes", "fixed", seconds=3.0).split(job)
    assert scenes == [Scene(0.0, 3.0), Scene(3.0, 6.0), Scene(6.0, 7.0)]


def test_fixed_short_last_window_joins_the_previous(three_cuts, egorag_component):
    with open_job(three_cuts) as job:
        splitter = egorag_component("scenes", "fixed", seconds=3.0, min_last_seconds=1.5)
        assert isinstance(splitter, FixedSplitter)
        scenes = splitter.split(job)
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
