"""Vector-database integrity: writes of embeddings (SAI801) and declared dimensions (SAI802).

A write is only recognised on an object that provably comes from a vector-store library
(`faiss.IndexFlatL2(...)`, `QdrantClient(...)`, `pc.Index(...)`, `client.get_collection(...)`),
so `set.add` and `db.insert` of unrelated objects never count. pgvector writes are SQL
`INSERT`s run in a module that uses pgvector.
"""
from __future__ import annotations

import ast
import re
from typing import Any, Iterable

from ..facts import DimensionDecl, VectorWrite
from ..sources.base import SourceText
from ..sources.python import PythonModule, module, node_loc
from ..sources.python_scopes import Scopes, called_functions, scopes
from ..sources.yaml import YList, YMap
from .python_code import assignments, const_value, module_constants, target_key

_STORE_LIBS = {
    "pinecone": "Pinecone",
    "qdrant_client": "Qdrant",
    "chromadb": "Chroma",
    "weaviate": "Weaviate",
    "pymilvus": "Milvus",
    "lancedb": "LanceDB",
    "faiss": "FAISS",
    "langchain_community.vectorstores": "LangChain vector store",
    "langchain.vectorstores": "LangChain vector store",
    "langchain_chroma": "Chroma",
    "langchain_pinecone": "Pinecone",
    "langchain_qdrant": "Qdrant",
    "langchain_milvus": "Milvus",
}
_WRITE_METHODS = {
    "upsert", "add", "insert", "add_texts", "add_embeddings", "add_documents", "add_with_ids",
    "insert_many", "upload_points", "upload_collection", "add_object",
}
# Calls that test values for NaN/Inf (or replace them).
_FINITE_CHECKS = {"isfinite", "isnan", "isinf", "isposinf", "isneginf", "nan_to_num", "assert_all_finite", "isna", "isnull"}
_INSERT_SQL = re.compile(r"(?is)^\s*(insert\s+into|copy\s+\w+)")
_SQL_VECTOR = re.compile(r"(?i)\bvector\s*\(\s*(\d+)\s*\)")
_SQL_DDL = re.compile(r"(?i)\b(create\s+table|alter\s+table|add\s+column)|::vector")
_DIM_NAME = re.compile(r"(?i)^(embedding|embeddings|embed|vector)[_-]?(dim|dims|dimension|dimensions|size)$")
_DIM_KWARG_CALLS = {"create_index", "create_collection"}
_MAX_DEPTH = 3


def _lib_store(qualname: str) -> str:
    if not qualname:  # most expressions name nothing imported
        return ""
    for prefix, store in _STORE_LIBS.items():
        if qualname == prefix or qualname.startswith(prefix + "."):
            return store
    return ""


class _Stores:
    """Which expressions in a module are vector-store objects."""

    def __init__(self, mod: PythonModule) -> None:
        self.mod = mod
        self.known: dict[str, str] = {}
        pairs = list(assignments(mod))
        for node in mod.of(ast.With, ast.AsyncWith, ast.arg):
            if isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None and target_key(item.optional_vars):
                        pairs.append((target_key(item.optional_vars), item.context_expr))
            elif isinstance(node, ast.arg) and node.annotation is not None:
                store = _lib_store(mod.qualname(node.annotation))
                if store:
                    self.known[node.arg] = store
        for _ in range(2):  # twice: an assignment may use a name bound later in the text
            for key, value in pairs:
                store = self.store_of(value)
                if store:
                    self.known.setdefault(key, store)

    def store_of(self, node: ast.AST, depth: int = 0) -> str:
        if depth > 12:
            return ""
        if isinstance(node, ast.Call):
            store = _lib_store(self.mod.qualname(node))
            if store:
                return store
            if isinstance(node.func, ast.Attribute):
                return self.store_of(node.func.value, depth + 1)
            return ""
        if isinstance(node, (ast.Name, ast.Attribute)):
            key = target_key(node)
            if key in self.known:
                return self.known[key]
            if isinstance(node, ast.Attribute):
                return self.store_of(node.value, depth + 1)
            return _lib_store(self.mod.qualname(node))
        if isinstance(node, ast.Await):
            return self.store_of(node.value, depth + 1)
        return ""


def _has_check(scope: ast.AST, sc: Scopes, seen: set[int], depth: int = 0) -> bool:
    """Does `scope` (a function, or the module outside its top-level defs and classes), or a
    helper it calls, test values for NaN/Inf?"""
    if id(scope) in seen or depth > _MAX_DEPTH:
        return False
    seen.add(id(scope))
    if isinstance(scope, ast.Module):
        calls = sc.module_calls
    else:
        known = sc.calls_in.get(id(scope))
        calls = known if known is not None else [n for n in ast.walk(scope) if isinstance(n, ast.Call)]
    for node in calls:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in _FINITE_CHECKS:
            return True
    if isinstance(scope, ast.Module):
        return False
    return any(_has_check(helper, sc, seen, depth + 1) for helper in called_functions(scope, sc))


def _callers(func: ast.AST, sc: Scopes) -> list[ast.AST]:
    name = getattr(func, "name", "")
    return [f for fs in sc.functions.values() for f in fs if f is not func and any(g is func for g in called_functions(f, sc))] if name else []


def _validated(call: ast.Call, tree: ast.Module, sc: Scopes) -> bool:
    func = sc.func_of.get(id(call))
    if func is None:
        return _has_check(tree, sc, set())
    if _has_check(func, sc, set()):
        return True
    # validation done by the caller before it hands the vectors to this writer
    return any(_has_check(caller, sc, set()) for caller in _callers(func, sc))


def python_vectors(src: SourceText) -> Iterable[object]:
    mod = module(src)
    if mod is None:
        return []
    sc = scopes(src, mod)
    stores = _Stores(mod)
    uses_pgvector = any(v == "pgvector" or v.startswith("pgvector.") for v in mod.names.values())
    consts = module_constants(mod)
    facts: list[object] = []
    for call in sc.calls:
        func = call.func
        if not isinstance(func, ast.Attribute):
            continue
        store, method = "", func.attr
        if method in _WRITE_METHODS:
            store = stores.store_of(func.value)
            if store == "FAISS" and method not in ("add", "add_with_ids"):
                store = ""
        elif method in ("execute", "executemany") and call.args:
            sql = _sql_text(call.args[0], consts)
            if _INSERT_SQL.match(sql) and (uses_pgvector or "::vector" in sql.lower() or _VECTOR_COLUMN.search(sql)):
                store, method = "pgvector", "INSERT"
        if store:
            facts.append(VectorWrite(store, method, _validated(call, mod.tree, sc), node_loc(src, call)))
    facts.extend(_python_dimensions(src, mod, sc))
    return facts


# `INSERT INTO items (id, embedding) VALUES ...`: a column list naming a vector column marks a
# pgvector write even in a module that never imports pgvector (plain DB-API `execute`).
_VECTOR_COLUMN = re.compile(r"(?is)^\s*insert\s+into\s+[\w.\"]+\s*\(([^)]*\b(embeddings?|vectors?|emb|\w+_embeddings?|embedding_\w+)\b[^)]*)\)")


def _sql_text(node: ast.AST, consts: dict[str, object]) -> str:
    """The SQL a DB-API call runs: a literal, a module constant, or an f-string's literal parts."""
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "x" for v in node.values)
    value = const_value(node, consts)
    return value if isinstance(value, str) else ""


def _int_literal(node: ast.AST | None) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def _python_dimensions(src: SourceText, mod: PythonModule, sc: Scopes) -> Iterable[DimensionDecl]:
    consts = module_constants(mod)
    for stmt in mod.tree.body:
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else getattr(stmt, "target", None)
        if isinstance(target, ast.Name) and _DIM_NAME.match(target.id) and type(consts.get(target.id)) is int:
            yield DimensionDecl(int(consts[target.id]), f"constant {target.id}", node_loc(src, stmt))  # type: ignore[call-overload]
    for call in sc.calls:
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        qual = mod.qualname(call)
        kwargs = {kw.arg: kw.value for kw in call.keywords if kw.arg}
        found: tuple[ast.AST | None, str] = (None, "")
        if name in _DIM_KWARG_CALLS and "dimension" in kwargs:
            found = (kwargs["dimension"], f"{name}(dimension=)")
        elif name == "VectorParams" and "size" in kwargs:
            found = (kwargs["size"], "VectorParams(size=)")
        elif "dim" in kwargs and (qual.startswith("pymilvus.") or name in ("FieldSchema", "add_field")):
            found = (kwargs["dim"], f"{name}(dim=)")
        elif qual.startswith("pgvector.") and name == "Vector" and call.args:
            found = (call.args[0], "pgvector Vector(N)")
        value = _int_literal(found[0])
        if value is not None and found[0] is not None:
            yield DimensionDecl(value, found[1], node_loc(src, found[0]))
    for node in mod.of(ast.Constant):  # type: ignore[assignment]
        if isinstance(node.value, str) and _SQL_DDL.search(node.value):
            for match in _SQL_VECTOR.finditer(node.value):
                line = node.lineno + node.value.count("\n", 0, match.start())
                if line == node.lineno:
                    yield DimensionDecl(int(match.group(1)), "SQL vector(N)", node_loc(src, node))
                else:
                    yield DimensionDecl(int(match.group(1)), "SQL vector(N)", src.find_loc(line, match.group(0)))


# SQL comments and quoted strings, blanked out (same length) before `vector(N)` is looked for:
# `-- was vector(768)` and `COMMENT ... IS 'vector(768) before'` declare nothing. An unclosed
# comment or string runs to the end of the file (as in SQL): every match succeeds where it
# starts, so a hostile file of unclosed `/*` stays linear.
_SQL_NOISE = re.compile(r"--[^\n]*|/\*.*?(?:\*/|\Z)|'(?:[^']|'')*(?:'|\Z)", re.S)


def sql_dimensions(src: SourceText) -> Iterable[object]:
    """`vector(N)` in the DDL of `.sql` files (pgvector migrations and schemas): a column
    type in CREATE TABLE / ALTER TABLE / ADD COLUMN, or a `::vector(N)` cast."""
    text = _SQL_NOISE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), src.text)
    out: list[object] = []
    start = 0
    for statement in text.split(";"):
        if _SQL_DDL.search(statement):
            for match in _SQL_VECTOR.finditer(statement):
                where = src.span_loc(start + match.start(), len(match.group(0)))
                out.append(DimensionDecl(int(match.group(1)), "SQL vector(N)", where))
        start += len(statement) + 1
    return out


def config_dimensions(src: SourceText) -> Iterable[object]:
    """`embedding_dim: 1536`-style keys in YAML configuration."""
    out: list[object] = []
    for doc in src.yaml_documents():
        stack: list[Any] = [doc.value]
        while stack:
            node = stack.pop()
            if isinstance(node, YMap):
                for key, value in node.items():
                    if isinstance(key, str) and _DIM_NAME.match(key):
                        number = value if type(value) is int else int(value) if isinstance(value, str) and value.isdigit() else None
                        if number is not None:
                            out.append(DimensionDecl(number, f"config {key}", src.loc(node.key_pos(key))))
                    elif isinstance(value, (YMap, YList)):
                        stack.append(value)
            elif isinstance(node, YList):
                stack.extend(v for v in node if isinstance(v, (YMap, YList)))
    out.sort(key=lambda d: d.location)  # type: ignore[attr-defined]
    return out
