"""
The ``tag=value`` list of DKIM-Signature fields and DKIM key records (RFC 6376 §3.2).

One strict parser for both. Tag names are ``ALPHA *ALNUMPUNC`` and case-sensitive, a
tag may appear once, whitespace (folded or not) may surround names, ``=`` and values,
values may contain inner whitespace, and a final ``;`` is allowed. The parser keeps each
value's position so the verifier can blank the ``b=`` value exactly as RFC 6376 §3.7
says, without a second parse.

It is built from ``split(b";")`` and one anchored regular expression per tag: ``;`` is
not a VALCHAR, so every ``;`` separates two tag-specs, and the expression has no
ambiguous repetition, so it runs in linear time on hostile input.
"""

from __future__ import annotations

import re

from ..exceptions import RecordSyntaxError
from .accel import speedups

# FWS as RFC 6376 §2.8 uses it (RFC 5322 FWS), repeated: WSP, or CRLF followed by WSP.
# The repeats are possessive (``*+``, Python 3.11): whitespace and VALCHARs never overlap,
# so nothing is lost, and the engine keeps no backtracking state per repetition, which
# for a 1 MB field of "x x x ..." cost 250 MB of memory with plain ``*``.
_WS = rb"(?:[ \t]|\r\n[ \t])*+"
_WS1 = rb"(?:[ \t]|\r\n[ \t])++"
# VALCHAR = %x21-3A / %x3C-7E; RFC 8616 §4 adds UTF-8 for internationalized mail.
_VALCHAR_ASCII = rb"[\x21-\x3a\x3c-\x7e]"
_VALCHAR_UTF8 = rb"[\x21-\x3a\x3c-\x7e\x80-\xff]"


def _spec_pattern(valchar: bytes) -> re.Pattern[bytes]:
    value = valchar + rb"++(?:" + _WS1 + valchar + rb"++)*+"
    return re.compile(
        rb"\A"
        + _WS
        + rb"(?P<name>[A-Za-z][A-Za-z0-9_]*)"
        + _WS
        + rb"=(?P<value>"
        + _WS
        + rb"(?P<v>"
        + value
        + rb")?"
        + _WS
        + rb")\Z"
    )


_SPEC_ASCII = _spec_pattern(_VALCHAR_ASCII)
_SPEC_UTF8 = _spec_pattern(_VALCHAR_UTF8)
_ONLY_WS = re.compile(rb"\A" + _WS + rb"\Z")
_LEADING_NAME = re.compile(rb"\A" + _WS + rb"([A-Za-z][A-Za-z0-9_]*+)" + _WS + rb"=")


class TagList(dict[str, bytes]):
    """
    A parsed tag list: tag name -> value bytes, in the order written.

    Values keep their inner whitespace (a folded ``b=`` still contains CRLF and spaces);
    see :func:`compact`. :meth:`value_span` gives where a value lies in the parsed bytes.
    A dict, so the verifier's many lookups per signature run at C speed; nothing changes
    it after parsing.
    """

    __slots__ = ("_spans",)

    def __init__(self, values: dict[str, bytes], spans: dict[str, tuple[int, int]]) -> None:
        super().__init__(values)
        self._spans = spans

    def __repr__(self) -> str:
        return f"TagList({dict(self)!r})"

    def value_span(self, name: str) -> tuple[int, int]:
        """
        Where ``name``'s value lies in the input, whitespace around it included.

        The span runs from just after the ``=`` to the ``;`` that ends the tag (or the end
        of the input): exactly what RFC 6376 §3.7 removes for ``b=``.
        """
        return self._spans[name]


def parse_tag_list(data: bytes, *, utf8: bool = False, what: str = "tag list") -> TagList:
    """
    Parse an RFC 6376 §3.2 tag list.

    Args:
        data: The list, e.g. a DKIM-Signature field's value (after the colon, without the
            final CRLF) or a key record's TXT strings joined.
        utf8: Also accept UTF-8 bytes in values (RFC 8616 §4, for signature fields).
        what: Names the list in error messages (``"DKIM-Signature"``, ``"key record"``).

    Returns:
        The tags in the order written.

    Raises:
        RecordSyntaxError: A tag-spec is empty or malformed, a tag name is invalid, a value
            has a forbidden byte, or a tag appears twice; ``tag`` names the tag when known.
    """
    if speedups is not None:
        parsed = speedups.parse_tags(data, utf8)
        if parsed is not None:
            return TagList(*parsed)
    return _parse_tag_list_python(data, utf8, what)


def _parse_tag_list_python(data: bytes, utf8: bool, what: str) -> TagList:
    """:func:`parse_tag_list` without the accelerator: the reference and the error path."""
    pattern = _SPEC_UTF8 if utf8 else _SPEC_ASCII
    values: dict[str, bytes] = {}
    spans: dict[str, tuple[int, int]] = {}
    if _ONLY_WS.match(data):
        raise RecordSyntaxError(f"{what}: empty")
    specs = data.split(b";")
    if len(specs) > 1 and _ONLY_WS.match(specs[-1]):
        specs.pop()  # a final ";" (and whitespace after it) is allowed
    offset = 0
    for spec in specs:
        match = pattern.match(spec)
        if match is None:
            raise _spec_error(spec, what, utf8)
        name = match.group("name").decode("ascii")
        if name in values:
            raise RecordSyntaxError(f"{what}: tag {name}= appears more than once", tag=name)
        value = match.group("v")
        values[name] = value if value is not None else b""
        spans[name] = (offset + match.start("value"), offset + match.end("value"))
        offset += len(spec) + 1
    return TagList(values, spans)


def _spec_error(spec: bytes, what: str, utf8: bool) -> RecordSyntaxError:
    """Explain why one tag-spec did not parse, naming its tag when it has one."""
    if _ONLY_WS.match(spec):
        return RecordSyntaxError(f"{what}: empty tag (two ';' in a row, or a leading ';')")
    named = _LEADING_NAME.match(spec)
    if named is None:
        preview = repr(spec.strip()[:20])[1:]  # one escape style (\xff) for binary bytes
        return RecordSyntaxError(f"{what}: {preview} is not a tag=value pair")
    name = named.group(1).decode("ascii")
    rest = spec[named.end() :]
    bad = next(
        (b for b in rest if not (0x21 <= b <= 0x7E or b in b" \t\r\n" or (utf8 and b >= 0x80))),
        None,
    )
    problem = "has misplaced line breaks" if bad is None else f"contains the byte 0x{bad:02x}"
    return RecordSyntaxError(f"{what}: the value of {name}= {problem}", tag=name)


def compact(value: bytes) -> bytes:
    """Remove all whitespace (SP, HTAB, CR, LF), as ``b=``, ``bh=`` and ``p=`` need."""
    return value.translate(None, b" \t\r\n")


def split_list(value: bytes) -> list[bytes]:
    """
    Split a colon-separated value (``h=``, ``q=``, key ``h=``/``s=``/``t=``).

    Whitespace around each item is removed; whitespace inside an item is kept, so the
    caller's check of the item refuses it.
    """
    return [item.strip(b" \t\r\n") for item in value.split(b":")]


__all__ = ["TagList", "compact", "parse_tag_list", "split_list"]
