"""Plugin discovery and the registry of named components.

The core's own components (:mod:`egorag_core.builtin`) always load, as plugin ``builtin``.
Plugins are packages with an entry point in the ``egorag`` group whose value is the module with
their hook implementations. ``EGORAG_PLUGINS`` (comma-separated entry-point names) restricts
which load (an empty string loads none); ``EGORAG_DISABLE_PLUGINS`` leaves the named ones out.
A plugin that fails to import is reported with its name and error, and the others still load.
Hooks are called through pluggy (``pm.hook.register_*``), so ordering and wrappers apply.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError
from .options import options_file, parse_options, read_options_file

ENTRY_POINT_GROUP = "egorag"
PLUGINS_ENV = "EGORAG_PLUGINS"
DISABLE_ENV = "EGORAG_DISABLE_PLUGINS"


@dataclass(frozen=True)
class Registration:
    """One named component offered by a plugin."""

    kind: str
    name: str
    factory: Callable[..., Any] | str
    plugin: str
    description: str = ""
    #: The config group the option lives in (``video``, ``audio/asr``...).
    group: str = ""

    @property
    def module(self) -> str:
        """The module that defines the factory (not imported for ``"module:Class"``)."""
        if isinstance(self.factory, str):
            return self.factory.partition(":")[0]
        return str(getattr(self.factory, "__module__", ""))

    def factory_object(self) -> Callable[..., Any]:
        """The factory, imported first for ``"module:Class"`` strings."""
        if not isinstance(self.factory, str):
            return self.factory
        module_name, _, attr = self.factory.partition(":")
        return getattr(importlib.import_module(module_name), attr)

    def options_file(self) -> Path | None:
        """The YAML with this option's values (``conf/<group>/<name>.yaml`` of the package)."""
        return options_file(self.module, self.group, self.name)

    def build(self, options: Mapping[str, Any] | None, settings: Any) -> Any:
        """Build the component: the YAML's values updated with ``options``, checked against
        the component's options dataclass (:class:`~egorag_core.errors.OptionsError`)."""
        factory = self.factory_object()
        schema = getattr(factory, "Options", None)
        if schema is None:  # a plain callable factory takes the options as given
            return factory(dict(options or {}), settings)
        path = self.options_file()
        values = read_options_file(path) if path is not None else {}
        values.update({k: v for k, v in (options or {}).items() if k != "name"})
        prefix = self.group.replace("/", ".")
        parsed = parse_options(schema, values, prefix, str(path) if path else "")
        return factory(parsed, settings, group=self.group)


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

    def find(self, group: str, name: str) -> Registration:
        """The registration selected as ``group=name`` (``audio/asr=whisper``...)."""
        kind = group.split("/")[0]
        reg = self.get(kind, name)
        if reg.group != group:
            raise KeyError(f"{name!r} is registered for {reg.group}, not {group}")
        return reg

    def registrations(self, plugin: str) -> list[Registration]:
        return [r for regs in self.registry.values() for r in regs.values() if r.plugin == plugin]


def _names(value: str | None) -> set[str]:
    return {n.strip() for n in (value or "").split(",") if n.strip()}


def selected_entry_points() -> list[metadata.EntryPoint]:
    """Entry points of the ``egorag`` group, restricted by ``EGORAG_PLUGINS`` when set and
    without those named in ``EGORAG_DISABLE_PLUGINS``."""
    eps = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    wanted = os.environ.get(PLUGINS_ENV)
    if wanted is not None:
        eps = [ep for ep in eps if ep.name in _names(wanted)]
    denied = _names(os.environ.get(DISABLE_ENV))
    return [ep for ep in eps if ep.name not in denied]


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


def _plugin_in_frames(manager: pluggy.PluginManager, frames: Iterable[Any]) -> str | None:
    """The first registered plugin whose code runs in ``frames``: a function of a plugin
    module, or a method of a plugin object."""
    by_module = {getattr(p, "__name__", None): n for n, p in manager.list_name_plugin()
                 if inspect.ismodule(p)}  # fmt: skip
    by_object = {id(p): n for n, p in manager.list_name_plugin() if not inspect.ismodule(p)}
    for frame in frames:
        owner = frame.f_locals.get("self")
        if owner is not None and id(owner) in by_object:
            return by_object[id(owner)]
        module = frame.f_globals.get("__name__")
        if module in by_module:
            return by_module[module]
    return None


def _stack(frame: Any) -> Iterator[Any]:
    while frame is not None:
        yield frame
        frame = frame.f_back


def _traceback_frames(tb: Any) -> Iterator[Any]:
    while tb is not None:
        yield tb.tb_frame
        tb = tb.tb_next


class _Registrar:
    """The ``register`` callback one hook call receives: checks groups and duplicate names."""

    def __init__(self, host: PluginHost, hook_name: str, kind: str):
        self.host, self.hook_name, self.kind = host, hook_name, kind

    def __call__(
        self,
        name: str,
        factory: Callable[..., Any] | str,
        description: str = "",
        group: str | None = None,
    ) -> None:
        plugin = _plugin_in_frames(self.host.manager, _stack(sys._getframe(1))) or "?"
        allowed = hookspecs.HOOK_GROUPS[self.hook_name]
        if group is None and len(allowed) == 1:
            group = allowed[0]
        if group not in allowed:
            raise PluginError(
                f"plugin {plugin}: {self.hook_name} registered {name!r} with group={group!r}; "
                f"allowed: {', '.join(allowed)}"
            )
        known = self.host.registry[self.kind].get(name)
        if known is not None:
            raise PluginError(
                f"{group}={name} is registered twice: by plugin {known.plugin} and by plugin "
                f"{plugin}; uninstall one, or leave it out with {DISABLE_ENV}={plugin}"
            )
        reg = Registration(self.kind, name, factory, plugin, description, group)
        self.host.registry[self.kind][name] = reg


def load_plugins(extra: Iterable[object] = ()) -> PluginHost:
    """Load every selected plugin (plus ``extra`` plugin objects) and collect registrations.

    Raises :class:`~egorag_core.errors.PluginError` when two plugins register one name."""
    from . import builtin

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    host = PluginHost(manager)
    manager.register(builtin, name="builtin")
    host.plugins.append(PluginInfo("builtin", builtin.__name__, "egorag-core", _core_version()))
    for ep in selected_entry_points():
        dist_name, version = _distribution(ep)
        try:
            manager.register(ep.load(), name=ep.name)
            error = None
        except Exception as exc:  # a broken plugin must not stop the others
            error = f"{type(exc).__name__}: {exc}"
        host.plugins.append(PluginInfo(ep.name, ep.value, dist_name, version, error))
    for obj in extra:
        name = getattr(obj, "__name__", None) or type(obj).__name__
        manager.register(obj, name=name)
        host.plugins.append(PluginInfo(name, name, "", ""))
    for hook_name, kind in hookspecs.HOOK_KINDS.items():
        _call_register_hook(host, hook_name, kind)
    return host


def _call_register_hook(host: PluginHost, hook_name: str, kind: str) -> None:
    """Call one ``register_*`` hook of every plugin; a plugin whose hook raises is reported,
    unregistered with all it registered, and the hook called again without it."""
    while True:
        host.registry[kind] = {}
        try:
            getattr(host.manager.hook, hook_name)(register=_Registrar(host, hook_name, kind))
            return
        except PluginError:
            raise
        except Exception as exc:
            name = _plugin_in_frames(host.manager, _traceback_frames(exc.__traceback__))
            if name is None:
                raise
            error = f"{hook_name} failed: {type(exc).__name__}: {exc}"
            host.plugins = [
                PluginInfo(p.name, p.module, p.distribution, p.version, p.error or error)
                if p.name == name else p
                for p in host.plugins
            ]  # fmt: skip
            host.manager.unregister(name=name)
            for regs in host.registry.values():
                for reg_name in [n for n, r in regs.items() if r.plugin == name]:
                    del regs[reg_name]


def failed_plugins(host: PluginHost) -> list[PluginInfo]:
    return [p for p in host.plugins if p.error]
