"""
The Signer: message bytes -> policy decision -> DKIM-Signature header fields.

The body is canonicalized and hashed once per body canonicalization and shared by every
signature of the call; the header hash is per signature. Nothing here does I/O, and the
caller's bytes are never modified: the result is header fields to prepend.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from time import perf_counter
from typing import TypeVar

from .._base.clock import checked_time, utc_now
from .._base.events import Refused, Signed, emit, logger
from .._dkim.canon import (
    BARE_CR_FLAW,
    ENDS_WITH_CR,
    NUL_FLAW,
    BodyHasher,
    Canon,
    body_flaws,
    body_hash,
    canonicalize_headers,
)
from .._dkim.message import (
    DEFAULT_LIMITS,
    HeaderField,
    MessageLimits,
    detect_linesep,
    find_blank_line,
    from_domain_of,
    parse_header_block,
    parse_message,
)
from ..exceptions import (
    ConfigurationError,
    KeyLoadError,
    KeyRingError,
    KeyStoreError,
    MessageFormatError,
    MessageLimitError,
    MessageProblem,
    NoActiveKeyError,
    PolicyError,
    SigningError,
    SigningRefusedError,
)
from ..typing import Clock, Observer, SigningPolicy
from .results import SignatureSpec, SigningDecision, SigningRequest, SignResult

_MAX_LINE = 78
_B64_CHUNK = 64

_In = TypeVar("_In")
"""What is signed: a message, or its chunks."""
_Outcome = tuple[SigningRequest, tuple[SignResult, ...]]


def _fold(items: list[list[str]]) -> tuple[str, int]:
    """
    Lay tag items out on lines of at most 78 columns; return the text and the length of
    its last line. An item's first chunk follows a space (or a fold), later chunks follow
    directly (or a fold): folds go only where RFC 6376 allows FWS. ``bh=`` and ``b=``
    start lines of their own, so a relay that refolds the field cannot move them.
    """
    lines: list[str] = []
    current = "DKIM-Signature:"
    for item in items:
        own_line = item[0].startswith(("bh=", "b="))
        for index, chunk in enumerate(item):
            sep = " " if index == 0 else ""
            too_long = len(current) + len(sep) + len(chunk) > _MAX_LINE
            if (too_long or (own_line and index == 0)) and current.strip():
                lines.append(current)
                current = " " + chunk
            else:
                current += sep + chunk
    lines.append(current)
    return "\r\n".join(lines), len(current)


_canon_text = functools.lru_cache(maxsize=64)(str)
"""``c=`` text of a canonicalization pair (a handful exist; formatting each time shows)."""


@functools.lru_cache(maxsize=1024)
def _header_names(headers: tuple[str, ...], counts: tuple[int, ...], extra: int) -> tuple[str, ...]:
    """The ``h=`` list: each protected field as often as it occurs, plus ``extra``."""
    names: list[str] = []
    for name, count in zip(headers, counts, strict=True):
        names.extend([name] * (count + extra))
    return tuple(names)


_KEYS: dict[bytes, str] = {}
"""Field name as written -> its lowercase key: a few dozen spellings cover most mail."""


def _index_fields(fields: tuple[HeaderField, ...]) -> dict[str, list[HeaderField]]:
    index: dict[str, list[HeaderField]] = {}
    keys = _KEYS
    for field in fields:
        key = keys.get(field.name)
        if key is None:
            key = field.name.decode("ascii").lower()
            if len(keys) < 4096:  # bounded: names are chosen by whoever sends mail
                keys[field.name] = key
        index.setdefault(key, []).append(field)
    return index


_T, _X, _BH, _D = "\x01", "\x02", "\x03", "\x04"  # placeholders, never in a tag value


@functools.lru_cache(maxsize=1024)
def _template(
    head: tuple[str, str, str, str | None],
    names: tuple[str, ...],
    lengths: tuple[int, int, int],
) -> tuple[str, int]:
    """
    The folded header with placeholders for ``d=``, ``t=``, ``x=`` and ``bh=``, and the
    length of its last line. Folding depends only on value lengths, so one layout serves
    every message with the same algorithm, selector and header counts, whatever its
    domain (aligned signing has thousands).
    """
    algorithm, canonicalization, selector, identity = head
    d_len, t_len, x_len = lengths
    items: list[list[str]] = [
        ["v=1;"],
        [f"a={algorithm};"],
        [f"c={canonicalization};"],
        [f"d={_D * d_len};"],
        [f"s={selector};"],
        [f"t={_T * t_len};"],
    ]
    if x_len:
        items.append([f"x={_X * x_len};"])
    if identity is not None:
        items.append([f"i={identity};"])
    h_chunks = [f"{name}:" for name in names]
    h_chunks[0] = "h=" + h_chunks[0]
    h_chunks[-1] = h_chunks[-1][:-1] + ";"
    items += [h_chunks, [f"bh={_BH * 44};"], ["b="]]
    return _fold(items)


def make_signature(
    index: dict[str, list[HeaderField]],
    spec: SignatureSpec,
    body_digest: bytes,
    timestamp: int,
    decision: SigningDecision,
    linesep: bytes = b"\r\n",
) -> SignResult:
    """Build one DKIM-Signature field for already parsed header fields and body hash."""
    headers = spec.options.headers
    present = [index.get(name, ()) for name in headers]
    names = _header_names(headers, tuple(map(len, present)), 1 if spec.options.oversign else 0)
    bh = base64.b64encode(body_digest).decode("ascii")
    expires = timestamp + spec.options.expires_in if spec.options.expires_in is not None else None
    t_text = str(timestamp)
    x_text = str(expires) if expires is not None else ""
    head = (spec.algorithm.value, _canon_text(spec.canonicalization), spec.selector, spec.identity)
    lengths = (len(spec.domain), len(t_text), len(x_text))
    template, last_line = _template(head, names, lengths)
    unsigned = (
        template.replace(_D * len(spec.domain), spec.domain)
        .replace(_T * len(t_text), t_text)
        .replace(_BH * 44, bh)
    )
    if x_text:
        unsigned = unsigned.replace(_X * len(x_text), x_text)

    # h= names each field contiguously, so "the last unused instance first" (RFC 6376
    # §5.4.2) is each field's instances in reverse message order; the signature's own
    # field comes last, without its final CRLF (§3.7).
    raws = [field.raw for found in present if found for field in reversed(found)]
    raws.append(unsigned.encode("ascii") + b"\r\n")
    canonical = canonicalize_headers(raws, spec.canonicalization.header)
    digest = hashlib.sha256(memoryview(canonical)[:-2]).digest()
    signature = base64.b64encode(spec.key.sign_digest(digest)).decode("ascii")

    pieces = []
    room = max(_MAX_LINE - last_line, 0)
    pieces.append(signature[:room])
    for start in range(room, len(signature), _B64_CHUNK):
        pieces.append(signature[start : start + _B64_CHUNK])
    header = (unsigned + "\r\n ".join(pieces) + "\r\n").encode("ascii")
    if linesep != b"\r\n":
        header = header.replace(b"\r\n", linesep)
    return SignResult(
        header=header,
        domain=spec.domain,
        selector=spec.selector,
        algorithm=spec.algorithm,
        canonicalization=spec.canonicalization,
        signed_headers=names,
        body_hash=bh,
        timestamp=timestamp,
        expires=expires,
        policy=decision.policy,
        reason=decision.reason,
        key_fingerprint=spec.key.fingerprint,
    )


class _HeaderSplitter:
    """Collect streamed chunks until the empty line that ends the header block."""

    def __init__(self, limit: int) -> None:
        self.buffer = bytearray()
        self.limit = limit
        self._scanned = 0

    def feed(self, chunk: bytes) -> tuple[int, int] | None:
        self.buffer += chunk
        data = self.buffer
        found = find_blank_line(data, max(self._scanned - 2, 0))
        if found is not None:
            return found
        self._scanned = len(data)
        # The header block ends after an LF that may be the last byte here, or the one
        # before a trailing CR: only past limit + 1 bytes is it surely too large.
        if len(data) > self.limit + 1:
            raise MessageLimitError(f"header block larger than {self.limit} bytes")
        return None


_BARE_CR = re.compile(rb"\r(?=[^\n])", re.DOTALL)


class _BodyCheck:
    """
    Refuse a body a receiver would not see as it was signed, fed as one piece or in
    chunks cut anywhere: a NUL, or a bare CR, which an MTA may turn into CRLF (RFC 6376
    §5.3) while the signature covers the CR alone.
    """

    __slots__ = ("_cr_before",)

    def __init__(self) -> None:
        self._cr_before = False  # the previous chunk ended with CR

    def feed(self, data: bytes) -> None:
        if not data:
            return
        if self._cr_before and data[0] != 0x0A:
            self._bare_cr()
        flaws = body_flaws(data)
        if flaws & NUL_FLAW and flaws & BARE_CR_FLAW:
            # The first in byte order decides, so that every chunking gives one answer.
            bare = _BARE_CR.search(data)
            if bare is not None and bare.start() < data.find(b"\0"):
                self._bare_cr()
        if flaws & NUL_FLAW:
            raise MessageFormatError("NUL byte in the body", problem=MessageProblem.NUL_BYTE)
        if flaws & BARE_CR_FLAW:
            self._bare_cr()
        self._cr_before = bool(flaws & ENDS_WITH_CR)

    def check(self, body: bytes) -> None:
        """Feed a whole body and finish."""
        self.feed(body)
        self.finish()

    def finish(self) -> None:
        if self._cr_before:
            self._bare_cr()

    @staticmethod
    def _bare_cr() -> None:
        raise MessageFormatError(
            "bare CR in the body (a CR not followed by LF): an MTA may turn it into CRLF "
            "and break the signature; convert line endings to CRLF before signing "
            "(RFC 6376 §5.3)",
            problem=MessageProblem.BARE_CR,
        )


def _as_bytes(chunk: object) -> bytes:
    """One input rule for every form: bytes, bytearray or any buffer, copied once."""
    if type(chunk) is bytes:
        return chunk
    if not isinstance(chunk, bytes | bytearray | memoryview):
        raise TypeError(f"chunks must be bytes, not {type(chunk).__name__}")
    return bytes(chunk)


class Signer:
    """
    Sign messages as a :class:`~oxdkim.typing.SigningPolicy` decides.

    One Signer serves any number of threads: it keeps no per-message state, and the
    policy's keys are parsed once, when the policy is built.

    Args:
        policy: Decides, per message, which signatures to make.
        clock: Returns the current time for ``t=``; inject a fixed clock for tests.
        limits: Size limits checked before any work.
        observer: Told of every :meth:`sign` and :meth:`sign_chunks` call: a
            :class:`~oxdkim.Signed` or a :class:`~oxdkim.Refused` event with the time
            it took (see :doc:`/observability`). Each event is also logged on the
            ``oxdkim`` logger, with or without an observer.
    """

    def __init__(
        self,
        policy: SigningPolicy,
        *,
        clock: Clock = utc_now,
        limits: MessageLimits = DEFAULT_LIMITS,
        observer: Observer | None = None,
    ) -> None:
        if observer is not None and not callable(getattr(observer, "observe", None)):
            raise ConfigurationError(
                f"observer must have an observe(event) method, not {type(observer).__name__}"
            )
        self.policy = policy
        self.clock = clock
        self.limits = limits
        self.observer = observer

    def decide(
        self, message: bytes, *, tenant: str | None = None, envelope_sender: str | None = None
    ) -> SigningDecision:
        """What the policy would do with ``message``, without signing (the body is not read)."""
        parsed = parse_message(message, self.limits)
        index = _index_fields(parsed.fields)
        return self.policy.decide(_request(index, tenant, envelope_sender, self._now()))

    def sign(
        self, message: bytes, *, tenant: str | None = None, envelope_sender: str | None = None
    ) -> tuple[SignResult, ...]:
        """
        Sign ``message`` and return one result per signature, in the policy's order.

        Raises:
            MessageFormatError: The message cannot be signed (see its ``problem``).
            SigningRefusedError: The policy decided not to sign; ``decision`` says why.
            SigningError: The crypto backend failed.
            ConfigurationError: The clock returned a naive time or one out of range.
        """
        return self._reported(self._sign, message, tenant, envelope_sender)

    def _reported(
        self,
        work: Callable[
            [_In, str | None, str | None], tuple[SigningRequest, tuple[SignResult, ...]]
        ],
        message: _In,
        tenant: str | None,
        envelope_sender: str | None,
    ) -> tuple[SignResult, ...]:
        """Run one signing and report it: a Signed event, or a Refused one and the error."""
        start = perf_counter()
        try:
            request, results = work(message, tenant, envelope_sender)
        except Exception as error:
            self._refused(error, start)
            raise
        if self.observer is not None or logger.isEnabledFor(_DEBUG):
            emit(self.observer, _signed(request, results, perf_counter() - start))
        return results

    def _sign(
        self, message: bytes, tenant: str | None, envelope_sender: str | None
    ) -> tuple[SigningRequest, tuple[SignResult, ...]]:
        parsed = parse_message(message, self.limits)
        index = _index_fields(parsed.fields)
        now = self._now()
        request = _request(index, tenant, envelope_sender, now)
        decision = self._decide(request)
        # After the header and the decision, as sign_chunks must: one order, one answer.
        if body_flaws(parsed.body):
            _BodyCheck().check(parsed.body)
        digests: dict[Canon, bytes] = {}
        for spec in decision.signatures:
            canon = spec.canonicalization.body
            if canon not in digests:  # one hash per canonicalization, however many sign
                digests[canon] = body_hash(parsed.body, canon)
        return request, _sign_all(index, parsed.linesep, decision, digests, now)

    def sign_chunks(
        self,
        chunks: Iterable[bytes],
        *,
        tenant: str | None = None,
        envelope_sender: str | None = None,
    ) -> tuple[SignResult, ...]:
        """
        Sign a message given as an iterable of byte chunks, in bounded memory.

        Only the header block is buffered; the body is canonicalized and hashed as it
        streams. The result is identical to :meth:`sign` on the joined chunks.
        """
        return self._reported(self._sign_chunks, chunks, tenant, envelope_sender)

    def _sign_chunks(
        self, chunks: Iterable[bytes], tenant: str | None, envelope_sender: str | None
    ) -> tuple[SigningRequest, tuple[SignResult, ...]]:
        splitter = _HeaderSplitter(self.limits.max_header_bytes)
        iterator = map(_as_bytes, chunks)
        found = None
        for chunk in iterator:
            found = splitter.feed(chunk)
            if found is not None:
                break
        data = bytes(splitter.buffer)
        header_end, body_start = found or (len(data), len(data))
        if header_end > self.limits.max_header_bytes:
            raise MessageLimitError(
                f"header block larger than {self.limits.max_header_bytes} bytes"
            )
        if not data.strip() and not any(chunk.strip() for chunk in iterator):
            # Only line breaks and spaces, like sign()'s "empty message". (A whitespace
            # header part that is followed by content fails below before any hashing.)
            parse_message(data, self.limits)  # raises the "empty message" error
        index = _index_fields(tuple(parse_header_block(data[:header_end], self.limits)))
        now = self._now()
        request = _request(index, tenant, envelope_sender, now)
        decision = self._decide(request)
        hashers = {
            canon: BodyHasher(canon)
            for canon in {s.canonicalization.body for s in decision.signatures}
        }
        check = _BodyCheck()
        for chunk in itertools.chain((data[body_start:],), iterator):
            check.feed(chunk)
            for hasher in hashers.values():
                hasher.update(chunk)
        check.finish()
        digests = {canon: hasher.digest() for canon, hasher in hashers.items()}
        return request, _sign_all(index, detect_linesep(data), decision, digests, now)

    def signed_message(
        self, message: bytes, *, tenant: str | None = None, envelope_sender: str | None = None
    ) -> bytes:
        """Return a new bytes object: the signature fields followed by ``message``."""
        results = self.sign(message, tenant=tenant, envelope_sender=envelope_sender)
        return b"".join(r.header for r in results) + bytes(message)

    def _now(self) -> datetime:
        """The clock's reading, checked: a naive time would give a wrong ``t=``."""
        if self.clock is utc_now:
            return utc_now()  # the library's own clock: aware and in range by construction
        return checked_time(self.clock(), "the signer's clock returned a time that")

    def _decide(self, request: SigningRequest) -> SigningDecision:
        decision = self.policy.decide(request)
        if not decision.signs:
            raise SigningRefusedError(decision)
        return decision

    def _refused(self, error: Exception, start: float) -> None:
        """Tell of a call that raises (the caller re-raises): never fails itself."""
        try:
            seconds = perf_counter() - start
            if isinstance(error, SigningRefusedError):
                policy, reason = error.decision.policy, error.decision.reason
            else:
                policy, reason = self.policy.name, _reason_text(error)
            emit(self.observer, Refused(policy, reason, _refusal_kind(error), seconds))
        except Exception:  # a broken policy name must not hide the caller's error
            logger.debug("could not report a refusal", exc_info=True)


_DEBUG = logging.DEBUG
_REASON_MAX = 300  # characters of an unexpected error's text in a Refused reason


def _signed(request: SigningRequest, results: tuple[SignResult, ...], seconds: float) -> Signed:
    """The event of one signed message; ``mode`` compares each ``d=`` with the From domain."""
    author = request.from_domain
    first = results[0]
    if len(results) == 1:  # the common case, on the hot path: no loops
        domain = first.domain
        aligned = _aligned(author, domain)
        return Signed(
            first.policy,
            "aligned" if aligned else "generic",
            (first.algorithm.value,),
            1,
            seconds,
            (domain,),
            (first.selector,),
        )
    domains = tuple(result.domain for result in results)
    aligned_count = sum(_aligned(author, domain) for domain in domains)
    mode = "aligned" if aligned_count == len(domains) else "mixed" if aligned_count else "generic"
    return Signed(
        first.policy,
        mode,
        tuple(result.algorithm.value for result in results),
        len(results),
        seconds,
        domains,
        tuple(result.selector for result in results),
    )


def _aligned(author: str, domain: str) -> bool:
    """``d=`` is the From domain, a parent of it or below it (relaxed alignment, no DNS)."""
    return author == domain or author.endswith("." + domain) or domain.endswith("." + author)


def _refusal_kind(error: Exception) -> str:
    """The bounded label of ``error`` (one of ``REFUSAL_KINDS``)."""
    if isinstance(error, MessageFormatError):
        return error.problem.value
    if isinstance(error, PolicyError):
        return "policy"
    if isinstance(error, NoActiveKeyError):
        return "no-active-key"
    if isinstance(error, KeyStoreError):
        return "store"
    if isinstance(error, KeyLoadError | KeyRingError):
        return "key"
    if isinstance(error, SigningError):
        return "signing-error"
    if isinstance(error, ConfigurationError):
        return "configuration"
    if isinstance(error, TypeError):
        return "bad-input"
    return "other"


def _reason_text(error: Exception) -> str:
    """oxdkim's own errors say why without secrets; others are shortened."""
    if isinstance(error, MessageFormatError | SigningError | ConfigurationError):
        return str(error)
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= _REASON_MAX else text[: _REASON_MAX - 3] + "..."


def _request(
    index: dict[str, list[HeaderField]],
    tenant: str | None,
    envelope_sender: str | None,
    now: datetime,
) -> SigningRequest:
    return SigningRequest(from_domain_of(index.get("from", ())), tenant, envelope_sender, now)


def _sign_all(
    index: dict[str, list[HeaderField]],
    linesep: bytes,
    decision: SigningDecision,
    digests: dict[Canon, bytes],
    now: datetime,
) -> tuple[SignResult, ...]:
    timestamp = int(now.timestamp())
    results = [
        make_signature(
            index, spec, digests[spec.canonicalization.body], timestamp, decision, linesep
        )
        for spec in decision.signatures
    ]
    return tuple(results)


__all__ = ["Signer", "make_signature"]
