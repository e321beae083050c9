"""Property tests: no parser, extractor or whole scan raises on any input, and every location
they produce lies inside its file. Derandomised with a fixed budget so CI is repeatable;
`benchmarks/fuzz.py` runs the same generators for as long as you like.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeai_lint.engine import _locations, decode, lint
from safeai_lint.extract import REGISTRY, extractors_for
from safeai_lint.sources import image_ref, shell, specs
from safeai_lint.sources.base import SourceText
from safeai_lint.sources.yaml import parse_documents

RULES = Path(__file__).resolve().parent.parent / "rules"
CI = settings(derandomize=True, max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(derandomize=True, max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

# Pieces of each format, so generated text gets past the first line of every parser.
_TOKENS = {
    "yaml": ["apiVersion: v1", "kind: Deployment", "kind: Pod", "metadata:", "name: x", "spec:", "containers:",
             "- name: a", "image: vllm/vllm-openai:v0.10.0", "args:", "- --gpu-memory-utilization=0.95", "env:",
             "resources:", "limits:", "nvidia.com/gpu: 1", "template:", "services:", "groups:", "rules:", "expr: a > 1",
             "&a", "*a", "<<: *a", "---", "...", "[", "]", "{", "}", ",", ":", "- ", "  ", "    ", "\n", "\n", "'", '"',
             "!!python/object/apply:os.system", "!!binary", "|", ">", "#", "null", "~", "1e3", "0x1F", "yes", "\t", "\r"],
    "dockerfile": ["FROM", "python:3.11", "AS", "b", "ARG", "ENV", "RUN", "CMD", "ENTRYPOINT", "COPY", "--from=b",
                   "pip install torch==2.1.0", "vllm serve /m", "[\"a\", \"b\"]", "$X", "${X:-y}", "\\\n", "<<EOF\n",
                   "EOF", "# escape=`", "# syntax=docker/dockerfile:1", "&&", "|", ";", "sh -c", "'", '"', " ", "\n"],
    "python": ["import requests", "import torch", "from vllm import LLM", "import tenacity as t", "@t.retry(", ")",
               "def f(", "):", "async def g():", "    ", "return", "await", "requests.get(url, timeout=", "5", "None",
               "LLM(model='m', gpu_memory_utilization=0.95)", "x = ", "[", "]", "{", "}", "(", ",", "'", '"', "\n",
               "lambda: ", "**", "-", "if", "else", "class A:", "#", "\\"],
    "requirements": ["torch", "==", ">=", "~=", "2.1.0", "+cu121", "-r other.txt", "-e .", "--index-url",
                     "https://x/whl/cu121", "--hash=sha256:00", "; python_version < '3.12'", "[extra]", "@", "git+https://x",
                     "#", "\\\n", "\n", " ", "vllm", "transformers", "nvidia-nccl-cu12"],
    "sql": ["CREATE TABLE t (", "ALTER TABLE t", "ADD COLUMN", "embedding", "vector(", "1536", "768", ")", ";",
            "--", "/*", "*/", "'", "''", "::vector", "$$", "\n", " ", "("],
    "toml": ["[project]", "[tool.poetry.dependencies]", "[packages]", "dependencies = [", "]", "\"torch>=2\"", "torch = \"^2.1\"",
             "python = \"^3.11\"", "requires-python = \">=3.11\"", "{version = \"2.1\"}", "=", "\n", "'", "[[", "]]", "#"],
}
_KIND_TOKENS = {"yaml": "yaml", "dockerfile": "dockerfile", "python": "python", "requirements": "requirements",
                "pyproject": "toml", "pipfile": "toml", "lockfile": "toml", "toml": "toml", "setup-cfg": "requirements",
                "sql": "sql"}
_NAMES = {"yaml": "deploy.yaml", "dockerfile": "Dockerfile", "python": "app.py", "requirements": "requirements.txt",
          "pyproject": "pyproject.toml", "pipfile": "Pipfile", "lockfile": "poetry.lock", "setup-cfg": "setup.cfg",
          "python-version": ".python-version", "runtime-txt": "runtime.txt", "toml": "x.toml", "json": "x.json",
          "nginx": "nginx.conf", "sql": "schema.sql"}


def _seeds() -> dict[str, list[str]]:
    """Every example file of every rule, by the kind of file it is."""
    from safeai_lint.discover import classify

    out: dict[str, list[str]] = {}
    for path in sorted(RULES.glob("SAI*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for example in doc.get("examples") or ():
            for rel, content in ((example or {}).get("files") or {}).items():
                kind = classify(rel)
                if kind and isinstance(content, str):
                    out.setdefault(kind, []).append(content)
    return out


SEEDS = _seeds()


def tokens_text(kind: str) -> st.SearchStrategy[str]:
    pieces = _TOKENS[_KIND_TOKENS.get(kind, "yaml")]
    return st.lists(st.one_of(st.sampled_from(pieces), st.text(max_size=4)), max_size=60).map(
        lambda xs: "".join(x if x in ("\n", " ", "  ", "    ") else x + st_sep(x) for x in xs))


def st_sep(piece: str) -> str:
    return "" if piece.endswith(("\n", " ")) else " "


@st.composite
def mutated(draw: st.DrawFn, kind: str) -> str:
    """A valid example of this kind, cut, duplicated, spliced or sprinkled with junk."""
    seeds = SEEDS.get(kind) or [""]
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            text = draw(st.text(max_size=20))
            continue
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 40)))
        op = draw(st.sampled_from(["delete", "duplicate", "insert", "replace", "truncate", "swap-lines"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(st.one_of(st.text(max_size=8), st.sampled_from(["\n", "  ", ":", "\\", "\x00", "\r", "\ufeff", "é", "\u2028"]))) + text[i:]
        elif op == "replace":
            text = text[:i] + draw(st.text(max_size=j - i + 1)) + text[j:]
        elif op == "truncate":
            text = text[:i]
        else:
            lines = text.split("\n")
            a, b = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
    return text


def any_text(kind: str) -> st.SearchStrategy[str]:
    return st.one_of(st.text(max_size=200), tokens_text(kind), mutated(kind))


def assert_inside(src: SourceText, facts: list[object]) -> None:
    last = max(len(src.lines), 1)
    for loc in _locations([*facts, *src.diagnostics]):
        if loc.path != src.rel:
            continue
        assert 1 <= loc.line <= last, f"line {loc.line} outside 1..{last}: {loc}"
        assert loc.column >= 1, loc


def run_extractors(kind: str, text: str) -> None:
    src = SourceText(_NAMES.get(kind, "x"), kind, text)
    facts: list[object] = []
    for extractor in extractors_for(kind):
        facts.extend(extractor(src))  # any exception fails the test: that is the point
    assert_inside(src, facts)


# --- one property per file kind, over every extractor registered for it ----------------------

KINDS = sorted({kind for kind, _, _ in REGISTRY})


def test_every_registered_kind_is_fuzzed() -> None:
    assert set(KINDS) <= set(_NAMES), set(KINDS) - set(_NAMES)


@CI
@given(st.sampled_from(KINDS).flatmap(lambda k: st.tuples(st.just(k), any_text(k))))
def test_extractors_never_raise(case: tuple[str, str]) -> None:
    run_extractors(*case)


@CI
@given(any_text("yaml"))
def test_yaml_parser(text: str) -> None:
    docs, problem = parse_documents(text)
    assert isinstance(docs, list)
    if problem:
        assert problem.rule in ("SAI001", "SAI002") and problem.line >= 1 and problem.column >= 1


@SLOW
@given(any_text("dockerfile"))
def test_dockerfile_parser(text: str) -> None:
    from safeai_lint.sources.dockerfile import dockerfile, expand, run_commands

    src = SourceText("Dockerfile", "dockerfile", text)
    model = dockerfile(src)
    if model is not None:
        for instr in model.instructions:
            run_commands(instr)
            assert 1 <= instr.start_line <= instr.end_line
    assert_inside(src, [])
    expand(text[:200], {"A": "1", "B": None})


@CI
@given(st.one_of(st.text(max_size=300), any_text("python")))
def test_python_module(text: str) -> None:
    from safeai_lint.sources.python import module, node_loc

    src = SourceText("app.py", "python", "import requests\n" + text)
    mod = module(src)
    if mod is not None:
        for node in mod.nodes[:200]:
            if hasattr(node, "lineno"):
                node_loc(src, node)
                mod.qualname(node)
    assert_inside(src, [])


@CI
@given(st.one_of(st.text(max_size=80), st.from_regex(r"[a-z0-9./_:@-]{0,60}", fullmatch=True),
                 st.sampled_from(["", ":", "@", "a@sha256:", "localhost:5000/a:b@sha256:" + "0" * 64, "${X}:1", "A/B"])))
def test_image_refs(text: str) -> None:
    image_ref.parse_image(text)
    assert isinstance(image_ref.invalid_reason(text), str)


@CI
@given(st.one_of(st.text(max_size=200), tokens_text("dockerfile")))
def test_shell(text: str) -> None:
    for argv in shell.split_commands(text):
        assert all(isinstance(word, str) for word in argv)
        shell.package_installs(argv)


@CI
@given(st.one_of(st.text(max_size=40), st.from_regex(r"[\^~<>=!*0-9., |a-z_+]{0,30}", fullmatch=True)))
def test_specs(text: str) -> None:
    specs.release(text)
    specs.exact_or_prefix(text)
    specs.poetry(text)
    specs.conda(text)
    specs.cuda_of_build(text)


# --- the whole scan -------------------------------------------------------------------------------


def _check_scan(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, data in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
        result = lint([str(root)], cwd=root)
        for f in result.findings:
            assert f.location.path in files, f
            text, _ = decode(files[f.location.path])
            last = max(len(text.splitlines()), 1) if text is not None else 1
            assert 1 <= f.location.line <= last, (f.rule, f.location, last)
            assert f.location.column >= 1, f


_scan_kinds = st.sampled_from(sorted(k for k in KINDS if k in SEEDS or k in _TOKENS))


@SLOW
# pyproject.toml sits in a sub-folder: at the root it is also read as a possible config (see below)
@given(st.dictionaries(st.sampled_from(["deploy.yaml", "Dockerfile", "app.py", "requirements.txt", "svc/pyproject.toml",
                                        "compose.yaml", "k8s/svc.yaml", "Pipfile", "setup.cfg", "x.json"]),
                       st.binary(max_size=300), min_size=1, max_size=3))
def test_lint_on_random_bytes(files: dict[str, bytes]) -> None:
    _check_scan(files)


@SLOW
@given(st.lists(_scan_kinds.flatmap(lambda k: st.tuples(st.just(k), mutated(k))), min_size=1, max_size=4))
def test_lint_on_mutated_examples(parts: list[tuple[str, str]]) -> None:
    files: dict[str, bytes] = {}
    for i, (kind, text) in enumerate(parts):
        files[f"d{i}/{_NAMES[kind]}"] = text.encode("utf-8", "surrogatepass")
    _check_scan(files)


def test_undecodable_pyproject_at_the_root_is_a_finding_not_a_config_error() -> None:
    _check_scan({"pyproject.toml": b"\x80[project]\n", "requirements.txt": b"torch>=2.0\n"})


@CI
@given(st.text(alphabet="aAzZ09-_.~ ", max_size=24) | st.sampled_from(["Flash_Attn", "torch", "nvidia-nccl-cu12", "Pillow", "zope.interface", "A__b--c..d"]))
def test_package_names_normalise_as_packaging_does(name: str) -> None:
    """specs.canonicalize_name is PEP 503 written out (to spare importing packaging.utils):
    it must agree with packaging's on any name."""
    from packaging.utils import canonicalize_name

    assert specs.canonicalize_name(name) == canonicalize_name(name)
