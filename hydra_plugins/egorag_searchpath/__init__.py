"""Hydra search-path plugin: adds the config groups of installed egorag plugins.

Each entry point of the ``egorag`` group names a module; the ``conf/`` folder of that module's
top-level package (found without importing it) joins the search path, and so do the folders in
``EGORAG_CONFIG_PATH`` (``os.pathsep``-separated, e.g. the repository's ``conf/`` presets). The
core's structured config schema is stored in Hydra's ConfigStore here, before composition.
"""

from __future__ import annotations

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


class EgoragSearchPathPlugin(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        if not any(e.path == "pkg://egorag_core.conf" for e in search_path.get_path()):
            return  # another Hydra app
        from egorag_core.config import register_schema
        from egorag_core.confpath import config_folders

        register_schema()
        for provider, folder in config_folders():
            search_path.append(provider=provider, path=f"file://{folder}")
