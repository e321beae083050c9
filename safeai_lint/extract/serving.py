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
from .engine_flags import UNKNOWN, EnvEntry, Word, env_flags, parse_flags  # noqa: F401 - UNKNOWN re-exported

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
        if _is_json(text):
            out.append((text, loc))  # `'{"image": 5}'`: one argument, never split
        elif len(text.split()) > 1 or "&&" in text or "||" in text or ";" in text:  # whitespace inside
            out.extend(split_script(src, text, loc))
        else:
            out.append((text, loc))
        i += 1
    return out


def _is_json(text: str) -> bool:
    """A JSON object or array written as one argument (vLLM's `--limit-mm-per-prompt`,
    `--hf-overrides`, `--speculative-config` take them)."""
    head = text.lstrip()[:1]
    if head not in ("{", "["):
        return False
    import json

    try:
        json.loads(text)
    except ValueError:
        return False
    return True


_ENV_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def expand_env_refs(words: Sequence[Word], env: Sequence[EnvEntry]) -> list[Word]:
    """Kubernetes' own expansion of `$(VAR)` in a container's command and args, from the
    container's env entries with a literal value (`$$` is a literal `$`). A reference to a
    variable not written literally stays as it is: its value is unknown to us."""
    values = {name: value for name, value, _ in env if value is not None}
    if not values:
        return list(words)

    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$$"
        value = values.get(match.group(1))
        return value if value is not None and "$(" not in value else match.group(0)

    return [(_ENV_REF.sub(sub, text) if "$(" in text else text, loc) for text, loc in words]


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
    if "text-generation-inference" in name:
        return "tgi"  # ghcr.io/huggingface/text-generation-inference, cloud providers' TGI builds
    if name == "ollama":
        return "ollama"
    if repo.startswith("nvcr.io/nim/"):
        return "nim"
    if name == "llama.cpp" and tag.startswith("server"):
        return "llama.cpp"
    if name == "huggingfaceserver":
        return "kserve-hf"
    return ""


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


# TGI reads every flag from an env twin; MODEL_ID alone is too common a name, so it counts
# with one of TGI's own variables beside it.
_TGI_ENV = ("MAX_INPUT_TOKENS", "MAX_INPUT_LENGTH", "MAX_TOTAL_TOKENS", "MAX_BATCH_PREFILL_TOKENS",
            "MAX_BATCH_TOTAL_TOKENS", "CUDA_MEMORY_FRACTION", "NUM_SHARD", "SHARDED", "MAX_CONCURRENT_REQUESTS")


def _engine_by_env(env: Sequence[EnvEntry]) -> str:
    """The engine a container's env configures, when its image does not say (TGI: MODEL_ID
    with one of TGI's own variables)."""
    names = {name for name, _, _ in env}
    if "MODEL_ID" in names and names.intersection(_TGI_ENV):
        return "tgi"
    return ""


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
        default = engine_hint or image_engine(image) or _engine_by_env(env_list)
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
