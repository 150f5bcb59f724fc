"""egorag-blip: the ``caption=captioner1`` captioner (BLIP on representative keyframes)."""

__version__ = "0.1.0"
