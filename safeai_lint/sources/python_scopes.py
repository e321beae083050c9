"""Where each call of a module sits: its innermost function, whether a loop repeats it there,
which same-module functions it reaches. Built once per file from the shared node list of
`sources.python` and used by the Python extractors (SAI604 generation in handlers and loops,
SAI801 validation before vector writes)."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .base import SourceText
from .python import PythonModule

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
# A call under one of these (in the same function) runs once per item.
_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass
class Scopes:
    """Where each call sits: its innermost function and whether it runs in a loop there."""

    func_of: dict[int, ast.AST | None] = field(default_factory=dict)  # id(call) -> function
    in_loop: set[int] = field(default_factory=set)  # id(call) of calls run in a loop
    functions: dict[str, list[ast.AST]] = field(default_factory=dict)  # name -> defs, source order
    class_of: dict[int, ast.ClassDef] = field(default_factory=dict)  # id(function) -> class
    calls: list[ast.Call] = field(default_factory=list)  # by (line, column), then tree order
    calls_in: dict[int, list[ast.Call]] = field(default_factory=dict)  # id(function) -> calls in it
    module_calls: list[ast.Call] = field(default_factory=list)  # calls outside top-level defs/classes
    callees: dict[int, list[ast.AST]] = field(default_factory=dict)  # memo of called_functions


def scopes(src: SourceText, mod: PythonModule) -> Scopes:
    """Function/loop context of every call, from the module's shared node list (cached)."""
    return src.cached("python-scopes", lambda _s: _build_scopes(mod))


def _build_scopes(mod: PythonModule) -> Scopes:
    # Why not walk the tree with a context stack: only calls and function definitions are
    # ever asked about, a few hundred per file, and their context is a short climb up
    # `parents`, where the walk visited all ~2,000 nodes through ast.iter_child_nodes.
    # (A definition's ancestors are statements only, at most ~100 levels of indentation.)
    out = Scopes()
    nodes, parents = mod.nodes, mod.parents
    for position in _tree_order(parents, mod.positions(*_FUNCTIONS)):
        func = nodes[position]
        out.functions.setdefault(func.name, []).append(func)  # type: ignore[attr-defined]
        out.calls_in[id(func)] = []
        up = parents[position]
        while up > 0:  # the innermost class, unless a function comes first
            owner = nodes[up]
            if isinstance(owner, _FUNCTIONS):
                break
            if isinstance(owner, ast.ClassDef):
                out.class_of[id(func)] = owner
                break
            up = parents[up]
    # The context of a node follows from its parent's, so it is filled in top-down, only on
    # the paths from the calls up, each node once (a chain of 3,000 calls stays linear):
    # `above[i]` the innermost function enclosing node i (-1 none, -2 not known yet),
    # `looped[i]` whether a loop lies between i and that function, `top[i]` i's statement
    # in the module body.
    count = len(nodes)
    above, looped, top = [-2] * count, [False] * count, [0] * count
    above[0] = -1
    calls = mod.positions(ast.Call)
    for position in calls:
        pending, up = [], position
        while above[up] == -2:
            pending.append(up)
            up = parents[up]
        for node in reversed(pending):
            parent = parents[node]
            owner = nodes[parent]
            if isinstance(owner, _FUNCTIONS):
                above[node], looped[node] = parent, False
            else:
                above[node], looped[node] = above[parent], looped[parent] or isinstance(owner, _LOOPS)
            top[node] = node if parent == 0 else top[parent]
        call = nodes[position]
        func = above[position]
        out.func_of[id(call)] = nodes[func] if func >= 0 else None
        if looped[position]:
            out.in_loop.add(id(call))
        while func >= 0:  # the call is in every function around it
            out.calls_in[id(nodes[func])].append(call)  # type: ignore[arg-type]
            func = above[func]
        if not isinstance(nodes[top[position]], (*_FUNCTIONS, ast.ClassDef)):
            out.module_calls.append(call)  # type: ignore[arg-type]
    out.calls = _by_position(parents, calls, nodes)
    return out


def _path(parents: list[int], position: int) -> list[int]:
    """Positions from the root down to `position`: ordering these paths lexicographically
    orders nodes as a depth-first walk would (ancestors first, siblings in field order)."""
    path = [position]
    while parents[position] >= 0:
        position = parents[position]
        path.append(position)
    path.reverse()
    return path


def _tree_order(parents: list[int], positions: list[int]) -> list[int]:
    return sorted(positions, key=lambda p: _path(parents, p))


def _one_chain(parents: list[int], positions: list[int]) -> bool:
    """Is each of these positions (in `ast.walk` order) an ancestor of the next?"""
    for upper, lower in zip(positions, positions[1:]):
        while lower > upper:  # an ancestor always comes earlier in `ast.walk` order
            lower = parents[lower]
        if lower != upper:
            return False
    return True


def _by_position(parents: list[int], positions: list[int], nodes: list[ast.AST]) -> list[ast.Call]:
    """Calls by (line, column); calls starting at the same place in depth-first tree order
    (what the stack walk this replaced produced before its stable sort).

    Calls starting at one place are nearly always nested (`a.b().c()`); listed in `ast.walk`
    order, as the stable sort leaves them, they already are in depth-first order.
    """
    ordered = sorted(positions, key=lambda p: (nodes[p].lineno, nodes[p].col_offset))  # type: ignore[attr-defined]
    out: list[int] = []
    i = 0
    while i < len(ordered):
        j = i + 1
        key = (nodes[ordered[i]].lineno, nodes[ordered[i]].col_offset)  # type: ignore[attr-defined]
        while j < len(ordered) and (nodes[ordered[j]].lineno, nodes[ordered[j]].col_offset) == key:  # type: ignore[attr-defined]
            j += 1
        group = ordered[i:j]
        out.extend(group if len(group) == 1 or _one_chain(parents, group) else _tree_order(parents, group))
        i = j
    return [nodes[p] for p in out]  # type: ignore[misc]


def called_functions(func: ast.AST, sc: Scopes) -> list[ast.AST]:
    """Same-module functions `func` calls directly (`helper(...)`, `self.helper(...)`), in
    `ast.walk` order of the calls; memoised, do not modify."""
    known = sc.callees.get(id(func))
    if known is not None:
        return known
    calls = sc.calls_in.get(id(func))
    if calls is None:  # not a function of this module: walk it
        calls = [node for node in ast.walk(func) if isinstance(node, ast.Call)]
    found = []
    for node in calls:
        name = ""
        if isinstance(node.func, ast.Name):
            name = node.func.id
        elif isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) and node.func.value.id in ("self", "cls"):
            name = node.func.attr
        for target in sc.functions.get(name, ()):
            if target is not func:
                found.append(target)
    if id(func) in sc.calls_in:
        sc.callees[id(func)] = found
    return found
