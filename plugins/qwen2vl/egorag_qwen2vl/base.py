"""What the Qwen2-VL video encoder and captioner share: options, one model role, scene frames."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from egorag_core import ModelComponent, ModelRole, Scene, VideoJob
from egorag_core.errors import OptionsError
from egorag_core.media import Frames
from egorag_core.window import FrameSampling

from .loading import Qwen2VL, estimate_bytes, load_for_options, resolve_attn, resolve_dtype
from .options import CHOICES, Qwen2VLOptions
from .preprocess import VideoInputs, preprocess_video
from .tiny import TINY_NAME, build_tiny_qwen2vl

OptionsT = TypeVar("OptionsT", bound=Qwen2VLOptions)

#: The one role of both stages: equal key, location and variant (dtype, attention) share a load.
QWEN2VL_ROLE = ModelRole(
    load=load_for_options, key="qwen2vl", tiny=build_tiny_qwen2vl, tiny_name=TINY_NAME
)


class Qwen2VLComponent(ModelComponent[OptionsT]):
    """A stage on the shared Qwen2-VL; spec key ``qwen2vl:<model>:<dtype>:<attention>``."""

    roles = (QWEN2VL_ROLE,)

    @property
    def dtype(self) -> str:
        """The dtype the model loads in on this run's device."""
        return resolve_dtype(self.options.torch_dtype, self.settings.device)

    def variant(self, role: ModelRole) -> str:
        """Dtype and attention: what besides the model tells two loaded instances apart."""
        attn = resolve_attn(self.options.attn_implementation, self.settings.device)
        return f"{self.dtype}:{attn}"

    def estimated_bytes(self, role: ModelRole, location: str) -> int:
        """The parameter bytes the model's config gives, at the chosen dtype."""
        return estimate_bytes(location, self.dtype) or super().estimated_bytes(role, location)

    def check(self) -> None:
        """Options that take one of a few names, then the model (``ModelUnavailable``)."""
        for key, allowed in CHOICES.items():
            value = getattr(self.options, key, None)
            if value is not None and value.removeprefix("torch.") not in allowed:
                raise OptionsError(
                    f"{self.key_prefix}.{key}={value}: use one of {', '.join(allowed)}"
                )
        super().check()

    def frame_sampling(self) -> FrameSampling:
        """What :meth:`scene_frames` reads, so the core decodes it once for both stages."""
        return FrameSampling(self.options.fps, self.options.max_frames)

    def scene_frames(self, job: VideoJob, scene: Scene) -> Frames:
        """The scene's frames at ``fps``, at most ``max_frames``."""
        return job.frames.sample(scene, fps=self.options.fps, max_frames=self.options.max_frames)

    def video_inputs(self, qwen: Qwen2VL, frames: Frames) -> VideoInputs:
        """Preprocess ``frames`` with the model's processor settings and this stage's budget
        (``min_pixels`` / ``max_pixels``; ``None`` keeps the processor's)."""
        wanted = {"min_pixels": self.options.min_pixels, "max_pixels": self.options.max_pixels}
        overrides: dict[str, Any] = {k: v for k, v in wanted.items() if v is not None}
        cfg = dataclasses.replace(qwen.preprocess, **overrides)
        return preprocess_video(frames.array, cfg, self.options.preprocess)
