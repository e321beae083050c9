"""The service's own Python code: tokenizer calls and token counting (SAI503), token-budget
constants as `TokenBudget` (SAI502), generation and CUDA cache release (SAI604), web apps and AI usage (the
"Python inference service" of SAI702/SAI703), and `prometheus_client` metrics (SAI702).

All of it reads the one shared AST (`sources.python.module`); names are resolved through the
import table, so `from transformers import AutoTokenizer as AT` still counts.
"""
from __future__ import annotations

import ast
import re
from typing import Iterable

from ..facts import (
    AiUsage,
    CudaCacheRelease,
    GenerationCall,
    MetricExport,
    TokenCountCheck,
    TokenBudget,
    TokenizerCall,
    WebApp,
)
from ..sources.base import SourceText
from ..sources.python import PythonModule, module, node_loc
from ..sources.python_scopes import Scopes, called_functions, scopes

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
# Decorator attributes that register a request handler (FastAPI, Flask, Starlette, aiohttp
# RouteTableDef, Quart, Sanic).
_ROUTE_ATTRS = {"get", "post", "put", "patch", "delete", "route", "api_route", "websocket", "head", "options", "view"}
_WEB_APPS = {
    "fastapi.FastAPI": "FastAPI",
    "flask.Flask": "Flask",
    "starlette.applications.Starlette": "Starlette",
    "aiohttp.web.Application": "aiohttp",
    "grpc.server": "gRPC",
    "grpc.aio.server": "gRPC",
    "kserve.ModelServer": "KServe ModelServer",
    "kserve.model_server.ModelServer": "KServe ModelServer",
}
_ENGINES = {"vllm.LLM": "vllm.LLM", "vllm.AsyncLLMEngine": "vLLM engine", "vllm.LLMEngine": "vLLM engine", "sglang.Engine": "sglang.Engine"}
_METRIC_KINDS = {"Gauge": "gauge", "Counter": "counter", "Histogram": "histogram", "Summary": "summary", "Info": "info", "Enum": "enum"}
_TOKENIZER_METHODS = {"encode", "encode_plus", "batch_encode_plus", "apply_chat_template"}
# Methods that return the same token ids elsewhere (a device, a type, a list).
_TENSOR_MOVES = {"to", "cuda", "cpu", "numpy", "tolist", "long", "int", "squeeze", "unsqueeze"}
_BUDGET_NAME = re.compile(r"(?i)(max_(input|prompt|context)_tokens|token_budget)")
_URL = re.compile(r"^https?://([^/:\s?#]+)")


def module_constants(mod: PythonModule) -> dict[str, object]:
    """Module-level `NAME = <int|str>` constants (simple arithmetic folded); shared, read only."""
    return mod.cached("constants", _module_constants)  # type: ignore[no-any-return]


def _module_constants(mod: PythonModule) -> dict[str, object]:
    consts: dict[str, object] = {}
    for stmt in mod.tree.body:
        target, value = _simple_assign(stmt)
        if target is not None:
            folded = const_value(value, consts)
            if folded is not None:
                consts[target] = folded
    return consts


def _simple_assign(stmt: ast.stmt) -> tuple[str | None, ast.AST | None]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id, stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
        return stmt.target.id, stmt.value
    return None, None


def const_value(node: ast.AST | None, consts: dict[str, object]) -> object | None:
    """An int/float/str/bool literal, a known constant, or int arithmetic of them; else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)):
        return node.value
    if isinstance(node, ast.Name):
        return consts.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv)):
        left, right = const_value(node.left, consts), const_value(node.right, consts)
        if type(left) is int and type(right) is int and abs(left) < 10**12 and abs(right) < 10**12:
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            return left // right if right else None
    return None


def target_key(node: ast.AST) -> str:
    """A stable text for an assignment target or receiver (`tok`, `self.tokenizer`)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        # Why not always unparse: this runs for every assignment target and receiver, and a
        # dotted name of identifiers unparses to exactly its parts joined by dots.
        parts = [node.attr]
        base = node.value
        while isinstance(base, ast.Attribute):
            parts.append(base.attr)
            base = base.value
        if isinstance(base, ast.Name):
            parts.append(base.id)
            return ".".join(reversed(parts))
        try:
            return ast.unparse(node)
        except (ValueError, RecursionError):  # pragma: no cover - malformed tree
            return ""
    return ""


def assignments(mod: PythonModule) -> list[tuple[str, ast.AST]]:
    """(target text, value) of every single-value assignment anywhere in the module, in
    `ast.walk` order; built once per module and shared (do not modify)."""
    return mod.cached("assignments", _assignments)  # type: ignore[no-any-return]


def _assignments(mod: PythonModule) -> list[tuple[str, ast.AST]]:
    out: list[tuple[str, ast.AST]] = []
    for node in mod.of(ast.Assign, ast.AnnAssign, ast.NamedExpr):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                key = target_key(target)
                if key:
                    out.append((key, node.value))
        elif node.value is not None:  # type: ignore[attr-defined]
            key = target_key(node.target)  # type: ignore[attr-defined]
            if key:
                out.append((key, node.value))  # type: ignore[attr-defined]
    return out


# --- the extractor ------------------------------------------------------------------------


def extract(src: SourceText) -> Iterable[object]:
    mod = module(src)
    if mod is None:
        return []
    sc = scopes(src, mod)
    consts = module_constants(mod)
    facts: list[object] = []
    facts.extend(_budget_constants(src, mod, consts))
    facts.extend(_tokenizers(src, mod, sc, consts))
    facts.extend(_generation(src, mod, sc))
    facts.extend(_apps_and_ai(src, mod, sc))
    facts.extend(_metrics(src, mod, sc, consts))
    return facts


def _budget_constants(src: SourceText, mod: PythonModule, consts: dict[str, object]) -> Iterable[object]:
    for stmt in mod.tree.body:
        name, _ = _simple_assign(stmt)
        if name and _BUDGET_NAME.search(name) and type(consts.get(name)) is int:
            yield TokenBudget(name, int(consts[name]), node_loc(src, stmt))  # type: ignore[call-overload]


# --- tokenizers (SAI503) ------------------------------------------------------------------


def _is_tokenizer_factory(mod: PythonModule, value: ast.AST) -> bool:
    """`AutoTokenizer.from_pretrained(...)` / `LlamaTokenizerFast.from_pretrained(...)`."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "from_pretrained"):
        return False
    cls = mod.qualname(value.func.value) or target_key(value.func.value)
    return "Tokenizer" in cls.rsplit(".", 1)[-1]


def _tokenizer_receivers(mod: PythonModule) -> set[str]:
    return {key for key, value in assignments(mod) if _is_tokenizer_factory(mod, value)}


def _tiktoken_encodings(mod: PythonModule) -> set[str]:
    return {key for key, value in assignments(mod) if isinstance(value, ast.Call) and mod.qualname(value).startswith("tiktoken.")}


def _tokenizer_method(call: ast.Call, receivers: set[str]) -> str:
    """The tokenizer method a call runs ("" when it is not a tokenizer call)."""
    func = call.func
    if target_key(func) in receivers:
        return "__call__"
    if isinstance(func, ast.Attribute) and func.attr in _TOKENIZER_METHODS and target_key(func.value) in receivers:
        return func.attr
    return ""


def _tokenizers(src: SourceText, mod: PythonModule, sc: Scopes, consts: dict[str, object]) -> Iterable[object]:
    receivers = _tokenizer_receivers(mod)
    encodings = _tiktoken_encodings(mod)
    if not receivers and not encodings:
        return
    counted_vars: set[str] = set()  # variables holding token ids

    def produces_tokens(node: ast.AST) -> bool:
        while isinstance(node, (ast.Subscript, ast.Attribute)):
            if target_key(node) in counted_vars:
                return True
            node = node.value
        if isinstance(node, ast.Name):
            return node.id in counted_vars
        if isinstance(node, ast.Call):
            if _tokenizer_method(node, receivers):
                return True
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _TENSOR_MOVES:  # `tok(x).to(device)`
                return produces_tokens(func.value)
            return isinstance(func, ast.Attribute) and func.attr.startswith("encode") and target_key(func.value) in encodings
        return False

    for key, value in assignments(mod):
        if produces_tokens(value):
            counted_vars.add(key)
    settings_loops = _settings_loops(mod)
    for node in mod.of(ast.Subscript):  # `input_ids.shape[-1]`, `enc["input_ids"].shape[1]`
        if isinstance(node.value, ast.Attribute) and node.value.attr == "shape" and produces_tokens(node.value.value):
            yield TokenCountCheck("shape of token ids", node_loc(src, node))
    for call in sc.calls:
        if isinstance(call.func, ast.Name) and call.func.id == "len" and call.args and produces_tokens(call.args[0]):
            yield TokenCountCheck("len() of token ids", node_loc(src, call))
        if isinstance(call.func, ast.Attribute) and call.func.attr in ("numel", "size") and produces_tokens(call.func.value):
            yield TokenCountCheck(f".{call.func.attr}() of token ids", node_loc(src, call))
        method = _tokenizer_method(call, receivers)
        if not method or not _request_text(call, consts, settings_loops):
            continue
        kwargs = {kw.arg: kw.value for kw in call.keywords if kw.arg}
        splat = any(kw.arg is None for kw in call.keywords)
        if method == "apply_chat_template":
            tokenize = kwargs.get("tokenize")
            # apply_chat_template tokenizes unless told tokenize=False
            if tokenize is not None and not (isinstance(tokenize, ast.Constant) and tokenize.value is True):
                continue
            if tokenize is None and splat:
                continue
        yield TokenizerCall(method, _truncation(kwargs, splat), *_max_length(kwargs, splat, consts), node_loc(src, call))


# Names of tokenized values that are the service's own settings, not request text.
_NOT_REQUEST = re.compile(r"(?i)(^|[._])(stop\w*|\w*_stop\w*|eos\w*|bos\w*|pad\w*|sep\w*|special\w*|"
                          r"\w*_token|\w*_tokens|system_prompt|sys_prompt|template\w*)$")


def _settings_loops(mod: PythonModule) -> list[tuple[str, int, int]]:
    """(variable, first line, last line) of loops and comprehensions over settings
    (`for s in stop_sequences`, `[tok.encode(s) for s in self.stop]`)."""
    out = []
    for node in mod.of(ast.For, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp):
        pairs = [(node.target, node.iter)] if isinstance(node, ast.For) else [(g.target, g.iter) for g in node.generators]
        for target, iterable in pairs:
            if isinstance(target, ast.Name) and _NOT_REQUEST.search(target_key(iterable) or ""):
                out.append((target.id, node.lineno, node.end_lineno or node.lineno))
    return out


def _request_text(call: ast.Call, consts: dict[str, object], loops: list[tuple[str, int, int]]) -> bool:
    """Whether a tokenizer call may be tokenizing request text: not when its text is a literal,
    a module constant, or a value named like a stop sequence or special token
    (`tok.encode(stop)`, `tok(self.eos_token)`, `[tok.encode(s) for s in stop_sequences]`)."""
    text = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg in ("text", "conversation")), None)
    if text is None:
        return True
    if isinstance(text, (ast.Constant, ast.JoinedStr)) and not any(isinstance(v, ast.FormattedValue) for v in getattr(text, "values", [])):
        return False
    if const_value(text, consts) is not None:
        return False
    if isinstance(text, ast.Name) and any(n == text.id and a <= call.lineno <= b for n, a, b in loops):
        return False
    return not _NOT_REQUEST.search(target_key(text) or "")


def _truncation(kwargs: dict[str, ast.AST], splat: bool) -> bool | None:
    node = kwargs.get("truncation")
    if node is None:
        return None if splat else False  # transformers defaults truncation to False
    if isinstance(node, ast.Constant):
        if node.value is True or (isinstance(node.value, str) and node.value != "do_not_truncate"):
            return True
        if node.value in (False, None, "do_not_truncate"):
            return False
    return None


def _max_length(kwargs: dict[str, ast.AST], splat: bool, consts: dict[str, object]) -> tuple[int | None, bool]:
    node = kwargs.get("max_length")
    if node is None:
        return None, not splat
    value = const_value(node, consts)
    if type(value) is int:
        return value, True  # type: ignore[return-value]
    if isinstance(node, ast.Constant) and node.value is None:
        return None, True
    return None, False


# --- generation and CUDA cache (SAI604) ---------------------------------------------------


def _imports_torch(mod: PythonModule) -> bool:
    return any(v == "torch" or v.startswith("torch.") for v in mod.names.values())


def is_route_handler(func: ast.AST, sc: Scopes) -> bool:
    if not isinstance(func, _FUNCS):
        return False
    for deco in func.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(target, ast.Attribute) and target.attr in _ROUTE_ATTRS:
            return True
    cls = sc.class_of.get(id(func))
    if cls is not None:  # gRPC servicer methods are request handlers too
        return any(target_key(b).endswith("Servicer") for b in cls.bases)
    return False


def _generation(src: SourceText, mod: PythonModule, sc: Scopes) -> Iterable[object]:
    for call in sc.calls:
        qual = mod.qualname(call)
        if qual.startswith("torch.") and qual.endswith(".empty_cache") and ".cuda" in qual:
            yield CudaCacheRelease(node_loc(src, call))
    if not _imports_torch(mod):
        return
    handlers = {id(f) for fs in sc.functions.values() for f in fs if is_route_handler(f, sc)}
    # a helper called straight from a handler serves the request too
    for fs in list(sc.functions.values()):
        for f in fs:
            if id(f) in handlers:
                handlers.update(id(g) for g in called_functions(f, sc))
    for call in sc.calls:
        if not (isinstance(call.func, ast.Attribute) and call.func.attr == "generate"):
            continue
        func = sc.func_of.get(id(call))
        if id(call) in sc.in_loop:
            yield GenerationCall("loop", node_loc(src, call))
        elif func is not None and id(func) in handlers:
            yield GenerationCall("request handler", node_loc(src, call))


# --- web apps and AI usage (SAI702/SAI703 scope) ------------------------------------------


def _apps_and_ai(src: SourceText, mod: PythonModule, sc: Scopes) -> Iterable[object]:
    for call in sc.calls:
        qual = mod.qualname(call)
        if qual in _WEB_APPS:
            yield WebApp(_WEB_APPS[qual], node_loc(src, call))
        elif qual in _ENGINES:
            yield AiUsage(_ENGINES[qual], node_loc(src, call))
        elif isinstance(call.func, ast.Attribute) and call.func.attr == "generate":
            yield AiUsage(".generate()", node_loc(src, call))
    for node in mod.of(ast.Constant):
        if isinstance(node.value, str) and len(node.value) < 300:  # type: ignore[attr-defined]
            match = _URL.match(node.value)
            if match:
                yield AiUsage(f"url {match.group(1)}", node_loc(src, node))


# --- prometheus_client metrics (SAI702) ---------------------------------------------------


def _metrics(src: SourceText, mod: PythonModule, sc: Scopes, consts: dict[str, object]) -> Iterable[object]:
    for call in sc.calls:
        qual = mod.qualname(call)
        if not qual.startswith("prometheus_client."):
            continue
        kind = _METRIC_KINDS.get(qual.rsplit(".", 1)[-1])
        if kind is None:
            continue
        kwargs = {kw.arg: kw.value for kw in call.keywords if kw.arg}
        # positional order of prometheus_client metrics: name, documentation, labelnames,
        # namespace, subsystem, unit
        parts: dict[str, ast.AST | None] = {}
        for index, key in enumerate(("name", "documentation", "labelnames", "namespace", "subsystem", "unit")):
            parts[key] = call.args[index] if index < len(call.args) else kwargs.get(key)
        name = const_value(parts["name"], consts)
        if not isinstance(name, str) or not name:
            continue  # a computed name: we cannot tell what it exports
        known = True
        pieces = []
        for key in ("namespace", "subsystem"):
            if parts[key] is None or not known:
                continue
            value = const_value(parts[key], consts)
            if isinstance(value, str):
                if value:
                    pieces.append(value)
            else:
                known, pieces = False, []
        if kind == "counter" and name.endswith("_total"):
            name = name[: -len("_total")]
        full = "_".join([*pieces, name]) if known else name
        unit = const_value(parts["unit"], consts) if parts["unit"] is not None else ""
        if isinstance(unit, str) and unit and not full.endswith("_" + unit):
            full = f"{full}_{unit}"
        yield MetricExport(full, kind, "prometheus_client", node_loc(src, call), prefix_known=known)
