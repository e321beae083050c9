"""Scanning executes nothing: payloads leave no trace, and the package source holds no call
that could run scanned code (eval/exec, unsafe YAML, subprocess other than git, os.system,
pickle). The static half reads our own source with `ast`, so a new call cannot slip in."""
from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from safeai_lint.engine import lint

PACKAGE = Path(__file__).resolve().parent.parent / "safeai_lint"
HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
_spec = importlib.util.spec_from_file_location("make_hostile", HOSTILE / "make_hostile.py")
make_hostile = importlib.util.module_from_spec(_spec)
sys.modules["make_hostile"] = make_hostile
_spec.loader.exec_module(make_hostile)
PAYLOADS = next(c for c in make_hostile.CASES if c.name == "payloads")


# --- behaviour: payload files ----------------------------------------------------------------


@pytest.mark.parametrize("jobs", [1, 2])
def test_payloads_leave_no_sentinel(tmp_path: Path, jobs: int) -> None:
    sentinel = tmp_path / "SENTINEL"
    folder = make_hostile.build(PAYLOADS, tmp_path / "cases", sentinel)
    # enough copies to cross engine.PARALLEL_THRESHOLD, so worker processes see them too
    for i in range(8):
        make_hostile.build(PAYLOADS, folder / f"copy{i}", sentinel)
    # a fresh process: forking this one, which has run the Go Dockerfile parser, can hang
    proc = subprocess.run(
        [sys.executable, "-m", "safeai_lint", "check", ".", "--format", "json", "--jobs", str(jobs), "--no-progress"],
        cwd=folder, capture_output=True, timeout=300, check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr.decode()
    assert not sentinel.exists(), sentinel.read_text()
    report = json.loads(proc.stdout)
    assert report["summary"]["files_scanned"] >= 64
    # the payload tags were read as text, never constructed, and never made the scan fail
    assert not [f for f in report["findings"] if f["rule"] == "SAI001" and f["path"].endswith("values.yaml")]


def test_yaml_python_tags_are_kept_as_text() -> None:
    from safeai_lint.sources.yaml import parse_documents

    docs, problem = parse_documents('a: !!python/object/apply:os.system ["true"]\nb: !!python/name:os.system\n')
    assert problem is None
    assert docs[0].value == {"a": ["true"], "b": ""}


def test_setup_py_and_conftest_are_read_not_run(tmp_path: Path) -> None:
    sentinel = tmp_path / "SENTINEL"
    (tmp_path / "setup.py").write_text(f"open({str(sentinel)!r}, 'w')\nimport requests\n", encoding="utf-8")
    (tmp_path / "conftest.py").write_text(f"import requests\nopen({str(sentinel)!r}, 'w')\n", encoding="utf-8")
    (tmp_path / "__init__.py").write_text(f"import torch\n__import__('os').system('touch {sentinel}')\n", encoding="utf-8")
    lint([str(tmp_path)], cwd=tmp_path)
    assert not sentinel.exists()


def test_git_config_of_the_scanned_repo_runs_nothing(tmp_path: Path) -> None:
    sentinel = tmp_path / "SENTINEL"
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("torch>=2.0\n", encoding="utf-8")
    git = ["git", "-c", "user.email=a@example.invalid", "-c", "user.name=a"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "x"], cwd=repo, check=True)
    subprocess.run(["git", "config", "core.fsmonitor", f"touch {sentinel}; echo"], cwd=repo, check=True)
    lint([str(repo)], cwd=repo)
    assert not sentinel.exists()


# --- static: what the package source may call ---------------------------------------------------

_FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__", "breakpoint", "input"}
_FORBIDDEN_CALLS = {
    "os.system", "os.popen", "os.execv", "os.execve", "os.execvp", "os.execl", "os.execlp", "os.spawnv",
    "os.spawnl", "os.posix_spawn", "os.posix_spawnp", "os.fork", "os.forkpty", "pty.spawn",
    "pickle.load", "pickle.loads", "pickle.Unpickler", "marshal.load", "marshal.loads", "shelve.open",
    "yaml.load", "yaml.load_all", "yaml.unsafe_load", "yaml.unsafe_load_all", "yaml.full_load",
    "yaml.full_load_all", "runpy.run_path", "runpy.run_module", "importlib.util.spec_from_file_location",
    "importlib.machinery.SourceFileLoader", "code.interact", "urllib.request.urlopen",
    "http.client.HTTPConnection", "http.client.HTTPSConnection", "socket.socket", "socket.create_connection",
}
_SUBPROCESS = {"subprocess.run", "subprocess.Popen", "subprocess.call", "subprocess.check_call",
               "subprocess.check_output", "subprocess.getoutput", "subprocess.getstatusoutput"}
_UNSAFE_LOADERS = {"Loader", "UnsafeLoader", "FullLoader", "CLoader", "CUnsafeLoader", "CFullLoader"}


def _aliases(tree: ast.Module) -> dict[str, str]:
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _dotted(node: ast.AST, names: dict[str, str]) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    return ".".join([names.get(node.id, node.id), *reversed(parts)])


def _relative(target: ast.AST) -> bool:
    """Is this module name, as written, relative to the calling package (".x", f".{x}")?"""
    if isinstance(target, ast.IfExp):
        return _relative(target.body) and _relative(target.orelse)
    if isinstance(target, ast.JoinedStr):
        return bool(target.values) and isinstance(target.values[0], ast.Constant) and str(target.values[0].value).startswith(".")
    return isinstance(target, ast.Constant) and isinstance(target.value, str) and target.value.startswith(".")


def _enclosing(tree: ast.AST, target: ast.AST) -> str:
    """The name of the function that holds `target` ("" at module level)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(n is target for n in ast.walk(node)):
            return node.name
    return ""


def _problems(path: Path, base: Path = PACKAGE.parent) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = _aliases(tree)
    where = lambda node: f"{path.relative_to(base)}:{node.lineno}"  # noqa: E731
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "yaml":
            out += [f"{where(node)}: imports yaml.{a.name}" for a in node.names if a.name in _UNSAFE_LOADERS]
        if isinstance(node, ast.Attribute) and _dotted(node, names) in {f"yaml.{n}" for n in _UNSAFE_LOADERS}:
            out.append(f"{where(node)}: uses an unsafe YAML loader")
        if isinstance(node, ast.Import):
            # the one exception: the cache of parsed files (our own output, kept outside the
            # scanned tree) is read through an unpickler that resolves only our dataclasses
            allowed = ("pickle",) if path == PACKAGE / "cache.py" else ()
            out += [f"{where(node)}: imports {a.name}" for a in node.names if a.name in ("pickle", "marshal", "shelve", "runpy") and a.name not in allowed]
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and node.func.id in _FORBIDDEN_BUILTINS and node.func.id not in names:
            # the one exception: records.py compiles the `__init__` of the package's record
            # classes (what @dataclass does for each), from their field names only
            if not (path == PACKAGE / "records.py" and node.func.id in ("exec", "compile") and _enclosing(tree, node) == "_compile"):
                out.append(f"{where(node)}: calls {node.func.id}()")
        name = _dotted(node.func, names)
        if name in ("pickle.load", "pickle.loads", "pickle.Unpickler"):
            out.append(f"{where(node)}: calls {name} (unpickle only through a find_class that allows our dataclasses)")
        if name in _FORBIDDEN_CALLS:
            out.append(f"{where(node)}: calls {name}")
        if name in _SUBPROCESS:
            argv = node.args[0] if node.args else None
            fixed = isinstance(argv, (ast.List, ast.Tuple)) and argv.elts and isinstance(argv.elts[0], ast.Constant) and argv.elts[0].value == "git"
            # the one other exception: the render stage starts a renderer (helm, kubectl, our
            # Helm SDK worker) in a contained child, from one function (see render/sandbox.py)
            fixed = fixed or (path == PACKAGE / "render" / "sandbox.py" and name == "subprocess.Popen" and _enclosing(tree, node) == "run_renderer")
            if not fixed:
                out.append(f"{where(node)}: {name} with an argv that is not a literal list starting with 'git'")
            if any(k.arg == "shell" for k in node.keywords):
                out.append(f"{where(node)}: {name} with shell=")
        if name == "importlib.import_module":
            package = node.args[1] if len(node.args) > 1 else None
            ours = isinstance(package, ast.Name) and package.id == "__name__"
            if not (node.args and _relative(node.args[0]) and ours):
                out.append(f"{where(node)}: import_module of a name that is not relative to our own package")
        if name.endswith(("YAML",)) and name.startswith("ruamel"):
            typ = next((k.value for k in node.keywords if k.arg == "typ"), None)
            if isinstance(typ, ast.Constant) and typ.value == "unsafe":
                out.append(f"{where(node)}: ruamel YAML(typ='unsafe')")
    return out


def test_package_source_executes_nothing() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20
    problems = [p for f in files for p in _problems(f)]
    assert problems == []


@pytest.mark.parametrize(
    "snippet",
    [
        "eval('1')",
        "exec('x = 1')",
        "import os\nos.system('ls')",
        "import subprocess\nsubprocess.run(['ls'])",
        "import subprocess as sp\nsp.run(cmd)",
        "import subprocess\nsubprocess.run(['git', 'status'], shell=True)",
        "import yaml\nyaml.load(text, Loader=yaml.Loader)",
        "from yaml import UnsafeLoader",
        "import pickle\npickle.loads(b'')",
        "import importlib\nimportlib.import_module(name)",
        "import importlib\nimportlib.import_module('.x' if a else b, __name__)",
        "from os import system as run\nrun('ls')",
        "def _compile():\n    exec('x = 1')",  # the records.py exception holds in records.py only
    ],
)
def test_static_check_catches(snippet: str, tmp_path: Path) -> None:
    # the checker must see each forbidden call, or the test above proves nothing
    path = tmp_path / "probe.py"
    path.write_text(snippet + "\n", encoding="utf-8")
    assert _problems(path, tmp_path), snippet


def test_static_check_accepts_the_allowed_forms(tmp_path: Path) -> None:
    path = tmp_path / "ok.py"
    path.write_text(
        "import subprocess, re, ast, yaml\n"
        "subprocess.run(['git', 'ls-files', '-z'], cwd='.', check=False)\n"
        "re.compile('x')\nast.literal_eval('1')\nyaml.safe_load('a: 1')\n"
        "from yaml import CSafeLoader\nyaml.parse('a', Loader=CSafeLoader)\n",
        encoding="utf-8",
    )
    assert _problems(path, tmp_path) == []


def test_every_unpickler_of_the_package_restricts_find_class() -> None:
    """pickle is allowed in cache.py only, and only through a subclass that overrides
    find_class (the behaviour is tested in test_cache: a planted payload runs nothing)."""
    users = [f for f in sorted(PACKAGE.rglob("*.py")) if "pickle" in {a.name for n in ast.walk(ast.parse(f.read_text(encoding="utf-8"))) if isinstance(n, ast.Import) for a in n.names}]
    assert users == [PACKAGE / "cache.py"]
    tree = ast.parse((PACKAGE / "cache.py").read_text(encoding="utf-8"))
    unpicklers = [c for c in ast.walk(tree) if isinstance(c, ast.ClassDef) and any(ast.unparse(b) == "pickle.Unpickler" for b in c.bases)]
    assert unpicklers
    for cls in unpicklers:
        assert "find_class" in {f.name for f in cls.body if isinstance(f, ast.FunctionDef)}
