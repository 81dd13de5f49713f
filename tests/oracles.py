"""
dkimpy as the independent oracle for canonicalization, shared by the core and property
tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from dkim.canonicalization import Relaxed, Simple

from oxdkim import Canon, MessageFormatError, MessageProblem

T = TypeVar("T")
R = TypeVar("R")

DKIMPY = {Canon.SIMPLE: Simple, Canon.RELAXED: Relaxed}


def dkimpy_body(body: bytes, canon: Canon) -> bytes:
    """
    dkimpy's canonical body of ``body`` as it arrives: after SMTP's final CRLF and its
    message parser's line-ending normalization. dkimpy keeps whitespace at the end of a
    last line without CRLF, a form no receiver sees; on what arrives the two agree.
    """
    if body and not body.endswith(b"\n"):
        body += b"\r\n"
    normalized = b"\r\n".join(re.split(b"\r?\n", body))
    return bytes(DKIMPY[canon].canonicalize_body(normalized))


def has_bare_cr(message: bytes) -> bool:
    """Whether the body of ``message`` (after its first empty line) has a CR without LF."""
    start = min(
        (i + n for i, n in ((message.find(b"\n\r\n"), 3), (message.find(b"\n\n"), 2)) if i >= 0),
        default=len(message),
    )
    body = message[start:]
    return body.count(b"\r") != body.count(b"\r\n")


def attempt(sign: Callable[[T], R], message: T) -> R | MessageProblem:
    """What signing gives: the result, or the problem of the MessageFormatError raised."""
    try:
        return sign(message)
    except MessageFormatError as exc:
        return exc.problem


# dkimpy strips a relaxed header value with bytes.strip(), which also removes VT and FF;
# RFC 6376 §3.4.2 removes WSP (SP and HTAB) only, as oxdkim does. A reviewed
# disagreement: on such fields dkimpy is not the oracle.
_VT_FF_AT_EDGE = re.compile(rb"(?m)^[^ \t:][^:]*:[ \t]*[\x0b\x0c]|[\x0b\x0c][ \t]*$")


def dkimpy_is_an_oracle_for(message: bytes) -> bool:
    """False when a header field value starts or ends with VT/FF (see above)."""
    end = message.find(b"\r\n\r\n")
    head = message if end < 0 else message[:end]
    unfolded = re.sub(rb"\r?\n(?=[ \t])", b"", head)
    return not _VT_FF_AT_EDGE.search(unfolded.replace(b"\r\n", b"\n"))
