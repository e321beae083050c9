"""The flags each inference engine understands, and how a command line or an environment
sets them: argparse prefixes (`--max-model-l`), short aliases, boolean flags, `--flag=value`,
env twins (TGI reads every flag from an upper-case variable, llama.cpp from LLAMA_ARG_*)."""
from __future__ import annotations

from typing import Sequence

from ..facts import Location

Word = tuple[str, Location]
EnvEntry = tuple[str, "str | None", Location]

UNKNOWN = "?"  # a value we cannot know (a variable, `valueFrom`, an expression)

# Flags each engine understands, used to expand argparse prefixes (`--max-model-l`) and to
# map environment variables onto flags. vLLM and SGLang use argparse (unambiguous prefixes
# allowed); TGI (clap) and llama.cpp only take full names.
_VLLM = (
    "--model", "--tokenizer", "--served-model-name", "--host", "--port", "--gpu-memory-utilization",
    "--kv-cache-memory-bytes", "--max-model-len", "--quantization", "--quantization-param-path",
    "--dtype", "--kv-cache-dtype", "--load-format", "--download-dir", "--config", "--max-num-seqs",
    "--max-num-batched-tokens", "--tensor-parallel-size", "--pipeline-parallel-size",
    "--data-parallel-size", "--trust-remote-code", "--enforce-eager", "--enable-prefix-caching",
    "--enable-chunked-prefill", "--swap-space", "--cpu-offload-gb", "--block-size", "--seed",
    "--revision", "--tokenizer-mode", "--chat-template", "--api-key", "--disable-log-requests",
    "--disable-log-stats", "--max-log-len", "--uvicorn-log-level", "--lora-modules",
    "--enable-lora", "--max-lora-rank", "--max-loras", "--speculative-config", "--limit-mm-per-prompt",
    "--distributed-executor-backend", "--worker-use-ray", "--max-seq-len-to-capture", "--hf-overrides",
)
_VLLM_SHORT = {"-q": "--quantization", "-tp": "--tensor-parallel-size", "-pp": "--pipeline-parallel-size", "-dp": "--data-parallel-size"}
_VLLM_BOOL = {"--trust-remote-code", "--enforce-eager", "--enable-prefix-caching", "--enable-chunked-prefill",
              "--disable-log-requests", "--disable-log-stats", "--enable-lora", "--worker-use-ray"}

_SGLANG = (
    "--model-path", "--model", "--tokenizer-path", "--host", "--port", "--context-length",
    "--mem-fraction-static", "--quantization", "--dtype", "--kv-cache-dtype", "--tp-size", "--tp",
    "--dp-size", "--max-running-requests", "--max-total-tokens", "--max-prefill-tokens",
    "--chunked-prefill-size", "--load-format", "--trust-remote-code", "--served-model-name",
    "--disable-radix-cache", "--enable-metrics", "--log-level", "--api-key", "--chat-template",
)
_SGLANG_BOOL = {"--trust-remote-code", "--disable-radix-cache", "--enable-metrics"}

_TGI = (
    "--model-id", "--revision", "--quantize", "--dtype", "--max-input-tokens", "--max-input-length",
    "--max-total-tokens", "--max-batch-prefill-tokens", "--max-batch-total-tokens",
    "--cuda-memory-fraction", "--num-shard", "--sharded", "--port", "--hostname",
    "--max-concurrent-requests", "--max-best-of", "--max-stop-sequences", "--max-top-n-tokens",
    "--waiting-served-ratio", "--max-waiting-tokens", "--trust-remote-code", "--huggingface-hub-cache",
    "--weights-cache-override", "--disable-custom-kernels", "--json-output", "--otlp-endpoint",
    "--speculate", "--kv-cache-dtype", "--rope-scaling", "--rope-factor", "--max-client-batch-size",
)
_TGI_BOOL = {"--trust-remote-code", "--disable-custom-kernels", "--json-output"}

_LLAMA = ("--ctx-size", "--model", "--hf-repo", "--n-gpu-layers", "--parallel", "--port", "--host",
          "--threads", "--batch-size", "--flash-attn", "--alias", "--api-key", "--cont-batching",
          "--metrics", "--mlock", "--no-mmap")
_LLAMA_SHORT = {"-c": "--ctx-size", "-m": "--model", "-hf": "--hf-repo", "-hfr": "--hf-repo",
                "-ngl": "--n-gpu-layers", "-np": "--parallel", "-t": "--threads", "-b": "--batch-size",
                "-fa": "--flash-attn", "-a": "--alias"}
_LLAMA_BOOL = {"--cont-batching", "--metrics", "--mlock", "--no-mmap"}
_LLAMA_ENV = {"LLAMA_ARG_CTX_SIZE": "--ctx-size", "LLAMA_ARG_MODEL": "--model", "LLAMA_ARG_HF_REPO": "--hf-repo"}

# KServe's Hugging Face server takes its own snake_case flags plus vLLM's; all are kept in
# snake_case here so one spelling answers both.
_KSERVE_HF = ("--model_id", "--model_dir", "--model_name", "--model_revision", "--max_model_len",
              "--max_length", "--dtype", "--backend", "--task", "--quantization",
              "--gpu_memory_utilization", "--tensor_parallel_size", "--trust_remote_code", "--http_port")
_KSERVE_BOOL = {"--trust_remote_code"}


def _canonical(engine: str, flag: str) -> str:
    if engine in ("vllm", "sglang"):
        if flag in _VLLM_SHORT and engine == "vllm":
            return _VLLM_SHORT[flag]
        if not flag.startswith("--"):
            return flag
        flag = "--" + flag[2:].replace("_", "-")
        known = _VLLM if engine == "vllm" else _SGLANG
        if flag in known:
            return flag
        matches = [k for k in known if k.startswith(flag)]
        return matches[0] if len(matches) == 1 else flag
    if engine == "llama.cpp":
        return _LLAMA_SHORT.get(flag, flag)
    if engine == "kserve-hf" and flag.startswith("--"):
        return "--" + flag[2:].replace("-", "_")
    return flag


_BOOLEANS = {"vllm": _VLLM_BOOL, "sglang": _SGLANG_BOOL, "tgi": _TGI_BOOL, "llama.cpp": _LLAMA_BOOL, "kserve-hf": _KSERVE_BOOL}


def parse_flags(engine: str, words: Sequence[Word]) -> tuple[list[tuple[str, str, Location]], list[Word]]:
    """(canonical flag, value, location) of each flag, and the positional words."""
    flags: list[tuple[str, str, Location]] = []
    positional: list[Word] = []
    booleans = _BOOLEANS.get(engine, set())
    i = 0
    while i < len(words):
        word, loc = words[i]
        if word.startswith("-") and len(word) > 1 and not _is_number(word):
            name, eq, value = word.partition("=")
            flag = _canonical(engine, name)
            if not eq:
                nxt = words[i + 1][0] if i + 1 < len(words) else None
                if flag not in booleans and nxt is not None and (not nxt.startswith("-") or _is_number(nxt)):
                    value = nxt
                    i += 1
            flags.append((flag, _value(value), loc))
        else:
            positional.append((word, loc))
        i += 1
    return flags, positional


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _value(text: str) -> str:
    return UNKNOWN if ("$" in text or "{{" in text) else text


def env_flags(engine: str, env: Sequence[EnvEntry]) -> list[tuple[str, str, Location]]:
    """Environment variables that set an engine flag (TGI reads every flag from its
    upper-case env twin; llama.cpp from LLAMA_ARG_*)."""
    out = []
    for name, value, loc in env:
        val = UNKNOWN if value is None else _value(str(value))
        if engine == "tgi":
            flag = "--" + name.lower().replace("_", "-")
            if flag in _TGI:
                out.append((flag, val, loc))
        elif engine == "llama.cpp" and name in _LLAMA_ENV:
            out.append((_LLAMA_ENV[name], val, loc))
    return out
