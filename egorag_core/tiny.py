"""Helpers to build tiny random-weight models for tests and ``preset=tiny``.

The weights are random; the classes, configs, files and ``from_pretrained`` path are the real
ones. A byte-level BPE tokenizer trained here, offline, serves every processor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_CORPUS = (
    "a person walks into the kitchen and opens the fridge. the camera looks at a table with a "
    "cup, a plate and a phone. someone is cooking pasta on the stove while talking. a man rides "
    "a bike along the road near the river. a woman reads a book on the sofa in the living room. "
    "the dog runs across the garden. hands pick up a knife and cut vegetables on a board. "
    "describe this scene briefly. transcript visuals video audio caption scene frame speech "
    "music noise people car street door window light dark outside inside morning evening. "
    "0 1 2 3 4 5 6 7 8 9 hello world yes no the of and to in is it that for on with as was."
)


def train_tiny_tokenizer(
    vocab_size: int = 512,
    special_tokens: Sequence[str] = (),
    *,
    bos_token: str | None = None,
    eos_token: str | None = None,
    unk_token: str | None = None,
    pad_token: str | None = None,
    model_max_length: int = 512,
    chat_template: str | None = None,
    **kwargs: Any,
) -> Any:
    """A ``PreTrainedTokenizerFast`` with a byte-level BPE vocabulary trained on a small English
    corpus; ``special_tokens`` (and the named ones) are added as special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    named = [t for t in (bos_token, eos_token, unk_token, pad_token) if t]
    specials = list(dict.fromkeys([*named, *special_tokens]))
    tokenizer = Tokenizer(models.BPE(unk_token=unk_token))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator([_CORPUS] * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=bos_token,
        eos_token=eos_token,
        unk_token=unk_token,
        pad_token=pad_token,
        model_max_length=model_max_length,
        **kwargs,
    )
    if chat_template is not None:
        fast.chat_template = chat_template
    return fast


#: Side of the square images every tiny vision tower takes (two 16x16 patches a side).
TINY_IMAGE_SIZE = 32


def tiny_layers(hidden: int = 32) -> dict[str, int]:
    """Sizes of a tiny transformer stack: ``hidden`` wide, MLP twice that, 2 layers of 4 heads."""
    return {
        "hidden_size": hidden,
        "intermediate_size": 2 * hidden,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
    }


def tiny_vision_config(**overrides: Any) -> dict[str, Any]:
    """Keyword arguments of a tiny ViT-style vision config (CLIP, X-CLIP, BLIP...):
    :func:`tiny_layers`, ``TINY_IMAGE_SIZE`` images in 16x16 patches; ``overrides`` win."""
    return {**tiny_layers(), "image_size": TINY_IMAGE_SIZE, "patch_size": 16, **overrides}
