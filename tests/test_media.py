"""The media layer: probe, audio extraction, capped frame sampling, decode-once."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from egorag_core.data import InputError, Scene
from egorag_core.media import (
    AUDIO_SAMPLE_RATE,
    VideoFrames,
    extract_audio,
    probe,
    sample_indices,
)


def ffprobe_streams(path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-print_format", "json", "-show_streams",
         "-show_format", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out)


def test_probe_fields_match_the_made_file(multi_scene_video):
    info = probe(multi_scene_video)
    assert info.path == str(multi_scene_video)
    assert (info.width, info.height) == (160, 120)
    assert info.fps == pytest.approx(10.0)
    assert info.duration == pytest.approx(8.0, abs=0.15)
    assert info.frame_count == 80
    assert info.has_audio is True
    data = ffprobe_streams(multi_scene_video)
    video = next(s for s in data["streams"] if s["codec_type"] == "video")
    assert info.frame_count == int(video["nb_read_frames"])
    assert info.duration == pytest.approx(float(video["duration"]))


def test_probe_real_sample_clips(bikes, bigbuckbunny):
    b = probe(bikes)
    assert (b.width, b.height, b.frame_count, b.has_audio) == (640, 272, 250, False)
    assert b.fps == pytest.approx(25.0)
    assert b.duration == pytest.approx(10.0, abs=0.05)
    bb = probe(bigbuckbunny)
    assert (bb.width, bb.height, bb.has_audio) == (1280, 720, True)
    assert bb.duration == pytest.approx(5.28, abs=0.05)


def test_has_audio(multi_scene_video, noaudio_video):
    assert probe(multi_scene_video).has_audio is True
    assert probe(noaudio_video).has_audio is False


def test_audio_only_file_is_input_error_naming_the_file(audio_only_file):
    with pytest.raises(InputError) as err:
        probe(audio_only_file)
    message = str(err.value)
    assert message.startswith(str(audio_only_file))
    assert "audio-only" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "content, problem",
    [(b"", "empty"), (b"this is text, not a video\n", "not a readable media file")],
    ids=["empty", "text"],
)
def test_probe_bad_files(tmp_path, content, problem):
    path = tmp_path / "bad video.mp4"
    path.write_bytes(content)
    with pytest.raises(InputError, match=problem) as err:
        probe(path)
    assert str(err.value).startswith(str(path))


def test_probe_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found") as err:
        probe(tmp_path / "nope.mp4")
    assert str(tmp_path / "nope.mp4") in str(err.value)


def test_extract_audio_is_16k_mono_float32(multi_scene_video):
    audio = extract_audio(multi_scene_video)
    assert audio.dtype == np.float32
    assert audio.ndim == 1
    assert AUDIO_SAMPLE_RATE == 16_000
    assert abs(len(audio) - 8 * 16_000) <= 0.03 * 16_000
    assert np.abs(audio).max() <= 1.0
    # the track is a 440 Hz sine: its spectrum peaks there
    middle = audio[16_000:32_000]
    spectrum = np.abs(np.fft.rfft(middle))
    peak_hz = np.argmax(spectrum) * 16_000 / len(middle)
    assert peak_hz == pytest.approx(440, abs=3)
    part = extract_audio(multi_scene_video, 2.0, 3.5)
    assert abs(len(part) - int(1.5 * 16_000)) <= 0.02 * 16_000


def test_extract_audio_of_48k_stereo_is_resampled(tmp_path):
    path = tmp_path / "stereo.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-v", "error", "-f", "lavfi", "-t", "3",
         "-i", "testsrc2=size=64x48:rate=5", "-f", "lavfi", "-t", "3",
         "-i", "sine=frequency=1000:sample_rate=48000", "-ac", "2", "-c:v", "libx264",
         "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    audio = extract_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - 3 * 16_000) <= 0.05 * 16_000


def test_sample_indices_caps_and_spreads():
    long_scene = Scene(0.0, 1200.0)  # 20 minutes at 30 fps
    idx = sample_indices(long_scene, 30.0, 36_000, 1.0, 32)
    assert len(idx) == 32
    assert idx == sorted(set(idx))
    assert 0 <= idx[0] and idx[-1] < 36_000
    gaps = np.diff(idx)
    assert gaps.min() >= 1100 and gaps.max() <= 1150  # uniform over the scene
    every = sample_indices(long_scene, 30.0, 36_000, None, 16)
    assert len(every) == 16
    # fewer than the cap at 1 fps over a short scene
    assert len(sample_indices(Scene(10.0, 14.0), 30.0, 36_000, 1.0, 32)) == 4
    assert all(300 <= i < 420 for i in sample_indices(Scene(10.0, 14.0), 30.0, 36_000, 1.0, 32))


@pytest.mark.parametrize(
    "scene, fps, count, sample_fps",
    [
        (Scene(0.0, 0.01), 30.0, 300, 1.0),  # shorter than a frame
        (Scene(0.0, 1.0), 1.0, 1, 1.0),  # a one-frame video
        (Scene(9.99, 10.0), 25.0, 250, 0.1),  # the very end
        (Scene(0.0, 0.2), 25.0, 250, 0.0001),  # rate rounds to zero
    ],
)
def test_sample_indices_at_least_one(scene, fps, count, sample_fps):
    idx = sample_indices(scene, fps, count, sample_fps, 8)
    assert len(idx) >= 1
    assert all(0 <= i < count for i in idx)


def test_long_scene_gives_exactly_max_frames(bikes):
    info = probe(bikes)
    with VideoFrames(info) as frames:
        whole = Scene(0.0, frames.duration)
        got = frames.sample(whole, fps=None, max_frames=7)
        assert got.array.shape == (7, 272, 640, 3)
        assert got.array.dtype == np.uint8
        assert len(got.times) == 7 and list(got.times) == sorted(got.times)
        assert got.times[0] < 1.0 and got.times[-1] > 9.0
        at_2fps = frames.sample(whole, fps=2.0, max_frames=100)
        assert len(at_2fps) == 20
        assert frames.sample(Scene(4.0, 4.01), fps=1.0, max_frames=7).array.shape[0] == 1


def test_frames_are_the_real_content(multi_scene_video):
    """Frames come out in RGB at the right times: the red segment is red, the blue one blue."""
    with VideoFrames(probe(multi_scene_video)) as frames:
        red = frames.at_times([3.0]).array[0].reshape(-1, 3).mean(axis=0)
        blue = frames.at_times([7.0]).array[0].reshape(-1, 3).mean(axis=0)
    assert red[0] > 200 and red[1] < 50 and red[2] < 50
    assert blue[2] > 200 and blue[0] < 50 and blue[1] < 50


def test_one_frame_video_decodes(one_frame_video):
    info = probe(one_frame_video)
    assert info.frame_count == 1
    with VideoFrames(info) as frames:
        assert frames.frame_count == 1
        got = frames.sample(Scene(0.0, frames.duration), fps=2.0, max_frames=8)
        assert got.array.shape[0] == 1


def test_iter_chunks_covers_every_frame_once(multi_scene_video):
    with VideoFrames(probe(multi_scene_video)) as frames:
        seen = [i for chunk in frames.iter_chunks(step=3, chunk=7) for i in chunk.indices]
    assert seen == list(range(0, 80, 3))


def test_decode_once_per_video_in_full_pipeline(api_run):
    """scenes=content, video=colorhist, caption=colorname and text=minilm all ran; each video's
    decoder was opened exactly once."""
    encoded = api_run["encoded"]
    assert len(encoded) == 3
    assert all(p.scenes and p.scene_embeddings[0].video is not None for p in encoded)
    assert all(e.caption_text for p in encoded for e in p.scene_embeddings)
    assert api_run["opens"] == 3
    assert dict(api_run["opened"]) == {path: 1 for path in api_run["paths"]}


# -- small BGR frames straight from the decoder (scene detection) ---------------------------------


@pytest.fixture(scope="module")
def other_layouts(multi_scene_video, tmp_path_factory) -> dict[str, object]:
    """``multi_scene_video`` re-encoded in layouts the plane path must not read: MJPEG
    ``yuvj422p`` (dashcams), 10-bit 4:2:0 (phones' HEVC; ``yuv444p`` if libx264 lacks 10-bit)
    and full-range ``yuvj420p`` (which it reads, squeezing the range)."""
    folder = tmp_path_factory.mktemp("layouts")
    out = {}
    for name, args in (
        ("yuvj422p", ["-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj422p", "x.avi"]),
        ("yuvj420p", ["-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p", "x.avi"]),
        ("10bit", ["-c:v", "libx264", "-pix_fmt", "yuv420p10le", "x.mp4"]),
    ):
        path = folder / f"{name}-{args[-1]}"
        cmd = ["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", str(multi_scene_video)]
        proc = subprocess.run([*cmd, "-an", *args[:-1], str(path)], capture_output=True)
        if proc.returncode != 0 and name == "10bit":  # libx264 built without 10-bit
            subprocess.run([*cmd, "-an", "-c:v", "libx264", "-pix_fmt", "yuv444p", str(path)],
                           check=True)  # fmt: skip
        out[name] = path
    return out


def _decoded(path) -> list:
    import av

    with av.open(str(path)) as container:
        return list(container.decode(video=0))


def test_small_bgr_planes_equal_swscale_on_yuv420p(multi_scene_video):
    """The plane path (8-bit 4:2:0) gives what swscale gives: at full size the colours match
    within rounding; made small, flat areas match and whole frames keep their colour (fine
    detail differs a little: nearest samples against swscale's filter)."""
    from egorag_core.media import small_bgr

    frames = _decoded(multi_scene_video)
    assert frames[0].format.name == "yuv420p"
    for frame in frames[::5]:
        planes = small_bgr(frame, 160, 120).astype(int)
        scaled = frame.reformat(format="bgr24").to_ndarray().astype(int)
        diff = np.abs(planes - scaled)  # rounding; chroma edges (no chroma interpolation)
        assert diff.mean() <= 1.0 and np.percentile(diff, 99) <= 4 and diff.max() <= 32
        small = small_bgr(frame, 64, 48).astype(int)
        ref = frame.reformat(width=64, height=48, format="bgr24").to_ndarray().astype(int)
        assert small.shape == (48, 64, 3)
        assert np.abs(small.mean(axis=(0, 1)) - ref.mean(axis=(0, 1))).max() <= 8
    for flat in (frames[30], frames[70]):  # the red and the blue segment
        small = small_bgr(flat, 64, 48).astype(int)
        ref = flat.reformat(width=64, height=48, format="bgr24").to_ndarray().astype(int)
        assert np.abs(small - ref).max() <= 3


def test_small_bgr_plane_path_only_for_8bit_420(other_layouts, multi_scene_video, monkeypatch):
    """yuv420p and yuvj420p frames are read from their planes; yuvj422p and 10-bit frames go
    through swscale untouched (exactly its output), and red stays red in every layout."""
    from egorag_core import media

    used = []
    real = media._planes_bgr
    monkeypatch.setattr(media, "_planes_bgr", lambda f, w, h: used.append(1) or real(f, w, h))
    for name, path in [("yuv420p", multi_scene_video), *other_layouts.items()]:
        used.clear()
        red = _decoded(path)[30]
        got = media.small_bgr(red, 64, 48)
        assert got.shape == (48, 64, 3) and got.dtype == np.uint8
        b, g, r = got.reshape(-1, 3).mean(axis=0)
        assert r > 200 and g < 50 and b < 50, (name, red.format.name)
        if red.format.name in ("yuv420p", "yuvj420p"):
            assert used, name
        else:
            assert not used, name
            ref = red.reformat(width=64, height=48, format="bgr24").to_ndarray()
            assert np.array_equal(got, ref)


def test_full_range_planes_match_swscale(other_layouts):
    """Full-range (yuvj420p, MJPEG) samples are squeezed to limited range before the I420
    conversion, so colours match swscale's, which knows the range."""
    from egorag_core.media import small_bgr

    frames = _decoded(other_layouts["yuvj420p"])
    assert frames[0].format.name == "yuvj420p"
    for frame in frames[::5]:
        planes = small_bgr(frame, 160, 120).astype(int)
        scaled = frame.reformat(format="bgr24").to_ndarray().astype(int)
        diff = np.abs(planes - scaled)  # rounding; chroma edges (no chroma interpolation)
        assert diff.mean() <= 1.0 and np.percentile(diff, 99) <= 4 and diff.max() <= 32


def test_small_bgr_odd_size():
    """I420 needs even sides: an odd size is made one larger, then cropped (contiguous)."""
    import av

    from egorag_core.media import small_bgr

    frame = av.VideoFrame.from_ndarray(np.full((120, 160, 3), 200, np.uint8), format="rgb24")
    got = small_bgr(frame.reformat(format="yuv420p"), 63, 47)
    assert got.shape == (47, 63, 3) and got.flags["C_CONTIGUOUS"]
    assert np.abs(got.astype(int) - 200).max() <= 3


@pytest.mark.parametrize("ahead", [2, 0])
def test_iter_small_bgr_every_step_th_frame_in_bgr(multi_scene_video, ahead):
    with VideoFrames(probe(multi_scene_video)) as frames:
        small = list(frames.iter_small_bgr(40, 30, step=3, chunk=7, ahead=ahead))
        whole = frames.get([30]).array[0]  # the RGB path still works on the same decoder
    seen = [index for index, _ in small]
    assert seen == list(range(0, 80, 3))
    assert all(f.shape == (30, 40, 3) and f.dtype == np.uint8 for _, f in small)
    red = small[seen.index(30)][1].reshape(-1, 3).mean(axis=0)  # BGR: red is the last channel
    assert red[2] > 200 and red[0] < 50 and red[1] < 50
    assert whole.shape == (120, 160, 3) and whole.reshape(-1, 3).mean(axis=0)[0] > 200


def test_iter_small_bgr_stopped_early_leaves_the_decoder_usable(multi_scene_video):
    with VideoFrames(probe(multi_scene_video)) as frames:
        small = frames.iter_small_bgr(40, 30, chunk=4)
        first = [next(small)[0] for _ in range(3)]
        small.close()  # the background thread is stopped and joined
        blue = frames.at_times([7.0]).array[0].reshape(-1, 3).mean(axis=0)
    assert first == [0, 1, 2] and blue[2] > 200


def test_read_ahead_keeps_order_and_raises():
    from egorag_core.media import read_ahead

    assert list(read_ahead(iter(range(1, 6)))) == [1, 2, 3, 4, 5]

    def broken():
        yield 1
        raise InputError("bad frame")

    with pytest.raises(InputError, match="bad frame"):
        list(read_ahead(broken()))


def test_read_samples_fills_one_array_and_grows_in_pieces():
    """ffmpeg's float32 stream is read into an array sized for what is expected; more than
    that comes in pieces, joined once; a partial last sample is dropped."""
    import io

    from egorag_core.media import read_samples

    samples = np.arange(10, dtype=np.float32)
    exact = read_samples(io.BytesIO(samples.tobytes()), 16)
    assert exact.dtype == np.float32 and exact.tolist() == samples.tolist()
    assert exact.base is not None and exact.base.size == 16  # one array, no joined copy
    grown = read_samples(io.BytesIO(samples.tobytes() + b"\x00\x00"), 3)
    assert grown.tolist() == samples.tolist()
    assert read_samples(io.BytesIO(b""), 4).size == 0
