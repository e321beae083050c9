"""SARIF output: valid against the official 2.1.0 schema (format checks on), and shaped the
way GitHub code scanning ingests it (reference/sarif-action-hook.md §5)."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import pytest

from conftest import scan, write_tree
from safeai_lint.catalog import all_rules
from safeai_lint.engine import Result
from safeai_lint.facts import Location
from safeai_lint.findings import Finding
from safeai_lint.report import render

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
# FormatChecker() carries every format jsonschema knows, including `uri-reference` (which
# artifactLocation.uri uses); the draft-4 checker alone would skip it silently.
VALIDATOR = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker())

BROKEN_YAML = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: genai\nspec: {}\n"


def sarif(result: Result, **options) -> dict:
    return json.loads(render("sarif", result, **options))


def schema_errors(log: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(log)]


def ingestion_problems(log: dict) -> list[str]:
    """What GitHub code scanning would reject or misplace."""
    problems = []
    runs = log.get("runs")
    if not isinstance(runs, list) or len(runs) != 1:
        return [f"expected exactly one run, got {runs!r:.80}"]
    run = runs[0]
    if "automationDetails" in run:
        problems.append("automationDetails hard-coded (users set the category)")
    rules = run["tool"]["driver"].get("rules")
    if not isinstance(rules, list):
        problems.append("driver.rules missing")
        rules = []
    ids = [r["id"] for r in rules]
    if len(ids) != len(set(ids)):
        problems.append("duplicate rule ids")
    for r in rules:
        for key in ("shortDescription", "fullDescription"):
            if not r.get(key, {}).get("text") or len(r[key]["text"]) > 1024:
                problems.append(f"{r['id']}: {key} empty or over 1024 characters")
        if not r.get("help", {}).get("text") or not r["help"].get("markdown"):
            problems.append(f"{r['id']}: help text/markdown missing")
        if len(r.get("properties", {}).get("tags", [])) > 10:
            problems.append(f"{r['id']}: more than 10 tags")
    results = run.get("results")
    if not isinstance(results, list):
        return problems + ["results missing (GitHub rejects the file)"]
    if len(results) > 25_000:
        problems.append("over 25,000 results")
    if results and run.get("columnKind") not in ("unicodeCodePoints", "utf16CodeUnits"):
        problems.append("columnKind not declared")
    base = run.get("originalUriBaseIds", {}).get("%SRCROOT%", {}).get("uri", "")
    if results and not (base.startswith("file:///") and base.endswith("/")):
        problems.append(f"%SRCROOT% is not an absolute file URI ending in '/': {base!r}")
    for res in results:
        idx = res.get("ruleIndex")
        if not isinstance(idx, int) or not 0 <= idx < len(ids) or ids[idx] != res.get("ruleId"):
            problems.append(f"ruleIndex {idx} does not point at {res.get('ruleId')}")
        if res.get("level") not in ("error", "warning", "note"):
            problems.append(f"bad level {res.get('level')}")
        if not res.get("message", {}).get("text"):
            problems.append("empty message")
        locations = res.get("locations") or []
        if len(locations) != 1:
            problems.append(f"{len(locations)} locations")
            continue
        phys = locations[0]["physicalLocation"]
        uri = phys["artifactLocation"]["uri"]
        if phys["artifactLocation"].get("uriBaseId") != "%SRCROOT%":
            problems.append(f"{uri}: no %SRCROOT% base")
        if ":" in uri.split("/")[0] or uri.startswith("/") or "\\" in uri or ".." in unquote(uri).split("/"):
            problems.append(f"{uri}: not a relative POSIX URI inside the repository")
        region = phys["region"]
        if region.get("startLine", 0) < 1 or region.get("startColumn", 0) < 1 or region.get("endLine", 1) < region.get("startLine", 1):
            problems.append(f"{uri}: bad region {region}")
        if region.get("endLine") == region.get("startLine") and "endColumn" in region and region["endColumn"] <= region["startColumn"]:
            problems.append(f"{uri}: empty or inverted column span {region}")
        if not res.get("partialFingerprints", {}).get("primaryLocationLineHash"):
            problems.append(f"{uri}: no primaryLocationLineHash")
    return problems


def assert_valid(log: dict) -> None:
    assert schema_errors(log) == []
    assert ingestion_problems(log) == []


# --- the validator itself must be able to fail ---------------------------------------------


def test_format_checking_rejects_a_bad_uri_reference_and_a_bad_uri(tmp_path):
    log = sarif(scan(tmp_path, {"k8s/deploy.yaml": BROKEN_YAML}))
    assert_valid(log)
    bad_ref = copy.deepcopy(log)
    bad_ref["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "k8s/my deploy.yaml"
    assert any("uri-reference" in e for e in schema_errors(bad_ref))
    bad_uri = copy.deepcopy(log)
    bad_uri["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] = "rules/SAI001.yaml"
    assert any("uri" in e for e in schema_errors(bad_uri))
    no_results = copy.deepcopy(log)
    del no_results["runs"][0]["results"]
    assert "results missing (GitHub rejects the file)" in ingestion_problems(no_results)


# --- real scans -----------------------------------------------------------------------------


def test_clean_repository_has_an_empty_results_array(tmp_path):
    result = scan(tmp_path, {"k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"})
    text = render("sarif", result)
    log = json.loads(text)
    assert_valid(log)
    run = log["runs"][0]
    assert run["results"] == [] and '"results": []' in text
    assert run["invocations"] == [{"executionSuccessful": True}]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [d.id for d in result.rules]
    assert run["tool"]["driver"]["name"] == "safeai-lint"
    assert run["tool"]["driver"]["semanticVersion"]


def test_parse_error_result_fields(tmp_path):
    log = sarif(scan(tmp_path, {"k8s/deploy.yaml": BROKEN_YAML}))
    assert_valid(log)
    run = log["runs"][0]
    [res] = run["results"]
    assert res["ruleId"] == "SAI001" and res["level"] == "error"
    assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == "SAI001"
    phys = res["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"] == {"uri": "k8s/deploy.yaml", "uriBaseId": "%SRCROOT%"}
    assert phys["region"]["startLine"] == 4
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    rule = run["tool"]["driver"]["rules"][res["ruleIndex"]]
    assert rule["helpUri"] == "https://github.com/safeai-lint/safeai-lint/blob/main/docs/rules/SAI001.md"
    assert rule["help"]["markdown"].startswith("# SAI001 parse-error")
    assert "```" not in rule["help"]["text"] and "**" not in rule["help"]["text"]
    assert rule["defaultConfiguration"]["level"] == "error"


def test_suppression_without_reason_and_skipped_file(tmp_path):
    result = scan(
        tmp_path,
        {
            "requirements.txt": "torch==2.1.0  # safeai-lint: ignore[SAI102]\n",
            "requirements-dev.txt": b"torch==2.1\xff\n",
        },
    )
    log = sarif(result)
    assert_valid(log)
    run = log["runs"][0]
    got = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run["results"]}
    assert ("SAI003", "requirements.txt", 1) in got
    assert ("SAI002", "requirements-dev.txt", 1) in got
    [note] = run["invocations"][0]["toolExecutionNotifications"]
    assert note["associatedRule"]["id"] == "SAI002"
    assert run["tool"]["driver"]["rules"][note["associatedRule"]["index"]]["id"] == "SAI002"
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "requirements-dev.txt"
    assert run["invocations"][0]["executionSuccessful"] is True


def test_non_ascii_line_columns_are_code_points_and_path_is_percent_encoded(tmp_path):
    line = 'name: "日本語 café" {'
    result = scan(tmp_path, {"k8s/dé ploy.yaml": f"a: 1\n{line}\n"})
    log = sarif(result)
    assert_valid(log)
    run = log["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    [res] = run["results"]
    phys = res["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"]["uri"] == "k8s/d%C3%A9%20ploy.yaml"
    assert phys["region"]["startLine"] == 2
    # the YAML error points at the '{' after the non-ASCII text: code points, not UTF-8 bytes
    assert phys["region"]["startColumn"] == line.index("{") + 1
    assert line.encode().index(b"{") + 1 != line.index("{") + 1


@pytest.mark.parametrize(
    "rule_id, example_index",
    [(doc.id, i) for doc in all_rules().values() for i, ex in enumerate(doc.examples) if ex.bad],
)
def test_every_bad_rule_example_gives_valid_sarif(tmp_path, rule_id, example_index):
    """Findings of every family present so far: each rule's documented bad examples."""
    example = all_rules()[rule_id].examples[example_index]
    files = dict(example.files)
    if example.config:
        files[".safeai-lint.yaml"] = example.config
    log = sarif(scan(tmp_path, files))
    assert_valid(log)
    fired = {(r["ruleId"], unquote(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]), r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in log["runs"][0]["results"]}
    assert {(rule_id, p, n) for p, n in example.expect} <= fired


# --- determinism and fingerprints ----------------------------------------------------------


def test_two_runs_and_another_working_directory_give_identical_bytes(tmp_path):
    repo = write_tree(tmp_path / "repo", {"k8s/deploy.yaml": BROKEN_YAML, "requirements.txt": "torch==2.1.0  # safeai-lint: ignore[SAI102]\n", "b/x.yaml": "a: [\n"})
    outputs = []
    for i, cwd in enumerate((repo, repo, tmp_path, repo / "k8s")):
        out = tmp_path / f"out{i}.sarif"
        proc = subprocess.run(
            [sys.executable, "-m", "safeai_lint", "check", str(repo), "--format", "sarif", "--output", str(out), "--jobs", str(1 + i % 2)],
            cwd=cwd, capture_output=True, env={**os.environ, "NO_COLOR": "1"}, check=False,
        )
        assert proc.stdout == b""  # nothing but the report, and that went to the file
        outputs.append(out.read_bytes())
    assert len(set(outputs)) == 1
    assert_valid(json.loads(outputs[0]))


def test_stdout_carries_only_the_sarif(tmp_path):
    repo = write_tree(tmp_path / "repo", {"k8s/deploy.yaml": BROKEN_YAML})
    proc = subprocess.run([sys.executable, "-m", "safeai_lint", "check", ".", "--format", "sarif"], cwd=repo, capture_output=True, check=False)
    assert_valid(json.loads(proc.stdout.decode("utf-8")))


def test_fingerprint_survives_blank_lines_inserted_above(tmp_path):
    before = sarif(scan(tmp_path / "a", {"k8s/deploy.yaml": BROKEN_YAML}))["runs"][0]["results"][0]
    after = sarif(scan(tmp_path / "b", {"k8s/deploy.yaml": ("\n\n\n" + BROKEN_YAML).encode()}))["runs"][0]["results"][0]
    region = lambda r: r["locations"][0]["physicalLocation"]["region"]["startLine"]  # noqa: E731
    assert (region(before), region(after)) == (4, 7)
    assert before["partialFingerprints"] == after["partialFingerprints"]
    other = sarif(scan(tmp_path / "c", {"k8s/deploy.yaml": BROKEN_YAML.replace("spec: {}", "spec: {replicas: 2}")}))["runs"][0]["results"][0]
    assert other["partialFingerprints"] != before["partialFingerprints"]


# --- the 25,000-result cap -----------------------------------------------------------------


def _synthetic(n: int, error_at: int) -> Result:
    rules = tuple(all_rules()[r] for r in ("SAI001", "SAI003"))
    findings = tuple(
        Finding(
            "SAI001" if i == error_at else "SAI003",
            f"finding {i}",
            Location(f"dir/f{i // 1000}.yaml", i % 1000 + 1, 1, i % 1000 + 1, 4),
            level="error" if i == error_at else "warning",
            fingerprint=f"{i:032x}",
        )
        for i in range(n)
    )
    return Result(findings=findings, rules=rules, files_scanned=n // 1000 + 1, root="/repo")


def test_results_are_capped_at_25000_with_a_notification():
    log = sarif(_synthetic(25_001, error_at=25_000))
    run = log["runs"][0]
    assert len(run["results"]) == 25_000
    assert ingestion_problems(log) == []
    # the one error is kept; a warning made room for it
    assert run["results"][-1]["ruleId"] == "SAI001" and run["results"][-1]["message"]["text"] == "finding 25000"
    [note] = run["invocations"][0]["toolExecutionNotifications"]
    assert "25,001 findings" in note["message"]["text"] and "1 lower-level" in note["message"]["text"]


def test_capped_log_is_schema_valid():
    log = sarif(_synthetic(5, error_at=2), max_results=3)
    assert_valid(log)
    assert [r["message"]["text"] for r in log["runs"][0]["results"]] == ["finding 0", "finding 1", "finding 2"]
    assert len(log["runs"][0]["invocations"][0]["toolExecutionNotifications"]) == 1


def test_exactly_at_the_cap_no_notification():
    log = sarif(_synthetic(4, error_at=0), max_results=4)
    assert len(log["runs"][0]["results"]) == 4
    assert "toolExecutionNotifications" not in log["runs"][0]["invocations"][0]


def test_results_fix_can_fix_are_marked_fixable_and_help_links_the_rule_page(tmp_path):
    repo = write_tree(tmp_path / "repo", {"requirements.txt": "torch>=2.0\ntorch-extra @ https://x/y.whl\n", "Dockerfile": "FROM ubuntu:22.04\n"})
    plain = subprocess.run([sys.executable, "-m", "safeai_lint", "check", ".", "--format", "sarif"], cwd=repo, capture_output=True, check=False)
    assert all("properties" not in r for r in json.loads(plain.stdout)["runs"][0]["results"])  # only when asked: it reads files
    proc = subprocess.run([sys.executable, "-m", "safeai_lint", "check", ".", "--format", "sarif", "--mark-fixable"], cwd=repo, capture_output=True, check=False)
    log = json.loads(proc.stdout.decode("utf-8"))
    assert_valid(log)
    results = log["runs"][0]["results"]
    marked = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results if r.get("properties", {}).get("fixable")}
    assert marked == {("SAI102", "requirements.txt")}
    assert any(r["ruleId"].startswith("SAI2") and "properties" not in r for r in results)  # no fixer for base images
    for rule in log["runs"][0]["tool"]["driver"]["rules"]:
        assert rule["helpUri"] == f"https://github.com/safeai-lint/safeai-lint/blob/main/docs/rules/{rule['id']}.md"
