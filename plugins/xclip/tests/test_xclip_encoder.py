"""The xclip encoder on real video files through open_job, with tiny random-weight models."""

from __future__ import annotations

import numpy as np
from egorag_core import ModelScheduler, Scene
from egorag_core.testing import open_job, sample_video

from egorag_xclip.encoder import XClipVideoEncoder


def projection_dim(encoder: XClipVideoEncoder) -> int:
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(encoder.xclip_source.location).projection_dim


def num_frames(encoder: XClipVideoEncoder) -> int:
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(encoder.xclip_source.location)
    return config.vision_config.num_frames


def test_tiny_models_are_marked_random(xclip_settings):
    encoder = XClipVideoEncoder({}, xclip_settings)
    assert all(spec.random_weights for spec in encoder.models())
    assert len({spec.key for spec in encoder.models()}) == 2


def test_real_footage_gives_projection_dim_and_eight_keyframes(xclip_settings):
    encoder = XClipVideoEncoder({}, xclip_settings)
    with open_job(sample_video("bikes.mp4"), settings=xclip_settings) as job:
        encoder.process(job)
        height, width = job.info.height, job.info.width
    result = job.results[0]
    assert result.video.dtype == np.float32
    assert result.video.shape == (projection_dim(encoder),)
    assert np.isfinite(result.video).all()
    assert result.keyframes.shape == (num_frames(encoder), height, width, 3)
    assert result.keyframes.dtype == np.uint8
    times = result.keyframe_times
    assert len(times) == len(set(times)) == len(result.keyframes)
    assert times == sorted(times)
    distinct = {frame.tobytes() for frame in result.keyframes}
    assert len(distinct) == len(result.keyframes)  # real footage: no two frames identical


def test_one_frame_scene_and_capped_long_scene(xclip_settings, xclip_two_scene_video):
    options = {"sample_fps": 10.0, "max_frames": 12}
    encoder = XClipVideoEncoder(options, xclip_settings)
    scenes = [Scene(0.0, 1.02), Scene(1.02, 1.08), Scene(2.0, 4.0)]  # the middle: 1 frame
    with open_job(xclip_two_scene_video, scenes, settings=xclip_settings) as job:
        sampled = []
        original = job.frames.sample

        def spy(scene, fps=1.0, max_frames=32):
            frames = original(scene, fps=fps, max_frames=max_frames)
            sampled.append(len(frames))
            return frames

        job.frames.sample = spy
        encoder.process(job)
    assert sampled == [10, 1, 12]  # 20 frames wanted in the last scene, capped at 12
    assert [len(r.keyframes) for r in job.results] == [8, 1, 8]
    dim = projection_dim(encoder)
    for scene, result in zip(scenes, job.results, strict=True):
        assert result.video.shape == (dim,)
        assert all(scene.start - 0.1 <= t < scene.end for t in result.keyframe_times)
        assert result.keyframe_times == sorted(result.keyframe_times)


def test_models_released_after_the_video_stage(xclip_settings, xclip_two_scene_video):
    encoder = XClipVideoEncoder({}, xclip_settings)
    scheduler = ModelScheduler("cpu", budget_bytes=1)
    scheduler.plan([("video", encoder.models()), ("caption", [])])
    scenes = [Scene(0.0, 2.0), Scene(2.0, 4.0)]
    with open_job(
        xclip_two_scene_video, scenes, scheduler=scheduler, settings=xclip_settings
    ) as job:
        encoder.process(job)
        scheduler.stage_done("video")
    keys = [spec.key for spec in encoder.models()]
    assert scheduler.resident_keys == []
    assert scheduler.load_counts() == {key: 1 for key in keys}  # once per video, 2 scenes
    report = scheduler.report()["models"]
    assert {key: report[key]["releases"] for key in keys} == {key: 1 for key in keys}
    assert all(report[key]["random_weights"] for key in keys)
