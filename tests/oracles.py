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
