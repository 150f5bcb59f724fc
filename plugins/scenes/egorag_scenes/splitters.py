"""Scene splitters: PySceneDetect detectors fed from the core's decoder."""

from __future__ import annotations

import math
from typing import Any, TypeVar

from egorag_core.builtin import scenes_from_cuts
from egorag_core.components import SceneSplitter, VideoJob
from egorag_core.data import Scene
from egorag_core.errors import OptionsError

from .options import AdaptiveOptions, ContentOptions, DetectorOptions

OptionsT = TypeVar("OptionsT", bound=DetectorOptions)


def processing_size(width: int, height: int) -> tuple[int, int]:
    """The frame size PySceneDetect's ``SceneManager`` (so ``detect()``) hands its detectors:
    auto-downscaled so the longer side is about 256 px, rounded as it rounds."""
    from scenedetect.scene_manager import compute_downscale_factor

    width, height = max(1, width), max(1, height)
    factor = compute_downscale_factor(max(width, height))
    if factor <= 1:
        return width, height
    return max(1, round(width / factor)), max(1, round(height / factor))


class _DetectorSplitter(SceneSplitter[OptionsT]):
    """Runs a PySceneDetect detector over every ``frame_skip + 1``-th frame of the core's decoder
    (one decode), each frame made small and BGR straight from the decoder at the size
    ``detect()`` would use (:func:`processing_size`), never converted at full size."""

    def check(self) -> None:
        """Reject a frame step or chunk size that cannot work, naming the option."""
        for key, value, least in (("frame_skip", self.options.frame_skip, 0),
                                  ("chunk_frames", self.options.chunk_frames, 1)):  # fmt: skip
            if value < least:
                raise OptionsError(f"{self.key_prefix}.{key}={value}: must be at least {least}")

    def _detector(self, fps: float) -> Any:
        raise NotImplementedError

    def split(self, job: VideoJob) -> list[Scene]:
        from scenedetect.common import FrameTimecode

        frames, options = job.frames, self.options
        step = options.frame_skip + 1
        width, height = processing_size(job.info.width, job.info.height)
        detector = self._detector(frames.fps)
        cuts: list[float] = []
        last = 0
        small = frames.iter_small_bgr(width, height, step=step, chunk=options.chunk_frames)
        total = math.ceil(frames.frame_count / step)
        for index, bgr in job.progress(small, "scene detection", total=total, unit="frame"):
            found = detector.process_frame(FrameTimecode(index, frames.fps), bgr)
            cuts += [c.seconds for c in found]
            last = index
        cuts += [c.seconds for c in detector.post_process(FrameTimecode(last, frames.fps))]
        return scenes_from_cuts(cuts, frames.duration, options.min_seconds)


class ContentSplitter(_DetectorSplitter[ContentOptions]):
    """Cuts where the HSV content changes fast (PySceneDetect ``ContentDetector``)."""

    def _detector(self, fps: float) -> Any:
        from scenedetect import ContentDetector

        return ContentDetector(
            threshold=self.options.threshold, min_scene_len=self.options.min_scene_len
        )


class AdaptiveSplitter(_DetectorSplitter[AdaptiveOptions]):
    """Cuts relative to a rolling average of content change (``AdaptiveDetector``)."""

    def _detector(self, fps: float) -> Any:
        from scenedetect import AdaptiveDetector

        options = self.options
        return AdaptiveDetector(
            adaptive_threshold=options.adaptive_threshold,
            min_scene_len=options.min_scene_len,
            window_width=options.window_width,
            min_content_val=options.min_content_val,
        )
