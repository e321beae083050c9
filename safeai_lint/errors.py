"""Errors the CLI turns into a one-line message and exit status 2 (no heavy imports here:
`--version` must stay fast)."""


class ConfigError(Exception):
    """A configuration we cannot use."""
