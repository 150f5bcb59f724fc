"""faster-whisper with the packaged real tiny.en weights on a real multi-scene speech video."""

import dataclasses
import json

import pytest
from egorag_core.components import Settings
from egorag_core.errors import OptionsError
from egorag_core.models import ModelUnavailable
from egorag_core.testing import make_video

from egorag_whisper.faster import FasterWhisperASR, compute_type

#: Words of each scene's sentence that tiny.en gets right.
EXPECTED = [{"quick", "brown", "fox"}, {"cup", "tea", "milk"}, {"sunny", "warm", "today"},
            {"phone", "kitchen"}]


def words_of(text):
    return {t.strip(".,!?").lower() for t in text.split()}


def test_words_land_in_their_scenes_and_asr_runs_once(speech_video, egorag_component, egorag_job):
    path, scenes = speech_video
    component = egorag_component("audio/asr", "faster_whisper")
    assert isinstance(component, FasterWhisperASR)
    spec = component.models()[0]
    assert spec.model_id.endswith("model") and not spec.random_weights  # packaged tiny.en
    with egorag_job(path, scenes) as job:
        component.process(job)
        results = job.results
    for expected, result in zip(EXPECTED, results, strict=True):
        assert expected <= words_of(result.transcript), result.transcript
        for word in result.extras["words"]:
            assert word["start"] <= word["end"]
        json.dumps(result.extras)
    assert component.transcribe_calls == 1
    assert component.stats() == {"transcribe_calls": 1, "mode": "video", "batched": True}
    assert job.scheduler.load_counts() == {spec.key: 1}
    # Words carry absolute times: the third scene's words start after its cut.
    assert results[2].extras["words"][0]["start"] >= scenes[2].start - 0.3
    assert results[2].extras["segments"][0]["text"] == results[2].transcript


def test_scene_mode_transcribes_each_scene(speech_video, egorag_component, egorag_job):
    path, scenes = speech_video
    component = egorag_component("audio/asr", "faster_whisper", mode="scene")
    with egorag_job(path, scenes[:2]) as job:
        component.process(job)
    assert component.transcribe_calls == 2
    assert EXPECTED[1] <= words_of(job.results[1].transcript)
    assert job.results[1].extras["words"][0]["start"] >= scenes[1].start


@pytest.mark.parametrize(("audio", "passes"),  # a tone has no speech for the VAD: no pass
                         [("aevalsrc=0", 0), ("sine=frequency=440", 0), (None, 0)])
def test_silent_tone_and_no_audio_give_empty_transcripts(
    tmp_path, egorag_component, egorag_job, audio, passes
):
    path = make_video(tmp_path / "v.mp4", audio=audio)
    component = egorag_component("audio/asr", "faster_whisper")
    with egorag_job(path) as job:
        component.process(job)
    assert job.results[0].transcript == ""
    assert job.results[0].extras["words"] == []
    assert component.transcribe_calls == passes  # silence and no audio: no pass at all


def test_unavailable_model_is_one_line(egorag_component, egorag_settings):
    settings = Settings(cache_dir=egorag_settings.cache_dir, show_progress=False)
    missing = str(egorag_settings.cache_dir / "missing")
    for model in ["large-v3", "packaged:nope", missing]:
        with pytest.raises(ModelUnavailable) as err:
            egorag_component("audio/asr", "faster_whisper", settings=settings, model=model)
        message = str(err.value)
        assert "\n" not in message and f"audio.asr.model={model}" in message


def test_unknown_mode_is_one_line_naming_the_option(egorag_component):
    with pytest.raises(OptionsError) as err:
        egorag_component("audio/asr", "faster_whisper", mode="sentence")
    assert str(err.value) == "audio.asr.mode=sentence: expected video or scene"


def test_mistyped_option_names_the_key_and_the_yaml(egorag_component):
    with pytest.raises(OptionsError) as err:
        egorag_component("audio/asr", "faster_whisper", beam_size="wide")
    message = str(err.value)
    assert "audio.asr.beam_size" in message and "faster_whisper.yaml" in message
    assert "\n" not in message


def test_compute_type_follows_device(egorag_component):
    component = egorag_component("audio/asr", "faster_whisper")
    assert compute_type(component.options, "cuda") == "float16"
    assert compute_type(component.options, "cpu") == "int8"
    assert component.spec().key.endswith(":int8")  # egorag_settings run on the CPU
    fixed = dataclasses.replace(component.options, compute_type="float32")
    assert compute_type(fixed, "cpu") == "float32"
    on_gpu = egorag_component("audio/asr", "faster_whisper",
                              settings=dataclasses.replace(component.settings, device="cuda"))
    assert on_gpu.spec().key.endswith(":float16")
    assert on_gpu.spec().estimated_bytes == 2 * component.spec().estimated_bytes


def test_late_audio_words_land_in_the_scene_that_shows_them(
    speech_video, tmp_path, egorag_component, egorag_job
):
    """An audio stream that starts one scene (3.5 s) after the video: each sentence is heard
    while the next scene is shown, so its words belong there."""
    from egorag_core.testing import delay_audio

    path, scenes = speech_video
    late = delay_audio(path, tmp_path / "late.mp4", scenes[1].start)
    component = egorag_component("audio/asr", "faster_whisper")
    with egorag_job(late, scenes) as job:
        component.process(job)
    assert job.results[0].transcript == ""
    for expected, result in zip(EXPECTED[:3], job.results[1:], strict=True):
        assert expected <= words_of(result.transcript), result.transcript
