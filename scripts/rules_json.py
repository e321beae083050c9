"""Write rules/policy.json, compat.json, official-images.json and catalog.json (every SAIxxx.yaml, by
id) from the YAML files people edit (--write), or print what they should hold.

Why JSON twins: a scan loads the default policy and the compatibility table on every run, and
for a scan that reads no YAML file (one Dockerfile in a pre-commit hook) importing PyYAML alone
costs more than a tenth of the run; a SARIF report describes every rule, and parsing the 47
rule files cost 85 ms. tests/test_docs.py fails when a twin and its YAML disagree.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from safeai_lint.sources.yaml import load_plain, plain  # noqa: E402

NAMES = ("policy", "compat", "official-images")


def twin(name: str) -> str:
    data = plain(load_plain((ROOT / "rules" / f"{name}.yaml").read_text(encoding="utf-8")))
    # no sort: the policy's key order is the order `safeai-lint policy` prints
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def catalog_twin() -> str:
    """Every rule file's data by id, and the CRC-32 of each file's bytes: the catalog uses the
    twin only while every checksum still matches (an edited rule file is read as YAML)."""
    from safeai_lint.catalog import source_checksums

    paths = sorted((ROOT / "rules").glob("SAI*.yaml"))
    data = {"checksums": source_checksums(paths), "rules": {p.stem: plain(load_plain(p.read_text(encoding="utf-8"))) for p in paths}}
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    twins = {name: twin(name) for name in NAMES}
    twins["catalog"] = catalog_twin()
    for name, text in twins.items():
        if "--write" in sys.argv:
            (ROOT / "rules" / f"{name}.json").write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(f"--- rules/{name}.json\n{text}")
