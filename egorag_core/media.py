"""Media: probe a file with ffprobe, decode its frames once, extract its audio once.

Every stage gets frames from the one :class:`VideoFrames` opened for a video, by time or by
sampling rate, always capped so memory per scene is bounded whatever the scene length.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import shutil
import subprocess
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .data import InputError, Scene

AUDIO_SAMPLE_RATE = 16_000
T = TypeVar("T")


@dataclass(frozen=True)
class VideoInfo:
    """What ffprobe says of a file."""

    path: str
    duration: float
    fps: float
    frame_count: int
    width: int
    height: int
    has_audio: bool
    #: Display rotation in degrees (the stream's display matrix): frames come out turned by
    #: it, and ``width``/``height`` are the displayed ones.
    rotation: int = 0
    #: Seconds from the file's start to the video stream's start: video time 0, where the
    #: audio is read from.
    video_start: float = 0.0


def _require(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        raise RuntimeError(f"{tool} not found: install ffmpeg (e.g. `apt-get install ffmpeg`)")
    return exe


def _rate(text: str | None) -> float:
    if not text or text in ("0/0", "N/A"):
        return 0.0
    num, _, den = text.partition("/")
    try:
        return float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return 0.0


def probe(path: str | Path) -> VideoInfo:
    """Probe ``path``; raise :class:`InputError` naming the file when it is not a usable video."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a video file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    cmd = [_require("ffprobe"), "-v", "error", "-print_format", "json", "-show_format",
           "-show_streams", "--", str(path)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["unreadable"])[-1]
        raise InputError(f"{path}: not a readable media file ({detail})")
    data = json.loads(proc.stdout or "{}")
    streams = data.get("streams", [])
    video = next(
        (s for s in streams if s.get("codec_type") == "video"
         and not s.get("disposition", {}).get("attached_pic")),
        None,
    )  # fmt: skip
    has_audio = any(s.get("codec_type") == "audio" for s in streams)
    if video is None:
        kind = "audio-only file" if has_audio else "no video stream"
        raise InputError(f"{path}: {kind}; a video track is needed")
    fps = _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate"))
    duration = float(video.get("duration") or data.get("format", {}).get("duration") or 0.0)
    frames = int(video.get("nb_frames") or 0) or int(round(duration * fps))
    if duration <= 0 and frames and fps:
        duration = frames / fps
    if duration <= 0 or fps <= 0:
        raise InputError(f"{path}: video stream has no duration or frame rate (truncated?)")
    width, height = int(video.get("width", 0)), int(video.get("height", 0))
    rotation = _rotation(video)
    if rotation % 180:
        width, height = height, width
    start = _seconds(video.get("start_time")) - _seconds(data.get("format", {}).get("start_time"))
    return VideoInfo(str(path), duration, fps, frames, width, height, has_audio, rotation,
                     max(0.0, start))  # fmt: skip


def _seconds(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return 0.0


def _rotation(stream: dict[str, Any]) -> int:
    """The display rotation of an ffprobe stream (side data, or the old ``rotate`` tag),
    degrees as a multiple of 90."""
    for side in stream.get("side_data_list", []):
        if "rotation" in side:
            return int(round(float(side["rotation"]) / 90)) * 90 % 360
    return int(round(_seconds(stream.get("tags", {}).get("rotate")) / 90)) * 90 % 360


def _audio_command(
    path: str | Path, start: float, seconds: float | None, rate: int, video_start: float
) -> list[str]:
    """ffmpeg reading the audio of ``path`` from video time ``start`` as mono float32 at
    ``rate``. Video time 0 is ``video_start`` s into the file; ``aresample`` pads an audio
    stream that starts late (and gaps) with silence, so sample 0 is video time ``start``."""
    cmd = [_require("ffmpeg"), "-nostdin", "-v", "error"]
    if start + video_start > 0:
        cmd += ["-ss", f"{start + video_start:.6f}"]
    if seconds is not None:
        cmd += ["-t", f"{max(0.0, seconds):.6f}"]
    return cmd + ["-i", str(path), "-vn", "-ac", "1", "-af", "aresample=async=1:first_pts=0",
                  "-ar", str(rate), "-f", "f32le", "-"]  # fmt: skip


def extract_audio(
    path: str | Path,
    start: float = 0.0,
    end: float | None = None,
    rate: int = AUDIO_SAMPLE_RATE,
    video_start: float = 0.0,
    expected_seconds: float | None = None,
) -> np.ndarray:
    """The audio of ``path`` (or of ``[start, end)`` in video time) as mono float32 in [-1, 1]
    at ``rate``, aligned to the video (see :func:`_audio_command`). Read from ffmpeg straight
    into one array sized for ``expected_seconds`` (or the span), so a whole track is held once,
    not as bytes and again as samples."""
    import tempfile

    seconds = None if end is None else end - start
    expected = expected_seconds if expected_seconds is not None else seconds
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(_audio_command(path, start, seconds, rate, video_start),
                                stdout=subprocess.PIPE, stderr=errors)  # fmt: skip
        assert proc.stdout is not None
        try:
            samples = read_samples(proc.stdout, int((expected or 30.0) * rate) + rate)
        finally:
            proc.stdout.close()
            code = proc.wait()
        if code != 0:
            raise audio_error(path, errors)
    return samples


def audio_error(path: str | Path, errors: Any) -> InputError:
    """The one-line error for audio ffmpeg could not decode, from its stderr file."""
    errors.seek(0)
    lines = errors.read().decode(errors="replace").strip().splitlines() or ["?"]
    return InputError(f"{path}: audio could not be decoded ({lines[-1]})")


def read_samples(stream: Any, capacity: int) -> np.ndarray:
    """Every float32 sample of ``stream`` until its end: read into an array of ``capacity``
    samples, then in pieces of that size when more come (joined once at the end)."""
    pieces: list[np.ndarray] = []
    while True:
        piece = np.empty(capacity, dtype=np.float32)
        with memoryview(piece.view(np.uint8)) as view:  # type: ignore[arg-type]
            filled = 0
            while filled < len(view) and (n := stream.readinto(view[filled:])):
                filled += n
        pieces.append(piece[: filled // 4])
        if filled < piece.nbytes:
            break
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


class AudioReader:
    """The audio of one video at one sample rate, read forward span by span from one ffmpeg
    process: only the span asked for is held, whatever the video's length. Asking for an
    earlier span, or one far ahead, restarts ffmpeg there. Close it (or use ``with``)."""

    #: Read forward rather than restart when the next span starts at most this far ahead (s).
    restart_after_s = 30.0

    def __init__(self, info: VideoInfo, rate: int):
        self.info, self.rate = info, rate
        self.opens = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._errors: Any = None
        self._position = 0  # sample index (video time * rate) of the next sample in the pipe

    def read(self, start: float, end: float) -> np.ndarray:
        """Mono float32 samples of ``[start, end)`` in video time (shorter at the end of the
        audio, empty past it)."""
        a = max(0, int(round(start * self.rate)))
        b = max(a, int(round(end * self.rate)))
        ahead = a - self._position
        if self._proc is None or ahead < 0 or ahead > self.restart_after_s * self.rate:
            self._open(a)
        self._take(a - self._position)
        return self._take(b - a)

    def _open(self, sample: int) -> None:
        import tempfile

        self.close()
        cmd = _audio_command(self.info.path, sample / self.rate, None, self.rate,
                             self.info.video_start)  # fmt: skip
        self._errors = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._errors)
        self._position = sample
        self.opens += 1

    def _take(self, count: int) -> np.ndarray:
        """The next ``count`` samples from the pipe (fewer at its end)."""
        assert self._proc is not None and self._proc.stdout is not None
        data = self._proc.stdout.read(4 * count) if count > 0 else b""
        self._position += len(data) // 4
        if len(data) < 4 * count and self._proc.wait() != 0 and not data:
            raise audio_error(self.info.path, self._errors)
        return np.frombuffer(data[: len(data) // 4 * 4], dtype=np.float32).copy()

    def close(self) -> None:
        """Stop ffmpeg and drop its pipe."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            assert self._proc.stdout is not None
            self._proc.stdout.close()
            self._errors.close()
            self._proc = None

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Frames:
    """Decoded frames ``(T, H, W, 3)`` uint8 RGB, their frame indices and times in seconds."""

    array: np.ndarray
    indices: tuple[int, ...]
    times: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.indices)


def sample_indices(
    scene: Scene, fps: float, frame_count: int, sample_fps: float | None, max_frames: int
) -> list[int]:
    """Frame indices of ``scene`` at ``sample_fps`` (``None``: every frame), at most ``max_frames``
    spread uniformly, at least one. Sampled frames sit at the centres of equal time slots."""
    first = min(frame_count - 1, max(0, int(math.floor(scene.start * fps + 1e-6))))
    last = max(first, min(frame_count - 1, int(math.ceil(scene.end * fps - 1e-6)) - 1))
    available = last - first + 1
    wanted = available if sample_fps is None else max(1, int(round(scene.duration * sample_fps)))
    n = max(1, min(wanted, available, max_frames))
    # The centre of each of n equal slots over [first, last + 1).
    positions = first + (np.arange(n) + 0.5) * (available / n)
    return sorted({min(last, int(p)) for p in positions})


#: 8-bit 4:2:0 pixel formats whose Y/U/V planes :func:`small_bgr` samples directly.
PLANE_FORMATS = frozenset({"yuv420p", "yuvj420p"})
_JPEG_RANGE = 2  # AVCOL_RANGE_JPEG: full-range (0-255) samples
#: Full-range to limited-range lookup tables: luma (16-235), then chroma (16-240).
_TO_LIMITED = (
    np.round(16 + np.arange(256) * (219 / 255)).astype(np.uint8),
    np.round(128 + (np.arange(256) - 128) * (224 / 255)).astype(np.uint8),
)


def _turns(frame: Any) -> int:
    """Quarter turns counterclockwise that show ``frame`` as a player does (its display matrix:
    ``np.rot90(array, k)`` equals ffmpeg's autorotate)."""
    return int(round((getattr(frame, "rotation", 0) or 0) / 90)) % 4


def _rgb(frame: Any, size: tuple[int, int] | None = None) -> np.ndarray:
    """A decoded PyAV frame as ``(H, W, 3)`` uint8 RGB, turned upright: at full size, or made
    ``size`` = ``(width, height)`` (upright) by swscale in the same conversion."""
    turns = _turns(frame)
    if size is None:
        array = frame.to_ndarray(format="rgb24")
    else:
        width, height = size[::-1] if turns % 2 else size
        array = frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
    return np.rot90(array, turns) if turns else array


def frame_size(width: int, height: int, side: int | None) -> tuple[int, int] | None:
    """``(width, height)`` whose shorter side is ``side`` (aspect kept, even sides); ``None``
    (full size) when ``side`` is ``None`` or the video is not larger."""
    if side is None or min(width, height) <= side:
        return None
    scale = side / min(width, height)  # sides rounded up to even: never below ``side``
    return math.ceil(width * scale / 2) * 2, math.ceil(height * scale / 2) * 2


def _as_is(frame: Any) -> Any:
    """The decoded PyAV frame itself (converted later, elsewhere)."""
    return frame


@functools.lru_cache(maxsize=64)
def _positions(src: int, dst: int) -> np.ndarray:
    """``dst`` indices into ``src`` samples, each at the centre of its cell (nearest neighbour)."""
    return np.minimum(((np.arange(dst) + 0.5) * (src / dst)).astype(np.intp), src - 1)


def _sampled_plane(plane: Any, rows: int, cols: int) -> np.ndarray:
    """An 8-bit PyAV plane nearest-sampled to ``(rows, cols)``, read in place (no full copy)."""
    data = np.frombuffer(plane, np.uint8, count=plane.line_size * plane.height)
    data = data.reshape(plane.height, plane.line_size)
    return data[_positions(plane.height, rows)][:, _positions(plane.width, cols)]


def _planes_bgr(frame: Any, width: int, height: int) -> np.ndarray:
    """An 8-bit 4:2:0 frame as ``(height, width, 3)`` BGR: its planes sampled to the small size,
    full range squeezed to limited, then one BT.601 I420 conversion (OpenCV) of the small frame."""
    import cv2

    w2, h2 = width + width % 2, height + height % 2  # I420 needs even sides
    sizes = ((h2, w2), (h2 // 2, w2 // 2), (h2 // 2, w2 // 2))
    y, u, v = (_sampled_plane(p, *size) for p, size in zip(frame.planes, sizes, strict=True))
    if frame.format.name == "yuvj420p" or frame.color_range == _JPEG_RANGE:
        y, u, v = _TO_LIMITED[0][y], _TO_LIMITED[1][u], _TO_LIMITED[1][v]
    i420 = np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(h2 * 3 // 2, w2)
    bgr = cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420)
    return bgr if (w2, h2) == (width, height) else np.ascontiguousarray(bgr[:height, :width])


@functools.lru_cache(maxsize=1)
def _has_cv2() -> bool:
    return importlib.util.find_spec("cv2") is not None


def small_bgr(frame: Any, width: int, height: int) -> np.ndarray:
    """A decoded PyAV frame as ``(height, width, 3)`` uint8 BGR (OpenCV's order), upright and
    never at full size. 8-bit 4:2:0 frames (:data:`PLANE_FORMATS`) are sampled from their
    planes (nearest neighbour) when OpenCV is installed; every other format (10-bit, 4:2:2,
    4:4:4...) goes through one swscale call, which knows its depth, layout and range."""
    turns = _turns(frame)
    if turns % 2:
        width, height = height, width
    if frame.format.name in PLANE_FORMATS and _has_cv2():
        bgr = _planes_bgr(frame, width, height)
    else:
        bgr = frame.reformat(width=width, height=height, format="bgr24").to_ndarray()
    return np.ascontiguousarray(np.rot90(bgr, turns)) if turns else bgr


class VideoFrames:
    """One open decoder (PyAV) for one video; every stage reads its frames through it.

    Requests are served in order from the current position, seeking only backwards or far
    ahead, so a stage that walks its scenes in order decodes the video about once. Frames are
    cached per request (LRU, bounded by ``cache_bytes``) so a later stage asking for the same
    frames does not decode them again. :attr:`opens_total` counts decoder opens in the process.
    """

    opens_total = 0
    #: Decode forward rather than seek when the next wanted frame is at most this far ahead.
    seek_threshold = 96

    def __init__(self, info: VideoInfo, cache_bytes: int = 256 * 2**20):
        import av

        self.info = info
        try:
            self._container = av.open(info.path)
            self._stream = self._container.streams.video[0]
        except Exception as exc:  # PyAV raises its own error types
            detail = _first_line(exc)
            raise InputError(f"{info.path}: video could not be decoded ({detail})") from exc
        VideoFrames.opens_total += 1
        self._stream.thread_type = "AUTO"
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if rate else info.fps
        self.frame_count = max(1, int(self._stream.frames or 0) or info.frame_count)
        self._time_base = float(self._stream.time_base or 0) or 1.0 / self.fps
        start = self._stream.start_time
        self._start = float(start * self._time_base) if start is not None else 0.0
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[tuple[int, ...], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._frames: Iterator[Any] | None = None
        self._position = -1  # index of the last decoded frame
        self._last: Any = None  # the last decoded PyAV frame

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps

    # -- decoding -----------------------------------------------------------------------------
    def _index_of(self, frame: Any) -> int:
        if frame.pts is None:
            return self._position + 1
        return int(round((frame.pts * self._time_base - self._start) * self.fps))

    def _seek(self, index: int) -> None:
        """Position the decoder before ``index`` (at a keyframe at or before it)."""
        target = int((index / self.fps + self._start) / self._time_base)
        self._container.seek(max(0, target), stream=self._stream, backward=True, any_frame=False)
        self._frames = self._container.decode(self._stream)
        self._position = -1

    def _decode_until(
        self, wanted: list[int], convert: Callable[[Any], Any] = _rgb
    ) -> dict[int, Any]:
        """Decode forward and return the frames at the sorted ``wanted`` indices, each made an
        array by ``convert``. A wanted index past the last decodable frame gets the last frame
        (container counts can overshoot)."""
        out: dict[int, Any] = {}
        first = wanted[0]
        if self._frames is None or first <= self._position or first - self._position > \
                self.seek_threshold:  # fmt: skip
            self._seek(first)
        pending = list(wanted)
        assert self._frames is not None
        for frame in self._frames:
            index = self._index_of(frame)
            self._position, self._last = index, frame
            if index < pending[0]:
                continue
            array = convert(frame)
            while pending and pending[0] <= index:
                out[pending.pop(0)] = array
            if not pending:
                return out
        self._frames = None  # end of stream: the next request seeks
        if self._last is None:
            raise InputError(f"{self.info.path}: no frame could be decoded")
        last = convert(self._last)
        for index in pending:
            out[index] = last
        return out

    def get(self, indices: Sequence[int]) -> Frames:
        """Frames at ``indices`` (clipped to the video)."""
        idx = tuple(min(self.frame_count - 1, max(0, int(i))) for i in indices)
        with self._lock:
            array = self._cache.get(idx)
            if array is None:
                array = self._decode(idx)
                self._remember(idx, array)
            else:
                self._cache.move_to_end(idx)
        return Frames(array, idx, tuple(i / self.fps for i in idx))

    def _decode_map(
        self, idx: Sequence[int], convert: Callable[[Any], Any] = _rgb
    ) -> dict[int, Any]:
        """``convert`` of each frame at ``idx``, by index; decoding errors become one
        :class:`InputError`."""
        try:
            return self._decode_until(sorted(set(idx)), convert)
        except InputError:
            raise
        except Exception as exc:
            self._frames = None
            raise InputError(
                f"{self.info.path}: frames {min(idx)}-{max(idx)} could not be decoded "
                f"({_first_line(exc)})"
            ) from exc

    def _decode(self, idx: Sequence[int], size: tuple[int, int] | None = None) -> np.ndarray:
        """``(len(idx), H, W, 3)`` RGB frames, at full size or ``size`` (see :func:`_rgb`)."""
        frames = self._decode_map(idx, _rgb if size is None else functools.partial(_rgb, size=size))
        return np.stack([frames[i] for i in idx])

    def _remember(self, key: tuple[int, ...], array: np.ndarray) -> None:
        if array.nbytes > self.cache_bytes:
            return
        self._cache[key] = array
        while sum(a.nbytes for a in self._cache.values()) > self.cache_bytes:
            self._cache.popitem(last=False)

    def sample(self, scene: Scene, fps: float | None = 1.0, max_frames: int = 32) -> Frames:
        """Frames of ``scene`` at ``fps`` frames per second (``None``: all), at most
        ``max_frames`` of them, spread uniformly over the scene."""
        return self.get(sample_indices(scene, self.fps, self.frame_count, fps, max_frames))

    def at_times(self, times: Sequence[float]) -> Frames:
        """The frames shown at ``times`` (seconds)."""
        return self.get([int(t * self.fps) for t in times])

    def _steps(self, step: int, chunk: int) -> Iterator[tuple[int, ...]]:
        """Every ``step``-th frame index of the video, ``chunk`` indices at a time."""
        for start in range(0, self.frame_count, step * chunk):
            yield tuple(range(start, min(self.frame_count, start + step * chunk), step))

    def iter_chunks(self, step: int = 1, chunk: int = 64) -> Iterator[Frames]:
        """Every ``step``-th frame of the whole video in order, ``chunk`` frames at a time
        (bounded memory). Not cached."""
        for part in self._steps(step, chunk):
            yield self.get_uncached(part)

    def iter_small_bgr(
        self, width: int, height: int, step: int = 1, chunk: int = 16, ahead: int = 2
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Every ``step``-th frame of the video in order, as ``(index, frame)`` with ``frame``
        ``(height, width, 3)`` uint8 **BGR** made by :func:`small_bgr`, never converted at full
        size: what scene detectors such as PySceneDetect's read. Frames are decoded ``chunk``
        at a time in one background thread and made small in a second, each up to ``ahead``
        chunks ahead (0: all in the caller's thread), so decoding, converting and the caller's
        work run side by side. At most ``chunk * (ahead + 2)`` decoded frames are held."""

        def decoded(part: tuple[int, ...]) -> tuple[tuple[int, ...], dict[int, Any]]:
            with self._lock:
                return part, self._decode_map(part, _as_is)

        def small(batch: tuple[tuple[int, ...], dict[int, Any]]) -> list[tuple[int, np.ndarray]]:
            part, frames = batch
            return [(index, small_bgr(frames[index], width, height)) for index in part]

        batches: Iterator[tuple[tuple[int, ...], dict[int, Any]]]
        batches = map(decoded, self._steps(step, chunk))
        if ahead > 0:
            batches = read_ahead(batches, ahead)
        converted = map(small, batches)
        for batch in read_ahead(converted, ahead) if ahead > 0 else converted:
            yield from batch

    def decode_each(
        self, indices: Sequence[int], size: tuple[int, int] | None = None
    ) -> dict[int, np.ndarray]:
        """The frames at ``indices`` by index, each its own array (no stacked copy), made
        ``size`` while converting when given; not cached."""
        idx = sorted({min(self.frame_count - 1, max(0, int(i))) for i in indices})
        convert = _rgb if size is None else functools.partial(_rgb, size=size)
        with self._lock:
            return self._decode_map(idx, convert)

    def get_uncached(self, indices: Sequence[int], size: tuple[int, int] | None = None) -> Frames:
        """Like :meth:`get`, without touching the cache; frames made ``size`` = ``(width,
        height)`` while converting when given (see :func:`frame_size`)."""
        idx = tuple(min(self.frame_count - 1, max(0, int(i))) for i in indices)
        with self._lock:
            array = self._decode(idx, size)
        return Frames(array, idx, tuple(i / self.fps for i in idx))

    def close(self) -> None:
        with self._lock:
            self._cache.clear()
            self._frames = None
            self._container.close()

    def __enter__(self) -> VideoFrames:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_ahead(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """``items`` in order, up to ``depth`` of them made ahead in one background thread while
    the caller uses the current one (errors are raised to the caller; ``None`` ends)."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="egorag-ahead")
    try:  # the single worker runs the queued next() calls one after another, in order
        pending = deque(pool.submit(next, items, None) for _ in range(max(1, depth)))
        while (item := pending.popleft().result()) is not None:
            pending.append(pool.submit(next, items, None))
            yield item
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
