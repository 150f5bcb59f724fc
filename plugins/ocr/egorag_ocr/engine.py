"""PP-OCRv4 on onnxruntime: rapidocr-onnxruntime's detection, direction classifier and
recognition (its models, pre- and post-processing), then word spaces (:mod:`egorag_ocr.words`).

onnxruntime runs on the GPU when the run's device is ``cuda`` and onnxruntime has the CUDA
provider (the ``onnxruntime-gpu`` build), else on the CPU."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from egorag_core.ocr import TextLine

from .options import RapidOcrOptions
from .words import in_languages, spaced, tidy

log = logging.getLogger("egorag")


def providers(device: str) -> list[Any]:
    """onnxruntime's execution providers for ``device`` (``cuda``, ``cuda:1``, ``cpu``): the
    CUDA provider first when the device is a GPU and onnxruntime has it, else the CPU's."""
    import onnxruntime

    if device.startswith("cuda"):
        if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
            index = int(device.split(":")[1]) if ":" in device else 0
            return [("CUDAExecutionProvider", {"device_id": index}), "CPUExecutionProvider"]
        log.warning("ocr runs on the CPU: this onnxruntime has no CUDA provider (pip uninstall "
                    "onnxruntime, then pip install onnxruntime-gpu)")  # fmt: skip
    return ["CPUExecutionProvider"]


class Engine:
    """PP-OCRv4 detection, direction and recognition models loaded once, reading frames."""

    def __init__(self, det: str, rec: str, cls: str | None, options: RapidOcrOptions,
                 device: str):  # fmt: skip
        from rapidocr_onnxruntime import RapidOCR

        settings: dict[str, Any] = {
            "det_model_path": det, "rec_model_path": rec, "use_cls": cls is not None,
            "det_limit_side_len": options.det_side, "det_limit_type": "min",
            "det_box_thresh": options.box_threshold, "det_unclip_ratio": options.unclip_ratio,
            "text_score": 0.0, "print_verbose": False,
        }  # fmt: skip
        if cls is not None:
            settings["cls_model_path"] = cls
        if options.rec_keys:
            settings["rec_keys_path"] = options.rec_keys
        self.ocr = RapidOCR(**settings)
        self.options = options
        self.use_cls = cls is not None
        self.providers = providers(device)
        parts = [(self.ocr.text_det.infer, det), (self.ocr.text_rec.session, rec)]
        parts += [(self.ocr.text_cls.infer, cls)] if cls is not None else []
        for part, path in parts:  # the run's device and threads, whatever rapidocr's says
            part.session = _session(path, self.providers, options.threads)

    def read(self, images: Sequence[np.ndarray]) -> list[list[TextLine]]:
        """The lines in each RGB frame, boxes in its pixels."""
        return [self.read_one(image) for image in images]

    def read_one(self, image: np.ndarray) -> list[TextLine]:
        ocr = self.ocr
        bgr = np.ascontiguousarray(np.asarray(image)[..., ::-1])
        raw_h, raw_w = bgr.shape[:2]
        bgr, ratio_h, ratio_w = ocr.preprocess(bgr)
        record: dict[str, Any] = {"preprocess": {"ratio_h": ratio_h, "ratio_w": ratio_w}}
        bgr, record = ocr.maybe_add_letterbox(bgr, record)
        boxes, _ = ocr.auto_text_det(bgr)
        if boxes is None:
            return []
        crops = ocr.get_crop_img_list(bgr, boxes)
        if self.use_cls:
            crops, _, _ = ocr.text_cls(crops)
        readings, _ = ocr.text_rec(crops, True)
        corners = ocr._get_origin_points(boxes, record, raw_h, raw_w)
        lines = []
        for (text, confidence, info), crop, box in zip(readings, crops, corners, strict=True):
            text = tidy(spaced(text, info, crop, self.options.word_gap))
            if text and in_languages(text, self.options.languages):
                points = tuple((float(x), float(y)) for x, y in box)
                lines.append(TextLine(text, float(confidence), points))
        return lines


def _session(path: str, chosen: list[Any], threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    if threads > 0:
        options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(path, sess_options=options, providers=chosen)
