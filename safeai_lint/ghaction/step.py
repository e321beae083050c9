"""`python -m safeai_lint.ghaction.step`: the action's scan step.

Inputs arrive only through the environment (never through the script text), `args` is split
like a shell would split it (shlex: quotes honoured, nothing expanded or run), and the scan
runs in this process through the CLI's own entry point (no shell, no subprocess). The step always exits 0 so that the upload step runs;
the action's last step fails the job with the scan's exit status.
"""
from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

from .annotate import annotations
from .sarif_items import items, ordered
from .summary import render

# options the action sets itself: `args` may not redirect or replace the SARIF report
RESERVED = ("--format", "-f", "--output", "-o", "--write-baseline", "--fix", "--diff")


class InputError(Exception):
    """An input the action cannot use."""


def extra_args(text: str) -> list[str]:
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise InputError(f"input 'args' cannot be split: {exc}") from None
    for word in words:
        for opt in RESERVED:
            if word == opt or word.startswith(opt + "=") or (len(opt) == 2 and word.startswith(opt) and not word.startswith("--")):
                raise InputError(f"input 'args' may not contain {opt}: the action writes the SARIF report itself")
    return words


def command(env: dict[str, str], sarif: str) -> list[str]:
    """The `safeai-lint` arguments of the scan, from the action's inputs."""
    args = ["check", "--format", "sarif", "--output", sarif, "--mark-fixable", "--no-progress", "--no-cache"]
    for name, flag in (("SCAN_CONFIG", "--config"), ("SCAN_FAIL_ON", "--fail-on"), ("SCAN_DIFF_BASE", "--diff-base"), ("SCAN_BASELINE", "--baseline")):
        if env.get(name, "").strip():
            args += [flag, env[name].strip()]
    args += extra_args(env.get("SCAN_ARGS", ""))
    targets = env.get("SCAN_PATHS", "").split() or ["."]
    return [*args, "--", *targets]


def fork_pull_request(env: dict[str, str]) -> bool:
    """A pull request whose head is another repository: its token cannot upload SARIF."""
    head, repo = env.get("HEAD_REPO", ""), env.get("REPOSITORY", "")
    return env.get("EVENT_NAME", "").startswith("pull_request") and bool(head) and head != repo


def _root(log: dict) -> Path:
    uri = ((log.get("runs") or [{}])[0].get("originalUriBaseIds") or {}).get("%SRCROOT%", {}).get("uri", "")
    return Path(unquote(urlparse(uri).path)) if uri.startswith("file:") else Path.cwd()


def _changed(env: dict[str, str], root: Path) -> dict[str, set[int]] | None:
    """Lines the change touched: since `diff-base`, else on a pull request since its base
    branch (present only when the checkout fetched it, e.g. fetch-depth: 0)."""
    from ..diffbase import changed_lines

    ref = env.get("SCAN_DIFF_BASE", "").strip() or (f"origin/{env['GITHUB_BASE_REF']}" if env.get("GITHUB_BASE_REF") else "")
    return changed_lines(root, ref) if ref else None


def _append(path: str, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)


def run(env: dict[str, str]) -> int:
    raw = env.get("SARIF_FILE") or "safeai-lint.sarif"
    if any(c in raw for c in "\r\n\0"):
        print("::error title=safeai-lint::input 'sarif-file' may not contain a line break")
        _append(env.get("GITHUB_OUTPUT", ""), "exit-code=2\nupload=false\n")
        return 0
    sarif = os.path.abspath(raw)
    outputs = {"sarif-file": sarif}
    notes: list[str] = []
    upload = env.get("UPLOAD", "true") == "true"
    if upload and fork_pull_request(env):
        upload = False
        message = ("SARIF upload skipped: this pull request comes from a fork, whose token has no "
                   "security-events: write. The annotations and the job summary still show the findings.")
        print(f"::notice title=safeai-lint::{message}")
        notes.append(message)
    try:
        argv = command(env, sarif)
    except InputError as exc:
        print(f"::error title=safeai-lint::{exc}")
        outputs.update({"exit-code": "2", "upload": "false"})
        _append(env.get("GITHUB_OUTPUT", ""), "".join(f"{k}={v}\n" for k, v in outputs.items()))
        _append(env.get("GITHUB_STEP_SUMMARY", ""), f"## safeai-lint\n\nThe scan did not run: {exc}\n")
        return 0
    if os.path.exists(sarif):
        os.remove(sarif)
    from ..cli import main

    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    outputs["exit-code"] = str(code)
    try:
        with open(sarif, encoding="utf-8") as handle:
            log = json.load(handle)
    except (OSError, ValueError):
        print(f"::error title=safeai-lint::the scan wrote no SARIF (exit status {code}); see the log above")
        outputs["upload"] = "false"
        _append(env.get("GITHUB_OUTPUT", ""), "".join(f"{k}={v}\n" for k, v in outputs.items()))
        _append(env.get("GITHUB_STEP_SUMMARY", ""), render([], changed=None, exit_code=2, not_annotated=0, notes=notes))
        return 0
    changed = _changed(env, _root(log))
    found = ordered(items(log), changed)
    not_annotated = 0
    if env.get("ANNOTATE", "true") != "false":
        lines, not_annotated = annotations(found)
        sys.stdout.write("".join(line + "\n" for line in lines))
    else:
        not_annotated = len(found)
    outputs.update({"findings": str(len(found)), "sarif-written": "true", "upload": "true" if upload else "false", "not-annotated": str(not_annotated)})
    _append(env.get("GITHUB_OUTPUT", ""), "".join(f"{k}={v}\n" for k, v in outputs.items()))
    _append(env.get("GITHUB_STEP_SUMMARY", ""), render(found, changed=changed, exit_code=code, not_annotated=not_annotated, notes=notes))
    print(f"safeai-lint: {len(found)} finding(s), exit status {code}; SARIF in {sarif}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(dict(os.environ)))
