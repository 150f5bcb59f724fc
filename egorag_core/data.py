"""The data model: scenes, per-scene encodings, videos and datasets (the seed's API)."""

from __future__ import annotations

import json
import math
import os
import pickle
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: The vector modalities of a scene (``ocr``: the text encoder's embedding of the text read in
#: its frames, present only where an ``ocr`` stage ran and found text).
MODALITIES = ("video", "audio", "text", "caption", "ocr")


from .errors import InputError  # noqa: E402  (re-exported)


@dataclass(frozen=True, order=True)
class Scene:
    """A time span of a video, in seconds: ``start`` inclusive, ``end`` exclusive."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, float]:
        return {"start": self.start, "end": self.end}


def validate_scenes(scenes: Sequence[Scene], duration: float | None, where: str) -> list[Scene]:
    """Check that scenes are sorted, non-overlapping, non-empty and inside ``[0, duration]``.

    A tolerance of one millisecond absorbs rounding in container durations.
    """
    eps = 1e-3
    if not scenes:
        raise InputError(f"{where}: precomputed scenes are empty")
    out: list[Scene] = []
    for i, s in enumerate(scenes):
        if not (math.isfinite(s.start) and math.isfinite(s.end)):
            raise InputError(f"{where}: scene {i} has a non-finite time")
        if s.start < -eps or s.end <= s.start:
            raise InputError(f"{where}: scene {i} ({s.start}-{s.end}) is empty or negative")
        if out and s.start < out[-1].end - eps:
            raise InputError(
                f"{where}: scene {i} ({s.start}-{s.end}) overlaps or precedes scene {i - 1} "
                f"({out[-1].start}-{out[-1].end}); scenes must be sorted and non-overlapping"
            )
        if duration is not None and s.end > duration + eps:
            raise InputError(
                f"{where}: scene {i} ends at {s.end}s, after the end of the video ({duration:.3f}s)"
            )
        out.append(Scene(max(0.0, s.start), s.end if duration is None else min(s.end, duration)))
    return out


@dataclass
class SceneEncoding:
    """What the stages produce for one scene. Vectors are float32 numpy arrays or ``None``."""

    video: np.ndarray | None = None
    audio: np.ndarray | None = None
    text: np.ndarray | None = None
    caption: np.ndarray | None = None
    transcript: str = ""
    caption_text: str = ""
    #: The distinct lines of text read in the scene's frames, in reading order, one a line
    #: (``""``: none found); ``None`` when no ``ocr`` stage ran.
    ocr_text: str | None = None
    #: The text encoder's embedding of ``ocr_text`` (``None`` without text).
    ocr: np.ndarray | None = None
    #: Frames (T, H, W, 3) uint8 handed from the video stage to the captioner; never stored.
    keyframes: np.ndarray | None = None
    #: Times in seconds of ``keyframes``.
    keyframe_times: list[float] = field(default_factory=list)
    #: Stage-specific extras that are stored as JSON (audio events, speaker segments, words...).
    extras: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The seed's per-scene dictionary (vectors, transcript, caption text, extras), with
        ``ocr`` and ``ocr_text`` where an ``ocr`` stage ran."""
        out = {
            "video": self.video,
            "audio": self.audio,
            "text": self.text,
            "caption": self.caption,
            "transcript": self.transcript,
            "caption_text": self.caption_text,
            "extras": self.extras,
        }
        if self.ocr_text is not None:
            out.update(ocr=self.ocr, ocr_text=self.ocr_text)
        return out


@dataclass
class VideoDatapoint:
    """One video: its scenes and, once encoded, their encodings and the global embeddings."""

    video_path: str
    video_name: str
    scenes: list[Scene] = field(default_factory=list)
    #: Scenes given in the input (``scenes=precomputed`` or any splitter when present).
    precomputed_scenes: list[Scene] | None = None
    #: A problem found in this video's input entry; the video fails with it, the others run.
    input_error: str | None = None
    scene_embeddings: list[SceneEncoding] = field(default_factory=list)
    global_embeddings: dict[str, np.ndarray] = field(default_factory=dict)
    has_audio: bool | None = None
    duration: float | None = None
    #: The distinct lines of text read in the whole video (``None``: no ``ocr`` stage ran).
    ocr_text: str | None = None
    #: When recording began (ISO 8601, the input list's ``recorded_at``); ``None``: the file's
    #: ``creation_time`` tag is used where it has one (:mod:`egorag_core.clock`).
    recorded_at: str | None = None

    def compute_global_embeddings(self) -> dict[str, np.ndarray]:
        """Per modality, the mean of the scene vectors that exist, renormalised to unit length
        (so it is searched by cosine like the scene vectors); none where no scene has one."""
        result: dict[str, np.ndarray] = {}
        for name in MODALITIES:
            vectors = [getattr(s, name) for s in self.scene_embeddings]
            vectors = [v for v in vectors if v is not None]
            mean = unit_vector(np.mean(np.stack(vectors), axis=0)) if vectors else None
            if mean is not None:
                result[name] = mean
        self.global_embeddings = result
        return result


def _time_problem(text: str, where: str) -> str | None:
    """Why ``text`` is not a ``recorded_at`` time, ``None`` when it is one."""
    import datetime as dt

    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return f"{where}: recorded_at {text!r} is not an ISO 8601 time (e.g. 2026-11-28T15:00)"
    return None


def unit_vector(vector: np.ndarray) -> np.ndarray | None:
    """``vector`` scaled to unit length, as float32; ``None`` when it has no direction (all
    zeros) or holds NaN or infinite values."""
    flat = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(flat))
    if not np.isfinite(norm) or norm == 0.0:
        return None
    return (flat / norm).astype(np.float32)


def unit_scene_vectors(encodings: Iterable[SceneEncoding], tolerance: float = 1e-3) -> set[str]:
    """Scale every scene vector to unit length, in place (one with no direction becomes
    ``None``); return the modalities where some vector was more than ``tolerance`` off."""
    off: set[str] = set()
    for encoding in encodings:
        for name in MODALITIES:
            vector = getattr(encoding, name)
            if vector is None:
                continue
            unit = unit_vector(vector)
            if unit is None or abs(float(np.linalg.norm(vector)) - 1.0) > tolerance:
                off.add(name)
            setattr(encoding, name, unit)
    return off


def _parse_scenes(raw: Any, where: str) -> list[Scene]:
    """``[[start, end], ...]`` or ``[{start, end}, ...]`` as scenes (validated later, per video,
    against the video's duration)."""
    if not isinstance(raw, list):
        raise InputError(f"{where}: 'scenes' must be a list of [start, end] or {{start, end}}")
    scenes = []
    for i, item in enumerate(raw):
        try:
            if isinstance(item, dict):
                start, end = float(item["start"]), float(item["end"])
            else:
                start, end = (float(x) for x in item)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{where}: scene {i} is not [start, end] or {{start, end}}") from exc
        scenes.append(Scene(start, end))
    return scenes


VIDEO_SUFFIXES = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".flv"}


class VideoDataset:
    """A list of videos to encode, or encoded (the seed's ``VideoDataset``)."""

    def __init__(self, video_datapoints: Iterable[VideoDatapoint] = (), encoded: bool = False):
        self.video_datapoints: list[VideoDatapoint] = list(video_datapoints)
        self.encoded = encoded

    def __len__(self) -> int:
        return len(self.video_datapoints)

    def __iter__(self) -> Iterator[VideoDatapoint]:
        return iter(self.video_datapoints)

    def __getitem__(self, i: int) -> VideoDatapoint:
        return self.video_datapoints[i]

    @classmethod
    def from_json(cls, path: str | Path) -> VideoDataset:
        """Read the seed's JSON: a list (or ``{"videos": [...]}``) of entries with ``path``
        (or ``video_path``), optional ``name``, optional ``scenes`` (``[[start, end], ...]``)
        and optional ``recorded_at`` (when recording began, ISO 8601). Relative paths are
        relative to the JSON file."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise InputError(f"{path}: input file not found") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: malformed JSON ({exc})") from exc
        if isinstance(data, dict):
            data = data.get("videos", data.get("video_datapoints"))
        if not isinstance(data, list):
            raise InputError(f"{path}: expected a list of videos or {{'videos': [...]}}")
        points = []
        for i, entry in enumerate(data):
            where = f"{path} entry {i}"
            if isinstance(entry, str):
                entry = {"path": entry}
            if not isinstance(entry, dict):
                raise InputError(f"{where}: expected an object with a 'path'")
            raw_path = entry.get("path", entry.get("video_path"))
            if not isinstance(raw_path, str) or not raw_path:
                raise InputError(f"{where}: missing 'path'")
            video_path = Path(raw_path)
            if not video_path.is_absolute():
                video_path = path.parent / video_path
            video_path = Path(os.path.abspath(video_path))
            name = entry.get("name", entry.get("video_name")) or video_path.stem
            point = VideoDatapoint(str(video_path), str(name))
            if entry.get("recorded_at") is not None:
                point.recorded_at = str(entry["recorded_at"])
                point.input_error = _time_problem(point.recorded_at, f"{video_path} ({where})")
            if entry.get("scenes") is not None:
                try:
                    point.precomputed_scenes = _parse_scenes(
                        entry["scenes"], f"{video_path} ({where})"
                    )
                except InputError as exc:
                    point.input_error = str(exc)
            points.append(point)
        return cls(points)

    @classmethod
    def from_path(cls, path: str | Path) -> VideoDataset:
        """A JSON file, a folder (its video files, sorted) or a single video file."""
        path = Path(path)
        if path.suffix.lower() == ".json":
            return cls.from_json(path)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
            if not files:
                raise InputError(f"{path}: folder has no video files ({', '.join(VIDEO_SUFFIXES)})")
            return cls(VideoDatapoint(os.path.abspath(p), p.stem) for p in files)
        return cls([VideoDatapoint(os.path.abspath(path), path.stem)])

    def save(self, path: str | Path) -> Path:
        """Write a pickle (the seed's format). Only for trusted use: see :meth:`load`."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            pickle.dump(self._to_plain(), f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> VideoDataset:
        """Read an index folder (the LanceDB index a run writes, or the run's output folder
        holding it as ``index/``), or a pickle written by :meth:`save`.

        Loading a pickle runs arbitrary code: only load files you wrote yourself. The index
        (:mod:`egorag_core.store`) has no such risk.
        """
        if Path(path).is_dir():
            return cls._load_index(Path(path))
        with open(path, "rb") as f:
            plain = pickle.load(f)  # noqa: S301 - trusted input only, documented
        return cls._from_plain(plain)

    @classmethod
    def _load_index(cls, path: Path) -> VideoDataset:
        """Every video of the index at ``path`` (or ``path/index``), encoded."""
        from .store import VIDEOS, LanceStore

        if not any(path.glob("*.lance")) and (path / "index").is_dir():
            path = path / "index"
        store = LanceStore(path, create=False)
        if VIDEOS not in store.tables():
            raise InputError(f"{path}: not an egorag index (no videos table)")
        return store.read()

    def _to_plain(self) -> dict[str, Any]:
        points = []
        for p in self.video_datapoints:
            point = {
                "video_name": p.video_name,
                "video_path": p.video_path,
                "scenes": {f"scene_{i}": s.to_dict() for i, s in enumerate(p.scenes)},
                "scene_embeddings": {
                    f"scene_{i}": e.as_dict() for i, e in enumerate(p.scene_embeddings)
                },
                "global_embeddings": dict(p.global_embeddings),
                "has_audio": p.has_audio,
                "duration": p.duration,
            }
            if p.ocr_text is not None:
                point["ocr_text"] = p.ocr_text
            points.append(point)
        return {"video_datapoints": points, "encoded": self.encoded}

    @classmethod
    def _from_plain(cls, plain: dict[str, Any]) -> VideoDataset:
        points = []
        for d in plain["video_datapoints"]:
            scenes = [Scene(s["start"], s["end"]) for s in d["scenes"].values()]
            encodings = [
                SceneEncoding(
                    video=e["video"],
                    audio=e["audio"],
                    text=e["text"],
                    caption=e["caption"],
                    transcript=e["transcript"],
                    caption_text=e["caption_text"],
                    ocr_text=e.get("ocr_text"),
                    ocr=e.get("ocr"),
                    extras=e.get("extras", {}),
                )
                for e in d["scene_embeddings"].values()
            ]
            points.append(
                VideoDatapoint(
                    d["video_path"],
                    d["video_name"],
                    scenes=scenes,
                    scene_embeddings=encodings,
                    global_embeddings=d["global_embeddings"],
                    has_audio=d["has_audio"],
                    duration=d.get("duration"),
                    ocr_text=d.get("ocr_text"),
                )
            )
        return cls(points, encoded=plain.get("encoded", False))
