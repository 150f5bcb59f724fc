"""A tiny random-weight BLIP captioner folder, built from the real transformers config classes.

It loads through the same ``from_pretrained(folder)`` code as a hub id; only the weights are
random (and tiny), so tests and ``preset=tiny`` run the real code path offline. The layer and
image sizes are the core's (:func:`egorag_core.tiny.tiny_vision_config`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _tokenizer() -> Any:
    """A BPE tokenizer with the BERT-style special tokens of the real checkpoint, by name,
    which wraps text as ``[CLS] text [SEP]`` as BLIP's ``BertTokenizer`` does (BLIP's
    ``generate`` turns the first token into ``[DEC]`` and drops the last)."""
    from egorag_core.tiny import train_tiny_tokenizer
    from tokenizers import processors

    tokenizer = train_tiny_tokenizer(
        256,
        ["[CLS]", "[MASK]"],
        bos_token="[DEC]",
        eos_token="[SEP]",
        unk_token="[UNK]",
        pad_token="[PAD]",
        model_max_length=64,
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    cls, sep = ("[CLS]", tokenizer.cls_token_id), ("[SEP]", tokenizer.sep_token_id)
    tokenizer.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[cls, sep]
    )
    return tokenizer


def build_tiny_blip(folder: Path) -> None:
    """Save a tiny ``BlipForConditionalGeneration`` + ``BlipProcessor`` to ``folder``.

    ``[DEC]`` starts a caption, ``[SEP]`` ends it, ``[PAD]`` pads (as in the real checkpoint).
    """
    import torch
    from egorag_core.hf import quiet_transformers
    from egorag_core.tiny import TINY_IMAGE_SIZE, tiny_layers, tiny_vision_config
    from transformers import (
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
    )

    torch.manual_seed(0)
    tokenizer = _tokenizer()
    # the default initializer_range (1e-10) makes every image look the same
    vision = tiny_vision_config(initializer_range=0.02)
    hidden = vision["hidden_size"]
    text = dict(
        tiny_layers(hidden),
        vocab_size=len(tokenizer),
        encoder_hidden_size=hidden,
        max_position_embeddings=64,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.sep_token_id,
        sep_token_id=tokenizer.sep_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config = BlipConfig(
        text_config=text, vision_config=vision, projection_dim=hidden, image_text_hidden_size=hidden
    )
    side = TINY_IMAGE_SIZE
    with quiet_transformers():
        BlipForConditionalGeneration(config).eval().save_pretrained(folder)
        image_processor = BlipImageProcessor(size={"height": side, "width": side})
        BlipProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)
