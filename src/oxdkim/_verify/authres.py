"""
Authentication-Results fields (RFC 8601) rendered from DKIM verification results.

Nothing from the verified message reaches the field unchecked: the result and reason
words are our own fixed tokens, ``header.d``/``header.s`` must be plain DNS names,
``header.b`` must be base64 characters, ``header.i`` must be a dot-atom local part and a
DNS name (and is quoted). A property that fails its check is left out rather than
escaped into the field: a receiver reading the field must never see a forged ``;`` or
line break.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..exceptions import ConfigurationError
from .verifier import DkimReason, DkimResult, VerifyResult

# RFC 2045 token: printable ASCII except SP and tspecials.
_TOKEN = re.compile(r"\A[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+\Z")
_DNS_NAME = re.compile(r"\A[a-z0-9_](?:[a-z0-9_.-]{0,251}[a-z0-9_])?\Z")
_AUTHSERV_ID = re.compile(r"\A[A-Za-z0-9](?:[A-Za-z0-9._-]{0,253}[A-Za-z0-9])?\Z")
_BASE64 = re.compile(r"\A[A-Za-z0-9+/]+=*\Z")
# A dot-atom local part (possibly empty) and a DNS name; anything else is left out.
_AUID = re.compile(r"\A[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{0,64}@[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?\Z")
_B_PREFIX = 8  # RFC 6008 §4: at least 8 characters


def _pvalue(value: str) -> str:
    """A value as RFC 8601 writes it: a token, else a quoted-string."""
    if _TOKEN.match(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _b_prefixes(results: list[VerifyResult]) -> dict[int, str]:
    """Shortest prefix (at least 8) of each ``b=`` that tells it from the others (RFC 6008)."""
    values = {
        r.index: r.signature_b64
        for r in results
        if r.signature_b64 is not None and _BASE64.match(r.signature_b64)
    }
    prefixes: dict[int, str] = {}
    for index, value in values.items():
        others = {v for i, v in values.items() if i != index and v != value}
        length = _B_PREFIX
        while length < len(value) and any(o.startswith(value[:length]) for o in others):
            length += 1
        prefixes[index] = value[:length]
    return prefixes


def _resinfo(result: VerifyResult, b_prefix: str | None) -> str:
    parts = [f"dkim={result.result.value}"]
    if result.reason is not None:
        parts.append(f'reason="{result.reason.phrase}"')
    if result.testing:
        parts.append("(key in testing mode)")
    if result.domain is not None and _DNS_NAME.match(result.domain):
        parts.append(f"header.d={result.domain}")
    if result.auid is not None and _AUID.match(result.auid):
        parts.append(f"header.i={_pvalue(result.auid)}")
    if result.selector is not None and _DNS_NAME.match(result.selector):
        parts.append(f"header.s={result.selector}")
    if result.algorithm is not None and _TOKEN.match(result.algorithm):
        parts.append(f"header.a={result.algorithm}")
    if b_prefix is not None:
        parts.append(f"header.b={_pvalue(b_prefix)}")
    return " ".join(parts)


def render_authentication_results(
    authserv_id: str,
    results: Iterable[VerifyResult],
    *,
    linesep: bytes = b"\r\n",
) -> bytes:
    """
    Render an ``Authentication-Results`` field for the DKIM results of one message.

    One ``dkim=`` result per evaluated signature, ``dkim=none`` when there is none.
    Signatures left ``not-evaluated`` (over the verifier's bound) are not listed.

    Args:
        authserv_id: The receiving host's name (RFC 8601 §2.5), e.g. ``mx.example.net``.
        results: What :meth:`Verifier.verify` returned.
        linesep: Line ending of the field (the message's own).

    Returns:
        The whole field, folded one result per line, ending with ``linesep``; ready to
        prepend to the message.

    Raises:
        ConfigurationError: ``authserv_id`` is not a host-name-like token, or ``linesep``
            is neither CRLF nor LF.
    """
    if linesep not in (b"\r\n", b"\n"):
        raise ConfigurationError("linesep must be CRLF or LF")
    if not _AUTHSERV_ID.match(authserv_id):
        raise ConfigurationError(f"invalid authserv-id {authserv_id[:40]!r}; use a host name")
    shown = [r for r in results if r.reason is not DkimReason.NOT_EVALUATED]
    prefixes = _b_prefixes(shown)
    lines = [f"Authentication-Results: {authserv_id}"]
    if not shown:
        lines.append(f"dkim={DkimResult.NONE.value}")
    lines += [_resinfo(r, prefixes.get(r.index)) for r in shown]
    text = (";" + linesep.decode("ascii") + "\t").join(lines) + linesep.decode("ascii")
    return text.encode("ascii")


__all__ = ["render_authentication_results"]
