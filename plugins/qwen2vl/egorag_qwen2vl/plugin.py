"""Hook implementations: register the Qwen2-VL video encoder and captioner."""

from egorag_core import hookimpl
from egorag_core.hookspecs import Register


@hookimpl
def register_video_encoders(register: Register) -> None:
    register(
        "qwen2vl",
        "egorag_qwen2vl.encoder:Qwen2VLVideoEncoder",
        "Qwen2-VL vision tower, merged tokens pooled (mean|first); 8 uniform keyframes",
    )


@hookimpl
def register_captioners(register: Register) -> None:
    register(
        "captioner2",
        "egorag_qwen2vl.captioner:Qwen2VLCaptioner",
        "Qwen2-VL describes the scene video (chat template + generate); shares the video model",
    )
