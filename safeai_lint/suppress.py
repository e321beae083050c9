"""Suppressions: inline comments, per-file ignores and config waivers.

What does not suppress says why: an unknown rule, a missing reason or an expired waiver is
SAI003 and the finding stays; a suppression that silenced nothing is SAI004.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Iterable, Sequence

from .config import Config, Waiver
from .discover import excluded
from .facts import Location, Suppression
from .findings import Finding
from .sources.base import SourceText
from .records import Frozen, record

# The origin of a suppression the render stage carries from a template line to the values
# line a finding lands on: its own unused state is the template comment's, never reported twice.
CARRIED = "rendered-value"

_DIRECTIVE = re.compile(r"#\s*safeai-lint\s*:\s*(?P<body>.*)$")
_IGNORE = re.compile(r"(?P<what>file-ignore|ignore)\s*\[(?P<rules>[^\]]*)\](?P<rest>.*)$")
_REASON = re.compile(r"^\s*(?:--|#|:)?\s*(?P<reason>.*?)\s*$")
_RULE_TOKEN = re.compile(r"^SAI\d{3}$")


@record
class BadSuppression(Frozen):
    """A suppression that cannot be honoured, reported as SAI003."""

    message: str
    location: Location


def comment_suppressions(src: SourceText) -> tuple[list[Suppression], list[BadSuppression]]:
    """`# safeai-lint: ignore[...] -- reason` and `file-ignore[...]` comments of a file."""
    good: list[Suppression] = []
    bad: list[BadSuppression] = []
    if "safeai-lint" not in src.text:
        return good, bad
    lines = src.lines
    comments = _python_comments(src.text) if src.kind == "python" else None
    for index, line in enumerate(lines):
        if "safeai-lint" not in line:
            continue
        match = _DIRECTIVE.search(line)
        if not match:
            continue
        if comments is not None and not any(line_no == index + 1 and col <= match.start() for line_no, col in comments):
            continue  # a directive inside a Python string is not a comment
        number = index + 1
        loc = Location(src.rel, number, match.start() + 1, number, len(line) + 1)
        directive = _IGNORE.match(match.group("body").strip())
        if not directive:
            bad.append(BadSuppression("unrecognised safeai-lint comment; write `# safeai-lint: ignore[SAI101] -- reason`", loc))
            continue
        reason = _REASON.match(directive.group("rest")).group("reason")
        whole = directive.group("what") == "file-ignore"
        alone = not line[: match.start()].strip()
        last = number + 1 if alone else number
        tokens = [t.strip().upper() for t in directive.group("rules").split(",") if t.strip()]
        if not tokens:
            bad.append(BadSuppression("suppression names no rule", loc))
        for token in tokens:
            good.append(Suppression(token, reason, loc, number, last, whole))
    return good, bad


def _python_comments(text: str) -> list[tuple[int, int]]:
    """(line, column) of every real comment in Python source; [] if it cannot be tokenised."""
    import io
    import tokenize

    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and "safeai-lint" in token.string:
                found.append((token.start[0], token.start[1]))
    except (tokenize.TokenError, SyntaxError, IndentationError, RecursionError, MemoryError):
        return []
    return found


def validate(suppressions: Iterable[Suppression], known: set[str]) -> tuple[list[Suppression], list[BadSuppression]]:
    """Split suppressions into those that apply and those that are SAI003."""
    valid, invalid = [], []
    for sup in suppressions:
        if sup.rule not in known:
            hint = "" if _RULE_TOKEN.match(sup.rule) else " (write rule ids such as SAI101)"
            invalid.append(BadSuppression(f"suppression names unknown rule {sup.rule!r}{hint}; it suppresses nothing", sup.location))
        elif not sup.reason:
            how = "`SAI304=reason`" if sup.origin == "annotation" else "`-- reason`"
            invalid.append(BadSuppression(f"suppression of {sup.rule} has no reason (add {how}); it suppresses nothing", sup.location))
        else:
            valid.append(sup)
    return valid, invalid


def apply_suppressions(findings: Sequence[Finding], suppressions: Sequence[Suppression]) -> tuple[list[Finding], list[Suppression]]:
    """Findings left after suppressions, and the suppressions that silenced nothing."""
    by_file: dict[str, list[Suppression]] = {}
    for sup in suppressions:
        by_file.setdefault(sup.location.path, []).append(sup)
    used: set[int] = set()
    kept = []
    for finding in findings:
        hit = None
        for sup in by_file.get(finding.location.path, ()):
            if sup.rule != finding.rule:
                continue
            if sup.whole_file or sup.first_line <= finding.location.line <= sup.last_line:
                hit = sup
                break
        if hit is None:
            kept.append(finding)
        else:
            used.add(id(hit))
    unused = [s for s in suppressions if id(s) not in used]
    return kept, unused


def apply_per_file_ignores(findings: Iterable[Finding], config: Config) -> list[Finding]:
    if not config.per_file_ignores:
        return list(findings)
    out = []
    for finding in findings:
        silenced = any(
            finding.rule in rules and excluded(finding.location.path, (glob,))
            for glob, rules in config.per_file_ignores
        )
        if not silenced:
            out.append(finding)
    return out


@record
class WaiverProblem(Frozen):
    message: str
    waiver: Waiver


# Waivers of these rules accept a version beyond the lock: the standard asks for the
# performance regression report that justifies the upgrade, so `report:` is mandatory.
REPORT_REQUIRED = ("SAI101",)


def _report_exists(root: Path, report: str) -> bool:
    """The report must be a file inside the repository: a path climbing out of it (or an
    absolute one) proves nothing to a reviewer of this repo."""
    try:
        base = root.resolve()
        target = (base / report).resolve()
    except (OSError, RuntimeError, ValueError):
        return False
    return (target == base or base in target.parents) and target.is_file()


def check_waivers(config: Config, root: Path, known: set[str], today: dt.date | None = None) -> tuple[list[Waiver], list[WaiverProblem]]:
    """Waivers that apply, and those that are invalid (unknown rule, no reason, expired,
    missing report file)."""
    today = today or dt.date.today()
    valid, problems = [], []
    for waiver in config.waivers:
        if waiver.rule not in known:
            problems.append(WaiverProblem(f"waiver names unknown rule {waiver.rule!r}; it waives nothing", waiver))
        elif not waiver.reason:
            problems.append(WaiverProblem(f"waiver of {waiver.rule} has no reason; it waives nothing", waiver))
        elif waiver.until and waiver.until < today:
            problems.append(WaiverProblem(f"waiver of {waiver.rule} expired on {waiver.until.isoformat()}; its findings are reported again", waiver))
        elif not waiver.report and waiver.rule in REPORT_REQUIRED:
            problems.append(WaiverProblem(f"waiver of {waiver.rule} names no `report:`; an upgrade beyond the lock needs its performance regression report in the repository; it waives nothing", waiver))
        elif waiver.report and not _report_exists(root, waiver.report):
            problems.append(WaiverProblem(f"waiver of {waiver.rule} requires report {waiver.report!r}, which does not exist in the repository; it waives nothing", waiver))
        else:
            valid.append(waiver)
    return valid, problems


def apply_waivers(findings: Sequence[Finding], waivers: Sequence[Waiver]) -> tuple[list[Finding], list[Waiver]]:
    used: set[int] = set()
    kept = []
    for finding in findings:
        hit = next(
            (
                w for w in waivers
                if w.rule == finding.rule
                and excluded(finding.location.path, w.paths)
                and (not w.component or finding.subject == w.component)
            ),
            None,
        )
        if hit is None:
            kept.append(finding)
        else:
            used.add(id(hit))
    return kept, [w for w in waivers if id(w) not in used]
