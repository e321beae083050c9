"""What a project needs to be adopted: its licence text, a changelog whose newest release is
the package's version, and install instructions that work from a git URL."""
from __future__ import annotations

import re
from pathlib import Path

import safeai_lint

ROOT = Path(__file__).resolve().parent.parent
RELEASE = re.compile(r"^## \[(?P<version>\d+\.\d+\.\d+(?:[-.]?\w+)*)\] - (?P<date>\d{4}-\d{2}-\d{2})$", re.M)


def test_version_matches_the_newest_changelog_release():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = RELEASE.findall(text)
    assert releases, "CHANGELOG.md has no `## [x.y.z] - YYYY-MM-DD` entry"
    assert releases[0][0] == safeai_lint.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", safeai_lint.__version__), "versions are MAJOR.MINOR.PATCH"
    # Keep a Changelog: Unreleased first, then releases newest first, each with a link
    assert text.index("## [Unreleased]") < text.index(f"## [{releases[0][0]}]")
    dates = [d for _, d in releases]
    assert dates == sorted(dates, reverse=True)
    for version, _ in releases:
        assert re.search(rf"^\[{re.escape(version)}\]: https://", text, re.M), version


def test_license_is_the_apache_2_text_pyproject_claims():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'license = { text = "Apache-2.0" }' in pyproject
    import hashlib

    data = (ROOT / "LICENSE").read_bytes()
    assert b"Apache License\n                           Version 2.0, January 2004" in data
    # byte for byte the text published at https://www.apache.org/licenses/LICENSE-2.0.txt
    assert hashlib.md5(data).hexdigest() == "3b83ef96387f14655fc854ddc3c6bd57"


def test_readme_documents_installing_from_a_git_url():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install 'safeai-lint @ git+https://github.com/safeai-lint/safeai-lint@" in readme


def test_readme_quick_start_shows_what_the_text_format_prints(tmp_path):
    import os
    import subprocess
    import sys

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme[readme.index("## Quick start"):readme.index("## Using it")]
    block = re.search(r"```text\n(.*?)```", quick, re.S).group(1)
    env = {**os.environ, "NO_COLOR": "1", "SAFEAI_LINT_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "safeai_lint", "check", "examples/genai-assistant-v2"], cwd=ROOT, capture_output=True, text=True, env=env, check=False).stdout
    shown = [line for line in block.splitlines() if line != "..."]
    assert len(shown) == 6
    assert "\n".join(shown[:4]) in out  # a finding, its excerpt and its doc link, verbatim
    assert out.rstrip().endswith("\n".join(shown[4:]))  # the summary
