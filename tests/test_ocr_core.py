"""The core's side of OCR: which frames are read, how lines become a scene's text, fusion that
favours no scene for a list scoring all alike, and ``ocr=none`` leaving every output as it was
before the stage existed (the ocr=rapidocr reader itself is tested in plugins/ocr)."""

from __future__ import annotations

import json

import lancedb
import numpy as np
import pytest
from cli_helpers import FAST, compose_and_run

from egorag_core import VideoDataset
from egorag_core.ocr import TextLine, choose_frames, merge_lines, video_text
from egorag_core.retrieval import Hit, SearchIndex, Source, fuse, tied_ranks

#: The tables' columns before the ocr stage existed (with video, caption and text vectors;
#: ``keyframe_times`` came later, with ``egorag ui``'s thumbnails, and ``wall_start`` /
#: ``wall_end`` with the wall-clock prefilters).
SCENE_COLUMNS = ["key", "video_name", "video_path", "scene_index", "start", "end",
                 "transcript", "caption_text", "extras", "keyframe_times", "video_vector",
                 "text_vector", "caption_vector", "wall_start", "wall_end"]  # fmt: skip
VIDEO_COLUMNS = ["key", "content_hash", "config_fingerprint", "video_name", "video_path",
                 "duration", "has_audio", "num_scenes", "encoded_at", "config", "same_as",
                 "recorded_at", "video_vector", "text_vector", "caption_vector"]  # fmt: skip
HIT_KEYS = ["video_name", "video_path", "start", "end", "score", "modality", "transcript",
            "caption_text", "scene_index", "key"]  # fmt: skip


def line(text: str, x: float, y: float, t: float = 0.0, conf: float = 0.9, h: float = 20,
         w: float = 100) -> TextLine:  # fmt: skip
    return TextLine(text, conf, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)), t)


def test_lines_are_joined_ordered_and_kept_once_across_frames() -> None:
    first = [line("EXIT", 300, 100), line("GATE", 10, 10, w=50), line("B17", 70, 12, w=40)]
    second = [line("GATE B17", 12, 14, t=1.0, conf=0.95), line("EXIT", 302, 101, t=1.0),
              line("RO0M 5", 10, 200, t=1.0)]  # fmt: skip
    kept = merge_lines(first + second)
    assert [k.text for k in kept] == ["GATE B17", "EXIT", "RO0M 5"]  # rows top to bottom
    assert kept[0].confidence == 0.95  # the surer reading of the same line
    rooms = merge_lines([line("ROOM 5", 0, 0), line("ROOM 6", 0, 50), line("ROOM 5", 0, 0, 1.0)])
    assert [k.text for k in rooms] == ["ROOM 5", "ROOM 6"]  # other digits: another line
    assert video_text(["GATE B17\nEXIT", "", "exit", None]) == "GATE B17\nEXIT"
    assert video_text([None, None]) is None


def test_frames_left_out_say_why() -> None:
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    frames = [texture, texture.copy(), np.zeros((120, 160, 3), np.uint8),
              np.full((8, 8, 3), 128, np.uint8), np.zeros((0, 0, 3), np.uint8),
              255 - texture]  # fmt: skip
    chosen, skipped = choose_frames(frames, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5], threshold=3.0)
    assert chosen == [0, 5]
    assert [s["reason"] for s in skipped] == [
        "near-duplicate of a frame read", "blank (one colour)",
        "too small to read (8x8 px, under 16)", "too small to read (0x0 px, under 16)"]


def test_a_list_scoring_every_scene_alike_favours_none() -> None:
    rows = [{"key": "v", "scene_index": i, "score": s, "video_name": "v", "video_path": "v",
             "start": float(i), "end": i + 1.0, "transcript": "", "caption_text": ""}
            for i, s in enumerate([0.5, 0.5, 0.5])]  # fmt: skip
    assert tied_ranks(rows) == [1, 1, 1]
    informative = [rows[2] | {"score": 0.9}, rows[1] | {"score": 0.4}, rows[0] | {"score": 0.1}]
    hits = fuse([(Source("caption", "c"), rows), (Source("ocr", "o"), informative)], k=3)
    assert [h.scene_index for h in hits] == [2, 1, 0]


@pytest.fixture(scope="module")
def plain(tmp_path_factory, multi_scene_video):
    """A run without the ocr stage (the default ocr=none): video, caption and text vectors."""
    out = tmp_path_factory.mktemp("plain")
    words = [*FAST, "text=minilm", "scenes=fixed", "scenes.seconds=2",
             f"store.export_pickle={out / 'plain.pkl'}"]  # fmt: skip
    outcome = compose_and_run(words, VideoDataset.from_path(multi_scene_video), out)
    assert outcome.failed == 0
    return out, outcome


def test_ocr_none_leaves_the_index_and_its_key_as_before(plain) -> None:
    out, outcome = plain
    db = lancedb.connect(str(out / "index"))
    assert db.open_table("scenes").schema.names == SCENE_COLUMNS
    assert db.open_table("videos").schema.names == VIDEO_COLUMNS
    row = db.open_table("videos").to_pandas().iloc[0]
    stages = json.loads(row.config)  # what the key's fingerprint is made of
    assert sorted(stages) == ["audio.asr", "audio.embedding", "audio.events",
                              "audio.speakers", "caption", "scenes", "text", "tiny", "video"]
    assert "ocr" not in outcome.report.as_dict()["stages"]
    assert db.open_table("columns").to_pandas().column.tolist() == [
        "video_vector", "text_vector", "caption_vector"]  # fmt: skip


def test_ocr_none_leaves_the_pickle_search_and_eval_as_before(plain, tmp_path) -> None:
    out, _ = plain
    import pickle

    with open(out / "plain.pkl", "rb") as f:
        plain_data = pickle.load(f)  # noqa: S301 - written by this test
    (point,) = plain_data["video_datapoints"]
    assert sorted(point) == ["duration", "global_embeddings", "has_audio", "scene_embeddings",
                             "scenes", "video_name", "video_path"]  # fmt: skip
    assert sorted(point["global_embeddings"]) == ["caption", "text", "video"]
    assert sorted(point["scene_embeddings"]["scene_0"]) == [
        "audio", "caption", "caption_text", "extras", "text", "transcript", "video"]
    index = SearchIndex(out / "index")
    hits = index.search("red", k=2)
    assert [list(h.to_dict()) for h in hits] == [HIT_KEYS] * 2
    assert all(isinstance(h, Hit) and h.ocr_text is None for h in hits)
    assert not any(line.startswith("ocr") or "not searched: ocr" in line
                   for line in index.describe())  # fmt: skip
    from egorag_core.evaluate import Query, evaluate

    report = evaluate(index, [Query("red", "multi", 2.0, 4.0)])
    assert "ocr" not in report["modalities"] and "ocr" not in report["skipped"]
    with pytest.raises(Exception, match="no text was read in the frames"):
        index.search("red", modality="ocr")
