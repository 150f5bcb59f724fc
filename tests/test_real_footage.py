"""Real-footage files decoded as a player shows them: rotation tags, late audio, audio at each
model's own sample rate read in bounded memory."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from egorag_core.data import Scene
from egorag_core.media import AudioReader, VideoFrames, extract_audio, probe
from egorag_core.testing import delay_audio, make_video, open_job, sample_video, tag_rotation


@pytest.fixture(scope="module")
def landscape(tmp_path_factory) -> object:
    """Real footage (bikes.mp4), 2 s at 160x90, 10 fps: asymmetric, so a wrong turn shows."""
    path = tmp_path_factory.mktemp("rot") / "landscape.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", str(sample_video("bikes.mp4")),
         "-t", "2", "-vf", "scale=160:90,fps=10", "-c:v", "libx264", "-crf", "12",
         "-pix_fmt", "yuv420p", str(path)], check=True,
    )  # fmt: skip
    return path


def frames_of(path, count: int = 5) -> np.ndarray:
    with VideoFrames(probe(path)) as frames:
        return frames.get(range(count)).array.astype(np.int16)


@pytest.mark.parametrize("degrees", [90, 270])
def test_rotated_file_is_decoded_upright(landscape, tmp_path, degrees):
    tagged = tag_rotation(landscape, tmp_path / "tagged.mp4", degrees)
    info = probe(tagged)
    assert (info.width, info.height, info.rotation) == (90, 160, degrees)
    # ffmpeg itself applies the tag (autorotate) when re-encoding: the physically turned clip.
    upright = tmp_path / "upright.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", str(tagged), "-c:v",
                    "libx264", "-crf", "12", str(upright)], check=True)  # fmt: skip
    assert (probe(upright).width, probe(upright).height, probe(upright).rotation) == (90, 160, 0)
    ours, theirs = frames_of(tagged), frames_of(upright)
    assert ours.shape == theirs.shape == (5, 160, 90, 3)
    assert np.abs(ours - theirs).mean() < 4  # codec noise only
    # Turned the other way (180 degrees off), the frames do not match: the test can tell.
    assert np.abs(np.rot90(ours, 2, axes=(1, 2)) - theirs).mean() > 20


def test_rotated_small_frames_for_scene_detection(landscape, tmp_path):
    tagged = tag_rotation(landscape, tmp_path / "tagged.mp4", 90)
    with VideoFrames(probe(tagged)) as frames:
        small = [f for _, f in frames.iter_small_bgr(45, 80, ahead=0)]
        full = frames.get([0]).array[0]
    assert small[0].shape == (80, 45, 3) and small[0].flags["C_CONTIGUOUS"]
    # The small frame is the full one made small (BGR): same picture, same orientation.
    import cv2

    expected = cv2.resize(np.ascontiguousarray(full[:, :, ::-1]), (45, 80))
    assert np.abs(small[0].astype(int) - expected).mean() < 12


@pytest.fixture(scope="module")
def tone_video(tmp_path_factory) -> object:
    """6 s of video with a 1 kHz tone from its first frame."""
    return make_video(tmp_path_factory.mktemp("av") / "tone.mp4", [("testsrc2", 6.0)],
                      audio="sine=frequency=1000")  # fmt: skip


def onset(audio: np.ndarray, rate: int) -> float:
    return float(np.flatnonzero(np.abs(audio) > 0.05)[0]) / rate


def test_late_audio_is_aligned_to_video_time(tone_video, tmp_path):
    late = delay_audio(tone_video, tmp_path / "late.mp4", 2.0)
    info = probe(late)
    assert onset(extract_audio(late, video_start=info.video_start), 16_000) == pytest.approx(
        2.0, abs=0.01
    )
    assert onset(extract_audio(late, 1.0, 4.0, video_start=info.video_start), 16_000) == (
        pytest.approx(1.0, abs=0.01)
    )
    with open_job(late, [Scene(0, 1.5), Scene(1.5, 3.0), Scene(3.0, 6.0)]) as job:
        assert np.abs(job.scene_audio(0)).max() < 0.01  # silence before the audio starts
        assert onset(job.scene_audio(1), 16_000) == pytest.approx(0.5, abs=0.01)
        assert onset(job.audio(), 16_000) == pytest.approx(2.0, abs=0.01)


def test_late_video_trims_the_audio_before_it(tone_video, tmp_path):
    # The video starts 2 s into the file: video time 0 is 2 s into the (continuous) tone.
    early = tmp_path / "early.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", "-itsoffset", "2", "-i",
                    str(tone_video), "-i", str(tone_video), "-map", "0:v", "-map", "1:a",
                    "-c", "copy", str(early)], check=True)  # fmt: skip
    info = probe(early)
    assert info.video_start == pytest.approx(2.0, abs=0.05)
    audio = extract_audio(early, video_start=info.video_start)
    assert audio.size == pytest.approx(4.0 * 16_000, abs=0.1 * 16_000)
    assert onset(audio, 16_000) < 0.01


def test_audio_reader_reads_each_rate_forward_in_one_pass(tmp_path):
    path = make_video(tmp_path / "hi.mp4", [("testsrc2", 6.0)],
                      audio="sine=frequency=12000:sample_rate=48000")  # fmt: skip
    info = probe(path)
    with AudioReader(info, 48_000) as reader:
        spans = [reader.read(t, t + 1.5) for t in (0.0, 1.5, 3.0, 4.5)]
        assert reader.opens == 1  # spans in order: one ffmpeg pass
        again = reader.read(1.5, 3.0)  # backwards: restarts there
        assert reader.opens == 2
    assert [s.size for s in spans] == [72_000] * 4
    # A restart decodes from a seek point: a few samples at its start differ.
    np.testing.assert_allclose(again[100:], spans[1][100:], atol=2e-3)
    whole = extract_audio(path, rate=48_000)
    np.testing.assert_allclose(np.concatenate(spans), whole[: 4 * 72_000], atol=2e-3)
    # 12 kHz survives at 48 kHz; a 16 kHz track cannot hold it.
    spectrum = np.abs(np.fft.rfft(spans[1]))
    assert np.argmax(spectrum) * 48_000 / spans[1].size == pytest.approx(12_000, abs=5)
    low = extract_audio(path)
    assert np.abs(low[16_000:32_000]).max() < 0.05
