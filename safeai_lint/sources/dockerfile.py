"""Dockerfiles as BuildKit reads them: instructions, build stages, ARG/ENV values.

Parsing is done by the `dockerfile` package (BuildKit's own Go parser), so line
continuations, parser directives (`# escape=`, `# syntax=`), heredocs and exec/shell forms
follow Docker exactly. On top of it this module builds the stages: which image or earlier
stage each `FROM` names once global `ARG` defaults are substituted, the `ENV` a stage has
(inherited from the stage it is built on), and its effective `ENTRYPOINT`/`CMD`.
"""
from __future__ import annotations

import re
from typing import Mapping

from .base import SourceText
from ..records import Frozen, record

# Build args BuildKit defines itself: known only at build time, so never a default to use.
PREDEFINED_ARGS = frozenset({
    "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM", "BUILDOS",
    "BUILDARCH", "BUILDVARIANT", "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY",
})
INSTRUCTIONS = frozenset({
    "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
    "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
})


@record
class Heredoc(Frozen):
    name: str
    content: str


@record
class Instruction(Frozen):
    """One instruction. `cmd` is upper-case; `args` are the words after the flags (for the
    exec form, the JSON array items); `flags` are `--name=value` words; lines are 1-based."""

    cmd: str
    args: tuple[str, ...]
    json: bool
    start_line: int
    end_line: int
    flags: tuple[str, ...] = ()
    heredocs: tuple[Heredoc, ...] = ()
    original: str = ""
    sub_cmd: str = ""  # the instruction an ONBUILD wraps

    @property
    def value(self) -> tuple[str, ...]:
        return self.args

    def flag(self, name: str) -> str | None:
        """The value of `--name=value` (None when absent)."""
        prefix = f"--{name}="
        for flag in self.flags:
            if flag.startswith(prefix):
                return flag[len(prefix):]
            if flag == f"--{name}":
                return ""
        return None


@record
class Stage(Frozen):
    """One build stage: its `FROM` and the instructions after it.

    `base` is the image as written; `base_resolved` the same after global ARG substitution
    ("" when it cannot be resolved: `unresolved` says why). `parent` is the index of the
    earlier stage this one is built FROM (-1 for an image or `scratch`).
    """

    index: int
    name: str  # the `AS` alias, lower-case ("" when none)
    base: str
    base_resolved: str
    unresolved: str
    from_line: int
    parent: int
    platform: str
    instructions: tuple[Instruction, ...]
    env_items: tuple[tuple[str, str, int], ...]  # (name, value, line), inherited ones first
    entrypoint: Instruction | None  # the effective one (inherited from `parent` if not set)
    cmd: Instruction | None
    from_instruction: Instruction | None = None

    @property
    def scratch(self) -> bool:
        return self.base_resolved.lower() == "scratch"

    def env(self) -> dict[str, tuple[str, int]]:
        """ENV in force at the end of the stage: name -> (value, line it was set on)."""
        return {name: (value, line) for name, value, line in self.env_items}


@record
class DockerfileModel(Frozen):
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    global_args: tuple[tuple[str, str | None, int], ...]  # (name, default or None, line)

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None


# --- variable substitution ---------------------------------------------------------------

_VAR = re.compile(
    r"\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)


def expand(text: str, variables: Mapping[str, str | None], depth: int = 0) -> tuple[str | None, str]:
    """`text` with `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alt}` substituted.

    `variables` maps a declared name to its value, or None when it has no value we can know
    (an ARG without default). Returns (value, "") or (None, why it cannot be resolved).
    """
    problems: list[str] = []

    def repl(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "\\$":
            return "$"
        name = match.group(1) or match.group(4)
        op, word = match.group(2), match.group(3) or ""
        known = name in variables and variables[name] is not None
        value = variables.get(name) if known else None
        if op:
            if depth < 8 and "$" in word:
                word_value, why = expand(word, variables, depth + 1)
                if word_value is None:
                    problems.append(why)
                    return ""
                word = word_value
            is_set = known and (value != "" or not op.startswith(":"))
            if op.endswith("-"):  # a default written at the use site counts as the value
                return (value or "") if is_set else word
            if op.endswith("+"):
                if name in variables and not known:
                    return _unknown(name, problems, variables)
                return word if is_set else ""
            return (value or "") if is_set else _unknown(name, problems, variables)  # ${X:?msg}
        if not known:
            return _unknown(name, problems, variables)
        return value or ""

    result = _VAR.sub(repl, text)
    if problems:
        return None, problems[0]
    if "${" in result:
        return None, "uses a variable substitution form this linter does not evaluate"
    return result, ""


def _unknown(name: str, problems: list[str], variables: Mapping[str, str | None]) -> str:
    if name in variables:
        problems.append(f"build arg {name} has no default value")
    elif name in PREDEFINED_ARGS:
        problems.append(f"${name} is set by BuildKit at build time")
    else:
        problems.append(f"${name} is not declared by an ARG before the first FROM")
    return ""


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        inner = text[1:-1]
        return inner if text[0] == "'" else re.sub(r'\\(["\\$])', r"\1", inner)
    return re.sub(r"\\(.)", r"\1", text)


def _arg_decls(instr: Instruction) -> list[tuple[str, str | None]]:
    decls = []
    for word in instr.args:
        name, eq, default = word.partition("=")
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            decls.append((name, _unquote(default) if eq else None))
    return decls


# --- building the model ---------------------------------------------------------------------


def _instruction(command: object) -> Instruction:
    return Instruction(
        cmd=str(command.cmd).upper(),  # type: ignore[attr-defined]
        args=tuple(str(v) for v in (command.value or ())),  # type: ignore[attr-defined]
        json=bool(command.json),  # type: ignore[attr-defined]
        start_line=int(command.start_line),  # type: ignore[attr-defined]
        end_line=int(command.end_line),  # type: ignore[attr-defined]
        flags=tuple(str(f) for f in (command.flags or ())),  # type: ignore[attr-defined]
        heredocs=tuple(Heredoc(str(h.name), str(h.content)) for h in (command.heredocs or ())),  # type: ignore[attr-defined]
        original=str(command.original or ""),  # type: ignore[attr-defined]
        sub_cmd=str(command.sub_cmd or "").upper(),  # type: ignore[attr-defined]
    )


def _parse(text: str) -> tuple[tuple[Instruction, ...] | None, str, int]:
    """(instructions, error message, error line). Only the parser's message comes without a
    line, so a failing file is cut in halves to find the first line that breaks it."""
    import dockerfile as bk

    try:
        return tuple(_instruction(c) for c in bk.parse_string(text)), "", 0
    except bk.GoParseError as exc:
        message = str(exc)
    except Exception as exc:  # noqa: BLE001 - the Go bridge may raise on odd text
        return None, f"cannot parse ({type(exc).__name__}: {exc})", 1
    if "no instructions" in message:
        return (), "", 0
    lines = text.split("\n")
    low, high = 1, len(lines)  # the smallest prefix that fails the same way
    while low < high:
        mid = (low + high) // 2
        try:
            bk.parse_string("\n".join(lines[:mid]) + "\n")
            failed = False
        except Exception as exc:  # noqa: BLE001
            failed = str(exc) == message
        if failed:
            high = mid
        else:
            low = mid + 1
    return None, message, low


# Why: the parser joins continuation lines by repeated string concatenation, so one instruction
# continued over N lines costs N^2 (measured: 40,000 lines 1 s, 100,000 lines 11 s). No real
# Dockerfile continues one instruction over thousands of lines.
MAX_CONTINUED_LINES = 10_000
# Why: each parsed instruction costs ~2.5 KB (Go parser result, then our model): 100,000 lines
# take ~260 MB, and a 5 MB file of one-word lines would take gigabytes.
MAX_LINES = 50_000


def _too_big(text: str) -> tuple[int, str] | None:
    """(line, why) when the file is over MAX_LINES lines or one instruction is continued over
    more than MAX_CONTINUED_LINES. Blank and comment lines inside a continuation do not end it
    (BuildKit skips them)."""
    lines = text.count("\n")
    if lines > MAX_LINES:
        return 1, f"Dockerfile not analysed: {lines:,} lines, over the {MAX_LINES:,} this linter parses"
    if lines <= MAX_CONTINUED_LINES:
        return None
    run, start = 0, 0
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.strip()
        if stripped.endswith(("\\", "`")):
            run, start = run + 1, start or number
            if run > MAX_CONTINUED_LINES:
                return start, f"Dockerfile not analysed: the instruction on line {start} is continued over more than {MAX_CONTINUED_LINES:,} lines"
        elif run and (not stripped or stripped.startswith("#")):
            continue
        else:
            run, start = 0, 0
    return None


def build_model(src: SourceText) -> DockerfileModel | None:
    refused = _too_big(src.text)
    if refused:
        src.problem("SAI002", refused[1], refused[0])
        return None
    instructions, error, line = _parse(src.text)
    if instructions is None:
        src.problem("SAI001", f"invalid Dockerfile: {error}", line)
        return None
    global_args: list[tuple[str, str | None, int]] = []
    scope: dict[str, str | None] = {}
    stages: list[Stage] = []
    current: list[Instruction] = []
    header: Instruction | None = None

    def close() -> None:
        if header is not None:
            stages.append(_stage(src, len(stages), header, tuple(current), stages, scope))

    for instr in instructions:
        if instr.cmd not in INSTRUCTIONS:
            src.problem("SAI001", f"invalid Dockerfile: unknown instruction {instr.cmd}", instr.start_line)
            continue
        if instr.cmd == "FROM":
            close()
            header, current = instr, []
        elif header is None:
            if instr.cmd == "ARG":
                for name, default in _arg_decls(instr):
                    value = None
                    if default is not None:
                        value, _ = expand(default, scope)
                    scope[name] = value
                    global_args.append((name, value, instr.start_line))
            else:
                src.problem("SAI001", f"invalid Dockerfile: {instr.cmd} before the first FROM", instr.start_line)
        else:
            current.append(instr)
    close()
    return DockerfileModel(instructions, tuple(stages), tuple(global_args))


def _stage(
    src: SourceText,
    index: int,
    header: Instruction,
    body: tuple[Instruction, ...],
    earlier: list[Stage],
    global_scope: Mapping[str, str | None],
) -> Stage:
    args = header.args
    name, base = "", args[0] if args else ""
    if "{{" in " ".join(args):  # a Jinja/Go template of a Dockerfile: the image is filled in later
        words = list(args)
        if len(words) >= 3 and words[-2].upper() == "AS":
            name, words = words[-1].lower(), words[:-2]
        base = " ".join(words)
    elif len(args) == 3 and args[1].upper() == "AS":
        name = args[2].lower()
    elif len(args) != 1:
        src.problem("SAI001", "invalid Dockerfile: FROM takes an image and an optional `AS name`", header.start_line)
        base = ""  # Docker refuses the line: there is no image to judge
    resolved, why = ("", "FROM names no image") if not base else expand(base, global_scope)
    if resolved is not None and "{{" in resolved:
        resolved, why = None, "the image is a template placeholder"
    resolved = resolved or ""
    parent = -1
    by_name = {s.name: s for s in earlier if s.name}
    if resolved and resolved.lower() in by_name:
        parent = by_name[resolved.lower()].index
    inherited = earlier[parent] if parent >= 0 else None
    env: dict[str, tuple[str, int]] = dict(inherited.env()) if inherited else {}
    entrypoint = inherited.entrypoint if inherited else None
    cmd = inherited.cmd if inherited else None
    variables: dict[str, str | None] = {k: v for k, (v, _) in env.items()}
    for instr in body:
        if instr.cmd == "ARG":
            for arg, default in _arg_decls(instr):
                value = global_scope.get(arg) if default is None else expand(default, variables)[0]
                variables[arg] = value
        elif instr.cmd == "ENV":
            words = instr.args
            for key, raw in zip(words[0::2], words[1::2]):
                written = _unquote(raw)
                value, _ = expand(written, variables)
                env[key] = (written if value is None else value, instr.start_line)
                variables[key] = value
        elif instr.cmd == "ENTRYPOINT":
            entrypoint, cmd = instr, None  # a new ENTRYPOINT drops the inherited CMD
        elif instr.cmd == "CMD":
            cmd = instr
    return Stage(
        index=index,
        name=name,
        base=base,
        base_resolved=resolved,
        unresolved="" if resolved else why,
        from_line=header.start_line,
        parent=parent,
        platform=header.flag("platform") or "",
        instructions=body,
        env_items=tuple((k, v, line) for k, (v, line) in env.items()),
        entrypoint=entrypoint,
        cmd=cmd,
        from_instruction=header,
    )


def dockerfile(src: SourceText) -> DockerfileModel | None:
    """The model of a Dockerfile (built once per file); None when it cannot be parsed, after
    recording SAI001 at the failing line."""
    return src.cached("dockerfile", build_model)


# --- RUN text --------------------------------------------------------------------------------

_HEREDOC_MARK = re.compile(r"<<-?\s*([\"']?)([A-Za-z0-9_.-]+)\1")
_SHELL_PROGRAMS = re.compile(r"^(?:/(?:usr/)?bin/)?(?:ba|da|z|k|a)?sh(?:\s+-[A-Za-z]+)*$")


def run_commands(instr: Instruction) -> str:
    """The shell text a RUN executes. A heredoc is included when it is the script itself
    (`RUN <<EOF`, `RUN <<EOF bash`), not when it is data fed to another program
    (`RUN python3 <<EOF`, `RUN cat <<EOF > file`)."""
    if instr.json:
        import shlex

        return shlex.join(instr.args)
    text = " ".join(instr.args)
    if not instr.heredocs:
        return text
    rest = _HEREDOC_MARK.sub("", text).strip()
    if rest and not _SHELL_PROGRAMS.match(rest):
        return text
    return "\n".join(h.content for h in instr.heredocs)
