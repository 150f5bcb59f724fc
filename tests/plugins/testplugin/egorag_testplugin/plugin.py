"""Registers ``video=colorhist`` and ``caption=colorname``."""

from egorag_core import hookimpl


@hookimpl
def register_video_encoders(register):
    register("colorhist", "egorag_testplugin.components:ColorHistogramEncoder", "RGB histograms")


@hookimpl
def register_captioners(register):
    register("colorname", "egorag_testplugin.components:ColorNameCaptioner", "dominant colour")
