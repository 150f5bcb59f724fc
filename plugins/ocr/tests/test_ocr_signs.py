"""``ocr=rapidocr`` on real footage with signs drawn over it (conftest.py): every sign read with
its word spaces, nothing read where there is no text, each frame decoded once, and what is
stored (index, pickle) carries the text, its lines and the OCR vectors."""

from __future__ import annotations

import json

import lancedb
import numpy as np
from egorag_core import VideoDataset

from egorag_ocr.testing import BLACK, Sign, word_accuracy


def scenes_table(run):
    return lancedb.connect(str(run.index)).open_table("scenes").to_pandas() \
        .sort_values("scene_index").reset_index(drop=True)  # fmt: skip


def test_each_sign_is_read_word_for_word_with_its_spaces(ocr_run, signs) -> None:
    table = scenes_table(ocr_run)
    scores = {}
    for i, sign in signs.sign_scenes():
        read = table.ocr_text[i]
        scores[sign.text] = word_accuracy(sign.text, read)
        print(f"{scores[sign.text]:.2f} {sign.text!r} -> {read!r}")
        assert read.count(" ") >= sign.text.count(" "), read  # words apart, not run together
    assert all(score >= 0.9 for score in scores.values()), scores
    assert len(scores) == 12


def test_scenes_without_text_read_nothing(ocr_run, signs) -> None:
    table = scenes_table(ocr_run)
    empty = [i for i, item in enumerate(signs.shown) if not isinstance(item, Sign)]
    assert len(empty) == 4
    for i in empty:
        assert table.ocr_text[i] == "", (i, table.ocr_text[i])
        assert json.loads(table.extras[i])["ocr"]["lines"] == []


def test_a_scene_without_text_has_a_null_ocr_vector(ocr_run, signs, needs_text) -> None:
    table = scenes_table(ocr_run)
    for i, item in enumerate(signs.shown):
        vector = table.ocr_vector[i]
        if isinstance(item, Sign):
            assert vector is not None and len(vector) == 384  # all-MiniLM-L6-v2
            assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-4)
        else:
            assert vector is None, i  # never the embedding of ""


def test_the_black_scene_is_recorded_and_the_video_goes_on(ocr_run, signs) -> None:
    (video,) = ocr_run.outcome.report.videos
    assert video.status == "ok"
    black = signs.shown.index(BLACK)
    record = json.loads(scenes_table(ocr_run).extras[black])["ocr"]
    assert record["frames"] == []
    assert [s["reason"] for s in record["skipped"]] == ["blank (one colour)"] * 2


def test_each_frame_is_decoded_once_and_at_most_two_per_scene_are_read(ocr_run, signs) -> None:
    assert ocr_run.decoded and max(ocr_run.decoded.values()) == 1, \
        ocr_run.decoded.most_common(3)  # fmt: skip
    (video,) = ocr_run.outcome.report.videos
    assert video.frames_needed == video.frames_decoded == len(ocr_run.decoded)
    table = scenes_table(ocr_run)
    for i, scene in enumerate(signs.scenes):
        read = json.loads(table.extras[i])["ocr"]["frames"]
        assert len(read) <= 2 and all(scene.start <= t < scene.end for t in read)
    stats = ocr_run.outcome.report.as_dict()["stages"]["ocr"]["stats"]
    assert stats["frames_read"] + stats["frames_skipped"] == 2 * len(signs.scenes)
    assert stats["frame_errors"] == 0


def test_lines_have_boxes_in_the_frame_confidences_and_times(ocr_run, signs) -> None:
    table = scenes_table(ocr_run)
    i, sign = next(signs.sign_scenes())  # "PHARMACY" over "OPEN UNTIL 9 PM"
    lines = json.loads(table.extras[i])["ocr"]["lines"]
    assert [line["text"] for line in lines] == sign.text.splitlines()
    for line in lines:
        assert 0.5 <= line["confidence"] <= 1.0
        assert signs.scenes[i].start <= line["time"] < signs.scenes[i].end
        xs, ys = zip(*line["box"], strict=True)
        assert 0 <= min(xs) < max(xs) <= 640 and 0 <= min(ys) < max(ys) <= 360
    assert lines[0]["box"][0][1] < lines[1]["box"][0][1]  # reading order: top line first


def test_the_index_and_the_pickle_carry_the_text_and_vectors(ocr_run, signs, with_text) -> None:
    for loaded in (VideoDataset.load(ocr_run.index), VideoDataset.load(ocr_run.output_dir /
                                                                      "signs.pkl")):  # fmt: skip
        (video,) = loaded
        texts = [e.ocr_text for e in video.scene_embeddings]
        assert texts == list(scenes_table(ocr_run).ocr_text)
        assert "WIFI PASSWORD latte2024" in video.ocr_text.splitlines()
        assert all(e.extras["ocr"]["frames"] is not None for e in video.scene_embeddings)
        if with_text:
            assert video.global_embeddings["ocr"].shape == (384,)
            assert [e.ocr is None for e in video.scene_embeddings] == \
                [not isinstance(s, Sign) for s in signs.shown]  # fmt: skip
    row = lancedb.connect(str(ocr_run.index)).open_table("videos").to_pandas().iloc[0]
    assert row.ocr_text.splitlines()[:2] == ["PHARMACY", "OPEN UNTIL 9 PM"]
