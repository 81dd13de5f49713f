"""
Every exception oxdkim raises, rooted in one base class.

Commands raise (building a signer, a key ring or a policy; signing); evaluations return
results (verification, alignment, audits). "No such record" is an answer, not an error.

The tree::

    * OxDkimError
      + ConfigurationError (also ValueError)    bad arguments: domain, selector, headers, limits
        - ConfigFileError                       a configuration file's problems, with places
        - NoActiveKeyError                      a key ring has no slot that may sign
      + KeyLoadError (also ValueError)          unreadable, mismatched, too small or unsafe key
        - WeakKeyError                          RSA key below the size minimum
      + MessageFormatError (also ValueError)    the bytes are not a message we can sign
        - FromHeaderError                       From is missing, repeated or not one plain mailbox
        - MessageLimitError                     a configured size limit was exceeded
      + PolicyError
        - SigningRefusedError                   the policy decided not to sign; carries the decision
      + SigningError                            the crypto backend failed; original is __cause__
      + KeyRingError                            a rollover step's precondition does not hold
      + KeyStoreError                           ring state or key files cannot be read or written
      + DnsError
        - DnsTempError                          timeout, SERVFAIL, REFUSED: try again later
        - DnsPermError                          CNAME loop, too many hops, malformed answer
      + RecordSyntaxError (also ValueError)     a DKIM key or DMARC record is malformed
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import attrs

__all__ = [
    "ConfigFileError",
    "ConfigProblem",
    "ConfigurationError",
    "DnsError",
    "DnsPermError",
    "DnsTempError",
    "FromHeaderError",
    "KeyEncryptionError",
    "KeyLoadError",
    "KeyRingError",
    "KeyStoreError",
    "MessageFormatError",
    "MessageLimitError",
    "MessageProblem",
    "NoActiveKeyError",
    "OxDkimError",
    "PolicyError",
    "RecordSyntaxError",
    "RefusedDecision",
    "RolloverRefusal",
    "SigningError",
    "SigningRefusedError",
    "StoreUnavailableError",
    "WeakKeyError",
]


class OxDkimError(Exception):
    """Base class of every exception oxdkim raises on purpose."""


class ConfigurationError(OxDkimError, ValueError):
    """An argument used to build a signer, policy, key ring or limit is invalid."""


@attrs.frozen
class ConfigProblem:
    """One problem in a configuration file: where (a dotted path) and what."""

    place: str
    message: str

    def __str__(self) -> str:
        return f"{self.place}: {self.message}"


class ConfigFileError(ConfigurationError):
    """A configuration file has problems; ``problems`` lists every one with its place."""

    def __init__(self, path: str, problems: Sequence[ConfigProblem]) -> None:
        lines = "\n".join(f"  {problem}" for problem in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{path}: {len(problems)} {noun}:\n{lines}")
        self.path = path
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)


class NoActiveKeyError(ConfigurationError):
    """A key ring has no slot that may sign right now."""


class KeyLoadError(OxDkimError, ValueError):
    """
    A private key cannot be used: unreadable, wrong type, mismatched or unsafe.

    The message names the source (a file path, "PEM data") but never key material.
    """

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(f"{source}: {message}" if source else message)
        self.source = source


class WeakKeyError(KeyLoadError):
    """An RSA key is smaller than the minimum (1024 bits always, 2048 unless opted in)."""

    def __init__(self, bits: int, minimum: int, *, source: str | None = None) -> None:
        super().__init__(
            f"RSA key has {bits} bits; the minimum is {minimum} (RFC 8301)", source=source
        )
        self.bits = bits
        self.minimum = minimum


class MessageProblem(enum.Enum):
    """Why a message was refused, as a stable machine-readable code."""

    NUL_BYTE = "nul-byte"
    BARE_CR = "bare-cr"
    NO_COLON = "no-colon"
    BAD_FIELD_NAME = "bad-field-name"
    LEADING_CONTINUATION = "leading-continuation"
    EMPTY = "empty"
    NO_FROM = "no-from"
    MULTIPLE_FROM = "multiple-from"
    MULTIPLE_ADDRESSES = "multiple-addresses"
    NO_ADDRESS = "no-address"
    GROUP = "group"
    ROUTE = "route"
    ENCODED_WORD = "encoded-word"
    BAD_ADDRESS = "bad-address"
    BAD_DOMAIN = "bad-domain"
    DOMAIN_LITERAL = "domain-literal"
    TOO_LARGE = "too-large"


class MessageFormatError(OxDkimError, ValueError):
    """The bytes are not an RFC 5322 message that oxdkim will sign."""

    def __init__(self, message: str, *, problem: MessageProblem) -> None:
        super().__init__(message)
        self.problem = problem


class FromHeaderError(MessageFormatError):
    """The From field is missing, repeated, or does not plainly name one mailbox."""


class MessageLimitError(MessageFormatError):
    """The message exceeds a configured limit (header size, field count, ...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, problem=MessageProblem.TOO_LARGE)


class PolicyError(OxDkimError):
    """A signing policy could not produce signatures."""


class RefusedDecision(Protocol):
    """
    What a refusal carries: the policy that decided and why (a
    :class:`~oxdkim.SigningDecision` without signatures). A protocol here, so that the
    exceptions, which every module imports, import none of them.
    """

    @property
    def policy(self) -> str:
        """The deciding policy's name."""

    @property
    def reason(self) -> str:
        """Why it did not sign."""


class SigningRefusedError(PolicyError):
    """The policy decided not to sign this message; ``decision`` says which policy and why."""

    def __init__(self, decision: RefusedDecision) -> None:
        super().__init__(f"{decision.policy}: {decision.reason}")
        self.decision = decision


class SigningError(OxDkimError):
    """The cryptographic backend failed to sign; the original exception is ``__cause__``."""


class RolloverRefusal(enum.Enum):
    """Why a rollover step was refused, as a stable machine-readable code."""

    SLOT_BUSY = "slot-busy"
    WRONG_ALGORITHM = "wrong-algorithm"
    NOT_STAGED = "not-staged"
    NOT_PUBLISHED = "not-published"
    NO_KEY_HOST = "no-key-host"
    DNS_MISSING = "dns-missing"
    DNS_MISMATCH = "dns-mismatch"
    DNS_AMBIGUOUS = "dns-ambiguous"
    CACHE_WAIT = "cache-wait"
    ALREADY_ACTIVE = "already-active"
    NOT_SIGNING = "not-signing"
    RETENTION = "retention"
    NO_ACTIVE_LEFT = "no-active-left"
    NOTHING_TO_REVOKE = "nothing-to-revoke"
    WOULD_REPLACE = "would-replace"


class KeyRingError(OxDkimError):
    """
    A rollover step was refused because its precondition does not hold.

    ``reason`` is the machine-readable cause; ``not_before`` says when the step will be
    allowed, when waiting is all it takes.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: RolloverRefusal,
        not_before: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.not_before = not_before


class KeyStoreError(OxDkimError):
    """Key ring state or key files cannot be read or written safely."""


class StoreUnavailableError(KeyStoreError):
    """
    The store (the PostgreSQL server) cannot be reached now: a temporary failure. A
    message that needs data not yet loaded should be retried later (an MTA: 451).
    """


class KeyEncryptionError(KeyStoreError):
    """
    The key-encryption key does not open the stored private keys (a wrong or missing
    key-encryption key, or a sealed key moved to another row). Nothing was written.
    """


class DnsError(OxDkimError):
    """A DNS lookup failed; ``name`` is the queried name."""

    def __init__(self, message: str, *, name: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


class DnsTempError(DnsError):
    """The answer is unknowable right now (timeout, SERVFAIL, REFUSED): retry later."""


class DnsPermError(DnsError):
    """The answer is permanently unusable (CNAME loop, too many hops, malformed data)."""


class RecordSyntaxError(OxDkimError, ValueError):
    """A DKIM key record, DKIM-Signature tag list or DMARC record is malformed."""

    def __init__(self, message: str, *, tag: str | None = None) -> None:
        super().__init__(message)
        self.tag = tag
