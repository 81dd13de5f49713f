"""
The values that flow through signing: request, signature spec, decision, result.

All are frozen: a decision or a result can be logged, compared and shared across threads.
Building a :class:`SignatureSpec` validates every tag value, so a bad selector or domain
is a :class:`~oxdkim.exceptions.ConfigurationError` when a policy is built, not per message.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from .._base.domains import checked_domain, checked_selector, is_subdomain
from .._dkim.canon import Canonicalization
from .._dkim.crypto import Algorithm, SigningKey
from ..exceptions import ConfigurationError

DEFAULT_SIGNED_HEADERS: tuple[str, ...] = (
    "from",
    "sender",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "to",
    "cc",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "content-language",
    "list-id",
    "list-help",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-subscribe",
    "list-post",
    "list-owner",
    "list-archive",
)
"""Fields protected by default (RFC 6376 §5.4.1 plus the MIME and List-* fields)."""

NEVER_SIGNED_HEADERS = frozenset(
    {"return-path", "received", "bcc", "resent-bcc", "dkim-signature", "x-original-to"}
)
"""Trace and private fields that relays add, change or remove; signing them breaks mail."""

_FIELD_NAME_CHARS = frozenset(chr(c) for c in range(33, 127)) - {":"}
# RFC 5321 Dot-string characters (atext and "."), without "=" (dkim-quoted-printable).
_IDENTITY_LOCAL_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/?^_`{|}~."
)


def _domain(value: str) -> str:
    return checked_domain(value, what="signing domain")


def _headers(value: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    names: list[str] = []
    for raw in value:
        name = raw.strip().lower()
        if not name or not _FIELD_NAME_CHARS.issuperset(name):
            raise ConfigurationError(f"invalid header field name {raw!r}")
        if name in NEVER_SIGNED_HEADERS:
            raise ConfigurationError(f"the {raw} field must not be signed")
        if name not in names:
            names.append(name)
    if "from" not in names:
        raise ConfigurationError("the From field must be signed (RFC 6376 §5.4)")
    return tuple(names)


MAX_EXPIRES_IN = 100 * 366 * 86400
"""Longest ``expires_in`` (about a century): ``x=`` then keeps to the 12 digits verifiers
read (RFC 6376 §3.5); a longer value would give signatures that verifiers refuse."""


def _expiry(value: int | None) -> int | None:
    if value is not None and value <= 0:
        raise ConfigurationError("expires_in must be a positive number of seconds")
    if value is not None and value > MAX_EXPIRES_IN:
        raise ConfigurationError(f"expires_in must be at most {MAX_EXPIRES_IN} seconds")
    return value


@attrs.frozen
class SigningRequest:
    """
    What a policy decides on: who sends, as whom.

    ``from_domain`` is normalized (the message parser guarantees it); ``tenant`` is the
    submitting account, as authenticated by the caller; ``envelope_sender`` is the SMTP
    MAIL FROM address, when known; ``now`` is the signing time (the signer's clock), so
    a policy stays pure.
    """

    from_domain: str
    tenant: str | None = None
    envelope_sender: str | None = None
    now: datetime | None = None


@attrs.frozen
class SignatureOptions:
    """
    How to sign, independent of who signs: the same for every domain of a brand.

    Args:
        canonicalization: ``c=``; default ``relaxed/relaxed``.
        headers: Fields to protect; ``from`` is required.
        oversign: Name each protected field once more than it occurs, so nobody can add one.
        expires_in: Seconds after ``t=`` for ``x=``; no ``x=`` when ``None``.
    """

    canonicalization: Canonicalization = Canonicalization()
    headers: tuple[str, ...] = attrs.field(default=DEFAULT_SIGNED_HEADERS, converter=_headers)
    oversign: bool = True
    expires_in: int | None = attrs.field(default=None, converter=_expiry)


DEFAULT_OPTIONS = SignatureOptions()


@attrs.frozen
class SignatureSpec:
    """
    One signature to make: ``d=``, ``s=``, the key, and how to sign.

    Args:
        domain: The signing domain (SDID, ``d=``).
        selector: The selector (``s=``).
        key: The private key; its algorithm gives ``a=``.
        options: Canonicalization, protected headers, oversigning, expiry.
        identity: The AUID (``i=``); must be ``d=`` or below it. Omitted when ``None``.
    """

    domain: str = attrs.field(converter=_domain)
    selector: str = attrs.field(converter=checked_selector)
    key: SigningKey
    options: SignatureOptions = DEFAULT_OPTIONS
    identity: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.identity is not None:
            local, at, domain = self.identity.rpartition("@")
            if not at or not _IDENTITY_LOCAL_CHARS.issuperset(local):
                # i= is dkim-quoted-printable ASCII (RFC 6376 §3.5): a raw "=", "@" or
                # non-ASCII local part would be misread or crash when the tag is written.
                raise ConfigurationError(f"invalid identity {self.identity!r}")
            identity_domain = checked_domain(domain, what="identity domain")
            if not is_subdomain(identity_domain, self.domain):
                raise ConfigurationError(
                    f"identity {self.identity!r} is outside the signing domain {self.domain}"
                )
            # Written as A-label without a trailing dot, like d=, so verifiers that
            # compare i= to d= as strings accept it.
            object.__setattr__(self, "identity", f"{local}@{identity_domain}")

    @property
    def algorithm(self) -> Algorithm:
        """The ``a=`` algorithm, given by the key."""
        return self.key.algorithm

    @property
    def canonicalization(self) -> Canonicalization:
        """The ``c=`` pair from the options."""
        return self.options.canonicalization


@attrs.frozen
class SigningDecision:
    """
    A policy's answer: the signatures to make, or none, and always who decided and why.

    ``policy`` names the deciding policy (composed policies join names with ``>``).
    """

    policy: str
    reason: str
    signatures: tuple[SignatureSpec, ...] = ()

    @property
    def signs(self) -> bool:
        """True when at least one signature is to be made."""
        return bool(self.signatures)

    @classmethod
    def refuse(cls, policy: str, reason: str) -> SigningDecision:
        """A decision not to sign."""
        return cls(policy, reason, ())


@attrs.frozen
class SignResult:
    """
    One signature made.

    ``header`` is the complete ``DKIM-Signature`` field, ending with the message's own
    line ending; the caller prepends it to the message.
    """

    header: bytes
    domain: str
    selector: str
    algorithm: Algorithm
    canonicalization: Canonicalization
    signed_headers: tuple[str, ...]
    body_hash: str
    timestamp: int
    expires: int | None
    policy: str
    reason: str
    key_fingerprint: str
