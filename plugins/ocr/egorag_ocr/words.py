"""Word spaces and clean words for PP-OCR lines.

PP-OCRv4's recognizer (the Chinese + English model packaged in rapidocr-onnxruntime) reads
English scene text well but mostly drops the spaces between words: "OPEN UNTIL 9 PM" comes out
as "OPENUNTIL9PM". The spaces are put back from the line's own pixels: the recognizer's CTC
decoding says where along the line box each character was read, and a run of columns without
ink between two characters that is wider than ``word_gap`` times the box's height is a space
(letter gaps measured under 0.32 of the box height, word gaps over 0.44, on the tests' signs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: Code point ranges read as Chinese (``zh``): CJK ideographs, CJK punctuation, full width forms.
CJK = ((0x3000, 0x303F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF))


def is_cjk(char: str) -> bool:
    return any(lo <= ord(char) <= hi for lo, hi in CJK)


def script(char: str) -> str:
    """``zh`` for a Chinese character, ``en`` for anything else (Latin, digits, punctuation)."""
    return "zh" if is_cjk(char) else "en"


def in_languages(text: str, languages: Sequence[str]) -> bool:
    """Whether every character of ``text`` is of a script in ``languages``."""
    return {script(c) for c in text if not c.isspace()} <= set(languages)


def ink_columns(crop: np.ndarray) -> np.ndarray:
    """Per column of a line's crop (BGR or RGB uint8), whether the rows of its text hold ink:
    the pixels on the other side of Otsu's threshold from the crop's border; the rows of text
    are those with some ink and not all ink (a plate's edge or underline), serifs included."""
    import cv2

    grey = np.asarray(crop, dtype=np.uint8)
    if grey.ndim == 3:
        grey = cv2.cvtColor(grey, cv2.COLOR_BGR2GRAY)
    _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ink = binary > 0
    border = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
    if border.mean() > 0.5:  # the border is mostly "ink": the text is the dark side
        ink = ~ink
    share = ink.mean(axis=1)
    rows = np.flatnonzero((share > 0.05) & (share < 0.9))
    if rows.size == 0:  # no line of text to measure: no gaps, no spaces added
        return np.ones(ink.shape[1], dtype=bool)
    return ink[rows[0] : rows[-1] + 1].mean(axis=0) > 0.02


def longest_gap(ink: np.ndarray) -> int:
    """The longest run of ``False`` in ``ink``."""
    best = run = 0
    for column in ink:
        run = 0 if column else run + 1
        best = max(best, run)
    return best


def spaced(text: str, info: Sequence[Any], crop: np.ndarray, word_gap: float) -> str:
    """``text`` with a space between two characters wherever the ink between them has a gap
    wider than ``word_gap`` times the crop's height. ``info`` is the recognizer's word info
    (rapidocr's ``return_word_box``): the crop's width in CTC columns, then the column of each
    character. Chinese characters are never split; spaces the recognizer read are kept."""
    columns = [c for word in (info[2] if len(info) > 2 else []) for c in word]
    if len(text) < 2 or len(columns) != len(text) or crop.shape[0] < 5 or not info[0]:
        return text
    height, width = crop.shape[:2]
    ink = ink_columns(crop)
    step = width / float(info[0])
    out = [text[0]]
    for i in range(1, len(text)):
        before, char = text[i - 1], text[i]
        if " " not in (before, char) and not (is_cjk(before) or is_cjk(char)):
            lo = int((columns[i - 1] + 0.5) * step)
            hi = int((columns[i] + 0.5) * step)
            if longest_gap(ink[lo:hi]) > word_gap * height:
                out.append(" ")
        out.append(char)
    return "".join(out)


def fix_word(word: str) -> str:
    """The recognizer's 0/O confusions undone where the rest of the word decides: ``R00M``
    (letters) -> ``ROOM``, ``2O24`` (digits) -> ``2024``; mixed words stay as read."""
    rest_0 = [c for c in word if c != "0"]
    if "0" in word and sum(c.isalpha() for c in rest_0) >= 2 and all(c.isalpha() for c in rest_0):
        return word.replace("0", "O")
    rest_o = [c for c in word if c not in "Oo"]
    digits = sum(c.isdigit() for c in rest_o)
    if len(rest_o) < len(word) and digits and all(c.isdigit() or c in ".:,-/" for c in rest_o):
        return word.replace("O", "0").replace("o", "0")
    return word


def tidy(text: str) -> str:
    """``text`` with single spaces and each word's 0/O confusions undone (:func:`fix_word`)."""
    return " ".join(fix_word(word) for word in text.split())
