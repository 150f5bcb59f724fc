"""The seed's Python API: from_json -> encode_videos -> save -> load, with real MiniLM."""

from __future__ import annotations

import re

import numpy as np
import pytest

from egorag_core import VideoDataset
from egorag_core.store import LanceStore

MODALITIES = ("video", "audio", "text", "caption")


@pytest.fixture(scope="module")
def minilm():
    from sentence_transformers import SentenceTransformer

    from egorag_minilm.encoder import packaged_model_path

    return SentenceTransformer(packaged_model_path(), device="cpu")


def test_from_json_reads_the_seed_shape(api_run):
    dataset = api_run["dataset"]
    assert [p.video_name for p in dataset] == ["multi", "noaudio", "bunny"]
    assert [p.video_path for p in dataset] == api_run["paths"]
    assert all(p.precomputed_scenes is None for p in dataset)


def test_encode_videos_result(api_run):
    encoded = api_run["encoded"]
    assert encoded.encoded is True
    assert [p.video_name for p in encoded] == ["multi", "noaudio", "bunny"]
    multi = encoded[0]
    assert multi.has_audio is True  # audio=none skips analysis, the track is still detected
    assert encoded[1].has_audio is False
    # scenes=content found the three hard cuts of the 8 s video
    cuts = [s.start for s in multi.scenes[1:]]
    assert cuts == pytest.approx([2.0, 4.0, 6.0], abs=0.15)
    assert multi.scenes[0].start == 0.0 and multi.scenes[-1].end == pytest.approx(8.0)
    captions = [e.caption_text for e in multi.scene_embeddings]
    assert captions[1] == "mostly red" and captions[3] == "mostly blue"
    report = api_run["encoder"].report.as_dict()
    assert report["counts"] == {"ok": 3, "skipped": 0, "failed": 0}
    # the MiniLM model is shared by all videos: loaded once
    loads = report["model_loads"]
    assert [n for k, n in loads.items() if k.startswith("sentence-transformers:")] == [1]
    assert set(report["stages"]) >= {"scenes", "video", "caption", "text"}
    for video in report["videos"]:
        assert set(video["stage_seconds"]) >= {"scenes", "video", "caption", "text"}
    assert report["peak_rss_bytes"] > 0


def test_save_load_round_trip(api_run, tmp_path):
    encoded = api_run["encoded"]
    path = encoded.save(tmp_path / "x.pkl")
    loaded = VideoDataset.load(path)
    assert len(loaded) == len(encoded)
    for a, b in zip(encoded, loaded, strict=True):
        assert (a.video_name, a.video_path, a.has_audio) == (b.video_name, b.video_path,
                                                             b.has_audio)  # fmt: skip
        assert a.scenes == b.scenes
        assert len(b.scene_embeddings) == len(b.scenes)
        for x, y in zip(a.scene_embeddings, b.scene_embeddings, strict=True):
            for m in MODALITIES:
                vx, vy = getattr(x, m), getattr(y, m)
                assert (vx is None) == (vy is None)
                if vx is not None:
                    np.testing.assert_array_equal(vx, vy)
            assert (x.transcript, x.caption_text) == (y.transcript, y.caption_text)
        assert set(a.global_embeddings) == set(b.global_embeddings) == {"video", "text",
                                                                        "caption"}  # fmt: skip
        for m in b.global_embeddings:
            vectors = np.stack([getattr(e, m) for e in b.scene_embeddings])
            mean = vectors.mean(axis=0)
            np.testing.assert_allclose(b.global_embeddings[m], mean / np.linalg.norm(mean),
                                       rtol=1e-5)  # fmt: skip
            np.testing.assert_array_equal(a.global_embeddings[m], b.global_embeddings[m])


def test_index_holds_the_same_vectors(api_run):
    stored = {p.video_name: p for p in LanceStore(api_run["base"] / "out" / "index").read()}
    for a in api_run["encoded"]:
        b = stored[a.video_name]
        assert a.scenes == b.scenes
        for x, y in zip(a.scene_embeddings, b.scene_embeddings, strict=True):
            np.testing.assert_array_equal(x.video, y.video)
            np.testing.assert_array_equal(x.text, y.text)
            assert x.audio is None and y.audio is None
        np.testing.assert_allclose(a.global_embeddings["text"], b.global_embeddings["text"])


def test_text_vectors_are_minilm_of_the_seed_template(api_run, minilm):
    dim = minilm.get_embedding_dimension()
    assert dim == minilm[0].auto_model.config.hidden_size
    for p in api_run["encoded"]:
        for e in p.scene_embeddings:
            assert e.text.shape == (dim,) and e.text.dtype == np.float32
            assert e.caption.shape == (dim,)
            assert re.fullmatch(r"mostly \w+", e.caption_text)
            assert e.transcript == ""
    scenes = [e for p in api_run["encoded"] for e in p.scene_embeddings]
    texts = [f"Transcript: . Visuals: {e.caption_text}" for e in scenes]
    expected = minilm.encode(texts + [e.caption_text for e in scenes], convert_to_numpy=True)
    n = len(scenes)
    for i, e in enumerate(scenes):
        np.testing.assert_allclose(e.text, expected[i], atol=1e-5)
        np.testing.assert_allclose(e.caption, expected[n + i], atol=1e-5)
    red = next(e for e in scenes if e.caption_text == "mostly red")
    blue = next(e for e in scenes if e.caption_text == "mostly blue")
    assert not np.allclose(red.text, blue.text)


def test_from_json_relative_paths_and_names(tmp_path):
    (tmp_path / "sub").mkdir()
    listing = tmp_path / "sub" / "v.json"
    listing.write_text('{"videos": [{"video_path": "../a.mp4", "scenes": [{"start": 0, "end": 1}'
                       ', [1, 2.5]]}, "b.mp4"]}')  # fmt: skip
    ds = VideoDataset.from_json(listing)
    assert [p.video_path for p in ds] == [str(tmp_path / "a.mp4"), str(tmp_path / "sub/b.mp4")]
    assert [p.video_name for p in ds] == ["a", "b"]
    assert [(s.start, s.end) for s in ds[0].precomputed_scenes] == [(0.0, 1.0), (1.0, 2.5)]
