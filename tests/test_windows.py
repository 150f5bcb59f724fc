"""Scenes stream through the frame stages in bounded windows: each needed frame is decoded once
for every stage that reads it, keyframes live only as long as their window, and the output is
the same whatever the window."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from cli_helpers import compose_and_run

from egorag_core import VideoDataset
from egorag_core.data import Scene
from egorag_core.media import VideoFrames
from egorag_core.window import MAX_WINDOW_SCENES, window_batch, windows

#: colorhist and colorname both read 2 fps, at most 8 frames per scene; 16 scenes of 0.5 s.
BOTH_READ_FRAMES = ["video=colorhist", "caption=colorname", "caption.source=frames",
                    "caption.fps=2.0", "caption.max_frames=8", "audio=none", "text=none",
                    "scenes=fixed", "scenes.seconds=0.5", "progress=false"]  # fmt: skip


def test_windows_fit_the_budget_and_cover_every_scene():
    needed = [{1, 2}, {3}, {4, 5, 6}, set(), {7}]
    spans = list(windows(needed, frame_bytes=10, budget_bytes=30))
    assert spans == [range(0, 2), range(2, 4), range(4, 5)]  # 20, 30, 10 bytes
    assert list(windows(needed, 10, 1)) == [range(i, i + 1) for i in range(5)]  # >= 1 scene
    many = [set() for _ in range(MAX_WINDOW_SCENES + 3)]
    assert [len(s) for s in windows(many, 10, 10**9)] == [MAX_WINDOW_SCENES, 3]


def test_windows_hold_whole_batches_when_they_hold_one():
    needed = [{i} for i in range(20)]  # 6 scenes fit the budget
    assert [len(s) for s in windows(needed, 10, 60)] == [6, 6, 6, 2]
    assert [len(s) for s in windows(needed, 10, 60, batch=4)] == [4, 4, 4, 4, 4]
    assert [len(s) for s in windows(needed, 10, 60, batch=8)] == [6, 6, 6, 2]  # under 1 batch
    assert [len(s) for s in windows(needed, 10, 95, batch=4)] == [8, 8, 4]
    spans = list(windows([{1}] * 7 + [{1, 2, 3, 4, 5}] * 5, 10, 60, batch=3))
    assert [len(s) for s in spans] == [6, 2, 1, 1, 1, 1]  # 2 fit, under one batch
    assert spans[0].start == 0 and spans[-1].stop == 12
    assert all(a.stop == b.start for a, b in zip(spans, spans[1:], strict=False))
    assert window_batch([4, 4]) == 4 and window_batch([4, 2, 1]) == 4
    assert window_batch([4, 8]) == 8 and window_batch([4, 3]) == 4 and window_batch([]) == 1


@pytest.fixture()
def decoded(monkeypatch):
    """Every frame index the decoder turns into an array, per call."""
    seen: Counter[int] = Counter()
    real = VideoFrames._decode_until

    def counting(self, wanted, *args, **kwargs):
        out = real(self, wanted, *args, **kwargs)
        seen.update(out.keys())
        return out

    monkeypatch.setattr(VideoFrames, "_decode_until", counting)
    return seen


def _run(tmp_path, video, *extra):
    dataset = VideoDataset.from_path(str(video))
    return compose_and_run([*BOTH_READ_FRAMES, *extra], dataset, tmp_path / "out")


def test_each_frame_is_decoded_once_for_both_stages_with_a_tiny_cache(
    tmp_path, multi_scene_video, decoded
):
    outcome = _run(tmp_path, multi_scene_video, "media.frame_cache_mb=0.001", "media.window_mb=1")
    assert outcome.failed == 0
    assert decoded and max(decoded.values()) == 1, decoded.most_common(3)
    (video,) = outcome.report.videos
    assert video.frames_needed == video.frames_decoded == len(decoded)


def test_keyframes_are_never_held_for_all_scenes(tmp_path, multi_scene_video):
    outcome = _run(tmp_path, multi_scene_video, "media.window_mb=0.1")
    report = outcome.report.as_dict()
    (video,) = outcome.dataset
    assert len(video.scenes) == 16
    largest = report["stages"]["caption"]["stats"]["largest_window"]
    assert 1 <= largest < 16  # keyframes of one window at a time
    assert all(e.keyframes is None for e in video.scene_embeddings)


def test_a_stage_that_sees_batches_of_scenes_gets_whole_batches(tmp_path, multi_scene_video):
    from egorag_core.media import probe

    info = probe(multi_scene_video)
    six_frames = 6.5 * info.width * info.height * 3 / 2**20  # one frame a scene is read
    plain = _run(tmp_path / "plain", multi_scene_video, f"media.window_mb={six_frames}")
    whole = _run(tmp_path / "whole", multi_scene_video, f"media.window_mb={six_frames}",
                 "caption.batch_size=4")  # fmt: skip
    plain_stats, stats = (o.report.as_dict()["stages"]["caption"]["stats"] for o in (plain, whole))
    assert plain_stats["largest_window"] == 6 and plain_stats["part_batch_windows"] == 0
    assert stats["largest_window"] == 4 and stats["windows"] == 4  # 16 scenes
    assert stats["part_batch_windows"] == 0
    for x, y in zip(plain.dataset[0].scene_embeddings, whole.dataset[0].scene_embeddings,
                    strict=True):  # fmt: skip
        np.testing.assert_array_equal(x.video, y.video)
        assert x.caption_text == y.caption_text


@pytest.mark.parametrize(("source", "held"), [("keyframes", True), ("frames", False)])
def test_keyframes_are_held_only_when_a_later_stage_reads_them(egorag_component, source, held):
    from types import SimpleNamespace

    from egorag_core.run import _window_samplings
    from egorag_core.window import FrameSampling

    video = egorag_component("video", "colorhist")
    keys = FrameSampling(None, 3)
    video.keyframe_sampling = lambda: keys  # a video stage that hands 3 uniform keyframes
    caption = egorag_component("caption", "colorname", source=source)
    job = SimpleNamespace(keyframes_wanted=None)
    samplings = _window_samplings(job, [("video", video), ("caption", caption)])
    assert job.keyframes_wanted is held and (keys in samplings) is held
    assert video.frame_sampling() in samplings
    assert _window_samplings(job, [("video", video)]) == video.frame_samplings()  # no readers
    assert job.keyframes_wanted is False


def test_the_window_does_not_change_the_output(tmp_path, multi_scene_video):
    small = _run(tmp_path / "small", multi_scene_video, "media.window_mb=0.1")
    large = _run(tmp_path / "large", multi_scene_video, "media.window_mb=4096")
    assert large.report.as_dict()["stages"]["caption"]["stats"]["largest_window"] == 16
    (a,), (b,) = small.dataset, large.dataset
    assert a.scenes == b.scenes
    for x, y in zip(a.scene_embeddings, b.scene_embeddings, strict=True):
        np.testing.assert_array_equal(x.video, y.video)
        assert x.caption_text == y.caption_text
    assert [Scene(0.0, 0.5)] == a.scenes[:1]


def test_decoding_ahead_gives_the_same_output(tmp_path, multi_scene_video, decoded):
    ahead = _run(tmp_path / "ahead", multi_scene_video, "media.window_mb=0.2")
    once = max(decoded.values())
    inline = _run(tmp_path / "inline", multi_scene_video, "media.window_mb=0.2",
                  "media.decode_ahead=false")  # fmt: skip
    assert once == 1
    (a,), (b,) = ahead.dataset, inline.dataset
    for x, y in zip(a.scene_embeddings, b.scene_embeddings, strict=True):
        np.testing.assert_array_equal(x.video, y.video)
        assert x.caption_text == y.caption_text


def test_frames_are_made_the_size_asked_while_converting(multi_scene_video):
    from egorag_core.media import frame_size, probe
    from egorag_core.window import decode_side

    assert frame_size(160, 120, 32) == (44, 32) and frame_size(160, 120, 120) is None
    assert frame_size(120, 160, 33) == (34, 44)  # portrait; even sides
    assert decode_side([32, 384]) == 384 and decode_side([32, None]) is None
    assert decode_side([]) is None
    with VideoFrames(probe(multi_scene_video)) as frames:
        small = frames.decode_each([0, 25, 25, 79], (44, 32))
        full = frames.get([25]).array[0]
    assert sorted(small) == [0, 25, 79] and {a.shape for a in small.values()} == {(32, 44, 3)}
    # The same picture, made small: close to the full frame averaged down.
    import cv2

    expected = cv2.resize(full, (44, 32), interpolation=cv2.INTER_AREA).astype(int)
    assert np.abs(small[25].astype(int) - expected).mean() < 12
