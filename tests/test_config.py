"""Config groups contributed by installed packages, EGORAG_CONFIG_PATH, presets."""

from __future__ import annotations

import re
import subprocess

import pytest
from cli_helpers import REPO, cli_env, egorag_command, run_cli

from egorag_core.config import compose
from egorag_core.confpath import config_folders


def group_lines(help_text: str) -> dict[str, str]:
    """The ``group: options`` lines of the help's "Configuration groups" section."""
    out = {}
    section = help_text.split("== Configuration groups ==")[-1].split("== Config ==")[0]
    for line in section.splitlines():
        m = re.match(r"^([a-z/]+): (.+)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def test_help_lists_options_of_installed_plugins():
    proc = run_cli("--help", timeout=60)
    assert proc.returncode == 0, proc.stderr
    groups = group_lines(proc.stdout)
    assert groups["video"] == "colorhist, none"
    assert groups["executor"] == "local, ray"
    assert groups["caption"] == "colorname, none"
    assert groups["scenes"] == "adaptive, content, fixed, precomputed"
    assert groups["text"] == "minilm, none"
    assert "tiny" in groups["preset"]


def test_help_without_the_plugin_does_not_list_its_options():
    proc = run_cli("--help", env=cli_env(EGORAG_PLUGINS="scenes,minilm"), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert group_lines(proc.stdout)["video"] == "none"


def test_cfg_job_shows_the_plugin_option():
    proc = run_cli("--cfg", "job", "video=colorhist", "input=x", timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert re.search(r"^video:\n  bins: 8\n", text, re.M), text
    assert "input: x" in text


def test_cfg_job_override_of_plugin_option():
    proc = run_cli("--cfg", "job", "video=colorhist", "video.bins=3", "input=x", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^video:\n  bins: 3\n", proc.stdout, re.M)


def test_compose_with_plugin_group():
    cfg, choices = compose(["video=colorhist", "caption=colorname"])
    assert cfg["video"] == {"bins": 8, "fps": 2.0, "max_frames": 8, "seconds_per_scene": 0.0}
    assert cfg["caption"] == {
        "source": "keyframes",
        "fps": 1.0,
        "max_frames": 4,
        "batch_size": 1,
    }
    assert choices["video"] == "colorhist"
    assert choices["caption"] == "colorname"
    assert choices["scenes"] == "content"


def test_compose_without_the_plugin_has_no_such_option(monkeypatch):
    """`video` is an optional default: without the plugin, its section is absent (the pipeline
    then stops with one line naming video=colorhist, see test_default_missing)."""
    monkeypatch.setenv("EGORAG_PLUGINS", "scenes,minilm")
    cfg, choices = compose(["video=colorhist"])
    assert cfg["video"] is None
    assert choices["video"] == "colorhist"


def test_config_path_env_adds_a_folder(tmp_path, monkeypatch):
    folder = tmp_path / "myconf"
    (folder / "video").mkdir(parents=True)
    (folder / "video" / "coarse.yaml").write_text(
        "# four bins\nname: colorhist\nbins: 4\nfps: 1.0\nmax_frames: 2\nseconds_per_scene: 0\n"
    )
    assert "name" not in (compose(["video=coarse"])[0].get("video") or {})
    monkeypatch.setenv("EGORAG_CONFIG_PATH", str(folder))
    assert ("egorag-config-path", folder.resolve()) in config_folders()
    cfg, choices = compose(["video=coarse"])
    assert cfg["video"] == {"name": "colorhist", "bins": 4, "fps": 1.0, "max_frames": 2,
                            "seconds_per_scene": 0}  # fmt: skip
    assert choices["video"] == "coarse"
    # and the CLI sees it too
    proc = run_cli("--help", env=cli_env(EGORAG_CONFIG_PATH=str(folder)), timeout=60)
    assert group_lines(proc.stdout)["video"] == "coarse, colorhist, none"


def test_preset_tiny_sets_models_tiny():
    cfg, _ = compose([])
    assert cfg["models"]["tiny"] is False
    cfg, choices = compose(["preset=tiny"])
    assert cfg["models"]["tiny"] is True
    assert choices["preset"] == "tiny"


def test_preset_tiny_ships_in_the_package_and_works_from_any_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    cfg, _ = compose(["preset=tiny"])
    assert cfg["models"]["tiny"] is True
    proc = subprocess.run([*egorag_command(), "preset=tiny", "--cfg", "job"], cwd=tmp_path,
                          env=cli_env(), capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "tiny: true" in proc.stdout


def test_a_conf_folder_in_the_working_directory_is_not_read(monkeypatch, tmp_path):
    """Only installed packages and EGORAG_CONFIG_PATH add config; the cwd does not."""
    (tmp_path / "conf" / "preset").mkdir(parents=True)
    (tmp_path / "conf" / "preset" / "mine.yaml").write_text("# @package _global_\nmax_workers: 3\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception, match="mine"):
        compose(["preset=mine"])
    monkeypatch.setenv("EGORAG_CONFIG_PATH", str(tmp_path / "conf"))
    cfg, _ = compose(["preset=mine"])
    assert cfg["max_workers"] == 3


def test_seed_defaults_are_selected():
    """With no overrides the seed's defaults apply (even when their plugins are absent)."""
    _, choices = compose([])
    assert choices["video"] == "qwen2vl"
    assert choices["caption"] == "captioner2"
    assert choices["audio/asr"] == "faster_whisper"
    assert choices["audio/embedding"] == "clap"
    assert choices["text"] == "minilm"
    assert choices["scenes"] == "content"


def test_repo_sweep_preset_composes_with_the_config_path(monkeypatch):
    monkeypatch.setenv("EGORAG_CONFIG_PATH", str(REPO / "conf"))
    monkeypatch.delenv("EGORAG_PLUGINS")
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    from egorag_core.config import register_schema

    register_schema()
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="egorag_core.conf", version_base=None):
        cfg = hydra_compose("config", ["input=-", "+sweep=encoders"], return_hydra_config=True)
    assert dict(cfg.hydra.sweeper.params) == {"video": "xclip,qwen2vl",
                                              "caption": "captioner1,captioner2"}  # fmt: skip
