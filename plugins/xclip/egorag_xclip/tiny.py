"""Tiny random-weight CLIP and X-CLIP folders, built from the real transformers config classes.

They are loaded through the same ``from_pretrained(folder)`` code as a hub id; only the weights
are random (and tiny), so tests and ``preset=tiny`` run the real code path offline. The layer
and image sizes are the core's (:func:`egorag_core.tiny.tiny_vision_config`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Embedding size of both tiny models, and their text context length.
PROJECTION = 16
TEXT_CONTEXT = 16


def _tokenizer() -> Any:
    from egorag_core.tiny import train_tiny_tokenizer

    return train_tiny_tokenizer(
        256,
        bos_token="<|startoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        model_max_length=TEXT_CONTEXT,
    )


def _image_processor() -> Any:
    from egorag_core.tiny import TINY_IMAGE_SIZE
    from transformers import CLIPImageProcessor

    side = TINY_IMAGE_SIZE
    return CLIPImageProcessor(
        size={"shortest_edge": side}, crop_size={"height": side, "width": side}
    )


def _text_kwargs(tokenizer: Any) -> dict[str, Any]:
    from egorag_core.tiny import tiny_layers

    return dict(
        tiny_layers(),
        vocab_size=len(tokenizer),
        max_position_embeddings=TEXT_CONTEXT,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def build_tiny_clip(folder: Path) -> None:
    """Save a tiny ``CLIPModel`` + ``CLIPProcessor`` to ``folder`` (the layout of
    ``openai/clip-vit-base-patch32``, which ``CLIPVisionModelWithProjection`` loads)."""
    import torch
    from egorag_core.hf import quiet_transformers
    from egorag_core.tiny import tiny_vision_config
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor

    torch.manual_seed(0)
    tokenizer = _tokenizer()
    config = CLIPConfig(
        text_config=_text_kwargs(tokenizer),
        vision_config=tiny_vision_config(projection_dim=PROJECTION),
        projection_dim=PROJECTION,
    )
    with quiet_transformers():
        CLIPModel(config).eval().save_pretrained(folder)
        processor = CLIPProcessor(image_processor=_image_processor(), tokenizer=tokenizer)
        processor.save_pretrained(folder)


def build_tiny_xclip(folder: Path) -> None:
    """Save a tiny ``XCLIPModel`` (8 frames) + ``XCLIPProcessor`` to ``folder``."""
    import torch
    from egorag_core.hf import quiet_transformers
    from egorag_core.tiny import tiny_vision_config
    from transformers import XCLIPConfig, XCLIPModel, XCLIPProcessor

    torch.manual_seed(0)
    tokenizer = _tokenizer()
    vision = tiny_vision_config(
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
