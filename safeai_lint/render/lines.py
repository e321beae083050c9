"""Which template line wrote each rendered line, found by the engine itself.

A copy of each template gets a YAML comment ` #sai@L<n>` at the end of every line `n` where a
comment cannot change what the template produces (not inside a multi-line action, not after a
whitespace-chomping `-}}`, not on a `---` separator). Helm renders that copy with the same
values; with the comments taken out, the output must equal the plain rendering line for line,
else the map is not used. A rendered line belongs to the first marker on it or after it: the
text before a marker was written by that template line, or by a helper it included.
"""
from __future__ import annotations

import re

_MARKER = re.compile(r" ?#sai@L(\d+)")


def mark_template(text: str) -> str:
    out = []
    depth = 0  # open `{{` actions (a Go template action or comment may span lines)
    for number, line in enumerate(text.split("\n"), start=1):
        depth = _depth_after(line, depth)
        stripped = line.rstrip()
        if depth == 0 and not stripped.endswith("-}}") and not stripped.lstrip().startswith("---") and not stripped.endswith("\\"):
            line = f"{stripped} #sai@L{number}"
        out.append(line)
    return "\n".join(out)


def _depth_after(line: str, depth: int) -> int:
    for token in re.findall(r"\{\{|\}\}", line):
        depth = depth + 1 if token == "{{" else max(depth - 1, 0)
    return depth


def line_map(real: str, marked: str) -> list[int] | None:
    """For each line of `real` (index 0 = line 1), the template line that wrote it; None when
    the marked rendering does not line up with the plain one."""
    plain = real.split("\n")
    lines = marked.split("\n")
    stripped = [_MARKER.sub("", line).rstrip() for line in lines]
    # a renderer may trim leading blank lines of a document: skip those on both sides
    skip_real = _leading_blank(plain)
    skip_marked = _leading_blank(stripped)
    body_real = [line.rstrip() for line in plain[skip_real:]]
    body_marked = stripped[skip_marked:]
    while body_real and not body_real[-1]:
        body_real.pop()
    if body_marked[: len(body_real)] != body_real or any(body_marked[len(body_real):]):
        return None
    owners: list[int] = []
    following = 0
    numbers: list[int | None] = []
    for line in lines[skip_marked:]:
        found = _MARKER.findall(line)
        numbers.append(int(found[0]) if found else None)
    after: list[int] = [0] * len(numbers)
    for index in range(len(numbers) - 1, -1, -1):
        following = numbers[index] or following
        after[index] = following
    last = next((n for n in reversed(numbers) if n), 1)
    leading = after[0] if after else 1
    owners = [leading or last] * skip_real
    owners += [after[i] or last for i in range(len(body_real))]
    owners += [last] * (len(plain) - len(owners))
    return owners


def _leading_blank(lines: list[str]) -> int:
    count = 0
    for line in lines:
        if line.strip():
            break
        count += 1
    return count


_DOC_SEPARATOR = re.compile(r"^---(?:\s|$)")
_SKIPPED_KINDS = re.compile(r"^kind:\s*[\"']?CustomResourceDefinition[\"']?\s*$", re.M)


def blank_definitions(text: str) -> str:
    """`text` with every CustomResourceDefinition document made of empty lines: schemas are
    the bulk of many builds and nothing in them is judged. Line numbers do not move."""
    if not _SKIPPED_KINDS.search(text):
        return text
    lines = text.split("\n")
    out: list[str] = []
    start = 0
    for index in range(len(lines) + 1):
        if index == len(lines) or _DOC_SEPARATOR.match(lines[index]):
            doc = lines[start:index]
            if _SKIPPED_KINDS.search("\n".join(doc)):
                doc = [""] * len(doc)
            out.extend(doc)
            if index < len(lines):
                out.append(lines[index])
            start = index + 1
    return "\n".join(out)
