"""Parsing only the relevant parts of a Python module (sources/python_relevant.py) must give
exactly the facts a full parse gives: the same findings at the same lines. Each case below
checks that the cut really happened (or, for the traps, that it was undone), then compares
every fact, diagnostic and suppression with the full parse."""
from __future__ import annotations

import ast
import bisect
import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeai_lint import engine
from safeai_lint.catalog import all_rules
from safeai_lint.discover import SourceFile
from safeai_lint.sources import python as python_source
from safeai_lint.sources.base import SourceText
from safeai_lint.sources.python_relevant import relevant_source

CAP = 10_000_000


def _facts(text: str, monkeypatch: pytest.MonkeyPatch, trim: bool) -> object:
    with monkeypatch.context() as patch:
        if not trim:
            patch.setattr(python_source, "relevant_source", lambda _text: None)
        return engine.analyze(SourceFile("app/mod.py", "-", "python"), CAP, text.encode())


def _same(text: str, monkeypatch: pytest.MonkeyPatch) -> object:
    trimmed = _facts(text, monkeypatch, True)
    assert trimmed == _facts(text, monkeypatch, False)
    return trimmed


def _kept_lines(text: str) -> set[int]:
    cut = relevant_source(text)
    assert cut is not None, "expected part of the module to be dropped"
    return {n for n, line in enumerate(cut[0].split("\n"), 1) if line.strip()}


def _line(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), 1) if needle in line)


def _kinds(facts: object) -> list[str]:
    return [type(f).__name__ for f in facts.facts]  # type: ignore[attr-defined]


FILLER = '''
def summarise(items, limit=10):
    counts = {}
    for item in items:
        kind = str(item.get("kind", "other"))
        counts[kind] = counts.get(kind, 0) + 1
    return counts


@dataclass(frozen=True)
class Record:
    id: str
    size: int = 0

    def key(self):
        return f"{self.id}/{self.size}"
'''


def test_filler_is_dropped_and_service_code_kept(monkeypatch):
    text = textwrap.dedent('''\
        from dataclasses import dataclass
        import requests

        URL = "http://llm.ai.svc.cluster.local/v1/completions"
        ''') + FILLER + textwrap.dedent('''

        def complete(prompt):
            return requests.post(URL, json={"prompt": prompt})
        ''')
    kept = _kept_lines(text)
    assert _line(text, "def complete") in kept and _line(text, "requests.post") in kept
    assert _line(text, "def summarise") not in kept and _line(text, "class Record") not in kept
    assert _line(text, "@dataclass") not in kept
    facts = _same(text, monkeypatch)
    timeout = [f for f in facts.facts if type(f).__name__ == "Timeout"]
    assert [t.location.line for t in timeout] == [_line(text, "requests.post")]


def test_handler_kept_through_the_helper_it_calls(monkeypatch):
    # the route object comes from the project's own module, so only the call of `run`
    # (which runs `.generate()`) makes the handler relevant
    text = textwrap.dedent('''\
        import torch
        from transformers import AutoModelForCausalLM
        from myapp.api import router

        model = AutoModelForCausalLM.from_pretrained("/models/m-awq")
        ''') + FILLER + textwrap.dedent('''

        def run(prompt):
            return model.generate(prompt)


        @router.post("/chat")
        def handler(body):
            return run(body["prompt"])
        ''')
    kept = _kept_lines(text)
    assert {_line(text, "def handler"), _line(text, "@router.post")} <= kept
    facts = _same(text, monkeypatch)
    calls = [f for f in facts.facts if type(f).__name__ == "GenerationCall"]
    assert [(c.context, c.location.line) for c in calls] == [("request handler", _line(text, "model.generate"))]


def test_token_count_in_a_function_naming_a_bound_variable(monkeypatch):
    text = textwrap.dedent('''\
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained("m")
        ''') + FILLER + textwrap.dedent('''

        def encode_prompt(text):
            ids = tok(text, truncation=True, max_length=4096)
            return ids


        def too_long(ids):
            return len(ids) > 4096
        ''')
    assert _line(text, "def too_long") in _kept_lines(text)
    facts = _same(text, monkeypatch)
    checks = [f.location.line for f in facts.facts if type(f).__name__ == "TokenCountCheck"]
    assert checks == [_line(text, "len(ids)")]


def test_vector_write_validated_by_its_caller(monkeypatch):
    text = textwrap.dedent('''\
        import faiss
        import numpy as np

        index = faiss.IndexFlatL2(8)
        ''') + FILLER + textwrap.dedent('''

        def write(vecs):
            index.add(vecs)


        def finite(vecs):
            return bool(np.isfinite(vecs).all())


        def ingest(vecs):
            if not finite(vecs):
                raise ValueError("NaN in embeddings")
            write(vecs)
        ''')
    assert _line(text, "def ingest") in _kept_lines(text)
    facts = _same(text, monkeypatch)
    writes = [f for f in facts.facts if type(f).__name__ == "VectorWrite"]
    assert [(w.validated, w.location.line) for w in writes] == [(True, _line(text, "index.add"))]


def test_non_ascii_names_propagate(monkeypatch):
    text = textwrap.dedent('''\
        from transformers import AutoTokenizer

        токенизатор = AutoTokenizer.from_pretrained("m")
        ''') + FILLER + textwrap.dedent('''

        def длина(текст):
            return len(токенизатор(текст))
        ''')
    assert _line(text, "def длина") in _kept_lines(text)
    facts = _same(text, monkeypatch)
    assert [f.location.line for f in facts.facts if type(f).__name__ == "TokenCountCheck"] == [_line(text, "return len(")]


def test_special_text_found_after_characters_that_lowercase_longer(monkeypatch):
    # "İ".lower() is two characters: offsets in a lower-cased copy would point past the URL
    text = "import requests\n\nNOTE = \"" + "İ" * 60 + "\"\n" + FILLER + textwrap.dedent('''

        def endpoint():
            return "https://llm.ai.svc.cluster.local/v1/completions"
        ''')
    assert _line(text, "def endpoint") in _kept_lines(text)
    facts = _same(text, monkeypatch)
    assert any(type(f).__name__ == "AiUsage" and f.location.line == _line(text, "https://") for f in facts.facts)


def test_import_inside_try_binds_its_names(monkeypatch):
    text = textwrap.dedent('''\
        try:
            from vllm import LLM
        except ImportError:
            LLM = None
        ''') + FILLER + textwrap.dedent('''

        def make():
            return LLM("meta-llama/Llama-3-8B", gpu_memory_utilization=0.95)
        ''')
    assert _line(text, "def make") in _kept_lines(text)
    facts = _same(text, monkeypatch)
    assert "ServingLaunch" in _kinds(facts)


def test_semicolon_walrus_and_function_level_imports(monkeypatch):
    text = textwrap.dedent('''\
        from transformers import AutoTokenizer
        ''') + FILLER + textwrap.dedent('''

        def setup():
            x = 1; tok = AutoTokenizer.from_pretrained("m")
            if (ids := tok("hi")):
                return ids


        def size(ids):
            return len(ids)


        def local_import():
            from mylib import helpers as h
            return h.run()
        ''')
    kept = _kept_lines(text)
    assert {_line(text, "def size"), _line(text, "def local_import")} <= kept
    _same(text, monkeypatch)


@pytest.mark.parametrize("trap", [
    # an unindented line of a multi-line string in a dropped function: the cut does not parse
    'def prompt():\n    return """\nYou are a helpful assistant.\n"""\n',
    # `def` at the start of a line inside a module string: the cut parses, but a multi-line
    # string spans a blanked stretch
    'TEMPLATE = """\ndef handler():\n    pass\n"""\n',
    # an unindented continuation line of a bracket
    'def pad(\nwidth=4):\n    return " " * width\n',
])
def test_traps_fall_back_to_a_full_parse(monkeypatch, trap):
    text = "import requests\n\n" + trap + FILLER + "\n\ndef call():\n    return requests.get('http://x/v1/models', timeout=3)\n"
    assert relevant_source(text) is not None  # a cut was tried
    src = SourceText("app/mod.py", "python", text)
    assert python_source._parse_relevant(src) is None  # and undone
    mod = python_source.module(src)
    assert mod is not None and ast.dump(mod.tree) == ast.dump(ast.parse(text))
    _same(text, monkeypatch)


def test_syntax_error_in_kept_code_is_reported_as_by_a_full_parse(monkeypatch):
    text = "import requests\n" + FILLER + "\n\ndef call(:\n    return requests.get('http://x', timeout=3)\n"
    facts = _same(text, monkeypatch)
    assert [(d.rule, d.location.line) for d in facts.diagnostics] == [("SAI001", _line(text, "def call("))]


def test_syntax_error_in_a_dropped_function_is_not_reported(monkeypatch):
    # The documented limit (SAI001): what no rule reads is not parsed, as a whole file that
    # mentions nothing of interest is not.
    text = "import requests\n\ndef broken(:\n    pass\n" + FILLER + "\ndef call():\n    return requests.get('http://x', timeout=3)\n"
    assert not _facts(text, monkeypatch, True).diagnostics
    assert [d.rule for d in _facts(text, monkeypatch, False).diagnostics] == ["SAI001"]


def test_long_chain_of_helpers_is_parsed_whole(monkeypatch):
    # each helper is the only caller of the next: propagation would take a round per helper
    lines = ["import requests", "", "def f0():", "    return requests.get('http://x', timeout=1)"]
    for n in range(1, 60):
        lines += ["", f"def f{n}():", f"    return f{n - 1}()"]
    lines += ["", "def unrelated():", "    return 1", ""]
    text = "\n".join(lines)
    assert relevant_source(text) is None
    _same(text, monkeypatch)


def test_dense_service_code_is_parsed_whole():
    text = "import requests\n" + "".join(
        f"\ndef call{n}():\n    return requests.get('http://x/{n}', timeout=3)\n" for n in range(20)
    ) + "\ndef tiny():\n    return 1\n"
    assert relevant_source(text) is None  # too little to drop to be worth a second look


# --- every Python file of the rule examples, and modules mixed from them --------------------


def _example_modules() -> list[tuple[str, str]]:
    out = []
    for doc in all_rules().values():
        for i, example in enumerate(doc.examples):
            for path, content in dict(example.files).items():
                if path.endswith(".py") and isinstance(content, str):
                    out.append((f"{doc.id}-{i}-{path}", content))
    fixtures = Path(__file__).parent / "fixtures"
    for path in sorted(fixtures.rglob("*.py")):
        out.append((str(path.relative_to(fixtures)), path.read_text(encoding="utf-8")))
    return out


EXAMPLES = _example_modules()


@pytest.mark.parametrize("name, text", EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_rule_example_modules_with_filler(monkeypatch, name, text):
    # the examples are short and all relevant: with filler around them a cut really happens
    text = text + "\n" + FILLER.replace("from dataclasses", "#")
    _same(text, monkeypatch)


def _top_level_pieces(text: str) -> tuple[list[str], list[str]]:
    """(imports and constants, functions and classes) of a module, as source text."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return [], []
    lines = text.splitlines()
    plain, defs = [], []
    for stmt in tree.body:
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
        piece = "\n".join(lines[first - 1 : stmt.end_lineno])
        (defs if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else plain).append(piece)
    return plain, defs


PLAIN: list[str] = []
DEFS: list[str] = [FILLER.split("\n\n\n")[0].strip(), FILLER.split("\n\n\n")[1].strip()]
for _, _text in EXAMPLES:
    _plain, _defs = _top_level_pieces(_text)
    PLAIN += [p for p in _plain if p not in PLAIN]
    DEFS += [d for d in _defs if d not in DEFS]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plain=st.lists(st.sampled_from(PLAIN), max_size=8, unique=True),
    defs=st.lists(st.sampled_from(DEFS), min_size=1, max_size=10),
)
def test_modules_mixed_from_the_examples(monkeypatch, plain, defs):
    text = "from dataclasses import dataclass\n" + "\n\n".join(plain) + "\n\n\n" + "\n\n\n".join(defs) + "\n"
    try:
        ast.parse(text)
    except SyntaxError:
        return  # e.g. `from __future__` after other statements
    _same(text, monkeypatch)


_PIECES = st.sampled_from([
    "def f():\n", "    return requests.get(x, timeout=1)\n", "class C:\n", "    x = 1\n", "@d\n", "import requests\n",
    '"""\n', "'''\n", "else:\n", "x = (\n", ")\n", "while True:\n", "    pass\n", "# c\n", "\n", "\\\n", "async def g():\n",
    "tok = AutoTokenizer.from_pretrained(m)\n", "    len(tok(x))\n", "\r\n", "\f", "é = 1\n", "@app.post('/x')\n",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=20)), max_size=40))
def test_a_cut_only_blanks_whole_lines(pieces):
    text = "".join(pieces)
    cut = relevant_source(text)
    if cut is None:
        return
    blanked, dropped = cut
    assert blanked.count("\n") == text.count("\n")
    for number, (before, after) in enumerate(zip(text.split("\n"), blanked.split("\n")), 1):
        assert after in (before, ""), number
        if after != before:
            assert any(first <= number <= last for first, last in dropped), number


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([
    "while True:", "while  1 :", "While True:", "while\tTrue\t:", "https://x", "HTTP://y", "xhttp://", "ftp://z", "://",
    "vector(3)", "VECTOR (8)", "vectors", "langchain", "LangChain", "\n", "\ndef f():\n", " ", "a", "(", "\nclass C:\n",
]), max_size=30))
def test_special_text_found_the_same_by_both_paths(pieces):
    from safeai_lint.sources.python_relevant import _ANY_SPECIAL, _chunks, _special_chunks

    text = "".join(pieces)
    starts = [start for start, _, _ in _chunks(text)]
    expected = {bisect.bisect_right(starts, m.start()) - 1 for m in _ANY_SPECIAL.finditer(text)}
    assert _special_chunks(text, starts) == expected


def test_every_module_the_file_prefilter_knows_keeps_a_function():
    # python._INTERESTING lets a file through; python_relevant.VOCABULARY keeps a function:
    # a module named only in the first would pass the file and then lose every function
    from safeai_lint.sources.python_relevant import VOCABULARY

    pattern = python_source._INTERESTING.pattern
    modules = pattern[pattern.index("\\b(") + 3 : pattern.index("|\\w*(?:")]  # the module names, before the constants
    names = set()
    for alternative in modules.split("|"):
        if alternative.endswith("2?"):
            names |= {alternative[:-2], alternative[:-2] + "2"}
        elif re.fullmatch(r"\w+", alternative):
            names.add(alternative)
    assert len(names) > 30
    assert names - VOCABULARY == set()
