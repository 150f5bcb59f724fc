"""Registration through the entry point, and the Hydra options the package ships."""

from __future__ import annotations

import subprocess
import sys

from egorag_core import Settings
from egorag_core.plugins import load_plugins


def test_registers_video_encoder_and_captioner(monkeypatch):
    monkeypatch.setenv("EGORAG_PLUGINS", "qwen2vl")
    host = load_plugins()
    assert [p.error for p in host.plugins if p.name == "qwen2vl"] == [None]
    video = host.get("video", "qwen2vl").build({"name": "qwen2vl"}, Settings())
    caption = host.get("caption", "captioner2").build({"name": "captioner2"}, Settings())
    assert type(video).__name__ == "Qwen2VLVideoEncoder"
    assert type(caption).__name__ == "Qwen2VLCaptioner"


def test_plugin_import_is_light():
    code = ("import sys, egorag_qwen2vl.plugin; "
            "print(any(m in sys.modules for m in ('torch', 'transformers')))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_config_options_compose():
    from egorag_core.config import compose

    cfg, choices = compose(["video=qwen2vl", "caption=captioner2"])
    assert choices["video"] == "qwen2vl" and choices["caption"] == "captioner2"
    video, caption = cfg["video"], cfg["caption"]
    assert video["name"] == "qwen2vl" and caption["name"] == "captioner2"
    assert video["model"] == caption["model"] == "Qwen/Qwen2-VL-7B-Instruct"
    assert video["max_pixels"] == caption["max_pixels"] == 360 * 420
    assert video["pooling"] == "mean" and video["fps"] == caption["fps"] == 1.0
    assert caption["prompt"] == "Describe this scene briefly." and caption["max_new_tokens"] == 64
