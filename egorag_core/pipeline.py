"""The pipeline: the selected components of a run, built and checked before any video is
touched, in the order their stages run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .components import SceneSplitter, Settings, StageComponent
from .config import STAGE_GROUPS, RunConfig
from .errors import ConfigError, StageError  # noqa: F401  (re-exported)
from .options import options_dict
from .plugins import PluginHost, failed_plugins

#: Stages added after indexes existed: when off (``none``) they stay out of the config
#: fingerprint, so turning them off keeps every video's key, and a resume skips it as before.
OFF_UNSEEN = ("ocr",)
#: Where each group's first-party option is published, to name the package in messages.
PLUGIN_HINTS = {
    "scenes": "egorag-scenes",
    "video": "egorag-xclip / egorag-qwen2vl",
    "caption": "egorag-blip / egorag-qwen2vl",
    "ocr": "egorag-ocr",
    "audio/asr": "egorag-whisper",
    "audio/embedding": "egorag-clap",
    "audio/events": "egorag-clap",
    "audio/speakers": "egorag-speakers",
    "text": "egorag-minilm",
}


def stage_name(group: str) -> str:
    """The stage a group's component runs as: ``audio/asr`` -> ``audio.asr``."""
    return group.replace("/", ".")


#: The stages that read frames, run window by window.
FRAME_STAGES = ("video", "caption", "ocr")


def run_rank(stage: str) -> int:
    """Where ``stage`` runs in a video: the audio stages first (their working sets then start
    from the same heap at any length), then the frame windows, then the rest (text)."""
    return 0 if stage.startswith("audio.") else 1 if stage in FRAME_STAGES else 2


@dataclass
class Pipeline:
    """The components of a run, checked and ready; ``stages`` in run order (scenes apart)."""

    splitter: SceneSplitter
    stages: list[tuple[str, StageComponent]]
    selections: dict[str, str] = field(default_factory=dict)

    def plan(self) -> list[tuple[str, list[Any]]]:
        return [(name, component.models()) for name, component in self.stages]

    def stats(self) -> dict[str, dict[str, Any]]:
        out = {"scenes": self.splitter.stats()}
        out.update({name: component.stats() for name, component in self.stages})
        return out

    def describe(self) -> dict[str, Any]:
        out = {"scenes": {"option": self.selections.get("scenes"), **self.splitter.describe()}}
        for name, component in self.stages:
            out[name] = {"option": self.selections.get(name), **component.describe()}
        return out

    def fingerprint_config(self, tiny: bool) -> dict[str, Any]:
        """What decides the index's content: each stage's option and its full options."""
        out: dict[str, Any] = {"tiny": tiny}
        components = {"scenes": self.splitter, **dict(self.stages)}
        for stage, name in self.selections.items():
            if stage in OFF_UNSEEN and name == "none":
                continue
            built = components.get(stage)
            out[stage] = {"name": name, **(options_dict(built.options) if built else {})}
        return out


def _selection(config: RunConfig, group: str, choices: Mapping[str, str]) -> str | None:
    """The option chosen for ``group``; raises :class:`ConfigError` when it is not installed."""
    options = config.section(group)
    # an option file may name the component it configures (``name: xclip`` in a user preset)
    wanted = (options or {}).get("name") or choices.get(group)
    if options is None:
        if group == "scenes" or (wanted and wanted != "none"):
            other = "fixed" if group == "scenes" else "none"
            raise ConfigError(
                f"{group}={wanted or '?'} is not installed: install {PLUGIN_HINTS[group]} "
                f"(see `egorag plugins`), or choose another option, e.g. {group}={other}"
            )
        return None
    if not wanted:
        raise ConfigError(f"{group}: no option chosen (e.g. {group}=none)")
    return str(wanted)


def build_component(
    host: PluginHost, group: str, name: str, options: Mapping[str, Any] | None, settings: Settings
) -> Any:
    """Build and check the component registered as ``group=name``; every problem is a
    :class:`ConfigError` of one line."""
    try:
        registration = host.find(group, name)
    except KeyError as exc:
        broken = [p.name for p in failed_plugins(host)]
        extra = f"; plugins that failed to load: {', '.join(broken)}" if broken else ""
        raise ConfigError(f"{group}={name}: {exc.args[0]}{extra}") from None
    component = registration.build(options, settings)
    component.check()
    return component


def build_pipeline(
    config: RunConfig, settings: Settings, host: PluginHost, choices: Mapping[str, str]
) -> Pipeline:
    """Build and check every selected component, before any video is touched."""
    built: dict[str, Any] = {}
    selections: dict[str, str] = {}
    for group in STAGE_GROUPS:
        name = _selection(config, group, choices)
        if name is None:
            continue
        selections[stage_name(group)] = name
        if name != "none":
            options = config.section(group)
            built[stage_name(group)] = build_component(host, group, name, options, settings)
    if "scenes" not in built:
        raise ConfigError("scenes=none: a scene splitter is needed (e.g. scenes=content)")
    splitter = built.pop("scenes")
    stages = sorted(built.items(), key=lambda item: run_rank(item[0]))  # stable within a rank
    return Pipeline(splitter, stages, selections)
