"""
DKIM verification (RFC 6376 §6) of every DKIM-Signature field in a message.

The work is split the way dnspython splits ``_Resolution`` from I/O: a pure core plans
the DNS questions (after every check that needs no DNS, so a bad ``d=`` or ``s=`` never
causes a query) and then finishes from the answers. :class:`Verifier` and
:class:`AsyncVerifier` differ only in how they ask those questions.

Canonicalization is the signer's own (:mod:`oxdkim._dkim.canon`). The body is canonicalized
once per body algorithm and hashed once per distinct ``(c=, l=)``; each distinct key name
is queried once and its record parsed once.

Results use the RFC 8601 words. The mapping from reason to result, a choice where
RFC 6376 says only "PERMFAIL", is:

* ``fail``: the signature was checked and did not hold: body hash mismatch, bad
  signature, expired (``x=`` in the past).
* ``policy``: acceptable to RFC 6376 but not to this verifier's configuration: RSA key
  below the minimum, ``l=`` present, ``t=`` in the future beyond the allowed clock skew,
  a header block over the configured limits.
* ``permerror``: the signature or key cannot be evaluated and never will: syntax,
  missing tags, unknown or historic (``rsa-sha1``, RFC 8301) algorithm, From not signed,
  ``i=`` outside ``d=``, no key, several keys, revoked key, key ``h=``/``k=``/``s=``/``t=s``
  that do not fit the signature.
* ``temperror``: DNS could not answer now; never ``fail``.
* ``neutral``: not evaluated, because the message has more signatures than the bound.

Every byte string gets an answer, never an exception: a message whose header block
cannot be read even leniently (a line without a colon, a continuation line first, NUL
in the header) gets one ``permerror`` / ``malformed-message`` result, since no signature
in it can be found; one whose header block exceeds the configured limits gets one
``policy`` / ``message-too-large``; an empty message (nothing but whitespace) has no
signature and gets no result (``dkim=none``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import hashlib
import hmac
import re
from collections.abc import Generator, Mapping
from datetime import timedelta
from typing import Generic, TypeVar

import attrs
from cryptography.hazmat.primitives.asymmetric import rsa

from .._base.answers import TxtAnswer
from .._base.clock import checked_time, utc_now
from .._base.domains import DomainSyntaxError, is_subdomain, normalize_domain, normalize_selector
from .._base.sansio import drive, drive_async
from .._dkim.canon import (
    Canon,
    Canonicalization,
    body_hash,
    canonicalize_body,
    canonicalize_headers,
)
from .._dkim.crypto import RSA_ABSOLUTE_MIN_BITS, Algorithm
from .._dkim.keyrecord import KeyRecord, key_records, parse_key_record_cached
from .._dkim.message import DEFAULT_LIMITS, HeaderField, MessageLimits, parse_message, preview
from .._dkim.tags import TagList, compact, parse_tag_list, split_list
from ..exceptions import (
    ConfigurationError,
    DnsError,
    DnsTempError,
    MessageFormatError,
    MessageProblem,
    RecordSyntaxError,
)
from ..typing import AsyncResolver, Clock, Resolver

_REQUIRED_TAGS = ("v", "a", "b", "bh", "d", "h", "s")
_DIGITS = re.compile(rb"\A[0-9]{1,12}\Z")
_LENGTH = re.compile(rb"\A[0-9]{1,76}\Z")
_TOKEN = re.compile(r"\A[a-z0-9][a-z0-9-]{0,31}\Z")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")
# h=: field names (RFC 5322 ftext) separated by colons with FWS around them (§3.5).
# Possessive repeats: names, colons and whitespace never overlap, and a plain ``*`` over
# the group keeps backtracking state per name (110 MB for a 1 MB h= of "a:a:...").
_H_LIST = re.compile(
    rb"\A[\x21-\x39\x3b-\x7e]++(?:[ \t\r\n]*+:[ \t\r\n]*+[\x21-\x39\x3b-\x7e]++)*+\Z"
)
_MAX_NAME = 253
_R = TypeVar("_R", Resolver, AsyncResolver)
_SIMPLE = Canonicalization(Canon.SIMPLE, Canon.SIMPLE)

DEFAULT_CLOCK_SKEW = timedelta(minutes=5)
"""Tolerance for ``t=``/``x=``: OpenDKIM's default ClockDrift (see :class:`Verifier`)."""
DEFAULT_MAX_SIGNATURES = 10
"""Signatures evaluated per message by default; the rest are ``not-evaluated``."""


class DkimResult(enum.Enum):
    """
    A DKIM verification result, valued by its RFC 8601 §2.7.1 token.

    ``none`` describes a message without signatures; a signature never gets it.
    """

    NONE = "none"
    PASS = "pass"  # noqa: S105
    FAIL = "fail"
    POLICY = "policy"
    NEUTRAL = "neutral"
    TEMPERROR = "temperror"
    PERMERROR = "permerror"


class DkimReason(enum.Enum):
    """Why a signature did not pass, as a stable machine-readable code."""

    BODY_HASH_MISMATCH = "body-hash-mismatch"
    BAD_SIGNATURE = "bad-signature"
    EXPIRED = "signature-expired"
    KEY_TOO_SMALL = "key-too-small"
    BODY_LENGTH = "body-length-limit"
    TIMESTAMP_IN_FUTURE = "timestamp-in-future"
    MALFORMED_SIGNATURE = "malformed-signature"
    MISSING_TAG = "missing-tag"
    UNSUPPORTED_VERSION = "unsupported-version"
    RSA_SHA1 = "rsa-sha1"
    UNKNOWN_ALGORITHM = "unknown-algorithm"
    UNSUPPORTED_QUERY_METHOD = "unsupported-query-method"
    INVALID_DOMAIN = "invalid-domain"
    INVALID_SELECTOR = "invalid-selector"
    FROM_NOT_SIGNED = "from-not-signed"
    AUID_OUTSIDE_DOMAIN = "auid-outside-domain"
    EXPIRY_BEFORE_TIMESTAMP = "expiry-before-timestamp"
    NO_KEY = "no-key"
    MULTIPLE_KEYS = "multiple-key-records"
    MALFORMED_KEY = "malformed-key-record"
    KEY_REVOKED = "key-revoked"
    KEY_HASH_MISMATCH = "key-hash-mismatch"
    KEY_TYPE_MISMATCH = "key-type-mismatch"
    KEY_SERVICE_MISMATCH = "key-service-mismatch"
    KEY_STRICT_AUID = "key-strict-auid"
    DNS_PERMANENT = "dns-permanent-failure"
    DNS_TEMPORARY = "dns-temporary-failure"
    NOT_EVALUATED = "not-evaluated"
    MALFORMED_MESSAGE = "malformed-message"
    MESSAGE_TOO_LARGE = "message-too-large"

    @property
    def result(self) -> DkimResult:
        """The RFC 8601 result this reason gives (see the module docstring)."""
        return _RESULT_OF.get(self, DkimResult.PERMERROR)

    @property
    def phrase(self) -> str:
        """A fixed, short English phrase; safe to put in an Authentication-Results field."""
        return self.value.replace("-", " ")


_RESULT_OF = {
    DkimReason.BODY_HASH_MISMATCH: DkimResult.FAIL,
    DkimReason.BAD_SIGNATURE: DkimResult.FAIL,
    DkimReason.EXPIRED: DkimResult.FAIL,
    DkimReason.KEY_TOO_SMALL: DkimResult.POLICY,
    DkimReason.BODY_LENGTH: DkimResult.POLICY,
    DkimReason.TIMESTAMP_IN_FUTURE: DkimResult.POLICY,
    DkimReason.DNS_TEMPORARY: DkimResult.TEMPERROR,
    DkimReason.NOT_EVALUATED: DkimResult.NEUTRAL,
    DkimReason.MESSAGE_TOO_LARGE: DkimResult.POLICY,
}


@attrs.frozen
class VerifyResult:
    """
    The verdict on one DKIM-Signature field.

    Attributes:
        result: The RFC 8601 result.
        reason: Why it did not pass; ``None`` for ``pass``.
        message: A sentence for people (logs, the CLI); may quote message content.
        index: Position of the field among the message's DKIM-Signature fields, top first.
        domain: The signing domain ``d=`` (normalized), when it is valid.
        selector: The selector ``s=`` (normalized), when it is valid.
        algorithm: The ``a=`` token (lowercase), when it is a plausible token.
        auid: The AUID (``i=``, default ``@`` + ``d=``), when it is valid.
        testing: The key record says ``t=y``: the domain is testing DKIM.
        key_bits: Size of the key used, when one was fetched.
        body_length: The ``l=`` value, when present.
        signature_b64: The ``b=`` value without whitespace (for ``header.b``).
    """

    result: DkimResult
    reason: DkimReason | None
    message: str
    index: int = 0
    domain: str | None = None
    selector: str | None = None
    algorithm: str | None = None
    auid: str | None = None
    testing: bool = False
    key_bits: int | None = None
    body_length: int | None = None
    signature_b64: str | None = attrs.field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        """True for ``pass``."""
        return self.result is DkimResult.PASS


class _Sig:
    """One DKIM-Signature that passed every check that needs no DNS."""

    __slots__ = (
        "algorithm",
        "auid",
        "auid_domain",
        "b",
        "b64",
        "bh",
        "body_length",
        "canon",
        "domain",
        "field",
        "headers",
        "index",
        "qname",
        "selector",
        "stripped",
    )

    def __init__(self, index: int, field: HeaderField) -> None:
        self.index = index
        self.field = field
        self.domain: str | None = None
        self.selector: str | None = None
        self.algorithm: Algorithm | None = None
        self.auid: str | None = None
        self.auid_domain = ""
        self.canon = _SIMPLE  # the c= default (RFC 6376 §3.5)
        self.headers: list[bytes] = []
        self.bh = b""
        self.b = b""
        self.b64: str | None = None
        self.body_length: int | None = None
        self.qname = ""
        self.stripped = b""


class _CheckError(Exception):
    """Internal: a check failed; carries the reason and the sentence."""

    def __init__(self, reason: DkimReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@attrs.frozen
class _Pending:
    """What the checks need DNS for, and the results that are already final."""

    entries: tuple[VerifyResult | _Sig, ...]
    queries: tuple[str, ...]
    fields: tuple[HeaderField, ...]
    body: bytes


def _b64(value: bytes, tag: str) -> tuple[bytes, str]:
    """Decode a base64 tag value with FWS inside; return the bytes and the compact text."""
    text = compact(value)
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _CheckError(DkimReason.MALFORMED_SIGNATURE, f"{tag}= is not valid base64") from None
    if not decoded:
        raise _CheckError(DkimReason.MALFORMED_SIGNATURE, f"{tag}= is empty")
    return decoded, text.decode("ascii")


def _number(tags: TagList, tag: str, pattern: re.Pattern[bytes] = _DIGITS) -> int | None:
    if tag not in tags:
        return None
    value = tags[tag]
    if not pattern.match(value):
        raise _CheckError(
            DkimReason.MALFORMED_SIGNATURE, f"{tag}= is not a decimal number: {preview(value)}"
        )
    return int(value)


def _parse_auid(value: bytes, domain: str) -> tuple[str, str]:
    """Decode ``i=`` (dkim-quoted-printable, RFC 6376 §2.11); return (AUID, its domain)."""
    raw = compact(value)
    if b"=" in _QP_HEX.sub(b"", raw):
        raise _CheckError(
            DkimReason.MALFORMED_SIGNATURE, f"i= has a bad quoted-printable escape: {preview(raw)}"
        )
    decoded = _QP_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    local, at, host = decoded.rpartition(b"@")
    if not at or any(b < 0x21 or b == 0x7F for b in local):
        raise _CheckError(DkimReason.MALFORMED_SIGNATURE, f"i= is not an identity: {preview(raw)}")
    try:
        auid_domain = normalize_domain(host)
        text_local = local.decode("utf-8")
    except (DomainSyntaxError, UnicodeDecodeError) as exc:
        raise _CheckError(
            DkimReason.MALFORMED_SIGNATURE, f"i= has an invalid domain: {exc}"
        ) from None
    if not is_subdomain(auid_domain, domain):
        raise _CheckError(
            DkimReason.AUID_OUTSIDE_DOMAIN,
            f"i= domain {auid_domain} is not d={domain} or below it (RFC 6376 §3.5)",
        )
    return f"{text_local}@{auid_domain}", auid_domain


def _strip_b(field: HeaderField, tags: TagList, value_start: int) -> bytes:
    """The field with the ``b=`` value and the whitespace around it removed (§3.7)."""
    start, end = tags.value_span("b")
    raw = field.raw
    return raw[: value_start + start] + raw[value_start + end :]


def _fields_index(
    fields: tuple[HeaderField, ...], names: set[bytes]
) -> dict[bytes, list[HeaderField]]:
    """The fields called one of ``names``, grouped by lowercase name, in message order."""
    index: dict[bytes, list[HeaderField]] = {}
    for field in fields:
        key = field.name.lower()
        if key in names:
            index.setdefault(key, []).append(field)
    return index


class _Core:
    """The verification logic without I/O, shared by the sync and async verifiers."""

    def __init__(
        self,
        *,
        clock: Clock,
        clock_skew: timedelta,
        max_signatures: int,
        min_rsa_bits: int,
        allow_body_length: bool,
        limits: MessageLimits,
    ) -> None:
        if max_signatures < 1:
            raise ConfigurationError("max_signatures must be at least 1")
        if min_rsa_bits < RSA_ABSOLUTE_MIN_BITS:
            raise ConfigurationError(
                f"min_rsa_bits={min_rsa_bits} is below the RFC 8301 floor of "
                f"{RSA_ABSOLUTE_MIN_BITS}"
            )
        if clock_skew < timedelta(0):
            raise ConfigurationError("clock_skew must not be negative")
        self.clock = clock
        self.skew = int(clock_skew.total_seconds())
        self.max_signatures = max_signatures
        self.min_rsa_bits = min_rsa_bits
        self.allow_body_length = allow_body_length
        self.limits = limits

    # -- before DNS -----------------------------------------------------------------

    def plan(
        self, message: bytes
    ) -> Generator[tuple[str, ...], Mapping[str, TxtAnswer | DnsError], tuple[VerifyResult, ...]]:
        """
        The verification as a sans-I/O plan: it yields the key names to look up, all at
        once (the async driver asks them concurrently), and returns the results.
        """
        pending = self.prepare(message)
        answers = (yield pending.queries) if pending.queries else {}
        return self.finish(pending, answers)

    def prepare(self, message: bytes) -> _Pending:
        try:
            parsed = parse_message(message, self.limits, lenient=True)
        except MessageFormatError as exc:
            return _Pending(_unreadable(exc), (), (), b"")
        now = int(
            checked_time(self.clock(), "the verifier's clock returned a time that").timestamp()
        )
        entries: list[VerifyResult | _Sig] = []
        queries: dict[str, None] = {}
        signatures = [f for f in parsed.fields if f.name.lower() == b"dkim-signature"]
        for index, field in enumerate(signatures):
            if index >= self.max_signatures:
                entries.append(
                    VerifyResult(
                        DkimResult.NEUTRAL,
                        DkimReason.NOT_EVALUATED,
                        f"not evaluated: only the first {self.max_signatures} signatures are",
                        index=index,
                    )
                )
                continue
            sig = _Sig(index, field)
            try:
                self._check_signature(sig, now)
            except _CheckError as problem:
                entries.append(self._result(sig, problem.reason, problem.message))
                continue
            entries.append(sig)
            queries[sig.qname] = None
        return _Pending(tuple(entries), tuple(queries), parsed.fields, parsed.body)

    def _check_signature(self, sig: _Sig, now: int) -> None:
        """RFC 6376 §6.1.1: everything that can be judged from the field alone."""
        raw = sig.field.raw
        value_start = raw.index(b":") + 1
        try:
            tags = parse_tag_list(raw[value_start:-2], utf8=True, what="DKIM-Signature")
        except RecordSyntaxError as exc:
            raise _CheckError(DkimReason.MALFORMED_SIGNATURE, str(exc)) from None
        # d= and s= first, so every later result can name them.
        if "d" in tags:
            try:
                sig.domain = normalize_domain(tags["d"])
            except DomainSyntaxError as exc:
                raise _CheckError(DkimReason.INVALID_DOMAIN, f"d= is not a domain: {exc}") from None
        if "s" in tags:
            try:
                sig.selector = normalize_selector(tags["s"].decode("utf-8", "replace"))
            except DomainSyntaxError as exc:
                raise _CheckError(
                    DkimReason.INVALID_SELECTOR, f"s= is not a selector: {exc}"
                ) from None
        if "b" in tags:
            sig.b, sig.b64 = _b64(tags["b"], "b")
        missing = [t for t in _REQUIRED_TAGS if t not in tags]
        if missing:
            names = ", ".join(f"{t}=" for t in missing)
            raise _CheckError(DkimReason.MISSING_TAG, f"required tag missing: {names}")
        if tags["v"] != b"1":
            raise _CheckError(
                DkimReason.UNSUPPORTED_VERSION, f"unsupported version v={preview(tags['v'])}"
            )
        assert sig.domain is not None
        assert sig.selector is not None
        a_value = tags["a"].decode("ascii", "replace").lower()
        if a_value == "rsa-sha1":
            raise _CheckError(
                DkimReason.RSA_SHA1, "a=rsa-sha1 is historic and never verified (RFC 8301 §3.1)"
            )
        try:
            sig.algorithm = Algorithm(a_value)
        except ValueError:
            raise _CheckError(
                DkimReason.UNKNOWN_ALGORITHM, f"unknown algorithm a={preview(tags['a'])}"
            ) from None
        if "c" in tags:
            try:
                sig.canon = Canonicalization.parse(tags["c"].decode("ascii", "replace"))
            except ConfigurationError:
                raise _CheckError(
                    DkimReason.MALFORMED_SIGNATURE,
                    f"unknown canonicalization c={preview(tags['c'])}",
                ) from None
        if "q" in tags and b"dns/txt" not in [q.lower() for q in split_list(tags["q"])]:
            raise _CheckError(
                DkimReason.UNSUPPORTED_QUERY_METHOD,
                f"q={preview(tags['q'])} does not offer dns/txt",
            )
        if not _H_LIST.match(tags["h"]):
            raise _CheckError(
                DkimReason.MALFORMED_SIGNATURE,
                f"h= is not a list of field names: {preview(tags['h'])}",
            )
        headers = compact(tags["h"]).lower().split(b":")
        if b"from" not in headers:
            raise _CheckError(
                DkimReason.FROM_NOT_SIGNED, "h= does not include From (RFC 6376 §6.1.1)"
            )
        sig.headers = headers
        if "i" in tags:
            sig.auid, sig.auid_domain = _parse_auid(tags["i"], sig.domain)
        else:
            sig.auid, sig.auid_domain = f"@{sig.domain}", sig.domain
        sig.bh, _ = _b64(tags["bh"], "bh")
        sig.body_length = _number(tags, "l", _LENGTH)
        timestamp = _number(tags, "t")
        expires = _number(tags, "x")
        if timestamp is not None and expires is not None and expires <= timestamp:
            raise _CheckError(
                DkimReason.EXPIRY_BEFORE_TIMESTAMP,
                f"x={expires} is not after t={timestamp} (RFC 6376 §3.5)",
            )
        if timestamp is not None and timestamp > now + self.skew:
            raise _CheckError(
                DkimReason.TIMESTAMP_IN_FUTURE,
                f"t={timestamp} is {timestamp - now} s in the future "
                f"(more than the allowed {self.skew} s clock skew)",
            )
        if expires is not None and now > expires + self.skew:
            raise _CheckError(
                DkimReason.EXPIRED, f"the signature expired {now - expires} s ago (x={expires})"
            )
        qname = f"{sig.selector}._domainkey.{sig.domain}"
        if len(qname) > _MAX_NAME:
            raise _CheckError(
                DkimReason.INVALID_SELECTOR, f"the key name is longer than {_MAX_NAME} characters"
            )
        sig.qname = qname
        sig.stripped = _strip_b(sig.field, tags, value_start)

    # -- after DNS ------------------------------------------------------------------

    def finish(
        self, pending: _Pending, answers: Mapping[str, TxtAnswer | DnsError]
    ) -> tuple[VerifyResult, ...]:
        keys: dict[str, KeyRecord | _CheckError] = {}
        bodies: dict[Canon, bytes] = {}
        digests: dict[tuple[Canon, int | None], bytes | None] = {}
        index = _fields_index(
            pending.fields, {n for e in pending.entries if isinstance(e, _Sig) for n in e.headers}
        )
        results: list[VerifyResult] = []
        for entry in pending.entries:
            if isinstance(entry, VerifyResult):
                results.append(entry)
                continue
            key = keys.get(entry.qname)
            if key is None:
                key = keys[entry.qname] = self._key(entry.qname, answers[entry.qname])
            if isinstance(key, _CheckError):
                results.append(self._result(entry, key.reason, key.message))
                continue
            try:
                self._check_key(entry, key)
                self._check_body(entry, pending.body, bodies, digests)
                self._check_headers(entry, key, index)
            except _CheckError as problem:
                results.append(self._result(entry, problem.reason, problem.message, key))
                continue
            if entry.body_length is not None and not self.allow_body_length:
                results.append(
                    self._result(
                        entry,
                        DkimReason.BODY_LENGTH,
                        f"the signature verified but covers only the first {entry.body_length} "
                        "body bytes (l=); content may have been appended",
                        key,
                    )
                )
                continue
            results.append(self._result(entry, None, "signature verified", key))
        return tuple(results)

    @staticmethod
    def _key(qname: str, answer: TxtAnswer | DnsError) -> KeyRecord | _CheckError:
        """RFC 6376 §6.1.2 steps 1-5: one DNS answer -> a parsed key record or a problem."""
        if isinstance(answer, DnsTempError):
            return _CheckError(DkimReason.DNS_TEMPORARY, f"DNS temporary failure for {qname}")
        if isinstance(answer, DnsError):
            return _CheckError(
                DkimReason.DNS_PERMANENT, f"DNS answer for {qname} is unusable: {answer}"
            )
        records = key_records(answer.records)
        if not records:
            found = f"{answer.status.value}" if not answer.records else "only non-DKIM TXT"
            return _CheckError(DkimReason.NO_KEY, f"no key record at {qname} ({found})")
        if len(records) > 1:
            return _CheckError(
                DkimReason.MULTIPLE_KEYS,
                f"{len(records)} DKIM key records at {qname}; a key name must hold one",
            )
        try:
            return parse_key_record_cached(records[0])
        except RecordSyntaxError as exc:
            return _CheckError(DkimReason.MALFORMED_KEY, f"key record at {qname}: {exc}")

    def _check_key(self, sig: _Sig, key: KeyRecord) -> None:
        """RFC 6376 §6.1.2 steps 6-9, RFC 8301 key size, and the key's t=s flag."""
        assert sig.algorithm is not None
        if key.hashes is not None and "sha256" not in key.hashes:
            raise _CheckError(
                DkimReason.KEY_HASH_MISMATCH,
                f"the key record allows only h={':'.join(key.hashes)}, not sha256",
            )
        if not key.allows_email:
            raise _CheckError(
                DkimReason.KEY_SERVICE_MISMATCH,
                f"the key record is for s={':'.join(key.services)}, not email",
            )
        if key.revoked:
            raise _CheckError(DkimReason.KEY_REVOKED, "the key has been revoked (empty p=)")
        if key.key_type != sig.algorithm.key_type or key.public_key is None:
            raise _CheckError(
                DkimReason.KEY_TYPE_MISMATCH,
                f"a={sig.algorithm.value} needs a k={sig.algorithm.key_type} key, "
                f"the record has k={key.key_type}",
            )
        if key.strict and sig.auid_domain != sig.domain:
            raise _CheckError(
                DkimReason.KEY_STRICT_AUID,
                f"the key has t=s but the i= domain {sig.auid_domain} is not d={sig.domain}",
            )
        if isinstance(key.public_key, rsa.RSAPublicKey) and (
            key.public_key.key_size < self.min_rsa_bits
        ):
            raise _CheckError(
                DkimReason.KEY_TOO_SMALL,
                f"RSA key of {key.public_key.key_size} bits is below the minimum "
                f"of {self.min_rsa_bits} (RFC 8301 §3.2)",
            )

    @staticmethod
    def _check_body(
        sig: _Sig,
        body: bytes,
        bodies: dict[Canon, bytes],
        digests: dict[tuple[Canon, int | None], bytes | None],
    ) -> None:
        """RFC 6376 §6.1.3 body hash, computed once per (c=, l=) and shared."""
        slot = (sig.canon.body, sig.body_length)
        if slot in digests:
            digest = digests[slot]
        elif sig.body_length is None:
            digest = digests[slot] = body_hash(body, sig.canon.body)  # in bounded memory
        else:
            canonical = bodies.get(sig.canon.body)
            if canonical is None:
                canonical = bodies[sig.canon.body] = canonicalize_body(body, sig.canon.body)
            if sig.body_length <= len(canonical):
                digest = hashlib.sha256(canonical[: sig.body_length]).digest()
            else:
                digest = None
            digests[slot] = digest
        if digest is None:
            raise _CheckError(
                DkimReason.BODY_HASH_MISMATCH,
                f"l={sig.body_length} is longer than the canonical body",
            )
        if not hmac.compare_digest(digest, sig.bh):
            raise _CheckError(
                DkimReason.BODY_HASH_MISMATCH,
                "the body hash does not match bh= (the body changed after signing)",
            )

    @staticmethod
    def _check_headers(sig: _Sig, key: KeyRecord, index: dict[bytes, list[HeaderField]]) -> None:
        """RFC 6376 §5.4.2 bottom-up selection, §3.7 header hash, then the signature."""
        raws: list[bytes] = []
        used: dict[bytes, int] = {}
        for name in sig.headers:
            found = index.get(name)
            if found:
                count = used.get(name, 0)
                if count < len(found):
                    raws.append(found[-1 - count].raw)
                    used[name] = count + 1
        raws.append(sig.stripped)
        canonical = canonicalize_headers(raws, sig.canon.header)
        digest = hashlib.sha256(memoryview(canonical)[:-2]).digest()
        if not key.verify_digest(sig.b, digest):
            raise _CheckError(
                DkimReason.BAD_SIGNATURE,
                "the signature does not verify (signed header fields changed, or wrong key)",
            )

    @staticmethod
    def _result(
        sig: _Sig, reason: DkimReason | None, message: str, key: KeyRecord | None = None
    ) -> VerifyResult:
        token = sig.algorithm.value if sig.algorithm is not None else None
        return VerifyResult(
            result=DkimResult.PASS if reason is None else reason.result,
            reason=reason,
            message=message,
            index=sig.index,
            domain=sig.domain,
            selector=sig.selector,
            algorithm=token or _algorithm_token(sig.field),
            auid=sig.auid,
            testing=key.testing if key is not None else False,
            key_bits=key.bits if key is not None else None,
            body_length=sig.body_length,
            signature_b64=sig.b64,
        )


def _unreadable(problem: MessageFormatError) -> tuple[VerifyResult, ...]:
    """The results for a message whose header block cannot be read (module docstring)."""
    if problem.problem is MessageProblem.EMPTY:
        return ()
    reason = (
        DkimReason.MESSAGE_TOO_LARGE
        if problem.problem is MessageProblem.TOO_LARGE
        else DkimReason.MALFORMED_MESSAGE
    )
    return (VerifyResult(reason.result, reason, f"the message cannot be read: {problem}"),)


def _algorithm_token(field: HeaderField) -> str | None:
    """The ``a=`` token of a signature that stopped before its algorithm was known."""
    match = re.search(rb"(?:^|;)[ \t\r\n]*a[ \t\r\n]*=[ \t\r\n]*([A-Za-z0-9-]+)", field.value)
    if match is None:
        return None
    token = match.group(1).decode("ascii").lower()
    return token if _TOKEN.match(token) else None


class _VerifierBase(Generic[_R]):
    """Options and the shared core; subclasses differ only in how they ask DNS."""

    def __init__(
        self,
        resolver: _R,
        *,
        clock: Clock = utc_now,
        clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
        max_signatures: int = DEFAULT_MAX_SIGNATURES,
        min_rsa_bits: int = RSA_ABSOLUTE_MIN_BITS,
        allow_body_length: bool = False,
        limits: MessageLimits = DEFAULT_LIMITS,
    ) -> None:
        self.resolver: _R = resolver
        self._core = _Core(
            clock=clock,
            clock_skew=clock_skew,
            max_signatures=max_signatures,
            min_rsa_bits=min_rsa_bits,
            allow_body_length=allow_body_length,
            limits=limits,
        )


class Verifier(_VerifierBase[Resolver]):
    """
    Verify every DKIM-Signature of a message (RFC 6376 §6), reading keys from DNS.

    One Verifier serves any number of threads; it keeps no per-message state.

    Args:
        resolver: Answers the key queries (a caching resolver is a good idea).
        clock: Returns the current time; inject a fixed clock in tests.
        clock_skew: Tolerance for ``t=`` in the future and ``x=`` in the past. The default,
            5 minutes, is OpenDKIM's default ``ClockDrift``: hosts that keep time with NTP
            are seconds apart, and a signature cannot arrive before it was made.
        max_signatures: Signatures evaluated per message, top first; the others get
            ``neutral`` / ``not-evaluated`` without any work or query.
        min_rsa_bits: Smallest RSA key accepted (at least 1024, RFC 8301 §3.2).
        allow_body_length: Let a signature with ``l=`` pass (by default it gets
            ``policy``: anything appended after ``l=`` bytes is unsigned).
        limits: Size limits on the message's header block.

    Raises:
        ConfigurationError: An argument is out of range.
    """

    def verify(self, message: bytes) -> tuple[VerifyResult, ...]:
        """
        Verify ``message``; one result per DKIM-Signature field, in message order.

        An empty tuple means the message is not signed (``dkim=none``). Any byte string
        gets results, malformed ones included (see the module documentation).

        Raises:
            TypeError: ``message`` is not bytes, bytearray or memoryview.
            ConfigurationError: The clock returned a naive time or one out of range.
        """
        return drive(self._core.plan(message), self._ask_all)

    def _ask_all(self, names: tuple[str, ...]) -> dict[str, TxtAnswer | DnsError]:
        answers: dict[str, TxtAnswer | DnsError] = {}
        for name in names:
            try:
                answers[name] = self.resolver.txt(name)
            except DnsError as exc:
                answers[name] = exc
        return answers


class AsyncVerifier(_VerifierBase[AsyncResolver]):
    """
    The asynchronous twin of :class:`Verifier`: same options, same results.

    The distinct key names of one message are queried concurrently.
    """

    async def verify(self, message: bytes) -> tuple[VerifyResult, ...]:
        """Verify ``message``; see :meth:`Verifier.verify`."""
        return await drive_async(self._core.plan(message), self._ask_all)

    async def _ask_all(self, names: tuple[str, ...]) -> dict[str, TxtAnswer | DnsError]:
        tasks = [asyncio.ensure_future(self._ask(name)) for name in names]
        try:
            found = await asyncio.gather(*tasks)
        except BaseException:
            # The resolver raised something other than a DnsError (or we were cancelled):
            # stop the sibling lookups instead of leaving them running unowned.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return dict(zip(names, found, strict=True))

    async def _ask(self, name: str) -> TxtAnswer | DnsError:
        try:
            return await self.resolver.txt(name)
        except DnsError as exc:
            return exc


__all__ = ["AsyncVerifier", "DkimReason", "DkimResult", "Verifier", "VerifyResult"]
