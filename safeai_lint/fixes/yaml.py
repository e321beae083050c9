"""`--fix` for serving launches in Kubernetes YAML: SAI307 (VRAM fraction), SAI501 (token cap
absent) and SAI502 (token cap too large).

Why text edits and not a YAML dump: a round-trip dumper still re-flows some lines (long flow
lists, indentation of sequences, spacing inside brackets), and the golden tests demand every
other byte unchanged. So each edit touches one scalar, or adds list items next to the last
one in the same style, and is then *proved*: the edited file is parsed again and must equal
the original data with exactly the intended change. Any doubt (a `sh -c` string, a flag in a
string with other words, an alias, a Helm template, a value from a variable, a TGI image
older than 2.0) returns None and the finding stays for a person.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from ..checks.tokens import parse_tokens
from ..extract.serving import build_launch, commands, expand_words
from ..facts import Location, ServingLaunch
from ..findings import Finding
from ..policy import Policy
from ..sources.yaml import YList, YMap, parse_documents, plain


# rule -> engine -> flags the rule judges (the first one is the one to insert)
_FLAGS: dict[str, dict[str, tuple[str, ...]]] = {
    "SAI307": {"vllm": ("--gpu-memory-utilization",), "tgi": ("--cuda-memory-fraction",), "sglang": ("--mem-fraction-static",)},
    "SAI501": {"vllm": ("--max-model-len",), "tgi": ("--max-input-tokens", "--max-input-length", "--max-total-tokens"),
               "sglang": ("--context-length",)},
}
_FLAGS["SAI502"] = _FLAGS["SAI501"]
# engines whose absent flag is inserted (SGLang's VRAM default is a heuristic: SAI307 is silent)
_INSERT = {"SAI307": ("vllm", "tgi"), "SAI501": ("vllm", "tgi", "sglang")}
_TGI_IMAGE = re.compile(r"(^|/)text-generation-inference:(\d+)\.\d+(\.\d+)?$")

Path = tuple[Any, ...]


@dataclass(frozen=True)
class _Container:
    path: Path  # document index, then keys / indexes down to the container map
    node: YMap
    words: list[tuple[str, Location, Path, Any]]  # argv word, its location, list path, item index


# --- reading -----------------------------------------------------------------------------


def _walk(value: Any, path: Path, seen: dict[int, int]) -> Iterator[tuple[Path, Any]]:
    """Every map and list with its path; `seen` counts how often each node is reached (an
    alias or a merge key makes a node reachable twice: editing it would edit both)."""
    stack = [(path, value)]
    while stack:
        where, node = stack.pop()
        if not isinstance(node, (YMap, YList)):
            continue
        seen[id(node)] = seen.get(id(node), 0) + 1
        if seen[id(node)] > 1:
            continue
        yield where, node
        items = node.items() if isinstance(node, YMap) else enumerate(node)
        stack.extend((where + (k,), v) for k, v in items)


def _containers(docs: list[Any], seen: dict[int, int]) -> list[_Container]:
    out = []
    for d, doc in enumerate(docs):
        for path, node in _walk(doc.value, (d,), seen):
            if not (isinstance(node, YMap) and len(path) >= 3 and path[-2] in ("containers",)):
                continue
            words = []
            for key in ("command", "args"):
                items = node.get(key)
                if key in node and not isinstance(items, YList):
                    words = None  # a string command: not a plain argv
                    break
                for i, item in enumerate(items or ()):
                    pos = items.item_pos(i)
                    words.append((item if isinstance(item, str) else str(item), Location("", *pos), path + (key,), i))
            if words is not None:
                out.append(_Container(path, node, words))
    return out


def _effective(launch: ServingLaunch, flags: tuple[str, ...]) -> tuple[str, str, Location] | None:
    """The entry the rule judges: for TGI an input cap wins over --max-total-tokens (the
    last flag in `flags`), as in checks/tokens.py."""
    if len(flags) > 1:
        return launch.flag(*flags[:-1]) or launch.flag(flags[-1])
    return launch.flag(*flags)


def _at(loc: Location, pos: tuple[int, int, int, int]) -> bool:
    return (loc.line, loc.column) == pos[:2]


def _launch(c: _Container) -> ServingLaunch | None:
    """The launch of a container whose argv is plain: one command, one word per item, no shell."""
    words = [(w, loc) for w, loc, _, _ in c.words]
    expanded = expand_words(None, words)
    if [w for w, _ in expanded] != [w for w, _ in words] or len(commands(expanded)) > 1:
        return None
    if any(not w or w == "--" or any(ch.isspace() for ch in w) for w, _ in words):
        return None
    env = []
    items = c.node.get("env")
    for item in items if isinstance(items, YList) else ():
        if isinstance(item, YMap) and isinstance(item.get("name"), str):
            value = item.get("value") if "valueFrom" not in item else None
            env.append((item["name"], None if value is None else str(value), Location("", *item.key_pos("name"))))
    image = c.node.get("image")
    return build_launch(None, words, env, image=image if isinstance(image, str) else "", only_args="command" not in c.node,
                        location=Location("", 1, 1), surface="kubernetes", opaque="envFrom" in c.node)


# --- writing -----------------------------------------------------------------------------


def _style(token: str) -> str:
    return token[0] if token[:1] in ("'", '"') else ""


def _render(value: str, style: str) -> str | None:
    """`value` as a YAML scalar in `style`, or None when that style cannot hold it as text."""
    for quote in (style, '"') if style == "" else (style,):
        token = f"{quote}{value}{quote}"
        if quote and (quote in value or "\\" in value):
            continue
        docs, problem = parse_documents(f"[{token}]\n")
        if problem is None and docs and plain(docs[0].value) == [value]:
            return token
    return None


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _replace_scalar(text: str, pos: tuple[int, int, int, int], old: str, new: str) -> str | None:
    """Rewrite the one-line scalar at `pos` (holding `old`) to hold `new`, same quoting."""
    line, col, end_line, end_col = pos
    lines = _lines(text)
    if line != end_line or not 1 <= line <= len(lines):
        return None
    raw = lines[line - 1]
    token = raw[col - 1 : end_col - 1]
    style = _style(token)
    if token != f"{style}{old}{style}":
        return None  # escapes, folded or block scalars: not ours to rewrite
    rendered = _render(new, style)
    if rendered is None or _style(rendered) != style:
        return None
    lines[line - 1] = raw[: col - 1] + rendered + raw[end_col - 1 :]
    return "".join(lines)


def _append_items(text: str, items: YList, values: list[str]) -> str | None:
    """Add `values` after the last item of `items`, in the list's own layout and quoting."""
    lines = _lines(text)
    start_line, start_col = items.pos[:2]
    opener = lines[start_line - 1][start_col - 1 : start_col] if start_line <= len(lines) else ""
    if not items:
        if opener != "[":
            return None
        raw = lines[start_line - 1]
        tokens = [_render(v, '"') for v in values]
        if None in tokens or raw[start_col : start_col + 1] != "]":
            return None
        lines[start_line - 1] = raw[:start_col] + ", ".join(tokens) + raw[start_col:]  # type: ignore[arg-type]
        return "".join(lines)
    last = items.item_pos(len(items) - 1)
    if last[0] != last[2] or last[0] > len(lines):
        return None
    raw = lines[last[0] - 1]
    # each new item takes the quoting of the last item of its kind (flag or value); a value
    # that plain style would read as a number takes the list's quotes ("4096" must stay text)
    styles = [(str(v).startswith("-"), _style(lines[p[0] - 1][p[1] - 1 :])) for v, p in zip(items, items.ipos)]
    quoted = next((s for _, s in reversed(styles) if s), '"')
    tokens = []
    for value in values:
        kind = value.startswith("-")
        style = next((s for k, s in reversed(styles) if k == kind), styles[-1][1])
        token = _render(value, style) or _render(value, quoted)
        if token is None:
            return None
        tokens.append(token)
    if opener == "[":
        lines[last[0] - 1] = raw[: last[3] - 1] + "".join(", " + t for t in tokens) + raw[last[3] - 1 :]
        return "".join(lines)
    lead = raw[: last[1] - 1]
    rest = raw[last[3] - 1 :].rstrip("\r\n")
    if not re.fullmatch(r"\s*-\s+", lead) or (rest.strip() and not rest.strip().startswith("#")):
        return None
    ending = raw[len(raw.rstrip("\r\n")) :] or ("\r\n" if "\r\n" in text else "\n")
    if not raw.endswith(("\n", "\r")):
        lines[last[0] - 1] = raw + ending
    added = [lead + t + ending for t in tokens]
    if not raw.endswith(("\n", "\r")):
        added[-1] = added[-1][: -len(ending)]
    lines[last[0] : last[0]] = added
    return "".join(lines)


def _proved(text: str, new: str | None, expected: list[Any]) -> str | None:
    """`new` only when it parses to exactly `expected` (the original data plus the change)."""
    if new is None or new == text:
        return None
    docs, problem = parse_documents(new)
    if problem is not None or [plain(d.value) for d in docs] != expected:
        return None
    return new


def _node(data: list[Any], path: Path) -> Any:
    for key in path:
        data = data[key]
    return data


# --- the fixer ---------------------------------------------------------------------------


def _target(rule: str, policy: Policy) -> str | None:
    if rule == "SAI307":
        cap = policy.get("max-vram-fraction")
        ok = isinstance(cap, (int, float)) and not isinstance(cap, bool) and 0 < cap <= 1
        return repr(cap) if ok else None
    budget = policy.get("max-input-tokens")
    ok = isinstance(budget, int) and not isinstance(budget, bool) and budget > 0
    return str(budget) if ok else None


def _wrong(rule: str, value: str, target: str) -> bool:
    """Is `value` what the rule reports (so that rewriting it is the fix)?"""
    if rule == "SAI307":
        try:
            return float(value) > float(target)
        except ValueError:
            return False
    tokens = parse_tokens(value)
    if tokens is None:
        return False
    return tokens <= 0 if rule == "SAI501" else tokens > int(target)


def fix_serving_yaml(text: str, finding: Finding, policy: Policy) -> str | None:
    rule, engine, loc = finding.rule, finding.subject, finding.location
    flags = _FLAGS.get(rule, {}).get(engine)
    target = _target(rule, policy)
    if flags is None or target is None:
        return None
    docs, problem = parse_documents(text)
    if problem is not None:
        return None
    seen: dict[int, int] = {}
    found = _containers(docs, seen)
    if any(n > 1 for n in seen.values()):
        return None  # anchors/aliases/merge keys: one edit could change several containers
    values = [d.value for d in docs]
    expected = plain(values)
    for c in found:
        launch = _launch(c)
        if launch is None or launch.engine != engine:
            continue
        entry = _effective(launch, flags)
        # 1. the flag is written in the argv: rewrite its value
        for k, (word, wloc, lpath, i) in enumerate(c.words):
            if (wloc.line, wloc.column) != (loc.line, loc.column):
                continue
            if entry is None or entry[2] != wloc or not _wrong(rule, entry[1], target):
                return None
            name, eq, value = word.partition("=")
            if eq:
                pos, old, new = _node(values, lpath).item_pos(i), word, f"{name}={target}"
            elif k + 1 < len(c.words) and c.words[k + 1][0] == entry[1]:
                _, _, vpath, j = c.words[k + 1]
                pos, old, new, lpath, i = _node(values, vpath).item_pos(j), entry[1], target, vpath, j
            else:
                return None
            _node(expected, lpath)[i] = new
            return _proved(text, _replace_scalar(text, pos, old, new), expected)
        # 2. TGI reads the flag from its env twin: rewrite the env value
        env = c.node.get("env")
        for i, item in enumerate(env if isinstance(env, YList) else ()):
            if not (isinstance(item, YMap) and _at(loc, item.key_pos("name"))):
                continue
            value = item.get("value")
            if engine != "tgi" or entry is None or entry[2] != Location("", *item.key_pos("name")) or not isinstance(value, str):
                return None
            if "valueFrom" in item or not _wrong(rule, value, target):
                return None
            _node(expected, c.path + ("env", i))["value"] = target
            return _proved(text, _replace_scalar(text, item.value_pos("value"), value, target), expected)
        # 3. the flag is absent: append it to the argv (or, for TGI set up by env only, to env)
        if any(_at(loc, c.node.key_pos(k)) for k in ("command", "args") if k in c.node):
            return _insert(text, c, launch, rule, flags, target, expected, loc)
        # only TGI reads its flags from env twins (vLLM has no CUDA_MEMORY_FRACTION to write)
        if engine == "tgi" and not c.words and "name" in c.node and _at(loc, c.node.key_pos("name")) \
                and _may_insert(c, launch, rule, flags, target):
            env_name = flags[0][2:].upper().replace("-", "_")
            if not isinstance(env, YList) or not env or c.node.key_pos("env")[0] < loc.line:
                return None
            _node(expected, c.path + ("env",)).append({"name": env_name, "value": target})
            return _proved(text, _append_env(text, env, env_name, target), expected)
    return None


def _append_env(text: str, env: YList, name: str, value: str) -> str | None:
    """Clone the last `{name, value}` entry of `env` below it, with the new name and value
    (same layout: block or flow map, same quotes; its trailing comment is not copied)."""
    last = env[-1]
    if not isinstance(last, YMap) or list(last) != ["name", "value"]:
        return None
    lines = _lines(text)
    npos, vpos = last.value_pos("name"), last.value_pos("value")
    first, end = last.key_pos("name")[0], vpos[2]
    if npos[0] != npos[2] or vpos[0] != end or end not in (first, first + 1) or end > len(lines):
        return None
    lead = lines[first - 1][: last.key_pos("name")[1] - 1]
    flow = re.fullmatch(r"\s*-\s+\{\s*", lead) is not None
    if not flow and not re.fullmatch(r"\s*-\s+", lead):
        return None
    clone = lines[first - 1 : end]
    raw = clone[-1]
    ending = raw[len(raw.rstrip("\r\n")) :] or ("\r\n" if "\r\n" in text else "\n")
    tail = raw[vpos[3] - 1 :].rstrip("\r\n")
    kept = re.match(r"\s*\}", tail) if flow else re.match(r"", tail)
    if kept is None or (tail[kept.end() :].strip() and not tail[kept.end() :].strip().startswith("#")):
        return None
    old_name, old_value = lines[npos[0] - 1][npos[1] - 1 : npos[3] - 1], raw[vpos[1] - 1 : vpos[3] - 1]
    new_value = _render(value, _style(old_value)) or _render(value, '"')
    new_name = _render(name, _style(old_name))
    if new_value is None or new_name is None:
        return None
    clone[-1] = raw[: vpos[1] - 1] + new_value + kept.group(0) + ending
    row = npos[0] - first
    clone[row] = clone[row][: npos[1] - 1] + new_name + clone[row][npos[3] - 1 :]
    if not lines[end - 1].endswith(("\n", "\r")):
        lines[end - 1] += ending
        clone[-1] = clone[-1][: -len(ending)]
    lines[end:end] = clone
    return "".join(lines)


def _insert(text: str, c: _Container, launch: ServingLaunch, rule: str, flags: tuple[str, ...], target: str,
            expected: list[Any], loc: Location) -> str | None:
    if not _may_insert(c, launch, rule, flags, target):
        return None
    key = "args" if isinstance(c.node.get("args"), YList) else "command"
    items = c.node.get(key)
    if not isinstance(items, YList) or c.node.key_pos(key)[0] < loc.line:
        return None  # the list sits above the reported line: lines below it may be fixed already
    flag = flags[0]
    joined = sum(1 for w, _, _, _ in c.words if w.startswith("--") and "=" in w)
    split = len(launch.flags) - joined
    values = [f"{flag}={target}"] if joined >= split else [flag, target]
    _node(expected, c.path + (key,)).extend(values)
    return _proved(text, _append_items(text, items, values), expected)


def _may_insert(c: _Container, launch: ServingLaunch, rule: str, flags: tuple[str, ...], target: str) -> bool:
    """Does the rule report this flag as absent, and is writing it safe for the engine?"""
    engine = launch.engine
    if engine not in _INSERT.get(rule, ()) or launch.flag(*flags) is not None or launch.opaque:
        return False
    if rule == "SAI307" and engine == "vllm" and launch.flag("--kv-cache-memory-bytes"):
        return False
    return not (engine == "tgi" and rule == "SAI501" and not _tgi_defaults_fit(c, launch, int(target)))


def _tgi_defaults_fit(c: _Container, launch: ServingLaunch, budget: int) -> bool:
    """TGI before 2.0 defaulted --max-total-tokens to 2048 (a 4096 input cap would not start),
    and --max-batch-prefill-tokens must hold the input cap: insert only when both are sure."""
    image = c.node.get("image")
    match = _TGI_IMAGE.search(image) if isinstance(image, str) else None
    if match is None or int(match.group(2)) < 2:
        return False
    prefill = launch.flag("--max-batch-prefill-tokens")
    return prefill is None or ((tokens := parse_tokens(prefill[1])) is not None and tokens >= budget)
