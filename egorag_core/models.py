"""Where model weights come from: a local folder, the Hugging Face cache, or a tiny build.

A component names its model with a hub id or a local folder (``video.model=/models/xclip``).
With ``preset=tiny`` it builds a tiny random-weight model instead, from the real transformers
config class, into the egorag cache; such folders carry a marker file so the run report can say
plainly that the weights are random.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelUnavailable  # noqa: F401  (re-exported)
from .hf import quiet_transformers, torch_dtype  # noqa: F401  (re-exported)

RANDOM_WEIGHTS_MARKER = "egorag-random-weights.json"


@dataclass(frozen=True)
class ModelSource:
    """A resolved model: a local folder or a hub id that ``from_pretrained`` will accept."""

    location: str
    random_weights: bool = False


def is_random_weights(path: str | Path) -> bool:
    """True when ``path`` is a folder built by :func:`build_tiny_model`."""
    return (Path(path) / RANDOM_WEIGHTS_MARKER).is_file()


def hub_cached(model_id: str) -> bool:
    """True when the Hugging Face cache holds ``model_id`` (no network is used)."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:  # pragma: no cover - transformers always brings it
        return False
    try:
        snapshot_download(model_id, local_files_only=True)
    except Exception:
        return False
    return True


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on")


def require_model(model: str, option: str) -> ModelSource:
    """Check that ``model`` (a folder or hub id) can be loaded now; ``option`` is the config key
    that sets it (``video.model``), used in the message. Raises :class:`ModelUnavailable`."""
    path = Path(model).expanduser()
    if path.is_dir():
        return ModelSource(str(path), is_random_weights(path))
    looks_like_path = model.startswith((".", "/", "~")) or model.count("/") > 1
    if looks_like_path:
        raise ModelUnavailable(f"{option}={model}: folder not found")
    if hub_cached(model):
        return ModelSource(model)
    if hub_offline():
        raise ModelUnavailable(
            f"{option}={model}: not in the local Hugging Face cache and HF_HUB_OFFLINE is set; "
            f"download it first, set {option}=/path/to/local/folder, or run with preset=tiny "
            "for random-weight test models"
        )
    return ModelSource(model)


def build_tiny_model(
    name: str, builder: Callable[[Path], None], cache_dir: str | Path, version: str = "1"
) -> Path:
    """Return ``cache_dir/tiny/<name>-v<version>``, building it with ``builder(folder)`` first if
    absent. The build goes to a temporary folder renamed into place, so concurrent runs and
    crashes never leave a half-built model; the temporary folder is removed on error."""
    root = Path(cache_dir).expanduser() / "tiny"
    target = root / f"{name}-v{version}"
    if (target / RANDOM_WEIGHTS_MARKER).is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-{uuid.uuid4().hex[:8]}-", dir=root))
    try:
        with quiet_transformers() if importlib.util.find_spec("transformers") else nullcontext():
            builder(tmp)
        (tmp / RANDOM_WEIGHTS_MARKER).write_text(
            json.dumps({"name": name, "version": version, "random_weights": True}) + "\n"
        )
        try:
            tmp.rename(target)
        except OSError:
            if not (target / RANDOM_WEIGHTS_MARKER).is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve_model(
    model: str,
    option: str,
    *,
    tiny: bool,
    tiny_name: str | None = None,
    tiny_builder: Callable[[Path], None] | None = None,
    cache_dir: str | Path = "~/.cache/egorag",
    tiny_version: str = "1",
) -> ModelSource:
    """The model to load: a tiny random-weight build when ``tiny`` (and a builder exists),
    otherwise ``model`` after :func:`require_model`. Bump ``tiny_version`` when the builder
    changes, so caches built by an older one are not reused."""
    if tiny and tiny_builder is not None:
        name = tiny_name or option.replace(".", "-")
        folder = build_tiny_model(name, tiny_builder, cache_dir, version=tiny_version)
        return ModelSource(str(folder), True)
    return require_model(model, option)


def weights_bytes(location: str, default: int) -> int:
    """Bytes of the weight files (``*.safetensors``, ``*.bin``) when ``location`` is a local
    folder, the file's size when it is a checkpoint file, else ``default`` (an estimate for
    planning the memory budget)."""
    path = Path(location)
    if path.is_file():
        return path.stat().st_size
    if not path.is_dir():
        return default
    files = [*path.glob("*.safetensors"), *path.glob("*.bin")]
    return sum(f.stat().st_size for f in files) or default
