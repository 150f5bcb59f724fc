"""The core decodes frames at the size X-CLIP's processors resize to, read from their configs."""

import math
from collections import Counter

import numpy as np
from egorag_core import VideoDataset
from egorag_core.config import compose
from egorag_core.media import VideoFrames
from egorag_core.run import run


def test_frames_are_decoded_at_the_side_the_processors_need(
    tmp_path, egorag_video, egorag_component, egorag_settings, monkeypatch
):
    xclip = egorag_component("video", "xclip")
    side = xclip.frame_side()
    assert xclip.scenes_per_call() == xclip.options.video_batch_size  # windows: whole batches
    from transformers import AutoImageProcessor

    edges = [AutoImageProcessor.from_pretrained(xclip.spec(o).model_id).size["shortest_edge"]
             for o in ("clip_model", "model")]  # fmt: skip  (tiny ones: 32)
    assert side == max(edges) < 120
    shapes: Counter[tuple[int, ...]] = Counter()
    real = VideoFrames._decode_until

    def recording(self, wanted, *args, **kwargs):
        out = real(self, wanted, *args, **kwargs)
        shapes.update(a.shape for a in out.values() if isinstance(a, np.ndarray))  # not scenes'
        return out

    monkeypatch.setattr(VideoFrames, "_decode_until", recording)
    # scenes=fixed: the plugin's tests also run with only the core installed
    cfg, choices = compose(["preset=tiny", "scenes=fixed", "video=xclip", "caption=none",
                            "audio=none", "text=none", "progress=false",
                            f"models.cache_dir={egorag_settings.cache_dir}"])  # fmt: skip
    dataset = VideoDataset.from_path(str(egorag_video))
    outcome = run(cfg, dataset, tmp_path / "out", choices=choices)
    assert outcome.failed == 0, [v.reason for v in outcome.report.videos]
    width = math.ceil(160 * side / 120 / 2) * 2  # the 160x120 video, shorter side made `side`
    assert set(shapes) == {(side, width, 3)}, shapes
    (video,) = outcome.dataset
    assert all(e.video is not None for e in video.scene_embeddings)
