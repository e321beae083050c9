"""safeai-lint passes its own check (fixtures and the example are excluded by its config)."""
from __future__ import annotations

from pathlib import Path

from safeai_lint.engine import lint

ROOT = Path(__file__).resolve().parent.parent


def test_the_project_passes_its_own_check():
    result = lint([str(ROOT)], cwd=ROOT)
    assert [(f.rule, f.location.path, f.location.line, f.message) for f in result.findings] == []
    assert result.files_scanned > 50
