"""Rules the core enforces on plugins and options: duplicate names, groups, the deny-list,
option files checked against their dataclass, typed core settings with one set of defaults."""

from __future__ import annotations

import pytest
from cli_helpers import REPO, compose_and_run

from egorag_core import VideoDataset
from egorag_core.config import RunConfig, compose
from egorag_core.errors import ConfigError, OptionsError, PluginError
from egorag_core.hookspecs import hookimpl
from egorag_core.plugins import load_plugins, selected_entry_points


class DuplicateColorhist:
    """A second plugin offering ``video=colorhist``."""

    @hookimpl
    def register_video_encoders(self, register):
        register("colorhist", "egorag_testplugin.components:ColorHistogramEncoder")


class WrongGroup:
    @hookimpl
    def register_video_encoders(self, register):
        register("sneaky", "egorag_testplugin.components:ColorHistogramEncoder", group="text")


class RaisingHook:
    @hookimpl
    def register_captioners(self, register):
        raise RuntimeError("cannot register today")


def test_a_name_registered_twice_is_an_error_naming_both_plugins():
    with pytest.raises(PluginError) as err:
        load_plugins(extra=[DuplicateColorhist()])
    text = str(err.value)
    assert "video=colorhist is registered twice" in text
    assert "testplugin" in text and "DuplicateColorhist" in text
    assert "EGORAG_DISABLE_PLUGINS" in text


def test_a_group_the_hook_does_not_own_is_an_error():
    wanted = r"register_video_encoders registered 'sneaky' with group='text'; allowed: video"
    with pytest.raises(PluginError, match=wanted):
        load_plugins(extra=[WrongGroup()])


def test_a_hook_that_raises_is_reported_and_the_others_still_register():
    host = load_plugins(extra=[RaisingHook()])
    failed = [p for p in host.plugins if p.error]
    assert len(failed) == 1 and "cannot register today" in (failed[0].error or "")
    assert "colorname" in host.registry["caption"]  # testplugin's captioner is still there


def test_deny_list_leaves_named_plugins_out(monkeypatch):
    monkeypatch.setenv("EGORAG_DISABLE_PLUGINS", "testplugin, minilm")
    names = [ep.name for ep in selected_entry_points()]
    assert "testplugin" not in names and "minilm" not in names and "scenes" in names
    host = load_plugins()
    assert "colorhist" not in host.registry["video"]
    assert "content" in host.registry["scenes"]


class EventTagger:
    @hookimpl
    def register_audio_analyzers(self, register):
        register("beeps", "egorag_testplugin.components:ColorNameCaptioner", group="audio/events")


class GrouplessAnalyzer:
    @hookimpl
    def register_audio_analyzers(self, register):
        register("hum", "egorag_testplugin.components:ColorNameCaptioner")


def test_an_audio_analyzer_must_name_its_group():
    with pytest.raises(PluginError, match=r"group=None; allowed: audio/asr, audio/embedding"):
        load_plugins(extra=[GrouplessAnalyzer()])


def test_audio_analyzers_are_found_by_their_group():
    host = load_plugins(extra=[EventTagger()])
    assert host.find("audio/events", "beeps").group == "audio/events"
    with pytest.raises(KeyError, match="registered for audio/events, not audio/asr"):
        host.find("audio/asr", "beeps")


def test_mistyped_option_is_one_line_naming_key_and_file(tmp_path, multi_scene_video):
    dataset = VideoDataset.from_path(str(multi_scene_video))
    overrides = ["video=colorhist", "caption=none", "audio=none", "text=none", "progress=false",
                 "video.bins=many"]  # fmt: skip
    with pytest.raises(OptionsError) as err:
        compose_and_run(overrides, dataset, tmp_path / "out")
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith("video.bins='many': expected int")
    assert "egorag_testplugin/conf/video/colorhist.yaml" in text
    assert not (tmp_path / "out" / "index").exists()  # nothing was started


def test_unknown_option_lists_the_known_ones(tmp_path, multi_scene_video):
    dataset = VideoDataset.from_path(str(multi_scene_video))
    overrides = ["video=colorhist", "caption=none", "audio=none", "text=none", "progress=false",
                 "+video.binz=4"]  # fmt: skip
    with pytest.raises(OptionsError, match=r"^video\.binz: unknown option .*bins, fps"):
        compose_and_run(overrides, dataset, tmp_path / "out")


def test_core_settings_are_typed_at_composition():
    with pytest.raises(Exception, match="max_workers"):
        compose(["max_workers=several"])
    with pytest.raises(Exception, match="frame_cache_mb"):
        compose(["media.frame_cache_mb=big"])


def test_core_defaults_come_from_the_dataclasses_alone():
    cfg, _ = compose([])
    defaults = RunConfig(input="-")
    assert cfg["max_workers"] == defaults.max_workers == 1
    assert cfg["models"]["tiny"] is defaults.models.tiny is False
    assert cfg["media"]["frame_cache_mb"] == defaults.media.frame_cache_mb
    index = defaults.store.index
    assert cfg["store"] == {"name": "lancedb", "path": None, "export_pickle": None,
                            "index": {"min_rows": index.min_rows, "kind": index.kind,
                                      "fold_fraction": index.fold_fraction}}  # fmt: skip
    assert cfg["executor"]["name"] == "local"
    yaml = (REPO / "egorag_core" / "conf" / "config.yaml").read_text()
    body = yaml.split("hydra:")[0]
    for key in ("frame_cache_mb:", "max_workers:", "cache_dir:", "output_dir:"):
        assert key not in body, f"{key} is defaulted in config.yaml and in config.py"


def test_a_bad_core_value_given_to_run_is_a_config_error(tmp_path, multi_scene_video):
    dataset = VideoDataset.from_path(str(multi_scene_video))

    def edit(cfg):
        cfg["max_workers"] = "two"

    with pytest.raises(ConfigError, match="max_workers"):
        compose_and_run(["video=none", "caption=none", "audio=none", "text=none"], dataset,
                        tmp_path / "out", edit=edit)  # fmt: skip
