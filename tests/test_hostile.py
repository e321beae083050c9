"""Hostile input: every case of tests/fixtures/hostile/ scanned by the real CLI in its own process.

Each case must end with exit 0 or 1 (never 2, never a hang), within 10 s of CPU and 300 MB
of peak memory, with the SAI001/SAI002 finding due, and must leave no sentinel file behind.
CPU time (not wall time) is the budget: the suite shares its machine with other jobs.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
_spec = importlib.util.spec_from_file_location("make_hostile", HOSTILE / "make_hostile.py")
make_hostile = importlib.util.module_from_spec(_spec)
sys.modules["make_hostile"] = make_hostile  # dataclasses look the module up by name
_spec.loader.exec_module(make_hostile)

CPU_SECONDS = 10.0
PEAK_MB = 300
HANG_SECONDS = 180  # far above the budget: only a hang reaches it

# Runs the CLI in-process and reports its own peak RSS and CPU time on stderr's last line, so
# the figures belong to this one scan (RUSAGE_CHILDREN would mix every earlier child).
_WRAPPER = (
    "import resource, sys\n"
    "from safeai_lint.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "u = resource.getrusage(resource.RUSAGE_SELF)\n"
    "sys.stderr.write(f'\\nRUSAGE {u.ru_maxrss} {u.ru_utime + u.ru_stime}\\n')\n"
    "sys.exit(code)\n"
)


def run_cli(args: list[str], cwd: Path, stdin: bytes | None = None) -> tuple[int, dict, float, float, str]:
    """(exit code, JSON report, peak MB, CPU seconds, stderr without the RUSAGE line)."""
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, "check", *args, "--format", "json", "--jobs", "1", "--no-progress"],
        cwd=cwd, input=stdin, capture_output=True, timeout=HANG_SECONDS, check=False,
    )
    err = proc.stderr.decode("utf-8", "replace")
    head, _, tail = err.rpartition("RUSAGE ")
    assert tail, f"no resource figures; the process died? rc={proc.returncode} stderr={err[-2000:]}"
    rss_kb, cpu = tail.split()
    report = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, report, int(rss_kb) / 1024, float(cpu), head.strip()


@pytest.mark.parametrize("case", make_hostile.CASES, ids=lambda c: c.name)
def test_hostile_case(case, tmp_path: Path) -> None:
    sentinel = tmp_path / "SENTINEL"
    folder = make_hostile.build(case, tmp_path / "cases", sentinel)
    code, report, peak_mb, cpu, stderr = run_cli([str(folder)], cwd=tmp_path)

    assert code in (0, 1), f"exit {code}: {stderr}"
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert cpu <= CPU_SECONDS, f"{case.name}: {cpu:.1f} s of CPU, over {CPU_SECONDS} s"
    assert peak_mb <= PEAK_MB, f"{case.name}: {peak_mb:.0f} MB peak, over {PEAK_MB} MB"
    assert not sentinel.exists(), f"{case.name}: a payload was executed: {sentinel.read_text()!r}"

    found = {(f["rule"], f["path"], f["line"]) for f in report["findings"]}
    for rule, path, line in case.due:
        if line:
            assert (rule, path, line) in found, f"missing {rule} at {path}:{line}; found {sorted(found)[:20]}"
        else:
            assert any(r == rule and p == path for r, p, _ in found), f"missing {rule} on {path}; found {sorted(found)[:20]}"
    for rule, path in case.absent:
        assert not any(r == rule and p == path for r, p, _ in found), f"{rule} must not fire on {path}"
    for rule, path, line in found:
        if path in case.engine_only:
            assert rule in ("SAI001", "SAI002"), f"{rule} on {path}:{line} (only a parse/skip finding is expected there)"
    for rule, text in case.messages.items():
        messages = [f["message"] for f in report["findings"] if f["rule"] == rule]
        assert messages and any(text in m for m in messages), f"{rule} messages {messages} should say {text!r}"
    for f in report["findings"]:  # a traceback never leaks into a message
        assert "Traceback" not in f["message"] and "\n  File " not in f["message"]


def test_every_case_is_distinct_and_named() -> None:
    names = [c.name for c in make_hostile.CASES]
    assert len(names) == len(set(names))
    for name in ("billion-laughs", "deep-yaml", "deep-json", "deep-python", "huge-file", "invalid-utf8", "utf16-bom",
                 "nul-bytes", "crlf", "long-line", "many-documents", "odd-names", "fifo", "symlink-loop",
                 "symlink-out", "payloads", "long-dockerfile"):
        assert name in names


@pytest.mark.parametrize(
    ("name", "data", "rule"),
    [
        ("values.yaml", b"a: 1\x00\n", "SAI002"),
        ("values.yaml", b"a: \xff\n", "SAI002"),
        ("requirements.txt", b"\xff\xfe" + "torch>=2.0\n".encode("utf-16-le"), "SAI102"),
        ("Dockerfile", b"FROM scratch\nRUN \\\n" + b" a \\\n" * 10_050 + b" b\n", "SAI002"),
        ("app.py", b"import requests\nx = " + b"-" * 50_000 + b"1\n", "SAI002"),
    ],
)
def test_hostile_stdin(name: str, data: bytes, rule: str, tmp_path: Path) -> None:
    code, report, peak_mb, cpu, stderr = run_cli(["-", "--stdin-filename", name], cwd=tmp_path, stdin=data)
    assert code in (0, 1), stderr
    assert cpu <= CPU_SECONDS and peak_mb <= PEAK_MB
    assert rule in {f["rule"] for f in report["findings"] if f["path"] == name}


# --- the bounds added for this corpus must not refuse ordinary files (near misses) -----------


def test_python_bounds_refuse_only_pathological_sources() -> None:
    from safeai_lint.sources.base import SourceText
    from safeai_lint.sources.python import module

    def parsed(text: str) -> bool:
        src = SourceText("app.py", "python", "import requests\n" + text)
        return module(src) is not None and not src.diagnostics

    vector = "EMBEDDING = [" + ", ".join(f"-0.{i:04d}" for i in range(4096)) + "]\n"  # a 40 KB line
    assert parsed(vector)
    assert parsed("x = 'a.b-c+d' * 2 + '" + ".-+" * 20_000 + "'\n")  # operators inside a string
    assert parsed("x = " + " + ".join(["1"] * 900) + "\n")  # long but shallow enough for CPython
    assert parsed("def f():\n    return requests.get('u', timeout=5)\n" * 4000)  # 200 KB of code
    assert not parsed("x = " + "-" * 12_000 + "1\n")
    assert not parsed("x = [" + "1," * 250_000 + "]\n")


def test_dockerfile_bounds_refuse_only_pathological_files() -> None:
    from safeai_lint.sources.base import SourceText
    from safeai_lint.sources.dockerfile import dockerfile

    def parsed(text: str) -> bool:
        src = SourceText("Dockerfile", "dockerfile", text)
        return dockerfile(src) is not None and not src.diagnostics

    assert parsed("FROM scratch\nRUN a \\\n" + "  b \\\n" * 9_000 + "  c\n")
    assert parsed("FROM scratch\n" + "RUN a \\\n  b\n" * 6_000)  # many short continuations
    assert not parsed("FROM scratch\nRUN a \\\n" + "  b \\\n\n# c\n" * 10_001 + "  c\n")  # blank/comment lines don't end it
    assert not parsed("FROM scratch\n" + "RUN a\n" * 50_001)


def test_requirements_bound_keeps_the_first_lines(tmp_path: Path) -> None:
    from safeai_lint.extract.python_deps import MAX_REQUIREMENT_LINES

    from conftest import hits, scan

    body = "# header\n\n" + "numpy==1.26.4 \\\n    --hash=sha256:00\n" * (MAX_REQUIREMENT_LINES - 1) + "torch>=2.0\n"
    result = scan(tmp_path, {"requirements.txt": body})
    last = 2 + 2 * (MAX_REQUIREMENT_LINES - 1) + 1
    assert ("SAI102", "requirements.txt", last) in hits(result)  # exactly at the bound: still read
    assert not hits(result, "SAI002")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_file_over_the_time_cap_is_reported_and_the_scan_goes_on(tmp_path: Path, jobs: str) -> None:
    # 5,000 lines of Python take far longer than 1 ms to analyse; a tiny cap stands in for a
    # pathological file (the known ones are refused earlier, by size and nesting bounds)
    slow = "import requests\n" + "".join(f"r{i} = requests.get('http://x/{i}', timeout={i % 7})\n" for i in range(5_000))
    files = {"app/slow.py": slow, **{f"svc{i}/requirements.txt": "torch>=2.0\n" for i in range(70)}}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    env = {**os.environ, "SAFEAI_LINT_FILE_SECONDS": "0.001"}
    proc = subprocess.run(
        [sys.executable, "-m", "safeai_lint", "check", ".", "--format", "json", "--jobs", jobs, "--no-progress", "--no-cache"],
        cwd=tmp_path, capture_output=True, timeout=HANG_SECONDS, check=False, env=env,
    )
    assert proc.returncode == 1, proc.stderr.decode()
    findings = json.loads(proc.stdout)["findings"]
    capped = [f for f in findings if f["path"] == "app/slow.py"]
    assert [(f["rule"], f["line"]) for f in capped] == [("SAI002", 1)]
    assert "per-file time cap of 0.001 s" in capped[0]["message"]
    # the other files were analysed (or capped too on a slow machine): the scan went on
    assert {f["path"] for f in findings} >= {"app/slow.py", "svc0/requirements.txt"}
    # and without the tiny cap the same file is analysed normally
    normal = subprocess.run(
        [sys.executable, "-m", "safeai_lint", "check", "app/slow.py", "--format", "json", "--no-progress", "--no-cache"],
        cwd=tmp_path, capture_output=True, timeout=HANG_SECONDS, check=False,
    )
    assert not [f for f in json.loads(normal.stdout)["findings"] if f["rule"] == "SAI002"]
