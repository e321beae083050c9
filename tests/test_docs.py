"""Documentation that must not drift from the code."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from safeai_lint.catalog import RULE_ID, all_rules

ROOT = Path(__file__).resolve().parent.parent


def test_readme_rule_table_matches_the_catalog():
    expected = subprocess.run([sys.executable, str(ROOT / "scripts/rule_table.py")], capture_output=True, text=True, check=True).stdout.strip()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- rules:start -->\n(.*?)\n<!-- rules:end -->", readme, re.S).group(1).strip()
    assert table == expected, "run: python scripts/rule_table.py --write"


def test_rule_files_are_well_formed():
    rules = all_rules()
    names = [r.name for r in rules.values()]
    assert len(names) == len(set(names))
    for doc in rules.values():
        assert RULE_ID.match(doc.id)
        assert doc.level in ("error", "warning", "note")
        assert doc.summary and doc.rationale and doc.remediation, doc.id
        assert len(doc.tags) <= 10, doc.id
        assert len(doc.summary) <= 1024 and len(doc.rationale) <= 4000, doc.id


def test_rule_ids_and_names_match_the_public_catalog():
    # the contract of RULES.md: ids and names never change
    contract = {
        "SAI001": "parse-error", "SAI002": "file-not-analyzed", "SAI003": "invalid-suppression",
        "SAI004": "unused-suppression", "SAI005": "incoherent-lock-table",
        "SAI101": "version-mismatch", "SAI102": "version-not-pinned", "SAI103": "cuda-build-mismatch",
        "SAI104": "version-drift", "SAI105": "untrusted-package-index",
        "SAI201": "untrusted-base-image", "SAI202": "floating-image-tag", "SAI203": "image-not-digest-pinned",
        "SAI204": "unpinned-package-install", "SAI205": "runtime-package-install", "SAI206": "unresolved-image",
        "SAI301": "missing-resource-limits", "SAI302": "gpu-not-in-limits", "SAI303": "requests-not-equal-limits",
        "SAI304": "gpu-sharing", "SAI305": "memory-profile-missing", "SAI306": "memory-limit-off-profile",
        "SAI307": "gpu-memory-fraction-too-high", "SAI308": "wrong-instance-type", "SAI309": "missing-probes",
        "SAI401": "unbounded-retries", "SAI402": "retry-without-backoff", "SAI403": "retry-without-jitter",
        "SAI404": "inference-timeout", "SAI405": "missing-circuit-breaker", "SAI406": "rate-limit-too-high",
        "SAI407": "rate-limit-not-per-key", "SAI501": "token-budget-missing", "SAI502": "token-budget-too-large",
        "SAI503": "untruncated-tokenization", "SAI504": "request-size-unbounded", "SAI601": "unquantized-model",
        "SAI602": "runtime-weight-download", "SAI603": "hub-download-at-runtime",
        "SAI604": "missing-cuda-cache-release", "SAI605": "allocator-not-configured",
        "SAI701": "metrics-not-scraped", "SAI702": "required-metric-missing", "SAI703": "alert-rule-missing",
        "SAI704": "alert-threshold-mismatch", "SAI801": "unvalidated-embedding-write",
        "SAI802": "embedding-dimension-mismatch",
    }
    levels = {"SAI002": "warning", "SAI003": "warning", "SAI004": "note", "SAI005": "warning", "SAI104": "warning", "SAI105": "warning",
              "SAI203": "warning", "SAI204": "warning", "SAI206": "note", "SAI303": "warning", "SAI305": "note", "SAI306": "warning",
              "SAI309": "warning", "SAI403": "warning", "SAI407": "warning", "SAI503": "warning", "SAI504": "warning",
              "SAI603": "warning", "SAI604": "note", "SAI605": "note", "SAI704": "warning", "SAI801": "warning"}
    for rule_id, doc in all_rules().items():
        assert rule_id in contract, f"{rule_id} is not in RULES.md"
        assert doc.name == contract[rule_id]
        assert doc.level == levels.get(rule_id, "error"), rule_id


def test_the_fast_rule_index_agrees_with_the_full_catalog():
    from safeai_lint.catalog import rule_index

    full = {r.id: (r.name, r.level) for r in all_rules().values()}
    fast = {r.id: (r.name, r.level) for r in rule_index().values()}
    assert fast == full
    for path in sorted((ROOT / "rules").glob("SAI*.yaml")):
        head = path.read_text(encoding="utf-8").splitlines()[:3]
        assert [line.split(":")[0] for line in head] == ["id", "name", "level"], path.name


def test_json_twins_of_the_rule_data_tables_match_their_yaml():
    from safeai_lint.sources.yaml import load_plain, plain

    for name in ("policy", "compat", "official-images"):
        yaml_data = plain(load_plain((ROOT / "rules" / f"{name}.yaml").read_text(encoding="utf-8")))
        json_data = json.loads((ROOT / "rules" / f"{name}.json").read_text(encoding="utf-8"))
        assert json_data == yaml_data, "run: python scripts/rules_json.py --write"
        assert list(json_data) == list(yaml_data)  # same key order: `safeai-lint policy` prints it


def test_json_twin_of_the_rule_files_matches_them_and_is_what_the_catalog_loads():
    from safeai_lint.catalog import _rule
    from safeai_lint.sources.yaml import load_plain, plain

    twin = json.loads((ROOT / "rules" / "catalog.json").read_text(encoding="utf-8"))["rules"]
    paths = sorted((ROOT / "rules").glob("SAI*.yaml"))
    assert list(twin) == [p.stem for p in paths], "run: python scripts/rules_json.py --write"
    for path in paths:
        assert twin[path.stem] == plain(load_plain(path.read_text(encoding="utf-8"))), "run: python scripts/rules_json.py --write"
    assert all_rules() == {doc.id: doc for doc in (_rule(plain(load_plain(p.read_text(encoding="utf-8")))) for p in paths)}


def test_a_rule_file_edited_after_the_twin_was_written_is_read_from_its_yaml(tmp_path, monkeypatch):
    import shutil

    from safeai_lint import catalog

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = rules / "SAI307.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("summary: A serving launch", "summary: EDITED A serving launch", 1), encoding="utf-8")
    monkeypatch.setattr(catalog, "rules_dir", lambda: rules)
    catalog.all_rules.cache_clear()
    try:
        assert catalog.all_rules()["SAI307"].summary.startswith("EDITED")
    finally:
        catalog.all_rules.cache_clear()


def test_rule_pages_are_generated_from_the_catalog_and_complete():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts/rule_docs.py"), "--check"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout
    pages = {p.stem for p in (ROOT / "docs/rules").glob("SAI*.md")}
    assert pages == set(all_rules())
    page = (ROOT / "docs/rules/SAI307.md").read_text(encoding="utf-8")
    assert "# SAI307 gpu-memory-fraction-too-high" in page and "## How to fix" in page


def test_every_doc_link_the_reports_print_names_an_existing_page():
    from safeai_lint.catalog import doc_url

    prefix = "https://github.com/safeai-lint/safeai-lint/blob/main/"
    for rule in all_rules():
        assert doc_url(rule).startswith(prefix)
        assert (ROOT / doc_url(rule)[len(prefix):]).is_file(), rule


def test_readme_table_links_each_rule_to_its_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for rule in all_rules():
        assert f"[{rule}](docs/rules/{rule}.md)" in readme
