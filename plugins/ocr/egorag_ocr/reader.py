"""``ocr=rapidocr``: the text in the frames, read by PP-OCRv4 (ONNX) with word spaces kept.

The core (:class:`egorag_core.ocr.TextReader`) picks the frames, merges and stores the lines;
this component reads them: PP-OCRv4 detection, the 0/180 degree direction classifier and
recognition from rapidocr-onnxruntime 1.4.4 (the ONNX files shipped in its wheel: real weights,
offline), the spaces between words put back from the gaps in each line's ink
(:mod:`egorag_ocr.words`). onnxruntime runs on the GPU with ``device=cuda`` where the
``onnxruntime-gpu`` build is installed, else on the CPU.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
from egorag_core.components import ModelComponent, ModelRole, Settings, VideoJob
from egorag_core.errors import ModelUnavailable, OptionsError
from egorag_core.models import ModelSource
from egorag_core.ocr import TextLine, TextReader

from .options import LANGUAGES, RapidOcrOptions

PACKAGED = "packaged"
#: The files of the packaged models, in rapidocr_onnxruntime/models/.
PACKAGED_FILES = {
    "det_model": "ch_PP-OCRv4_det_infer.onnx",
    "rec_model": "ch_PP-OCRv4_rec_infer.onnx",
    "cls_model": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
}
INSTALL = "pip install --no-deps rapidocr-onnxruntime==1.4.4"


def package_folder(option: str) -> Path:
    """rapidocr-onnxruntime's folder (found without importing it); ``option`` is named when
    it is not installed."""
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"{option}: rapidocr-onnxruntime is not installed ({INSTALL}; "
                               "see egorag-ocr's README)")  # fmt: skip
    if importlib.util.find_spec("onnxruntime") is None:
        raise ModelUnavailable(f"{option}: onnxruntime is not installed (pip install "
                               "onnxruntime, or onnxruntime-gpu)")  # fmt: skip
    return Path(spec.submodule_search_locations[0])


def model_file(value: str, option: str) -> str:
    """The ONNX file an option names: ``packaged`` (in rapidocr-onnxruntime) or a path."""
    key = option.rpartition(".")[2]
    if value == PACKAGED:
        path = package_folder(option) / "models" / PACKAGED_FILES[key]
        if not path.is_file():
            raise ModelUnavailable(f"{option}={PACKAGED}: {path} is missing (reinstall: "
                                   f"{INSTALL} --force-reinstall)")  # fmt: skip
        return str(path)
    package_folder(option)  # its pre- and post-processing are used with any model
    path = Path(value).expanduser()
    if not path.is_file():
        raise ModelUnavailable(f"{option}={value}: no such ONNX file (give a file, or "
                               f"{PACKAGED})")  # fmt: skip
    return str(path)


def load_engine(location: str, device: str, options: RapidOcrOptions) -> Any:
    """The PP-OCR engine (detector at ``location``) on ``device``."""
    from .engine import Engine

    rec = model_file(options.rec_model, "ocr.rec_model")
    cls = model_file(options.cls_model, "ocr.cls_model") if options.cls_model else None
    return Engine(location, rec, cls, options, device)


class RapidOcrReader(TextReader[RapidOcrOptions], ModelComponent[RapidOcrOptions]):
    """Reads frames with PP-OCRv4 (rapidocr-onnxruntime's models and processing)."""

    roles = (ModelRole(load=load_engine, option="det_model", key="rapidocr"),)

    def __init__(self, options: RapidOcrOptions | Mapping[str, Any] | None = None,
                 settings: Settings | None = None, group: str = "") -> None:  # fmt: skip
        super().__init__(options, settings, group)
        unknown = sorted(set(self.options.languages) - set(LANGUAGES))
        if unknown or not self.options.languages:
            raise OptionsError(f"{self.key_prefix}.languages={list(self.options.languages)}: "
                               f"choose among {', '.join(LANGUAGES)}")  # fmt: skip

    def resolve(self, role: ModelRole) -> ModelSource:
        return ModelSource(model_file(self.options.det_model, f"{self.key_prefix}.det_model"))

    def files(self) -> list[str]:
        """The ONNX files this reader loads: detector, recognizer, direction classifier."""
        out = [self.spec().model_id, model_file(self.options.rec_model, "ocr.rec_model")]
        return out + ([model_file(self.options.cls_model, "ocr.cls_model")]
                      if self.options.cls_model else [])  # fmt: skip

    def variant(self, role: ModelRole) -> str:
        """Everything the loader reads from the options besides the detector's file."""
        o = self.options
        return json.dumps([o.rec_model, o.cls_model, o.rec_keys, list(o.languages), o.det_side,
                           o.box_threshold, o.unclip_ratio, o.word_gap, o.threads])  # fmt: skip

    def estimated_bytes(self, role: ModelRole, location: str) -> int:
        files = [location, model_file(self.options.rec_model, "ocr.rec_model")]
        if self.options.cls_model:
            files.append(model_file(self.options.cls_model, "ocr.cls_model"))
        return sum(Path(f).stat().st_size for f in files)

    def check(self) -> None:
        super().check()
        self.files()

    def describe(self) -> dict[str, Any]:
        return {"component": type(self).__name__,
                "models": [{"model_id": f, "random_weights": False} for f in self.files()]}

    def open(self, job: VideoJob) -> AbstractContextManager[Any]:
        """The PP-OCR engine, borrowed from the run's scheduler for a window."""
        return self.model(job)

    def read(self, images: Sequence[np.ndarray], loaded: Any) -> list[list[TextLine]]:
        return loaded.read(images)
