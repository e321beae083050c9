"""\"Did you mean ...?\" for a mistyped rule id, format or config key (standard library only)."""
from __future__ import annotations

import difflib


def did_you_mean(word: str, choices: list[str]) -> str:
    """" (did you mean X?)" for the closest of `choices` (case-insensitive), or ""."""
    by_upper = {c.upper(): c for c in choices}
    close = difflib.get_close_matches(word.upper(), list(by_upper), n=1, cutoff=0.8)
    return f" (did you mean {by_upper[close[0]]}?)" if close else ""
