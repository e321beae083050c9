"""Config files: finding them, reading them with the files they extend, and the nested
configs of a scan.

Nested config, as ruff: each file is judged with the closest `.safeai-lint.yaml` /
`.safeai-lint.yml` / `pyproject.toml [tool.safeai-lint]` in its folder or above it, up to the
scan root; the root's own config may come from above the root (walking up). `--config FILE`
replaces them all. A config does not inherit from the one above it unless it says
`extend: ../.safeai-lint.yaml`. Globs (`exclude`, `per-file-ignores`, waiver `paths`) and
waiver `report:` paths are relative to the folder of the config in use; a folder that holds a
config is itself excluded only by the configs above it. Results never depend on the working
directory.
"""
from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from .config import CONFIG_NAMES, Config, ConfigError, build_config, line_of
from .discover import excluded


# --- discovery of the config file ---------------------------------------------------------


def find_config(start: Path) -> Path | None:
    """The first config file found walking up from `start`."""
    start = start.resolve()
    for folder in [start, *start.parents] if start.is_dir() else start.parents:
        found = config_in(folder)
        if found is not None:
            return found
    return None


def config_in(folder: Path | str) -> Path | None:
    """The config file held by `folder` itself, if any (string paths: this runs once per
    folder of a scanned tree)."""
    for name in (*CONFIG_NAMES, "pyproject.toml"):
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate) and (name != "pyproject.toml" or "[tool.safeai-lint" in _peek(Path(candidate))):
            return Path(candidate)
    return None


def _peek(path: Path, limit: int = 1 << 20) -> str:
    """The start of a file that may or may not be a config; never fails (a broken or huge
    pyproject.toml of the scanned repo is a finding for the scan, not a config error)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return ""


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}")


def load_config(path: Path | None, display: str | None = None) -> Config:
    """Read and validate a config file (None gives the defaults), with the files it extends."""
    if path is None:
        return Config()
    shown = display or str(path)
    raw, source = _raw_chain(path, shown, ())
    return replace(build_config(raw, source), path=shown)


def _raw_chain(path: Path, shown: str, seen: tuple[Path, ...]) -> tuple[Any, str]:
    """The settings of `path` over those of the files it extends (`extend: ../base.yaml`,
    relative to the file), each file validated on its own so that errors name it and its line."""
    if not path.is_file():
        raise ConfigError(f"{shown}: config file not found")
    raw, source = _read_raw(path, shown)
    build_config(raw, source)
    base = raw.get("extend") if isinstance(raw, dict) else None
    if base is None:
        return raw, source
    target = path.parent / base
    line = line_of(raw, "extend")
    where = f"{source}:{line}" if line else source
    if target.resolve() in (*seen, path.resolve()):
        raise ConfigError(f"{where}: extend: {base} leads back to a config that extends it (a cycle)")
    if not target.is_file():
        raise ConfigError(f"{where}: extend: {base} does not exist (a path relative to this file)")
    inherited, _ = _raw_chain(target, os.path.normpath(os.path.join(os.path.dirname(shown), base)), (*seen, path.resolve()))
    return _over(inherited, raw), source


def _over(base: Any, child: Any) -> Any:
    """`child`'s keys over `base`'s; policy maps (version-lock, ...) merge key by key."""
    from .policy import MERGED_MAPS
    from .sources.yaml import YMap

    if not isinstance(base, dict):
        return child
    out = YMap(getattr(child, "pos", (1, 1, 1, 1)))
    for layer in (base, child):
        for key, value in layer.items():
            if key == "extend":
                continue
            if key in MERGED_MAPS and isinstance(value, dict) and isinstance(out.get(key), dict):
                value = {**out[key], **value}
            out[key] = value
            if hasattr(layer, "kpos") and key in layer.kpos:
                out.kpos[key] = layer.kpos[key]
    return out


def _read_raw(path: Path, shown: str) -> tuple[Any, str]:
    """The parsed settings of one config file, and how its messages name it."""
    text = _read(path)
    if path.name == "pyproject.toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{shown}: invalid TOML: {exc}")
        return _with_lines(data.get("tool", {}).get("safeai-lint"), text), f"{shown} [tool.safeai-lint]"
    from .sources.yaml import parse_documents

    docs, problem = parse_documents(text)
    if problem:
        raise ConfigError(f"{shown}:{problem.line}: {problem.message}")
    return (docs[0].value if docs else None), shown


def _with_lines(raw: Any, text: str) -> Any:
    """TOML tables carry no positions: attach the line where each top-level key is written."""
    from .sources.yaml import YMap

    if not isinstance(raw, dict):
        return raw
    lines = text.splitlines()
    start = next((i for i, l in enumerate(lines) if l.strip().startswith("[tool.safeai-lint")), 0)
    out = YMap((start + 1, 1, start + 1, 1))
    for key, value in raw.items():
        out[key] = value
        pattern = re.compile(rf'^\s*"?{re.escape(key)}"?\s*=')
        line = next((i + 1 for i in range(start, len(lines)) if pattern.match(lines[i])), start + 1)
        out.kpos[key] = (line, 1, line, 1)
    return out


# --- the nested configs of one scan -------------------------------------------------------


class ConfigTree:
    """Which config judges each file of a scan: the closest one in its folder or above, up to
    the scan root, whose own config is `top`. With `nested` False (`--config FILE`), `top`
    judges every file. Configs are read on first need, so a config inside an excluded folder
    is never read (it may be a test fixture, broken on purpose)."""

    def __init__(self, root: Path, top: Config, nested: bool = True) -> None:
        self.root = root
        self._base = str(root)
        self.top = top
        self.nested = nested
        self._own: dict[str, Config | None] = {"": top}
        self._scope: dict[str, str] = {"": ""}

    def _own_config(self, folder: str) -> Config | None:
        """The config held by `folder` (a path below the root) itself."""
        if folder not in self._own:
            found = config_in(os.path.join(self._base, folder)) if self.nested else None
            self._own[folder] = load_config(found, f"{folder}/{found.name}") if found else None
        return self._own[folder]

    def folder_scope(self, folder: str) -> str:
        """The folder ("" for the root) of the config that judges the files of `folder`."""
        if folder not in self._scope:
            parent = folder.rsplit("/", 1)[0] if "/" in folder else ""
            self._scope[folder] = folder if self._own_config(folder) is not None else self.folder_scope(parent)
        return self._scope[folder]

    def scope_of(self, rel: str) -> str:
        """The folder ("" for the root) of the config that judges the file `rel`."""
        return self.folder_scope(rel.rsplit("/", 1)[0] if "/" in rel else "")

    def config(self, scope: str) -> Config:
        """The config held by the folder `scope` (as `scope_of` gives it)."""
        return self._own_config(scope) or self.top

    def excluded(self, rel: str, skip: int = 0) -> bool:
        """Is `rel`, or a folder above it below its first `skip` parts, excluded? Each part is
        judged by the config of the folder above it, with globs relative to that config's
        folder; a nested config is read only once its folder is known not to be excluded."""
        parts = rel.split("/")
        start, config = 0, self.top
        for i in range(len(parts)):
            if i >= skip and config.exclude:
                below = "/".join(parts[start : i + 1])
                if excluded(below, config.exclude, skip=below.count("/")):
                    return True
            if i < len(parts) - 1:
                own = self._own_config("/".join(parts[: i + 1]))
                if own is not None:
                    start, config = i + 1, own
        return False

