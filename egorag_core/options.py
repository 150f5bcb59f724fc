"""Component options: each component declares a dataclass (the schema: names and types); the
values, defaults included, live in the component's YAML file (``conf/<group>/<name>.yaml`` in
its package). The core checks one against the other before any work."""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from .errors import OptionsError

T = TypeVar("T")


@dataclasses.dataclass
class NoOptions:
    """The options of a component that takes none."""


def package_conf_folder(module: str) -> Path | None:
    """``<top-level package of module>/conf`` when it exists, found without importing it."""
    top = module.split(":")[0].split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "conf"
        if folder.is_dir():
            return folder
    return None


def options_file(module: str, group: str, name: str) -> Path | None:
    """The YAML that holds option ``group=name``'s values in ``module``'s package, if any."""
    folder = package_conf_folder(module)
    if folder is None:
        return None
    path = folder / group / f"{name}.yaml"
    return path if path.is_file() else None


def read_options_file(path: Path) -> dict[str, Any]:
    """The values in an option's YAML file (its ``defaults`` list and ``name`` key left out)."""
    from omegaconf import OmegaConf

    node = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    if not isinstance(node, dict):
        raise OptionsError(f"{path}: expected a mapping of option: value")
    return {str(k): v for k, v in node.items() if k not in ("defaults", "name")}


def parse_options(schema: type[T], values: Mapping[str, Any], prefix: str, where: str = "") -> T:
    """``values`` checked against the dataclass ``schema`` and converted to it.

    An unknown, missing or mistyped key raises :class:`OptionsError` naming ``prefix.key`` and
    ``where`` (the YAML file the values came from)."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    origin = f" (in {where})" if where else ""
    fields = {f.name for f in dataclasses.fields(schema)}  # type: ignore[arg-type]
    values = {k: v for k, v in values.items() if k != "name"}
    unknown = sorted(set(values) - fields)
    if unknown:
        known = ", ".join(sorted(fields)) or "none"
        raise OptionsError(
            f"{prefix}.{unknown[0]}: unknown option{origin}; the options are: {known}"
        )
    try:
        node = OmegaConf.merge(OmegaConf.structured(schema), values)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", "") or "?"
        value = getattr(exc, "value", None)
        wanted = _field_type(schema, str(key).split(".")[0])
        raise OptionsError(
            f"{prefix}.{key}={value!r}: expected {wanted}{origin}"
        ) from None
    missing = sorted(OmegaConf.missing_keys(node))
    if missing:
        raise OptionsError(f"{prefix}.{missing[0]}: no value given{origin}")
    return OmegaConf.to_object(node)  # type: ignore[return-value]


def _field_type(schema: type, name: str) -> str:
    for f in dataclasses.fields(schema):
        if f.name == name:
            return f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    return "another type"


def options_dict(options: Any) -> dict[str, Any]:
    """A component's options as a plain dict (for fingerprints and reports)."""
    if dataclasses.is_dataclass(options) and not isinstance(options, type):
        return dataclasses.asdict(options)
    return dict(options)
