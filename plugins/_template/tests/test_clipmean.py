"""``video=clipmean`` on tiny random weights, with the fixtures egorag-core gives every plugin."""

from pathlib import Path
from typing import Any

import numpy as np
from transformers import CLIPVisionConfig

from egorag_core import Scene


def test_each_scene_gets_a_unit_vector_of_the_model_size(
    egorag_component: Any, egorag_job: Any, egorag_video: Path
) -> None:
    encoder = egorag_component("video", "clipmean")
    with egorag_job(egorag_video, [Scene(0.0, 2.0), Scene(2.0, 4.0)]) as job:
        encoder.process(job)
    size = CLIPVisionConfig.from_pretrained(encoder.spec().model_id).projection_dim
    for result in job.results:
        assert result.video.shape == (size,)
        assert result.video.dtype == np.float32
        assert np.isclose(np.linalg.norm(result.video), 1.0, atol=1e-5)
    assert not np.allclose(job.results[0].video, job.results[1].video)  # two different shots


def test_options_come_from_the_yaml_and_overrides(egorag_component: Any) -> None:
    assert egorag_component("video", "clipmean").options.max_frames == 16
    assert egorag_component("video", "clipmean", fps=2.0).options.fps == 2.0


def test_egorag_runs_it(run_egorag: Any, egorag_video: Path) -> None:
    result = run_egorag(
        "video=clipmean", "caption=none", "audio=none", "text=none", "scenes=fixed",
        input=egorag_video,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    video = result.report["stages"]["video"]
    assert video["option"] == "clipmean"
    assert [m["random_weights"] for m in video["models"]] == [True]
