"""Config waivers: a waived finding disappears only while the waiver is valid; an invalid
waiver is SAI003 at its line in the config and the finding comes back."""
from __future__ import annotations

import datetime as dt

from conftest import hits, scan

REQS = "torch==2.1.0\ntransformers==4.36.2\n"  # line 2: SAI101 (lock 4.34.0), subject transformers
REPORT = "docs/perf/tf-4.36.md"


def _config(**fields: str) -> str:
    body = "".join(f"    {key}: {value}\n" for key, value in fields.items())
    return "waivers:\n" + body.replace("    ", "  - ", 1)


def _valid(**override: str) -> dict[str, str]:
    fields = {
        "rule": "SAI101",
        "paths": "[requirements.txt]",
        "component": "transformers",
        "reason": '"chat template fix"',
        "until": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
        "report": REPORT,
    }
    fields.update(override)
    return {k: v for k, v in fields.items() if v != ""}


def _scan(tmp_path, config: str, report: bool = True):
    files = {"requirements.txt": REQS, ".safeai-lint.yaml": config}
    if report:
        files[REPORT] = "# regression report\np99 unchanged\n"
    return scan(tmp_path, files)


def _messages(result, rule: str) -> list[str]:
    return [f.message for f in result.findings if f.rule == rule]


def test_valid_waiver_silences_the_finding(tmp_path):
    result = _scan(tmp_path, _config(**_valid()))
    assert hits(result) == set()


def test_waiver_valid_through_its_until_day(tmp_path):
    result = _scan(tmp_path, _config(**_valid(until=dt.date.today().isoformat())))
    assert hits(result) == set()


def test_expired_waiver_is_sai003_and_the_finding_returns(tmp_path):
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    result = _scan(tmp_path, _config(**_valid(until=yesterday)))
    assert hits(result) == {("SAI101", "requirements.txt", 2), ("SAI003", ".safeai-lint.yaml", 2)}
    assert f"expired on {yesterday}" in _messages(result, "SAI003")[0]


def test_missing_report_file_is_sai003(tmp_path):
    result = _scan(tmp_path, _config(**_valid()), report=False)
    assert hits(result) == {("SAI101", "requirements.txt", 2), ("SAI003", ".safeai-lint.yaml", 2)}
    assert REPORT in _messages(result, "SAI003")[0]


def test_version_upgrade_waiver_without_report_is_sai003(tmp_path):
    # the standard: an upgrade beyond the lock needs its performance regression report
    result = _scan(tmp_path, _config(**_valid(report="")))
    assert hits(result) == {("SAI101", "requirements.txt", 2), ("SAI003", ".safeai-lint.yaml", 2)}
    assert "report" in _messages(result, "SAI003")[0]


def test_other_rules_need_no_report(tmp_path):
    config = _config(rule="SAI102", paths="[requirements.txt]", reason="range resolved by constraints")
    result = scan(tmp_path, {"requirements.txt": "torch>=2.0\n", ".safeai-lint.yaml": config})
    assert hits(result) == set()


def test_report_outside_the_repository_does_not_count(tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text("report\n", encoding="utf-8")
    (tmp_path / "repo").mkdir()
    result = scan(tmp_path / "repo", {"requirements.txt": REQS, ".safeai-lint.yaml": _config(**_valid(report="../outside.md"))})
    assert hits(result) == {("SAI101", "requirements.txt", 2), ("SAI003", ".safeai-lint.yaml", 2)}


def test_missing_reason_is_sai003(tmp_path):
    result = _scan(tmp_path, _config(**_valid(reason="")))
    assert hits(result) == {("SAI101", "requirements.txt", 2), ("SAI003", ".safeai-lint.yaml", 2)}
    assert "no reason" in _messages(result, "SAI003")[0]


def test_unknown_rule_is_sai003(tmp_path):
    result = _scan(tmp_path, _config(**_valid(rule="SAI999")))
    assert hits(result) == {("SAI101", "requirements.txt", 2), ("SAI003", ".safeai-lint.yaml", 2)}
    assert "unknown rule 'SAI999'" in _messages(result, "SAI003")[0]


def test_path_glob_that_does_not_match_waives_nothing(tmp_path):
    result = _scan(tmp_path, _config(**_valid(paths="[services/*/requirements.txt]")))
    # the finding stays, and the waiver that matched nothing is reported as unused
    assert hits(result) == {("SAI101", "requirements.txt", 2), ("SAI004", ".safeai-lint.yaml", 2)}


def test_path_glob_matches_nested_files(tmp_path):
    config = _config(**_valid(paths="[services/*/requirements.txt]"))
    result = scan(tmp_path, {
        "services/api/requirements.txt": REQS,
        "requirements.txt": REQS,
        ".safeai-lint.yaml": config,
        REPORT: "report\n",
    })
    assert hits(result) == {("SAI101", "requirements.txt", 2)}


def test_component_must_match_the_finding_subject(tmp_path):
    reqs = "torch==2.2.0\ntransformers==4.36.2\n"
    result = scan(tmp_path, {"requirements.txt": reqs, ".safeai-lint.yaml": _config(**_valid()), REPORT: "r\n"})
    # only transformers is waived; torch 2.2.0 still breaks the lock
    assert hits(result) == {("SAI101", "requirements.txt", 1)}


def test_component_that_matches_nothing_is_unused(tmp_path):
    result = _scan(tmp_path, _config(**_valid(component="triton")))
    assert hits(result) == {("SAI101", "requirements.txt", 2), ("SAI004", ".safeai-lint.yaml", 2)}


def test_waiver_without_component_covers_every_component(tmp_path):
    reqs = "torch==2.2.0\ntransformers==4.36.2\n"
    result = scan(tmp_path, {"requirements.txt": reqs, ".safeai-lint.yaml": _config(**_valid(component="")), REPORT: "r\n"})
    assert hits(result) == set()


def test_second_waiver_line_is_reported_at_its_own_line(tmp_path):
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    config = _config(**_valid()) + _config(**_valid(until=yesterday, component="torch")).replace("waivers:\n", "")
    reqs = "torch==2.2.0\ntransformers==4.36.2\n"
    result = scan(tmp_path, {"requirements.txt": reqs, ".safeai-lint.yaml": config, REPORT: "r\n"})
    assert hits(result) == {("SAI101", "requirements.txt", 1), ("SAI003", ".safeai-lint.yaml", 8)}
