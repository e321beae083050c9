"""`helm template … | safeai-lint check - --stdin-filename x`: findings in documents whose
`# Source:` names a template of a chart in the repository land in that template."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import helm_python

from conftest import hits
from safeai_lint.engine import lint

CHART = Path(__file__).parent / "fixtures" / "render" / "vllm-chart"


def helm_template(chart: Path) -> str:
    """What `helm template r CHART` prints: each document after `---` and `# Source:`."""
    with helm_python.Chart.load(str(chart)) as loaded:
        out = loaded.render(name="r")
    text = ""
    for name in sorted(out):
        for doc in re.split(r"(?m)^---\s*$", out[name]):
            if doc.strip():
                text += f"---\n# Source: {name}\n{doc.strip(chr(10))}\n"
    return text


def repo_with_chart(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(CHART, root / "charts" / "llm")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def piped(root: Path, text: str):
    return lint(["-"], cwd=root, stdin=text.encode(), stdin_filename="rendered.yaml", ignore=["SAI7"])


def test_piped_output_lands_on_template_lines(tmp_path: Path) -> None:
    root = repo_with_chart(tmp_path)
    result = piped(root, helm_template(root / "charts" / "llm"))
    template = "charts/llm/templates/deployment.yaml"
    assert hits(result) == {
        ("SAI305", template, 4), ("SAI308", template, 4),  # `name:` is written by the same key
        ("SAI309", template, 21), ("SAI605", template, 21),
        ("SAI202", template, 22), ("SAI203", template, 22),
        ("SAI501", template, 23), ("SAI601", template, 24), ("SAI603", template, 24),
        ("SAI307", template, 26), ("SAI301", template, 32), ("SAI302", template, 34),
    }
    assert "piped `helm template` output" in next(f.message for f in result.findings if f.rule == "SAI307")


def test_source_of_a_chart_not_in_the_repository_stays_in_the_piped_file(tmp_path: Path) -> None:
    root = repo_with_chart(tmp_path)
    text = helm_template(root / "charts" / "llm").replace("# Source: llm/", "# Source: other/")
    found = hits(piped(root, text))
    assert found and {path for _, path, _ in found} == {"rendered.yaml"}


def test_piped_output_without_source_comments_is_judged_as_it_is(tmp_path: Path) -> None:
    root = repo_with_chart(tmp_path)
    text = "\n".join(line for line in helm_template(root / "charts" / "llm").split("\n") if not line.startswith("# Source:"))
    assert ("SAI307", "rendered.yaml", 25) in hits(piped(root, text))
