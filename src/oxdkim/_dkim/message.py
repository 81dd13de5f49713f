"""
Split RFC 5322 message bytes into header fields and body, without re-serialising anything.

Fields keep their exact bytes (with line endings made CRLF), so ``simple`` header
canonicalization sees what the receiver will see. The From domain is read by a small
strict parser of our own (:mod:`oxdkim._dkim.address`), not by ``email`` or ``parseaddr``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

import attrs

from ..exceptions import (
    ConfigurationError,
    FromHeaderError,
    MessageFormatError,
    MessageLimitError,
    MessageProblem,
)
from .accel import speedups
from .address import parse_from_domain

# RFC 5322 §2.2: field-name = 1*ftext, printable US-ASCII except colon.
_FTEXT = frozenset(range(33, 127)) - {ord(":")}
_WSP = (0x20, 0x09)
# The fast path: fields start after a CRLF not followed by WSP; a name, WSP, a colon.
_FIELD_BREAK = re.compile(rb"\r\n(?![ \t])")
_FIELD_NAME = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]*:")


@attrs.frozen
class MessageLimits:
    """
    Size limits applied before any work, so hostile input costs bounded time and memory.

    The defaults are far above what real mail carries.
    """

    max_header_bytes: int = 1 << 20
    max_header_fields: int = 5000

    def __attrs_post_init__(self) -> None:
        for name in ("max_header_bytes", "max_header_fields"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name} must be positive")


DEFAULT_LIMITS = MessageLimits()


class HeaderField(NamedTuple):
    """One header field: ``name`` as written (trailing WSP removed), ``raw`` bytes with CRLF."""

    name: bytes
    raw: bytes

    @property
    def key(self) -> bytes:
        """The lowercase name, for matching."""
        return self.name.lower()

    @property
    def value(self) -> bytes:
        """Everything after the colon, unfolded, without the final CRLF."""
        return self.raw[self.raw.index(b":") + 1 :].replace(b"\r\n", b"")


@attrs.frozen
class ParsedMessage:
    """A message split at the first empty line; ``body`` is the bytes after it, untouched."""

    fields: tuple[HeaderField, ...]
    body: bytes
    linesep: bytes

    def get_all(self, name: str) -> list[HeaderField]:
        """Every field called ``name`` (case-insensitive), in message order."""
        key = name.lower().encode("ascii")
        return [f for f in self.fields if f.key == key]

    def from_domain(self) -> str:
        """
        The domain of the single mailbox in the single From field.

        Raises:
            FromHeaderError: No From, several From fields, or not exactly one plain mailbox.
        """
        return from_domain_of(self.get_all("from"))


def from_domain_of(froms: Sequence[HeaderField]) -> str:
    """
    The domain of the single mailbox in ``froms``, a message's From fields.

    Raises:
        FromHeaderError: No From, several From fields, or not exactly one plain mailbox.
    """
    if not froms:
        raise FromHeaderError("the message has no From field", problem=MessageProblem.NO_FROM)
    if len(froms) > 1:
        raise FromHeaderError(
            f"the message has {len(froms)} From fields; exactly one is allowed",
            problem=MessageProblem.MULTIPLE_FROM,
        )
    return parse_from_domain(froms[0].value)


def find_blank_line(data: bytes | bytearray, start: int = 0) -> tuple[int, int] | None:
    """
    ``(header_end, body_start)`` of the first empty line found from ``start`` on, or
    ``None``: where the header block ends (after its last line ending) and the body begins.
    """
    if start == 0:
        if data[:2] == b"\r\n":
            return 0, 2
        if data[:1] == b"\n":
            return 0, 1
    crlf = data.find(b"\n\r\n", start)
    # Only an LF-LF before the CRLF-CRLF matters: do not scan the whole body for one.
    lf = data.find(b"\n\n", start, crlf + 1) if crlf >= 0 else data.find(b"\n\n", start)
    if crlf < 0 and lf < 0:
        return None
    if lf < 0 or (0 <= crlf < lf):
        return crlf + 1, crlf + 3
    return lf + 1, lf + 2


def find_body_start(message: bytes) -> tuple[int, int]:
    """Like :func:`find_blank_line`; without an empty line both positions are ``len``."""
    found = find_blank_line(message)
    return found if found is not None else (len(message), len(message))


def parse_header_block(
    block: bytes, limits: MessageLimits = DEFAULT_LIMITS, *, lenient: bool = False
) -> list[HeaderField]:
    """
    Parse the header block (no empty line inside) into fields.

    ``lenient`` is for reading inbound mail (verification) rather than mail to sign: a
    bare CR inside a header line is kept as an ordinary byte, and an mbox ``From ``
    separator on the first line is skipped (dkimpy reads both the same way).

    Raises:
        MessageFormatError: NUL or bare CR, a line without a colon, a bad field name, or a
            continuation line before the first field.
        MessageLimitError: More than ``limits.max_header_fields`` fields.
    """
    if not block:
        return []
    if b"\0" in block:
        raise MessageFormatError("NUL byte in the header", problem=MessageProblem.NUL_BYTE)
    fast = _split_fields(block, limits)
    if fast is not None:
        return fast
    return _parse_lines(block, limits, lenient)


def _split_fields(block: bytes, limits: MessageLimits) -> list[HeaderField] | None:
    """
    The common case at C speed: one regex split into fields and one match per name.

    Returns ``None`` for anything unusual (bare CR, a bad or missing name, a leading
    continuation, too many fields), which the line-by-line parser then reports precisely.
    """
    if speedups is not None:
        split: list[HeaderField] | None
        split = speedups.split_fields(block, HeaderField, limits.max_header_fields)
        if split is not None:
            return split
    return _split_fields_python(block, limits)


def _split_fields_python(block: bytes, limits: MessageLimits) -> list[HeaderField] | None:
    """:func:`_split_fields` without the accelerator: the reference it is tested against."""
    crlfs = block.count(b"\r\n")
    if block.count(b"\r") != crlfs:
        return None
    if block.count(b"\n") != crlfs:
        block = block.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if not block or block[0] in _WSP:
        return None
    parts = _FIELD_BREAK.split(block[:-2] if block.endswith(b"\r\n") else block)
    if len(parts) > limits.max_header_fields:
        return None
    match = _FIELD_NAME.match
    fields = []
    for part in parts:
        found = match(part)
        if found is None:
            return None
        fields.append(HeaderField(found.group(1), part + b"\r\n"))
    return fields


def _parse_lines(block: bytes, limits: MessageLimits, lenient: bool) -> list[HeaderField]:
    """Line by line, for the unusual cases and precise errors (see parse_header_block)."""
    lines = block.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    if lenient and lines and lines[0].startswith(b"From "):
        lines[0] = b""  # an mbox separator, not a field; skipped below
    fields: list[HeaderField] = []
    current: list[bytes] = []
    name = b""

    def close() -> None:
        fields.append(HeaderField(name, b"\r\n".join(current) + b"\r\n"))

    for number, raw_line in enumerate(lines, start=1):
        line = raw_line[:-1] if raw_line.endswith(b"\r") else raw_line
        if lenient and number == 1 and not line:
            continue
        if b"\r" in line and not lenient:
            raise MessageFormatError(
                f"header line {number} contains a bare CR", problem=MessageProblem.BARE_CR
            )
        if line and line[0] in _WSP:
            if not current:
                raise MessageFormatError(
                    "the first header line is a continuation line",
                    problem=MessageProblem.LEADING_CONTINUATION,
                )
            current.append(line)
            continue
        if current:
            close()
            if len(fields) >= limits.max_header_fields:
                raise MessageLimitError(f"more than {limits.max_header_fields} header fields")
        colon = line.find(b":")
        if colon < 0:
            raise MessageFormatError(
                f"header line {number} has no colon: {preview(line)}",
                problem=MessageProblem.NO_COLON,
            )
        name = line[:colon].rstrip(b" \t")
        if not name or not _FTEXT.issuperset(name):
            what = "an mbox 'From ' separator" if line.startswith(b"From ") else "a field"
            raise MessageFormatError(
                f"header line {number} is {what} with an invalid name: {preview(line)}",
                problem=MessageProblem.BAD_FIELD_NAME,
            )
        current = [line]
    if current:
        close()
    return fields


def preview(value: bytes, width: int = 40) -> str:
    """
    The start of ``value`` for a message: its repr without the ``b``, so what is not
    text has one escape style (``\\xff``, ``\\x01``), cut at ``width`` bytes.
    """
    text = repr(value[:width])[1:]
    return text[:-1] + "..." + text[-1] if len(value) > width else text


def detect_linesep(message: bytes) -> bytes:
    """The message's own line ending (from its first line): CRLF or LF."""
    first = message.find(b"\n")
    return b"\n" if first > 0 and message[first - 1] != 0x0D else b"\r\n"


def parse_message(
    message: bytes, limits: MessageLimits = DEFAULT_LIMITS, *, lenient: bool = False
) -> ParsedMessage:
    """
    Split ``message`` into header fields and body.

    With ``lenient`` (for verifying inbound mail), the header block is read as
    :func:`parse_header_block` describes. The body is not examined: what a body may hold
    is the caller's rule (the signer refuses NUL and bare CR, the verifier hashes them).

    Raises:
        MessageFormatError: The header block is not RFC 5322 (see
            :func:`parse_header_block`) or the message is empty.
        MessageLimitError: The header block exceeds ``limits``.
    """
    if not isinstance(message, bytes | bytearray | memoryview):
        raise TypeError(f"message must be bytes, not {type(message).__name__}")
    message = bytes(message)
    if not message or message.isspace():
        raise MessageFormatError("the message is empty", problem=MessageProblem.EMPTY)
    header_end, body_start = find_body_start(message)
    if header_end > limits.max_header_bytes:
        raise MessageLimitError(f"header block larger than {limits.max_header_bytes} bytes")
    if message.find(b"\0", 0, header_end) >= 0:
        raise MessageFormatError("NUL byte in the header", problem=MessageProblem.NUL_BYTE)
    fields = parse_header_block(message[:header_end], limits, lenient=lenient)
    return ParsedMessage(tuple(fields), message[body_start:], detect_linesep(message))
