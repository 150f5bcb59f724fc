"""Hook implementations of egorag-clap (no heavy imports here)."""

from __future__ import annotations

from egorag_core import hookimpl
from egorag_core.hookspecs import Register


@hookimpl
def register_audio_analyzers(register: Register) -> None:
    """The CLAP embedder (``audio/embedding``) and the AST tagger (``audio/events``)."""
    register("clap", "egorag_clap.clap:ClapEmbedder",
             "CLAP audio embedding (transformers ClapModel), windowed and averaged",
             group="audio/embedding")
    register("ast", "egorag_clap.ast:ASTEvents",
             "AudioSet sound events with times (transformers AST)", group="audio/events")
