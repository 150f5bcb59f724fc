"""Hook specs, plugin discovery through entry points, and ``egorag plugins``."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from cli_helpers import FAST, REPO, cli_env, run_cli

from egorag_core import hookspecs
from egorag_core.plugins import load_plugins, selected_entry_points
from egorag_core.run import GPU_DEVICE_NODES

BROKEN_SRC = REPO / "tests" / "plugins" / "brokenplugin" / "egorag_brokenplugin"


def hookspec_functions():
    return [
        (name, fn)
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "egorag_spec")
    ]


def test_the_six_extension_points_are_hookspecs():
    names = {name for name, _ in hookspec_functions()}
    assert names == set(hookspecs.HOOK_KINDS)
    assert set(hookspecs.HOOK_KINDS.values()) == {"scenes", "video", "caption", "ocr", "audio",
                                                   "text"}  # fmt: skip


@pytest.mark.parametrize("name", sorted(hookspecs.HOOK_KINDS))
def test_hookspec_has_full_docstring_and_typed_signature(name):
    fn = getattr(hookspecs, name)
    doc = inspect.getdoc(fn) or ""
    lines = [line for line in doc.splitlines() if line.strip()]
    assert len(lines) >= 4, f"{name}: docstring too short: {doc!r}"
    assert ":param register:" in doc
    assert "config group" in doc.lower()
    sig = inspect.signature(fn)
    assert list(sig.parameters) == ["register"]
    assert sig.parameters["register"].annotation != inspect.Parameter.empty
    assert sig.return_annotation != inspect.Signature.empty


def test_every_hook_is_documented_in_readme_or_contributing():
    docs = ""
    for name in ("README.md", "CONTRIBUTING.md"):
        path = REPO / name
        if path.is_file():
            docs += path.read_text(encoding="utf-8")
    missing = [name for name in hookspecs.HOOK_KINDS if name not in docs]
    assert not missing, f"hooks not documented in README.md / CONTRIBUTING.md: {missing}"


def test_registration_from_installed_entry_point():
    host = load_plugins()
    reg = host.get("video", "colorhist")
    assert reg.plugin == "testplugin"
    assert reg.kind == "video"
    assert reg.factory == "egorag_testplugin.components:ColorHistogramEncoder"
    assert host.get("caption", "colorname").plugin == "testplugin"
    info = {p.name: p for p in host.plugins}["testplugin"]
    assert info.distribution == "egorag-testplugin"
    assert info.version == "0.0.1"
    assert info.module == "egorag_testplugin.plugin"
    assert info.error is None
    # the factory string is resolved lazily, into a working component
    from egorag_core.components import Settings, StageComponent

    component = reg.build({"bins": 4}, Settings())
    assert isinstance(component, StageComponent)
    assert type(component).__name__ == "ColorHistogramEncoder"
    assert component.models()[0].key == "colorhist-bins:4"


def test_unknown_component_names_what_is_installed():
    host = load_plugins()
    with pytest.raises(KeyError, match="colorhist"):
        host.get("video", "nosuchencoder")


def test_env_var_restricts_which_plugins_load(monkeypatch):
    monkeypatch.setenv("EGORAG_PLUGINS", "testplugin")
    host = load_plugins()
    assert [p.name for p in host.plugins] == ["builtin", "testplugin"]
    assert set(host.registry["scenes"]) == {"fixed", "precomputed"}  # the core's own
    assert host.registry["text"] == {}
    assert set(host.registry["video"]) == {"colorhist"}

    monkeypatch.setenv("EGORAG_PLUGINS", "")
    assert [p.name for p in load_plugins().plugins] == ["builtin"]
    assert selected_entry_points() == []

    monkeypatch.setenv("EGORAG_PLUGINS", " scenes , minilm ")
    assert sorted(p.name for p in load_plugins().plugins) == ["builtin", "minilm", "scenes"]


@pytest.fixture()
def broken_plugin_path(tmp_path):
    """Install tests/plugins/brokenplugin as a distribution (a dist-info with its entry point)
    into a folder, as ``pip install --target`` would."""
    site = tmp_path / "site"
    shutil.copytree(BROKEN_SRC, site / "egorag_brokenplugin")
    dist = site / "egorag_brokenplugin-0.0.2.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: egorag-brokenplugin\nVersion: 0.0.2\n"
    )
    (dist / "entry_points.txt").write_text(
        "[egorag]\nbrokenplugin = egorag_brokenplugin.plugin\n"
    )
    (dist / "RECORD").write_text("")
    return site


def test_plugin_that_fails_to_import_is_reported_and_others_load(
    broken_plugin_path, monkeypatch
):
    monkeypatch.syspath_prepend(str(broken_plugin_path))
    importlib.invalidate_caches()
    monkeypatch.setenv("EGORAG_PLUGINS", "scenes,brokenplugin,testplugin")
    host = load_plugins()
    by_name = {p.name: p for p in host.plugins}
    assert set(by_name) == {"builtin", "scenes", "brokenplugin", "testplugin"}
    broken = by_name["brokenplugin"]
    assert broken.distribution == "egorag-brokenplugin"
    assert broken.version == "0.0.2"
    assert broken.error is not None
    assert "ImportError" in broken.error
    assert "not-installed-dependency" in broken.error
    assert by_name["testplugin"].error is None
    assert by_name["scenes"].error is None
    assert host.get("video", "colorhist").plugin == "testplugin"
    assert "content" in host.registry["scenes"]


def test_plugins_command_reports_broken_plugin(broken_plugin_path):
    env = cli_env(
        EGORAG_PLUGINS="scenes,brokenplugin,testplugin",
        PYTHONPATH=os.pathsep.join([str(broken_plugin_path), os.environ.get("PYTHONPATH", "")]),
    )
    proc = run_cli("plugins", env=env, timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "brokenplugin (egorag-brokenplugin 0.0.2)" in out
    assert "FAILED TO LOAD: ImportError" in out
    assert "not-installed-dependency" in out
    assert "testplugin (egorag-testplugin 0.0.1)" in out
    assert "video=colorhist" in out
    assert "scenes=content" in out


def test_plugins_command_lists_name_version_registrations():
    proc = run_cli("plugins", timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    header = {line.split(" ")[0]: line for line in lines if not line.startswith(" ")}
    assert set(header) == {"builtin", "scenes", "minilm", "testplugin"}
    assert header["testplugin"].startswith("testplugin (egorag-testplugin 0.0.1)")
    assert header["minilm"].startswith("minilm (egorag-minilm ")
    start = lines.index(header["testplugin"])
    block = []
    for line in lines[start + 1 :]:
        if not line.startswith(" "):
            break
        block.append(line.strip())
    assert block == ["video=colorhist - RGB histograms", "caption=colorname - dominant colour"]
    for option in ("content", "adaptive", "fixed", "precomputed"):
        assert f"scenes={option}" in proc.stdout
    assert "text=minilm" in proc.stdout


PROBE = textwrap.dedent(
    """
    import json, sys
    from egorag_core.cli import main
    out = sys.argv[1]
    sys.argv = ["egorag", *sys.argv[2:]]
    code = None
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    heavy = ["torch", "transformers", "sentence_transformers", "ray"]
    with open(out, "w") as f:
        json.dump({"code": code, "heavy": [m for m in heavy if m in sys.modules],
                   "plugin_modules": sorted(m for m in sys.modules
                                            if m.startswith(("egorag_testplugin",
                                                             "egorag_minilm",
                                                             "egorag_scenes")))}, f)
    """
)


@pytest.mark.parametrize("args", [["--help"], ["plugins"]], ids=["help", "plugins"])
def test_help_and_plugins_do_not_import_torch(tmp_path, args):
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    result = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, str(script), str(result), *args],
        cwd=REPO, env=cli_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.exists(), proc.stderr
    data = json.loads(result.read_text())
    assert data["code"] in (0, None), proc.stdout + proc.stderr
    assert data["heavy"] == [], f"egorag {' '.join(args)} imported {data['heavy']}"
    if args == ["--help"]:
        # config groups come from the plugins' conf/ folders, found without importing them
        assert "video: colorhist, none" in proc.stdout
        assert data["plugin_modules"] == []


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or any(map(os.path.exists, GPU_DEVICE_NODES)),
    reason="device=auto asks torch where a GPU may be",
)
def test_a_run_imports_torch_only_for_a_model_that_needs_it(tmp_path, multi_scene_video):
    """device=auto on a machine without a GPU: a run of stages without torch models never
    imports torch (so the audio stages of a full run start without it)."""
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    result = tmp_path / "result.json"
    args = [f"input={multi_scene_video}", f"output_dir={tmp_path / 'out'}", "device=auto",
            *FAST]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, str(script), str(result), *args],
        cwd=REPO, env=cli_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    data = json.loads(result.read_text())
    assert data["code"] in (0, None), proc.stdout[-2000:] + proc.stderr[-2000:]
    assert (tmp_path / "out" / "index").is_dir()
    # transformers' logging (no torch) is imported to quiet the model loads
    assert set(data["heavy"]) <= {"transformers"}, f"the run imported {data['heavy']}"


def test_help_does_not_import_torch_importtime(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c",
         "import sys; from egorag_core.cli import main; sys.argv=['egorag', '--help']; main()"],
        cwd=REPO, env=cli_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "hydra" in imported  # the probe works
    assert "torch" not in imported
    assert "ray" not in imported
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_hook_modules_do_not_import_heavy_libraries(tmp_path):
    """Loading every selected plugin (what `egorag plugins` does) keeps torch out."""
    code = (
        "import sys, json; from egorag_core.plugins import load_plugins; h = load_plugins(); "
        "print(json.dumps({'errors': [p.error for p in h.plugins if p.error], "
        "'torch': 'torch' in sys.modules}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=cli_env(),
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    assert data == {"errors": [], "torch": False}
