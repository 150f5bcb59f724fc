"""egorag-xclip: the ``video=xclip`` encoder (CLIP keyframes + X-CLIP video embedding)."""

__version__ = "0.1.0"
