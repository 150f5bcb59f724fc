"""``video=faulty``: the test plugin's colour histograms, failing on purpose where files beside
the video say so, for the executor tests (a raising video, a worker killed mid-video)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from egorag_core import hookimpl
from egorag_core.components import VideoJob
from egorag_testplugin.components import ColorHistogramEncoder


class FaultyEncoder(ColorHistogramEncoder):
    """With ``<video>.raise`` beside the video it raises; with ``<video>.kill`` it kills its
    own process (SIGKILL, as the out-of-memory killer would) every time; with
    ``<video>.kill-once`` the first time only (it leaves ``<video>.killed``)."""

    def process(self, job: VideoJob) -> None:
        if Path(job.path + ".raise").exists():
            raise RuntimeError("the colour wheel jammed")
        killed = Path(job.path + ".killed")
        once = Path(job.path + ".kill-once").exists() and not killed.exists()
        if Path(job.path + ".kill").exists() or once:
            killed.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        super().process(job)


@hookimpl
def register_video_encoders(register):
    register("faulty", FaultyEncoder, "colour histograms; raises or kills its process on cue")
