"""The example repository (the incident's service) is what a newcomer scans first: it must show
every rule family firing, at exactly the reviewed places in tests/example-expected.json.
Regenerate after a reviewed change with: python tests/test_example.py --write"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "genai-assistant-v2"
EXPECTED = Path(__file__).parent / "example-expected.json"


def scan(tmp: Path) -> set[tuple[str, str, int]]:
    sys.path.insert(0, str(ROOT))
    from safeai_lint.engine import lint

    target = tmp / "genai-assistant-v2"
    shutil.copytree(EXAMPLE, target)
    result = lint([str(target)], cwd=target)
    return {(f.rule, f.location.path, f.location.line) for f in result.findings}


def test_example_yields_the_reviewed_findings(tmp_path):
    expected = {tuple(x) for x in json.loads(EXPECTED.read_text())}
    got = scan(tmp_path)
    assert sorted(got - expected) == [], "new findings on the example: review, then --write"
    assert sorted(expected - got) == [], "findings gone from the example: review, then --write"


def test_example_shows_every_rule_family(tmp_path):
    families = {rule[:4] for rule, _, _ in scan(tmp_path)}
    assert {"SAI1", "SAI2", "SAI3", "SAI4", "SAI5", "SAI6", "SAI7", "SAI8"} <= families


if __name__ == "__main__" and "--write" in sys.argv:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        rows = sorted(scan(Path(tmp)), key=lambda r: (r[1], r[2], r[0]))
    EXPECTED.write_text("[\n" + ",\n".join("  " + json.dumps(list(r)) for r in rows) + "\n]\n")
    print(f"wrote {len(rows)} findings to {EXPECTED}")
