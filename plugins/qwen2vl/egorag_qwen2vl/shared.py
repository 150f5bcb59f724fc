"""Scene video inputs preprocessed once for both stages on one loaded Qwen2-VL.

``video=qwen2vl`` offers each scene's :class:`VideoInputs` to a small cache kept on the shared
:class:`~egorag_qwen2vl.loading.Qwen2VL`; ``caption=captioner2`` takes them instead of
preprocessing the same frames again. Keys name the video, the frame indices and the
preprocessing settings, so a stage with other settings never gets another's inputs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from .preprocess import VideoInputs, VideoPreprocessConfig


@dataclass(frozen=True)
class InputsKey:
    """What makes two stages' inputs for a scene equal: video, frames, preprocessing."""

    path: str
    indices: tuple[int, ...]
    config: VideoPreprocessConfig
    backend: str


def inputs_bytes(inputs: VideoInputs) -> int:
    """Bytes the cache holds for ``inputs`` (uint8 pixels from the torch preprocessing)."""
    return inputs.nbytes


class InputsCache:
    """Inputs the video stage offers and the caption stage takes, each entry at most once.

    Bounded: an entry leaves when taken; the caption stage drops a video's untaken entries at
    the end of its window, the video stage at the start of its next one; past ``max_bytes`` the
    oldest go. Until a caption stage has ended a window here, a new window also drops every
    other entry (one window's worth at most), and when a video's next window finds its previous
    window's entries untaken, no stage consumes them: nothing more is offered.
    Thread-safe (videos in flight on other threads share the model).
    """

    def __init__(self) -> None:
        self._entries: OrderedDict[InputsKey, tuple[VideoInputs, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0
        self.consumer_seen = False
        self.offering = True

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: InputsKey) -> None:
        _, size = self._entries.pop(key)
        self.bytes -= size

    def _drop_path(self, path: str) -> int:
        stale = [key for key in self._entries if key.path == path]
        for key in stale:
            self._drop(key)
        return len(stale)

    def offer(self, key: InputsKey, inputs: VideoInputs, max_bytes: int) -> bool:
        """Keep ``inputs`` for a later stage (oldest dropped past ``max_bytes``); kept or not."""
        size = inputs_bytes(inputs)
        with self._lock:
            if not self.offering or size > max_bytes:
                return False
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (inputs, size)
            self.bytes += size
            while self.bytes > max_bytes:
                self._drop(next(iter(self._entries)))
            return True

    def take(self, key: InputsKey) -> VideoInputs | None:
        """The inputs offered under ``key``, removed from the cache; ``None`` if none."""
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is None:
                return None
            self.bytes -= entry[1]
            return entry[0]

    def begin_window(self, path: str) -> None:
        """The video stage starts a window of ``path``: its previous window's leftovers go,
        and every other entry too while no caption stage has ended a window here."""
        with self._lock:
            stale = self._drop_path(path)
            if not self.consumer_seen:
                self._entries.clear()
                self.bytes = 0
                self.offering = self.offering and not stale

    def end_window(self, path: str) -> None:
        """The caption stage ends a window of ``path``: what it did not take goes."""
        with self._lock:
            self.consumer_seen = True
            self._drop_path(path)
