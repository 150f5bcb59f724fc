"""Registers ``text=minilm`` (imported lazily, so start-up stays fast)."""

from egorag_core import hookimpl
from egorag_core.hookspecs import Register


@hookimpl
def register_text_encoders(register: Register) -> None:
    register(
        "minilm",
        "egorag_minilm.encoder:SentenceTextEncoder",
        "sentence-transformers embedding of transcript + caption, and of the caption alone",
    )
