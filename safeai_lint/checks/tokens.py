"""SAI5xx: token budgets. SAI501/SAI502 judge the context/input cap of every serving launch
and app-level budget constants; SAI503/SAI504 (colleagues) add their checks to CHECKS below."""
from __future__ import annotations

import re
from typing import Iterator

from ..facts import ServingLaunch, TokenBudget
from ..findings import Finding
from ..policy import Policy
from ..project import Project
from . import Check
from .aiscope import serving_launches

# engine -> (cap flags, fallback total-context flags, env names, name, what happens without a cap)
_CAPS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], str, str]] = {
    "vllm": (("--max-model-len",), (), (), "vLLM", "vLLM defaults --max-model-len to the model's full context window (e.g. 131072 for Llama 3.1)"),
    "tgi": (("--max-input-tokens", "--max-input-length"), ("--max-total-tokens",), (), "TGI",
            "TGI defaults --max-input-tokens / MAX_INPUT_TOKENS to the model's maximum length minus one"),
    "sglang": (("--context-length",), (), (), "SGLang", "SGLang defaults --context-length to the model's config"),
    "llama.cpp": (("--ctx-size",), (), (), "llama.cpp", "llama.cpp defaults --ctx-size / LLAMA_ARG_CTX_SIZE to 0, the model's training context"),
    "ollama": ((), (), ("OLLAMA_CONTEXT_LENGTH",), "Ollama", "Ollama then picks the context size itself"),
    "nim": ((), (), ("NIM_MAX_MODEL_LEN",), "NIM", "NIM defaults to the model's maximum context length"),
    "kserve-hf": (("--max_model_len", "--max_length"), (), (), "KServe's Hugging Face runtime",
                  "the runtime defaults --max_model_len to the model's maximum context"),
}
_HUMAN = re.compile(r"^(\d+(?:\.\d+)?)([kKmMgG]?)$")


def parse_tokens(text: str) -> int | None:
    """A token count as engines write it: "4096", "32k" (x1000), "32K" (x1024, vLLM)."""
    match = _HUMAN.match(str(text).strip())
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    factor = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "K": 2**10, "M": 2**20, "G": 2**30}[unit]
    return int(number * factor)


def _budget(policy: Policy) -> int | None:
    value = policy.get("max-input-tokens", 4096)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _cap(s: ServingLaunch) -> tuple[str, str, object] | None:
    """(name as written, value, location) of the launch's cap, or None."""
    flags, totals, envs, _, _ = _CAPS[s.engine]
    entry = s.flag(*flags) or s.flag(*totals)
    if entry is not None:
        shown = entry[0] if s.surface != "python" else entry[0][2:].replace("-", "_")
        return shown, entry[1], entry[2]
    env = s.env_value(*envs) if envs else None
    if env is not None:
        return env[0], env[1] if env[1] is not None else "?", env[2]
    return None


def token_budget(project: Project, policy: Policy) -> Iterator[Finding]:
    budget = _budget(policy)
    for s in serving_launches(project, policy):
        if s.engine not in _CAPS:
            continue
        name, default = _CAPS[s.engine][3], _CAPS[s.engine][4]
        cap = _cap(s)
        if cap is None:
            if not s.opaque:
                what = " / ".join(_CAPS[s.engine][0] or _CAPS[s.engine][2])
                if s.surface == "python":
                    what = what[2:].replace("-", "_")
                yield Finding("SAI501", f"{name} launch has no input cap ({what}); {default}", s.location, subject=s.engine)
            continue
        shown, value, loc = cap
        tokens = parse_tokens(value)
        if tokens is None:
            continue  # a variable or an unreadable value: cannot judge
        if tokens <= 0:
            yield Finding("SAI501", f"{name} {shown} is {value}, which means no cap; {default}", loc, subject=s.engine)
        elif budget is not None and tokens > budget:
            yield Finding("SAI502", f"{name} {shown} is {value} ({tokens} tokens), above the max-input-tokens budget of {budget}",
                          loc, subject=s.engine)
    if budget is None:
        return
    for b in project.all(TokenBudget):
        if b.value > budget:
            yield Finding("SAI502", f"token budget {b.name} = {b.value} is above the max-input-tokens budget of {budget}", b.location)


CHECKS = (
    Check(("SAI501", "SAI502"), token_budget),
)
