"""egorag hooks of egorag-xclip (no heavy imports here)."""

from egorag_core import hookimpl
from egorag_core.hookspecs import Register


@hookimpl
def register_video_encoders(register: Register) -> None:
    """The ``xclip`` video encoder."""
    register(
        "xclip",
        "egorag_xclip.encoder:XClipVideoEncoder",
        "CLIP features + K-means keyframes + X-CLIP video embedding",
    )
