"""The unit every layer after the checks speaks: one finding at one location."""
from __future__ import annotations


from .facts import Location
from .records import Frozen, record

LEVELS = ("error", "warning", "note")
LEVEL_RANK = {"note": 1, "warning": 2, "error": 3}


@record
class Finding(Frozen):
    """A breach of one rule at one location.

    Checks create findings with `rule`, `message` and `location`; the engine then fills in
    `level` (from the rule's default and the config), `snippet` (the text of the flagged
    line) and `fingerprint` (stable across runs and unrelated line shifts).
    """

    rule: str
    message: str
    location: Location
    level: str = ""  # "" = the rule's level; a check may set another (SAI103 minor-only is a note)
    snippet: str = ""
    fingerprint: str = ""
    subject: str = ""  # what the finding is about, e.g. the locked component (waivers match it)

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.path, loc.line, loc.column, self.rule, self.message)
