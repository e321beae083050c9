"""The parts of a Python module the rules can read something from.

Why: building the AST is most of the cost of a scan (CPython's parser, ~0.2 ms per 100
lines), and most of a service's code is helpers and records no Python rule reads: string
handling, dataclasses, business logic. The file-level prefilter (`python.interesting`) lets
such a module through as soon as it imports fastapi or requests, so this finer one blanks,
before parsing, every top-level function and class that mentions nothing a rule could use.

What is dropped is a top-level `def`/`class` (with its decorators) none of whose words is in
the vocabulary below, where the vocabulary grows to a fixed point with what the kept code
binds: names imported from the modules the rules know, names assigned by kept code
(`tok = AutoTokenizer.from_pretrained(...)` makes `tok` a word that keeps `len(tok(x))`
elsewhere), and names of kept functions (so a request handler that calls a helper which
calls `.generate()` is kept, and so is a caller that validates vectors before a write).
Everything else is kept as written: imports, module constants, `if __name__ == ...`.

Dropped lines become empty lines, so every kept node keeps its line and column. When the
blanked text does not parse (a top-level boundary was guessed wrong, e.g. an unindented
continuation line), the whole text is parsed instead.

Limit: a syntax error inside a dropped function is not reported (SAI001), as a whole file
that mentions nothing of interest is not parsed either. A syntax error anywhere in kept code
is reported exactly as a full parse reports it.
"""
from __future__ import annotations

import bisect
import keyword
import re

# Words that make a function or class worth parsing, whatever it imports: the modules the
# Python rules know (as in `python._INTERESTING`) and the call, attribute and keyword names
# the Python extractors key on without an import (`.generate()`, `timeout=`, `.half()`,
# `os.environ[...]`, `create_index(dimension=)`, NaN checks before vector writes...).
VOCABULARY = frozenset(
    """
    tenacity backoff urllib urllib3 requests httpx aiohttp openai anthropic torch transformers
    tiktoken vllm sglang prometheus_client pinecone qdrant_client chromadb weaviate pymilvus
    lancedb faiss pgvector psycopg psycopg2 asyncpg sqlalchemy boto3 huggingface_hub fastapi
    flask starlette grpc pybreaker circuitbreaker aiobreaker purgatory
    environ from_pretrained half download_file download_fileobj set_per_process_memory_fraction
    generate agenerate timeout with_retry with_options
    encode encode_plus batch_encode_plus apply_chat_template
    execute executemany create_index create_collection VectorParams FieldSchema add_field
    isfinite isnan isinf isposinf isneginf nan_to_num assert_all_finite isna isnull
    """.split()
)
# Text that keeps a function whatever its words: a `while True:` loop (SAI401 judges its
# retries), a URL (an AI service's address), a SQL `vector(N)` (SAI802), a LangChain module.
# Looked for as plain substrings of the lower-cased text (fast), then confirmed where found.
_SPECIAL = {"while": re.compile(r"while\s+(?:True|1)\s*:"), "://": re.compile(r"(?i)https?://"),
            "vector": re.compile(r"(?i)vector\s*\("), "langchain": re.compile(r"(?i)langchain")}
_BACK = {"while": 0, "://": 5, "vector": 0, "langchain": 0}  # where a match may start before the substring
# The same, as one regex over the original text (for text that is not ASCII).
_ANY_SPECIAL = re.compile(r"while\s+(?:True|1)\s*:|(?i:https?://|vector\s*\(|langchain)")

_WORD = re.compile(r"\w+")
# Every ASCII character that cannot be part of a name becomes a space: `.translate()` then
# `.split()` gives the words of ASCII text twice as fast as `_WORD.findall` (on other text
# `translate` takes a slow path, and the regex is used). Digits-only words come along; they
# only ever keep more.
_NOT_WORD = str.maketrans({chr(c): " " for c in range(128) if not (chr(c).isalnum() or chr(c) == "_")})
# A top-level line: one that starts with neither whitespace, a comment nor a closing bracket
# (searched from the line break: a literal first character makes the search fast).
_TOP = re.compile(r"\n[^\s#)\]}]")
_DEF = re.compile(r"(?:async\s+)?(?:def|class)\b")
# Lines that continue the statement above rather than start one.
_CONTINUES = re.compile(r"(?:else|elif|except|finally)\b")
# What kept code binds: assignment statements (`x =`, `self.x =`, `x: T =`, `x +=`, also after
# `;`) and walrus targets, loop and `with ... as` names, defined functions and classes.
# Over-matching (a keyword argument alone on its line) only keeps more.
_ASSIGNED = re.compile(r"(?:^|;)[ \t]*(?:\w+\.)*(\w+)[ \t]*(?::[^=\n]*)?(?:[-+*/%&|^@]|//|\*\*|<<|>>)?=(?!=)", re.M)
_WALRUS = re.compile(r"(\w+)[ \t]*:=")
_NAMED = re.compile(r"\b(?:for|as|def|class)\s+(\w+)")
_IMPORTS = re.compile(r"\bimport[ \t]*(?:\(([^)]*)\)|([^#\n]*))")
_IMPORT_LINE = re.compile(r"(?:from|import)\b")
_KEYWORDS = frozenset(keyword.kwlist)
_MAX_ROUNDS = 30
# Give up once less than this share of the text could still be dropped: on dense AI code the
# rounds would cost more than the parsing they save.
_WORTH = 0.3


def relevant_source(text: str) -> tuple[str, list[tuple[int, int]]] | None:
    """`text` with the irrelevant top-level functions and classes blanked out, lines kept, and
    the (first, last) line numbers of each blanked stretch; None when nothing would be dropped
    (then parse `text` itself).

    A top-level line is taken to start a statement. When one is in fact a line of a string or
    of a bracketed expression, the blanked text either fails to parse or has a multi-line
    string over a blanked stretch: `python._parse` checks both and then parses all of `text`.
    """
    if "\r" in text or "\f" in text:
        return None  # line structure the simple split below does not model: parse it all
    chunks = _chunks(text)
    texts = [text[start:end] for start, end, _ in chunks]
    defs = [i for i, (_, _, is_def) in enumerate(chunks) if is_def]
    droppable, floor = sum(len(texts[i]) for i in defs), len(text) * _WORTH
    if droppable < floor:
        return None
    special = _special_chunks(text, [start for start, _, _ in chunks])
    words: list[set[str]] = [set()] * len(texts)
    spaced = text.translate(_NOT_WORD) if text.isascii() else ""

    def _words(i: int) -> set[str]:
        if spaced:
            return set(spaced[chunks[i][0] : chunks[i][1]].split())
        return set(_WORD.findall(texts[i]))

    # Functions and classes first, largest first: in dense AI code the big ones mention a
    # word of the vocabulary, and the cut is given up before most of the text is looked at.
    for i in sorted(defs, key=lambda i: -len(texts[i])):
        words[i] = _words(i)
        if i in special or "import" in words[i] or not words[i].isdisjoint(VOCABULARY):
            droppable -= len(texts[i])
            if droppable < floor:
                return None
    for i, (_, _, is_def) in enumerate(chunks):
        if not is_def:
            words[i] = _words(i)
    # Rounds of propagation: each round keeps the pieces that mention a word the last one
    # bound. Real modules settle in a few rounds; a long chain of helpers, each the only
    # caller of the next, is parsed whole rather than walked round by round.
    relevant = [False] * len(texts)
    fresh = set(VOCABULARY)
    known: set[str] = set()
    pending = list(range(len(texts)))
    for _ in range(_MAX_ROUNDS):
        taken, rest = [], []
        for i in pending:
            if not words[i].isdisjoint(fresh) or i in special or (chunks[i][2] and "import" in words[i]):
                taken.append(i)
            else:
                rest.append(i)
        if not taken:
            break
        if sum(len(texts[i]) for i in rest if chunks[i][2]) < len(text) * _WORTH:
            return None  # too little left to drop to pay for finding out
        known |= fresh
        fresh = set()
        for i in taken:
            relevant[i] = True
            fresh |= _bound(texts[i], words[i])
        fresh -= known
        special = set()
        pending = rest
    else:
        return None
    if all(relevant[i] or not is_def for i, (_, _, is_def) in enumerate(chunks)):
        return None
    out, dropped, line = [], [], 1
    for i, piece in enumerate(texts):
        breaks = piece.count("\n")
        if relevant[i] or not chunks[i][2]:
            out.append(piece)
        else:
            out.append("\n" * breaks)
            dropped.append((line, line + breaks - piece.endswith("\n")))
        line += breaks
    return "".join(out), dropped


def _bound(piece: str, words: set[str]) -> set[str]:
    """Names a relevant piece of code binds (an import statement: every name it mentions)."""
    if _IMPORT_LINE.match(piece):
        return words - _KEYWORDS
    found = set(_ASSIGNED.findall(piece))
    found.update(_NAMED.findall(piece))
    if ":=" in piece:
        found.update(_WALRUS.findall(piece))
    if "import" in words:  # imports inside `try:`, `if TYPE_CHECKING:` or a function
        for grouped, listed in _IMPORTS.findall(piece):
            found.update(_WORD.findall(grouped or listed))
    return found - _KEYWORDS


def _special_chunks(text: str, starts: list[int]) -> set[int]:
    """Chunks (by index, from their start offsets) holding a `_SPECIAL` pattern."""
    found: set[int] = set()
    if not text.isascii():  # lower-casing may change the length ("İ"): offsets would drift
        for match in _ANY_SPECIAL.finditer(text):
            found.add(bisect.bisect_right(starts, match.start()) - 1)
        return found
    low = text.lower()
    for literal, confirm in _SPECIAL.items():
        at = low.find(literal)
        while at >= 0:
            for start in range(max(at - _BACK[literal], 0), at + 1):
                if confirm.match(text, start):
                    found.add(bisect.bisect_right(starts, start) - 1)
                    break
            at = low.find(literal, at + 1)
    return found


def _chunks(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, is a def/class) of each top-level statement, decorators joined to their
    definition and `else:`/`except:` lines to the statement they continue."""
    starts = [match.start() + 1 for match in _TOP.finditer(text)]
    if text[:1] and not text[0].isspace() and text[0] not in "#)]}":
        starts.insert(0, 0)
    chunks: list[tuple[int, int, bool]] = []
    if not starts or starts[0] != 0:
        chunks.append((0, starts[0] if starts else len(text), False))  # leading blank lines
    decorators = False  # the last chunk is decorators still waiting for their def/class
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(text)
        decorator = text.startswith("@", start)
        if chunks and (decorators or _CONTINUES.match(text, start)):
            first, _, is_def = chunks.pop()
            chunks.append((first, end, is_def))
            decorators = decorators and decorator
        else:
            chunks.append((start, end, decorator or _DEF.match(text, start) is not None))
            decorators = decorator
    return chunks
