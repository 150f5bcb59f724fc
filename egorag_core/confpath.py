"""Config folders that installed plugins and ``EGORAG_CONFIG_PATH`` add to Hydra's search path.

Nothing is imported: a plugin's package is located with ``importlib.util.find_spec``.
"""

from __future__ import annotations

import os
from pathlib import Path

from .options import package_conf_folder
from .plugins import selected_entry_points

CONFIG_PATH_ENV = "EGORAG_CONFIG_PATH"


def config_folders() -> list[tuple[str, Path]]:
    """(provider, folder) pairs: ``EGORAG_CONFIG_PATH`` folders first, then plugins'."""
    folders: list[tuple[str, Path]] = []
    for entry in os.environ.get(CONFIG_PATH_ENV, "").split(os.pathsep):
        if entry and Path(entry).is_dir():
            folders.append(("egorag-config-path", Path(entry).resolve()))
    seen = set()
    for ep in selected_entry_points():
        folder = package_conf_folder(ep.value)
        if folder is not None and folder not in seen:
            seen.add(folder)
            folders.append((f"egorag-plugin-{ep.name}", folder))
    return folders
