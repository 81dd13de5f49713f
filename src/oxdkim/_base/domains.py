"""
Domain names and selectors in one normal form: lowercase A-labels, no trailing dot.

IDNA 2008 is applied strictly (no UTS #46 mapping): a name with invisible or disallowed
code points is refused rather than silently mapped to another name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import idna

from ..exceptions import ConfigurationError
from .files import looks_like_key_text, shown

_LDH_LABEL = re.compile(r"\A[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
# Selectors and key-host names may carry underscores (RFC 8552 style names).
_DNS_LABEL = re.compile(r"\A[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\Z")
_MAX_NAME = 253
# IDEOGRAPHIC, FULLWIDTH and HALFWIDTH IDEOGRAPHIC FULL STOP: label separators only in
# IDNA 2003 and UTS #46 mapping (RFC 3490 §3.1), which this module does not apply.
_OTHER_DOTS = ("\u3002", "\uff0e", "\uff61")


class DomainSyntaxError(ValueError):
    """
    A domain or selector is not acceptable; callers re-raise as their own typed error.

    ``reason`` says why without the value, for callers that name the value their own way
    (the CLI names the option). The message shows the value only when it cannot be key
    material.
    """

    def __init__(self, value: object, reason: str, *, what: str = "domain") -> None:
        super().__init__(f"{shown(value, what=what)} {reason}")
        self.reason = reason


def normalize_domain(value: str | bytes, *, allow_underscore: bool = False) -> str:
    """
    Return ``value`` as a lowercase A-label domain without a trailing dot.

    Raises:
        DomainSyntaxError: Not text, empty labels, bad characters, a single label, an IP
            address, or a name IDNA 2008 refuses.
    """
    if not isinstance(value, str | bytes):  # checked before the cache, which needs a hash
        raise DomainSyntaxError(value, "is not text: a domain is a str")
    return _normalize_domain(value, allow_underscore)


@functools.lru_cache(maxsize=65536)
def _normalize_domain(value: str | bytes, allow_underscore: bool) -> str:
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise DomainSyntaxError(value, "is not valid UTF-8") from None
    name = value[:-1] if value.endswith(".") else value
    if not name:
        raise DomainSyntaxError(value, "is empty")
    if not name.isascii():
        if any(dot in name for dot in _OTHER_DOTS):
            # idna.encode splits labels at these too (IDNA 2003 did); IDNA 2008 does
            # not, so "a\u3002example" must not quietly become "a.example".
            raise DomainSyntaxError(value, "contains a dot other than U+002E")
        try:
            name = idna.encode(name.lower(), uts46=False).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            detail = "" if looks_like_key_text(name) else f" ({exc})"
            raise DomainSyntaxError(
                value, f"is not a valid internationalized domain{detail}"
            ) from None
    name = name.lower()
    labels = name.split(".")
    pattern = _DNS_LABEL if allow_underscore else _LDH_LABEL
    for label in labels:
        if not label:
            raise DomainSyntaxError(value, "has an empty label")
        if not pattern.match(label):
            if looks_like_key_text(label):
                raise DomainSyntaxError(value, "is not a domain name")
            raise DomainSyntaxError(value, f"has a label that is not a host label: {label!r}")
    if len(labels) < 2:
        raise DomainSyntaxError(value, "is a single label, not a domain")
    if labels[-1].isdigit():
        raise DomainSyntaxError(value, "looks like an IP address, not a domain")
    if len(name) > _MAX_NAME:
        raise DomainSyntaxError(value, f"is longer than {_MAX_NAME} characters")
    return name


def normalize_selector(value: str) -> str:
    """
    Return ``value`` as a lowercase selector: dot-separated LDH labels (RFC 6376 §3.1,
    ``sub-domain`` of RFC 5321), the same rule for signing and for verifying.

    Only plain labels are accepted: a ``\\DDD`` escape, ``@``, ``_`` or an empty label
    could make a DNS library query another name than the one written.

    Raises:
        DomainSyntaxError: A character outside letters, digits, ``-`` and ``.``; that
            covers ``;``, ``=``, whitespace, ``(`` and NUL, which would corrupt the tag
            list.
    """
    if not isinstance(value, str):  # checked before the cache, which needs a hash
        raise DomainSyntaxError(value, "is not text: a selector is a str", what="selector")
    return _normalize_selector(value)


@functools.lru_cache(maxsize=4096)
def _normalize_selector(value: str) -> str:
    if not value:
        raise DomainSyntaxError(value, "is empty", what="selector")
    bad = sorted({c for c in value if not (c.isascii() and (c.isalnum() or c in "-."))})
    if bad:
        listed = ", ".join(map(repr, bad))
        raise DomainSyntaxError(value, f"contains {listed}", what="selector")
    name = value.lower()
    for label in name.split("."):
        if not _LDH_LABEL.match(label):
            raise DomainSyntaxError(
                value,
                "has a label that is not a host label (letters, digits, inner hyphens)",
                what="selector",
            )
    if len(name) > 63 * 2:
        raise DomainSyntaxError(value, "is too long", what="selector")
    return name


def is_subdomain(child: str, parent: str) -> bool:
    """True when ``child`` equals ``parent`` or lies below it (both normalized)."""
    return child == parent or child.endswith("." + parent)


def checked_domain(
    value: str, *, what: str | None = "domain", allow_underscore: bool = False
) -> str:
    """
    :func:`normalize_domain` for arguments: a :class:`ConfigurationError` that says
    ``invalid <what>: <why>`` (just ``<why>`` when ``what`` is ``None``).
    """
    try:
        return normalize_domain(value, allow_underscore=allow_underscore)
    except DomainSyntaxError as exc:
        raise ConfigurationError(f"invalid {what}: {exc}" if what else str(exc)) from None


def checked_selector(value: str) -> str:
    """:func:`normalize_selector` for arguments, raising :class:`ConfigurationError`."""
    try:
        return normalize_selector(value)
    except DomainSyntaxError as exc:
        raise ConfigurationError(f"invalid selector: {exc}") from None


def unique_domains(domains: Iterable[str]) -> list[str]:
    """Normalized domains in input order, each once (bulk audit and preview input)."""
    if isinstance(domains, str):
        raise ConfigurationError("give a list of domains, not one string")
    return list(dict.fromkeys(checked_domain(domain) for domain in domains))
