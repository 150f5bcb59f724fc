"""Every stored embedding is a unit vector, searched by cosine: scene vectors a plugin gives
unnormalised are normalised (with one warning), global means are renormalised."""

from __future__ import annotations

import logging

import lancedb
import numpy as np
from cli_helpers import FAST, compose_and_run

from egorag_core.data import SceneEncoding, VideoDatapoint, VideoDataset, unit_vector
from egorag_core.store import LanceStore


def test_global_means_are_unit_vectors_and_skip_missing_ones():
    a, b = np.array([3.0, 0.0, 0.0], np.float32), np.array([0.0, 0.0, 1.0], np.float32)
    point = VideoDatapoint("x.mp4", "x", scene_embeddings=[
        SceneEncoding(video=a / 3, text=None), SceneEncoding(video=b, text=b),
        SceneEncoding(video=None, text=None)])  # fmt: skip
    means = point.compute_global_embeddings()
    assert set(means) == {"video", "text"}
    np.testing.assert_allclose(means["video"], [2**-0.5, 0, 2**-0.5], rtol=1e-6)
    np.testing.assert_allclose(means["text"], b)
    assert means["video"].dtype == np.float32
    # opposite vectors cancel out: a mean with no direction is no vector
    point.scene_embeddings = [SceneEncoding(audio=b), SceneEncoding(audio=-b)]
    assert point.compute_global_embeddings() == {}


def test_unit_vector():
    np.testing.assert_allclose(unit_vector(np.array([3, 4], np.float32)), [0.6, 0.8])
    assert unit_vector(np.zeros(4, np.float32)) is None
    assert unit_vector(np.array([1, np.nan], np.float32)) is None


def test_a_run_stores_unit_vectors_and_warns_once_per_modality(tmp_path, multi_scene_video,
                                                               noaudio_video, caplog):  # fmt: skip
    """video=colorhist gives histograms that sum to 1 (not unit length): stored normalised,
    one warning for the run; cosine search finds a scene from its own vector."""
    dataset = VideoDataset.from_path(multi_scene_video)
    dataset.video_datapoints += VideoDataset.from_path(noaudio_video).video_datapoints
    with caplog.at_level(logging.WARNING, logger="egorag"):
        outcome = compose_and_run([*FAST, "scenes=fixed", "scenes.seconds=2"], dataset, tmp_path)
    assert outcome.failed == 0
    warnings = [r.getMessage() for r in caplog.records if "unit length" in r.getMessage()]
    assert len(warnings) == 1 and "video vectors" in warnings[0], warnings
    stored = LanceStore(tmp_path / "index").read()
    for p in stored:
        for e in p.scene_embeddings:
            assert abs(float(np.linalg.norm(e.video)) - 1) < 1e-5
        assert abs(float(np.linalg.norm(p.global_embeddings["video"])) - 1) < 1e-5
    scenes = lancedb.connect(str(tmp_path / "index")).open_table("scenes")
    query = stored[0].scene_embeddings[2].video
    hits = scenes.search(query, vector_column_name="video_vector").distance_type("cosine")
    best = hits.limit(1).to_list()[0]
    assert (best["video_name"], best["scene_index"]) == (stored[0].video_name, 2)
    assert abs(best["_distance"]) < 1e-5
