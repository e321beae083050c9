"""GitHub workflow commands, JUnit XML and GitLab Code Quality output."""
from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

from conftest import scan
from safeai_lint.catalog import all_rules
from safeai_lint.engine import Result
from safeai_lint.facts import Location
from safeai_lint.findings import Finding
from safeai_lint.report import render
from safeai_lint.report.github import from_sarif

BROKEN_YAML = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: genai\nspec: {}\n"
FILES = {
    "k8s/deploy.yaml": BROKEN_YAML,
    "k8s/other.yaml": "a: [\n",
    "requirements.txt": "torch==2.1.0  # safeai-lint: ignore[SAI102]\n",
}
CLEAN = {"k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"}


def _odd_result() -> Result:
    """Findings whose path and message need escaping, and a control character."""
    rules = tuple(all_rules()[r] for r in ("SAI001", "SAI002", "SAI003"))
    findings = (
        Finding("SAI001", "line one\nline two: 100% broken, really", Location("a,b:c/x.yaml", 3, 5, 3, 9), level="error", snippet="x: {", fingerprint="f1"),
        Finding("SAI002", "bell \x07 <tag> & \"quote\"", Location("a,b:c/x.yaml", 9, 1), level="warning", fingerprint="f2"),
        Finding("SAI003", "a note", Location("z.yaml", 1, 1, 2, 0), level="note", fingerprint="f3"),
    )
    return Result(findings=findings, rules=rules, files_scanned=2, root="/repo")


# --- GitHub ---------------------------------------------------------------------------------

_COMMAND = re.compile(r"^::(error|warning|notice) file=([^,]*),line=(\d+),col=(\d+)(,endLine=\d+|,endColumn=\d+)?,title=([^,]*)::(.*)$")


def test_github_one_command_per_finding(tmp_path):
    result = scan(tmp_path, FILES)
    out = render("github", result).splitlines()
    assert len(out) == len(result.findings) >= 3
    parsed = [_COMMAND.match(line) for line in out]
    assert all(parsed), out
    got = {(m.group(6).split(" ")[0], m.group(2), int(m.group(3))) for m in parsed}
    assert ("SAI001", "k8s/deploy.yaml", 4) in got
    assert ("SAI003", "requirements.txt", 1) in got
    assert all(m.group(1) == "error" for m in parsed if m.group(6).startswith("SAI001 "))
    assert "title=SAI001 parse-error::" in out[0]


def test_github_escapes_properties_and_data():
    out = render("github", _odd_result()).splitlines()
    assert out[0] == "::error file=a%2Cb%3Ac/x.yaml,line=3,col=5,endColumn=9,title=SAI001 parse-error::line one%0Aline two: 100%25 broken, really"
    assert out[2].startswith("::notice file=z.yaml,line=1,col=1,endLine=2,")
    assert len(out) == 3


def test_github_clean_prints_nothing(tmp_path):
    assert render("github", scan(tmp_path, CLEAN)) == ""


def test_github_annotations_from_sarif_match_direct_rendering(tmp_path):
    result = scan(tmp_path, {**FILES, "k8s/dé ploy.yaml": 'x: "日本" {\n'})
    assert from_sarif(json.loads(render("sarif", result))) == render("github", result)
    odd = _odd_result()
    assert from_sarif(json.loads(render("sarif", odd))) == render("github", odd)


# --- JUnit ----------------------------------------------------------------------------------


def test_junit_one_failing_testcase_per_finding(tmp_path):
    result = scan(tmp_path, FILES)
    root = ET.fromstring(render("junit", result).encode("utf-8"))
    cases = root.findall(".//testcase")
    failing = [c for c in cases if c.find("failure") is not None]
    assert len(failing) == len(cases) == len(result.findings) >= 3
    assert root.get("failures") == str(len(result.findings))
    messages = {(c.get("file"), c.get("line"), c.find("failure").get("type")) for c in failing}
    assert ("k8s/deploy.yaml", "4", "SAI001 (error)") in messages
    suites = {s.get("name"): int(s.get("failures")) for s in root.findall("testsuite")}
    assert suites["k8s/deploy.yaml"] == 1


def test_junit_notes_are_passing_testcases_with_their_message():
    root = ET.fromstring(render("junit", _odd_result()).encode("utf-8"))
    assert root.get("tests") == "3" and root.get("failures") == "2"
    note = next(c for c in root.iter("testcase") if c.get("file") == "z.yaml")
    assert note.find("failure") is None
    assert note.find("system-out").text == "z.yaml:1:1: note SAI003: a note"
    suites = {s.get("name"): (s.get("tests"), s.get("failures")) for s in root.findall("testsuite")}
    assert suites["z.yaml"] == ("1", "0") and suites["a,b:c/x.yaml"] == ("2", "2")


def test_junit_clean_has_no_failure(tmp_path):
    root = ET.fromstring(render("junit", scan(tmp_path, CLEAN)).encode("utf-8"))
    assert root.get("failures") == "0"
    assert root.findall(".//failure") == []
    assert len(root.findall(".//testcase")) == 1


def test_junit_survives_markup_and_control_characters():
    text = render("junit", _odd_result())
    root = ET.fromstring(text.encode("utf-8"))
    failures = root.findall(".//failure")
    assert len(failures) == 2  # the third finding is a note
    assert failures[1].get("message") == 'bell \ufffd <tag> & "quote"'


# --- GitLab Code Quality --------------------------------------------------------------------

SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def _check_gitlab_shape(issues: list) -> None:
    assert isinstance(issues, list)
    for issue in issues:
        assert isinstance(issue["description"], str) and issue["description"]
        assert re.fullmatch(r"SAI\d{3}", issue["check_name"])
        assert isinstance(issue["fingerprint"], str) and issue["fingerprint"]
        assert issue["severity"] in SEVERITIES
        assert isinstance(issue["location"]["path"], str) and not issue["location"]["path"].startswith("/")
        assert isinstance(issue["location"]["lines"]["begin"], int) and issue["location"]["lines"]["begin"] >= 1
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(fingerprints) == len(set(fingerprints))


def test_gitlab_code_quality_shape(tmp_path):
    result = scan(tmp_path, FILES)
    issues = json.loads(render("gitlab", result))
    _check_gitlab_shape(issues)
    assert len(issues) == len(result.findings)
    got = {(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"], i["severity"]) for i in issues}
    assert ("SAI001", "k8s/deploy.yaml", 4, "critical") in got
    assert ("SAI003", "requirements.txt", 1, "major") in got


def test_gitlab_clean_is_an_empty_list(tmp_path):
    assert json.loads(render("gitlab", scan(tmp_path, CLEAN))) == []


def test_gitlab_fingerprints_unique_even_for_identical_lines(tmp_path):
    # two identical broken files: same rule, same line text, different paths
    result = scan(tmp_path, {"a/x.yaml": "a: [\n", "b/x.yaml": "a: [\n", "c/x.yaml": "a: [\n"})
    issues = json.loads(render("gitlab", result))
    assert len(issues) == 3
    _check_gitlab_shape(issues)
    odd = json.loads(render("gitlab", _odd_result()))
    _check_gitlab_shape(odd)
    assert [i["severity"] for i in odd] == ["critical", "major", "minor"]


def test_github_from_sarif_tolerates_a_sparse_log():
    log = {"runs": [{"results": [{"ruleId": "SAI001", "message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a%20b.yaml"}, "region": {"startLine": None}}}]}]}, {}]}
    assert from_sarif(log) == "::warning file=a b.yaml,line=1,col=1,title=SAI001::m\n"
    assert from_sarif({}) == ""


def test_text_keeps_each_finding_on_one_clickable_line():
    out = render("text", _odd_result()).splitlines()
    assert out[0] == "a,b:c/x.yaml:3:5: error SAI001 line one line two: 100% broken, really [parse-error]"
    assert out[5] == "a,b:c/x.yaml:9:1: warning SAI002 bell \ufffd <tag> & \"quote\" [file-not-analyzed]"
