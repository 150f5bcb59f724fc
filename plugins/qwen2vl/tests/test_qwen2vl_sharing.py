"""One Qwen2-VL for both stages: loaded once, released after the caption stage; each stage
alone (or with another plugin's component) loads it only for itself."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from egorag_core import ModelScheduler, ModelSpec, Scene, StageComponent
from egorag_core.testing import open_job, sample_video

from egorag_qwen2vl.captioner import Qwen2VLCaptioner
from egorag_qwen2vl.encoder import Qwen2VLVideoEncoder

SCENES = [Scene(0.0, 3.0), Scene(3.0, 6.5), Scene(6.5, 10.0)]


class OtherCaptioner(StageComponent):
    """Stands in for another plugin's captioner (e.g. captioner1): its own model key."""

    spec = ModelSpec(key="other-captioner", load=lambda device: object(), estimated_bytes=10)

    def models(self):
        return [self.spec]

    def process(self, job):
        with job.scheduler.use(self.spec):
            for i, result in enumerate(job.results):
                result.caption_text = f"scene {i}, {len(result.keyframes)} keyframes"


class OtherEncoder(StageComponent):
    """Stands in for another plugin's video encoder (e.g. xclip)."""

    spec = ModelSpec(key="other-encoder", load=lambda device: object(), estimated_bytes=10)

    def models(self):
        return [self.spec]

    def process(self, job):
        with job.scheduler.use(self.spec):
            for result in job.results:
                result.video = np.zeros(4, np.float32)


def _run(video_stage, caption_stage, settings):
    for component in (video_stage, caption_stage):
        component.check()
    scheduler = ModelScheduler("cpu", budget_bytes=1)  # nothing fits: release after last use
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


def test_both_stages_share_one_load(qwen_settings, qwen):
    encoder = Qwen2VLVideoEncoder({"name": "qwen2vl"}, qwen_settings)
    captioner = Qwen2VLCaptioner({"name": "captioner2", "max_new_tokens": 6}, qwen_settings)
    scheduler, log = _run(encoder, captioner, qwen_settings)
    (key,) = scheduler.load_counts()
    assert encoder.spec.key == captioner.spec.key == key
    assert scheduler.load_counts() == {key: 1}
    assert log["after_video"] == [] and log["after_caption"] == [key]
    assert scheduler.resident_keys == []
    hidden = qwen.model.config.text_config.hidden_size
    for result in log["results"]:
        assert result.video.shape == (hidden,) and isinstance(result.caption_text, str)


def test_different_options_do_not_share(qwen_settings):
    encoder = Qwen2VLVideoEncoder({"name": "qwen2vl", "torch_dtype": "bfloat16"}, qwen_settings)
    captioner = Qwen2VLCaptioner({"name": "captioner2"}, qwen_settings)
    encoder.check()
    captioner.check()
    assert encoder.spec.key != captioner.spec.key
    assert encoder.spec.estimated_bytes * 2 == captioner.spec.estimated_bytes


def test_qwen2vl_video_with_another_captioner(qwen_settings):
    encoder = Qwen2VLVideoEncoder({"name": "qwen2vl"}, qwen_settings)
    scheduler, log = _run(encoder, OtherCaptioner({}, qwen_settings), qwen_settings)
    assert log["after_video"] == [encoder.spec.key]  # released before captioning
    assert log["after_caption"] == ["other-captioner"]
    assert set(scheduler.load_counts().values()) == {1}
    assert [r.caption_text for r in log["results"]][0] == "scene 0, 8 keyframes"


def test_captioner2_alone_and_after_another_encoder(qwen_settings):
    captioner = Qwen2VLCaptioner({"name": "captioner2", "max_new_tokens": 6,
                                  "batch_size": 2}, qwen_settings)  # fmt: skip
    scheduler, log = _run(OtherEncoder({}, qwen_settings), captioner, qwen_settings)
    assert log["after_video"] == ["other-encoder"]
    assert log["after_caption"] == [captioner.spec.key]
    assert scheduler.load_counts() == {"other-encoder": 1, captioner.spec.key: 1}
    assert all(isinstance(r.caption_text, str) for r in log["results"])


def test_caption_only_run_without_video_stage(qwen_settings, two_scene_video):
    captioner = Qwen2VLCaptioner({"name": "captioner2", "max_new_tokens": 4}, qwen_settings)
    captioner.check()
    scheduler = ModelScheduler("cpu")
    scheduler.plan([("caption", captioner.models())])
    settings = replace(qwen_settings, show_progress=False)
    with open_job(two_scene_video, scheduler=scheduler, settings=settings) as job:
        captioner.process(job)
        assert job.results[0].keyframes is None and job.results[0].video is None
    assert list(scheduler.load_counts().values()) == [1]
