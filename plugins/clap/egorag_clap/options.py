"""The options of the CLAP embedder and the AST tagger (the schema: names and types; the
values, with their explanations, are in ``conf/audio/<group>/<name>.yaml``). Imports nothing
heavy."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ClapOptions:
    """``audio/embedding=clap``."""

    model: str
    #: Audio windows per forward pass, across scenes.
    batch_size: int
    min_window_s: float


@dataclass
class ASTOptions:
    """``audio/events=ast``."""

    model: str
    threshold: float
    top_k: int
    #: Audio windows per forward pass, across scenes.
    batch_size: int
    min_window_s: float
