"""
DKIM canonicalization (RFC 6376 §3.4), shared by the signer and the verifier.

Every pass is a ``bytes`` method that runs at C speed; there is no per-line Python loop
and no regular expression on the body. A bare LF ends a line, as in dkimpy and
go-msgauth; a bare CR is an ordinary byte (the signer refuses bodies that have one).

A body is canonicalized as it will arrive: SMTP ends every body with CRLF (RFC 5321
§4.1.1.4), so a last line without one is read as if it had it, and relaxed drops its
trailing whitespace like any other line's (RFC 6376 §3.4.4). dkimpy keeps that
whitespace, which only agrees with what a receiver sees when it is absent; go-msgauth
drops it, as here.

Large bodies are hashed in slices of :data:`SLICE` bytes, so the memory a body needs is
bounded whatever its size.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import re
from collections.abc import Callable, Sequence

import attrs

from .._base.files import shown
from ..exceptions import ConfigurationError
from .accel import speedups

CRLF = b"\r\n"


class Canon(enum.Enum):
    """One canonicalization algorithm, valued by its RFC token."""

    SIMPLE = "simple"
    RELAXED = "relaxed"


@attrs.frozen
class Canonicalization:
    """The ``c=`` pair: header and body algorithms (default ``relaxed/relaxed``)."""

    header: Canon = Canon.RELAXED
    body: Canon = Canon.RELAXED

    @classmethod
    def parse(cls, value: str) -> Canonicalization:
        """
        Parse a ``c=`` value; a lone ``"relaxed"`` means ``relaxed/simple`` (RFC 6376 §3.5).

        Raises:
            ConfigurationError: Not one or two known algorithm names.
        """
        if len(value) <= 32:
            return _parse_short(value)
        return _parse_canonicalization(value)

    def __str__(self) -> str:
        return f"{self.header.value}/{self.body.value}"


def _parse_canonicalization(value: str) -> Canonicalization:
    parts = value.strip().lower().split("/")
    if len(parts) == 1:
        parts.append("simple")
    try:
        if len(parts) != 2:
            raise ValueError(value)
        return Canonicalization(Canon(parts[0].strip()), Canon(parts[1].strip()))
    except ValueError:
        raise ConfigurationError(
            f"invalid canonicalization {shown(value, what='value')}; "
            "use simple or relaxed, e.g. relaxed/relaxed"
        ) from None


# A verifier meets a handful of short c= spellings again and again; longer ones (a
# signature's c= is the sender's text) are parsed each time, so the cache stays small.
_parse_short = functools.lru_cache(maxsize=64)(_parse_canonicalization)


def normalize_newlines(data: bytes) -> bytes:
    """Turn every bare LF into CRLF; a CR already before an LF is kept once."""
    newlines = data.count(b"\n")
    if newlines == 0 or newlines == data.count(CRLF):
        return data
    return data.replace(CRLF, b"\n").replace(b"\n", CRLF)


# A literal two-space prefix lets the regex engine skip ahead at C speed; "[ \t]+" would
# stop at every single space (dkimpy's cost).
_SPACE_RUNS = re.compile(rb"  +")
_NOT_SPACE = re.compile(rb"[^ ]")
# re.sub keeps every piece of its result in a list until it joins them, about 270 bytes
# per run replaced: 26x the input for a body of "x y  z" lines, 45x for "a   a   ...".
# Slices bound that list; where a slice's first 2 KiB show dense runs (a pair of spaces
# more often than every 12 bytes) the replace loop is faster and lighter (each pass at
# least quarters a run). A slice that only starts sparse still costs at most its own list.
SLICE = 1 << 16
"""Bodies larger than this are canonicalized and hashed slice by slice."""
_DENSE = 12


def _compress_slice(data: bytes) -> bytes:
    if data.count(b"  ", 0, 2048) * _DENSE < min(len(data), 2048):  # a sample decides
        return _SPACE_RUNS.sub(b" ", data)
    while b"  " in data:
        data = data.replace(b"    ", b" ").replace(b"  ", b" ")
    return data


def _compress_wsp(data: bytes) -> bytes:
    """Relaxed: every run of SP/HTAB becomes one SP (in memory linear in ``data``)."""
    if b"\t" in data:
        data = data.replace(b"\t", b" ")
    if b"  " not in data:
        return data
    if len(data) <= SLICE:
        return _compress_slice(data)
    pieces = []
    start, size = 0, len(data)
    while start < size:
        end = start + SLICE
        if end < size and data[end - 1] == 0x20:  # never cut a run of spaces in two
            found = _NOT_SPACE.search(data, end)
            end = found.start() if found else size
        pieces.append(_compress_slice(data[start:end]))
        start = end
    return b"".join(pieces)


def _relax_lines(data: bytes) -> bytes:
    """
    Relaxed body rules on CRLF lines: compress WSP, drop it before CRLF and at the very
    end (where transport puts the CRLF of a last line that has none).
    """
    data = _compress_wsp(data)
    if b" \r\n" in data:
        data = data.replace(b" \r\n", CRLF)
    return data[:-1] if data.endswith(b" ") else data


def _relax_python(data: bytes) -> bytes:
    return _relax_lines(normalize_newlines(data))


def _relax_headers_python(fields: Sequence[bytes]) -> bytes:
    return b"".join(canonicalize_header(field, Canon.RELAXED) for field in fields)


def _body_flaws_python(data: bytes) -> int:
    flaws = NUL_FLAW if b"\0" in data else 0
    crs = data.count(b"\r")
    if crs:
        ends_with_cr = data.endswith(b"\r")
        if crs - data.count(b"\r\n") - ends_with_cr:
            flaws |= BARE_CR_FLAW
        if ends_with_cr:
            flaws |= ENDS_WITH_CR
    return flaws


NUL_FLAW, BARE_CR_FLAW, ENDS_WITH_CR = 1, 2, 4
"""The bits of :func:`body_flaws`: a NUL, a CR followed by another byte than LF, a CR
as the last byte (bare or not depending on what follows)."""


@attrs.frozen
class _Passes:
    relax: Callable[[bytes], bytes]
    relax_view: Callable[[bytes | memoryview], bytes | memoryview]
    relax_headers: Callable[[Sequence[bytes]], bytes]
    body_flaws: Callable[[bytes], int]


def _relax_view_python(data: bytes | memoryview) -> bytes:
    return _relax_python(bytes(data))


_PYTHON = _Passes(_relax_python, _relax_view_python, _relax_headers_python, _body_flaws_python)


def _load_accelerator() -> _Passes:
    c = speedups
    if c is None:
        return _PYTHON
    return _Passes(c.relax_body, c.relax_body, c.relax_headers, c.body_flaws)


_PASSES = _load_accelerator()
relax = _PASSES.relax
"""Normalize line endings and apply the relaxed line rules (C when built)."""
relax_view = _PASSES.relax_view
""":data:`relax` for a view of a caller's buffer: returns the view itself when nothing
changes (C), so unchanged text is hashed where it lies."""
body_flaws = _PASSES.body_flaws
"""What the signer refuses in a body: ``NUL_FLAW | BARE_CR_FLAW | ENDS_WITH_CR`` bits."""
ACCELERATED = _PASSES is not _PYTHON
"""True when the optional C accelerator does the passes (relaxed body and headers, the
body check)."""


def _content_end(data: bytes | memoryview) -> int:
    """
    Length of ``data`` without its trailing run of complete CRLF pairs.

    ``data`` ends with CRLF and every LF in it follows a CR. The bytes after the last
    non-CR/LF byte alternate CR, LF except where a bare CR sits; the pairs start after
    the last doubled CR. Only the tail is copied, never the whole body.
    """
    window = 256
    while True:
        tail = bytes(data[-window:] if window < len(data) else data)
        kept = len(tail.rstrip(b"\r\n"))
        if kept or len(tail) == len(data):
            break
        window *= 16
    content = len(data) - len(tail) + kept
    tail = bytes(data[content:])
    doubled = tail.rfind(b"\r\r")
    return content + (doubled + 1 if doubled >= 0 else 0)


def canonicalize_body(body: bytes, canon: Canon) -> bytes:
    """
    Return the canonical form of a whole body (any line endings), as the body will be
    after transport: a last line without CRLF counts as ending with one.
    """
    body = relax(body) if canon is Canon.RELAXED else normalize_newlines(body)
    if body.endswith(CRLF):
        end = _content_end(body)
        if end == 0:
            return CRLF if canon is Canon.SIMPLE else b""
        return body if end == len(body) - 2 else body[:end] + CRLF
    if not body:
        return CRLF if canon is Canon.SIMPLE else b""
    return body + CRLF


def body_hash(body: bytes | bytearray | memoryview, canon: Canon) -> bytes:
    """SHA-256 of the canonical body (the raw ``bh=`` digest), in bounded memory."""
    if len(body) <= SLICE and type(body) is bytes:
        return hashlib.sha256(canonicalize_body(body, canon)).digest()
    hasher = BodyHasher(canon)
    hasher.update(body)
    return hasher.digest()


def _byte_view(chunk: bytes | bytearray | memoryview) -> memoryview:
    """A flat view of ``chunk``'s bytes (any buffer, any item format)."""
    view = memoryview(chunk)
    if view.ndim == 1 and view.format in ("B", "b", "c"):
        return view
    return view.cast("B") if view.c_contiguous else memoryview(view.tobytes())


class BodyHasher:
    """
    Canonicalize and hash a body given in chunks, in bounded memory.

    Gives the same digest as :func:`body_hash` on the joined chunks, wherever the chunk
    boundaries fall. Memory is bounded by ``max_pending`` plus one chunk: a line longer
    than that is hashed in pieces, holding back only the bytes whose meaning depends on
    what follows (a CR that may start a CRLF, a space that may end a line).
    """

    __slots__ = ("_blank", "_hash", "_max_pending", "_pending", "_relaxed", "_seen")

    def __init__(self, canon: Canon, *, max_pending: int = 65536) -> None:
        self._hash = hashlib.sha256()
        self._relaxed = canon is Canon.RELAXED
        self._max_pending = max_pending
        self._pending = b""  # bytes after the last LF seen
        self._blank = 0  # CRLFs held back: the end of the body may drop them
        self._seen = False  # whether any content was hashed

    def _emit(self, data: bytes | memoryview) -> None:
        if self._blank:
            self._hash.update(CRLF * self._blank)
            self._blank = 0
        self._hash.update(data)
        self._seen = True

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        """Feed the next chunk of body bytes (``bytes``, ``bytearray`` or ``memoryview``)."""
        if type(chunk) is bytes:
            for start in range(0, len(chunk), SLICE):
                self._update(chunk, start, min(start + SLICE, len(chunk)))
            return
        # Other buffers are copied a slice at a time: a caller's reused read buffer must
        # not be held as pending bytes, and no pass ever sees more than a slice.
        view = _byte_view(chunk)
        for start in range(0, len(view), SLICE):
            piece = view[start : start + SLICE].tobytes()
            self._update(piece, 0, len(piece))

    def _update(self, data: bytes, start: int, end: int) -> None:
        """Hash the complete lines of ``data[start:end]`` (after the pending partial
        line) without copying them; keep the partial line at the end as pending."""
        last_lf = data.rfind(b"\n", start, end)
        if last_lf < 0:
            self._pending += data[start:end]
            if len(self._pending) > self._max_pending:
                self._flush_partial_line()
            return
        if self._pending:
            first_lf = data.find(b"\n", start, end)
            head, self._pending = self._pending + data[start : first_lf + 1], b""
            self._lines(head)
            start = first_lf + 1
        if start <= last_lf:
            self._lines(memoryview(data)[start : last_lf + 1])
        self._pending = data[last_lf + 1 : end]

    def _lines(self, complete: bytes | memoryview) -> None:
        """Canonicalize and hash whole lines; hold back trailing empty lines."""
        relaxed = self._relaxed
        lines = relax_view(complete) if relaxed else normalize_newlines(bytes(complete))
        end = _content_end(lines)
        if end:
            self._emit(memoryview(lines)[:end] if end < len(lines) else lines)
        self._blank += (len(lines) - end) // 2

    def _flush_partial_line(self) -> None:
        data = _compress_wsp(self._pending) if self._relaxed else self._pending
        keep = 0
        if data.endswith(b"\r"):
            keep = 1
        if self._relaxed and data[: len(data) - keep].endswith(b" "):
            keep += 1
        self._pending = data[len(data) - keep :]
        if len(data) > keep:
            self._emit(data[: len(data) - keep])

    def digest(self) -> bytes:
        """Finish and return the SHA-256 digest; the hasher must not be fed again."""
        if self._pending:
            self._update(CRLF, 0, 2)  # transport ends the last line (see the module docstring)
        if self._seen or not self._relaxed:
            self._hash.update(CRLF)
        self._blank = 0
        return self._hash.digest()


def canonicalize_headers(fields: Sequence[bytes], canon: Canon) -> bytes:
    """
    The canonical forms of whole header fields (each ending with CRLF), joined: what a
    signature's header hash covers, in one pass (C when built).
    """
    if canon is Canon.SIMPLE:
        return b"".join(fields)
    return _PASSES.relax_headers(fields)


def canonicalize_header(field: bytes, canon: Canon) -> bytes:
    """
    Return one header field in canonical form, ending with CRLF.

    ``field`` is the whole field as it appears in the message, name and folded value,
    with CRLF line endings.
    """
    if canon is Canon.SIMPLE:
        return field
    colon = field.index(b":")
    name = field[:colon].rstrip(b" \t").lower()
    value = field[colon + 1 : -2] if field.endswith(CRLF) else field[colon + 1 :]
    if b"\n" in value:
        value = value.replace(CRLF, b"").replace(b"\n", b"")
    if b"\t" in value or b"  " in value:
        value = _compress_wsp(value)
    return b"%s:%s\r\n" % (name, value.strip(b" "))
