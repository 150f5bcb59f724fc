"""The ``egorag`` command: a Hydra app, plus ``egorag plugins``.

    egorag video=xclip caption=captioner1 input=videos.json
    egorag --multirun video=xclip,qwen2vl input=videos.json
    egorag plugins

Exit status: 0 when every video is ok or skipped, 1 when any failed, 2 when the run could not
start (bad config, missing plugin or model, unreadable input).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("egorag")

EXIT_FAILED_VIDEOS = 1
EXIT_CANNOT_START = 2


def plugins_command(stream: Any = None) -> int:
    """Print installed plugins, their versions and what each registers."""
    from .errors import PluginError
    from .plugins import load_plugins

    out = stream or sys.stdout
    try:
        host = load_plugins()
    except PluginError as exc:
        print(f"error: {exc}", file=out)
        return 1
    if not host.plugins:
        print("no egorag plugins installed (entry-point group 'egorag')", file=out)
    for plugin in host.plugins:
        version = f" {plugin.version}" if plugin.version else ""
        dist = f" ({plugin.distribution}{version})" if plugin.distribution else ""
        print(f"{plugin.name}{dist}: {plugin.module}", file=out)
        if plugin.error:
            print(f"  FAILED TO LOAD: {plugin.error}", file=out)
        for reg in host.registrations(plugin.name):
            group = reg.group or ("audio/*" if reg.kind == "audio" else reg.kind)
            desc = f" - {reg.description}" if reg.description else ""
            print(f"  {group}={reg.name}{desc}", file=out)
    return 1 if any(p.error for p in host.plugins) else 0


def _hydra_main(cfg: Any) -> int:
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    from .data import VideoDataset
    from .errors import ConfigError, InputError, StoreError
    from .run import run

    hydra_cfg = HydraConfig.get()
    output_dir = Path(hydra_cfg.runtime.output_dir)
    choices = {k: str(v) for k, v in hydra_cfg.runtime.choices.items()}
    plain = {str(k): v for k, v in OmegaConf.to_container(cfg, resolve=True).items()}  # type: ignore[union-attr]
    try:
        dataset = VideoDataset.from_path(str(plain["input"]))
        outcome = run(plain, dataset, output_dir, choices=choices)
    except (ConfigError, InputError, StoreError) as exc:
        log.error("%s", exc)
        return EXIT_CANNOT_START
    counts = outcome.report.counts()
    summary = (
        f"{counts['ok']} encoded, {counts['skipped']} skipped, {counts['failed']} failed; "
        f"index: {outcome.report.index_path}; report: {outcome.report.path}"
    )
    log.info(summary)
    return EXIT_FAILED_VIDEOS if counts["failed"] else 0


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``egorag`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["plugins"]:
        sys.exit(plugins_command())
    import hydra

    from .config import register_schema

    register_schema()
    codes: list[int] = []

    @hydra.main(version_base=None, config_path="pkg://egorag_core.conf", config_name="config")
    def app(cfg: Any) -> None:
        codes.append(_hydra_main(cfg))

    sys.argv = [sys.argv[0], *argv]
    app()
    sys.exit(max(codes, default=0))


if __name__ == "__main__":
    main()
