"""Serving launches and model loading in Python code and YAML app configs (Dockerfiles:
dockerfile_serving.py; Kubernetes/Compose: the workload extractors):

- Python: `vllm.LLM(...)` / `sglang.Engine(...)` (keyword arguments mapped onto the engine's
  flag names), `*ForCausalLM.from_pretrained(...)` and `.half()`,
  `torch.cuda.set_per_process_memory_fraction(x)`, boto3 downloads of weights, and module
  constants such as `MAX_INPUT_TOKENS = 8192`;
- YAML app configs: token-budget keys (`max_input_tokens: 8192`).
"""
from __future__ import annotations

import ast
import re
from typing import Any, Iterator

from ..facts import Location, MemoryFraction, ModelLoad, OfflineCode, ServingLaunch, TokenBudget, WeightDownload
from ..sources.base import SourceText
from ..sources.python import PythonModule, module, node_loc
from .serving import OBJECT_STORE, UNKNOWN

_CONSTRUCTORS = {"vllm.LLM": "vllm", "vllm.entrypoints.llm.LLM": "vllm", "sglang.Engine": "sglang",
                 "sglang.srt.entrypoints.engine.Engine": "sglang"}
_MODEL_KW = {"vllm": ("model",), "sglang": ("model_path", "model")}
_LM_CLASS = re.compile(r"(ForCausalLM|ForSeq2SeqLM)$")
_QUANT_KW = ("quantization_config", "load_in_4bit", "load_in_8bit")
_BUDGET_NAME = re.compile(r"^(max_?(input|prompt|context)_?tokens?|token_?budget|max_?input_?length)$", re.I)
_WEIGHTS = re.compile(r"model|weight|checkpoint|ckpt|safetensors|\.bin\b|\.gguf|\.pt\b", re.I)


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNKNOWN


def _text(value: Any) -> str:
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, bool):
        return "true" if value else "false"
    return UNKNOWN if isinstance(value, (dict, list, tuple, set)) or value is None else str(value)


def _module_env(mod: PythonModule) -> dict[str, str]:
    """`os.environ["HF_HUB_OFFLINE"] = "1"` and `os.environ.setdefault("X", "1")` anywhere."""
    env: dict[str, str] = {}
    for node in mod.of(ast.Assign, ast.Call):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript):
            target = node.targets[0]
            if ast.unparse(target.value).endswith("environ"):
                key, value = _literal(target.slice), _literal(node.value)
                if isinstance(key, str):
                    env[key] = _text(value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "setdefault":
            if ast.unparse(node.func.value).endswith("environ") and len(node.args) == 2:
                key = _literal(node.args[0])
                if isinstance(key, str):
                    env[key] = _text(_literal(node.args[1]))
    return env


# Evidence that a module works on models offline (see OfflineCode). Read from the text, not
# the tree: the parse keeps only what serving rules read, and a `main()` that merges adapters
# may be cut before parsing.
_OFFLINE = re.compile(
    r"^[^#\n]*?(\.(?:save_pretrained|merge_and_unload|push_to_hub|quantize|export_onnx)\s*\("
    r"|\btorch\.onnx\.export\s*\(|\b(?:SFT|DPO|ORPO|Reward|Seq2Seq)?Trainer\s*\(|\boneshot\s*\("
    r"|^\s*(?:from|import)\s+(?:datasets|trl|llmcompressor|auto_gptq|awq|optimum\.exporters)\b)", re.M)


def offline_code(src: SourceText) -> Iterator[object]:
    match = _OFFLINE.search(src.text)
    if match:
        start = match.start(1)
        yield OfflineCode(match.group(1).strip().rstrip("(").strip(), src.span_loc(start, len(match.group(1).rstrip())))


def python_launches(src: SourceText) -> Iterator[object]:
    mod = module(src)
    if mod is None:
        return
    yield from offline_code(src)
    env = None
    half_names: dict[str, bool] = {}  # variable -> was loaded by an LM from_pretrained
    # Assignments and calls in `ast.walk` order, from the module's shared node list.
    for node in mod.of(ast.Assign, ast.Call):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _is_lm_load(mod, node.value):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    half_names[target.id] = True
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            budget = _budget(src, node.targets[0], node.value, node)
            if budget is not None and _top_level(mod.tree, node):
                yield budget
        if not isinstance(node, ast.Call):
            continue
        qual = mod.qualname(node)
        if qual in _CONSTRUCTORS:
            if env is None:
                env = _module_env(mod)
            yield _launch(src, node, _CONSTRUCTORS[qual], env)
        elif qual == "torch.cuda.set_per_process_memory_fraction" and node.args:
            value = _literal(node.args[0])
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                yield MemoryFraction(float(value), node_loc(src, node))
        elif _is_lm_load(mod, node):
            yield from _model_load(src, mod, node)
        elif isinstance(node.func, ast.Attribute) and node.func.attr == "half" and not node.args:
            receiver = node.func.value
            if (isinstance(receiver, ast.Call) and _is_lm_load(mod, receiver)) or (
                isinstance(receiver, ast.Name) and half_names.get(receiver.id)
            ):
                yield ModelLoad("half", "", node_loc(src, node), via="half")
        elif isinstance(node.func, ast.Attribute) and node.func.attr in ("download_file", "download_fileobj"):
            if "boto3" in mod.names.values() or any(v.startswith("boto3") for v in mod.names.values()):
                words = [ast.unparse(a) for a in [*node.args, *(k.value for k in node.keywords)]]
                if any(_WEIGHTS.search(w) for w in words[:3] or words):
                    yield WeightDownload(f"boto3 {node.func.attr}({', '.join(words[:2])})", node_loc(src, node))


def _top_level(tree: ast.Module, node: ast.AST) -> bool:
    return node in tree.body


def _budget(src: SourceText, target: ast.Name, value: ast.AST, node: ast.AST) -> TokenBudget | None:
    if not _BUDGET_NAME.match(target.id):
        return None
    number = _literal(value)
    if isinstance(number, int) and not isinstance(number, bool):
        return TokenBudget(target.id, number, node_loc(src, node))
    return None


def _is_lm_load(mod: Any, call: ast.Call) -> bool:
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "from_pretrained"):
        return False
    owner = mod.qualname(func.value) or (func.value.id if isinstance(func.value, ast.Name) else "")
    return bool(owner) and bool(_LM_CLASS.search(owner.rsplit(".", 1)[-1]))


def _model_load(src: SourceText, mod: Any, call: ast.Call) -> Iterator[object]:
    names = {k.arg for k in call.keywords}
    quantized = None in names  # `**kwargs` may carry a quantization config
    for kw in call.keywords:
        if kw.arg in _QUANT_KW:
            value = _literal(kw.value)
            quantized = quantized or value is UNKNOWN or bool(value)
    model_node = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "pretrained_model_name_or_path"), None)
    model = _literal(model_node) if model_node is not None else UNKNOWN
    if model is UNKNOWN and isinstance(model_node, ast.Name):  # MODEL_ID = "org/name" at module level
        from .python_code import module_constants

        model = module_constants(mod).get(model_node.id, UNKNOWN)
    model = model if isinstance(model, str) else UNKNOWN
    owner = mod.qualname(call.func.value) or ast.unparse(call.func.value)
    loc = node_loc(src, call)
    yield ModelLoad(f"{owner}.from_pretrained", model, loc, bool(quantized))
    if OBJECT_STORE.match(model):
        yield WeightDownload(f"from_pretrained({model!r})", loc)


def _launch(src: SourceText, call: ast.Call, engine: str, env: dict[str, str]) -> ServingLaunch:
    loc = node_loc(src, call)
    flags: list[tuple[str, str, Location]] = []
    model, model_loc = "", None
    opaque = False
    if call.args:
        value = _literal(call.args[0])
        model, model_loc = _text(value), node_loc(src, call.args[0])
    for kw in call.keywords:
        if kw.arg is None:
            opaque = True
            continue
        value = _text(_literal(kw.value))
        kloc = node_loc(src, kw)
        if kw.arg in _MODEL_KW[engine]:
            model, model_loc = value, kloc
        flags.append(("--" + kw.arg.replace("_", "-"), value, kloc))
    return ServingLaunch(engine, loc, "python", model=model if model != UNKNOWN else "", model_location=model_loc,
                         flags=tuple(flags), env=tuple((k, v, loc) for k, v in env.items()), opaque=opaque)


# --- YAML app configs -------------------------------------------------------------------------


def config_token_budgets(src: SourceText) -> Iterator[object]:
    """`max_input_tokens: 8192`-like keys anywhere in a YAML file that is not a Kubernetes
    object (manifests carry engine flags, judged as serving launches)."""
    for doc in src.yaml_documents():
        root = doc.value
        if isinstance(root, dict) and "apiVersion" in root:
            continue
        stack = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    if isinstance(key, str) and _BUDGET_NAME.match(key.replace("-", "_")) and isinstance(value, int) and not isinstance(value, bool):
                        yield TokenBudget(key, value, src.loc(node.key_pos(key)))
                    elif isinstance(value, (dict, list)):
                        stack.append(value)
            elif isinstance(node, list):
                stack.extend(v for v in node if isinstance(v, (dict, list)))
