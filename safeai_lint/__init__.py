"""safeai-lint: a strict compliance linter for repositories that deploy AI inference services."""

__version__ = "0.1.0"
