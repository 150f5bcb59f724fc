"""The captioner1 captioner on real video files, with a tiny BLIP built from its YAML."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from egorag_core import ModelScheduler, ModelUnavailable, OptionsError, Scene, Settings
from egorag_core.hf import clean_generated_text
from egorag_core.testing import open_job, sample_video

import egorag_blip
from egorag_blip.captioner import BlipCaptioner

YAML = Path(egorag_blip.__file__).parent / "conf" / "caption" / "captioner1.yaml"


@pytest.fixture()
def captioner(egorag_component) -> BlipCaptioner:
    return egorag_component("caption", "captioner1")


def test_tiny_model_is_marked_random_and_keyed_by_dtype(captioner, egorag_component):
    (spec,) = captioner.models()
    assert spec.random_weights
    assert spec.key == f"blip-caption:{spec.model_id}:float32"
    (half,) = egorag_component("caption", "captioner1", dtype="bfloat16").models()
    assert half.model_id == spec.model_id
    assert half.key == f"blip-caption:{spec.model_id}:bfloat16"


def test_mistyped_option_names_the_key_and_the_yaml(egorag_component):
    with pytest.raises(OptionsError) as error:
        egorag_component("caption", "captioner1", sample_fps="fast")
    message = str(error.value)
    assert "caption.sample_fps" in message
    assert str(YAML) in message


def test_missing_model_folder_names_the_option(egorag_component, tmp_path):
    settings = Settings(tiny=False, cache_dir=tmp_path, show_progress=False)
    missing = tmp_path / "no-such-blip"
    with pytest.raises(ModelUnavailable, match=f"caption.model={missing}: folder not found"):
        egorag_component("caption", "captioner1", settings=settings, model=str(missing))


def test_captions_from_sampled_frames_of_real_footage(captioner, egorag_job):
    scenes = [Scene(0.0, 5.0), Scene(5.0, 10.0)]
    with egorag_job(sample_video("bikes.mp4"), scenes) as job:
        captioner.process(job)
    for result in job.results:
        assert isinstance(result.caption_text, str) and result.caption_text.strip()
        assert result.caption_text == result.caption_text.strip()
        assert result.caption_text.isprintable()
        assert result.keyframes is None


def test_uses_handed_keyframes_at_most_five_and_drops_them(captioner, egorag_job, egorag_video):
    seen = []
    original = captioner.caption_frames

    def spy(model, processor, frames):
        seen.append(frames.copy())
        return original(model, processor, frames)

    captioner.caption_frames = spy
    scenes = [Scene(0.0, 2.0), Scene(2.0, 2.05)]
    with egorag_job(egorag_video, scenes) as job:
        handed = job.frames.sample(scenes[0], fps=4.0, max_frames=8)
        job.results[0].keyframes = handed.array  # as the video stage leaves them
        job.frames.sample = None  # scene 0 must not decode: it has keyframes
        job.results[1].keyframes = job.frames.get([20]).array  # one frame
        captioner.process(job)
    assert [len(f) for f in seen] == [5, 1]
    handed_bytes = [f.tobytes() for f in handed.array]
    positions = [handed_bytes.index(f.tobytes()) for f in seen[0]]
    assert positions == sorted(set(positions))  # 5 distinct keyframes, time order
    assert all(r.keyframes is None for r in job.results)
    assert all(r.caption_text for r in job.results)


def test_model_released_after_the_caption_stage(egorag_component, egorag_settings, egorag_video):
    captioner = egorag_component("caption", "captioner1", batch_size=2)
    scheduler = ModelScheduler("cpu", budget_bytes=1)
    scheduler.plan([("video", []), ("caption", captioner.models()), ("text", [])])
    scenes = [Scene(0.0, 2.0), Scene(2.0, 4.0)]
    key = captioner.spec().key
    # open_job, not egorag_job: this test needs its own scheduler
    with open_job(egorag_video, scenes, scheduler=scheduler, settings=egorag_settings) as job:
        captioner.process(job)
        assert scheduler.stage_done("caption") == [key]
    assert scheduler.resident_keys == []
    assert scheduler.load_counts() == {key: 1}
    assert all(isinstance(r.caption_text, str) and r.caption_text for r in job.results)
    assert np.all([r.keyframes is None for r in job.results])


def test_reference_recipe_is_the_default(captioner):
    """BLIP's own captioner (salesforce/BLIP configs/caption_coco.yaml, models/blip.py)."""
    o = captioner.options
    assert (o.prompt, o.num_beams, o.max_length, o.min_length) == ("a picture of ", 3, 20, 5)


@pytest.mark.parametrize("prompt", ["a picture of ", "A photo of the"])
def test_prompt_is_stripped_from_every_caption(egorag_component, egorag_job, egorag_video, prompt):
    captioner = egorag_component("caption", "captioner1", prompt=prompt, batch_size=2)
    with egorag_job(egorag_video, [Scene(0.0, 4.0)]) as job:
        with captioner.model(job) as (model, processor):
            frames = job.frames.sample(job.scenes[0], fps=1.0, max_frames=3).array
            generated = []
            original = model.generate

            def spy(**kwargs):
                out = original(**kwargs)
                generated.extend(out)
                return out

            model.generate = spy
            try:
                captions = captioner.caption_frames(model, processor, frames)
            finally:
                del model.generate
    assert len(captions) == len(generated) == 3
    prompt_ids = processor.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    echoed = processor.tokenizer.decode(prompt_ids, skip_special_tokens=True)
    for caption, sequence in zip(captions, generated, strict=True):
        assert sequence[1 : 1 + len(prompt_ids)].tolist() == prompt_ids  # the model echoes it
        rest = processor.tokenizer.decode(sequence[1 + len(prompt_ids) :], skip_special_tokens=True)
        assert caption == clean_generated_text(rest) and caption
        assert not caption.lower().startswith(echoed.strip().lower())
