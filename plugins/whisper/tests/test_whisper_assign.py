from egorag_core.data import Scene

from egorag_whisper.assign import (
    assign_words,
    join_words,
    scene_of,
    scene_segments,
    tighten_words,
)

SCENES = [Scene(0.0, 2.0), Scene(2.0, 5.0), Scene(6.0, 8.0)]


def w(start, end, word, segment=0):
    return {"start": start, "end": end, "word": word, "segment": segment}


def test_word_across_a_cut_goes_to_the_scene_holding_most_of_it():
    assert scene_of(1.7, 2.1, SCENES) == 0
    assert scene_of(1.9, 2.4, SCENES) == 1
    assert scene_of(4.9, 6.5, SCENES) == 2


def test_words_in_gaps_or_outside_go_to_the_nearest_scene():
    assert scene_of(5.2, 5.3, SCENES) == 1
    assert scene_of(5.8, 5.9, SCENES) == 2
    assert scene_of(9.0, 9.5, SCENES) == 2
    assert scene_of(3.0, 3.0, SCENES) == 1
    assert scene_of(1.0, 2.0, []) is None


def test_assign_keeps_order_and_every_word():
    words = [w(0.1, 0.5, " Hello"), w(1.8, 2.1, " there."), w(2.2, 2.6, " How", 1),
             w(6.1, 6.4, " bye", 2)]
    parts = assign_words(words, SCENES)
    assert [join_words(p) for p in parts] == ["Hello there.", "How", "bye"]
    assert sum(len(p) for p in parts) == len(words)


def test_scene_segments_group_words_by_segment():
    words = [w(0.1, 0.5, " a"), w(0.6, 0.9, " b"), w(1.0, 1.4, " c", 1)]
    assert scene_segments(words) == [
        {"start": 0.1, "end": 0.9, "text": "a b"},
        {"start": 1.0, "end": 1.4, "text": "c"},
    ]
    assert scene_segments([]) == []


def test_tighten_words_caps_words_stretched_into_pauses():
    words = [w(0.0, 0.3, " a"), w(0.3, 0.6, " b"), w(0.6, 2.0, " c."), w(2.0, 3.2, " d", 1),
             w(3.2, 3.5, " e", 1), w(3.5, 3.8, " f", 1)]
    tighten_words(words)
    assert [(x["start"], x["end"]) for x in words[2:4]] == [(0.6, 1.2), (2.6, 3.2)]
    assert words[0]["end"] == 0.3 and tighten_words([]) == []
