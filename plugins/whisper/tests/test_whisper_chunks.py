"""The batched ASR's chunk plan and the word error rate (pure functions)."""

import numpy as np
import pytest

from egorag_whisper.chunks import (
    SAMPLE_RATE,
    batch_audio,
    batched,
    pack,
    quiet_cut,
    speech_spans,
    windows,
)
from egorag_whisper.wer import word_error_rate

SR = SAMPLE_RATE


def noise(seconds: float) -> np.ndarray:
    return np.random.default_rng(1).normal(0, 0.1, int(seconds * SR)).astype(np.float32)


def test_windows_cover_the_track_and_end_at_quiet_points():
    audio = noise(100)
    audio[27 * SR : 27 * SR + 2000] = 0  # a pause inside the first window's last 5 s
    spans = list(windows(audio, 30))
    assert spans[0][0] == 0 and spans[-1][1] == audio.size
    assert all(a == b for (_, a), (b, _) in zip(spans[:-1], spans[1:], strict=True))
    assert all(0 < end - start <= 30 * SR for start, end in spans)
    assert 27 * SR <= spans[0][1] <= 27 * SR + 2000 - 512
    assert quiet_cut(audio, 10, 100) == 100  # no whole frame: the end


def test_pack_groups_consecutive_spans_up_to_30_s():
    spans = [(0, 10 * SR), (12 * SR, 25 * SR), (26 * SR, 40 * SR), (50 * SR, 120 * SR)]
    chunks = list(pack(spans))
    assert [s for chunk in chunks for s in chunk][:2] == spans[:2]
    for chunk in chunks:
        assert sum(b - a for a, b in chunk) <= 30 * SR
    assert chunks[0] == spans[:2] and chunks[1] == [spans[2]]
    assert [c[0] for c in chunks[2:]] == [(50 * SR, 80 * SR), (80 * SR, 110 * SR),
                                          (110 * SR, 120 * SR)]


def test_speech_spans_without_vad_keep_everything_and_vad_drops_silence():
    audio = noise(65)
    assert sum(b - a for a, b in speech_spans(audio, vad_filter=False)) == audio.size
    assert list(speech_spans(np.zeros(20 * SR, np.float32), vad_filter=True)) == []


def test_batch_audio_joins_the_chunks_and_places_their_clips():
    audio = np.arange(10 * SR, dtype=np.float32)
    joined, clips = batch_audio(audio, [[(0, SR), (2 * SR, 3 * SR)], [(5 * SR, 7 * SR)]])
    assert joined.size == 4 * SR and joined[SR] == 2 * SR
    assert clips == [{"start": 0.0, "end": 2.0}, {"start": 2.0, "end": 4.0}]
    assert list(batched(range(5), 2)) == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize(("reference", "hypothesis", "wer"), [
    ("The cat sat.", "the cat sat", 0.0),
    ("the cat sat on the mat", "the cat sit on mat", 2 / 6),
    ("a b", "a b c d", 1.0),
    ("", "", 0.0),
])  # fmt: skip
def test_word_error_rate(reference, hypothesis, wer):
    assert word_error_rate(reference, hypothesis) == pytest.approx(wer)
