"""Scenes packed into one vision-tower call, and each scene preprocessed once for both stages
on one loaded Qwen2-VL (the inputs cache on the shared model)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from egorag_core import ModelScheduler, Scene

import egorag_qwen2vl.base as base
from egorag_qwen2vl.encoder import merged_tokens, packed_merged_tokens
from egorag_qwen2vl.preprocess import VideoInputs, VideoPreprocessConfig, preprocess_frames
from egorag_qwen2vl.shared import InputsCache, InputsKey, inputs_bytes

#: 1, 2 and 3 frames at 1 fps in egorag_video (4 s at 10 fps): grid_t 1, 1 and 2 when sampled
#: directly; the stages raise the last two to 4 frames (at least VIDEO_MIN_FRAMES).
SCENES = [Scene(0.0, 0.1), Scene(0.0, 2.0), Scene(1.0, 4.0)]


@pytest.fixture()
def preprocess_count(monkeypatch):
    """Counts every call of ``preprocess_video`` the components make."""
    calls = []
    real = base.preprocess_video

    def counted(frames, cfg, backend="auto"):
        calls.append(len(frames))
        return real(frames, cfg, backend)

    monkeypatch.setattr(base, "preprocess_video", counted)
    return calls


def test_packed_call_matches_one_scene_at_a_time(qwen, egorag_job, egorag_video):
    """Different frame counts and pixel budgets (grid t, h and w differ) in one call."""
    small = dataclasses.replace(qwen.preprocess, max_pixels=56 * 56)
    with egorag_job(egorag_video, SCENES) as job:
        arrays = [job.frames.sample(s, fps=1.0, max_frames=32).array for s in SCENES]
    videos = [preprocess_frames(a, qwen.preprocess) for a in arrays]
    videos.append(preprocess_frames(arrays[2], small))
    grids = [v.video_grid_thw.tolist()[0] for v in videos]
    assert grids == [[1, 8, 12], [1, 8, 12], [2, 8, 12], [2, 2, 4]]
    packed = packed_merged_tokens(qwen, videos)
    for video, tokens in zip(videos, packed, strict=True):
        alone = merged_tokens(qwen, video.pixel_values_videos, video.video_grid_thw)
        assert tokens.shape == alone.shape == (video.num_video_tokens, alone.shape[1])
        torch.testing.assert_close(tokens, alone, rtol=1e-5, atol=1e-5)


def _encode(egorag_component, egorag_job, egorag_video, **options):
    encoder = egorag_component("video", "qwen2vl", **options)
    with egorag_job(egorag_video, SCENES) as job:
        encoder.process(job)
        return [r.video for r in job.results], encoder.stats()


def test_batch_size_gives_the_embeddings_of_one_scene_per_call(
    egorag_component, egorag_job, egorag_video
):
    alone, one_stats = _encode(egorag_component, egorag_job, egorag_video, batch_size=1)
    packed, packed_stats = _encode(egorag_component, egorag_job, egorag_video, batch_size=3)
    assert one_stats["vision_calls"] == 3 and packed_stats["vision_calls"] == 1
    assert packed_stats["preprocess_calls"] == 3
    for a, b in zip(alone, packed, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    two, _ = _encode(egorag_component, egorag_job, egorag_video, batch_size=2, pooling="first")
    first, _ = _encode(egorag_component, egorag_job, egorag_video, batch_size=1, pooling="first")
    np.testing.assert_allclose(np.stack(two), np.stack(first), rtol=1e-5, atol=1e-6)


def _both_stages(egorag_component, egorag_job, egorag_video, spans, **video_options):
    """video=qwen2vl then caption=captioner2 on one scheduler, window by window."""
    encoder = egorag_component("video", "qwen2vl", batch_size=2, **video_options)
    captioner = egorag_component("caption", "captioner2", max_new_tokens=6, batch_size=2)
    scheduler = ModelScheduler("cpu")
    scheduler.plan([("video", encoder.models()), ("caption", captioner.models())])
    with egorag_job(egorag_video, SCENES, scheduler=scheduler) as job:
        for span in spans:
            part = job.window(span, job.frames)
            encoder.process(part)
            captioner.process(part)
        with scheduler.use(encoder.spec()) as qwen:
            left = len(qwen.inputs)
    texts = [r.caption_text for r in job.results]
    return encoder.stats(), captioner.stats(), texts, left, scheduler


def test_both_stages_preprocess_each_scene_once(
    egorag_component, egorag_job, egorag_video, preprocess_count
):
    spans = [range(0, 2), range(2, 3)]  # two windows, as the core runs them
    video, caption, texts, left, scheduler = _both_stages(
        egorag_component, egorag_job, egorag_video, spans
    )
    assert preprocess_count == [1, 4, 4]  # once per scene, for both stages
    assert video["preprocess_calls"] == 3 and video["preprocess_cache_hits"] == 0
    assert caption["preprocess_calls"] == 0 and caption["preprocess_cache_hits"] == 3
    assert caption["generate_calls"] == 2 and left == 0
    assert list(scheduler.load_counts().values()) == [1]
    captioner = egorag_component("caption", "captioner2", max_new_tokens=6, batch_size=2)
    with egorag_job(egorag_video, SCENES) as job:
        captioner.process(job)
    assert [r.caption_text for r in job.results] == texts  # reused inputs, same captions
    assert captioner.stats()["preprocess_calls"] == 3


def test_cache_off_preprocesses_twice(egorag_component, egorag_job, egorag_video, preprocess_count):
    video, caption, _, left, _ = _both_stages(
        egorag_component, egorag_job, egorag_video, [range(3)], preprocess_cache_mb=0
    )
    assert len(preprocess_count) == 6 and caption["preprocess_cache_hits"] == 0 and left == 0


def test_video_stage_alone_stops_offering(egorag_component, egorag_job, egorag_video):
    """No captioner on the model: the second window finds the first's inputs untaken."""
    encoder = egorag_component("video", "qwen2vl")
    with egorag_job(egorag_video, SCENES) as job:
        held = []
        for i in range(3):
            encoder.process(job.window(range(i, i + 1), job.frames))
            with encoder.model(job) as qwen:
                held.append(len(qwen.inputs))
        assert held == [1, 0, 0] and not qwen.inputs.offering


def _inputs(n_patches: int) -> VideoInputs:
    return VideoInputs(torch.zeros(n_patches, 4), torch.tensor([[1, 2, n_patches // 2]]))


def test_inputs_cache_is_bounded_and_used_once():
    cache, cfg = InputsCache(), VideoPreprocessConfig()
    keys = [InputsKey("a.mp4", (i,), cfg, "torch") for i in range(3)]
    size = inputs_bytes(_inputs(8))
    assert size == 8 * 4 * 4
    for key in keys:
        assert cache.offer(key, _inputs(8), max_bytes=2 * size)
    assert len(cache) == 2 and cache.bytes == 2 * size  # the oldest went
    assert cache.take(keys[0]) is None
    assert cache.take(keys[1]) is not None and cache.take(keys[1]) is None
    assert not cache.offer(InputsKey("b.mp4", (0,), cfg, "torch"), _inputs(64), 2 * size)
    other = dataclasses.replace(cfg, max_pixels=56 * 56)
    assert cache.take(InputsKey("a.mp4", (2,), other, "torch")) is None  # other settings
    cache.end_window("a.mp4")
    assert len(cache) == 0 and cache.bytes == 0 and cache.consumer_seen


def test_inputs_cache_keeps_one_window_until_a_consumer_is_seen():
    cache, cfg = InputsCache(), VideoPreprocessConfig()
    a, b = (InputsKey(p, (0,), cfg, "torch") for p in ("a.mp4", "b.mp4"))
    cache.begin_window("a.mp4")
    cache.offer(a, _inputs(8), 2**20)
    cache.begin_window("b.mp4")  # no caption stage yet: a.mp4's window goes
    assert len(cache) == 0 and cache.offering
    cache.offer(b, _inputs(8), 2**20)
    cache.end_window("c.mp4")  # a caption stage ran: other videos' windows now wait for it
    cache.begin_window("a.mp4")
    assert cache.take(b) is not None and cache.offering
    cache.offer(a, _inputs(8), 2**20)
    cache.begin_window("a.mp4")  # a.mp4's previous window untaken, but a consumer was seen
    assert len(cache) == 0 and cache.offering
