"""Tiny random-weight CLIP and X-CLIP folders, built from the real transformers config classes.

They are loaded through the same ``from_pretrained(folder)`` code as a hub id; only the weights
are random (and tiny), so tests and ``preset=tiny`` run the real code path offline.
"""

from __future__ import annotations

from pathlib import Path

#: Sizes shared by both tiny models (hidden 32, 2 layers, 32x32 images in 16x16 patches).
HIDDEN = 32
LAYERS = 2
HEADS = 4
IMAGE_SIZE = 32
PATCH = 16
PROJECTION = 16
TEXT_CONTEXT = 16


def _tokenizer():
    from egorag_core.tiny import train_tiny_tokenizer

    return train_tiny_tokenizer(
        256,
        bos_token="<|startoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        model_max_length=TEXT_CONTEXT,
    )


def _image_processor():
    from transformers import CLIPImageProcessor

    return CLIPImageProcessor(
        size={"shortest_edge": IMAGE_SIZE}, crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    )


def _text_kwargs(tokenizer) -> dict:
    return dict(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN,
        intermediate_size=2 * HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        max_position_embeddings=TEXT_CONTEXT,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def _vision_kwargs() -> dict:
    return dict(
        hidden_size=HIDDEN,
        intermediate_size=2 * HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        image_size=IMAGE_SIZE,
        patch_size=PATCH,
    )


def build_tiny_clip(folder: Path) -> None:
    """Save a tiny ``CLIPModel`` + ``CLIPProcessor`` to ``folder`` (the layout of
    ``openai/clip-vit-base-patch32``, which ``CLIPVisionModelWithProjection`` loads)."""
    import torch
    from egorag_core.models import quiet_transformers
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor

    torch.manual_seed(0)
    tokenizer = _tokenizer()
    config = CLIPConfig(
        text_config=_text_kwargs(tokenizer),
        vision_config=dict(_vision_kwargs(), projection_dim=PROJECTION),
        projection_dim=PROJECTION,
    )
    with quiet_transformers():
        CLIPModel(config).eval().save_pretrained(folder)
        processor = CLIPProcessor(image_processor=_image_processor(), tokenizer=tokenizer)
        processor.save_pretrained(folder)


def build_tiny_xclip(folder: Path) -> None:
    """Save a tiny ``XCLIPModel`` (8 frames) + ``XCLIPProcessor`` to ``folder``."""
    import torch
    from egorag_core.models import quiet_transformers
    from transformers import XCLIPConfig, XCLIPModel, XCLIPProcessor

    torch.manual_seed(0)
    tokenizer = _tokenizer()
    vision = dict(
        _vision_kwargs(),
        num_frames=8,
        mit_hidden_size=PROJECTION,
        mit_intermediate_size=2 * PROJECTION,
        mit_num_hidden_layers=1,
        mit_num_attention_heads=2,
    )
    config = XCLIPConfig(
        text_config=_text_kwargs(tokenizer),
        vision_config=vision,
        projection_dim=PROJECTION,
        prompt_layers=1,
        prompt_num_attention_heads=2,
    )
    with quiet_transformers():
        XCLIPModel(config).eval().save_pretrained(folder)
        processor = XCLIPProcessor(image_processor=_image_processor(), tokenizer=tokenizer)
        processor.save_pretrained(folder)
