"""Registration through the entry point, and the Hydra options the package ships."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

from egorag_core import Settings
from egorag_core.plugins import load_plugins

from egorag_qwen2vl.options import CaptionOptions, VideoOptions


def test_registers_video_encoder_and_captioner(monkeypatch):
    monkeypatch.setenv("EGORAG_PLUGINS", "qwen2vl")
    host = load_plugins()
    assert [p.error for p in host.plugins if p.name == "qwen2vl"] == [None]
    video = host.find("video", "qwen2vl").build({}, Settings())
    caption = host.find("caption", "captioner2").build({}, Settings())
    assert type(video).__name__ == "Qwen2VLVideoEncoder"
    assert type(caption).__name__ == "Qwen2VLCaptioner"
    assert isinstance(video.options, VideoOptions) and video.key_prefix == "video"
    assert isinstance(caption.options, CaptionOptions) and caption.key_prefix == "caption"


def test_plugin_and_options_import_is_light():
    code = ("import sys, egorag_qwen2vl.plugin, egorag_qwen2vl.options; "
            "print(any(m in sys.modules for m in ('torch', 'transformers')))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_options_have_no_defaults():
    """The YAML files hold every value; the dataclasses are only the schema."""
    for schema in (VideoOptions, CaptionOptions):
        for f in dataclasses.fields(schema):
            assert f.default is dataclasses.MISSING, f.name
            assert f.default_factory is dataclasses.MISSING, f.name


def test_config_options_compose():
    from egorag_core.config import compose

    cfg, choices = compose(["video=qwen2vl", "caption=captioner2"])
    assert choices["video"] == "qwen2vl" and choices["caption"] == "captioner2"
    video, caption = cfg["video"], cfg["caption"]
    assert "name" not in video and "name" not in caption  # the choice names the component
    assert set(video) == {f.name for f in dataclasses.fields(VideoOptions)}
    assert set(caption) == {f.name for f in dataclasses.fields(CaptionOptions)}
    assert video["model"] == caption["model"] == "Qwen/Qwen2-VL-7B-Instruct"
    assert video["max_pixels"] == caption["max_pixels"] == 360 * 420
    assert video["pooling"] == "mean" and video["fps"] == caption["fps"] == 1.0
    assert caption["prompt"] == "Describe this scene briefly." and caption["max_new_tokens"] == 64
