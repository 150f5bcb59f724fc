"""The xclip encoder on real video files, with tiny random-weight models built from its YAML."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from egorag_core import ModelScheduler, ModelUnavailable, OptionsError, Scene, Settings
from egorag_core.testing import open_job, sample_video

import egorag_xclip
from egorag_xclip.encoder import XClipVideoEncoder

YAML = Path(egorag_xclip.__file__).parent / "conf" / "video" / "xclip.yaml"


@pytest.fixture()
def encoder(egorag_component) -> XClipVideoEncoder:
    return egorag_component("video", "xclip")


def xclip_config(encoder: XClipVideoEncoder):
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(encoder.spec("model").model_id)


def test_tiny_models_are_marked_random_and_keyed_by_role_and_dtype(encoder):
    clip, xclip = encoder.models()
    assert clip.random_weights and xclip.random_weights
    assert clip.key == f"clip-vision:{clip.model_id}:float32"
    assert xclip.key == f"xclip:{xclip.model_id}:float32"
    assert clip.model_id != xclip.model_id


def test_dtype_is_part_of_the_key(egorag_component, encoder):
    half = egorag_component("video", "xclip", dtype="bfloat16")
    pairs = zip(encoder.models(), half.models(), strict=True)
    for full, other in pairs:
        assert full.model_id == other.model_id
        assert full.key != other.key and other.key.endswith(":bfloat16")


def test_mistyped_option_names_the_key_and_the_yaml(egorag_component):
    with pytest.raises(OptionsError) as error:
        egorag_component("video", "xclip", sample_fps="fast")
    message = str(error.value)
    assert "video.sample_fps" in message
    assert str(YAML) in message


def test_missing_model_folder_names_the_option(egorag_component, tmp_path):
    settings = Settings(tiny=False, cache_dir=tmp_path, show_progress=False)
    missing = tmp_path / "no-such-clip"
    with pytest.raises(ModelUnavailable, match=f"video.clip_model={missing}: folder not found"):
        egorag_component("video", "xclip", settings=settings, clip_model=str(missing))


def test_real_footage_gives_projection_dim_and_eight_keyframes(encoder, egorag_job):
    with egorag_job(sample_video("bikes.mp4")) as job:
        encoder.process(job)
        height, width = job.info.height, job.info.width
    result = job.results[0]
    config = xclip_config(encoder)
    assert result.video.dtype == np.float32
    assert result.video.shape == (config.projection_dim,)
    assert np.isfinite(result.video).all()
    assert result.keyframes.shape == (config.vision_config.num_frames, height, width, 3)
    assert result.keyframes.dtype == np.uint8
    times = result.keyframe_times
    assert len(times) == len(set(times)) == len(result.keyframes)
    assert times == sorted(times)
    distinct = {frame.tobytes() for frame in result.keyframes}
    assert len(distinct) == len(result.keyframes)  # real footage: no two frames identical


def test_one_frame_scene_and_capped_long_scene(egorag_component, egorag_job, egorag_video):
    encoder = egorag_component("video", "xclip", sample_fps=10.0, max_frames=12)
    scenes = [Scene(0.0, 1.02), Scene(1.02, 1.08), Scene(2.0, 4.0)]  # the middle: 1 frame
    with egorag_job(egorag_video, scenes) as job:
        sampled = []
        original = job.frames.get

        def spy(indices):
            frames = original(indices)
            sampled.append(len(frames))
            return frames

        job.frames.get = spy
        encoder.process(job)
    assert sampled == [10, 1, 12]  # 20 frames wanted in the last scene, capped at 12
    assert [len(r.keyframes) for r in job.results] == [8, 1, 8]
    dim = xclip_config(encoder).projection_dim
    for scene, result in zip(scenes, job.results, strict=True):
        assert result.video.shape == (dim,)
        assert all(scene.start - 0.1 <= t < scene.end for t in result.keyframe_times)
        assert result.keyframe_times == sorted(result.keyframe_times)


def test_models_released_after_the_video_stage(encoder, egorag_settings, egorag_video):
    scheduler = ModelScheduler("cpu", budget_bytes=1)
    scheduler.plan([("video", encoder.models()), ("caption", [])])
    scenes = [Scene(0.0, 2.0), Scene(2.0, 4.0)]
    # open_job, not egorag_job: this test needs its own scheduler
    with open_job(egorag_video, scenes, scheduler=scheduler, settings=egorag_settings) as job:
        encoder.process(job)
        scheduler.stage_done("video")
    keys = [spec.key for spec in encoder.models()]
    assert scheduler.resident_keys == []
    assert scheduler.load_counts() == {key: 1 for key in keys}  # once per video, 2 scenes
    report = scheduler.report()["models"]
    assert {key: report[key]["releases"] for key in keys} == {key: 1 for key in keys}
    assert all(report[key]["random_weights"] for key in keys)


def record_batches(module, count) -> tuple[list[int], object]:
    """Wrap ``module``'s forward: the batch size of each call, ``count(batch)`` per call."""
    sizes: list[int] = []

    def hook(_module, args, kwargs, _output):
        pixels = kwargs.get("pixel_values", args[0] if args else None)
        sizes.append(count(len(pixels)))

    return sizes, module.register_forward_hook(hook, with_kwargs=True)


def split(count: int, size: int) -> list[int]:
    """The batch sizes of ``count`` items taken ``size`` at a time."""
    return [min(size, count - k) for k in range(0, count, size)]


def test_batches_cross_scenes_and_equal_one_scene_at_a_time(egorag_component, egorag_job):
    encoder = egorag_component(
        "video", "xclip", sample_fps=10.0, max_frames=12, batch_size=8, video_batch_size=3
    )
    scenes = [Scene(0.0, 0.6), Scene(0.6, 1.0), Scene(1.0, 1.04), Scene(1.04, 3.0),
              Scene(3.0, 7.5)]  # fmt: skip
    with egorag_job(sample_video("bikes.mp4"), scenes) as job:
        with (
            encoder.model(job, "clip_model") as (clip, _),
            encoder.model(job, "model") as (xclip, _),
        ):
            frames_per_video = xclip.config.vision_config.num_frames
            clip_sizes, clip_hook = record_batches(clip, lambda n: n)
            xclip_sizes, xclip_hook = record_batches(
                xclip.vision_model, lambda n: n // frames_per_video
            )
        wanted = [len(encoder.sample_scene(job, s)) for s in scenes]
        encoder.process(job)
        batched = [(r.keyframes, r.keyframe_times, r.video) for r in job.results]
        batched_calls = (list(clip_sizes), list(xclip_sizes))
        del clip_sizes[:], xclip_sizes[:]
        for i in range(len(scenes)):  # the reference: one scene per process call
            encoder.process(job.window(range(i, i + 1), job.frames))
        clip_hook.remove()
        xclip_hook.remove()
    assert wanted == [8, 8, 1, 12, 12]  # 6 and 4 at 10 fps, raised to X-CLIP's 8 frames
    total = sum(wanted)
    assert batched_calls == (split(total, 8), [3, 2])
    assert clip_sizes == [n for w in wanted for n in split(w, 8)]
    assert xclip_sizes == [1] * len(scenes)
    assert len(batched_calls[0]) < len(clip_sizes)
    assert encoder.stats() == {"clip_passes": len(batched_calls[0]) + len(clip_sizes),
                               "xclip_calls": 2 + len(scenes)}  # fmt: skip
    for (keyframes, times, video), result in zip(batched, job.results, strict=True):
        assert np.array_equal(keyframes, result.keyframes)
        assert times == result.keyframe_times
        np.testing.assert_allclose(video, result.video, rtol=1e-5, atol=1e-6)
    videos = np.stack([video for _, _, video in batched])
    assert len({v.tobytes() for v in videos}) == len(scenes)  # each scene its own embedding


def test_every_video_embedding_is_a_unit_vector(encoder, egorag_job):
    scenes = [Scene(0.0, 3.0), Scene(3.0, 10.0)]
    with egorag_job(sample_video("bikes.mp4"), scenes) as job:
        encoder.process(job)
    norms = np.linalg.norm(np.stack([r.video for r in job.results]), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)
    assert all(r.video.dtype == np.float32 for r in job.results)


def test_short_scene_hands_xclip_distinct_frames(encoder, egorag_job):
    """A 3 s scene at the YAML's 2 fps is 6 frames; bikes.mp4 has 75 there: X-CLIP must get
    ``num_frames`` distinct ones, not 6 padded by repeats."""
    scene = Scene(2.0, 5.0)
    with egorag_job(sample_video("bikes.mp4"), [scene]) as job:
        with encoder.model(job, "model") as (xclip, _):
            num_frames = xclip.config.vision_config.num_frames
            seen: list = []

            def keep(_module, args, kwargs, _output):
                seen.append(kwargs.get("pixel_values", args[0] if args else None))

            hook = xclip.vision_model.register_forward_hook(keep, with_kwargs=True)
        assert round(scene.duration * encoder.options.sample_fps) < num_frames
        encoder.process(job)
        hook.remove()
    (pixels,) = seen
    assert pixels.shape[0] == num_frames
    assert len({frame.numpy().tobytes() for frame in pixels}) == num_frames
    assert len(set(job.results[0].keyframe_times)) == num_frames
    times = job.results[0].keyframe_times
    assert all(scene.start <= t < scene.end for t in times) and times == sorted(times)


def test_frame_sampling_is_what_each_scene_reads(encoder, egorag_job):
    """The core decodes what ``frame_sampling()`` declares once per window: exactly what each
    scene reads, a short scene's raised rate included."""
    from egorag_core.window import needed_indices

    scenes = [Scene(0.0, 6.0), Scene(6.0, 9.0)]  # 12 and 6 frames at 2 fps
    with egorag_job(sample_video("bikes.mp4"), scenes) as job:
        declared = needed_indices(job.frames, scenes, [encoder.frame_sampling()])
        read = [set(encoder.sample_scene(job, s).indices) for s in scenes]
    assert read == declared
    assert len(read[1]) == encoder.keyframe_count() > 6  # 6 frames at 2 fps; raised to 8
