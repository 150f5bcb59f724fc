"""What the Qwen2-VL video encoder and captioner share: options, model spec, scene frames."""

from __future__ import annotations

import dataclasses

from egorag_core import ModelSpec, Scene, StageComponent, VideoJob
from egorag_core.media import Frames

from .loading import Qwen2VL, qwen2vl_spec, resolve_source
from .preprocess import VideoInputs, preprocess_video

#: The seed's per-frame pixel budget (360*420); ``max_pixels: null`` uses the processor's.
DEFAULT_MAX_PIXELS = 360 * 420


class Qwen2VLComponent(StageComponent):
    """Resolves the model in ``check()`` and declares one shared :class:`ModelSpec`."""

    #: The config group, for messages (``video.model=...``).
    group = "video"
    _spec: ModelSpec | None = None

    def check(self) -> None:
        source = resolve_source(self.options, self.settings, f"{self.group}.model")
        self._spec = qwen2vl_spec(source, self.settings, self.options)

    @property
    def spec(self) -> ModelSpec:
        if self._spec is None:
            self.check()
        assert self._spec is not None
        return self._spec

    def models(self) -> list[ModelSpec]:
        return [self.spec]

    def scene_frames(self, job: VideoJob, scene: Scene) -> Frames:
        """The scene's frames at ``fps`` (default 1), at most ``max_frames`` (default 32)."""
        fps = float(self.options.get("fps") or 1.0)
        max_frames = int(self.options.get("max_frames") or 32)
        return job.frames.sample(scene, fps=fps, max_frames=max_frames)

    def video_inputs(self, qwen: Qwen2VL, frames: Frames) -> VideoInputs:
        """Preprocess ``frames`` with the model's processor settings and this stage's budget."""
        wanted = {"min_pixels": self.options.get("min_pixels"),
                  "max_pixels": self.options.get("max_pixels", DEFAULT_MAX_PIXELS)}  # fmt: skip
        overrides = {k: int(v) for k, v in wanted.items() if v is not None}
        cfg = dataclasses.replace(qwen.preprocess, **overrides)
        return preprocess_video(frames.array, cfg, str(self.options.get("preprocess") or "auto"))
