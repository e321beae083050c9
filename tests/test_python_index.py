"""The shared per-module indexes that replaced whole-tree walks (sources/python.py) and the
plain-requirements fast path (extract/python_deps.py): each must give exactly what the slower
code it replaced gave. The references below are those slower forms, kept here as oracles."""
from __future__ import annotations

import ast
import subprocess
import sys
import textwrap

import pytest

from safeai_lint.extract import python_deps
from safeai_lint.sources.base import SourceText
from safeai_lint.sources.python import module, source_segment
from safeai_lint.sources.python_scopes import scopes

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _reference_scopes(tree: ast.Module) -> dict[str, object]:
    """The context-stack walk `scopes()` replaced: every node visited once, depth first."""
    func_of, in_loop, functions, class_of, calls = {}, set(), {}, {}, []
    stack = [(tree, None, False, None)]
    while stack:
        node, func, loop, cls = stack.pop()
        func_of[id(node)] = func
        if loop:
            in_loop.add(id(node))
        if isinstance(node, ast.Call):
            calls.append(node)
        child = (func, loop, cls)
        if isinstance(node, _FUNCS):
            functions.setdefault(node.name, []).append(node)
            if cls is not None:
                class_of[id(node)] = cls
            child = (node, False, None)
        elif isinstance(node, ast.ClassDef):
            child = (func, loop, node)
        elif isinstance(node, _LOOPS):
            child = (func, True, cls)
        for sub in reversed(list(ast.iter_child_nodes(node))):
            stack.append((sub, *child))
    calls.sort(key=lambda c: (c.lineno, c.col_offset))
    return {"func_of": func_of, "in_loop": in_loop, "functions": functions, "class_of": class_of, "calls": calls}


SOURCES = {
    "service": """
        import torch, requests
        from fastapi import FastAPI
        app = FastAPI()
        model = load().half()
        def helper(x):
            return model.generate(x)
        @app.post("/gen")
        def handler(q):
            for i in range(3):
                model.generate(q)
                [model.generate(j) for j in q]
                def inner():
                    return model.generate(q)
                lambda: model.generate(q)
            return helper(q)
        class Svc:
            @deco(arg())
            def call(self):
                while True:
                    class Inner:
                        def m(self):
                            self.helper()
                return self.helper()
            def helper(self):
                torch.cuda.empty_cache()
        x = a().b().c(d(e()), f"{g()}{h(i())}")
        y = [z(w) for w in k() if m(w)]
        """,
    # calls starting at one place: nested chains, the tie case of the sort
    "chains": "import requests\nx = a" + "()" * 400 + "\ny = (q\n" + "  .b()\n" * 50 + ")\n",
    "binop": "import requests\nx = " + " + ".join("f()" for _ in range(300)) + "\n",
}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_scopes_match_the_context_walk(name: str) -> None:
    src = SourceText("m.py", "python", textwrap.dedent(SOURCES[name]).lstrip())
    mod = module(src)
    assert mod is not None
    ref = _reference_scopes(mod.tree)
    sc = scopes(src, mod)
    assert sc.calls == ref["calls"]
    assert {k: v for k, v in ref["func_of"].items() if k in {id(c) for c in sc.calls}} == sc.func_of
    assert {i for i in ref["in_loop"] if i in sc.func_of} == sc.in_loop
    assert sc.functions == ref["functions"]
    assert sc.class_of == ref["class_of"]
    for fs in sc.functions.values():  # calls_in: every call under the def, in ast.walk order
        for f in fs:
            assert sc.calls_in[id(f)] == [n for n in ast.walk(f) if isinstance(n, ast.Call)]


def test_nodes_are_ast_walk_without_context_markers_with_parents() -> None:
    src = SourceText("m.py", "python", textwrap.dedent(SOURCES["service"]).lstrip())
    mod = module(src)
    assert mod is not None
    assert mod.nodes == [n for n in ast.walk(mod.tree) if not isinstance(n, ast.expr_context)]
    for position, node in enumerate(mod.nodes[1:], 1):
        assert node in list(ast.iter_child_nodes(mod.nodes[mod.parents[position]]))
    assert mod.of(ast.Call, ast.Assign) == [n for n in ast.walk(mod.tree) if isinstance(n, (ast.Call, ast.Assign))]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_source_segment_matches_the_standard_library(newline: str) -> None:
    text = "import requests\nx = 1\x0c\nr = requests.post(\n    'http://é',\n    timeout=(1,\n 2))\n".replace("\n", newline)
    src = SourceText("m.py", "python", text)
    tree = ast.parse(text)
    for node in ast.walk(tree):
        assert source_segment(src, node) == ast.get_source_segment(text, node)


# --- requirements: the fast path reads what pip-requirements-parser reads --------------------

LINES = [
    "torch==2.1.0", "torch==2.1.0+cu118", "Torch >= 2.0, < 3", "numpy  # pinned later", "numpy#x",
    "foo[bar,baz]>=1.0", "foo>=1.0[bar]", "foo===1.0-weird", "foo; python_version < '3.8'",
    "foo @ https://example.com/foo.whl", "./local", "-e .", "-r other.txt", "foo==1.0 --hash=sha256:ab",
    "--extra-index-url https://download.pytorch.org/whl/cu118", "foo.whl", "foo.tar.gz", "foo(>=1.0)",
    "zope.interface==6.0", "${FOO}==1", "foo=1.0", "foo bar", "git+https://x/y#egg=foo", "# -*- coding: utf-16 -*-",
    "foo==1.0 # café", "foo==1.0 \\", "torch==2.1.0+cu121 ; platform_system == 'Linux'", "foo\x0cbar==1",
    # index options alone on a line, as the fast path reads them, and near-misses it leaves to pip
    "--index-url https://x.example/simple", "-i https://x.example/simple", "--extra-index-url=https://download.pytorch.org/whl/cu121",
    "--extra-index-url = https://x.example/simple", "--find-links https://x.example/links", "-f ./wheels",
    "--trusted-host pypi.internal  # ours", "--index-url \"https://x.example/simple\"", "--index-url ${INDEX_URL}",
    "--extra-index-url https://a.example https://b.example", "-ihttps://x.example/simple", "-i=https://x.example",
    "--index-url", "--no-index", "--pre", "-c constraints.txt", "--hash=sha256:ab",
]


def _both(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple, tuple]:
    fast = SourceText("requirements.txt", "requirements", text)
    got = (list(python_deps.requirements(fast)), fast.diagnostics)
    with monkeypatch.context() as m:
        m.setattr(python_deps, "_plain_requirements", lambda _text: None)
        slow = SourceText("requirements.txt", "requirements", text)
        want = (list(python_deps.requirements(slow)), slow.diagnostics)
    return got, want


@pytest.mark.parametrize("line", LINES)
def test_requirements_fast_path_reads_like_pip(line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for text in (line + "\n", f"# header\nrequests==2.31.0\n{line}\nnumpy>=1.26\n", line.replace("\n", "\r\n")):
        got, want = _both(text, monkeypatch)
        assert got == want, text


def test_plain_file_takes_the_fast_path_and_never_imports_pip_requirements_parser() -> None:
    plain = "# pinned\ntorch==2.1.0+cu118\ntransformers>=4.34 ; python_version >= '3.9'\n\nvllm[all]==0.2.1\n"
    assert python_deps._plain_requirements(plain) is not None
    assert python_deps._plain_requirements(plain + "--index-url https://x/simple\n") is not None
    assert python_deps._plain_requirements(plain + "-r other.txt\n") is None
    code = (
        "import sys\nfrom safeai_lint.extract.python_deps import requirements\n"
        "from safeai_lint.sources.base import SourceText\n"
        f"facts = list(requirements(SourceText('requirements.txt', 'requirements', {plain!r})))\n"
        "print(len(facts), 'pip_requirements_parser' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["4", "False"]  # three VersionDecl and the CudaBuild of +cu118
