"""The captioner1 captioner on real video files through open_job, with a tiny BLIP."""

from __future__ import annotations

import numpy as np
from egorag_core import ModelScheduler, Scene
from egorag_core.testing import open_job, sample_video

from egorag_blip.captioner import BlipCaptioner


def test_tiny_model_is_marked_random(blip_settings):
    (spec,) = BlipCaptioner({}, blip_settings).models()
    assert spec.random_weights
    assert spec.key.startswith("blip-caption:")


def test_captions_from_sampled_frames_of_real_footage(blip_settings):
    captioner = BlipCaptioner({}, blip_settings)
    scenes = [Scene(0.0, 5.0), Scene(5.0, 10.0)]
    with open_job(sample_video("bikes.mp4"), scenes, settings=blip_settings) as job:
        captioner.process(job)
    for result in job.results:
        assert isinstance(result.caption_text, str) and result.caption_text.strip()
        assert result.caption_text == result.caption_text.strip()
        assert result.caption_text.isprintable()
        assert result.keyframes is None


def test_uses_handed_keyframes_at_most_five_and_drops_them(blip_settings, blip_two_scene_video):
    captioner = BlipCaptioner({}, blip_settings)
    seen = []
    original = captioner.caption_frames

    def spy(model, processor, frames):
        seen.append(frames.copy())
        return original(model, processor, frames)

    captioner.caption_frames = spy
    scenes = [Scene(0.0, 2.0), Scene(2.0, 2.05)]
    with open_job(blip_two_scene_video, scenes, settings=blip_settings) as job:
        handed = job.frames.sample(scenes[0], fps=4.0, max_frames=8)
        job.results[0].keyframes = handed.array  # as the video stage leaves them
        job.frames.sample = None  # scene 0 must not decode: it has keyframes
        job.results[1].keyframes = job.frames.get([20]).array  # one frame
        captioner.process(job)
    assert [len(f) for f in seen] == [5, 1]
    handed_bytes = [f.tobytes() for f in handed.array]
    positions = [handed_bytes.index(f.tobytes()) for f in seen[0]]
    assert positions == sorted(set(positions))  # 5 distinct keyframes, time order
    assert all(r.keyframes is None for r in job.results)
    assert all(r.caption_text for r in job.results)


def test_model_released_after_the_caption_stage(blip_settings, blip_two_scene_video):
    captioner = BlipCaptioner({"batch_size": 2}, blip_settings)
    scheduler = ModelScheduler("cpu", budget_bytes=1)
    scheduler.plan([("video", []), ("caption", captioner.models()), ("text", [])])
    scenes = [Scene(0.0, 2.0), Scene(2.0, 4.0)]
    with open_job(blip_two_scene_video, scenes, scheduler=scheduler, settings=blip_settings) as job:
        captioner.process(job)
        assert scheduler.stage_done("caption") == [captioner.spec.key]
    assert scheduler.resident_keys == []
    assert scheduler.load_counts() == {captioner.spec.key: 1}
    assert all(isinstance(r.caption_text, str) and r.caption_text for r in job.results)
    assert np.all([r.keyframes is None for r in job.results])
