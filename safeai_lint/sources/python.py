"""Python source as the Python rules see it: one AST per file, and what each imported name
really is (`import tenacity as t` makes `t.retry` mean `tenacity.retry`).

Parsing is the most expensive step of a scan, so `interesting()` first asks, on the raw text,
whether the file mentions any module a Python rule cares about; only then is an AST built,
and only of the parts of the module a rule can read (`python_relevant`).
"""
from __future__ import annotations

import ast
import bisect
import sys
import gc
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ..facts import Location
from .base import SourceText
from .python_relevant import relevant_source

# Modules some Python rule cares about. A file that mentions none of them is never parsed.
_INTERESTING = re.compile(
    r"\b(tenacity|backoff|urllib3|requests|httpx|aiohttp|openai|anthropic|langchain\w*|"
    r"torch|transformers|tiktoken|vllm|sglang|prometheus_client|pinecone|qdrant_client|chromadb|"
    r"weaviate|pymilvus|lancedb|faiss|pgvector|psycopg2?|asyncpg|sqlalchemy|boto3|huggingface_hub|"
    r"fastapi|flask|starlette|grpc|pybreaker|circuitbreaker|aiobreaker|purgatory|"
    # settings modules holding only constants: embedding dimensions, token budgets
    r"\w*(?:EMBEDDING_DIM|embedding_dim|MAX_INPUT_TOKENS|max_input_tokens|MAX_PROMPT_TOKENS|"
    r"max_prompt_tokens|MAX_CONTEXT_TOKENS|max_context_tokens|TOKEN_BUDGET|token_budget)\w*)\b"
)


def interesting(text: str) -> bool:
    # Why not a finer test (say, the module named in an import statement): once a file is
    # parsed, many facts need no import at all (`.generate()` calls, URL strings, `while True`
    # retry loops, `.post(..., timeout=)`, `create_index(dimension=)`, SQL `vector(N)`), so any
    # file this lets through but a finer test would not can carry findings. The benchmark
    # corpus gains nothing either: every module there imports fastapi, requests or torch.
    return _INTERESTING.search(text) is not None


@dataclass
class PythonModule:
    """A parsed module: its AST and the import table resolving local names."""

    tree: ast.Module
    names: dict[str, str] = field(default_factory=dict)  # local name -> dotted qualified name
    _nodes: list[ast.AST] | None = field(default=None, repr=False)
    _parents: list[int] | None = field(default=None, repr=False)
    _by_type: dict[type, list[int]] | None = field(default=None, repr=False)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    _qualnames: dict[int, tuple[ast.AST, str]] = field(default_factory=dict, repr=False)

    @property
    def nodes(self) -> list[ast.AST]:
        """Every node but the Load/Store/Del markers, in `ast.walk` order, listed once per file.

        Why: several extractors each walked the whole tree; iterating this list instead of
        calling `ast.walk(mod.tree)` again costs a tenth of a walk.
        """
        if self._nodes is None:
            self._nodes, self._parents = _flatten(self.tree)
        return self._nodes

    @property
    def parents(self) -> list[int]:
        """`parents[i]` is the position in `nodes` of the parent of `nodes[i]` (-1: the root).

        Why: the scope of a node (its function, an enclosing loop) is a short climb up this
        list, where re-walking the tree with a context stack costs a whole walk per question.
        """
        if self._parents is None:
            self._nodes, self._parents = _flatten(self.tree)
        return self._parents

    def positions(self, *types: type) -> list[int]:
        """Positions in `nodes` of the nodes of exactly these classes, in `ast.walk` order
        (a shared list: do not modify)."""
        if self._by_type is None:
            index: dict[type, list[int]] = {}
            for position, node in enumerate(self.nodes):
                index.setdefault(type(node), []).append(position)
            self._by_type = index
        if len(types) == 1:
            return self._by_type.get(types[0], [])
        positions = [p for t in types for p in self._by_type.get(t, ())]
        positions.sort()
        return positions

    def of(self, *types: type) -> list[ast.AST]:
        """The nodes of exactly these classes (e.g. `ast.Call`), in `ast.walk` order."""
        nodes = self.nodes
        return [nodes[p] for p in self.positions(*types)]

    def cached(self, key: str, build: Callable[[PythonModule], Any]) -> Any:
        """An index derived from this module (assignments, constants...), built once and
        shared by every extractor that asks for it."""
        if key not in self._memo:
            self._memo[key] = build(self)
        return self._memo[key]

    def qualname(self, node: ast.AST) -> str:
        """The dotted name an expression refers to, imports resolved ("" if not a name).

        `t.retry` with `import tenacity as t` -> "tenacity.retry"; `retry` with
        `from tenacity import retry` -> "tenacity.retry"; a call resolves its function.
        """
        # Why a memo: every Python extractor asks this of every call; the node is kept with
        # the answer so that a recycled id() can never return another node's name.
        hit = self._qualnames.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        name = self._qualname(node)
        self._qualnames[id(node)] = (node, name)
        return name

    def _qualname(self, node: ast.AST) -> str:
        if isinstance(node, ast.Call):
            node = node.func
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return ""
        head = self.names.get(node.id, "")
        if not head:
            return ""
        return ".".join([head, *reversed(parts)])


# Fields never worth descending into: `ctx` holds the Load/Store/Del marker of every name,
# attribute and subscript (a third of all nodes) and no extractor asks for it.
_SKIPPED_FIELDS = frozenset({"ctx"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _flatten(tree: ast.AST) -> tuple[list[ast.AST], list[int]]:
    """`list(ast.walk(tree))` (breadth first, same order) without a generator per node and
    without the expression-context markers, and the position of each node's parent."""
    out, parents, i = [tree], [-1], 0
    append, parent, isinst, AST, fields = out.append, parents.append, isinstance, ast.AST, _CHILD_FIELDS
    while i < len(out):
        node = out[i]
        names = fields.get(type(node))
        if names is None:
            names = fields[type(node)] = tuple(f for f in node._fields if f not in _SKIPPED_FIELDS)
        for name in names:
            value = getattr(node, name, None)
            if isinst(value, AST):
                append(value)
                parent(i)
            elif type(value) is list:
                for item in value:
                    if isinst(item, AST):
                        append(item)
                        parent(i)
        i += 1
    return out, parents


def _import_table(nodes: list[ast.AST]) -> dict[str, str]:
    names: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if alias.name != "*":
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


# --- bounds checked before ast.parse ---------------------------------------------------------
# Why: CPython 3.11's parser needs ~0.5 KB per token, and a chain of operators thousands deep
# written on ONE line costs time and memory growing with the square of its length (measured:
# 40,000 unary minuses on one line, 8 s and 1.6 GB; 100,000: 50 s and 10 GB) before it fails
# anyway with RecursionError (beyond ~3,000 levels). Spread over lines the same chain fails in
# milliseconds, so only long lines are inspected, and only big files are counted.
MAX_TOKENS = 200_000  # ~100 MB of AST; a 1 MB file of ordinary code has far fewer
MAX_CHAIN = 10_000  # operators in one comma-free stretch of one line; parsing fails from ~3,000
_COUNT_FROM = 200_000  # characters; a smaller file cannot hold MAX_TOKENS tokens
_STRINGS = re.compile(r'(?s)""".*?"""|' r"'''.*?'''|" r'"(?:\\.|[^"\\\n])*"|' r"'(?:\\.|[^'\\\n])*'|#[^\n]*")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_CHAIN_OP = re.compile(r"[-+*/%@&|^~.(\[]|<<|>>|\b(?:not|if|lambda|await)\b")


def _too_big(text: str) -> tuple[int, str] | None:
    """(line, why) when parsing `text` would cost far more than any real module does."""
    lines = text.split("\n") if len(text) > MAX_CHAIN else ()
    if lines and max(map(len, lines)) > MAX_CHAIN:
        for number, line in enumerate(lines, 1):
            if len(line) <= MAX_CHAIN:
                continue
            for stretch in re.split(r"[,;]", _STRINGS.sub("", line)):
                if len(stretch) > MAX_CHAIN and len(_CHAIN_OP.findall(stretch)) > MAX_CHAIN:
                    return number, f"line {number} chains an expression over {MAX_CHAIN:,} operators deep"
    if len(text) > _COUNT_FROM:
        tokens = sum(1 for _ in _TOKEN.finditer(_STRINGS.sub("", text)))
        if tokens > MAX_TOKENS:
            return 1, f"about {tokens:,} tokens, over the {MAX_TOKENS:,} this linter parses in one file"
    return None


def _parse(src: SourceText) -> PythonModule | None:
    refused = _too_big(src.text)
    if refused:
        src.problem("SAI002", f"Python source not analysed: {refused[1]}", refused[0])
        return None
    # Why pause the collector: ast.parse allocates thousands of container objects per file,
    # which triggers collections that scan every live object of the scan so far; the tree
    # has no reference cycles, so nothing is lost. Measured on the benchmark corpus: parsing
    # takes 20-25 % less CPU (more when many facts are alive).
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        mod = _parse_relevant(src)
        if mod is None:
            mod = PythonModule(ast.parse(src.text, filename=src.rel))
    except SyntaxError as exc:
        # the grammar is this interpreter's: newer syntax (PEP 701 f-strings of 3.12) fails on
        # 3.11 although the project's own Python reads it; then the file is not broken code
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        if _valid_in_newer_python(src.text):
            src.problem("SAI002", f"not analysed: valid Python, but of a newer version than the running Python {version} "
                        f"can parse ({exc.msg}); run safeai-lint with the Python the project declares",
                        exc.lineno or 1, exc.offset or 1, level="note")
        else:
            src.problem("SAI001", f"invalid Python {version} syntax: {exc.msg}", exc.lineno or 1, exc.offset or 1)
        return None
    except (RecursionError, MemoryError):
        src.problem("SAI002", "Python source too deeply nested to analyse; not analysed")
        return None
    except ValueError as exc:  # e.g. source with NUL bytes
        src.problem("SAI001", f"invalid Python: {exc}")
        return None
    finally:
        if paused:
            gc.enable()
    mod.names = _import_table(mod.of(ast.Import, ast.ImportFrom))
    return mod


def _valid_in_newer_python(text: str) -> bool:
    """Whether `text` parses with the grammar of a newer Python than this one (LibCST reads
    Python 3.0 to 3.15 syntax, PEP 701 f-strings included). Only asked after `ast.parse`
    failed, so a file this interpreter reads never pays for it."""
    if sys.version_info >= (3, 14):
        return False
    try:
        import libcst
    except ImportError:  # pragma: no cover - a dependency; without it the old message stands
        return False
    try:
        libcst.parse_module(text)
    except Exception:  # noqa: BLE001 - any failure means: not valid in a newer Python either
        return False
    return True


def _parse_relevant(src: SourceText) -> PythonModule | None:
    """The parts of the module a rule can read (`python_relevant`), parsed; None when that is
    the whole module or the cut went wrong (then the caller parses it all and reports the
    syntax error a full parse finds)."""
    cut = relevant_source(src.text)
    if cut is None:
        return None
    text, dropped = cut
    try:
        mod = PythonModule(ast.parse(text, filename=src.rel))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    firsts = [first for first, _ in dropped]
    for node in mod.of(ast.Constant, ast.JoinedStr):
        end = node.end_lineno or node.lineno  # type: ignore[attr-defined]
        if end > node.lineno:  # type: ignore[attr-defined]
            # a multi-line string over a blanked stretch: a "top-level line" was inside it
            n = bisect.bisect_right(firsts, end) - 1
            if n >= 0 and dropped[n][1] >= node.lineno:  # type: ignore[attr-defined]
                return None
    return mod


def module(src: SourceText) -> PythonModule | None:
    """The parsed module, shared by every Python extractor; None when it mentions nothing of
    interest or cannot be parsed (then a diagnostic is recorded)."""
    if not interesting(src.text):
        return None
    return src.cached("python", _parse)


# Line breaks as the Python tokenizer sees them (\r\n, \r, \n; not \f or \v), ends kept.
_SOURCE_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def source_segment(src: SourceText, node: ast.AST) -> str | None:
    """`ast.get_source_segment(src.text, node)`, with the lines split once per file.

    Why: the standard function splits the whole source, character by character, on every
    call (~4 ms for a 300-line module).
    """
    try:
        if node.end_lineno is None or node.end_col_offset is None:  # type: ignore[attr-defined]
            return None
        first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined]
        start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
    except AttributeError:
        return None
    lines = src.cached("python-source-lines", lambda s: _SOURCE_LINE.findall(s.text))
    if first == last:
        return lines[first].encode()[start:end].decode()
    middle = lines[first + 1 : last]
    return "".join([lines[first].encode()[start:].decode(), *middle, lines[last].encode()[:end].decode()])


def node_loc(src: SourceText, node: ast.AST) -> Location:
    """The location of an AST node, columns converted from UTF-8 bytes to code points."""
    line = getattr(node, "lineno", 1) or 1
    end_line = getattr(node, "end_lineno", None) or line
    col = _chars(src.line_text(line), getattr(node, "col_offset", 0) or 0)
    end_col = _chars(src.line_text(end_line), getattr(node, "end_col_offset", 0) or 0)
    return Location(src.rel, line, col + 1, end_line, end_col + 1)


def _chars(line: str, byte_offset: int) -> int:
    if line.isascii():
        return byte_offset
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))
