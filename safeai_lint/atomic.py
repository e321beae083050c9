"""Writing a file whole or not at all: a crash or Ctrl-C never leaves half a report."""
from __future__ import annotations

import os
from pathlib import Path


def write_text_atomic(path: str | Path, text: str, mode: int | None = None) -> None:
    """Write `text` (UTF-8, newlines as given) to a temporary file beside `path`, then
    rename it over `path`. Raises OSError; the temporary file never stays behind. `mode`:
    the file's permissions (default 0666 less the umask, as `open()` would create it)."""
    import tempfile  # here: it costs ~2 ms, and most runs write no file

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        # mkstemp creates the file 0600; a report or baseline is for others too: 0666 less umask
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_writable(path: str) -> str | None:
    """Why a report cannot be written to `path` (as given), or None when it can: a folder,
    or a place where no file can be created. Checked before the scan, so a long scan does
    not end in an I/O error."""
    if os.path.isdir(path) or path.endswith(("/", os.sep)):
        return "is a directory; give a file name"
    import tempfile

    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent))
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        return f"cannot be written ({exc.strerror or exc})"
    return None
