"""A rule's documentation as Markdown, the way `safeai-lint rule ID` and SARIF help show it:
what it does, why it matters, examples, how to fix (ruff's shape)."""
from __future__ import annotations

from .catalog import RuleDoc

_FENCE = {"dockerfile": "dockerfile", "yaml": "yaml", "python": "python", "toml": "toml"}


def _lang(path: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    if "dockerfile" in name or "containerfile" in name:
        return "dockerfile"
    for ext, lang in ((".yaml", "yaml"), (".yml", "yaml"), (".py", "python"), (".toml", "toml"), (".json", "json")):
        if name.endswith(ext):
            return lang
    return "text"


def split_rationale(rationale: str) -> tuple[str, str]:
    """A rationale written as "What it does: ..." and "Why it matters: ..." paragraphs, split
    into its two parts (labels dropped); any other rationale is all "why"."""
    what, why = [], []
    target = why
    for paragraph in rationale.split("\n\n"):
        text = paragraph.strip()
        if text.startswith("What it does:"):
            target, text = what, text[len("What it does:"):].strip()
        elif text.startswith("Why it matters:"):
            target, text = why, text[len("Why it matters:"):].strip()
        if text:
            target.append(text[0].upper() + text[1:])
    return "\n\n".join(what), "\n\n".join(why)


def render_rule(doc: RuleDoc) -> str:
    out = [f"# {doc.id} {doc.name}", "", f"Level: **{doc.level}**" + (" · Fix available (`--fix`)" if doc.fix else ""), ""]
    what, why = split_rationale(doc.rationale)
    out += ["## What it does", "", doc.summary, ""] + ([what, ""] if what else [])
    if why:
        out += ["## Why is this bad?", "", why, ""]
    for kind, title in ((True, "## Example"), (False, "Use instead:")):
        chosen = [e for e in doc.examples if e.bad is kind]
        if not chosen:
            continue
        out += [title, ""]
        for example in chosen[:3]:
            for path, content in example.files:
                marks = sorted(line for p, line in example.expect if p == path)
                note = f" (fires at line {', '.join(map(str, marks))})" if marks else ""
                out += [f"`{path}`{note}" + (f" — {example.title}" if example.title else ""), "", f"```{_lang(path)}", content.rstrip("\n"), "```", ""]
            if example.config:
                out += ["with `.safeai-lint.yaml`:", "", "```yaml", example.config.rstrip("\n"), "```", ""]
    if doc.remediation:
        out += ["## How to fix", "", doc.remediation, ""]
    if doc.fix:
        out += ["## Fix", "", doc.fix, ""]
    if doc.limits:
        out += ["## Limits", "", doc.limits, ""]
    out += ["## Suppressing", "", f"`# safeai-lint: ignore[{doc.id}] -- reason` on the line or the line above, or a config waiver.", ""]
    return "\n".join(out).rstrip() + "\n"
