"""egorag text encoder on sentence-transformers."""
