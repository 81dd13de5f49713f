"""
The logic of a DNS lookup, kept apart from the I/O that feeds it.

Every resolver (in-memory, zone file, dnspython sync and async) turns one question into a
:class:`Step` and lets a :class:`Resolution` decide what to ask next: follow a CNAME,
stop, or give up on a loop or too many hops. The chain logic is written once, like
dnspython's ``_Resolution``, so the sync and async resolvers cannot drift apart, and it
is the same for every record type (TXT, MX, A, AAAA); only the last step, turning the
records found into a typed answer (:func:`txt_answer`, :func:`mx_answer`,
:func:`address_answer`), differs.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TypeAlias

import attrs

from .._base.answers import AddressAnswer, CnameAnswer, DnsStatus, MxAnswer, TxtAnswer
from ..exceptions import DnsPermError

DEFAULT_MAX_HOPS = 8
"""CNAMEs followed for one lookup before giving up (DKIM delegation needs one)."""

Record: TypeAlias = "tuple[bytes, ...] | str"
"""One record in a :class:`Step`: a TXT record's character-strings, or the presentation
text of any other type (``"10 mx.example"`` for MX, ``"192.0.2.1"`` for A)."""

_MAX_NAME = 253
_MAX_LABEL = 63
_PLAIN_LABEL = re.compile(r"[A-Za-z0-9_-]+")


def check_name(name: str) -> str:
    """
    Return ``name`` lowercased without a trailing dot, if DNS can carry it.

    Names reach the resolvers already normalized (lowercase A-labels); this check keeps
    a bad name from becoming a confusing wire-level error or, worse, a query for some
    other name: only letters, digits, ``-`` and ``_`` may form a label, so a ``\\DDD``
    escape or a ``.`` hidden in one (``x\\046y`` is the labels ``x.y`` to dnspython)
    is never asked.

    Raises:
        DnsPermError: The name is empty, not ASCII, has an empty or over-long label, a
            character other than letters, digits, ``-`` and ``_``, or is longer than 253
            characters (RFC 1035 §2.3.4).
    """
    if not isinstance(name, str):
        raise DnsPermError("the name is not a string", name=repr(name))
    text = name[:-1] if name.endswith(".") else name
    if not text or not text.isascii():
        raise DnsPermError("not a DNS name (empty or not ASCII)", name=name)
    if len(text) > _MAX_NAME:
        raise DnsPermError(f"the name is longer than {_MAX_NAME} characters", name=name)
    for label in text.split("."):
        if not label or len(label) > _MAX_LABEL:
            raise DnsPermError("a label is empty or longer than 63 characters", name=name)
        if not _PLAIN_LABEL.fullmatch(label) and label != "*":  # "*": a zone's wildcard
            raise DnsPermError(
                "a label has a character other than letters, digits, '-' and '_'", name=name
            )
    return text.lower()


@attrs.frozen
class Hop:
    """One CNAME record: ``owner`` is an alias for ``target``."""

    owner: str
    target: str
    ttl: int


@attrs.frozen
class Step:
    """
    What one DNS response (or one in-memory lookup) said about a name and a type.

    Attributes:
        status: NOERROR or NXDOMAIN for the last name of the response's chain.
        hops: CNAMEs found, in chain order, starting at the name asked.
        records: The wanted records at the end of the chain (TXT: each record's
            character-strings; other types: presentation text, see :data:`Record`), or
            ``None`` when the response holds none.
        ttl: TTL of ``records``.
        negative_ttl: RFC 2308 negative-caching TTL when the response carried an SOA.
        conclusive: The response speaks for the end of its chain. False when a server
            returned a CNAME without chasing it (its target lies in another zone):
            the target must then be asked about directly.
    """

    status: DnsStatus
    hops: tuple[Hop, ...] = ()
    records: tuple[Record, ...] | None = None
    ttl: int | None = None
    negative_ttl: int | None = None
    conclusive: bool = True


def join_txt(records: tuple[Record, ...]) -> tuple[bytes, ...]:
    """
    Join each TXT record's strings without separators, in a deterministic order.

    RFC 6376 §3.6.2.2 joins a record's character-strings with nothing between them.
    An RRset is unordered and servers rotate it, so records are sorted; the caller
    decides whether more than one record is an error (the verifier does).
    """
    return tuple(sorted(b"".join(strings) for strings in records if isinstance(strings, tuple)))


def _min_ttl(*values: int | None) -> int | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


@attrs.frozen
class Resolved:
    """
    Where a :class:`Resolution` ended: the records at the end of the chain, untyped.

    ``status`` is NOERROR only when records were found; ``ttl`` is the records' TTL (or
    the negative TTL) capped by the chain's; ``chain`` lists the CNAME targets followed.
    """

    name: str
    status: DnsStatus
    records: tuple[Record, ...] = ()
    ttl: int | None = None
    chain: tuple[str, ...] = ()


class Resolution:
    """
    The state of one lookup (of any record type) that may follow a CNAME chain.

    Drive it with::

        resolution = Resolution(name, max_hops)
        while (query := resolution.next_query()) is not None:
            resolution.feed(ask(query))     # ask() is the only I/O
        resolved = resolution.result()
    """

    def __init__(self, name: str, max_hops: int = DEFAULT_MAX_HOPS) -> None:
        self._name = name
        self._max_hops = max_hops
        self._current: str | None = name
        self._chain: list[str] = []
        self._seen = {name}
        self._chain_ttl: int | None = None
        self._result: Resolved | None = None

    def next_query(self) -> str | None:
        """The name to ask about next, or ``None`` when the answer is known."""
        return self._current if self._result is None else None

    def result(self) -> Resolved:
        """The final records; only valid once :meth:`next_query` returned ``None``."""
        if self._result is None:  # pragma: no cover - a driver bug, not an input
            raise RuntimeError("the resolution is not finished")
        return self._result

    def feed(self, step: Step) -> None:
        """
        Take the result of asking :meth:`next_query`.

        Raises:
            DnsPermError: A CNAME loop, more than ``max_hops`` CNAMEs, or a response whose
                chain does not start at the name asked.
        """
        current = self._current
        if current is None or self._result is not None:  # pragma: no cover - driver bug
            raise RuntimeError("the resolution is finished")
        for hop in step.hops:
            if hop.owner != current:
                raise DnsPermError(
                    f"malformed answer: CNAME owner {hop.owner!r} is not {current!r}",
                    name=self._name,
                )
            if hop.target in self._seen:
                raise DnsPermError(
                    f"CNAME loop: {' -> '.join([self._name, *self._chain, hop.target])}",
                    name=self._name,
                )
            if len(self._chain) >= self._max_hops:
                raise DnsPermError(
                    f"more than {self._max_hops} CNAMEs in the chain", name=self._name
                )
            self._chain.append(hop.target)
            self._seen.add(hop.target)
            self._chain_ttl = _min_ttl(self._chain_ttl, hop.ttl)
            current = hop.target
        self._current = current
        chain = tuple(self._chain)
        if step.records is not None:
            if step.status is not DnsStatus.NOERROR:
                raise DnsPermError("malformed answer: records with NXDOMAIN", name=self._name)
            self._result = Resolved(
                name=self._name,
                status=DnsStatus.NOERROR,
                records=step.records,
                ttl=_min_ttl(step.ttl, self._chain_ttl),
                chain=chain,
            )
        elif step.conclusive or not step.hops:
            status = DnsStatus.NXDOMAIN if step.status is DnsStatus.NXDOMAIN else DnsStatus.NODATA
            ttl = None
            if step.negative_ttl is not None:
                ttl = _min_ttl(step.negative_ttl, self._chain_ttl)
            self._result = Resolved(name=self._name, status=status, ttl=ttl, chain=chain)
        # else: a CNAME the server did not chase; ask its target next.


class TxtResolution(Resolution):
    """A :class:`Resolution` for TXT records, ending in a :class:`TxtAnswer`."""

    def answer(self) -> TxtAnswer:
        """The final answer; only valid once :meth:`next_query` returned ``None``."""
        return txt_answer(self.result())


def txt_answer(resolved: Resolved) -> TxtAnswer:
    """The :class:`TxtAnswer` of a finished TXT resolution (strings joined, sorted)."""
    return TxtAnswer(
        name=resolved.name,
        status=resolved.status,
        records=join_txt(resolved.records),
        ttl=resolved.ttl,
        chain=resolved.chain,
    )


def _exchange(text: str) -> tuple[int, str] | None:
    """``(preference, exchange)`` from MX presentation text, or None when malformed."""
    preference, _, exchange = text.strip().partition(" ")
    exchange = exchange.strip().lower()
    if not preference.isdigit() or int(preference) > 0xFFFF or not exchange:
        return None
    if exchange in (".", "@"):
        return int(preference), "."
    return int(preference), exchange.removesuffix(".")


def mx_answer(resolved: Resolved) -> MxAnswer:
    """
    The :class:`MxAnswer` of a finished MX resolution.

    Records are sorted by preference, then name. A record that is not MX presentation
    text (an in-memory placeholder) is left out.
    """
    records = tuple(
        sorted(
            pair
            for pair in (_exchange(r) for r in resolved.records if isinstance(r, str))
            if pair is not None
        )
    )
    status = resolved.status
    if status is DnsStatus.NOERROR and not records:
        status = DnsStatus.NODATA
    return MxAnswer(
        name=resolved.name, status=status, records=records, ttl=resolved.ttl, chain=resolved.chain
    )


def _addresses(resolved: Resolved, version: int) -> tuple[str, ...]:
    found: set[str] = set()
    for record in resolved.records:
        if not isinstance(record, str):
            continue
        try:
            address = ipaddress.ip_address(record.strip())
        except ValueError:
            continue  # an in-memory placeholder, or not an address
        if address.version == version:
            found.add(str(address))
    return tuple(sorted(found))


def address_answer(name: str, a: Resolved, aaaa: Resolved) -> AddressAnswer:
    """
    One :class:`AddressAnswer` from finished A and AAAA resolutions of ``name``.

    NOERROR when either family has an address; NXDOMAIN when either question said the
    name does not exist (and neither found an address); NODATA otherwise.
    """
    ipv4, ipv6 = _addresses(a, 4), _addresses(aaaa, 6)
    if ipv4 or ipv6:
        status = DnsStatus.NOERROR
        ttl = _min_ttl(a.ttl if ipv4 else None, aaaa.ttl if ipv6 else None)
    else:
        nx = DnsStatus.NXDOMAIN in (a.status, aaaa.status)
        status = DnsStatus.NXDOMAIN if nx else DnsStatus.NODATA
        ttl = _min_ttl(a.ttl, aaaa.ttl)
    chain = a.chain if len(a.chain) >= len(aaaa.chain) else aaaa.chain
    return AddressAnswer(name=name, status=status, ipv4=ipv4, ipv6=ipv6, ttl=ttl, chain=chain)


def cname_answer(name: str, step: Step) -> CnameAnswer:
    """
    Turn the step for a CNAME-type question into the answer for ``name`` itself.

    A name that exists with other data (a TXT published instead of a CNAME, or an empty
    non-terminal) is NODATA; a name that does not exist is NXDOMAIN.
    """
    hop = step.hops[0] if step.hops and step.hops[0].owner == name else None
    if hop is not None:
        return CnameAnswer(name=name, status=DnsStatus.NOERROR, target=hop.target, ttl=hop.ttl)
    status = DnsStatus.NXDOMAIN if step.status is DnsStatus.NXDOMAIN else DnsStatus.NODATA
    return CnameAnswer(name=name, status=status, ttl=step.negative_ttl)
