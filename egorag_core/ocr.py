"""Reading the text in frames: the ``ocr`` stage (``ocr=<name>``, hook ``register_ocr``).

An OCR component subclasses :class:`TextReader` and implements :meth:`TextReader.read` (the
lines of text in a batch of frames) and, when it has models, :meth:`TextReader.open` (borrows
them for a window: ``return self.model(job)`` in a ``ModelComponent``). The core does the
rest, the same for every engine: it declares which frames the stage reads (at most
``max_frames`` per scene, spread over it, from the window's one decode, at ``side``), leaves
out frames it cannot or need not read (empty, tiny, blank, near-duplicates of a frame already
read), drops lines under ``min_confidence``, joins the pieces of one line, orders lines as a
person reads them, removes lines seen in an earlier frame of the scene, and sets
``result.ocr_text`` and ``result.extras["ocr"]``. A frame the engine fails on is recorded in
the scene's extras and the scene, the video and the batch go on; a model that cannot be
loaded (in :meth:`TextReader.open`) fails the video. The text encoder then embeds
``ocr_text`` as ``result.ocr`` (``None`` without text).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Any, TypeVar

import numpy as np

from .components import StageComponent, VideoJob
from .window import FrameSampling

log = logging.getLogger("egorag")

#: Frames whose shorter side is below this many pixels are not read (no legible text fits).
MIN_SIDE = 16
#: A frame whose small grey copy varies by less than this (standard deviation, 0-255) is
#: blank (black, one colour): not read.
BLANK_STD = 2.0
#: The side of the grey thumbnails that near-duplicate frames are compared on.
THUMB = 48


@dataclass
class OcrOptions:
    """The options every ``ocr`` component has (its own options dataclass extends this)."""

    #: Frames read per scene at most, spread over the scene (their slot centres).
    max_frames: int
    #: Lines the engine is less sure of than this (0-1) are dropped.
    min_confidence: float
    #: Lines with fewer letters or digits than this are dropped (a lone glyph is mostly a
    #: shape misread).
    min_chars: int
    #: A frame whose grey thumbnail differs from one already read in the scene by less than
    #: this (mean absolute difference, 0-255) is a near-duplicate: not read.
    duplicate_threshold: float
    #: The shorter side, in pixels, frames are decoded at for reading (never above the video's);
    #: null: full size. Small text needs pixels.
    side: int | None


OcrOptionsT = TypeVar("OcrOptionsT", bound=OcrOptions)


@dataclass(frozen=True)
class TextLine:
    """A line of text found in a frame: the text, the engine's confidence (0-1), and the
    box's four corners ``((x, y), ...)`` in pixels of the frame it was read from."""

    text: str
    confidence: float
    box: tuple[tuple[float, float], ...]
    #: Seconds into the video of the frame (set by the core).
    time: float = 0.0

    @property
    def top(self) -> float:
        return min(y for _, y in self.box)

    @property
    def bottom(self) -> float:
        return max(y for _, y in self.box)

    @property
    def left(self) -> float:
        return min(x for x, _ in self.box)

    @property
    def right(self) -> float:
        return max(x for x, _ in self.box)

    @property
    def height(self) -> float:
        return max(1.0, self.bottom - self.top)

    def to_dict(self) -> dict[str, Any]:
        """The line as stored in ``extras["ocr"]["lines"]`` (box in video pixels)."""
        return {"text": self.text, "confidence": round(float(self.confidence), 4),
                "box": [[round(float(x), 1), round(float(y), 1)] for x, y in self.box],
                "time": round(float(self.time), 3)}  # fmt: skip


class TextReader(StageComponent[OcrOptionsT]):
    """An ``ocr`` component: implement :meth:`read`; the core does the rest (module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._counts = {"frames_read": 0, "frames_skipped": 0, "frame_errors": 0, "lines": 0}
        self._lock = threading.Lock()

    def open(self, job: VideoJob) -> contextlib.AbstractContextManager[Any]:
        """What :meth:`read` needs, held for one window of scenes: its models, borrowed from
        ``job.scheduler`` (``return self.model(job)`` in a ``ModelComponent``). An error here
        fails the stage (and the video); the default holds nothing (``None``)."""
        return contextlib.nullcontext()

    @abstractmethod
    def read(self, images: Sequence[np.ndarray], loaded: Any) -> list[list[TextLine]]:
        """The lines of text in each image (RGB uint8 ``(H, W, 3)``), one list per image, in
        any order, boxes in the image's pixels; ``loaded`` is what :meth:`open` gave."""

    def stats(self) -> dict[str, Any]:
        """Frames read, frames left out (blank, tiny, near-duplicate), frames the engine
        failed on, and lines kept, over the run."""
        with self._lock:
            return dict(self._counts)

    def _count(self, **added: int) -> None:
        with self._lock:
            for key, value in added.items():
                self._counts[key] += value

    def frame_sampling(self) -> FrameSampling:
        return FrameSampling(None, self.options.max_frames)

    def frame_side(self) -> int | None:
        return self.options.side

    def reads_keyframes(self) -> bool:
        return False  # its own frames, sampled here

    def process(self, job: VideoJob) -> None:
        """Read each scene's sampled frames; set ``ocr_text`` and ``extras["ocr"]``."""
        with self.open(job) as loaded:
            self._process(job, loaded)

    def _process(self, job: VideoJob, loaded: Any) -> None:
        sampling = self.frame_sampling()
        for scene, result in zip(job.scenes, job.results, strict=True):
            frames = sampling.sample(job.frames, scene)
            chosen, skipped = choose_frames(frames.array, frames.times,
                                            self.options.duplicate_threshold)  # fmt: skip
            found, errors = self._read_frames(loaded, [frames.array[i] for i in chosen], job.path)
            scale = box_scale(job, frames.array)
            lines = [replace(line, time=frames.times[chosen[k]], box=scaled(line.box, scale))
                     for k, frame_lines in enumerate(found) for line in frame_lines
                     if line.confidence >= self.options.min_confidence
                     and len(compact(line.text)) >= self.options.min_chars]
            kept = merge_lines(lines)  # fmt: skip
            result.ocr_text = "\n".join(line.text for line in kept)
            record: dict[str, Any] = {"lines": [line.to_dict() for line in kept],
                                      "frames": [round(frames.times[i], 3) for i in chosen]}
            skipped += [{"time": round(frames.times[chosen[k]], 3), "reason": e}
                        for k, e in errors.items()]  # fmt: skip
            if skipped:
                record["skipped"] = skipped
            result.extras["ocr"] = record
            self._count(frames_read=len(chosen) - len(errors), frames_skipped=len(skipped)
                        - len(errors), frame_errors=len(errors), lines=len(kept))  # fmt: skip

    def _read_frames(self, loaded: Any, images: list[np.ndarray], path: str
                     ) -> tuple[list[list[TextLine]], dict[int, str]]:  # fmt: skip
        """The engine's lines per image; when the batch fails, each image alone, so one bad
        frame costs only itself (its error, by position, in the second value)."""
        if not images:
            return [], {}
        try:
            found = self.read(images, loaded)
            if len(found) != len(images):
                raise ValueError(f"read() gave {len(found)} results for {len(images)} frames")
            return found, {}
        except Exception:  # find the frame(s) at fault
            pass
        out: list[list[TextLine]] = []
        errors: dict[int, str] = {}
        for k, image in enumerate(images):
            try:
                out.append(self.read([image], loaded)[0])
            except Exception as exc:
                out.append([])
                first = (str(exc).strip().splitlines() or [""])[0]
                errors[k] = f"unreadable: {type(exc).__name__}: {first}"[:300]
                log.warning("%s: ocr could not read a frame (%s)", path, errors[k])
        return out, errors


def thumbnail(image: np.ndarray) -> np.ndarray:
    """A small grey copy of ``image`` (about :data:`THUMB` pixels a side), float32."""
    grey = image.astype(np.float32).mean(axis=2) if image.ndim == 3 else image.astype(np.float32)
    step_y = max(1, grey.shape[0] // THUMB)
    step_x = max(1, grey.shape[1] // THUMB)
    return grey[::step_y, ::step_x]


def frame_problem(image: np.ndarray) -> str | None:
    """Why ``image`` is not worth reading (empty, tiny, not an image, blank), or ``None``."""
    if image.ndim != 3 or image.shape[2] != 3:
        return f"not an RGB frame (shape {tuple(image.shape)})"
    height, width = image.shape[:2]
    if min(height, width) < MIN_SIDE:
        return f"too small to read ({width}x{height} px, under {MIN_SIDE})"
    if float(thumbnail(image).std()) < BLANK_STD:
        return "blank (one colour)"
    return None


def choose_frames(images: np.ndarray | Sequence[np.ndarray], times: Sequence[float],
                  threshold: float) -> tuple[list[int], list[dict[str, Any]]]:  # fmt: skip
    """The positions of the frames to read, and the others with the reason (empty, tiny,
    blank, or a near-duplicate of a frame chosen before it)."""
    chosen: list[int] = []
    thumbs: list[np.ndarray] = []
    skipped: list[dict[str, Any]] = []
    for i, image in enumerate(images):
        problem = frame_problem(np.asarray(image))
        thumb = thumbnail(np.asarray(image)) if problem is None else None
        if thumb is not None:
            same = [t for t in thumbs if t.shape == thumb.shape
                    and float(np.abs(t - thumb).mean()) < threshold]  # fmt: skip
            problem = "near-duplicate of a frame read" if same else None
        if problem is None and thumb is not None:
            chosen.append(i)
            thumbs.append(thumb)
        else:
            skipped.append({"time": round(float(times[i]), 3), "reason": problem})
    return chosen, skipped


def box_scale(job: VideoJob, images: np.ndarray) -> tuple[float, float]:
    """From the pixels of the frames read to the video's (display) pixels."""
    if images.ndim != 4 or not images.shape[1] or not images.shape[2]:
        return 1.0, 1.0
    return job.info.width / images.shape[2], job.info.height / images.shape[1]


def scaled(box: Sequence[Sequence[float]], scale: tuple[float, float]
           ) -> tuple[tuple[float, float], ...]:  # fmt: skip
    return tuple((float(x) * scale[0], float(y) * scale[1]) for x, y in box)


def compact(text: str) -> str:
    """``text`` for comparing readings: lower case, letters and digits only."""
    return re.sub(r"[\W_]+", "", text.casefold())


def same_row(a: TextLine, b: TextLine) -> bool:
    """Whether two boxes sit on one line (their vertical centres within half a height)."""
    return abs((a.top + a.bottom) - (b.top + b.bottom)) / 2 < 0.5 * min(a.height, b.height)


def join_pieces(lines: Sequence[TextLine]) -> list[TextLine]:
    """Pieces of one line in one frame (boxes on a row, less than two heights apart) joined,
    left to right, with a space."""
    out: list[TextLine] = []
    for line in sorted(lines, key=lambda item: item.left):
        near = [k for k, o in enumerate(out) if same_row(o, line)
                and line.left - o.right < 2 * min(o.height, line.height)]  # fmt: skip
        if not near:
            out.append(line)
            continue
        o = out[near[-1]]
        box = ((o.left, min(o.top, line.top)), (line.right, min(o.top, line.top)),
               (line.right, max(o.bottom, line.bottom)), (o.left, max(o.bottom, line.bottom)))
        confidence = min(o.confidence, line.confidence)
        out[near[-1]] = TextLine(f"{o.text} {line.text}", confidence, box, o.time)
    return out


def reading_order(lines: Sequence[TextLine]) -> list[TextLine]:
    """Rows top to bottom, each left to right (as a person reads a frame)."""
    ordered = sorted(lines, key=lambda item: (item.top + item.bottom) / 2)
    rows: list[list[TextLine]] = []
    for line in ordered:
        if rows and same_row(rows[-1][0], line):
            rows[-1].append(line)
        else:
            rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda item: item.left)]


def similar(a: str, b: str) -> bool:
    """Two readings of the same line: the same digits, and one holds the other or they are
    80% alike (``ROOM 5`` and ``ROOM 6`` stay two lines)."""
    if not a or not b:
        return a == b
    if re.sub(r"\D", "", a) != re.sub(r"\D", "", b):
        return False
    if (a in b or b in a) and min(len(a), len(b)) >= 3:
        return True
    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= 0.8


def merge_lines(lines: Sequence[TextLine]) -> list[TextLine]:
    """A scene's distinct lines: per frame (in time order) joined and put in reading order;
    a line like one already kept replaces it when longer or surer, else is dropped."""
    kept: list[TextLine] = []
    for time in sorted({line.time for line in lines}):
        frame = reading_order(join_pieces([line for line in lines if line.time == time]))
        for line in frame:
            key = compact(line.text)
            match = next((k for k, o in enumerate(kept) if similar(compact(o.text), key)), None)
            if match is None:
                kept.append(line)
                continue
            old = kept[match]
            if (len(key), line.confidence) > (len(compact(old.text)), old.confidence):
                kept[match] = line
    return kept


def video_text(texts: Sequence[str | None]) -> str | None:
    """A video's OCR text: the distinct lines of its scenes' ``ocr_text``, in order of first
    appearance; ``None`` when no scene was read (OCR off)."""
    if all(text is None for text in texts):
        return None
    seen: dict[str, str] = {}
    for text in texts:
        for line in (text or "").splitlines():
            if line.strip() and compact(line) not in seen:
                seen[compact(line)] = line.strip()
    return "\n".join(seen.values())
