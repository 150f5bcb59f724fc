"""Fixtures of the egorag-speakers tests (the egorag_* fixtures come with egorag-core): speech
with known speaker turns, as videos, and a runner for the speaker stage."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from egorag_core.data import Scene

from egorag_speakers.diarize import ResemblyzerSpeakers
from egorag_speakers.samples import as_video, conversation_video, pyannote_sample
from egorag_speakers.score import Turn, read_rttm, read_stm


def _need_speech_tools() -> None:
    """Skip without espeak-ng or ffmpeg (the synthetic speech needs both)."""
    if shutil.which("espeak-ng") is None or shutil.which("ffmpeg") is None:
        pytest.skip("espeak-ng and ffmpeg are needed")


@pytest.fixture(scope="session")
def speech_video(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[Scene], list[tuple[float, float]]]:
    """Real footage with one spoken sentence per 3.5 s scene: ``(path, scenes, spans)``."""
    from egorag_core.testing import make_speech_video

    _need_speech_tools()
    path = tmp_path_factory.mktemp("speech") / "speech.mp4"
    scenes, spans = make_speech_video(path)
    return path, scenes, spans


@pytest.fixture(scope="session")
def pyannote_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Turn],
                                                                       list[Turn]]:
    """The real two-speaker recording of the pyannote-audio wheel as a video:
    ``(path, reference turns (RTTM), transcript segments (STM))``. Fails (never skips) when
    pyannote-audio is missing: ``make setup`` and the plugin-alone run install it."""
    wav, rttm, stm = pyannote_sample()
    path = as_video(wav, tmp_path_factory.mktemp("pyannote") / "sample.mp4")
    return path, read_rttm(rttm), read_stm(stm)


@pytest.fixture(scope="session")
def conversations(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    """``conversations(name)``: ``(path, turns, texts)`` of a synthetic conversation: "two"
    (two voices alternating), "three" (three voices) or "one" (one voice), made once."""
    _need_speech_tools()
    orders = {"two": [0, 1] * 6, "three": [0, 1, 2, 0, 1, 2, 1, 0, 2, 2, 0, 1], "one": [1] * 12}
    made: dict[str, Any] = {}

    def get(name: str) -> Any:
        if name not in made:
            folder = tmp_path_factory.mktemp(f"talk-{name}")
            made[name] = conversation_video(folder / f"{name}.mp4", orders[name])
        return made[name]

    return get


@pytest.fixture()
def label(egorag_component: Callable[..., Any],
          egorag_job: Callable[..., Any]) -> Callable[..., Any]:
    """``label(path, scenes=None, words=None, **options)``: the job's results after the
    resemblyzer stage (``words`` per scene stand in for the ASR's ``extras["words"]``)."""

    def run(path: Path, scenes: list[Scene] | None = None,
            words: list[list[dict[str, Any]]] | None = None, **options: Any) -> Any:
        component = egorag_component("audio/speakers", "resemblyzer", **options)
        assert isinstance(component, ResemblyzerSpeakers)
        spec = component.models()[0]
        assert not spec.random_weights and spec.model_id.endswith("pretrained.pt")
        with egorag_job(path, scenes) as job:
            for result, ws in zip(job.results, words or [], strict=False):
                result.extras["words"] = ws
            component.process(job)
        assert job.scheduler.load_counts() == {spec.key: 1}
        return job.results

    return run
