"""Every error type egorag raises on purpose. Each message is one line that says what to do."""

from __future__ import annotations


class EgoragError(Exception):
    """Base of egorag's own errors."""


class ConfigError(EgoragError, RuntimeError):
    """The selected configuration cannot run (bad option, missing plugin or model)."""


class OptionsError(ConfigError):
    """A component option is unknown, missing or of the wrong type; names the key and file."""


class PluginError(ConfigError):
    """A plugin registered something wrong: a duplicate name or a group its hook does not own."""


class ModelUnavailable(ConfigError):
    """A selected model cannot be had; the message names the option that fixes it."""


class InputError(EgoragError, ValueError):
    """Bad input: the message names the file and the problem."""


class StoreError(EgoragError, RuntimeError):
    """The index cannot be opened or written as asked."""


class SearchError(EgoragError, ValueError):
    """A search, an evaluation or a comparison cannot be done as asked (an empty query, an
    unknown video, a modality the index cannot search); the message names the option."""


class StageError(EgoragError, RuntimeError):
    """A stage raised while encoding a video."""

    def __init__(self, stage: str, error: BaseException):
        super().__init__(f"{stage} stage failed: {type(error).__name__}: {error}")
        self.stage = stage
