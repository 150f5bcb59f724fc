"""``ocr=rapidocr``'s options: values from its YAML, checked types, one-line errors naming the
option that fixes them; and the word helpers."""

from __future__ import annotations

import pytest
from egorag_core.errors import ModelUnavailable, OptionsError

from egorag_ocr.words import fix_word, in_languages, tidy


def test_options_come_from_the_yaml_and_overrides(egorag_component) -> None:
    reader = egorag_component("ocr", "rapidocr")
    assert (reader.options.max_frames, reader.options.min_confidence, reader.options.side) == \
        (2, 0.5, 720)  # fmt: skip
    assert reader.frame_sampling().max_frames == 2 and reader.frame_side() == 720
    assert egorag_component("ocr", "rapidocr", max_frames=4).options.max_frames == 4
    assert all(f.endswith(".onnx") for f in reader.files()) and len(reader.files()) == 3


def test_a_language_the_engine_lacks_is_one_line(egorag_component) -> None:
    with pytest.raises(OptionsError, match=r"^ocr.languages=\['fr'\]: choose among en, zh$"):
        egorag_component("ocr", "rapidocr", languages=["fr"])


def test_a_missing_model_file_is_one_line_naming_the_option(egorag_component, tmp_path) -> None:
    missing = tmp_path / "det.onnx"
    with pytest.raises(ModelUnavailable, match=r"^ocr.det_model=.*det.onnx: no such ONNX file"):
        egorag_component("ocr", "rapidocr", det_model=str(missing))
    with pytest.raises(OptionsError, match="ocr.max_frames"):
        egorag_component("ocr", "rapidocr", max_frames="many")


def test_word_helpers() -> None:
    assert [fix_word(w) for w in ["R00M", "2O24", "B17", "latte2024", "1O:3O", "NO"]] == \
        ["ROOM", "2024", "B17", "latte2024", "10:30", "NO"]  # fmt: skip
    assert tidy(" GATE  B0ARDING ") == "GATE BOARDING"
    assert in_languages("EXIT 3", ["en"]) and not in_languages("出口 EXIT", ["en"])
    assert in_languages("出口 EXIT", ["en", "zh"])


def test_loading_the_plugin_imports_no_onnxruntime() -> None:
    import subprocess
    import sys

    code = ("import sys; from egorag_core.plugins import load_plugins; "
            "host = load_plugins(); assert host.get('ocr', 'rapidocr'); "
            "print([m for m in ('onnxruntime', 'cv2', 'rapidocr_onnxruntime', 'torch') "
            "if m in sys.modules])")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
