"""Registers ``ocr=rapidocr`` (imported lazily, so start-up stays fast)."""

from egorag_core import hookimpl
from egorag_core.hookspecs import Register


@hookimpl
def register_ocr(register: Register) -> None:
    register(
        "rapidocr",
        "egorag_ocr.reader:RapidOcrReader",
        "PP-OCRv4 text detection and recognition (ONNX, packaged weights), word spaces kept",
    )
