"""Python service code → resilience facts (SAI401–SAI405).

Import-aware through `PythonModule.qualname`: `import tenacity as t; @t.retry` is tenacity's
retry, a local function named `retry` is not. What cannot be read statically (a variable
passed as `stop=`, `**kwargs`) gives an unknown value, and unknown values are never judged.
"""
from __future__ import annotations

import ast
import math
import re
from typing import Iterable, Iterator

from ..facts import CircuitBreaker, Location, RetryPolicy, Timeout
from ..sources.base import SourceText
from ..sources.python import PythonModule, module, node_loc, source_segment
from .python_code import target_key
from .python_retry_loops import callee_name as _name, retry_loop
from .python_urls import UrlReader, session_of

# Folders of load generators and benchmarks: their HTTP calls measure a service, they are not
# its clients, so their timeouts are not judged (SAI404).
CLIENT_TOOLING = re.compile(r"(^|/)(load_?tests?|loadtests?|load-tests?|benchmarks?|bench|perf|locust)/", re.I)
TENACITY = {"retry", "Retrying", "AsyncRetrying"}
HTTP_VERBS = {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream"}
OPENAI_CLIENTS = {"OpenAI", "AsyncOpenAI", "AzureOpenAI", "AsyncAzureOpenAI"}
ANTHROPIC_CLIENTS = {"Anthropic", "AsyncAnthropic", "AnthropicBedrock", "AnthropicVertex"}
LANGCHAIN_MODELS = {"ChatOpenAI", "AzureChatOpenAI", "OpenAI", "AzureOpenAI", "ChatAnthropic",
                    "OpenAIEmbeddings", "AzureOpenAIEmbeddings"}
BREAKERS = {"pybreaker.CircuitBreaker", "circuitbreaker.circuit", "circuitbreaker.CircuitBreaker",
            "aiobreaker.CircuitBreaker", "purgatory.AsyncCircuitBreakerFactory",
            "purgatory.SyncCircuitBreakerFactory"}
_WAIT_KINDS = {  # tenacity wait strategy -> (backoff kind, has jitter)
    "wait_none": ("none", False), "wait_fixed": ("fixed", False), "wait_incrementing": ("linear", False),
    "wait_exponential": ("exponential", False), "wait_random_exponential": ("exponential", True),
    "wait_full_jitter": ("exponential", True), "wait_exponential_jitter": ("exponential", True),
    "wait_random": ("random", True),
}
_RANK = {"random": -1, "none": 0, "fixed": 1, "linear": 2, "exponential": 3}


def python_resilience(src: SourceText) -> Iterable[object]:
    mod = module(src)
    if mod is None:
        return []
    facts = list(_Reader(src, mod).facts())
    if CLIENT_TOOLING.search(src.rel):
        return [f for f in facts if not isinstance(f, Timeout)]
    return facts


def _const(node: ast.AST | None) -> object:
    """The value of a literal (numbers, strings, None, True/False, negatives), else ...."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        value = node.operand.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
    return ...


def _number(node: ast.AST | None) -> float | None:
    value = _const(node)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class _Reader:
    def __init__(self, src: SourceText, mod: PythonModule) -> None:
        self.src, self.mod = src, mod
        self.urls = UrlReader(mod)
        self.request_timeouts = False  # per-request timeout= on SDK calls overrides the client default
        # calls made through a session without their own timeout=: judged with the session's
        sessions = self.urls.sessions()
        self.through: dict[int, list[tuple[tuple[str, ...], bool]]] = {}
        for call in mod.of(ast.Call) if sessions else ():
            func = call.func  # type: ignore[attr-defined]
            if not (isinstance(func, ast.Attribute) and func.attr in HTTP_VERBS):
                continue
            session = session_of(sessions, target_key(func.value), call.lineno)  # type: ignore[attr-defined]
            if session is not None and not any(k.arg in ("timeout", None) for k in call.keywords):  # type: ignore[attr-defined]
                self.through.setdefault(id(session.ctor), []).append(self.urls.url(call, func.attr))  # type: ignore[arg-type]

    def loc(self, node: ast.AST) -> Location:
        return node_loc(self.src, node)

    # --- dispatch ---------------------------------------------------------------------------
    def facts(self) -> Iterator[object]:
        calls: list[tuple[ast.Call, str]] = []
        # the node kinds read here, in `ast.walk` order, from the module's shared node list
        for node in self.mod.of(ast.FunctionDef, ast.AsyncFunctionDef, ast.While, ast.Call):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for dec in node.decorator_list:
                    q = self.mod.qualname(dec) if not isinstance(dec, ast.Call) else ""
                    if q and _is_tenacity(q):
                        yield from self.tenacity(None, dec)
                    elif q in BREAKERS:
                        yield CircuitBreaker("python", self.loc(dec))
            elif isinstance(node, ast.While) and _const(node.test) in (True, 1):
                yield from retry_loop(self.src, self.mod, node)
            elif isinstance(node, ast.Call):
                q = self.mod.qualname(node)
                calls.append((node, q))
                if isinstance(node.func, ast.Attribute) and node.func.attr in ("create", "stream", "parse", "with_options") \
                        and any(k.arg == "timeout" for k in node.keywords) and not q:
                    self.request_timeouts = True
        for node, q in calls:
            yield from self.call(node, q)

    def call(self, node: ast.Call, q: str) -> Iterator[object]:
        head, _, last = q.rpartition(".")
        top = q.split(".")[0]
        if _is_tenacity(q):
            yield from self.tenacity(node, node)
        elif top == "backoff" and last in ("on_exception", "on_predicate"):
            yield from self.backoff(node)
        elif last == "Retry" and top in ("urllib3", "requests"):
            yield from self.urllib3_retry(node)
        elif last == "HTTPAdapter" and top == "requests":
            yield from self.http_adapter(node)
        elif q in BREAKERS:
            yield CircuitBreaker("python", self.loc(node))
        elif top == "openai" and last in OPENAI_CLIENTS:
            yield from self.sdk_client(node, "openai", default=600.0)
        elif top == "anthropic" and last in ANTHROPIC_CLIENTS:
            yield from self.sdk_client(node, "anthropic", default=None)
        elif top.startswith("langchain") and last in LANGCHAIN_MODELS:
            yield from self.sdk_client(node, "langchain", default=None)
        elif top == "requests" and last in HTTP_VERBS and head in ("requests", "requests.api"):
            yield from self.http_call(node, "requests", None, last)
        elif top == "httpx" and last in HTTP_VERBS and head == "httpx":
            yield from self.http_call(node, "httpx", 5.0, last)
        elif top == "httpx" and last in ("Client", "AsyncClient"):
            yield from self.http_client(node, "httpx", 5.0)
        elif top == "aiohttp" and last == "ClientSession":
            yield from self.http_client(node, "aiohttp", 300.0)
        elif q in ("requests.Session", "requests.sessions.Session") and id(node) in self.through:
            yield from self.http_client(node, "requests", math.inf)
        elif top == "aiohttp" and last == "request":
            yield from self.http_call(node, "aiohttp", 300.0, "request")
        elif not q and isinstance(node.func, ast.Attribute):
            yield from self.method_call(node)

    # --- tenacity ---------------------------------------------------------------------------
    def tenacity(self, call: ast.Call | None, anchor: ast.AST) -> Iterator[RetryPolicy]:
        kw = {k.arg: k.value for k in call.keywords if k.arg} if call else {}
        opaque = bool(call) and any(k.arg is None for k in call.keywords)
        where = self.loc(anchor)
        attempts, attempts_loc, attempts_note = None, where, ""
        if "stop" in kw:
            bounded, count = self._stop(kw["stop"])
            attempts_loc = self.loc(kw["stop"])
            if bounded is False:
                attempts, attempts_note = math.inf, "stop=stop_never retries forever"
            elif bounded:
                attempts = count
        elif not opaque:
            attempts, attempts_note = math.inf, "tenacity retries forever without stop= (default stop_never)"
        backoff, jitter, backoff_loc, note = "", None, where, ""
        if "wait" in kw:
            backoff, jitter = self._wait(kw["wait"])
            backoff_loc = self.loc(kw["wait"])
            note = f"wait={source_segment(self.src, kw['wait']) or '...'}"
        elif not opaque:
            backoff, jitter, note = "none", False, "tenacity does not wait between attempts without wait= (default wait_none)"
        yield RetryPolicy("tenacity", where, attempts, attempts_loc, attempts_note,
                          backoff, backoff_loc, note, jitter, backoff_loc, note)

    def _fname(self, node: ast.AST) -> str:
        """A tenacity helper's real name (`n` in `from tenacity import stop_after_attempt as n`)."""
        q = self.mod.qualname(node)
        return q.rpartition(".")[2] if q else _name(node)

    def _stop(self, node: ast.AST) -> tuple[bool | None, float | None]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.BitAnd)):
            (b1, n1), (b2, n2) = self._stop(node.left), self._stop(node.right)
            counts = [n for n in (n1, n2) if n is not None]
            if isinstance(node.op, ast.BitOr):  # stops as soon as either side says so
                if b1 is False and b2 is False:
                    return False, None
                if None in (b1, b2):  # an unreadable side may stop sooner: count unknown
                    return (True if True in (b1, b2) else None), None
                return True, min(counts) if counts else None
            if False in (b1, b2):  # stops only when both agree; a never side never does
                return False, None
            if b1 and b2:
                return True, max(counts) if len(counts) == 2 else None
            return None, None
        name = self._fname(node)
        if name == "stop_after_attempt" and isinstance(node, ast.Call):
            return True, _number(node.args[0]) if node.args else None
        if name in ("stop_after_delay", "stop_before_delay"):
            return True, None
        if name == "stop_never":
            return False, None
        return None, None

    def _wait(self, node: ast.AST) -> tuple[str, bool | None]:
        parts = self._wait_parts(node)
        known = [(k, j) for k, j in parts if k is not None]
        if len(known) < len(parts):  # a strategy we cannot read
            if any(k == "exponential" for k, _ in known):
                return "exponential", True if any(j for _, j in known) else None
            return "", None
        if not known:
            return "", None
        kind = max((k for k, _ in known), key=lambda k: _RANK[k])
        return ("" if kind == "random" else kind), any(j for _, j in known)

    def _wait_parts(self, node: ast.AST) -> list[tuple[str | None, bool | None]]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._wait_parts(node.left) + self._wait_parts(node.right)
        name = self._fname(node)
        if isinstance(node, ast.Call) and name in ("wait_combine", "wait_chain"):
            parts: list[tuple[str | None, bool | None]] = []
            for arg in node.args:
                if isinstance(arg, ast.Starred):
                    return [(None, None)]
                parts += self._wait_parts(arg)
            return parts
        if name in _WAIT_KINDS:
            return [_WAIT_KINDS[name]]
        return [(None, None)]

    # --- backoff ----------------------------------------------------------------------------
    def backoff(self, node: ast.Call) -> Iterator[RetryPolicy]:
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        opaque = any(k.arg is None for k in node.keywords)
        where = self.loc(node)
        limits = {k: kw[k] for k in ("max_tries", "max_time") if k in kw and _const(kw[k]) is not None}
        attempts, attempts_loc, note = None, where, ""
        if "max_tries" in limits:
            attempts, attempts_loc = _number(limits["max_tries"]), self.loc(limits["max_tries"])
        elif not limits and not opaque:
            attempts, note = math.inf, "backoff retries forever without max_tries= or max_time="
        gen = node.args[0] if node.args else kw.get("wait_gen")
        gen_name = self.mod.qualname(gen).rpartition(".")[2] if gen is not None else ""
        backoff = {"expo": "exponential", "fibo": "exponential", "constant": "fixed"}.get(gen_name, "")
        gen_loc = self.loc(gen) if gen is not None else where
        jitter: bool | None = True  # backoff applies full_jitter unless told otherwise
        jitter_loc = where
        if "jitter" in kw:
            jitter = False if _const(kw["jitter"]) is None else True
            jitter_loc = self.loc(kw["jitter"])
        elif opaque:
            jitter = None
        yield RetryPolicy("backoff", where, attempts, attempts_loc, note, backoff, gen_loc,
                          f"backoff.{gen_name}", jitter, jitter_loc, "jitter=None")

    # --- urllib3 / requests adapters --------------------------------------------------------
    def urllib3_retry(self, node: ast.Call) -> Iterator[RetryPolicy]:
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        if any(k.arg is None for k in node.keywords):
            return
        where = self.loc(node)
        total_node = node.args[0] if node.args else kw.get("total")
        attempts, attempts_loc, note = None, where, ""
        if total_node is None:
            if not any(k in kw for k in ("connect", "read", "redirect", "status", "other")):
                attempts, note = 10.0, "urllib3 Retry defaults total to 10"
        else:
            value = _const(total_node)
            attempts = 0.0 if value is False else _number(total_node)
            attempts_loc = self.loc(total_node)
        if attempts == 0:
            return
        factor_node = kw.get("backoff_factor")
        factor = 0.0 if factor_node is None else _number(factor_node)
        backoff = "" if factor is None else ("none" if factor == 0 else "exponential")
        jitter_node = kw.get("backoff_jitter")
        jitter_value = 0.0 if jitter_node is None else _number(jitter_node)
        yield RetryPolicy(
            "urllib3", where, attempts, attempts_loc, note,
            backoff, self.loc(factor_node) if factor_node is not None else where,
            "backoff_factor is 0 (urllib3's default): retries go out at once" if backoff == "none" else "",
            None if jitter_value is None or backoff != "exponential" else jitter_value > 0,
            self.loc(jitter_node) if jitter_node is not None else where, "no backoff_jitter (urllib3 default 0.0)",
        )

    def http_adapter(self, node: ast.Call) -> Iterator[RetryPolicy]:
        for k in node.keywords:
            count = _number(k.value) if k.arg == "max_retries" else None
            if count:  # an int becomes Retry(count) with backoff_factor 0
                loc = self.loc(k.value)
                yield RetryPolicy("urllib3", loc, count, loc, "", "none", loc,
                                  "HTTPAdapter(max_retries=<int>) retries at once (backoff_factor 0)")

    # --- SDK clients ------------------------------------------------------------------------
    def sdk_client(self, node: ast.Call, sdk: str, default: float | None) -> Iterator[object]:
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        opaque = any(k.arg is None for k in node.keywords)
        where = self.loc(node)
        key = next((k for k in ("timeout", "request_timeout", "default_request_timeout") if k in kw), "")
        if key:
            value = self._timeout_value(kw[key])
            yield Timeout(sdk, value, self.loc(kw[key]), (), ai=True)
        elif default is not None and not opaque and not self.request_timeouts:
            yield Timeout(sdk, default, where, (), ai=True,
                          note=f"the {sdk} client defaults timeout to {default:g} s")
        if "max_retries" in kw:
            loc = self.loc(kw["max_retries"])
            yield RetryPolicy(sdk, loc, _number(kw["max_retries"]), loc)

    def _timeout_value(self, node: ast.AST) -> float | None:
        """Seconds of a timeout argument: a number, None (no timeout), a (connect, read) tuple,
        httpx.Timeout(...) or aiohttp.ClientTimeout(...)."""
        value = _const(node)
        if value is None:
            return math.inf
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(node, ast.Tuple) and len(node.elts) == 2:
            read = _const(node.elts[1])
            return math.inf if read is None else _number(node.elts[1])
        if isinstance(node, ast.Call):
            q = self.mod.qualname(node)
            kw = {k.arg: k.value for k in node.keywords if k.arg}
            if q.endswith("Timeout") and q.startswith("httpx"):
                chosen = kw.get("read", node.args[0] if node.args else kw.get("timeout"))
                return None if chosen is None else self._timeout_value(chosen)
            if q.endswith("ClientTimeout") and q.startswith("aiohttp"):
                chosen = kw.get("total") if "total" in kw and _const(kw["total"]) is not None else kw.get("sock_read")
                return math.inf if chosen is None else self._timeout_value(chosen)
        return None

    # --- HTTP calls -------------------------------------------------------------------------
    def _url(self, node: ast.Call, verb: str) -> tuple[tuple[str, ...], bool]:
        return self.urls.url(node, verb)

    def http_call(self, node: ast.Call, lib: str, default: float | None, verb: str) -> Iterator[Timeout]:
        if any(k.arg is None for k in node.keywords):
            return
        targets, ai = self._url(node, verb)
        timeout = next((k.value for k in node.keywords if k.arg == "timeout"), None)
        where = self.loc(node)
        if timeout is None:
            if default is None:
                yield Timeout(lib, math.inf, where, targets, ai, always=True,
                              note="requests waits forever without timeout=")
            else:
                yield Timeout(lib, default, where, targets, ai, note=f"{lib} defaults timeout to {default:g} s")
            return
        value = self._timeout_value(timeout)
        yield Timeout(lib, value, self.loc(timeout), targets, ai, always=(lib == "requests" and value == math.inf))

    def http_client(self, node: ast.Call, lib: str, default: float) -> Iterator[Timeout]:
        if any(k.arg is None for k in node.keywords):
            return
        targets, ai = self._url(node, "client") if any(k.arg == "base_url" for k in node.keywords) else ((), False)
        for hosts, inference in self.through.get(id(node), ()):  # the calls made through it
            targets, ai = targets + hosts, ai or inference
        timeout = next((k.value for k in node.keywords if k.arg == "timeout"), None)
        if timeout is None:
            yield Timeout(lib, default, self.loc(node), targets, ai, note=f"{lib} defaults timeout to {default:g} s")
        else:
            yield Timeout(lib, self._timeout_value(timeout), self.loc(timeout), targets, ai)

    def method_call(self, node: ast.Call) -> Iterator[object]:
        attr = node.func.attr  # type: ignore[attr-defined]
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        if attr == "with_retry" and any(v.startswith("langchain") for v in self.mod.names.values()):
            count = kw.get("stop_after_attempt")
            jitter = kw.get("wait_exponential_jitter")
            where = self.loc(node)
            yield RetryPolicy(
                "langchain", where, _number(count) if count is not None else None,
                self.loc(count) if count is not None else where, "",
                "exponential" if jitter is not None and _const(jitter) is False else "", where, "",
                False if jitter is not None and _const(jitter) is False else None,
                self.loc(jitter) if jitter is not None else where, "wait_exponential_jitter=False",
            )
        elif attr in HTTP_VERBS and "timeout" in kw:
            targets, ai = self._url(node, attr)
            if ai or targets:
                yield Timeout("http", self._timeout_value(kw["timeout"]), self.loc(kw["timeout"]), targets, ai)
        elif attr in ("create", "stream", "parse") and "timeout" in kw and self._sdk_imported():
            yield Timeout("sdk-request", self._timeout_value(kw["timeout"]), self.loc(kw["timeout"]), (), ai=True)

    def _sdk_imported(self) -> bool:
        return any(v.split(".")[0] in ("openai", "anthropic") for v in self.mod.names.values())


def _is_tenacity(q: str) -> bool:
    return q.split(".")[0] == "tenacity" and q.rpartition(".")[2] in TENACITY
