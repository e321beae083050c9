"""Python source as the Python rules see it: one AST per file, and what each imported name
really is (`import tenacity as t` makes `t.retry` mean `tenacity.retry`).

Parsing is the most expensive step of a scan, so `interesting()` first asks, on the raw text,
whether the file mentions any module a Python rule cares about; only then is an AST built.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ..facts import Location
from .base import SourceText

# Modules some Python rule cares about. A file that mentions none of them is never parsed.
_INTERESTING = re.compile(
    r"\b(tenacity|backoff|urllib3|requests|httpx|aiohttp|openai|anthropic|langchain\w*|"
    r"torch|transformers|tiktoken|vllm|sglang|prometheus_client|pinecone|qdrant_client|chromadb|"
    r"weaviate|pymilvus|lancedb|faiss|pgvector|psycopg2?|asyncpg|sqlalchemy|boto3|huggingface_hub|"
    r"fastapi|flask|starlette|grpc|pybreaker|circuitbreaker|aiobreaker|purgatory)\b"
)


def interesting(text: str) -> bool:
    return _INTERESTING.search(text) is not None


@dataclass
class PythonModule:
    """A parsed module: its AST and the import table resolving local names."""

    tree: ast.Module
    names: dict[str, str] = field(default_factory=dict)  # local name -> dotted qualified name

    def qualname(self, node: ast.AST) -> str:
        """The dotted name an expression refers to, imports resolved ("" if not a name).

        `t.retry` with `import tenacity as t` -> "tenacity.retry"; `retry` with
        `from tenacity import retry` -> "tenacity.retry"; a call resolves its function.
        """
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


def _import_table(tree: ast.Module) -> dict[str, str]:
    names: dict[str, str] = {}
    for node in ast.walk(tree):
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


def _parse(src: SourceText) -> PythonModule | None:
    try:
        tree = ast.parse(src.text, filename=src.rel)
    except SyntaxError as exc:
        src.problem("SAI001", f"invalid Python: {exc.msg}", exc.lineno or 1, exc.offset or 1)
        return None
    except (RecursionError, MemoryError):
        src.problem("SAI002", "Python source too deeply nested to analyse; not analysed")
        return None
    except ValueError as exc:  # e.g. source with NUL bytes
        src.problem("SAI001", f"invalid Python: {exc}")
        return None
    return PythonModule(tree, _import_table(tree))


def module(src: SourceText) -> PythonModule | None:
    """The parsed module, shared by every Python extractor; None when it mentions nothing of
    interest or cannot be parsed (then a diagnostic is recorded)."""
    if not interesting(src.text):
        return None
    return src.cached("python", _parse)


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
