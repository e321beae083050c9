"""Helm charts are judged as rendered (RULES.md "The deployed view") and reported at the line a
person edits: the values file line that set the value, else the template line that wrote it.

Fixture charts are under fixtures/render/; each is copied to a temp folder and scanned with
the Helm SDK renderer (the dev extra installs it) and with a stand-in `helm` executable."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import hits, write_tree
from safeai_lint.engine import lint
from safeai_lint.render import helm

FIXTURES = Path(__file__).parent / "fixtures" / "render"
REPO_WIDE = ["SAI7"]  # metrics and alerts rules judge the whole repository, not a chart


def test_the_sdk_renderer_is_installed_by_the_dev_extra() -> None:
    assert helm.renderer() in ("helm", "sdk")
    import helm_python

    assert helm_python.__version__


def chart(tmp_path: Path, name: str, extra: dict[str, str] | None = None) -> Path:
    shutil.copytree(FIXTURES / name, tmp_path / "repo")
    if extra:
        write_tree(tmp_path / "repo", extra)
    return tmp_path / "repo"


def run(root: Path, **kwargs):
    return lint([str(root)], cwd=root, ignore=REPO_WIDE, **kwargs)


VLLM_CHART = {
    ("SAI305", "templates/deployment.yaml", 4),  # object-level: the template line naming it
    ("SAI308", "templates/deployment.yaml", 4),
    ("SAI309", "templates/deployment.yaml", 21),  # the container's template line
    ("SAI605", "templates/deployment.yaml", 21),
    ("SAI202", "templates/deployment.yaml", 22),  # image made of two values: the template line
    ("SAI203", "templates/deployment.yaml", 22),
    ("SAI501", "templates/deployment.yaml", 23),  # no --max-model-len: the args key
    ("SAI301", "templates/deployment.yaml", 32),  # no limits: the resources key
    ("SAI302", "templates/deployment.yaml", 34),
    ("SAI601", "values.yaml", 4),  # the model name came from values.yaml
    ("SAI603", "values.yaml", 4),
    ("SAI307", "values.yaml", 5),  # gpuMemoryUtilization: 0.95
}


def test_vllm_chart_findings_land_on_values_and_template_lines(tmp_path: Path) -> None:
    result = run(chart(tmp_path, "vllm-chart"))
    assert hits(result) == VLLM_CHART
    by_rule = {f.rule: f for f in result.findings}
    assert "rendered: in chart llm, template deployment.yaml, value gpuMemoryUtilization" in by_rule["SAI307"].message
    assert by_rule["SAI307"].snippet == "gpuMemoryUtilization: 0.95"
    assert "image.tag (values.yaml:3)" in by_rule["SAI202"].message
    # templates are never read as plain YAML any more
    assert not [f for f in result.findings if f.rule == "SAI002"]


def test_values_files_named_in_config_are_applied_in_order(tmp_path: Path) -> None:
    root = chart(tmp_path, "vllm-chart", {".safeai-lint.yaml": "helm:\n  values:\n    .: [values-prod.yaml]\n"})
    result = run(root)
    assert hits(result, "SAI307") == {("SAI307", "values-prod.yaml", 1)}
    assert "0.97" in next(f.message for f in result.findings if f.rule == "SAI307")


def test_values_file_outside_the_repository_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text("gpuMemoryUtilization: 0.5  # TOPSECRET\n", encoding="utf-8")
    root = chart(tmp_path, "vllm-chart", {".safeai-lint.yaml": "helm:\n  values:\n    .: [../outside.yaml]\n"})
    result = run(root)
    assert ("SAI002", "Chart.yaml", 1) in hits(result)
    assert hits(result, "SAI307") == {("SAI307", "values.yaml", 5)}
    assert "TOPSECRET" not in json.dumps([f.message + f.snippet for f in result.findings])


def test_vendored_subchart_renders_with_its_parent(tmp_path: Path) -> None:
    result = run(chart(tmp_path, "vendored"))
    # the parent's values override the subchart's image: reported where the parent sets it
    assert hits(result) == {("SAI202", "values.yaml", 2), ("SAI203", "values.yaml", 2)}
    assert "template charts/metrics/templates/deployment.yaml" in result.findings[0].message


def test_remote_dependency_not_vendored_is_sai002_at_its_entry(tmp_path: Path) -> None:
    result = run(chart(tmp_path, "remote-dep"))
    assert hits(result) == {("SAI002", "Chart.yaml", 5), ("SAI202", "values.yaml", 1), ("SAI203", "values.yaml", 1)}
    sai002 = next(f for f in result.findings if f.rule == "SAI002")
    assert sai002.level == "warning" and "'redis'" in sai002.message and "not vendored" in sai002.message


def test_vendored_dependency_is_no_finding(tmp_path: Path) -> None:
    result = run(chart(tmp_path, "vendored"))
    assert not [f for f in result.findings if f.rule == "SAI002"]


def test_template_that_fails_to_render_is_sai001_at_the_line_helm_names(tmp_path: Path) -> None:
    result = run(chart(tmp_path, "broken"))
    assert hits(result) == {("SAI001", "templates/service.yaml", 7)}
    assert "nil pointer" in result.findings[0].message and "\n" not in result.findings[0].message


def test_no_renderer_is_one_note_per_chart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helm, "renderer", lambda: "")
    result = run(chart(tmp_path, "vllm-chart"))
    assert hits(result) == {("SAI002", "Chart.yaml", 1)}
    assert result.findings[0].level == "note"
    assert "pip install 'safeai-lint[helm]'" in result.findings[0].message


def test_library_chart_is_not_rendered_and_its_templates_not_read(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "lib/Chart.yaml": "apiVersion: v2\nname: lib\nversion: 1.0.0\ntype: library\n",
        "lib/templates/_x.yaml": "{{- define \"lib.x\" -}}\nkind: {{ .kind }}\n{{- end -}}\n",
    })
    assert hits(run(root)) == set()


# --- suppressions ----------------------------------------------------------------------------


def test_suppression_comments_in_templates_and_values_files(tmp_path: Path) -> None:
    root = chart(tmp_path, "vllm-chart")
    values = root / "values.yaml"
    values.write_text(values.read_text().replace("gpuMemoryUtilization: 0.95", "gpuMemoryUtilization: 0.95  # safeai-lint: ignore[SAI307] -- measured on H100"), encoding="utf-8")
    template = root / "templates" / "deployment.yaml"
    lines = template.read_text().split("\n")
    lines.insert(31, "          # safeai-lint: ignore[SAI301] -- limits set by the LimitRange of the namespace")
    template.write_text("\n".join(lines), encoding="utf-8")
    found = hits(run(root))
    assert ("SAI307", "values.yaml", 5) not in found
    assert not [h for h in found if h[0] in ("SAI301", "SAI004")]
    assert ("SAI302", "templates/deployment.yaml", 35) in found  # its neighbours still count


def test_suppression_annotation_in_a_rendered_object(tmp_path: Path) -> None:
    root = chart(tmp_path, "vllm-chart")
    values = root / "values.yaml"
    values.write_text(values.read_text() + '  safeai-lint.io/ignore: "SAI605=allocator tuned in the image"\n', encoding="utf-8")
    found = hits(run(root))
    assert not [h for h in found if h[0] in ("SAI605", "SAI004")]
    assert ("SAI309", "templates/deployment.yaml", 21) in found


# --- the `helm` executable path ---------------------------------------------------------------

STAND_IN = '''#!{python}
"""A stand-in for `helm template NAME CHART --namespace NS --values FILE`: renders with the
SDK and prints what helm prints (a `---` and a `# Source:` comment before each document)."""
import json, os, re, sys
{extra}
import helm_python as helm
args = sys.argv[1:]
assert args[0] == "template", args
values = json.load(open(args[args.index("--values") + 1]))
try:
    with helm.Chart.load(args[2]) as chart:
        out = chart.render(values=values, name=args[1], namespace=args[args.index("--namespace") + 1])
except helm.HelmError as exc:  # helm prints its error on stderr and exits 1
    sys.stderr.write("Error: " + str(exc) + "\\n")
    sys.exit(1)
for name in sorted(out):
    for doc in re.split(r"(?m)^---\\s*$", out[name]):
        if doc.strip() and not name.endswith("NOTES.txt"):
            sys.stdout.write("---\\n# Source: " + name + "\\n" + doc.strip("\\n") + "\\n")
'''


def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str = "") -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "helm"
    script.write_text(STAND_IN.format(python=sys.executable, extra=extra), encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return script


def test_helm_executable_on_path_gives_the_same_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in(tmp_path, monkeypatch)
    assert helm.renderer() == "helm"
    assert hits(run(chart(tmp_path, "vllm-chart"))) == VLLM_CHART


def test_helm_executable_failure_is_sai001_at_the_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in(tmp_path, monkeypatch)
    assert hits(run(chart(tmp_path, "broken"))) == {("SAI001", "templates/service.yaml", 7)}


# --- containment ------------------------------------------------------------------------------


def test_renderer_sees_an_empty_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = tmp_path / "env.json"
    stand_in(tmp_path, monkeypatch, f"json.dump(dict(os.environ), open({str(seen)!r}, 'w'))")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter2")
    run(chart(tmp_path, "vllm-chart"))
    env = json.loads(seen.read_text())
    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert env["HOME"] != os.environ.get("HOME") and env["HTTPS_PROXY"] == "http://127.0.0.1:9"


def test_renderer_over_the_time_cap_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in(tmp_path, monkeypatch, "import time; time.sleep(30)")
    monkeypatch.setenv("SAFEAI_LINT_RENDER_SECONDS", "1")
    result = run(chart(tmp_path, "vllm-chart"))
    assert hits(result) == {("SAI002", "Chart.yaml", 1)}
    assert "time cap" in result.findings[0].message


def test_renderer_over_the_output_cap_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in(tmp_path, monkeypatch, "sys.stdout.write('#' * (21 * 1024 * 1024)); sys.stdout.flush()")
    result = run(chart(tmp_path, "vllm-chart"))
    assert hits(result) == {("SAI002", "Chart.yaml", 1)}
    assert "cap" in result.findings[0].message


@pytest.mark.parametrize("link", ["templates/secret.yaml", "templates", "values.yaml"])
def test_symlink_leading_outside_is_not_rendered(tmp_path: Path, link: str) -> None:
    outside = tmp_path / "outside"
    (outside / "templates").mkdir(parents=True)
    secret = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: TOPSECRET}\n"
    (outside / "templates" / "secret.yaml").write_text(secret, encoding="utf-8")
    (outside / "secret.yaml").write_text(secret, encoding="utf-8")
    (outside / "values.yaml").write_text("x: TOPSECRET\n", encoding="utf-8")
    root = chart(tmp_path, "vllm-chart")
    target = root / link
    if target.is_dir():
        shutil.rmtree(target)
    elif target.exists():
        target.unlink()
    target.symlink_to(outside / (link if link != "templates/secret.yaml" else "secret.yaml"))
    result = run(root)
    refusals = [f for f in result.findings if f.rule == "SAI002" and link in f.message]
    assert refusals and "outside the repository" in refusals[0].message
    assert not [f for f in result.findings if f.rule == "SAI307"]  # the chart was not rendered
    assert "TOPSECRET" not in json.dumps([(f.message, f.snippet, f.location.path) for f in result.findings])


def test_lookup_contacts_no_cluster(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 1.0.0\n",
        "c/templates/cm.yaml": (
            'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n'
            '  found: {{ (lookup "v1" "Secret" "kube-system" "") | len | quote }}\n'
        ),
    })
    assert hits(run(root)) == set()


def test_cli_scan_of_a_chart_exits_1_with_findings_at_real_paths(tmp_path: Path) -> None:
    root = chart(tmp_path, "vllm-chart")
    proc = subprocess.run(
        [sys.executable, "-m", "safeai_lint", "check", ".", "--format", "json", "--no-progress", "--ignore", "SAI7"],
        cwd=root, capture_output=True, timeout=120, check=False,
    )
    assert proc.returncode == 1, proc.stderr.decode()
    paths = {f["path"] for f in json.loads(proc.stdout)["findings"]}
    assert paths == {"templates/deployment.yaml", "values.yaml"}


def test_value_provenance_follows_what_the_template_really_used(tmp_path: Path) -> None:
    """`--flag={{ value }}` is that value; an empty tag replaced by `default` is not the values
    file's doing; a value with other text around it is reported at the template line."""
    root = write_tree(tmp_path, {
        "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 1.0.0\nappVersion: latest\n",
        "c/values.yaml": "tag: \"\"\nfraction: 0.97\nregistry: docker.io\n",
        "c/templates/d.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n"
            "        - name: vllm\n"
            "          image: vllm/vllm-openai:{{ .Values.tag | default .Chart.AppVersion }}\n"
            "          args: [\"--gpu-memory-utilization={{ .Values.fraction }}\", \"--max-model-len=4096\"]\n"
            "        - name: side\n"
            "          image: \"{{ .Values.registry }}/library/nginx:1.27\"\n"
        ),
    })
    found = hits(run(root))
    assert ("SAI307", "c/values.yaml", 2) in found
    assert ("SAI202", "c/templates/d.yaml", 10) in found  # the tag came from appVersion
    assert not [h for h in found if h[1] == "c/values.yaml" and h[2] in (1, 3)]


EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "genai-assistant-v2-chart"


def test_example_chart_of_the_incident(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "repo")
    result = run(tmp_path / "repo", select=["SAI2", "SAI3", "SAI5", "SAI6"])
    assert hits(result) == {
        ("SAI308", "templates/deployment.yaml", 4), ("SAI305", "templates/deployment.yaml", 4),
        ("SAI309", "templates/deployment.yaml", 18), ("SAI605", "templates/deployment.yaml", 18),
        ("SAI202", "templates/deployment.yaml", 19), ("SAI203", "templates/deployment.yaml", 19),
        ("SAI501", "templates/deployment.yaml", 20),
        ("SAI301", "templates/deployment.yaml", 27), ("SAI302", "templates/deployment.yaml", 29),
        ("SAI304", "templates/deployment.yaml", 29),
        ("SAI301", "templates/deployment.yaml", 30), ("SAI309", "templates/deployment.yaml", 30),
        ("SAI601", "values.yaml", 6), ("SAI307", "values.yaml", 8),
        ("SAI201", "values.yaml", 12), ("SAI203", "values.yaml", 12),
    }
    # with the production values file named in the config, the VRAM fraction passes
    write_tree(tmp_path / "repo", {".safeai-lint.yaml": "helm:\n  values:\n    .: [values-prod.yaml]\n"})
    assert not hits(run(tmp_path / "repo"), "SAI307")


@pytest.mark.parametrize("files", [
    {"c/Chart.yaml": "apiVersion: v2\nname: [\n"},  # Chart.yaml is not YAML
    {"c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 1.0.0\n", "c/values.yaml": "- a\n- b\n"},  # values not a mapping
    {"c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 1.0.0\n", "c/templates/x.yaml": "a: [\n{{ .Values.x }}\n"},  # renders to bad YAML
    {"c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 1.0.0\n", "c/templates/x.yaml": b"\x00\xff{{ .Values }}"},  # binary
    {"c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 1.0.0\ndependencies: oops\n"},  # dependencies not a list
    {"Chart.yaml": "apiVersion: v2\nname: c\nversion: 1.0.0\n", "templates/cm.yaml": "{{ range $i, $e := until 100000 }}\n---\nkind: ConfigMap\n{{ end }}\n"},
])
def test_broken_charts_are_findings_not_crashes(tmp_path: Path, files: dict) -> None:
    result = run(write_tree(tmp_path, files))
    assert all(f.location.path in files or f.location.path.endswith(("Chart.yaml", "values.yaml")) for f in result.findings)
    assert not [f for f in result.findings if "internal error" in f.message]


@pytest.mark.parametrize("text", ["helm: [a]\n", "helm:\n  values: [x]\n", "helm:\n  values:\n    charts/llm: values-prod.yaml\n", "helm:\n  other: 1\n"])
def test_bad_helm_config_is_exit_2_naming_the_key(tmp_path: Path, text: str) -> None:
    root = chart(tmp_path, "vllm-chart", {".safeai-lint.yaml": text})
    proc = subprocess.run([sys.executable, "-m", "safeai_lint", "check", ".", "--no-progress"], cwd=root, capture_output=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert ".safeai-lint.yaml" in proc.stderr.decode() and "helm" in proc.stderr.decode()


FIXTURE_CHARTS = {
    "vllm-chart": VLLM_CHART,
    "vendored": {("SAI202", "values.yaml", 2), ("SAI203", "values.yaml", 2)},
    "remote-dep": {("SAI002", "Chart.yaml", 5), ("SAI202", "values.yaml", 1), ("SAI203", "values.yaml", 1)},
    "broken": {("SAI001", "templates/service.yaml", 7)},
}


@pytest.mark.parametrize("renderer", ["sdk", "helm"])
@pytest.mark.parametrize("fixture", sorted(FIXTURE_CHARTS))
def test_fixture_charts_give_the_same_findings_with_both_renderers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fixture: str, renderer: str) -> None:
    if renderer == "helm":
        stand_in(tmp_path, monkeypatch)
    else:  # even where a real helm is installed
        monkeypatch.setattr(helm.sandbox, "find_program", lambda name: None)
    assert helm.renderer() == renderer
    assert hits(run(chart(tmp_path, fixture))) == FIXTURE_CHARTS[fixture]
