"""Just enough POSIX shell to see which programs a script runs and which packages it installs.

`split_commands` cuts a script into simple commands (argv lists) the way a shell would cut it
on `&&`, `||`, `;`, `|`, `&`, newlines and parentheses, removing quotes; it never raises and
never executes anything. Wrappers that do not change what runs (`sudo`, `env A=1`, `exec`,
`nohup`, `time`, leading `A=1` assignments, `if`/`then`/`do` keywords) are dropped, and
`sh -c "…"` / `bash -lc '…'` bodies are split in turn, so `sh -c "pip install x && serve"`
yields `["pip", "install", "x"]` and `["serve"]`.

`package_installs` reads one argv: pip/pip3/`python -m pip`/`uv pip`, conda/mamba/micromamba,
apt-get/apt and apk installs, package by package, plus the index options they name.
"""
from __future__ import annotations

import os
import re
from ..records import Frozen, record

MAX_DEPTH = 8  # nested `sh -c` levels followed before giving up
_SEPARATORS = ("&&", "||", ";;", "|&", ";", "|", "&", "(", ")", "\n")
_SEPARATOR_CHARS = frozenset("&|;()\n")
_KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time"}
_WRAPPERS = {"sudo", "exec", "nohup", "command", "builtin", "gosu", "su-exec", "tini", "dumb-init", "stdbuf"}
_SHELLS = {"sh", "bash", "dash", "ash", "zsh", "ksh", "busybox-sh"}
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_REDIRECT = re.compile(r"^[0-9]*(?:>>|>&|<&|&>>|&>|<<<|<>|>\||>|<)(.*)$")


def _tokens(text: str) -> list[str | None]:
    """Words with quotes removed; None marks a command boundary."""
    out: list[str | None] = []
    word: list[str] = []
    in_word = False
    i, n = 0, len(text)

    def flush() -> None:
        nonlocal in_word
        if in_word:
            out.append("".join(word))
        word.clear()
        in_word = False

    while i < n:
        c = text[i]
        if c == "\\":
            if i + 1 < n and text[i + 1] == "\n":  # line continuation
                i += 2
                continue
            if i + 1 < n:
                word.append(text[i + 1])
                in_word = True
            i += 2
            continue
        if c == "'":
            end = text.find("'", i + 1)
            end = n if end < 0 else end
            word.append(text[i + 1:end])
            in_word = True
            i = end + 1
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n and text[j + 1] in '"\\$`\n':
                    if text[j + 1] != "\n":
                        word.append(text[j + 1])
                    j += 2
                    continue
                word.append(text[j])
                j += 1
            in_word = True
            i = j + 1
            continue
        if c == "$" and text.startswith("$(", i) and not text.startswith("$((", i):
            depth, j = 0, i  # keep a command substitution as one opaque word
            while j < n:
                if text[j] == "(":
                    depth += 1
                elif text[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            word.append(text[i:j + 1])
            in_word = True
            i = j + 1
            continue
        if c == "#" and not in_word:  # a comment runs to the end of the line
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in " \t\r":
            flush()
            i += 1
            continue
        if c == "&" and ((word and word[-1] in "<>") or text.startswith("&>", i)):
            word.append(c)  # part of a redirection: `2>&1`, `&>/dev/null`
            in_word = True
            i += 1
            continue
        sep = next((s for s in _SEPARATORS if text.startswith(s, i)), None) if c in _SEPARATOR_CHARS else None
        if sep is not None:
            flush()
            out.append(None)
            i += len(sep)
            continue
        word.append(c)
        in_word = True
        i += 1
    flush()
    return out


def _clean(argv: list[str]) -> list[str]:
    """Drop redirections, keywords, assignments and wrappers that do not change the program."""
    words: list[str] = []
    skip_next = False
    for word in argv:
        if skip_next:
            skip_next = False
            continue
        match = _REDIRECT.match(word)
        if match and not word.startswith("<(") and not word.startswith(">("):
            skip_next = not match.group(1)  # `> file`: the target is the next word
            continue
        words.append(word)
    i = 0
    while i < len(words):
        word = words[i]
        if word in _KEYWORDS or _ASSIGNMENT.match(word):
            i += 1
        elif os.path.basename(word) in _WRAPPERS:
            i += 1
            while i < len(words) and words[i].startswith("-"):  # sudo -u x, stdbuf -oL
                i += 2 if words[i] in ("-u", "-g", "-E_") else 1
        elif os.path.basename(word) == "env":
            i += 1
            while i < len(words) and (words[i].startswith("-") or _ASSIGNMENT.match(words[i])):
                i += 2 if words[i] in ("-u", "-C", "-S") else 1
        elif os.path.basename(word) == "timeout":
            i += 1
            while i < len(words) and words[i].startswith("-"):
                i += 1
            i += 1  # the duration
        else:
            break
    return words[i:]


def _shell_body(argv: list[str]) -> str | None:
    """The script of `sh -c '…'` / `bash -lc "…"`, or None when argv is no such call."""
    if not argv or os.path.basename(argv[0]) not in _SHELLS:
        return None
    i = 1
    while i < len(argv) and argv[i].startswith(("-", "+")):
        opt = argv[i]
        if opt in ("-o", "+o", "-O", "+O"):
            i += 2
            continue
        if not opt.startswith("--") and "c" in opt[1:]:
            return argv[i + 1] if i + 1 < len(argv) else ""
        i += 1
    return None


def split_commands(text: object, _depth: int = 0) -> list[list[str]]:
    """The simple commands of a shell script, each as an argv list (see the module doc)."""
    if not isinstance(text, str) or not text:
        return []
    commands: list[list[str]] = []
    current: list[str] = []
    for token in _tokens(text) + [None]:
        if token is not None:
            current.append(token)
            continue
        argv = _clean(current)
        current = []
        if not argv:
            continue
        body = _shell_body(argv)
        if body is not None and _depth < MAX_DEPTH:
            commands.extend(split_commands(body, _depth + 1))
        else:
            commands.append(argv)
    return commands


# --- package installs ----------------------------------------------------------------------


@record
class Install(Frozen):
    """One package named by an install command, or one index option of it.

    For a package: `package` is its name as written (no version, extras or channel), `spec`
    the version part as written ("==2.1.0", ">=2", "=2.18.3-1+cuda12.2" for apt, "" when
    unpinned), `raw` the whole word. For an option (`option` set: "--index-url",
    "--extra-index-url", "--find-links", "--trusted-host") or a VCS/URL requirement
    (`option` "url-requirement"), `spec` holds the URL or host and `package` the name if any.
    """

    manager: str  # "pip", "uv", "conda", "apt", "apk"
    package: str
    spec: str
    raw: str
    option: str = ""


_PIP_VALUE_OPTIONS = {
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
    "--extra-index-url", "-f", "--find-links", "--trusted-host", "-t", "--target", "--prefix",
    "--root", "--src", "--upgrade-strategy", "--platform", "--python-version", "--implementation",
    "--abi", "--only-binary", "--no-binary", "--progress-bar", "--cache-dir", "--log", "--proxy",
    "--retries", "--timeout", "--exists-action", "--cert", "--client-cert", "--global-option",
    "--install-option", "--config-settings", "-C", "--report", "--python", "-p",
    "--root-user-action", "--keyring-provider", "--index-strategy", "--torch-backend",
    "--resolution", "--prerelease", "--extra", "--group", "--override", "--overrides",
    "--build-constraint", "-b", "--link-mode", "--compile-bytecode-timeout", "--index",
    "--default-index", "--exclude-newer", "--refresh-package", "--reinstall-package",
    "--no-build-isolation-package", "--upgrade-package", "-P", "--config-file", "--directory",
    "--project", "--cache-dir", "--python-platform", "--use-feature", "--use-deprecated",
}
_PIP_FILE_OPTIONS = {"-r", "--requirement", "-c", "--constraint", "--build-constraint", "-b", "--override", "--overrides"}
_URL_OPTIONS = {
    "-i": "--index-url", "--index-url": "--index-url", "--default-index": "--index-url",
    "--extra-index-url": "--extra-index-url", "--index": "--extra-index-url",
    "-f": "--find-links", "--find-links": "--find-links", "--trusted-host": "--trusted-host",
}
_CONDA_VALUE_OPTIONS = {
    "-c", "--channel", "-n", "--name", "-p", "--prefix", "--file", "-f", "--solver", "--repodata-fn",
    "--experimental", "--platform", "--subdir", "-r", "--root-prefix", "--rc-file", "--category",
}
_APT_VALUE_OPTIONS = {"-o", "--option", "-t", "--target-release", "--default-release", "-c", "--config-file"}
_APK_VALUE_OPTIONS = {"-t", "--virtual", "-X", "--repository", "-p", "--root", "--arch", "--keys-dir", "--repositories-file", "--cache-dir"}
_ARCHIVE = re.compile(r"\.(whl|tar\.gz|tgz|tar\.bz2|tar\.xz|zip|egg|deb|apk|rpm)$", re.I)
_PIP_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$", re.S)
_CONDA_NAME = re.compile(r"^(?:[^:\s]+::)?([A-Za-z0-9_][A-Za-z0-9._+-]*)(.*)$", re.S)
_APT_NAME = re.compile(r"^([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9-]+)?(.*)$")
_APK_NAME = re.compile(r"^([A-Za-z0-9_.+-]+?)([=~<>].*)?(@[A-Za-z0-9_-]+)?$")


def _installer(argv: list[str]) -> tuple[str, int] | None:
    """(manager, index of the first argument after the install verb) of an install argv."""
    if not argv:
        return None
    prog = os.path.basename(argv[0])
    rest = argv[1:]
    if re.fullmatch(r"python[0-9.]*|py", prog) and len(argv) >= 3 and argv[1] == "-m" and argv[2] in ("pip", "pip3", "uv"):
        prog, rest = ("uv" if argv[2] == "uv" else "pip"), argv[3:]
    if prog == "uv" and rest[:1] == ["pip"]:
        prog, rest = "pip", rest[1:]
        manager = "uv"
    elif re.fullmatch(r"pip[0-9.]*", prog):
        manager = "pip"
    elif prog in ("conda", "mamba", "micromamba"):
        manager = "conda"
    elif prog in ("apt-get", "apt"):
        manager = "apt"
    elif prog == "apk":
        manager = "apk"
    else:
        return None
    verbs = {"pip": ("install",), "uv": ("install",), "conda": ("install", "create"), "apt": ("install",), "apk": ("add",)}[manager]
    for i, word in enumerate(rest):  # global options may come before the verb (`pip -q install`)
        if word in verbs:
            return manager, len(argv) - len(rest) + i + 1
        if not word.startswith("-"):
            return None
    return None


def _local(word: str) -> bool:
    """A path, an archive file or the current project: never a registry package."""
    return (
        word in (".", "..")
        or word.startswith(("./", "../", "/", "~", "file:"))
        or ("/" in word and "://" not in word and " @ " not in word and not word.startswith("git+"))
        or bool(_ARCHIVE.search(word)) and "://" not in word
    )


def _pip_args(manager: str, args: list[str]) -> list[Install]:
    found: list[Install] = []
    i = 0
    while i < len(args):
        word = args[i]
        if word.startswith("-") and word != "-":
            opt, eq, inline = word.partition("=")
            value = inline if eq else (args[i + 1] if opt in _PIP_VALUE_OPTIONS and i + 1 < len(args) else None)
            if not eq and opt in _PIP_VALUE_OPTIONS:
                i += 1
            i += 1
            if value is None or opt in _PIP_FILE_OPTIONS:
                continue
            if opt in _URL_OPTIONS and ("://" in value or _URL_OPTIONS[opt] == "--trusted-host"):
                found.append(Install(manager, "", value, word if eq else f"{opt} {value}", _URL_OPTIONS[opt]))
            elif opt in ("-e", "--editable") and ("://" in value or value.startswith("git+")):
                found.append(Install(manager, _egg(value), value, value, "url-requirement"))
            continue
        i += 1
        if i < len(args) and args[i] == "@" and i + 1 < len(args):  # `name @ url` as three words
            found.append(Install(manager, word, args[i + 1], f"{word} @ {args[i + 1]}", "url-requirement"))
            i += 2
            continue
        if "://" in word or word.startswith("git+"):
            name, _, url = word.partition(" @ ")
            if not url:
                name, url = _egg(word), word
            found.append(Install(manager, name.strip(), url.strip(), word, "url-requirement"))
            continue
        if _local(word):
            continue
        match = _PIP_NAME.match(word)
        if match:
            found.append(Install(manager, match.group(1), match.group(3).split(";")[0].strip(), word))
    return found


def _egg(url: str) -> str:
    match = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", url)
    return match.group(1) if match else ""


def _other_args(manager: str, args: list[str]) -> list[Install]:
    value_options = {"conda": _CONDA_VALUE_OPTIONS, "apt": _APT_VALUE_OPTIONS, "apk": _APK_VALUE_OPTIONS}[manager]
    found: list[Install] = []
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if word.startswith("-"):
            if "=" not in word and word in value_options:
                value = args[i] if i < len(args) else ""
                i += 1
                if manager == "apk" and word in ("-X", "--repository") and value:
                    found.append(Install(manager, "", value, f"{word} {value}", "--extra-index-url"))
            continue
        if _local(word) or "://" in word:
            continue
        pattern = {"conda": _CONDA_NAME, "apt": _APT_NAME, "apk": _APK_NAME}[manager]
        match = pattern.match(word)
        if match:
            found.append(Install(manager, match.group(1), (match.group(2) or "").strip(), word))
    return found


# Environment variables pip and uv read an index from, as the option each one stands for.
INDEX_VARIABLES = {
    "PIP_INDEX_URL": "--index-url", "PIP_EXTRA_INDEX_URL": "--extra-index-url",
    "PIP_FIND_LINKS": "--find-links", "PIP_TRUSTED_HOST": "--trusted-host",
    "UV_INDEX_URL": "--index-url", "UV_DEFAULT_INDEX": "--index-url", "UV_EXTRA_INDEX_URL": "--extra-index-url",
    "UV_INDEX": "--extra-index-url", "UV_FIND_LINKS": "--find-links",
}
# `pip config set global.index-url URL`: the key's last part, as the option it sets.
_CONFIG_KEYS = {"index-url": "--index-url", "extra-index-url": "--extra-index-url",
                "find-links": "--find-links", "trusted-host": "--trusted-host"}


def _pip_config(argv: list[str]) -> list[Install]:
    """The index a `pip config [--global|--user|--site] set <section>.<key> <value>` sets."""
    prog = os.path.basename(argv[0])
    rest = argv[1:]
    if re.fullmatch(r"python[0-9.]*|py", prog) and rest[:2] in (["-m", "pip"], ["-m", "pip3"]):
        rest = rest[2:]
    elif not re.fullmatch(r"pip[0-9.]*", prog):
        return []
    words = [w for w in rest if not w.startswith("-")]
    if words[:2] != ["config", "set"] or len(words) < 4:
        return []
    option = _CONFIG_KEYS.get(words[2].rpartition(".")[2])
    if option is None:
        return []
    return [Install("pip", "", value, f"{words[2]} {words[3]}", option) for value in words[3].split()]


def package_installs(argv: list[str]) -> list[Install]:
    """What one simple command installs (see `Install`), or the index a `pip config set`
    names; [] when it does neither."""
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv) or not argv:
        return []
    if "config" in argv:
        return _pip_config(argv)
    found = _installer(argv)
    if found is None:
        return []
    manager, start = found
    args = argv[start:]
    if manager in ("pip", "uv"):
        return _pip_args(manager, args)
    return _other_args(manager, args)
