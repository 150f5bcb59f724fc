"""The scene splitters on real video files with known hard cuts, built from their YAML."""

import pytest

from egorag_core.errors import OptionsError


@pytest.fixture(scope="module")
def three_cuts(tmp_path_factory):
    """A real 7 s H.264 file with hard cuts at 2 s and 5 s."""
    from egorag_core.testing import make_video

    segments = [("testsrc2", 2.0), ("smptebars", 3.0), ("color=c=blue", 2.0)]
    return make_video(tmp_path_factory.mktemp("v") / "cuts.mp4", segments, audio=None)


@pytest.mark.parametrize("name", ["content", "adaptive"])
def test_detectors_find_the_hard_cuts(three_cuts, egorag_component, egorag_job, name):
    splitter = egorag_component("scenes", name)
    with egorag_job(three_cuts) as job:
        scenes = splitter.split(job)
    assert [round(s.start, 2) for s in scenes] == [0.0, 2.0, 5.0]
    assert scenes[-1].end == pytest.approx(7.0)


def test_frame_skip_still_finds_cuts_near_the_boundaries(three_cuts, egorag_component, egorag_job):
    splitter = egorag_component("scenes", "content", frame_skip=1, min_scene_len=5)
    with egorag_job(three_cuts) as job:
        scenes = splitter.split(job)
    assert len(scenes) == 3
    assert abs(scenes[1].start - 2.0) <= 0.2 and abs(scenes[2].start - 5.0) <= 0.2


def test_kit_video_cut_found(egorag_video, egorag_component, egorag_job):
    with egorag_job(egorag_video) as job:
        scenes = egorag_component("scenes", "content").split(job)
    assert [round(s.start, 2) for s in scenes] == [0.0, 2.0]


def test_yaml_values_are_the_options(egorag_component):
    content = egorag_component("scenes", "content")
    assert (content.options.threshold, content.options.min_scene_len) == (27.0, 15)
    adaptive = egorag_component("scenes", "adaptive", window_width=3)
    assert (adaptive.options.adaptive_threshold, adaptive.options.window_width) == (3.0, 3)


@pytest.mark.parametrize("name", ["content", "adaptive"])
def test_mistyped_option_names_key_and_file(egorag_component, name):
    with pytest.raises(OptionsError, match=rf"scenes\.min_scene_len=.*{name}\.yaml"):
        egorag_component("scenes", name, min_scene_len="long")


def test_unusable_value_is_rejected_before_work(egorag_component):
    with pytest.raises(OptionsError, match=r"^scenes\.chunk_frames=0: must be at least 1"):
        egorag_component("scenes", "content", chunk_frames=0)


def _cut_frames(scenes, fps: float) -> list[int]:
    return [round(s.start * fps) for s in scenes[1:]]


@pytest.fixture(scope="module")
def wide_cuts(tmp_path_factory):
    """A real 640x360 25 fps H.264 file (downscaled to 256x144 for detection, as ``detect()``
    does) with five hard cuts, the last a colour-only change (red to blue)."""
    from egorag_core.testing import make_video

    segments = [("testsrc2", 1.2), ("smptebars", 1.0), ("mandelbrot", 1.4),
                ("rgbtestsrc", 1.0), ("color=c=red", 1.0), ("color=c=blue", 1.0)]  # fmt: skip
    path = tmp_path_factory.mktemp("v") / "wide.mp4"
    return make_video(path, segments, size="640x360", fps=25, audio=None)


@pytest.mark.parametrize("name", ["content", "adaptive"])
def test_cuts_equal_scenedetect_detect(wide_cuts, egorag_component, egorag_job, name):
    """The same cuts as PySceneDetect's own ``detect()`` (OpenCV decode, full-size BGR, resize)
    with the same detector settings, within one frame."""
    from scenedetect import AdaptiveDetector, ContentDetector, detect

    detector = ContentDetector() if name == "content" else AdaptiveDetector()
    theirs = [start.frame_num for start, _ in detect(str(wide_cuts), detector)[1:]]
    with egorag_job(wide_cuts) as job:
        ours = _cut_frames(egorag_component("scenes", name).split(job), job.frames.fps)
    assert len(theirs) == 5 and len(ours) == len(theirs)
    assert all(abs(a - b) <= 1 for a, b in zip(ours, theirs, strict=True)), (ours, theirs)


@pytest.fixture(scope="module")
def other_layouts(three_cuts, tmp_path_factory):
    """``three_cuts`` re-encoded as MJPEG ``yuvj422p`` (dashcams) and 10-bit 4:2:0 H.264
    (``yuv444p`` where libx264 has no 10-bit): frames the plane path must not read."""
    import subprocess

    folder = tmp_path_factory.mktemp("layouts")
    base = ["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", str(three_cuts)]
    mjpeg, ten = folder / "cuts.avi", folder / "cuts10.mp4"
    subprocess.run([*base, "-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj422p", str(mjpeg)],
                   check=True)  # fmt: skip
    if subprocess.run([*base, "-c:v", "libx264", "-pix_fmt", "yuv420p10le", str(ten)]).returncode:
        subprocess.run([*base, "-c:v", "libx264", "-pix_fmt", "yuv444p", str(ten)], check=True)
    return [mjpeg, ten]


@pytest.mark.parametrize("which", [0, 1], ids=["yuvj422p", "10bit"])
def test_other_layouts_find_the_real_cuts(other_layouts, egorag_component, egorag_job, which):
    """Frames that take swscale's route, not the planes', still give the real cuts."""
    import av

    path = other_layouts[which]
    with av.open(str(path)) as container:
        layout = next(container.decode(video=0)).format.name
    assert layout in ("yuvj422p", "yuv420p10le", "yuv444p")
    with egorag_job(path) as job:
        scenes = egorag_component("scenes", "content").split(job)
    assert [round(s.start, 2) for s in scenes] == [0.0, 2.0, 5.0], layout


def test_processing_size_is_scenedetects():
    from egorag_scenes.splitters import processing_size

    assert processing_size(640, 360) == (256, 144)
    assert processing_size(1920, 1080) == (256, 144)
    assert processing_size(1080, 1920) == (144, 256)  # the longer side, as SceneManager
    assert processing_size(160, 120) == (160, 120)  # narrower than 256: not scaled
    assert processing_size(300, 250) == (256, 213)
