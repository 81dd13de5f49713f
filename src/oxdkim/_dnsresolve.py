"""
The logic of a DNS lookup, kept apart from the I/O that feeds it.

Every resolver (in-memory, zone file, dnspython sync and async) turns one question into a
:class:`Step` and lets :class:`TxtResolution` decide what to ask next: follow a CNAME,
stop, or give up on a loop or too many hops. The chain logic is written once, like
dnspython's ``_Resolution``, so the sync and async resolvers cannot drift apart.
"""

from __future__ import annotations

import re

import attrs

from ._dnsanswers import CnameAnswer, DnsStatus, TxtAnswer
from .exceptions import DnsPermError

DEFAULT_MAX_HOPS = 8
"""CNAMEs followed for one TXT lookup before giving up (DKIM delegation needs one)."""

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
            character-strings), or ``None`` when the response holds none.
        ttl: TTL of ``records``.
        negative_ttl: RFC 2308 negative-caching TTL when the response carried an SOA.
        conclusive: The response speaks for the end of its chain. False when a server
            returned a CNAME without chasing it (its target lies in another zone):
            the target must then be asked about directly.
    """

    status: DnsStatus
    hops: tuple[Hop, ...] = ()
    records: tuple[tuple[bytes, ...], ...] | None = None
    ttl: int | None = None
    negative_ttl: int | None = None
    conclusive: bool = True


def join_txt(records: tuple[tuple[bytes, ...], ...]) -> tuple[bytes, ...]:
    """
    Join each TXT record's strings without separators, in a deterministic order.

    RFC 6376 §3.6.2.2 joins a record's character-strings with nothing between them.
    An RRset is unordered and servers rotate it, so records are sorted; the caller
    decides whether more than one record is an error (the verifier does).
    """
    return tuple(sorted(b"".join(strings) for strings in records))


def _min_ttl(*values: int | None) -> int | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


class TxtResolution:
    """
    The state of one TXT lookup that may follow a CNAME chain.

    Drive it with::

        resolution = TxtResolution(name, max_hops)
        while (query := resolution.next_query()) is not None:
            resolution.feed(ask(query))     # ask() is the only I/O
        answer = resolution.answer()
    """

    def __init__(self, name: str, max_hops: int = DEFAULT_MAX_HOPS) -> None:
        self._name = name
        self._max_hops = max_hops
        self._current: str | None = name
        self._chain: list[str] = []
        self._seen = {name}
        self._chain_ttl: int | None = None
        self._answer: TxtAnswer | None = None

    def next_query(self) -> str | None:
        """The name to ask about next, or ``None`` when the answer is known."""
        return self._current if self._answer is None else None

    def answer(self) -> TxtAnswer:
        """The final answer; only valid once :meth:`next_query` returned ``None``."""
        if self._answer is None:  # pragma: no cover - a driver bug, not an input
            raise RuntimeError("the resolution is not finished")
        return self._answer

    def feed(self, step: Step) -> None:
        """
        Take the result of asking :meth:`next_query`.

        Raises:
            DnsPermError: A CNAME loop, more than ``max_hops`` CNAMEs, or a response whose
                chain does not start at the name asked.
        """
        current = self._current
        if current is None or self._answer is not None:  # pragma: no cover - driver bug
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
            self._answer = TxtAnswer(
                name=self._name,
                status=DnsStatus.NOERROR,
                records=join_txt(step.records),
                ttl=_min_ttl(step.ttl, self._chain_ttl),
                chain=chain,
            )
        elif step.conclusive or not step.hops:
            status = DnsStatus.NXDOMAIN if step.status is DnsStatus.NXDOMAIN else DnsStatus.NODATA
            ttl = None
            if step.negative_ttl is not None:
                ttl = _min_ttl(step.negative_ttl, self._chain_ttl)
            self._answer = TxtAnswer(name=self._name, status=status, ttl=ttl, chain=chain)
        # else: a CNAME the server did not chase; ask its target next.


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
