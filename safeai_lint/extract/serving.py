"""The serving-launch model: which inference engine a command starts, and with which flags.

Shared by every surface that can start an engine (Kubernetes and Compose containers, KServe
predictors, Dockerfile ENTRYPOINT/CMD). The rules then judge one `ServingLaunch` whatever
wrote it. An engine we cannot recognise yields no launch: rules never guess.
"""
from __future__ import annotations

import functools
import re
import shlex
from typing import Sequence

from ..facts import Location, ServingLaunch
from ..sources.base import SourceText

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

_SHELLS = {"sh", "bash", "ash", "dash", "zsh"}
_PREFIX_WORDS = {"exec", "nohup", "env", "time", "command", "stdbuf", "dumb-init", "tini", "--", "uv", "run"}
_PYTHON = re.compile(r"^(.*/)?python(\d+(\.\d+)?)?$")
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


# --- tokenising command lines ---------------------------------------------------------------


# Where weights must not be fetched from at start-up (SAI603): object-store URLs.
OBJECT_STORE = re.compile(r"^(s3|s3a|gs|az|abfss?)://", re.I)

_PUNCT = ";&|()\n"


def is_separator(word: str) -> bool:
    return bool(word) and all(ch in _PUNCT for ch in word)


def _shell_tokens(script: str) -> tuple[str, ...]:
    """The shell words of `script`, separators kept."""
    lexer = shlex.shlex(script.replace("\\\n", "  "), posix=True, punctuation_chars=_PUNCT)
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return tuple(lexer)
    except ValueError:  # unbalanced quotes: fall back to plain whitespace splitting
        return tuple(script.split())


# Why: a repository repeats the same launch scripts in many manifests, and the checks split
# them again; only short scripts are kept, so a hostile 1 MB RUN line is not held on to.
_memo_tokens = functools.lru_cache(maxsize=2048)(_shell_tokens)
MEMO_MAX = 4096


def split_script(src: SourceText | None, script: str, where: Location) -> list[Word]:
    """Shell words of `script` (written at `where`), each located as precisely as the text
    allows; command separators (`&&`, `;`, `|`, newlines) are kept as words."""
    tokens = _memo_tokens(script) if len(script) <= MEMO_MAX else _shell_tokens(script)
    if src is None:
        return [(t, where) for t in tokens]
    words: list[Word] = []
    cursor = src.offset_of(where.line, where.column)
    limit = src.offset_of(where.end_line, where.end_column) + 1
    for token in tokens:
        found = -1 if is_separator(token) else src.text.find(token, cursor, max(limit, cursor))
        if found >= 0:
            words.append((token, src.span_loc(found, len(token))))
            cursor = found + len(token)
        else:
            words.append((token, where))
    return words


def expand_words(src: SourceText | None, words: Sequence[Word]) -> list[Word]:
    """Container command+args as shell words: `sh -c "script"` and one string holding several
    flags are split; everything else stays one word per argv entry."""
    out: list[Word] = []
    items = list(words)
    i = 0
    while i < len(items):
        text, loc = items[i]
        base = text.rsplit("/", 1)[-1]
        if base in _SHELLS and i + 1 < len(items):
            j = i + 1
            while j < len(items) and items[j][0].startswith("-") and "c" not in items[j][0][1:]:
                j += 1
            if j < len(items) and items[j][0].startswith("-") and "c" in items[j][0][1:] and j + 1 < len(items):
                out.append((";", loc))
                for script, sloc in items[j + 1 :]:
                    out.extend(split_script(src, script, sloc))
                    out.append((";", sloc))
                return out
        if text.lstrip().startswith(("{", "[")):  # a JSON argument is one word, never split
            out.append((text, loc))
        elif len(text.split()) > 1 or "&&" in text or "||" in text or ";" in text:  # whitespace inside
            out.extend(split_script(src, text, loc))
        else:
            out.append((text, loc))
        i += 1
    return out


def commands(words: Sequence[Word]) -> list[list[Word]]:
    """Split shell words into simple commands at separators."""
    found: list[list[Word]] = [[]]
    for word in words:
        if is_separator(word[0]):
            if found[-1]:
                found.append([])
        else:
            found[-1].append(word)
    return [c for c in found if c]


# --- recognising the engine ----------------------------------------------------------------


def _strip_prefix(cmd: list[Word], env: list[EnvEntry]) -> list[Word]:
    """Drop `VAR=value`, `exec`, `nohup`... in front of the real program; assignments
    become environment entries."""
    i = 0
    while i < len(cmd):
        word = cmd[i][0]
        if _ASSIGN.match(word):
            name, _, value = word.partition("=")
            env.append((name, value, cmd[i][1]))
        elif word not in _PREFIX_WORDS:
            break
        i += 1
    return cmd[i:]


def recognise(cmd: list[Word], env: list[EnvEntry]) -> tuple[str, list[Word]] | None:
    """(engine, words after the program) for one simple command, or None."""
    cmd = _strip_prefix(cmd, env)
    if not cmd:
        return None
    prog = cmd[0][0].rsplit("/", 1)[-1]
    rest = cmd[1:]
    if prog == "vllm" and rest and rest[0][0] == "serve":
        return "vllm", rest[1:]
    if prog == "text-generation-launcher":
        return "tgi", rest
    if prog in ("llama-server", "llama-cpp-server"):
        return "llama.cpp", rest
    if prog == "ollama" and rest and rest[0][0] == "serve":
        return "ollama", rest[1:]
    if _PYTHON.match(prog):
        for k, (word, _) in enumerate(rest):
            if word == "-m" and k + 1 < len(rest):
                module = rest[k + 1][0]
                tail = rest[k + 2 :]
                if module.startswith("vllm.entrypoints"):
                    return "vllm", tail
                if module == "sglang.launch_server":
                    return "sglang", tail
                if module == "huggingfaceserver":
                    return "kserve-hf", tail
                return None
            if not word.startswith("-"):
                return None
    return None


def image_engine(image: str) -> str:
    """The engine an image starts when only `args` are given ("" when unknown or when the
    image needs an explicit command)."""
    ref = image.lower()
    repo = ref.split("@", 1)[0]
    tag = ""
    if ":" in repo.rsplit("/", 1)[-1]:
        repo, tag = repo.rsplit(":", 1)
    name = repo.rsplit("/", 1)[-1]
    if name == "vllm-openai" or repo.endswith("/vllm") or repo == "vllm":
        return "vllm"
    if name == "text-generation-inference":
        return "tgi"
    if name == "ollama":
        return "ollama"
    if repo.startswith("nvcr.io/nim/"):
        return "nim"
    if name == "llama.cpp" and tag.startswith("server"):
        return "llama.cpp"
    if name == "huggingfaceserver":
        return "kserve-hf"
    return ""


# --- flags ---------------------------------------------------------------------------------


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


_MODEL_FLAGS = {
    "vllm": ("--model",),
    "sglang": ("--model-path", "--model"),
    "tgi": ("--model-id",),
    "llama.cpp": ("--model", "--hf-repo"),
    "kserve-hf": ("--model_id", "--model_dir"),
}


def _model(engine: str, flags: list[tuple[str, str, Location]], positional: list[Word], env: Sequence[EnvEntry],
           extra: list[Word], image: str) -> tuple[str, Location | None]:
    if engine == "vllm" and positional:
        return positional[0]
    chosen = None
    for flag, value, loc in flags:
        if flag in _MODEL_FLAGS.get(engine, ()):
            chosen = (value, loc)
    if chosen:
        return chosen
    if engine == "nim":
        for name, value, loc in env:
            if name == "NIM_MODEL_NAME" and value:
                return value, loc
        return image, None
    if engine == "ollama" and extra:
        return extra[-1]
    return "", None


# Commands NIM images ship besides the server; a container running one of them serves nothing.
_NIM_UTILITIES = ("list-model-profiles", "download-to-cache", "create-model-store", "nim_list_model_profiles", "nim_download_to_cache")


def _nim_utility(words: Sequence[Word]) -> bool:
    return any(c and str(c[0][0]).rsplit("/", 1)[-1] in _NIM_UTILITIES for c in commands(words))


def build_launch(
    src: SourceText | None,
    words: Sequence[Word],
    env: Sequence[EnvEntry],
    *,
    image: str,
    only_args: bool,
    location: Location,
    surface: str,
    workload: str = "",
    container: str = "",
    opaque: bool = False,
    engine_hint: str = "",
) -> ServingLaunch | None:
    """The serving launch a container (or a Dockerfile, or a Compose service) runs, if any.

    `words` is command + args (or ENTRYPOINT + CMD); `only_args` says the image's own
    entrypoint runs them; `engine_hint` names the engine a surface implies (a KServe
    Hugging Face predictor)."""
    env_list = list(env)
    expanded = expand_words(src, words)
    engine, flag_words = "", []
    ollama_models: list[Word] = []
    for cmd in commands(expanded):
        got = recognise(cmd, env_list)
        if got and not engine:
            engine, flag_words = got
        stripped = _strip_prefix(cmd, [])
        if len(stripped) >= 3 and stripped[0][0].rsplit("/", 1)[-1] == "ollama" and stripped[1][0] in ("pull", "run"):
            ollama_models.append(stripped[2])
    if not engine:
        default = engine_hint or image_engine(image)
        if default == "nim":
            if _nim_utility(expanded):
                return None  # list-model-profiles, download-to-cache, ...: a tool, not a server
            engine, flag_words = "nim", []
        elif default == "ollama" and (only_args or not words):
            engine, flag_words = "ollama", []
        elif default and (only_args or not words):
            engine, flag_words = default, [w for c in commands(expanded) for w in c]
    if not engine:
        return None
    flags, positional = parse_flags(engine, flag_words)
    flags = env_flags(engine, env_list) + flags  # a command-line flag overrides its env twin
    model, model_loc = _model(engine, flags, positional, env_list, ollama_models, image)
    if any(f[0] in ("--config", "--config-file") for f in flags):
        opaque = True
    return ServingLaunch(
        engine=engine,
        location=location,
        surface=surface,
        workload=workload,
        container=container,
        model=model,
        model_location=model_loc,
        flags=tuple(flags),
        env=tuple((n, v, loc) for n, v, loc in env_list),
        opaque=opaque,
    )
