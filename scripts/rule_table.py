"""Print the README's rule table from rules/SAIxxx.yaml, or rewrite it in place (--write).

tests/test_docs.py fails when the README's table and the catalog disagree."""
from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from safeai_lint.catalog import all_rules  # noqa: E402

START, END = "<!-- rules:start -->", "<!-- rules:end -->"


def table() -> str:
    rows = ["| ID | name | level | fix | what it catches |", "|---|---|---|---|---|"]
    for doc in all_rules().values():
        summary = doc.summary.replace("|", "\\|").replace("\n", " ")
        rows.append(f"| [{doc.id}](docs/rules/{doc.id}.md) | {doc.name} | {doc.level} | {'yes' if doc.fix else ''} | {summary} |")
    return "\n".join(rows)


def rewrite(readme: Path) -> None:
    text = readme.read_text(encoding="utf-8")
    new = re.sub(re.escape(START) + ".*?" + re.escape(END), f"{START}\n{table()}\n{END}", text, flags=re.S)
    readme.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    if "--write" in sys.argv:
        rewrite(Path(__file__).resolve().parent.parent / "README.md")
    else:
        print(table())
