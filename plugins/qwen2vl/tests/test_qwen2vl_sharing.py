"""One Qwen2-VL for both stages: loaded once, released after the caption stage; each stage
alone (or with another plugin's component) loads it only for itself."""

from __future__ import annotations

import numpy as np
from egorag_core import ModelScheduler, ModelSpec, Scene, StageComponent, VideoJob
from egorag_core.testing import open_job, sample_video

SCENES = [Scene(0.0, 3.0), Scene(3.0, 6.5), Scene(6.5, 10.0)]


class OtherCaptioner(StageComponent):
    """Stands in for another plugin's captioner (e.g. captioner1): its own model key."""

    spec = ModelSpec(key="other-captioner", load=lambda device: object(), estimated_bytes=10)

    def models(self) -> list[ModelSpec]:
        return [self.spec]

    def process(self, job: VideoJob) -> None:
        with job.scheduler.use(self.spec):
            for i, result in enumerate(job.results):
                result.caption_text = f"scene {i}, {len(result.keyframes)} keyframes"


class OtherEncoder(StageComponent):
    """Stands in for another plugin's video encoder (e.g. xclip)."""

    spec = ModelSpec(key="other-encoder", load=lambda device: object(), estimated_bytes=10)

    def models(self) -> list[ModelSpec]:
        return [self.spec]

    def process(self, job: VideoJob) -> None:
        with job.scheduler.use(self.spec):
            for result in job.results:
                result.video = np.zeros(4, np.float32)


def _run(video_stage, caption_stage, settings):
    """Both stages over bikes.mp4 with a budget nothing fits (release after last use)."""
    for component in (video_stage, caption_stage):
        component.check()
    scheduler = ModelScheduler("cpu", budget_bytes=1)
    scheduler.plan([("video", video_stage.models()), ("caption", caption_stage.models())])
    log = {}
    with open_job(sample_video("bikes.mp4"), SCENES, scheduler=scheduler,
                  settings=settings) as job:  # fmt: skip
        video_stage.process(job)
        log["after_video"] = scheduler.stage_done("video")
        caption_stage.process(job)
        log["after_caption"] = scheduler.stage_done("caption")
        log["results"] = job.results
    return scheduler, log


def test_both_stages_share_one_load(egorag_settings, egorag_component, qwen):
    encoder = egorag_component("video", "qwen2vl")
    captioner = egorag_component("caption", "captioner2", max_new_tokens=6)
    assert type(encoder.options) is not type(captioner.options)  # different options, one model
    scheduler, log = _run(encoder, captioner, egorag_settings)
    (key,) = scheduler.load_counts()
    assert encoder.spec().key == captioner.spec().key == key
    assert key.startswith("qwen2vl:") and key.endswith(":float32:sdpa")
    assert scheduler.load_counts() == {key: 1}
    assert log["after_video"] == [] and log["after_caption"] == [key]
    assert scheduler.resident_keys == []
    hidden = qwen.model.config.text_config.hidden_size
    for result in log["results"]:
        assert result.video.shape == (hidden,) and isinstance(result.caption_text, str)
    # each scene preprocessed once: the captioner takes the video stage's inputs
    assert encoder.stats()["preprocess_calls"] == len(SCENES)
    assert captioner.stats()["preprocess_calls"] == 0
    assert captioner.stats()["preprocess_cache_hits"] == len(SCENES)


def test_different_options_do_not_share(egorag_component):
    encoder = egorag_component("video", "qwen2vl", torch_dtype="bfloat16")
    captioner = egorag_component("caption", "captioner2")
    assert encoder.spec().key != captioner.spec().key
    assert encoder.spec().estimated_bytes * 2 == captioner.spec().estimated_bytes
    eager = egorag_component("caption", "captioner2", attn_implementation="eager")
    assert eager.spec().key != captioner.spec().key


def test_qwen2vl_video_with_another_captioner(egorag_settings, egorag_component):
    encoder = egorag_component("video", "qwen2vl")
    scheduler, log = _run(encoder, OtherCaptioner(settings=egorag_settings), egorag_settings)
    assert log["after_video"] == [encoder.spec().key]  # released before captioning
    assert log["after_caption"] == ["other-captioner"]
    assert set(scheduler.load_counts().values()) == {1}
    assert [r.caption_text for r in log["results"]][0] == "scene 0, 8 keyframes"


def test_captioner2_alone_and_after_another_encoder(egorag_settings, egorag_component):
    captioner = egorag_component("caption", "captioner2", max_new_tokens=6, batch_size=2)
    scheduler, log = _run(OtherEncoder(settings=egorag_settings), captioner, egorag_settings)
    assert log["after_video"] == ["other-encoder"]
    assert log["after_caption"] == [captioner.spec().key]
    assert scheduler.load_counts() == {"other-encoder": 1, captioner.spec().key: 1}
    assert all(isinstance(r.caption_text, str) for r in log["results"])


def test_caption_only_run_without_video_stage(egorag_component, egorag_job, egorag_video):
    captioner = egorag_component("caption", "captioner2", max_new_tokens=4)
    with egorag_job(egorag_video) as job:
        job.scheduler.plan([("caption", captioner.models())])
        captioner.process(job)
        assert job.results[0].keyframes is None and job.results[0].video is None
        assert isinstance(job.results[0].caption_text, str)
    assert list(job.scheduler.load_counts().values()) == [1]
