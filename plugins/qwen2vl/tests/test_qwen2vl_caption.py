"""caption=captioner2: chat prompt, batched generate, cleaning of the generated text (the
core's ``clean_generated_text``)."""

from __future__ import annotations

import pytest
from egorag_core import Scene
from egorag_core.hf import clean_generated_text

from egorag_qwen2vl.captioner import chat_prompt, generate_captions
from egorag_qwen2vl.preprocess import preprocess_frames

PROMPT = "Describe this scene briefly."  # caption.prompt in captioner2.yaml
#: 1, 4 and 6 frames at 2 fps in egorag_video (4 s at 10 fps; a 0.1 s scene has 1 frame):
#: grid_t 1, 2 and 3, different prompt lengths in one batch.
SCENES = [Scene(0.0, 0.1), Scene(0.0, 2.0), Scene(1.0, 4.0)]


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
    assert clean_generated_text(raw, PROMPT) == clean


def test_clean_caption_custom_prompt():
    assert clean_generated_text("What happens? Nothing much.", "What happens?") == "Nothing much."
    assert clean_generated_text("Nothing much.", "") == "Nothing much."


def test_yaml_prompt_is_the_one_cleaned(egorag_component):
    assert egorag_component("caption", "captioner2").options.prompt == PROMPT


def test_chat_prompt_has_one_pad_per_merged_token(qwen, egorag_job, egorag_video):
    with egorag_job(egorag_video) as job:
        frames = job.frames.sample(job.scenes[0], fps=1.0, max_frames=32)
    inputs = preprocess_frames(frames.array, qwen.preprocess)
    text = chat_prompt(qwen.tokenizer, PROMPT, inputs.num_video_tokens)
    ids = qwen.tokenizer(text)["input_ids"]
    config = qwen.model.config
    assert ids.count(config.video_token_id) == inputs.num_video_tokens
    assert ids.count(config.vision_start_token_id) == 1 == ids.count(config.vision_end_token_id)
    assert text.startswith("<|im_start|>system\n") and text.endswith("<|im_start|>assistant\n")


def _captions(egorag_component, egorag_job, video, batch_size):
    captioner = egorag_component("caption", "captioner2", batch_size=batch_size,
                                 max_new_tokens=8, fps=2.0)  # fmt: skip
    with egorag_job(video, SCENES) as job:
        counts = [len(captioner.scene_frames(job, s)) for s in job.scenes]
        captioner.process(job)
        return [r.caption_text for r in job.results], job.scheduler, counts


def test_batched_generate_matches_one_by_one(egorag_component, egorag_job, egorag_video):
    """Left padding: scenes of 1, 4 and 6 frames (different prompt lengths) in one call give
    the captions they give alone."""
    alone, _, counts = _captions(egorag_component, egorag_job, egorag_video, batch_size=1)
    batched, scheduler, _ = _captions(egorag_component, egorag_job, egorag_video, batch_size=3)
    assert counts == [1, 4, 6]
    assert batched == alone
    assert any(batched) and all(c == clean_generated_text(c, PROMPT) for c in batched)
    assert list(scheduler.load_counts().values()) == [1]


def test_new_tokens_only(qwen, egorag_job, egorag_video):
    """The prompt is never in the caption: generation is decoded from the new tokens."""
    with egorag_job(egorag_video) as job:
        frames = job.frames.sample(job.scenes[0], fps=1.0, max_frames=32)
    inputs = preprocess_frames(frames.array, qwen.preprocess)
    (caption,) = generate_captions(qwen, [inputs], PROMPT, 4)
    assert "Describe this scene" not in caption and "assistant" not in caption
    assert len(qwen.tokenizer(caption)["input_ids"]) <= 4 * 2
