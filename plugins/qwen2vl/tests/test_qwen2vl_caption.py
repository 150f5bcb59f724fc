"""caption=captioner2: chat prompt, batched generate, cleaning of the generated text."""

from __future__ import annotations

import pytest
from egorag_core import ModelScheduler, Scene
from egorag_core.testing import open_job

from egorag_qwen2vl.captioner import Qwen2VLCaptioner, chat_prompt, clean_caption
from egorag_qwen2vl.preprocess import preprocess_frames

SCENES = [Scene(0.0, 0.1), Scene(0.0, 2.0), Scene(2.0, 5.0)]


@pytest.mark.parametrize(
    "raw,clean",
    [
        ("  A man rides a bike.  ", "A man rides a bike."),
        ("A dog.<|im_end|><|endoftext|>", "A dog."),
        ("<|im_start|>assistant\nA red car.<|im_end|>", "A red car."),
        ("Describe this scene briefly. A kitchen with a table.", "A kitchen with a table."),
        ("system\nYou are a helpful assistant.\nuser\nDescribe this scene briefly.\n"
         "assistant\nPeople walk\n\n outside.", "People walk outside."),
        ("A\x00 cup\ufffd on\ta  table\u200b.", "A cup on a table."),
        ("<|endoftext|>", ""),
        ("", ""),
    ],
)  # fmt: skip
def test_clean_caption(raw, clean):
    assert clean_caption(raw) == clean


def test_clean_caption_custom_prompt():
    assert clean_caption("What happens? Nothing much.", "What happens?") == "Nothing much."
    assert clean_caption("Nothing much.", "") == "Nothing much."


def test_chat_prompt_has_one_pad_per_merged_token(qwen, two_scene_video):
    with open_job(two_scene_video) as job:
        frames = job.frames.sample(job.scenes[0], fps=1.0, max_frames=32)
    inputs = preprocess_frames(frames.array, qwen.preprocess)
    text = chat_prompt(qwen.tokenizer, "Describe this scene briefly.", inputs.num_video_tokens)
    ids = qwen.tokenizer(text)["input_ids"]
    config = qwen.model.config
    assert ids.count(config.video_token_id) == inputs.num_video_tokens
    assert ids.count(config.vision_start_token_id) == 1 == ids.count(config.vision_end_token_id)
    assert text.startswith("<|im_start|>system\n") and text.endswith("<|im_start|>assistant\n")


def _captions(video, settings, batch_size):
    captioner = Qwen2VLCaptioner({"name": "captioner2", "batch_size": batch_size,
                                  "max_new_tokens": 8}, settings)  # fmt: skip
    captioner.check()
    scheduler = ModelScheduler("cpu")
    with open_job(video, SCENES, scheduler=scheduler, settings=settings) as job:
        captioner.process(job)
        return [r.caption_text for r in job.results], scheduler


def test_batched_generate_matches_one_by_one(qwen_settings, two_scene_video):
    """Left padding: scenes of 1, 2 and 3 frames (different prompt lengths) in one call give
    the captions they give alone."""
    alone, _ = _captions(two_scene_video, qwen_settings, batch_size=1)
    batched, scheduler = _captions(two_scene_video, qwen_settings, batch_size=3)
    assert batched == alone
    assert any(batched) and all(c == clean_caption(c) for c in batched)
    assert list(scheduler.load_counts().values()) == [1]


def test_new_tokens_only(qwen, two_scene_video):
    """The prompt is never in the caption: generation is decoded from the new tokens."""
    from egorag_qwen2vl.captioner import generate_captions

    with open_job(two_scene_video) as job:
        frames = job.frames.sample(job.scenes[0], fps=1.0, max_frames=32)
    inputs = preprocess_frames(frames.array, qwen.preprocess)
    (caption,) = generate_captions(qwen, [inputs], "Describe this scene briefly.", 4)
    assert "Describe this scene" not in caption and "assistant" not in caption
    assert len(qwen.tokenizer(caption)["input_ids"]) <= 4 * 2
