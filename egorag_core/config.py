"""Compose the egorag config outside the CLI (the Python API), with the same search path."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def compose(overrides: Sequence[str] = ()) -> tuple[dict[str, Any], dict[str, str]]:
    """The composed config as a plain dict, and the chosen option of every group."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="egorag_core.conf", version_base=None):
        cfg = hydra_compose("config", overrides=["input=-", *overrides], return_hydra_config=True)
        choices = dict(cfg.hydra.runtime.choices)
        plain = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(plain, dict)
    plain.pop("hydra", None)
    return plain, {k: str(v) for k, v in choices.items()}
