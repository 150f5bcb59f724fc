"""Fails at import, like a plugin whose dependency is missing."""

raise ImportError("egorag_brokenplugin needs the package 'not-installed-dependency'")
