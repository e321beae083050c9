"""The cache of parsed files: a re-scan gives exactly the findings of a fresh scan, sees every
change, survives a damaged or planted cache file, and lives outside the scanned tree."""
from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from safeai_lint import engine
from safeai_lint.cache import FORMAT, read_rows, write_rows
from safeai_lint.engine import lint

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "genai-assistant-v2"


def _findings(result) -> list[tuple]:
    return [(f.rule, f.location.path, f.location.line, f.message, f.fingerprint) for f in result.findings]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    return root


def _framed(head: object, blobs: bytes = b"") -> bytes:
    """A cache file laid out as the cache writes one: index length, index pickle, blobs."""
    index = pickle.dumps(head)
    return len(index).to_bytes(8, "little") + index + blobs


def _parsed(monkeypatch) -> list[str]:
    """The files the next scans really parse."""
    seen: list[str] = []
    real = engine._analyze

    def spy(sf, cap, data):
        seen.append(sf.rel)
        return real(sf, cap, data)

    monkeypatch.setattr(engine, "_analyze", spy)
    return seen


def test_rescan_parses_nothing_and_reports_the_same(project: Path, tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "cache"
    fresh = lint([str(project)], cwd=project)  # no cache
    first = lint([str(project)], cwd=project, cache_dir=cache)
    parsed = _parsed(monkeypatch)
    second = lint([str(project)], cwd=project, cache_dir=cache)
    assert _findings(fresh) == _findings(first) == _findings(second)
    assert len(fresh.findings) > 20
    assert parsed == []  # every file came from the cache
    assert [p.name for p in cache.iterdir() if p.suffix == ".pickle"]
    assert not any(p.suffix == ".pickle" for p in project.rglob("*"))  # nothing written into the repo


def test_an_edited_file_is_parsed_again_and_its_findings_change(project: Path, tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "cache"
    before = lint([str(project)], cwd=project, cache_dir=cache)
    assert ("SAI101", "requirements.txt", 3) in {(f.rule, f.location.path, f.location.line) for f in before.findings}
    req = project / "requirements.txt"
    info = req.stat()
    text = req.read_text()
    fixed = text.replace("transformers==4.36.2", "transformers==4.34.0")  # same size
    assert fixed != text
    req.write_text(fixed)
    os.utime(req, ns=(info.st_atime_ns, info.st_mtime_ns))  # same mtime: the change must still be seen
    parsed = _parsed(monkeypatch)
    after = lint([str(project)], cwd=project, cache_dir=cache)
    assert parsed == ["requirements.txt"]
    assert _findings(after) == _findings(lint([str(project)], cwd=project))
    assert ("SAI101", "requirements.txt", 3) not in {(f.rule, f.location.path, f.location.line) for f in after.findings}


def test_a_deleted_file_leaves_no_findings_behind(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    lint([str(project)], cwd=project, cache_dir=cache)
    (project / "Dockerfile").unlink()
    after = lint([str(project)], cwd=project, cache_dir=cache)
    assert "Dockerfile" not in {f.location.path for f in after.findings}
    assert _findings(after) == _findings(lint([str(project)], cwd=project))


def test_a_different_size_cap_does_not_reuse_entries(project: Path, tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "cache"
    lint([str(project)], cwd=project, cache_dir=cache)
    (project / ".safeai-lint.yaml").write_text("max-file-size: 200\n")
    after = lint([str(project)], cwd=project, cache_dir=cache)
    over = {f.location.path for f in after.findings if f.rule == "SAI002" and "size cap" in f.message}
    assert "requirements.txt" in over  # judged by the new cap, not served from the old cache


@pytest.mark.parametrize("damage", [b"", b"not a pickle at all", b"\x80\x05garbage", None])
def test_a_damaged_cache_is_ignored(project: Path, tmp_path: Path, damage: bytes | None) -> None:
    cache = tmp_path / "cache"
    expected = _findings(lint([str(project)], cwd=project, cache_dir=cache))
    (file,) = [p for p in cache.iterdir() if p.suffix == ".pickle"]
    if damage is None:  # right layout, wrong content: a row that is a string, then another key
        key, _ = read_rows(file)
        damage = _framed((FORMAT, key, {"requirements.txt": "x", "Dockerfile": ("kind", (1,), b"", 0, (10**9, 5))}))
        file.write_bytes(damage)
        assert _findings(lint([str(project)], cwd=project, cache_dir=cache)) == expected
        damage = _framed((FORMAT, "some other key", {}))
    file.write_bytes(damage)
    assert _findings(lint([str(project)], cwd=project, cache_dir=cache)) == expected


class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {SENTINEL}",))


SENTINEL = Path("/nonexistent")  # set per test


def test_a_planted_cache_file_cannot_run_code(project: Path, tmp_path: Path) -> None:
    global SENTINEL
    SENTINEL = tmp_path / "pwned"
    cache = tmp_path / "cache"
    expected = _findings(lint([str(project)], cwd=project, cache_dir=cache))
    (file,) = [p for p in cache.iterdir() if p.suffix == ".pickle"]
    key, rows = read_rows(file)
    for planted in (pickle.dumps(_Payload()), _framed(_Payload()), _framed((FORMAT, key, {"Dockerfile": (*rows["Dockerfile"][:4], (0, 10))}), pickle.dumps(_Payload()))):
        file.write_bytes(planted)
        assert _findings(lint([str(project)], cwd=project, cache_dir=cache)) == expected
        assert not SENTINEL.exists()


def _cli(args: list[str], cwd: Path, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "SAFEAI_LINT_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-m", "safeai_lint", *args], cwd=cwd, env=env, capture_output=True, timeout=120)


def test_cli_caches_in_the_configured_folder_and_no_cache_writes_nothing(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cli-cache"
    off = _cli(["check", ".", "--format", "json", "--no-cache"], project, cache)
    assert off.returncode == 1, off.stderr
    assert not cache.exists()
    on = _cli(["check", ".", "--format", "json"], project, cache)
    again = _cli(["check", ".", "--format", "json"], project, cache)
    assert json.loads(off.stdout) == json.loads(on.stdout) == json.loads(again.stdout)
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert len([p for p in cache.iterdir() if p.suffix == ".pickle"]) == 1


def test_an_unwritable_cache_folder_does_not_stop_the_scan(project: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    out = _cli(["check", ".", "--format", "json"], project, blocker / "cache")
    assert out.returncode == 1, out.stderr
    assert json.loads(out.stdout)["findings"]


def test_a_damaged_entry_is_parsed_again(project: Path, tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "cache"
    expected = _findings(lint([str(project)], cwd=project, cache_dir=cache))
    (file,) = [p for p in cache.iterdir() if p.suffix == ".pickle"]
    key, rows = read_rows(file)
    kind, stamp, digest, recorded, dockerfile_facts = rows["Dockerfile"]
    rows["Dockerfile"] = (kind, stamp, digest, recorded, b"\x80\x05garbage")
    rows["requirements.txt"] = (*rows["requirements.txt"][:4], dockerfile_facts)  # another file's facts
    third = next(rel for rel in sorted(rows) if rel not in ("Dockerfile", "requirements.txt"))
    rows[third] = ("a row", "of the wrong shape")
    index, blobs = {}, b""
    for rel, row in rows.items():  # the documented layout, a malformed row kept as it is
        if len(row) == 5:
            index[rel] = (*row[:4], (len(blobs), len(row[4])))
            blobs += row[4]
        else:
            index[rel] = row
    file.write_bytes(_framed((FORMAT, key, index), blobs))
    parsed = _parsed(monkeypatch)
    assert _findings(lint([str(project)], cwd=project, cache_dir=cache)) == expected
    assert sorted(parsed) == sorted(["Dockerfile", "requirements.txt", third])  # every other entry still served


def test_parallel_scans_share_one_cache_safely(project: Path, tmp_path: Path) -> None:
    """pre-commit starts one process per batch of files, all at once: they read and write the
    same cache file; each must report what a scan without cache reports."""
    cache = tmp_path / "shared-cache"
    expected = json.loads(_cli(["check", ".", "--format", "json", "--no-cache"], project, cache).stdout)
    env = {**os.environ, "NO_COLOR": "1", "SAFEAI_LINT_CACHE_DIR": str(cache)}
    for round_ in range(2):  # the first round starts with no cache, the second with a full one
        procs = [
            subprocess.Popen([sys.executable, "-m", "safeai_lint", "check", ".", "--format", "json"],
                             cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(4)
        ]
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 1, err
            assert json.loads(out) == expected
        if round_ == 0:
            (project / "requirements.txt").write_text((project / "requirements.txt").read_text() + "# touched\n")
            expected = json.loads(_cli(["check", ".", "--format", "json", "--no-cache"], project, cache).stdout)
    assert [p.name for p in cache.iterdir() if p.name.startswith(".tmp-")] == []  # no temp file left behind


def test_worker_processes_fill_and_use_the_cache(tmp_path: Path) -> None:
    """Above the parallel threshold the files are analysed by worker processes, which must
    record what they read; the cached re-scan and the uncached scan agree."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", Path(__file__).resolve().parents[1] / "benchmarks" / "make_corpus.py")
    make_corpus = importlib.util.module_from_spec(spec)
    sys.modules["make_corpus"] = make_corpus
    spec.loader.exec_module(make_corpus)
    root = tmp_path / "corpus"
    assert make_corpus.write_corpus(10, root) > engine.PARALLEL_THRESHOLD
    cache = tmp_path / "cache"
    args = ["check", ".", "--format", "json", "--jobs", "2"]
    plain = json.loads(_cli([*args, "--no-cache"], root, cache).stdout)
    first = json.loads(_cli(args, root, cache).stdout)
    (cache_file,) = [p for p in cache.iterdir() if p.suffix == ".pickle"]
    _, rows = read_rows(cache_file)
    assert len(rows) == plain["summary"]["files_scanned"] and all(isinstance(row[4], bytes) for row in rows.values())
    second = json.loads(_cli(args, root, cache).stdout)
    assert plain == first == second
    assert plain["findings"]


def test_caches_of_roots_unused_for_30_days_are_pruned(project: Path, tmp_path: Path) -> None:
    from safeai_lint.cache import PRUNE_AFTER_S

    cache = tmp_path / "cache"
    cache.mkdir()
    old = time.time() - PRUNE_AFTER_S - 3600
    stale, recent, interrupted, foreign = (cache / n for n in ("0123ab.pickle", "4567ef.pickle", ".tmp-x.pickle", "notes.txt"))
    for file in (stale, recent, interrupted, foreign):
        file.write_bytes(b"x")
    for file in (stale, interrupted, foreign):
        os.utime(file, (old, old))
    lint([str(project)], cwd=project, cache_dir=cache)  # a first scan saves its cache: it prunes
    left = sorted(p.name for p in cache.iterdir())
    assert stale.name not in left and interrupted.name not in left
    assert {recent.name, foreign.name, "CACHEDIR.TAG"} <= set(left)
    assert len([n for n in left if n.endswith(".pickle")]) == 2  # the recent one and this root's


def test_a_cache_used_without_change_is_marked_in_use(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    lint([str(project)], cwd=project, cache_dir=cache)
    (ours,) = [p for p in cache.iterdir() if p.name.endswith(".pickle")]
    old = time.time() - 10 * 86_400
    os.utime(ours, (old, old))
    lint([str(project)], cwd=project, cache_dir=cache)  # nothing changed: not re-written, touched
    assert ours.stat().st_mtime > time.time() - 3600


def test_the_cache_key_follows_every_source_file_of_the_package(tmp_path: Path) -> None:
    """An edit to any .py file of the package, in any subfolder, starts a new cache; bytecode
    folders are not part of the key."""
    from safeai_lint.cache import _source_stamps

    (tmp_path / "checks" / "__pycache__").mkdir(parents=True)
    (tmp_path / "engine.py").write_text("x = 1\n")
    (tmp_path / "checks" / "images.py").write_text("y = 1\n")
    (tmp_path / "checks" / "__pycache__" / "images.py").write_text("not source\n")
    (tmp_path / "notes.txt").write_text("not source\n")
    before = _source_stamps(str(tmp_path))
    assert [s.split(" ")[0] for s in before] == [str(tmp_path / "checks" / "images.py"), str(tmp_path / "engine.py")]
    (tmp_path / "checks" / "images.py").write_text("y = 22\n")
    assert _source_stamps(str(tmp_path)) != before


def test_the_cache_file_layout_round_trips(tmp_path: Path) -> None:
    """Index length, index, blobs: what `write_rows` writes `read_rows` reads back whole, and a
    blob is found by its offset (the first and the last of several of different sizes)."""
    rows = {f"svc{n}/Dockerfile": ("dockerfile", (n, 2, 3, 4), bytes([n]) * 16, 10 + n, bytes([n]) * (n * 7 + 1)) for n in range(5)}
    file = tmp_path / "c" / "x.pickle"
    write_rows(file, "the key", rows)
    assert read_rows(file) == ("the key", rows)
    data = file.read_bytes()
    assert len(data) == 8 + int.from_bytes(data[:8], "little") + sum(len(r[4]) for r in rows.values())
    assert data.endswith(rows["svc4/Dockerfile"][4])


def test_a_partial_scan_keeps_its_changes_in_a_journal_merged_by_the_next_whole_scan(tmp_path: Path, monkeypatch) -> None:
    """The pre-commit case: a named Dockerfile, just edited, judged within its unit. Its new
    facts go to a small journal beside the cache file (the file itself is not rewritten), the
    next scan serves them from there, and a scan of the whole repository merges them back."""
    from safeai_lint.cache import journal_of

    project = tmp_path / "repo"
    (project / "svc").mkdir(parents=True)
    (project / "svc" / "Dockerfile").write_text("FROM python:3.11-slim\nRUN pip install torch==2.1.0\n", encoding="utf-8")
    (project / "svc" / "requirements.txt").write_text("torch==2.1.0\n", encoding="utf-8")
    for n in range(8):
        (project / "svc" / f"c{n}.yaml").write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{n}}}\n", encoding="utf-8")
    (project / "other.py").write_text("import requests\nrequests.get('http://x')\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    cache = tmp_path / "cache"
    lint([str(project)], cwd=project, cache_dir=cache)
    (file,) = [p for p in cache.iterdir() if p.name.endswith(".pickle")]
    main_before = file.read_bytes()

    (project / "svc" / "Dockerfile").write_text("FROM python:3.11-slim\nRUN pip install torch==2.0.0\n", encoding="utf-8")
    fresh = _findings(lint(["svc/Dockerfile"], cwd=project))
    parsed = _parsed(monkeypatch)
    assert _findings(lint(["svc/Dockerfile"], cwd=project, cache_dir=cache)) == fresh
    assert parsed == ["svc/Dockerfile"]
    assert journal_of(file).exists() and file.read_bytes() == main_before  # the big file untouched

    parsed.clear()
    assert _findings(lint(["svc/Dockerfile"], cwd=project, cache_dir=cache)) == fresh
    assert parsed == []  # served from the journal

    whole = _findings(lint([str(project)], cwd=project))
    parsed.clear()
    assert _findings(lint([str(project)], cwd=project, cache_dir=cache)) == whole
    assert parsed == []
    assert not journal_of(file).exists()
    _, rows = read_rows(file)
    assert rows["svc/Dockerfile"][1][0] == (project / "svc" / "Dockerfile").stat().st_size  # merged, new stamp


def test_a_damaged_or_overfull_journal_costs_only_time(tmp_path: Path, project: Path, monkeypatch) -> None:
    from safeai_lint import cache as cache_module
    from safeai_lint.cache import journal_of

    cache = tmp_path / "cache"
    expected = _findings(lint([str(project)], cwd=project, cache_dir=cache))
    (file,) = [p for p in cache.iterdir() if p.name.endswith(".pickle")]
    journal_of(file).write_bytes(b"\x00" * 8 + b"garbage")
    assert _findings(lint([str(project / "app")], cwd=project, cache_dir=cache)) == _findings(lint([str(project / "app")], cwd=project))
    assert _findings(lint([str(project)], cwd=project, cache_dir=cache)) == expected

    monkeypatch.setattr(cache_module, "JOURNAL_LIMIT", 0)  # a journal that would grow too large: the file is rewritten
    (project / "k8s" / "deployment.yaml").write_text((project / "k8s" / "deployment.yaml").read_text() + "\n", encoding="utf-8")
    parts = ["k8s", "app", "mesh", "monitoring", "Dockerfile", "requirements.txt", "pyproject.toml"]  # 10 files: the cache is used
    lint([str(project / part) for part in parts], cwd=project, cache_dir=cache)
    assert not journal_of(file).exists()
    assert read_rows(file)[1]["k8s/deployment.yaml"][1][0] == (project / "k8s" / "deployment.yaml").stat().st_size


def test_absurd_rows_and_keys_in_the_file_or_the_journal_are_ignored(project: Path, tmp_path: Path) -> None:
    """Offsets and lengths far beyond the file, and keys that are not paths, in the cache file
    or its journal: ignored like any damage, also by a partial scan that writes the journal."""
    from safeai_lint.cache import journal_of

    cache = tmp_path / "cache"
    expected = _findings(lint([str(project)], cwd=project, cache_dir=cache))
    (file,) = [p for p in cache.iterdir() if p.name.endswith(".pickle")]
    key, rows = read_rows(file)
    index, blobs = {}, b""
    for rel, row in rows.items():
        index[rel] = (*row[:4], (len(blobs), len(row[4])))
        blobs += row[4]
    first = next(iter(rows))
    for length in (2**63, 2**62):
        file.write_bytes(_framed((FORMAT, key, {**index, first: (*index[first][:4], (0, length))}), blobs))
        assert _findings(lint([str(project)], cwd=project, cache_dir=cache)) == expected
    kind, stamp, digest, recorded, blob = rows["Dockerfile"]
    journal_of(file).write_bytes(_framed((FORMAT, key, {first: (kind, stamp, digest, recorded, (0, 2**62)),
                                                        7: (kind, stamp, digest, recorded, (0, len(blob)))}), blob))
    (project / "Dockerfile").write_text((project / "Dockerfile").read_text() + "\n# edited\n", encoding="utf-8")
    fresh = _findings(lint(["Dockerfile", "requirements.txt"], cwd=project))
    assert _findings(lint(["Dockerfile", "requirements.txt"], cwd=project, cache_dir=cache)) == fresh


def test_a_cache_folder_that_cannot_be_looked_at_costs_only_time(project: Path, tmp_path: Path) -> None:
    """Even a scan too small to start a cache asks whether one exists: a folder whose name
    the system refuses (or cannot search) answers no, never an error."""
    expected = _findings(lint([str(project / "app")], cwd=project))
    refused = tmp_path / ("x" * 300) / "cache"  # a name longer than any file system allows
    assert _findings(lint([str(project / "app")], cwd=project, cache_dir=refused)) == expected


def test_a_run_that_skips_every_named_file_keeps_the_cache(tmp_path: Path) -> None:
    """pre-commit with --force-exclude on a commit of excluded files only: nothing is
    analysed, and the repository's cache is left as it was."""
    project = tmp_path / "repo"
    (project / "legacy").mkdir(parents=True)
    (project / ".safeai-lint.yaml").write_text("exclude: [legacy]\n", encoding="utf-8")
    (project / "legacy" / "old.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: old}\n", encoding="utf-8")
    for n in range(10):
        (project / f"c{n}.yaml").write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{n}}}\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    cache = tmp_path / "cache"
    lint([str(project)], cwd=project, cache_dir=cache)
    (file,) = [p for p in cache.iterdir() if p.name.endswith(".pickle")]
    before = file.read_bytes()
    result = lint(["legacy/old.yaml"], cwd=project, cache_dir=cache, force_exclude=True)
    assert result.files_scanned == 0 and file.read_bytes() == before
