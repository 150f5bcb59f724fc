"""Config folders that installed plugins and the working directory add to Hydra's search path.

Nothing is imported: a plugin's package is located with ``importlib.util.find_spec``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from .plugins import selected_entry_points

CONFIG_PATH_ENV = "EGORAG_CONFIG_PATH"


def plugin_config_folder(module: str) -> Path | None:
    """``<top-level package of module>/conf`` when it exists, without importing anything."""
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


def config_folders() -> list[tuple[str, Path]]:
    """(provider, folder) pairs: repo presets first, then ``EGORAG_CONFIG_PATH``, then plugins."""
    folders: list[tuple[str, Path]] = []
    local = Path.cwd() / "conf"
    if local.is_dir():
        folders.append(("egorag-presets", local))
    for entry in os.environ.get(CONFIG_PATH_ENV, "").split(os.pathsep):
        if entry and Path(entry).is_dir():
            folders.append(("egorag-config-path", Path(entry).resolve()))
    seen = set()
    for ep in selected_entry_points():
        folder = plugin_config_folder(ep.value)
        if folder is not None and folder not in seen:
            seen.add(folder)
            folders.append((f"egorag-plugin-{ep.name}", folder))
    return folders
