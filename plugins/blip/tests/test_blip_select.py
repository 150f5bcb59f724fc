"""The pure helpers: caption merging (dedup) and representative-frame choice."""

from __future__ import annotations

import numpy as np
from egorag_core.keyframes import kmeans_keyframes as representative_frames

from egorag_blip.select import merge_captions, pixel_features, sentence_key, token_set_similarity


def test_merge_drops_repeats_ignoring_case_space_and_punctuation():
    captions = [
        "a man riding a bike down a street",
        "A man  riding a bike, down a street.",
        "a man riding a bike down a street!",
        "a dog on the grass",
        "  ",
        "A DOG ON THE GRASS",
    ]
    assert merge_captions(captions) == "A man riding a bike down a street. A dog on the grass."


def test_merge_splits_sentences_and_keeps_first_wording_in_order():
    captions = ["a kitchen. a man cooks pasta", "A man cooks pasta. a woman reads"]
    assert merge_captions(captions) == "A kitchen. A man cooks pasta. A woman reads."


def test_merge_of_nothing_is_empty():
    assert merge_captions([]) == ""
    assert merge_captions(["", " . ", "\x00\x01"]) == ""


def test_merge_cleans_captions_and_key():
    assert merge_captions(["a\x00 b\ufffd\n c ", "<|endoftext|> a  B c"]) == "A b c."
    assert sentence_key("A  Cat, sits!") == sentence_key("a cat sits") == "a cat sits"


def test_representative_frames_known_answer():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(5, 6)) * 50
    offsets = rng.normal(size=(6,))
    # 15 frames in time order: for each of 5 groups, the centre and two symmetric offsets.
    layout = [(g, s) for g in range(5) for s in (0, 1, -1)]
    order = rng.permutation(len(layout))
    features = np.stack([centres[g] + s * offsets for g, s in (layout[i] for i in order)])
    expected = sorted(t for t, i in enumerate(order) if layout[i][1] == 0)
    assert representative_frames(features, 5) == expected


def test_representative_frames_few_frames():
    features = np.zeros((3, 4))
    assert representative_frames(features, 5) == [0, 1, 2]
    assert representative_frames(np.zeros((9, 4)), 5) == [0, 1, 2, 3, 4]  # all identical


def test_pixel_features_shape():
    frames = np.zeros((4, 120, 160, 3), np.uint8)
    assert pixel_features(frames, side=8).shape == (4, 8 * 8 * 3)


def test_merge_joins_near_duplicate_captions():
    captions = [
        "a man riding a bike down a street",
        "a man riding a bike on a street",  # 5 of 7 distinct words shared
        "a man riding a bicycle down a street",
        "a dog on a couch",
        "there is a dog on a couch",  # the fuller wording replaces the shorter one
        "a woman on a horse",  # shares only "a" and "on" with the dog
    ]
    assert merge_captions(captions) == (
        "A man riding a bike down a street. There is a dog on a couch. A woman on a horse."
    )


def test_token_set_similarity_and_threshold():
    assert token_set_similarity("a man riding a bike", "A man, riding a bike!") == 1.0
    assert token_set_similarity("a man riding a bike", "a man riding a bicycle") == 3 / 5
    assert token_set_similarity("", "") == 0.0
    pair = ["a man riding a bike", "a man riding a bicycle"]
    assert merge_captions(pair) == "A man riding a bike."
    assert merge_captions(pair, similarity=1.0) == "A man riding a bike. A man riding a bicycle."
