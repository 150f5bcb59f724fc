"""faster-whisper with the packaged real tiny.en weights on a real multi-scene speech video."""

import json

import pytest
from egorag_core.components import Settings
from egorag_core.models import ModelUnavailable
from egorag_core.scheduler import ModelScheduler
from egorag_core.testing import make_video, open_job

from egorag_whisper.faster import FasterWhisperASR

#: Words of each scene's sentence that tiny.en gets right.
EXPECTED = [{"quick", "brown", "fox"}, {"cup", "tea", "milk"}, {"sunny", "warm", "today"},
            {"phone", "kitchen"}]


def asr(cache_dir, **options):
    settings = Settings(tiny=True, cache_dir=cache_dir, show_progress=False)
    component = FasterWhisperASR({"name": "faster_whisper", **options}, settings)
    component.check()
    return component


def words_of(text):
    return {t.strip(".,!?").lower() for t in text.split()}


def test_words_land_in_their_scenes_and_asr_runs_once(speech_video, cache_dir):
    path, scenes = speech_video
    component = asr(cache_dir)
    assert component.models()[0].model_id.endswith("model")  # packaged tiny.en folder
    scheduler = ModelScheduler("cpu")
    with open_job(path, scenes, scheduler=scheduler, settings=component.settings) as job:
        component.process(job)
        results = job.results
    for expected, result in zip(EXPECTED, results, strict=True):
        assert expected <= words_of(result.transcript), result.transcript
        for word in result.extras["words"]:
            assert word["start"] <= word["end"]
        json.dumps(result.extras)
    assert component.transcribe_calls == 1
    assert list(scheduler.load_counts().values()) == [1]
    # Words carry absolute times: the third scene's words start after its cut.
    assert results[2].extras["words"][0]["start"] >= scenes[2].start - 0.3
    assert results[2].extras["segments"][0]["text"] == results[2].transcript


def test_scene_mode_transcribes_each_scene(speech_video, cache_dir):
    path, scenes = speech_video
    component = asr(cache_dir, mode="scene")
    with open_job(path, scenes[:2], settings=component.settings) as job:
        component.process(job)
    assert component.transcribe_calls == 2
    assert EXPECTED[1] <= words_of(job.results[1].transcript)
    assert job.results[1].extras["words"][0]["start"] >= scenes[1].start


@pytest.mark.parametrize("audio", ["aevalsrc=0", "sine=frequency=440", None])
def test_silent_tone_and_no_audio_give_empty_transcripts(tmp_path, cache_dir, audio):
    path = make_video(tmp_path / "v.mp4", audio=audio)
    component = asr(cache_dir)
    with open_job(path, settings=component.settings) as job:
        component.process(job)
    assert job.results[0].transcript == ""
    assert job.results[0].extras["words"] == []


def test_unavailable_model_is_one_line(cache_dir):
    settings = Settings(cache_dir=cache_dir, show_progress=False)
    for model in ["large-v3", "packaged:nope", str(cache_dir / "missing")]:
        with pytest.raises(ModelUnavailable) as err:
            FasterWhisperASR({"model": model}, settings).check()
        assert "\n" not in str(err.value) and "audio.asr.model" in str(err.value)


def test_compute_type_follows_device(cache_dir):
    settings = Settings(device="cuda", tiny=True, cache_dir=cache_dir)
    assert FasterWhisperASR({}, settings).compute_type("cuda") == "float16"
    assert FasterWhisperASR({}, settings).compute_type("cpu") == "int8"
    assert FasterWhisperASR({"compute_type": "float32"}, settings).compute_type("cpu") == "float32"
