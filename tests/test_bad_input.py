"""Bad input: each bad video gets one line naming the file and the problem, the others finish,
the exit status says so, and nothing already in the index is lost."""

from __future__ import annotations

import json
import shutil
import subprocess

import lancedb
import numpy as np
import pytest
from cli_helpers import FAST, compose_and_run, read_report, run_cli

from egorag_core import hookimpl
from egorag_core.components import StageComponent, VideoJob
from egorag_core.data import InputError, VideoDataset
from egorag_core.media import AUDIO_SAMPLE_RATE
from egorag_core.plugins import load_plugins
from egorag_core.store import LanceStore


def lines_naming(output: str, path) -> list[str]:
    return [line for line in output.splitlines() if str(path) in line]


@pytest.fixture()
def bad_listing(tmp_path, multi_scene_video, noaudio_video, one_frame_video, weird_video,
                audio_only_file):  # fmt: skip
    files = tmp_path / "files"
    files.mkdir()
    missing = files / "missing.mp4"
    empty = files / "empty.mp4"
    empty.write_bytes(b"")
    truncated = files / "truncated.mp4"
    truncated.write_bytes(multi_scene_video.read_bytes()[:2048])
    text = files / "notes.mp4"
    text.write_text("shopping list: eggs, milk\n")
    beyond = files / "beyond.mp4"
    shutil.copyfile(noaudio_video, beyond)
    entries = [
        {"path": str(multi_scene_video), "name": "good"},
        {"path": str(missing)},
        {"path": str(empty)},
        {"path": str(truncated)},
        {"path": str(text)},
        {"path": str(audio_only_file)},
        {"path": str(one_frame_video), "name": "one-frame"},
        {"path": str(weird_video), "name": "weird"},
        {"path": str(beyond), "scenes": [[0, 2], [2, 9]]},
        {"path": str(noaudio_video), "name": "precomputed", "scenes": [[0, 1.5], [1.5, 4.0]]},
    ]
    listing = tmp_path / "videos.json"
    listing.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    failures = {
        missing: "not found",
        empty: "empty",
        truncated: "not a readable media file",
        text: "not a readable media file",
        audio_only_file: "audio-only",
        beyond: "after the end of the video",
    }
    return listing, failures


def test_bad_inputs_one_line_each_others_finish(tmp_path, bad_listing, bikes, weird_video,
                                                one_frame_video, executor_args):  # fmt: skip
    listing, failures = bad_listing
    out = tmp_path / "out"
    proc = run_cli(*FAST, *executor_args, f"input={listing}", f"output_dir={out}")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output

    report = read_report(out)
    by_path = {v["video_path"]: v for v in report["videos"]}
    assert len(report["videos"]) == 10
    assert report["counts"] == {"ok": 4, "skipped": 0, "failed": 6}
    for path, problem in failures.items():
        video = by_path[str(path)]
        assert video["status"] == "failed", video
        assert video["reason"].startswith(str(path)), video["reason"]
        assert problem in video["reason"]
        assert "\n" not in video["reason"]
        named = lines_naming(output, path)
        assert len(named) == 1, named
        assert problem in named[0]
    ok = {v["video_name"] for v in report["videos"] if v["status"] == "ok"}
    assert ok == {"good", "one-frame", "weird", "precomputed"}

    stored = {p.video_name: p for p in LanceStore(out / "index").read()}
    assert set(stored) == ok
    assert [(s.start, s.end) for s in stored["precomputed"].scenes] == [(0.0, 1.5), (1.5, 4.0)]
    assert len(stored["one-frame"].scenes) == 1
    assert stored["one-frame"].scene_embeddings[0].video is not None
    assert stored["weird"].video_path == str(weird_video)
    assert len(stored["good"].scenes) == 4  # the hard cuts were found

    # a second run with a new good video (and a bad one) loses nothing already indexed
    before = lancedb.connect(str(out / "index")).open_table("scenes").to_pandas()
    listing2 = tmp_path / "more.json"
    listing2.write_text(json.dumps([{"path": str(bikes), "name": "bikes"},
                                    {"path": str(tmp_path / "gone.mp4")}]))  # fmt: skip
    proc2 = run_cli(*FAST, *executor_args, f"input={listing2}", f"output_dir={out}")
    assert proc2.returncode == 1, proc2.stdout + proc2.stderr
    assert len(lines_naming(proc2.stdout + proc2.stderr, tmp_path / "gone.mp4")) == 1
    stored = {p.video_name: p for p in LanceStore(out / "index").read()}
    assert set(stored) == ok | {"bikes"}
    after = lancedb.connect(str(out / "index")).open_table("scenes").to_pandas()
    kept = after[after.key.isin(set(before.key))]
    assert len(kept) == len(before)
    assert sorted(kept.transcript) == sorted(before.transcript)


def test_invalid_precomputed_scenes_fail_only_that_video(tmp_path, noaudio_video, copy_video):
    """Overlapping scenes in the input: that video fails with one line, the others finish."""
    overlapping = copy_video(noaudio_video, "overlap.mp4")
    listing = tmp_path / "videos.json"
    listing.write_text(json.dumps([
        {"path": str(noaudio_video), "name": "good"},
        {"path": str(overlapping), "scenes": [[0, 2], [1, 3]]},
    ]))  # fmt: skip
    dataset = VideoDataset.from_json(listing)
    outcome = compose_and_run([*FAST, "scenes=fixed"], dataset, tmp_path / "out")
    status = {v.video_path: (v.status, v.reason) for v in outcome.report.videos}
    assert status[str(noaudio_video)][0] == "ok"
    state, reason = status[str(overlapping)]
    assert state == "failed"
    assert reason.startswith(str(overlapping)) and "overlap" in reason


def test_malformed_json_exit_2_one_line(tmp_path):
    listing = tmp_path / "broken list.json"
    listing.write_text('[{"path": "a.mp4",')
    proc = run_cli(*FAST, f"input={listing}", f"output_dir={tmp_path / 'out'}", timeout=60)
    assert proc.returncode == 2
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert str(listing) in lines[0]
    assert "malformed JSON" in lines[0]
    assert not (tmp_path / "out" / "index").exists()


@pytest.mark.parametrize(
    "text, problem",
    [('{"videos": 3}', "expected a list"), ('[{"name": "x"}]', "missing 'path'")],
    ids=["not-a-list", "no-path"],
)
def test_json_shape_errors_name_the_file(tmp_path, text, problem):
    listing = tmp_path / "v.json"
    listing.write_text(text)
    with pytest.raises(InputError, match=problem) as err:
        VideoDataset.from_json(listing)
    assert str(listing) in str(err.value)


def test_malformed_scenes_fail_that_video_only(tmp_path):
    """A scene that is not [start, end] is that video's problem, found when the input is read;
    the message names the video and the listing."""
    listing = tmp_path / "v.json"
    listing.write_text('[{"path": "a.mp4", "scenes": [[0]]}, {"path": "b.mp4"}]')
    first, second = VideoDataset.from_json(listing)
    assert first.input_error is not None and "scene 0" in first.input_error
    assert str(tmp_path / "a.mp4") in first.input_error and str(listing) in first.input_error
    assert second.input_error is None


# -- videos without an audio track ---------------------------------------------------------


class ToneAnalyzer(StageComponent):
    """A real audio stage: per scene, RMS and length of the scene's samples (in ``extras``; the
    core stores the ``audio`` vector scaled to unit length)."""

    calls: list[str] = []

    def process(self, job: VideoJob) -> None:
        ToneAnalyzer.calls.append(job.path)
        for i, result in enumerate(job.results):
            samples = job.scene_audio(i)
            rms = float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0
            result.audio = np.array([rms, len(samples) / AUDIO_SAMPLE_RATE], dtype=np.float32)
            result.extras["tone"] = result.audio.tolist()
            result.transcript = "a steady tone"


class TonePlugin:
    @hookimpl
    def register_audio_analyzers(self, register):
        register("tone", lambda options, settings: ToneAnalyzer(options, settings), "RMS",
                 group="audio/embedding")


def test_video_without_audio_track(tmp_path, multi_scene_video, noaudio_video, monkeypatch):
    import egorag_core.components as components

    extractions: list[str] = []
    real_extract = components.extract_audio

    def counting_extract(path, *args, **kwargs):
        extractions.append(str(path))
        return real_extract(path, *args, **kwargs)

    monkeypatch.setattr(components, "extract_audio", counting_extract)
    real_open = components.AudioReader._open

    def counting_open(self, sample):  # scenes read in order: one ffmpeg pass a video
        extractions.append(self.info.path)
        return real_open(self, sample)

    monkeypatch.setattr(components.AudioReader, "_open", counting_open)
    ToneAnalyzer.calls = []

    def with_tone(cfg):
        cfg["audio"]["embedding"] = {"name": "tone"}

    dataset = VideoDataset.from_path(multi_scene_video)
    dataset.video_datapoints += VideoDataset.from_path(noaudio_video).video_datapoints
    host = load_plugins(extra=[TonePlugin()])
    outcome = compose_and_run(["video=colorhist", "caption=colorname", "audio=none",
                               "text=none", "scenes=fixed", "scenes.seconds=2",
                               "progress=false"], dataset, tmp_path, host=host,
                              edit=with_tone)  # fmt: skip
    assert outcome.failed == 0
    with_audio, without = outcome.dataset
    assert with_audio.has_audio is True
    assert all(e.transcript == "a steady tone" for e in with_audio.scene_embeddings)
    for e, scene in zip(with_audio.scene_embeddings, with_audio.scenes, strict=True):
        assert e.audio is not None and float(np.linalg.norm(e.audio)) == pytest.approx(1)
        rms, seconds = e.extras["tone"]
        assert rms > 0.05  # the sine (amplitude 1/8) is there
        assert seconds == pytest.approx(scene.duration, abs=0.05)
    assert "audio" in with_audio.global_embeddings

    assert without.has_audio is False
    assert all(e.audio is None for e in without.scene_embeddings)
    assert all(e.transcript == "" for e in without.scene_embeddings)
    assert "audio" not in without.global_embeddings
    assert ToneAnalyzer.calls == [str(multi_scene_video)]
    assert extractions == [str(multi_scene_video)]  # once per video, only with a track

    stored = {p.video_path: p for p in LanceStore(tmp_path / "index").read()}
    assert stored[str(noaudio_video)].has_audio is False
    assert all(e.audio is None and e.transcript == ""
               for e in stored[str(noaudio_video)].scene_embeddings)  # fmt: skip
    videos = lancedb.connect(str(tmp_path / "index")).open_table("videos").to_pandas()
    flags = dict(zip(videos.video_path, videos.has_audio, strict=True))
    assert flags == {str(multi_scene_video): True, str(noaudio_video): False}


# -- audio that ends before the picture -----------------------------------------------------


class BandsEmbedder(StageComponent):
    """An audio embedding like CLAP's: 16 band energies of the scene's samples, unit length;
    ``None`` for a scene without samples."""

    def process(self, job: VideoJob) -> None:
        for i, result in enumerate(job.results):
            samples = job.scene_audio(i)
            if samples is None or samples.size == 0:
                continue
            power = np.abs(np.fft.rfft(samples)) ** 2
            bands = np.array([b.sum() for b in np.array_split(power, 16)], dtype=np.float32)
            result.audio = bands / max(float(np.linalg.norm(bands)), 1e-12)


class BandsPlugin:
    @hookimpl
    def register_audio_analyzers(self, register):
        register("bands", BandsEmbedder, "band energies", group="audio/embedding")


@pytest.fixture(scope="session")
def short_audio_video(media_dir):
    """10 s of picture with 3 s of audio (phones and action cameras often end audio early)."""
    path = media_dir / "short-audio.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error",
                    "-f", "lavfi", "-t", "10", "-i", "testsrc2=size=160x120:rate=10",
                    "-f", "lavfi", "-t", "3", "-i", "sine=frequency=440:sample_rate=16000",
                    "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-c:a", "aac", str(path)],
                   check=True)  # fmt: skip
    return path


def test_audio_shorter_than_the_picture_keeps_the_video(tmp_path, short_audio_video):
    """Scenes past the end of the audio get no audio vector, the others do, and the video is
    stored with nulls there (the issue's recipe: 10 s, 3 s of audio, 2 s scenes)."""
    host = load_plugins(extra=[BandsPlugin()])
    outcome = compose_and_run(
        ["video=colorhist", "caption=colorname", "audio=none", "text=none", "scenes=fixed",
         "scenes.seconds=2", "progress=false"], VideoDataset.from_path(short_audio_video),
        tmp_path, host=host, edit=lambda cfg: cfg["audio"].update(embedding={"name": "bands"}),
    )  # fmt: skip
    assert [(v.status, v.reason) for v in outcome.report.videos] == [("ok", "")]
    (stored,) = LanceStore(tmp_path / "index").read()
    present = [e.audio is not None for e in stored.scene_embeddings]
    assert present == [True, True, False, False, False]  # scene 1 (2-4 s) holds 1 s of audio
    assert stored.scene_embeddings[0].audio.shape == (16,)
    assert "audio" in stored.global_embeddings
