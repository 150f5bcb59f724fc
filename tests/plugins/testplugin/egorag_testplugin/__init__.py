"""A small real egorag plugin for the core's tests (numpy only, no model weights)."""
