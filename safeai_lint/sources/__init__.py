"""Parsers that turn file text into trees carrying a line and column for every node."""
