"""Where a Python HTTP call goes, as far as the code says statically.

A URL is read from a literal, a module constant or any variable assigned one text in the
module (`BASE = "http://vllm:8000"`, `url = f"{BASE}/v1/chat/completions"`), f-strings and `+`
joins of those, and `urljoin(base, path)`. Parts that stay unknown read as `{}`, so a path the
rules know (`/v1/completions`) is still seen after an unknown host. Also: which variables hold
an HTTP session (`aiohttp.ClientSession`, `httpx.Client`, `requests.Session`), so calls made
through a session are judged with the session's timeout.
"""
from __future__ import annotations

import ast
import re

from ..sources.python import PythonModule
from .python_code import assignments, target_key
from ..records import Frozen, record

INFERENCE_PATH = re.compile(r"/(v1/chat/completions|v1/completions|v1/embeddings|generate|predict|infer)\b")
SESSIONS = {"aiohttp.ClientSession": "aiohttp", "httpx.Client": "httpx", "httpx.AsyncClient": "httpx",
            "requests.Session": "requests", "requests.sessions.Session": "requests"}
MAX_DEPTH = 8


class UrlReader:
    def __init__(self, mod: PythonModule) -> None:
        self.mod = mod
        self._values: dict[str, list[ast.AST]] = {}
        for key, value in assignments(mod):
            self._values.setdefault(key, []).append(value)
        self._memo: dict[str, str] = {}

    def text(self, node: ast.AST | None, depth: int = 0) -> str:
        """The text of a string expression, `{}` for each part that cannot be read."""
        if node is None or depth > MAX_DEPTH:
            return "{}"
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else "{}"
        if isinstance(node, ast.JoinedStr):
            return "".join(self.text(v, depth + 1) for v in node.values)
        if isinstance(node, ast.FormattedValue):
            return self.text(node.value, depth + 1) if node.format_spec is None else "{}"
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.text(node.left, depth + 1) + self.text(node.right, depth + 1)
        if isinstance(node, ast.Call) and self.mod.qualname(node) in ("urllib.parse.urljoin", "urlparse.urljoin") \
                and len(node.args) == 2:
            return _urljoin(self.text(node.args[0], depth + 1), self.text(node.args[1], depth + 1))
        key = target_key(node) if isinstance(node, (ast.Name, ast.Attribute)) else ""
        values = self._values.get(key, ()) if key else ()
        if len(values) == 1:  # one assignment in the module: its value is the variable's value
            if key not in self._memo:
                self._memo[key] = "{}"  # a self-reference reads as unknown
                self._memo[key] = self.text(values[0], depth + 1)
            return self._memo[key]
        return "{}"

    def url(self, call: ast.Call, verb: str) -> tuple[tuple[str, ...], bool]:
        """(hosts, is an inference path) of the URL an HTTP call or client names."""
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        arg = kw.get("url") or kw.get("base_url")
        if arg is None and call.args:
            arg = call.args[1] if verb in ("request", "stream") and len(call.args) > 1 else call.args[0]
        if arg is None:
            return (), False
        text = self.text(arg)
        host = re.match(r"^\w+://([^/:?{}]+)", text)
        return ((host.group(1),) if host else ()), bool(INFERENCE_PATH.search(text))

    def sessions(self) -> list[Session]:
        """Variables (`session`, `self.client`) bound to an HTTP session constructor, by
        assignment (the whole module) or by `with ... as session` (that block only)."""
        found: list[Session] = []
        for key, value in assignments(self.mod):
            lib = SESSIONS.get(self.mod.qualname(value)) if isinstance(value, ast.Call) else None
            if lib:
                found.append(Session(key, lib, value, 0, 1 << 30))  # type: ignore[arg-type]
        for node in self.mod.of(ast.With, ast.AsyncWith):
            for item in node.items:  # type: ignore[attr-defined]
                value, target = item.context_expr, item.optional_vars
                lib = SESSIONS.get(self.mod.qualname(value)) if isinstance(value, ast.Call) else None
                if lib and target is not None and target_key(target):
                    found.append(Session(target_key(target), lib, value, node.lineno, node.end_lineno or node.lineno))
        return found


@record(slots=False)
class Session(Frozen):
    """An HTTP session bound to `name` from line `first` to `last`."""

    name: str
    lib: str
    ctor: ast.Call
    first: int
    last: int


def session_of(sessions: list[Session], receiver: str, line: int) -> Session | None:
    """The innermost session bound to `receiver` where `line` is."""
    around = [s for s in sessions if s.name == receiver and s.first <= line <= s.last]
    return min(around, key=lambda s: s.last - s.first) if around else None


def _urljoin(base: str, path: str) -> str:
    if re.match(r"^\w+://", path):
        return path
    if path.startswith("/"):
        root = re.match(r"^(\w+://[^/]*)", base)
        return (root.group(1) if root else base.rstrip("/")) + path
    return base.rsplit("/", 1)[0] + "/" + path if "/" in base.split("://", 1)[-1] else base + "/" + path
