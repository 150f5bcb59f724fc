"""Scene splitters: PySceneDetect detectors fed from the core's decoder."""

from __future__ import annotations

import math

from egorag_core.builtin import scenes_from_cuts
from egorag_core.components import SceneSplitter, VideoJob
from egorag_core.data import Scene


class _DetectorSplitter(SceneSplitter):
    """Runs a PySceneDetect detector over every ``frame_skip + 1``-th frame of the core's decoder
    (one decode, downscaled as PySceneDetect does)."""

    def _detector(self, fps: float):
        raise NotImplementedError

    def split(self, job: VideoJob) -> list[Scene]:
        import cv2
        from scenedetect.common import FrameTimecode
        from scenedetect.scene_manager import compute_downscale_factor

        frames = job.frames
        step = int(self.options.get("frame_skip", 0)) + 1
        factor = compute_downscale_factor(max(job.info.width, 1))
        detector = self._detector(frames.fps)
        cuts: list[float] = []
        last = 0
        chunks = frames.iter_chunks(step=step, chunk=int(self.options.get("chunk_frames", 64)))
        total = math.ceil(frames.frame_count / step / int(self.options.get("chunk_frames", 64)))
        for chunk in job.progress(chunks, "scene detection", total=total, unit="chunk"):
            for index, rgb in zip(chunk.indices, chunk.array, strict=True):
                bgr = rgb[..., ::-1]
                if factor > 1:
                    h, w = bgr.shape[:2]
                    size = (max(1, int(w / factor)), max(1, int(h / factor)))
                    bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
                found = detector.process_frame(FrameTimecode(index, frames.fps), bgr)
                cuts += [c.seconds for c in found]
                last = index
        cuts += [c.seconds for c in detector.post_process(FrameTimecode(last, frames.fps))]
        return scenes_from_cuts(cuts, frames.duration, float(self.options.get("min_seconds", 0)))


class ContentSplitter(_DetectorSplitter):
    """Cuts where the HSV content changes fast (PySceneDetect ``ContentDetector``)."""

    def _detector(self, fps: float):
        from scenedetect import ContentDetector

        return ContentDetector(
            threshold=float(self.options.get("threshold", 27.0)),
            min_scene_len=int(self.options.get("min_scene_len", 15)),
        )


class AdaptiveSplitter(_DetectorSplitter):
    """Cuts relative to a rolling average of content change (``AdaptiveDetector``)."""

    def _detector(self, fps: float):
        from scenedetect import AdaptiveDetector

        return AdaptiveDetector(
            adaptive_threshold=float(self.options.get("adaptive_threshold", 3.0)),
            min_scene_len=int(self.options.get("min_scene_len", 15)),
            window_width=int(self.options.get("window_width", 2)),
            min_content_val=float(self.options.get("min_content_val", 15.0)),
        )
