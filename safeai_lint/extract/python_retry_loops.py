"""`while True:` loops that retry a remote call after every exception with no attempt bound
(SAI401): the loop leaves on success, some handler loops again, and nothing counts attempts
or watches a deadline."""
from __future__ import annotations

import ast
import math
from typing import Iterator

from ..facts import RetryPolicy
from ..sources.base import SourceText
from ..sources.python import PythonModule

# Method names that send a request or run inference, whatever the receiver.
REMOTE_METHODS = {"post", "patch", "request", "create", "acreate", "generate", "agenerate",
                  "invoke", "ainvoke", "predict", "infer", "completion", "embed", "send", "urlopen"}


def retry_loop(src: SourceText, mod: PythonModule, loop: ast.While) -> Iterator[RetryPolicy]:
    body = list(_own_nodes(loop.body))
    retrying = False
    for node in body:
        if not isinstance(node, ast.Try):
            continue
        inside = list(_own_nodes(node.body + node.orelse))
        calls = any(isinstance(c, ast.Call) and _remote(mod, c) for c in inside)
        # A retry loop leaves on success; a worker loop that moves on to the next item does not.
        leaves = any(isinstance(n, (ast.Return, ast.Break)) for n in inside)
        if calls and leaves and any(not _exits(h.body) for h in node.handlers):
            retrying = True
    if not retrying or _bounded(body):
        return
    where = src.find_loc(loop.lineno, "while")
    yield RetryPolicy("python-loop", where, math.inf, where,
                      "a `while True:` loop retries the call after every exception with no attempt limit")


def callee_name(node: ast.AST) -> str:
    """The last dotted part of a callee or name (`wait_fixed` in `tenacity.wait_fixed(1)`)."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _remote(mod: PythonModule, call: ast.Call) -> bool:
    q = mod.qualname(call)
    if q.split(".")[0] in ("requests", "httpx", "aiohttp", "openai", "anthropic", "urllib"):
        return True
    if isinstance(call.func, ast.Attribute):
        if call.func.attr in REMOTE_METHODS:
            return True
        receiver = callee_name(call.func.value).lower()
        return call.func.attr == "get" and any(w in receiver for w in ("session", "client", "http"))
    return False


def _own_nodes(stmts: list[ast.stmt]) -> Iterator[ast.AST]:
    """Nodes of a loop body, not descending into nested loops, functions or classes."""
    stack: list[ast.AST] = list(stmts)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.While, ast.For, ast.AsyncFor, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                stack.append(child)


def _exits(stmts: list[ast.stmt]) -> bool:
    """Does this block always leave the loop (raise, return, break)?"""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, (ast.Raise, ast.Return, ast.Break)):
        return True
    if isinstance(last, ast.If):
        return _exits(last.body) and _exits(last.orelse)
    return False


def _bounded(body: list[ast.AST]) -> bool:
    """Does the loop body stop retrying after a count or a deadline? A counter is a name
    incremented in the loop and compared in an `if` that raises, returns or breaks."""
    counters = set()
    for node in body:
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            counters.add(node.target.id)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.BinOp):
            for target in node.targets:
                if isinstance(target, ast.Name) and any(isinstance(n, ast.Name) and n.id == target.id for n in ast.walk(node.value)):
                    counters.add(target.id)
    for node in body:
        if not isinstance(node, ast.If):
            continue
        exits = any(isinstance(n, (ast.Raise, ast.Return, ast.Break)) for s in node.body + node.orelse for n in ast.walk(s))
        if not exits:
            continue
        for cmp in (n for n in ast.walk(node.test) if isinstance(n, ast.Compare)):
            names = {n.id for n in ast.walk(cmp) if isinstance(n, ast.Name)}
            clocks = {callee_name(n) for n in ast.walk(cmp) if isinstance(n, ast.Call)}
            if names & counters or clocks & {"time", "monotonic", "perf_counter"}:
                return True
    return False
