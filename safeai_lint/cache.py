"""What each file told the last scan, kept so that the next scan parses only what changed.

What is kept: the `FileFacts` of each file (facts, parse diagnostics, suppression comments,
the text of the lines they point at). They depend only on the file's path, kind and bytes and
on this linter's code, never on the config or the policy, which the checks apply afterwards;
so a hit yields exactly what `engine.analyze()` would.

When an entry holds: its stamp (size, mtime, ctime, inode) is unchanged and the file was last
modified well before the entry was recorded (a file written in the same clock tick as the
scan could change again without changing its stamp), or failing that its bytes hash to the
recorded digest. Any change to this package's code, its parsing dependencies, the Python
version or the size cap starts a new cache.

Where: the folder the caller names (the CLI: $SAFEAI_LINT_CACHE_DIR, else
$XDG_CACHE_HOME/safeai-lint, else ~/.cache/safeai-lint), one file per scan root; by default
outside the scanned tree, since a cache inside the repository could be committed by a pull
request and would then decide that pull request's findings. The file of a root not scanned
for 30 days is deleted by the next save of any root.

Format: the length of an index (8 bytes, little-endian), the index, then the facts of each
file as a pickled blob. The index (a pickle of FORMAT, the key, and for each file its kind,
stamp, digest, time recorded and where its blob lies) is read at open; a blob only when its
file is looked up, so a scan of one file in a large repository reads a few of them. Pickles
are read back through an unpickler that resolves only this package's dataclasses (it cannot
be made to call anything else). A cache or entry that cannot be read is ignored. Saving after
one file changed re-pickles only that file's facts; the other blobs are copied as they are. A
scan of part of the root (the pre-commit hook's named files) writes what it changed to a small
journal beside the file (`<name>.journal.pickle`, same layout), read over the file's entries;
the next scan of the whole root merges it back.
"""
from __future__ import annotations

import dataclasses
import gc
import functools
import io
import os
import sys
import time
from importlib.util import find_spec
from pathlib import Path
from typing import Callable

try:
    from _blake2 import blake2b  # what hashlib.blake2b is, without loading OpenSSL (~3 ms a start)
except ImportError:  # an interpreter built without it
    from hashlib import blake2b

from . import __version__
from .facts import FileFacts

FORMAT = 2
# the parsers whose behaviour shapes the facts (their files' stamps are part of the key)
_DEPENDENCIES = ("dockerfile", "pip_requirements_parser", "yaml", "packaging", "promql_parser", "tomli")
# a file modified less than this before it was recorded is re-hashed, not trusted by its stamp
_RACY_NS = 2_000_000_000
# the cache of a scan root unused for this long is deleted by the next save (roots come and
# go: temporary clones, deleted worktrees); a cache in use is touched at most once a day
PRUNE_AFTER_S = 30 * 86_400
_TOUCH_AFTER_S = 86_400
# entries a partial scan may keep in the journal before it rewrites the whole cache file
JOURNAL_LIMIT = 256

Stamp = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


def stamp_of(info: os.stat_result) -> Stamp:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def digest_of(data: bytes) -> bytes:
    return blake2b(data, digest_size=16).digest()


# an entry: kind, stamp, digest of the bytes, when they were read (ns), and the pickled
# FileFacts: bytes when stored by this scan, else (offset, length) of its blob in the file read.
# Kept as the tuple the index holds: a scan of one file in a large repository looks up a
# handful of its thousands of entries.
Row = tuple[str, Stamp, bytes, int, "bytes | tuple[int, int]"]
_LENGTH = 8  # bytes of the index length that starts the file


def _valid(row: object) -> bool:
    """Is `row` an entry as this module writes it (rows of a damaged file are dropped)?"""
    if type(row) is not tuple or len(row) != 5:
        return False
    kind, stamp, digest, recorded, blob = row
    if type(kind) is not str or type(stamp) is not tuple or type(digest) is not bytes or type(recorded) is not int:
        return False
    if type(blob) is bytes:
        return True
    return type(blob) is tuple and len(blob) == 2 and type(blob[0]) is int and type(blob[1]) is int and blob[0] >= 0 and blob[1] >= 0


def _trusted_by_stamp(row: Row, stamp: Stamp) -> bool:
    return stamp == row[1] and row[1][1] < row[3] - _RACY_NS


class Cache:
    """The entries of one scan root; `save()` writes them back if anything changed."""

    def __init__(self, file: Path | None, key: str, entries: dict[str, Row], blobs: io.BufferedReader | None = None,
                 journaled: set[str] | None = None) -> None:
        self.file = file
        self.key = key
        self.entries = entries  # rows as read: each is checked when it is looked up
        self.blobs = blobs  # the file read, positioned anywhere: blobs are read by offset
        self.journaled = journaled or set()  # entries read from the journal (see `save`)
        self.touched: set[str] = set()  # entries this scan stored or re-stamped
        self.changed = False

    def _blob(self, row: Row) -> bytes | None:
        where = row[4]
        if isinstance(where, bytes):
            return where
        if self.blobs is None:
            return None
        offset, length = where
        try:
            self.blobs.seek(offset)
            data = self.blobs.read(length)
        except Exception:  # noqa: BLE001 - a damaged row (an absurd offset or length) is a miss
            return None
        return data if len(data) == length else None

    def lookup(self, rel: str, kind: str, stamp: Stamp, read: Callable[[], bytes | None]) -> FileFacts | None:
        """The cached facts of `rel`, or None. `read()` gives the file's bytes (or None), and
        is called only when the stamp alone cannot vouch for the entry."""
        row = self.entries.get(rel)
        if row is None:
            return None
        if not _valid(row):
            del self.entries[rel]
            self.changed = True
            return None
        if row[0] != kind:
            return None
        if not _trusted_by_stamp(row, stamp):
            data = read()
            if data is None or digest_of(data) != row[2]:
                return None
            row = (row[0], stamp, row[2], time.time_ns(), row[4])
            self.entries[rel] = row
            self.touched.add(rel)
            self.changed = True
        blob = self._blob(row)
        facts = _decode(blob) if blob is not None else None
        if not isinstance(facts, FileFacts) or facts.path != rel:
            del self.entries[rel]
            self.changed = True
            return None
        return facts

    def store(self, rel: str, kind: str, stamp: Stamp, digest: bytes, recorded_ns: int, facts: FileFacts) -> None:
        blob = _dumps(facts)
        self.entries[rel] = (kind, stamp, digest, recorded_ns, blob)
        self.touched.add(rel)
        self.changed = True

    def keep_only(self, present: set[str]) -> None:
        """Forget files that are gone (after a scan of the whole root)."""
        gone = [rel for rel in self.entries if rel not in present]
        for rel in gone:
            del self.entries[rel]
        self.changed = self.changed or bool(gone)

    def save(self, whole: bool = True) -> None:
        """Write the cache atomically; a cache that cannot be written is simply not kept.
        Saving after one file changed re-pickles that file's facts only.

        `whole` False (a scan of part of the root, such as the pre-commit hook's named files
        and their units): the entries this scan changed, with those of earlier such scans, go
        to a small journal beside the cache file instead of a rewrite of the whole file, as
        long as the journal stays under JOURNAL_LIMIT entries. A whole scan merges it back."""
        try:
            if self.file is None:
                return
            if not self.changed:
                _touch(self.file)
                return
            target = self.file
            recent = {} if whole else {rel: self.entries[rel] for rel in sorted(self.journaled | self.touched) if rel in self.entries}
            if not whole and len(recent) <= JOURNAL_LIMIT:
                target, rows = journal_of(self.file), self._with_blobs(recent, memoryview(b""))
            else:
                rows = self._with_blobs(self.entries, self._read_all())
        finally:
            self.close()  # before the rename: Windows cannot replace a file that is open
        if self._write(target, rows) and target == self.file:
            _remove(journal_of(self.file))  # merged into the file

    def _with_blobs(self, entries: dict[str, Row], old: memoryview) -> dict[str, tuple]:
        """The valid rows of `entries`, each with its blob's bytes (from `old`, the cache file
        read in one go, sliced without copying, or read one by one when `old` is empty)."""
        rows = {}
        for rel, row in entries.items():
            if not (isinstance(rel, str) and _valid(row)):
                continue
            where = row[4]
            if isinstance(where, bytes):
                rows[rel] = row
            elif where[0] + where[1] <= len(old):
                rows[rel] = (*row[:4], old[where[0]:where[0] + where[1]])
            else:
                blob = self._blob(row)
                if blob is not None:
                    rows[rel] = (*row[:4], blob)
        return rows

    def _write(self, file: Path, rows: dict[str, tuple]) -> bool:
        try:
            write_rows(file, self.key, rows)
        except OSError:
            return False
        self.changed = False
        _prune(file.parent, keep={self.file, journal_of(self.file)})
        return True

    def _read_all(self) -> memoryview:
        if self.blobs is None:
            return memoryview(b"")
        try:
            self.blobs.seek(0)
            return memoryview(self.blobs.read())
        except (OSError, ValueError):
            return memoryview(b"")

    def close(self) -> None:
        if self.blobs is not None:
            self.blobs.close()
            self.blobs = None


def _touch(file: Path) -> None:
    """Mark a cache that was used without change as in use (see PRUNE_AFTER_S)."""
    try:
        if time.time() - file.stat().st_mtime > _TOUCH_AFTER_S:
            os.utime(file)
    except OSError:
        pass


def _prune(directory: Path, keep: set[Path]) -> None:
    """Delete the caches of scan roots unused for PRUNE_AFTER_S, and temporary files left by
    an interrupted save; only names this module writes, never anything else in the folder."""
    limit = time.time() - PRUNE_AFTER_S
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if not entry.name.endswith(".pickle") or Path(entry.path) in keep or not entry.is_file(follow_symlinks=False):
                    continue
                stale = limit if not entry.name.startswith(".tmp-") else time.time() - _TOUCH_AFTER_S
                if entry.stat(follow_symlinks=False).st_mtime < stale:
                    os.unlink(entry.path)
    except OSError:
        pass


def open_cache(root: Path, max_file_size: int, directory: Path) -> Cache:
    """The cache of the scan of `root` (empty when there is none or it is stale or unreadable),
    with the entries of its journal (see `Cache.save`) over those of the file."""
    key = _key(max_file_size)
    file = cache_file(root, directory)
    journal = _read_journal(journal_of(file), key)
    try:
        handle = open(file, "rb")  # noqa: SIM115 - kept open for the blobs, closed by save()
    except OSError:
        return Cache(file, key, journal, journaled=set(journal))
    entries = _read_index(handle, key)
    if entries is None:
        handle.close()
        return Cache(file, key, journal, journaled=set(journal))
    entries.update(journal)
    return Cache(file, key, entries, handle, journaled=set(journal))


def cache_file(root: Path, directory: Path) -> Path:
    """Where the cache of the scan of `root` is kept."""
    return directory / f"{blake2b(str(root).encode('utf-8', 'surrogateescape'), digest_size=12).hexdigest()}.pickle"


def has_cache(root: Path, directory: Path) -> bool:
    """Has a scan of `root` kept a cache (or a journal) here? One stat or two, nothing read."""
    file = cache_file(root, directory)
    return os.path.exists(file) or os.path.exists(journal_of(file))  # False, not an error, when unreadable


def journal_of(file: Path) -> Path:
    return file.with_name(file.name.removesuffix(".pickle") + ".journal.pickle")


def _rows_with_blobs(file: Path, key: str | None = None) -> tuple[str, dict[str, Row]]:
    """The key (`key`, else the file's own) and every valid row of a cache file, each blob
    read. Raises on a file that cannot be read."""
    with open(file, "rb") as handle:
        if key is None:
            handle.read(_LENGTH)
            key = _unpickler()(handle).load()[1]
            handle.seek(0)
        reader = Cache(file, key, _read_index(handle, key) or {}, handle)
        return key, {rel: (*row[:4], blob) for rel, row in reader.entries.items()
                     if _valid(row) and (blob := reader._blob(row)) is not None}


def _read_journal(file: Path, key: str) -> dict[str, Row]:
    """The journal's rows, blobs read (it is small); empty when absent or unreadable."""
    try:
        return _rows_with_blobs(file, key)[1]
    except Exception:  # noqa: BLE001 - a damaged journal is no journal
        return {}


def _remove(file: Path) -> None:
    try:
        os.unlink(file)
    except OSError:
        pass


def _read_index(handle: io.BufferedReader, key: str) -> dict[str, Row] | None:
    """The rows of the index, their blob offsets made absolute; None when the file is not a
    cache of this format and key."""
    try:
        size = os.fstat(handle.fileno()).st_size
        length = int.from_bytes(handle.read(_LENGTH), "little")
        if not 0 < length <= size - _LENGTH:
            return None
        loaded = _unpickler()(io.BytesIO(handle.read(length))).load()  # plain tuples, dicts, bytes: no class at all
    except Exception:  # noqa: BLE001 - any damage means: no cache
        return None
    if not (isinstance(loaded, tuple) and len(loaded) == 3 and loaded[0] == FORMAT and loaded[1] == key):
        return None
    rows = loaded[2]
    if not isinstance(rows, dict):
        return None
    base = _LENGTH + length
    out: dict[str, Row] = {}
    for rel, row in rows.items():  # rows are checked one by one when looked up
        if not isinstance(rel, str):
            continue
        where = row[4] if isinstance(row, tuple) and len(row) == 5 else None
        if isinstance(where, tuple) and len(where) == 2 and all(type(n) is int and n >= 0 for n in where):
            if base + where[0] + where[1] > size:
                continue  # a blob beyond the end of the file: a damaged row
            row = (*row[:4], (base + where[0], where[1]))
        out[rel] = row
    return out


def write_rows(file: Path, key: str, rows: dict[str, tuple[str, Stamp, bytes, int, bytes | memoryview]]) -> None:
    """Write a cache file atomically: the index, then each row's blob."""
    import tempfile

    index, blobs, offset = {}, [], 0
    for rel, (kind, stamp, digest, recorded, blob) in rows.items():
        index[rel] = (kind, stamp, digest, recorded, (offset, len(blob)))
        blobs.append(blob)
        offset += len(blob)
    head = _dumps((FORMAT, key, index))
    file.parent.mkdir(parents=True, exist_ok=True)
    _mark_cache_dir(file.parent)
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=".tmp-", suffix=".pickle")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(len(head).to_bytes(_LENGTH, "little"))
            out.write(head)
            out.writelines(blobs)
        os.replace(tmp, file)
    except BaseException:
        os.unlink(tmp)
        raise


def read_rows(file: Path) -> tuple[str, dict[str, tuple]]:
    """The key and every row of a cache file, blobs read (for tests and tools)."""
    return _rows_with_blobs(file)


def _decode(blob: bytes) -> object:
    paused = gc.isenabled()
    if paused:
        gc.disable()  # facts hold no cycles; collections during the load only cost time
    try:
        return _unpickler()(io.BytesIO(blob)).load()
    except Exception:  # noqa: BLE001 - a damaged entry is a miss
        return None
    finally:
        if paused:
            gc.enable()


@functools.cache
def _unpickler() -> type:
    """The only unpickler of the package (pickle is imported when a cache is really read)."""
    import pickle

    class Restricted(pickle.Unpickler):
        """Resolves only this package's dataclasses: a planted cache file cannot name a callable."""

        def find_class(self, module: str, name: str):  # noqa: ANN201
            if module == "safeai_lint" or module.startswith("safeai_lint."):
                owner = sys.modules.get(module)
                cls = getattr(owner, name, None) if owner is not None else None
                if isinstance(cls, type) and dataclasses.is_dataclass(cls):
                    return cls
            raise pickle.UnpicklingError(f"not a safeai-lint fact class: {module}.{name}")

    return Restricted


def _dumps(obj: object) -> bytes:
    import pickle

    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def _key(max_file_size: int) -> str:
    """Everything besides a file's bytes that its facts depend on."""
    parts = [f"format {FORMAT}", __version__, sys.version, f"cap {max_file_size}"]
    parts.extend(_source_stamps(os.path.dirname(os.path.abspath(__file__))))
    for name in _DEPENDENCIES:
        try:
            spec = find_spec(name)
        except (ImportError, ValueError):
            spec = None
        parts.append(f"{name} {_file_stamp(spec.origin) if spec and spec.origin else 'absent'}")
    return blake2b("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _source_stamps(folder: str) -> list[str]:
    """The stamp of every .py file of the package, in path order (bytecode folders skipped)."""
    stamps: list[str] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return stamps
    for entry in entries:
        if entry.name.endswith(".py") and entry.is_file():
            stamps.append(_file_stamp(entry.path))
        elif entry.name != "__pycache__" and entry.is_dir(follow_symlinks=False):
            stamps.extend(_source_stamps(entry.path))
    return stamps


def _file_stamp(path: str) -> str:
    try:
        info = os.stat(path)
    except OSError:
        return f"{path} missing"
    return f"{path} {info.st_size} {info.st_mtime_ns}"


def _mark_cache_dir(directory: Path) -> None:
    """CACHEDIR.TAG: backup tools skip the folder (https://bford.info/cachedir/)."""
    tag = directory / "CACHEDIR.TAG"
    if not tag.exists():
        tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n# safeai-lint's cache of parsed files; safe to delete.\n")
