"""Scene thumbnails: one frame decoded at the scene's keyframe time, a small JPEG cached on disk.

A thumbnail costs one seek and the frames from the keyframe before it (never the whole video);
it is written once to the cache folder beside the index (``<index>/../ui-cache``) and read
from there afterwards. Decoding goes through :mod:`egorag_core.media`, as every stage's does.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import tempfile
import threading
from pathlib import Path

#: The thumbnails' shorter side in pixels (a video that is not larger keeps its size).
SIDE = 144
QUALITY = 80
#: Thumbnails decoded at once (each decode is CPU-bound; the rest wait).
DECODERS = 2


def cache_folder(index: Path) -> Path:
    """Where an index's thumbnails go: ``ui-cache`` beside it, else (not writable) a
    folder of the user's cache named after the index."""
    beside = index.parent / "ui-cache"
    try:
        beside.mkdir(exist_ok=True)
        if os.access(beside, os.W_OK):
            return beside
    except OSError:
        pass
    digest = hashlib.sha256(str(index.resolve()).encode()).hexdigest()[:16]
    fallback = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    folder = fallback / "egorag" / "ui-cache" / digest
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@functools.lru_cache(maxsize=256)
def _probe(path: str, mtime_ns: int, size: int) -> object:
    """ffprobe of ``path`` (cached while the file stays the same)."""
    from ..media import probe

    return probe(path)


class Thumbnails:
    """JPEG thumbnails of scenes, made on demand and cached under ``folder``."""

    def __init__(self, folder: Path, side: int = SIDE):
        self.folder = folder
        self.side = side
        self._decoding = threading.Semaphore(DECODERS)
        #: Frames decoded so far by this process (a page's worth is one per new thumbnail).
        self.decoded = 0

    def cached(self, key: str, scene: int) -> Path:
        """The cache file of scene ``scene`` of video ``key`` (``key`` is an index key)."""
        return self.folder / f"{key}-{int(scene)}.jpg"

    def get(self, video: Path, key: str, scene: int, at: float) -> bytes:
        """The thumbnail of scene ``scene`` of ``key``: the frame of ``video`` shown at ``at``
        seconds. Raises :class:`~egorag_core.errors.InputError` when it cannot be decoded."""
        path = self.cached(key, scene)
        if path.is_file() and not path.is_symlink():  # a link in the cache is made again
            return path.read_bytes()
        with self._decoding:
            if path.is_file() and not path.is_symlink():  # made while this one waited
                return path.read_bytes()
            data = self.make(video, at)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".part")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        return data

    def make(self, video: Path, at: float) -> bytes:
        """The frame of ``video`` shown at ``at`` seconds, as a small JPEG."""
        from PIL import Image

        from ..media import VideoFrames, VideoInfo, frame_size

        stat = video.stat()
        info = _probe(str(video), stat.st_mtime_ns, stat.st_size)
        assert isinstance(info, VideoInfo)
        size = frame_size(info.width, info.height, self.side)
        with VideoFrames(info, cache_bytes=0) as frames:
            index = min(frames.frame_count - 1, max(0, int(at * frames.fps)))
            array = frames.decode_each([index], size)[index]
        self.decoded += 1
        out = io.BytesIO()
        Image.fromarray(array).save(out, "JPEG", quality=QUALITY)
        return out.getvalue()
