"""Benchmark: speaker diarization (``audio/speakers=resemblyzer``) against known speaker turns.

Cases, each written as a small video (grey frames, AAC audio) and run through the component as
the pipeline runs it (one scene per 10 s):

- ``real``: the real 30 s two-speaker telephone call shipped in the pyannote-audio wheel
  (``pip install --no-deps pyannote-audio``), scored against its RTTM;
- ``real x N`` (``--long N``): that call played N times in a row (cost against length);
- ``two`` / ``three`` / ``one``: espeak-ng conversations of twelve lines in two, three or one
  voice(s), scored against the spans the lines were placed at.

Per case: time-weighted accuracy (the reference's single-speaker time labelled right under the
best label mapping; unlabelled speech counts wrong), speakers found and expected, the stage's
wall seconds (model loaded before the clock starts) and the windows embedded. Each ``--config``
(``key=value`` options, space-separated) is one more run of every case.

    .venv/bin/python benchmarks/bench_speakers.py
    .venv/bin/python benchmarks/bench_speakers.py --long 10 --config "hop_s=0.75" "window_s=2.0"
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

ORDERS = {"two": [0, 1] * 6, "three": [0, 1, 2, 0, 1, 2, 1, 0, 2, 2, 0, 1], "one": [1] * 12}


def real_cases(folder: Path, long: int) -> list[tuple[str, Path, list, int]]:
    """The pyannote call as a video, and played ``long`` times in a row."""
    from egorag_speakers.samples import as_video, pyannote_sample, write_wav
    from egorag_speakers.score import read_rttm

    wav, rttm, _ = pyannote_sample()
    ref = read_rttm(rttm)
    cases = [("real", as_video(wav, folder / "real.mp4"), ref, 2)]
    if long > 1:
        with wave.open(str(wav)) as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
        tiled = write_wav(folder / "long.wav", np.tile(pcm, long))
        turns = [(a + 30.0 * i, b + 30.0 * i, s) for i in range(long) for a, b, s in ref]
        cases.append((f"real x {long}", as_video(tiled, folder / "long.mp4"), turns, 2))
    return cases


def synthetic_cases(folder: Path) -> list[tuple[str, Path, list, int]]:
    """The espeak-ng conversations as videos."""
    from egorag_speakers.samples import conversation_video

    out = []
    for name, order in ORDERS.items():
        path, turns, _ = conversation_video(folder / f"{name}.mp4", order)
        out.append((name, path, turns, len(set(order))))
    return out


def run_case(path: Path, options: dict[str, Any]) -> tuple[list, float, dict]:
    """``(turns found, wall seconds of the stage, stats)`` of one video."""
    from egorag_core.components import Settings
    from egorag_core.data import Scene, SceneEncoding
    from egorag_core.pipeline import build_component
    from egorag_core.plugins import load_plugins
    from egorag_core.testing import open_job

    component = build_component(load_plugins(), "audio/speakers", "resemblyzer", options,
                                Settings(show_progress=False))
    with open_job(path) as job:
        end = job.scenes[-1].end
        job.scenes = [Scene(a, min(a + 10.0, end)) for a in np.arange(0.0, end, 10.0)]
        job.results = [SceneEncoding() for _ in job.scenes]
        job.audio()
        with component.model(job):
            pass  # loaded before the clock starts, and librosa's slow first call made
        from resemblyzer.audio import wav_to_mel_spectrogram

        wav_to_mel_spectrogram(np.zeros(24000, dtype=np.float32))
        start = time.perf_counter()
        component.process(job)
        wall = time.perf_counter() - start
    found = [(s["start"], s["end"], s["speaker"]) for r in job.results
             for s in r.extras["speakers"]]  # fmt: skip
    return found, wall, component.stats()


def parse(config: str) -> dict[str, Any]:
    """``"hop_s=0.75 num_speakers=2"`` as options."""
    out: dict[str, Any] = {}
    for item in config.split():
        key, value = item.split("=", 1)
        out[key] = int(value) if value.lstrip("-").isdigit() else float(value)
    return out


def main() -> None:
    """Run every case under every config and print a Markdown table."""
    from egorag_speakers.score import time_accuracy

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--long", type=int, default=0, help="also the real call played N times")
    ap.add_argument("--config", nargs="*", default=[], help="option sets besides the defaults")
    args = ap.parse_args()
    print(f"{platform.machine()}, {platform.python_version()}, {platform.node()}\n")
    print("| config | case | accuracy | speakers (expected) | stage s | windows |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        cases = real_cases(Path(tmp), args.long) + synthetic_cases(Path(tmp))
        for config in ["", *args.config]:
            for name, path, ref, expected in cases:
                found, wall, stats = run_case(path, parse(config))
                acc = time_accuracy(found, ref) if found else 0.0
                print(f"| {config or 'defaults'} | {name} | {acc:.3f} | "
                      f"{len({s for _, _, s in found})} ({expected}) | {wall:.1f} | "
                      f"{stats['embedded_windows']} |", flush=True)


if __name__ == "__main__":
    main()
