"""A selected plugin or model that cannot be had stops the run before any work, with one line
naming it and how to fix it."""

from __future__ import annotations

from cli_helpers import cli_env, run_cli


def output_lines(proc) -> list[str]:
    return [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]


def assert_stopped_before_work(out) -> None:
    assert not (out / "index").exists()
    assert not (out / "run_report.json").exists()


def test_seed_defaults_without_their_plugins(tmp_path, noaudio_video):
    out = tmp_path / "out"
    proc = run_cli(f"input={noaudio_video}", f"output_dir={out}", "progress=false",
                   env=cli_env(EGORAG_PLUGINS="scenes,minilm"), timeout=60)  # fmt: skip
    assert proc.returncode == 2
    lines = output_lines(proc)
    assert len(lines) == 1, lines
    line = lines[0]
    assert "video=qwen2vl" in line
    assert "install" in line and "video=none" in line  # how to fix it
    assert_stopped_before_work(out)


def test_selected_option_of_a_plugin_not_loaded(tmp_path, noaudio_video):
    out = tmp_path / "out"
    proc = run_cli("video=colorhist", "caption=none", "audio=none", f"input={noaudio_video}",
                   f"output_dir={out}", "progress=false",
                   env=cli_env(EGORAG_PLUGINS="scenes,minilm"), timeout=60)  # fmt: skip
    assert proc.returncode == 2
    lines = output_lines(proc)
    assert len(lines) == 1, lines
    assert "video=colorhist" in lines[0]
    assert_stopped_before_work(out)


def test_model_folder_not_found(tmp_path, noaudio_video):
    out = tmp_path / "out"
    proc = run_cli("video=colorhist", "caption=colorname", "audio=none",
                   "text.model=/nonexistent/folder", f"input={noaudio_video}",
                   f"output_dir={out}", "progress=false", timeout=60)  # fmt: skip
    assert proc.returncode == 2
    lines = output_lines(proc)
    assert len(lines) == 1, lines
    assert "text.model=/nonexistent/folder" in lines[0]
    assert "not found" in lines[0]
    assert_stopped_before_work(out)


def test_hub_model_not_cached_offline(tmp_path, noaudio_video):
    out = tmp_path / "out"
    proc = run_cli("video=none", "caption=none", "audio=none",
                   "text.model=nobody/not-a-real-model-egorag", f"input={noaudio_video}",
                   f"output_dir={out}", "progress=false", timeout=60)  # fmt: skip
    assert proc.returncode == 2
    lines = output_lines(proc)
    assert len(lines) == 1, lines
    assert "text.model=nobody/not-a-real-model-egorag" in lines[0]
    assert "text.model=/path/to/local/folder" in lines[0]
    assert_stopped_before_work(out)
