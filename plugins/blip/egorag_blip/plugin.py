"""egorag hooks of egorag-blip (no heavy imports here)."""

from egorag_core import hookimpl


@hookimpl
def register_captioners(register):
    register(
        "captioner1",
        "egorag_blip.captioner:BlipCaptioner",
        "BLIP captions of up to 5 K-means keyframes, merged without repeats",
    )
