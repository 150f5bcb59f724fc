"""A tiny random-weight BLIP captioner folder, built from the real transformers config classes.

It loads through the same ``from_pretrained(folder)`` code as a hub id; only the weights are
random (and tiny), so tests and ``preset=tiny`` run the real code path offline.
"""

from __future__ import annotations

from pathlib import Path

HIDDEN = 32
LAYERS = 2
HEADS = 4
IMAGE_SIZE = 32
PATCH = 16


def build_tiny_blip(folder: Path) -> None:
    """Save a tiny ``BlipForConditionalGeneration`` + ``BlipProcessor`` to ``folder``.

    The BERT-style special tokens of the real checkpoint are kept by name: ``[DEC]`` starts a
    caption, ``[SEP]`` ends it, ``[PAD]`` pads.
    """
    import torch
    from egorag_core.models import quiet_transformers
    from egorag_core.tiny import train_tiny_tokenizer
    from transformers import (
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
    )

    torch.manual_seed(0)
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
    text = dict(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN,
        encoder_hidden_size=HIDDEN,
        intermediate_size=2 * HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        max_position_embeddings=64,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.sep_token_id,
        sep_token_id=tokenizer.sep_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    vision = dict(
        hidden_size=HIDDEN,
        intermediate_size=2 * HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        image_size=IMAGE_SIZE,
        patch_size=PATCH,
        initializer_range=0.02,  # the default (1e-10) makes every image look the same
    )
    config = BlipConfig(
        text_config=text, vision_config=vision, projection_dim=HIDDEN, image_text_hidden_size=HIDDEN
    )
    with quiet_transformers():
        BlipForConditionalGeneration(config).eval().save_pretrained(folder)
        image_processor = BlipImageProcessor(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
        BlipProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)
