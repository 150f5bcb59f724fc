"""``video=clipmean``: each scene's vector is the normalised mean CLIP embedding of its frames."""

from dataclasses import dataclass
from pathlib import Path

from egorag_core import ModelComponent, ModelRole, VideoJob, hookimpl, hookspecs


@dataclass
class Options:  # names and types only; the values are in conf/video/clipmean.yaml
    model: str
    fps: float
    max_frames: int


def load(location: str, device: str, options: Options) -> tuple:
    from transformers import AutoImageProcessor, CLIPVisionModelWithProjection

    model = CLIPVisionModelWithProjection.from_pretrained(location).requires_grad_(False)
    return model.to(device), AutoImageProcessor.from_pretrained(location)


def tiny(folder: Path) -> None:
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    config = CLIPVisionConfig(hidden_size=48, num_hidden_layers=1, projection_dim=16)
    CLIPVisionModelWithProjection(config).save_pretrained(folder)
    CLIPImageProcessor().save_pretrained(folder)


class ClipMean(ModelComponent[Options]):
    roles = (ModelRole(load, key="clipmean", tiny=tiny, tiny_name="clipmean"),)

    def process(self, job: VideoJob) -> None:
        with self.model(job) as (model, processor):
            for scene, result in zip(job.scenes, job.results, strict=True):
                frames = job.frames.sample(scene, self.options.fps, self.options.max_frames)
                inputs = processor(frames.array, return_tensors="pt").to(model.device)
                mean = model(**inputs).image_embeds.mean(0)
                result.video = (mean / mean.norm()).numpy(force=True)


@hookimpl
def register_video_encoders(register: hookspecs.Register) -> None:
    register("clipmean", ClipMean, "the normalised mean CLIP image embedding of sampled frames")
