"""egorag hooks of egorag-xclip (no heavy imports here)."""

from egorag_core import hookimpl


@hookimpl
def register_video_encoders(register):
    register(
        "xclip",
        "egorag_xclip.encoder:XClipVideoEncoder",
        "CLIP features + K-means keyframes + X-CLIP video embedding",
    )
