"""One way to turn an `image:` value into an `ImageRef`, shared by every manifest extractor
(Kubernetes, Compose, KServe), so placeholders and invalid references are judged alike."""
from __future__ import annotations

import re
from typing import Any

from ..facts import ImageRef, Location
from ..sources.base import SourceText
from ..sources.image_ref import invalid_reason, parse_image

# Tags or names that tooling replaces before deploy (KServe's `huggingfaceserver:replace`,
# kustomize `images:` targets, copy-paste templates).
PLACEHOLDER_WORDS = frozenset({
    "replace", "replaceme", "replace-me", "replace_me", "placeholder", "changeme", "change-me",
    "your-image", "your-registry", "image-name",
})
_SHELL_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$\(")
_UPPER_WORD = re.compile(r"(?:^|[/:])[A-Z][A-Z0-9_]*(?=$|[/:@])")


def placeholder_reason(text: str) -> str:
    """Why `text` is a placeholder rather than an image ("" when it is not one)."""
    if "{{" in text or "{%" in text:
        return "a template placeholder (Helm/Jinja) is filled in at deploy time"
    if _SHELL_VAR.search(text):
        return "a variable is substituted at deploy time"
    if re.search(r"<[^<>]+>", text):
        return "a <placeholder> is still in the reference"
    if re.search(r"\{[^{}]*\}", text):
        return "a {placeholder} is still in the reference"
    if text.startswith((":", "@", "/")) or text.endswith((":", "/", "@")) or "/:" in text or "//" in text.split("://")[-1]:
        return "a part of the reference is empty: a value left to fill in (an empty Helm value or variable)"
    tool = re.match(r"([a-z][a-z0-9+.-]*)://", text)
    if tool:  # ko://github.com/org/cmd/manager: ko (or another builder) puts its image here
        return f"`{tool.group(1)}://` is a build-tool placeholder the build replaces with the image it makes"
    name = parse_image(text)
    if name is not None:
        last = name.repository.rsplit("/", 1)[-1]
        if name.tag.lower() in PLACEHOLDER_WORDS or last in PLACEHOLDER_WORDS:
            return f"`{text}` is a placeholder replaced at deploy time"
    elif _UPPER_WORD.search(text):
        return f"`{text}` looks like a placeholder (upper-case name)"
    return ""


def substitute_defaults(text: str) -> tuple[str | None, str]:
    """`${VAR:-default}` / `${VAR-default}` replaced by their defaults (Compose semantics);
    (None, why) when any variable has no default."""
    missing: list[str] = []

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$(" or match.group(2) is None:
            missing.append(match.group(1) or match.group(3) or "$(...)")
            return ""
        return match.group(2)

    value = _SHELL_VAR.sub(repl, text)
    if missing:
        return None, f"the variable {missing[0]} has no default, so the image is only known at deploy time"
    return value, ""


def image_fact(src: SourceText, text: Any, pos: Any, surface: str) -> ImageRef | None:
    """The ImageRef for an `image:` value at parser position `pos` (see sources.yaml).

    Placeholders (`{{ .Values.image }}`, `${IMAGE}`, `huggingfaceserver:replace`) give an
    unresolved ImageRef (SAI206); `${TAG:-1.0}` resolves to its default. Returns None when
    there is no image to judge (not a string, empty) or the reference is invalid, in which
    case SAI001 is recorded at its line.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        return None
    written = str(text).strip()
    if not written:
        return None
    loc = src.loc(pos) if pos else Location(src.rel, 1, 1)
    reference = written
    if "$" in written and "{{" not in written:
        resolved, why = substitute_defaults(written)
        if resolved is None:
            return ImageRef("", written, loc, surface, unresolved=why)
        reference = resolved
    why = placeholder_reason(reference)
    if why:
        return ImageRef("", written, loc, surface, unresolved=why)
    invalid = invalid_reason(reference)
    if invalid:
        src.problem("SAI001", f"invalid image reference {written!r}: {invalid}", loc.line, loc.column)
        return None
    return ImageRef(reference, written, loc, surface)
