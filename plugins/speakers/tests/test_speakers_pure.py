"""The pure parts of the speaker stage: clustering, the time bookkeeping and the scores."""

import numpy as np
import pytest

from egorag_speakers.cluster import MIN_EMBEDDINGS, cluster_speakers, overlapping
from egorag_speakers.score import read_rttm, read_stm, time_accuracy, word_accuracy
from egorag_speakers.timeline import (
    FRAME_S,
    renumber,
    sliding_windows,
    speaker_at,
    speaker_track,
    turns,
    voiced_regions,
    word_runs,
)


def blobs(sizes: list[int], dim: int = 16, noise: float = 0.15, seed: int = 0) -> np.ndarray:
    """Unit vectors around one random centre per size, in blocks (as turns in time)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(sizes), dim))
    rows = [c + noise * rng.normal(size=(n, dim)) for c, n in zip(centres, sizes, strict=True)]
    return np.concatenate(rows)


def test_cluster_estimates_the_count_and_numbers_by_first_appearance():
    x = blobs([20, 15, 25])
    order = np.r_[20:35, 0:20, 35:60]  # the second voice speaks first
    assert cluster_speakers(x[order]) == [0] * 15 + [1] * 20 + [2] * 25
    assert cluster_speakers(blobs([40])) == [0] * 40
    assert len(set(cluster_speakers(blobs([10, 10, 10, 10])))) == 4


def test_cluster_forced_count_and_small_inputs():
    x = blobs([20, 15, 25])
    assert len(set(cluster_speakers(x, num_speakers=2))) == 2
    assert len(set(cluster_speakers(x, num_speakers=5))) == 5
    assert cluster_speakers(x, num_speakers=1) == [0] * 60
    few = blobs([2, 2])
    assert len(few) < MIN_EMBEDDINGS and cluster_speakers(few) == [0] * 4
    assert cluster_speakers(few, num_speakers=2) == [0, 0, 1, 1]
    assert cluster_speakers(np.zeros((0, 3))) == []


def test_windows_sharing_audio_are_not_neighbours():
    pairs = overlapping([(0.0, 1.5), (0.25, 1.75), (1.5, 3.0)])
    assert pairs.tolist() == [[False, True, False], [True, False, True], [False, True, False]]
    x = blobs([20, 20])
    spans = [(0.25 * i, 0.25 * i + 1.5) for i in range(40)]
    assert cluster_speakers(x, spans=spans) == [0] * 20 + [1] * 20


def test_voiced_regions_bridge_short_pauses():
    flags = [1, 1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1]
    assert voiced_regions(flags, 0.1, min_gap_s=0.3, min_len_s=0.2) == [(0.0, 0.5), (0.9, 1.4)]
    assert voiced_regions([0, 0, 0], 0.1) == []


def test_sliding_windows_cover_each_region():
    assert sliding_windows([(0.0, 3.0)], 1.5, 0.5, 0.5, 10.0) == [
        (0.0, 1.5), (0.5, 2.0), (1.0, 2.5), (1.5, 3.0)]  # fmt: skip
    assert sliding_windows([(0.0, 3.2)], 1.5, 0.5, 0.5, 10.0)[-2:] == [(1.5, 3.0), (1.7, 3.2)]
    # shorter than a window: one window of its own, widened to min_window_s, kept in the audio
    assert sliding_windows([(5.0, 5.2), (6.0, 7.0)], 1.5, 0.5, 0.5, 10.0) == [
        (4.85, 5.35), (6.0, 7.0)]  # fmt: skip
    assert sliding_windows([(0.0, 0.1)], 1.5, 0.5, 0.5, 10.0) == [(0.0, 0.5)]


def test_track_turns_and_word_labels():
    windows = [(0.0, 1.0), (0.5, 1.5), (1.0, 2.0), (3.0, 4.0)]
    scores = np.array([[0.9, 0.1], [0.5, 0.4], [0.1, 0.9], [0.2, 0.8]])
    track = speaker_track(windows, scores, [(0.0, 2.0), (3.0, 3.5)], duration_s=4.0)
    assert len(track) == round(4.0 / FRAME_S)
    assert turns(track) == [(0.0, 1.0, 0), (1.0, 2.0, 1), (3.0, 3.5, 1)]
    assert turns(renumber(1 - track * (track >= 0) - (track < 0) * 2)) == [
        (0.0, 1.0, 0), (1.0, 2.0, 1), (3.0, 3.5, 1)]  # fmt: skip
    assert speaker_at(track, 0.2, 0.4) == 0 and speaker_at(track, 0.9, 1.4) == 1
    assert speaker_at(track, 2.4, 2.5) == 1  # no voiced frame: the nearest one
    assert speaker_at(np.full(5, -1), 0.0, 0.01) == -1
    words = [{"start": 0.1, "end": 0.3, "word": "hi", "speaker": "A"},
             {"start": 0.4, "end": 0.6, "word": "there", "speaker": "A"},
             {"start": 1.2, "end": 1.4, "word": "yes", "speaker": "B"}]  # fmt: skip
    assert word_runs(words) == [
        {"start": 0.1, "end": 0.6, "speaker": "A", "text": "hi there"},
        {"start": 1.2, "end": 1.4, "speaker": "B", "text": "yes"},
    ]


def test_time_accuracy_maps_labels_and_counts_gaps_as_wrong():
    ref = [(0.0, 2.0, "a"), (2.0, 4.0, "b")]
    assert time_accuracy([(0.0, 2.0, "x"), (2.0, 4.0, "y")], ref) == pytest.approx(1.0)
    assert time_accuracy([(0.0, 4.0, "x")], ref) == pytest.approx(0.5)
    assert time_accuracy([(0.0, 1.0, "y"), (2.0, 4.0, "x")], ref) == pytest.approx(0.75)
    # overlapping reference speech is left out
    overlap = [(0.0, 2.0, "a"), (1.0, 3.0, "b")]
    assert time_accuracy([(0.0, 1.0, "x"), (2.0, 3.0, "y")], overlap) == pytest.approx(1.0)


def test_word_accuracy_and_reference_files(tmp_path):
    ref = [(0.0, 1.0, "a"), (1.5, 2.0, "b")]
    words = [{"start": 0.1, "end": 0.2, "speaker": "S1"}, {"start": 1.6, "end": 1.7,
             "speaker": "S0"}, {"start": 1.2, "end": 1.3, "speaker": "S0"}]  # fmt: skip
    assert word_accuracy(words, ref) == pytest.approx(2 / 3)
    rttm = tmp_path / "x.rttm"
    rttm.write_text("SPEAKER x 1 6.690 0.430 <NA> <NA> spk1 <NA> <NA>\n")
    assert read_rttm(rttm) == [(6.69, pytest.approx(7.12), "spk1")]
    stm = tmp_path / "x.stm"
    stm.write_text("x 1 Diane 6.68 7.16 Hello?\n")
    assert read_stm(stm) == [(6.68, 7.16, "Diane")]
