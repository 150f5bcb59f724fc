"""Plugin discovery and the registry of named components.

The core's own components (:mod:`egorag_core.builtin`) always load, as plugin ``builtin``.
Plugins are packages with an entry point in the ``egorag`` group whose value is the module with
their hook implementations. ``EGORAG_PLUGINS`` (comma-separated entry-point names) restricts
which load; set it to an empty string to load none. A plugin that fails to import is reported
with its name and error, and the others still load.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs

ENTRY_POINT_GROUP = "egorag"
PLUGINS_ENV = "EGORAG_PLUGINS"


@dataclass(frozen=True)
class Registration:
    """One named component offered by a plugin."""

    kind: str
    name: str
    factory: Callable[..., Any] | str
    plugin: str
    description: str = ""
    #: The config group the option lives in, when not the kind's (``audio/asr``).
    group: str | None = None

    def build(self, options: Any, settings: Any) -> Any:
        """Import (for ``"module:Class"`` factories) and call the factory."""
        factory = self.factory
        if isinstance(factory, str):
            module_name, _, attr = factory.partition(":")
            factory = getattr(importlib.import_module(module_name), attr)
        return factory(options, settings)


@dataclass(frozen=True)
class PluginInfo:
    """An entry point of the ``egorag`` group and what became of it."""

    name: str
    module: str
    distribution: str
    version: str
    error: str | None = None


@dataclass
class PluginHost:
    """The pluggy manager, the plugins found, and the registry they filled."""

    manager: pluggy.PluginManager
    plugins: list[PluginInfo] = field(default_factory=list)
    registry: dict[str, dict[str, Registration]] = field(default_factory=dict)

    def get(self, kind: str, name: str) -> Registration:
        try:
            return self.registry[kind][name]
        except KeyError:
            known = ", ".join(sorted(self.registry.get(kind, {}))) or "none installed"
            raise KeyError(f"no {kind} component named {name!r} (installed: {known})") from None

    def registrations(self, plugin: str) -> list[Registration]:
        return [r for regs in self.registry.values() for r in regs.values() if r.plugin == plugin]


def selected_entry_points() -> list[metadata.EntryPoint]:
    """Entry points of the ``egorag`` group, restricted by ``EGORAG_PLUGINS`` when set."""
    eps = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    wanted = os.environ.get(PLUGINS_ENV)
    if wanted is None:
        return eps
    names = {n.strip() for n in wanted.split(",") if n.strip()}
    return [ep for ep in eps if ep.name in names]


def _distribution(ep: metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "", ""
    return dist.metadata["Name"], dist.version


def _core_version() -> str:
    try:
        return metadata.version("egorag-core")
    except metadata.PackageNotFoundError:
        return ""


def load_plugins(extra: Iterable[object] = ()) -> PluginHost:
    """Load every selected plugin (plus ``extra`` plugin objects) and collect registrations."""
    from . import builtin

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    host = PluginHost(manager)
    manager.register(builtin, name="builtin")
    host.plugins.append(PluginInfo("builtin", builtin.__name__, "egorag-core", _core_version()))
    for ep in selected_entry_points():
        dist_name, version = _distribution(ep)
        try:
            module = ep.load()
            manager.register(module, name=ep.name)
            error = None
        except Exception as exc:  # a broken plugin must not stop the others
            error = f"{type(exc).__name__}: {exc}"
        host.plugins.append(PluginInfo(ep.name, ep.value, dist_name, version, error))
    for obj in extra:
        manager.register(obj)
        name = manager.get_name(obj) or repr(obj)
        host.plugins.append(PluginInfo(name, getattr(obj, "__name__", name), "", ""))

    for hook_name, kind in hookspecs.HOOK_KINDS.items():
        host.registry.setdefault(kind, {})
        hook = getattr(manager.hook, hook_name)
        for impl in hook.get_hookimpls():
            plugin_name = impl.plugin_name

            def register(
                name: str,
                factory: Callable[..., Any] | str,
                description: str = "",
                group: str | None = None,
                _kind: str = kind,
                _plugin: str = plugin_name,
            ) -> None:
                reg = Registration(_kind, name, factory, _plugin, description, group)
                host.registry[_kind][name] = reg

            try:
                impl.function(register)
            except Exception as exc:
                host.plugins = [
                    PluginInfo(p.name, p.module, p.distribution, p.version,
                               p.error or f"{hook_name} failed: {type(exc).__name__}: {exc}")
                    if p.name == plugin_name else p
                    for p in host.plugins
                ]  # fmt: skip
    return host


def failed_plugins(host: PluginHost) -> list[PluginInfo]:
    return [p for p in host.plugins if p.error]
