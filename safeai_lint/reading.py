"""Reading one scanned file: its bytes within the size cap (never a FIFO or a device), and
its text (UTF-8, or UTF-16 with a byte-order mark), or why it cannot be analysed."""
from __future__ import annotations

import os
import stat


def read_text(path: str, cap: int) -> tuple[str | None, str]:
    """The decoded text of a file, or None and why it cannot be analysed."""
    data, why = read_bytes(path, cap)
    return decode(data) if data is not None else (None, why)


def read_bytes(path: str, cap: int, info: os.stat_result | None = None) -> tuple[bytes | None, str]:
    """The bytes of a regular file within the size cap, or None and why not (a FIFO or
    device is never opened). `info`: its `os.stat`, when the caller has it already."""
    try:
        info = info or os.stat(path)
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    if stat.S_ISDIR(info.st_mode):
        return None, "is a directory, not a file"
    if not stat.S_ISREG(info.st_mode):
        return None, "not a regular file (FIFO, socket or device); not read"
    if info.st_size > cap:
        return None, f"file is {info.st_size:,} bytes, over the size cap of {cap:,} (setting max-file-size)"
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            chunks, remaining = [], cap + 1
            while remaining > 0:
                chunk = os.read(fd, min(remaining, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
        finally:
            os.close(fd)
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    data = b"".join(chunks)
    if len(data) > cap:
        return None, f"file is over the size cap of {cap:,} bytes (setting max-file-size)"
    return data, ""


def decode(data: bytes) -> tuple[str | None, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), ""
        except UnicodeDecodeError:
            return None, "starts with a UTF-16 byte-order mark but is not valid UTF-16"
    if b"\x00" in data:
        return None, "binary file (contains NUL bytes)"
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, f"not valid UTF-8 (byte {exc.start} on line {line}); save it as UTF-8"
