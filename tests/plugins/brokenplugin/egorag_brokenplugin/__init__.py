"""A plugin that cannot be imported: its hook module needs a dependency that is not installed."""
