"""The ``xclip`` video encoder: CLIP features -> K-means keyframes -> X-CLIP video embedding."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from egorag_core import ModelComponent, ModelRole, Scene, VideoJob
from egorag_core.batching import across_groups
from egorag_core.hf import image_side, quiet_transformers, torch_dtype
from egorag_core.keyframes import kmeans_keyframes
from egorag_core.media import Frames
from egorag_core.scheduler import ModelScheduler
from egorag_core.window import FrameSampling

from . import tiny
from .keyframes import resample_in_time


@dataclass
class XClipOptions:
    """The options of ``video=xclip``; their values are in ``conf/video/xclip.yaml``."""

    #: CLIP hub id or folder (frame features).
    clip_model: str
    #: X-CLIP hub id or folder (video embedding).
    model: str
    #: Frames sampled per second of scene (raised for short scenes, see
    #: :meth:`XClipVideoEncoder.sample_scene`).
    sample_fps: float
    #: At most this many frames sampled per scene.
    max_frames: int
    #: K-means k (raised to the X-CLIP model's ``num_frames``).
    num_keyframes: int
    #: Frames per CLIP forward pass, filled across scenes.
    batch_size: int
    #: Scenes per X-CLIP ``get_video_features`` call (a batch of videos).
    video_batch_size: int
    #: K-means ``random_state``.
    seed: int
    #: torch dtype name of both models.
    dtype: str


def load_clip_vision(location: str, device: str, options: XClipOptions) -> tuple[Any, Any]:
    """``(CLIPVisionModelWithProjection, image processor)`` from a CLIP folder or hub id."""
    from transformers import AutoConfig, AutoImageProcessor, CLIPVisionModelWithProjection

    with quiet_transformers():
        config = AutoConfig.from_pretrained(location)
        if getattr(config, "vision_config", None) is not None:  # a full CLIPModel checkpoint
            vision = config.vision_config
            vision.projection_dim = config.projection_dim
            config = vision
        model = CLIPVisionModelWithProjection.from_pretrained(
            location, config=config, dtype=torch_dtype(options.dtype, device)
        )
        processor = AutoImageProcessor.from_pretrained(location)
    return model.to(device).eval(), processor


def load_xclip(location: str, device: str, options: XClipOptions) -> tuple[Any, Any]:
    """``(XCLIPModel, image processor)`` from an X-CLIP folder or hub id."""
    from transformers import AutoImageProcessor, XCLIPModel

    with quiet_transformers():
        model = XCLIPModel.from_pretrained(location, dtype=torch_dtype(options.dtype, device))
        processor = AutoImageProcessor.from_pretrained(location)
    return model.to(device).eval(), processor


@lru_cache(maxsize=4)
def load_tokenizer(location: str) -> Any:
    """The X-CLIP checkpoint's text tokenizer (for search queries)."""
    from transformers import AutoTokenizer

    with quiet_transformers():
        return AutoTokenizer.from_pretrained(location)


class XClipVideoEncoder(ModelComponent[XClipOptions]):
    """Per scene: sampled frames -> CLIP image features -> K-means keyframes (time order) ->
    X-CLIP ``get_video_features`` of those keyframes (the scene's video embedding)."""

    roles = (
        ModelRole(
            load_clip_vision,
            option="clip_model",
            key="clip-vision",
            tiny=tiny.build_tiny_clip,
            tiny_name="xclip-clip",
            estimated_bytes=600 * 2**20,
        ),
        ModelRole(
            load_xclip,
            option="model",
            key="xclip",
            tiny=tiny.build_tiny_xclip,
            tiny_name="xclip-xclip",
            estimated_bytes=800 * 2**20,
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clip_passes = 0
        self.xclip_calls = 0
        self._num_frames: int | None = None

    def variant(self, role: ModelRole) -> str:
        return self.options.dtype

    def frame_sampling(self) -> FrameSampling:
        """What :meth:`sample_scene` reads, decoded once by the core per window: ``sample_fps``,
        raised for a scene too short to give :meth:`keyframe_count` distinct frames."""
        o = self.options
        return FrameSampling(o.sample_fps, o.max_frames, min_frames=self.keyframe_count())

    def frame_side(self) -> int | None:
        """The larger of the sides the CLIP and X-CLIP image processors resize frames to
        (224 for the base models), read from their configs."""
        sides = [image_side(self.spec(option).model_id) for option in ("clip_model", "model")]
        return None if None in sides else max(s for s in sides if s is not None)

    def scenes_per_call(self) -> int:
        """``video_batch_size``: scenes per X-CLIP call."""
        return max(1, self.options.video_batch_size)

    def xclip_num_frames(self) -> int:
        """The X-CLIP model's ``vision_config.num_frames``, read from its config (no weights)."""
        if self._num_frames is None:
            from transformers import AutoConfig

            config = AutoConfig.from_pretrained(self.spec("model").model_id)
            self._num_frames = int(config.vision_config.num_frames)
        return self._num_frames

    def keyframe_count(self) -> int:
        """K-means k: ``num_keyframes``, at least X-CLIP's ``num_frames`` so that X-CLIP gets
        distinct frames whenever the scene has that many."""
        return max(self.options.num_keyframes, self.xclip_num_frames())

    def sample_scene(self, job: VideoJob, scene: Scene) -> Frames:
        """The scene's frames at ``sample_fps`` (at most ``max_frames``), at a higher rate when
        that gives fewer than :meth:`keyframe_count` and the scene has more frames."""
        return self.frame_sampling().sample(job.frames, scene)

    def process(self, job: VideoJob) -> None:
        """Keyframes of every scene with CLIP, then every embedding with X-CLIP, so each model
        is loaded at most once per video even under a tight memory budget."""
        with self.model(job, "clip_model") as (model, processor):
            self.choose_keyframes(job, model, processor)
        with self.model(job, "model") as (model, processor):
            self.embed_scenes(job, model, processor)

    def stats(self) -> dict[str, Any]:
        """For the run report: CLIP forward passes and X-CLIP ``get_video_features`` calls."""
        return {"clip_passes": self.clip_passes, "xclip_calls": self.xclip_calls}

    def choose_keyframes(self, job: VideoJob, model: Any, processor: Any) -> None:
        """Set each scene's ``keyframes`` and ``keyframe_times``: CLIP features of its sampled
        frames, ``batch_size`` frames per pass across scenes, then K-means per scene."""
        o, k = self.options, self.keyframe_count()

        def scene_frames() -> Iterator[tuple[tuple[int, Frames], list[np.ndarray]]]:
            for i in job.progress(range(len(job.scenes)), "video keyframes"):
                frames = self.sample_scene(job, job.scenes[i])
                yield (i, frames), list(frames.array)

        def run(images: list[np.ndarray]) -> np.ndarray:
            return self.clip_pass(model, processor, images)

        for (i, frames), features in across_groups(scene_frames(), o.batch_size, run):
            chosen = kmeans_keyframes(features, k, o.seed)
            job.results[i].keyframes = frames.array[chosen]
            job.results[i].keyframe_times = [float(frames.times[j]) for j in chosen]

    def embed_scenes(self, job: VideoJob, model: Any, processor: Any) -> None:
        """Set each scene's ``video`` from its keyframes, ``video_batch_size`` scenes per
        X-CLIP call."""
        scenes = job.progress(range(len(job.scenes)), "video embedding")
        groups = ((i, [job.results[i].keyframes]) for i in scenes)

        def run(keyframes: list[np.ndarray]) -> np.ndarray:
            return self.video_embeddings(model, processor, keyframes)

        for i, vectors in across_groups(groups, self.options.video_batch_size, run):
            job.results[i].video = vectors[0]

    def clip_features(self, model: Any, processor: Any, frames: np.ndarray) -> np.ndarray:
        """L2-normalised CLIP image embeddings of ``frames`` (T,H,W,3), ``batch_size`` at a time."""
        batch = max(1, self.options.batch_size)
        chunks = range(0, len(frames), batch)
        return np.concatenate([self.clip_pass(model, processor, list(frames[k : k + batch]))
                               for k in chunks])  # fmt: skip

    def clip_pass(self, model: Any, processor: Any, images: list[np.ndarray]) -> np.ndarray:
        """L2-normalised CLIP image embeddings ``(len(images), dim)`` float32, one forward pass."""
        import torch

        pixels = processor(images=images, return_tensors="pt")["pixel_values"]
        with torch.inference_mode():
            embeds = model(pixel_values=pixels.to(model.device, model.dtype)).image_embeds
        self.clip_passes += 1
        return torch.nn.functional.normalize(embeds.float(), dim=-1).cpu().numpy()

    def video_embedding(self, model: Any, processor: Any, keyframes: np.ndarray) -> np.ndarray:
        """X-CLIP video features of one scene's ``keyframes`` (see :meth:`video_embeddings`)."""
        return self.video_embeddings(model, processor, [keyframes])[0]

    def video_embeddings(
        self, model: Any, processor: Any, keyframes: Sequence[np.ndarray]
    ) -> np.ndarray:
        """X-CLIP video features, one call for all: each scene's keyframes resampled in time
        order to the model's ``num_frames``, the scenes stacked as a batch of videos.
        L2-normalised float32 ``(len(keyframes), projection_dim)``."""
        import torch

        num_frames = int(model.config.vision_config.num_frames)
        frames = np.concatenate([k[resample_in_time(len(k), num_frames)] for k in keyframes])
        pixels = processor(list(frames), return_tensors="pt")["pixel_values"]
        # image processors give (B*T,C,H,W), video ones (1,B*T,C,H,W): one video per scene
        pixels = pixels.reshape(len(keyframes), num_frames, *pixels.shape[-3:])
        with torch.inference_mode():
            out = model.get_video_features(pixel_values=pixels.to(model.device, model.dtype))
        self.xclip_calls += 1
        embeds = out.pooler_output if hasattr(out, "pooler_output") else out
        # get_video_features is the raw projection; X-CLIP itself normalises before comparing
        unit = torch.nn.functional.normalize(embeds.float(), dim=-1)
        return unit.cpu().numpy().astype(np.float32)

    def embed_query(self, texts: Sequence[str], scheduler: ModelScheduler) -> np.ndarray:
        """Search queries through X-CLIP's text tower (``get_text_features``: the text
        encoder and its projection), unit length, ``(len(texts), projection_dim)`` float32: the
        space of the ``video`` vectors. X-CLIP's video-specific prompt (which shifts the text
        by each video's frame features) is left out: the index does not keep those features."""
        import torch

        spec = self.spec("model")
        tokenizer = load_tokenizer(spec.model_id)
        with scheduler.use(spec) as (model, _):
            limit = int(model.config.text_config.max_position_embeddings)
            inputs = tokenizer(list(texts), padding=True, truncation=True, max_length=limit,
                               return_tensors="pt").to(model.device)  # fmt: skip
            with torch.inference_mode():
                out = model.get_text_features(**inputs)
        embeds = out.pooler_output if hasattr(out, "pooler_output") else out
        unit = torch.nn.functional.normalize(embeds.float(), dim=-1)
        return unit.cpu().numpy().astype(np.float32)
