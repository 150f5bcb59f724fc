"""Qwen2-VL video preprocessing without torchvision.

Mirrors ``transformers``' ``Qwen2VLVideoProcessor`` (smart resize, bicubic antialiased resize,
fused rescale + normalise, temporal padding, patchify) with plain torch, and uses the official
processor instead where torchvision is importable.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

VIDEO_TOKEN = "<|video_pad|>"

# The reference video settings: qwen-vl-utils' src/qwen_vl_utils/vision_process.py
# (QwenLM/Qwen2-VL) has VIDEO_MIN_PIXELS = 128 * 28 * 28 and FPS_MIN_FRAMES = 4 (a multiple of
# FRAME_FACTOR = 2); transformers' models/qwen2_vl/video_processing_qwen2_vl.py uses the same
# (size shortest_edge 128 * 28 * 28, min_frames 4). The image processor's floor (56 * 56) is
# for images, not video.
#: Per-frame pixel floor of a video.
VIDEO_MIN_PIXELS = 128 * 28 * 28
#: Frames a scene gets at least (when it has them).
VIDEO_MIN_FRAMES = 4


@dataclass(frozen=True)
class VideoPreprocessConfig:
    """What the vision tower expects: patching, pixel budget and normalisation."""

    patch_size: int = 14
    temporal_patch_size: int = 2
    merge_size: int = 2
    min_pixels: int = 56 * 56
    max_pixels: int = 360 * 420
    image_mean: tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)
    image_std: tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)
    rescale_factor: float = 1 / 255

    @property
    def factor(self) -> int:
        return self.patch_size * self.merge_size

    @classmethod
    def from_processor(cls, processor: Any, **overrides: Any) -> VideoPreprocessConfig:
        """Read a Qwen2-VL image processor's settings; ``overrides`` that are not None win."""
        size = getattr(processor, "size", None) or {}
        get = size.get if isinstance(size, dict) else lambda k, d=None: getattr(size, k, d)
        values = {
            "patch_size": processor.patch_size,
            "temporal_patch_size": processor.temporal_patch_size,
            "merge_size": processor.merge_size,
            "min_pixels": get("shortest_edge") or cls.min_pixels,
            "max_pixels": get("longest_edge") or cls.max_pixels,
            "image_mean": tuple(processor.image_mean),
            "image_std": tuple(processor.image_std),
            "rescale_factor": float(getattr(processor, "rescale_factor", 1 / 255)),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass
class VideoInputs:
    """A scene's vision-tower inputs: ``patches`` (grid_t*grid_h*grid_w, C*tp*p*p),
    ``video_grid_thw`` (1, 3), and the number of ``<|video_pad|>`` tokens the prompt needs
    (merged tokens). ``patches`` are the float ``pixel_values_videos`` themselves or, with
    ``normalize`` (per-column mean and std), the resized uint8 pixels, normalised on each read:
    a quarter of the bytes while the inputs wait in the cache for the captioner."""

    patches: Any
    video_grid_thw: Any
    merge_size: int = 2
    normalize: tuple[Any, Any] | None = None

    @property
    def pixel_values_videos(self) -> Any:
        """The float32 (or the processor's float) pixel values the model takes."""
        if self.normalize is None:
            return self.patches
        import torch

        mean, std = self.normalize
        return self.patches.to(torch.float32, copy=True).sub_(mean).div_(std)

    @property
    def nbytes(self) -> int:
        """Bytes held by ``patches``."""
        return int(self.patches.numel()) * int(self.patches.element_size())

    @property
    def num_video_tokens(self) -> int:
        return int(self.video_grid_thw.prod()) // self.merge_size**2


def smart_resize(
    height: int, width: int, factor: int = 28, min_pixels: int = 56 * 56,
    max_pixels: int = 14 * 14 * 4 * 1280,
) -> tuple[int, int]:  # fmt: skip
    """Height and width divisible by ``factor``, area within the pixel budget, aspect kept."""
    if max(height, width) / min(height, width) > 200:
        raise ValueError(f"aspect ratio over 200: {height}x{width}")
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def torchvision_available() -> bool:
    return importlib.util.find_spec("torchvision") is not None


def _resize(video: Any, height: int, width: int) -> Any:
    """torchvision's uint8 bicubic antialiased resize of (T, C, H, W), in plain torch."""
    import torch
    import torch.nn.functional as F

    if tuple(video.shape[-2:]) == (height, width):
        return video
    if video.device.type == "cpu":  # torchvision resizes uint8 natively on CPU for bicubic
        return F.interpolate(video, size=[height, width], mode="bicubic", align_corners=False,
                             antialias=True)  # fmt: skip
    out = F.interpolate(video.to(torch.float32), size=[height, width], mode="bicubic",
                        align_corners=False, antialias=True)  # fmt: skip
    return out.clamp_(0, 255).round_().to(torch.uint8)


def patchify(video: Any, cfg: VideoPreprocessConfig) -> tuple[Any, tuple[int, int, int]]:
    """(T, C, H, W) -> (grid_t*grid_h*grid_w, C*tp*p*p), same dtype, padding T by the last
    frame."""
    import torch

    t, c, h, w = video.shape
    tp, p, m = cfg.temporal_patch_size, cfg.patch_size, cfg.merge_size
    if pad := -t % tp:
        video = torch.cat([video, video[-1:].expand(pad, -1, -1, -1)], dim=0)
        t += pad
    gt, gh, gw = t // tp, h // p, w // p
    patches = video.reshape(gt, tp, c, gh // m, m, p, gw // m, m, p)
    patches = patches.permute(0, 3, 6, 4, 7, 2, 1, 5, 8)
    return patches.reshape(gt * gh * gw, c * tp * p * p), (gt, gh, gw)


def preprocess_frames(frames: np.ndarray, cfg: VideoPreprocessConfig) -> VideoInputs:
    """(T, H, W, 3) uint8 RGB frames -> Qwen2-VL video inputs, without torchvision. The uint8
    pixels are patchified (a permutation) and kept with their channels' mean and std: read, they
    are the float32 ``(pixel - mean) / std`` of the processor, the same values to the bit."""
    import torch

    video = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).contiguous()
    height, width = smart_resize(video.shape[-2], video.shape[-1], cfg.factor, cfg.min_pixels,
                                 cfg.max_pixels)  # fmt: skip
    patches, grid = patchify(_resize(video, height, width), cfg)
    per_channel = cfg.temporal_patch_size * cfg.patch_size**2  # columns are (C, tp, p, p)
    mean = torch.tensor(cfg.image_mean) * (1.0 / cfg.rescale_factor)
    std = torch.tensor(cfg.image_std) * (1.0 / cfg.rescale_factor)
    normalize = (mean.repeat_interleave(per_channel), std.repeat_interleave(per_channel))
    return VideoInputs(patches, torch.tensor([grid]), cfg.merge_size, normalize)


def preprocess_official(frames: np.ndarray, cfg: VideoPreprocessConfig) -> VideoInputs:
    """The same through ``transformers.Qwen2VLVideoProcessor`` (needs torchvision)."""
    from transformers import Qwen2VLVideoProcessor

    processor = Qwen2VLVideoProcessor(
        size={"shortest_edge": cfg.min_pixels, "longest_edge": cfg.max_pixels},
        patch_size=cfg.patch_size, temporal_patch_size=cfg.temporal_patch_size,
        merge_size=cfg.merge_size, image_mean=list(cfg.image_mean),
        image_std=list(cfg.image_std), rescale_factor=cfg.rescale_factor,
    )  # fmt: skip
    kwargs: dict[str, Any] = {"do_sample_frames": False, "return_tensors": "pt"}
    if "cap_pixels_per_frame" in getattr(processor.valid_kwargs, "__annotations__", {}):
        kwargs["cap_pixels_per_frame"] = False  # per-frame budget only, as here
    out = processor(videos=[frames], **kwargs)
    return VideoInputs(out["pixel_values_videos"], out["video_grid_thw"], cfg.merge_size)


def preprocess_video(
    frames: np.ndarray, cfg: VideoPreprocessConfig, backend: str = "auto"
) -> VideoInputs:
    """``backend``: ``auto`` (official where torchvision exists), ``official`` or ``torch``."""
    if backend == "official" or (backend == "auto" and torchvision_available()):
        return preprocess_official(frames, cfg)
    return preprocess_frames(frames, cfg)


def expand_video_tokens(text: str, counts: Sequence[int]) -> str:
    """Replace the i-th ``<|video_pad|>`` of ``text`` by ``counts[i]`` of them."""
    parts = text.split(VIDEO_TOKEN)
    if len(parts) - 1 != len(counts):
        raise ValueError(f"{len(parts) - 1} video placeholders for {len(counts)} videos")
    out = [parts[0]]
    for n, rest in zip(counts, parts[1:], strict=True):
        out += [VIDEO_TOKEN * n, rest]
    return "".join(out)
