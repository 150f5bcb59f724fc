"""egorag-clap: CLAP audio embeddings and AST AudioSet sound events (transformers)."""

__version__ = "0.1.0"
