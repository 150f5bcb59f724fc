"""What the CLAP embedder and the AST tagger share: one model, resolved lazily, one spec."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from egorag_core.components import Settings, StageComponent
from egorag_core.models import ModelSource, resolve_model, weights_bytes
from egorag_core.scheduler import ModelSpec


class SingleModelComponent(StageComponent):
    """A stage component with one transformers model given by ``options["model"]``.

    Subclasses set their option defaults, the config key (``option``, for messages), the
    scheduler key prefix, the tiny build's name and builder, the loader and a size estimate
    for hub ids.
    """

    defaults: ClassVar[dict[str, Any]] = {}
    option: ClassVar[str]
    key_prefix: ClassVar[str]
    tiny_name: ClassVar[str]
    #: ``tiny_builder(folder)`` saves a tiny random-weight model (``staticmethod(...)``).
    tiny_builder: ClassVar[Callable[[Path], None]]
    #: ``load(location, device) -> (model, processor)`` (``staticmethod(...)``).
    load: ClassVar[Callable[[str, str], tuple[Any, Any]]]
    default_bytes: ClassVar[int]
    _source: ModelSource | None = None

    def __init__(self, options: Mapping[str, Any], settings: Settings):
        super().__init__({**self.defaults, **dict(options)}, settings)

    @property
    def source(self) -> ModelSource:
        if self._source is None:
            self._source = resolve_model(
                str(self.options["model"]),
                self.option,
                tiny=self.settings.tiny,
                tiny_name=self.tiny_name,
                tiny_builder=self.tiny_builder,
                cache_dir=self.settings.cache_dir,
            )
        return self._source

    def check(self) -> None:
        self._source = None
        _ = self.source

    def models(self) -> list[ModelSpec]:
        loc, load = self.source.location, self.load
        return [
            ModelSpec(
                key=f"{self.key_prefix}:{loc}",
                load=lambda device: load(loc, device),
                model_id=loc,
                estimated_bytes=weights_bytes(loc, self.default_bytes),
                random_weights=self.source.random_weights,
            )
        ]
