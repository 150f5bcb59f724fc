"""The options of ``ocr=rapidocr`` (names and types; the values are in ``conf/ocr/rapidocr.yaml``).

Importable without onnxruntime or OpenCV."""

from __future__ import annotations

from dataclasses import dataclass

from egorag_core.ocr import OcrOptions

#: What ``languages`` may hold: the scripts the packaged PP-OCRv4 recognizer reads.
LANGUAGES = ("en", "zh")


@dataclass
class RapidOcrOptions(OcrOptions):
    """``ocr=rapidocr``: PP-OCRv4 detection, direction and recognition models (ONNX) and how
    their output becomes lines (the common options: :class:`egorag_core.ocr.OcrOptions`)."""

    #: ``packaged`` (the model in rapidocr-onnxruntime 1.4.4) or the path of an ONNX file.
    det_model: str
    #: ``packaged`` or an ONNX file: the recognizer (characters of its dictionary).
    rec_model: str
    #: ``packaged``, an ONNX file, or null (no direction classifier: upside-down text unread).
    cls_model: str | None
    #: The recognizer's characters, one a line; null: from the model's own metadata.
    rec_keys: str | None
    #: Lines holding characters of a script not listed are dropped: ``en`` (Latin letters,
    #: digits, punctuation), ``zh`` (Chinese).
    languages: list[str]
    #: Detection scales each frame so its shorter side is this many pixels.
    det_side: int
    #: Detected boxes scoring under this (0-1) are not read.
    box_threshold: float
    #: How far a detected box is grown around its text (PP-OCR's unclip ratio).
    unclip_ratio: float
    #: A gap in a line's ink wider than this share of the line's height is a space.
    word_gap: float
    #: onnxruntime threads per model; 0: its default (every core).
    threads: int
