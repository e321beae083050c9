"""JUnit XML: one test suite per file with findings, one test case per finding, so CI
systems that only understand test reports (Jenkins, GitLab, Azure) still gate on the scan.
Errors and warnings are failing test cases; a note is a passing one whose message is in its
`system-out` (a note never fails a build by default, so it must not read as a failure)."""
from __future__ import annotations

import re
from itertools import groupby
from xml.etree import ElementTree as ET

# characters XML 1.0 cannot carry at all; they can come from a scanned file's bytes
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def render(result, **_options) -> str:  # noqa: ANN001 - engine.Result
    names = {doc.id: doc.name for doc in result.rules}
    findings = list(result.findings)
    failing = sum(1 for f in findings if f.level != "note")
    root = ET.Element("testsuites", name="safeai-lint", tests=str(max(len(findings), 1)), failures=str(failing), errors="0")
    if not findings:
        # a report with no test case reads as "nothing ran" in most CI viewers
        suite = ET.SubElement(root, "testsuite", name="safeai-lint", tests="1", failures="0", errors="0", skipped="0")
        ET.SubElement(suite, "testcase", name=f"no findings in {result.files_scanned} file(s)", classname="safeai-lint")
    for path, group in groupby(findings, key=lambda f: f.location.path):
        cases = list(group)
        fails = sum(1 for f in cases if f.level != "note")
        suite = ET.SubElement(
            root, "testsuite", name=_clean(path), tests=str(len(cases)), failures=str(fails), errors="0", skipped="0"
        )
        for f in cases:
            loc = f.location
            title = f"{f.rule} {names.get(f.rule, '')}".strip()
            case = ET.SubElement(suite, "testcase", name=_clean(f"{title} at {path}:{loc.line}:{loc.column}"), classname=_clean(path), file=_clean(path), line=str(loc.line))
            text = _clean(f"{path}:{loc.line}:{loc.column}: {f.level} {f.rule}: {f.message}\n{f.snippet.rstrip()}".rstrip())
            if f.level == "note":
                ET.SubElement(case, "system-out").text = text
                continue
            failure = ET.SubElement(case, "failure", message=_clean(f.message), type=f"{f.rule} ({f.level})")
            failure.text = text
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
