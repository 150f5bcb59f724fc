"""egorag-ocr's shared test material: the sign video (real footage with twelve signs drawn over
it, scenes without text and one black scene, nothing spoken) and one run of egorag over it with
``ocr=rapidocr``, in this process, counting every frame the decoder turns into an array.

With egorag-minilm and egorag-blip installed (``make test``) the run also has the text encoder
(the packaged MiniLM: the OCR vectors) and the tiny BLIP captioner (what the same questions are
searched by without OCR); installed alone on the core, the run reads text only.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from egorag_core import VideoDataset
from egorag_core.config import compose
from egorag_core.media import VideoFrames
from egorag_core.run import RunOutcome, run

from egorag_ocr.testing import SignVideo, make_sign_video

#: Whether the text encoder and the captioner are installed (not when alone on the core).
WITH_TEXT = all(importlib.util.find_spec(m) for m in ("egorag_minilm", "egorag_blip"))


@pytest.fixture(scope="session")
def with_text() -> bool:
    """Whether the runs have the text encoder and the captioner (see the module doc)."""
    return WITH_TEXT


@pytest.fixture()
def needs_text() -> None:
    """Skips a test that needs the text encoder and the captioner where they are absent."""
    if not WITH_TEXT:
        pytest.skip("needs egorag-minilm and egorag-blip (make test installs them; alone on "
                    "the core they are absent)")


def overrides(ocr: str, cache: Path) -> list[str]:
    """The run's config: 2 s scenes (one sign each); OCR on or off; the rest as installed."""
    words = ["scenes=fixed", "scenes.seconds=2", "video=none", "audio=none", "progress=false",
             f"ocr={ocr}", f"models.cache_dir={cache}"]  # fmt: skip
    if WITH_TEXT:
        return [*words, "preset=tiny", "caption=captioner1", "text=minilm"]
    return [*words, "caption=none", "text=none"]


@dataclass
class Run:
    """One egorag run over the sign video."""

    outcome: RunOutcome
    output_dir: Path
    #: Frame index -> how many times the decoder made it an array.
    decoded: Counter[int]

    @property
    def index(self) -> Path:
        return self.output_dir / "index"


def encode(video: Path, out: Path, words: list[str]) -> Run:
    decoded: Counter[int] = Counter()
    real = VideoFrames._decode_until

    def counting(self: Any, wanted: Any, *args: Any, **kwargs: Any) -> Any:
        found = real(self, wanted, *args, **kwargs)
        decoded.update(found.keys())
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(VideoFrames, "_decode_until", counting)
        cfg, choices = compose([*words, f"store.export_pickle={out / 'signs.pkl'}"])
        outcome = run(cfg, VideoDataset.from_path(video), out, choices=choices)
    return Run(outcome, out, decoded)


@pytest.fixture(scope="session")
def signs(tmp_path_factory: pytest.TempPathFactory) -> SignVideo:
    return make_sign_video(tmp_path_factory.mktemp("signs") / "signs.mp4")


@pytest.fixture(scope="session")
def ocr_run(signs: SignVideo, tmp_path_factory: pytest.TempPathFactory,
            egorag_settings: Any) -> Run:  # fmt: skip
    out = tmp_path_factory.mktemp("ocr-run")
    return encode(signs.path, out, overrides("rapidocr", egorag_settings.cache_dir))


@pytest.fixture(scope="session")
def plain_run(signs: SignVideo, tmp_path_factory: pytest.TempPathFactory,
              egorag_settings: Any) -> Run:  # fmt: skip
    """The same run with ``ocr=none``."""
    out = tmp_path_factory.mktemp("plain-run")
    return encode(signs.path, out, overrides("none", egorag_settings.cache_dir))
