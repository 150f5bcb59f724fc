"""Registers ``text=minilm`` (imported lazily, so start-up stays fast)."""

from egorag_core import hookimpl


@hookimpl
def register_text_encoders(register):
    register(
        "minilm",
        "egorag_minilm.encoder:SentenceTextEncoder",
        "sentence-transformers embedding of transcript + caption, and of the caption alone",
    )
