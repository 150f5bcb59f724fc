"""What the Qwen2-VL video encoder and captioner share: options, one model role, scene frames."""

from __future__ import annotations

import dataclasses
import math
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from egorag_core import ModelComponent, ModelRole, Scene, Settings, VideoJob
from egorag_core.errors import OptionsError
from egorag_core.media import Frames
from egorag_core.window import FrameSampling

from .loading import Qwen2VL, estimate_bytes, load_for_options, resolve_attn, resolve_dtype
from .options import CHOICES, Qwen2VLOptions
from .preprocess import (
    VIDEO_MIN_FRAMES,
    VIDEO_MIN_PIXELS,
    VideoInputs,
    VideoPreprocessConfig,
    preprocess_video,
)
from .shared import InputsKey
from .tiny import TINY_NAME, build_tiny_qwen2vl

OptionsT = TypeVar("OptionsT", bound=Qwen2VLOptions)

#: The one role of both stages: equal key, location and variant (dtype, attention) share a load.
QWEN2VL_ROLE = ModelRole(
    load=load_for_options, key="qwen2vl", tiny=build_tiny_qwen2vl, tiny_name=TINY_NAME
)


class Qwen2VLComponent(ModelComponent[OptionsT]):
    """A stage on the shared Qwen2-VL; spec key ``qwen2vl:<model>:<dtype>:<attention>``."""

    roles = (QWEN2VL_ROLE,)

    def __init__(
        self,
        options: OptionsT | Mapping[str, Any] | None = None,
        settings: Settings | None = None,
        group: str = "",
    ):
        super().__init__(options, settings, group)
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the counter ``name`` shown by :meth:`stats`."""
        with self._counts_lock:
            self._counts[name] += n

    def stats(self) -> dict[str, Any]:
        """``preprocess_calls`` (scenes preprocessed here), ``preprocess_cache_hits`` (scenes
        whose inputs another stage on the same model preprocessed), and the stage's own."""
        with self._counts_lock:
            return {"preprocess_calls": 0, "preprocess_cache_hits": 0, **self._counts}

    @property
    def dtype(self) -> str:
        """The dtype the model loads in on this run's device."""
        return resolve_dtype(self.options.torch_dtype, self.settings.device)

    def variant(self, role: ModelRole) -> str:
        """Dtype and attention: what besides the model tells two loaded instances apart."""
        attn = resolve_attn(self.options.attn_implementation, self.settings.device, self.dtype)
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
        """What :meth:`scene_frames` reads, so the core decodes it once for both stages:
        ``fps``, at least ``VIDEO_MIN_FRAMES`` frames when the scene has them (qwen-vl-utils'
        ``FPS_MIN_FRAMES``), at most ``max_frames``."""
        return FrameSampling(self.options.fps, self.options.max_frames, VIDEO_MIN_FRAMES)

    def frame_side(self) -> int | None:
        """The side of a square of ``max_pixels``: frames whose shorter side is that hold at
        least ``max_pixels``, all the processor's resize keeps; ``None`` (full size) when the
        budget is the processor's own."""
        max_pixels = self.options.max_pixels
        return None if max_pixels is None else math.ceil(math.sqrt(max_pixels))

    def scenes_per_call(self) -> int:
        """``batch_size``: scenes per vision-tower or ``generate`` call."""
        return max(1, self.options.batch_size)

    def scene_indices(self, job: VideoJob, scene: Scene) -> list[int]:
        """The frame indices :meth:`scene_frames` reads."""
        return self.frame_sampling().indices(job.frames, scene)

    def scene_frames(self, job: VideoJob, scene: Scene) -> Frames:
        """The scene's frames at ``fps``, at least ``VIDEO_MIN_FRAMES`` when the scene has
        them, at most ``max_frames``."""
        return self.frame_sampling().sample(job.frames, scene)

    def preprocess_config(self, qwen: Qwen2VL) -> VideoPreprocessConfig:
        """The model's processor settings with this stage's pixel budget: ``max_pixels``
        (``None``: the processor's) and ``min_pixels`` (``None``: qwen-vl-utils' video floor
        ``VIDEO_MIN_PIXELS``, kept within ``max_pixels``)."""
        opts = self.options
        max_pixels = opts.max_pixels if opts.max_pixels is not None else qwen.preprocess.max_pixels
        min_pixels = opts.min_pixels
        if min_pixels is None:
            min_pixels = min(VIDEO_MIN_PIXELS, max_pixels)
        return dataclasses.replace(qwen.preprocess, min_pixels=min_pixels, max_pixels=max_pixels)

    def video_inputs(self, qwen: Qwen2VL, frames: Frames) -> VideoInputs:
        """Preprocess ``frames`` with :meth:`preprocess_config`."""
        return preprocess_video(frames.array, self.preprocess_config(qwen), self.options.preprocess)

    def inputs_key(self, job: VideoJob, scene: Scene, qwen: Qwen2VL) -> InputsKey:
        """The shared-cache key of the scene's inputs: video, frame indices, preprocessing."""
        indices = tuple(self.scene_indices(job, scene))
        return InputsKey(job.path, indices, self.preprocess_config(qwen), self.options.preprocess)

    def scene_inputs(
        self, job: VideoJob, qwen: Qwen2VL, scene: Scene, offer_bytes: int = 0
    ) -> VideoInputs:
        """The scene's inputs: taken from ``qwen.inputs`` when another stage on this model
        preprocessed them, else preprocessed here (and offered when ``offer_bytes`` > 0)."""
        key = self.inputs_key(job, scene, qwen)
        inputs = qwen.inputs.take(key)
        if inputs is not None:
            self.count("preprocess_cache_hits")
            return inputs
        inputs = self.video_inputs(qwen, self.scene_frames(job, scene))
        self.count("preprocess_calls")
        if offer_bytes > 0:
            qwen.inputs.offer(key, inputs, offer_bytes)
        return inputs

    def scene_batches(self, job: VideoJob, desc: str, size: int) -> Iterator[list[int]]:
        """``job``'s scene indices in consecutive batches of ``size`` (progress per scene)."""
        pending: list[int] = []
        last = len(job.scenes) - 1
        for i in job.progress(range(len(job.scenes)), desc):
            pending.append(i)
            if len(pending) >= size or i == last:
                yield pending
                pending = []
