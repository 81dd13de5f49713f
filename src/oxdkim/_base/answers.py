"""
Typed DNS answers, shared by every resolver and every reader of DNS.

A missing record is an answer (``NXDOMAIN`` or ``NODATA``), never an exception; a
temporary failure is :class:`~oxdkim.exceptions.DnsTempError`.
"""

from __future__ import annotations

import enum

import attrs


class DnsStatus(enum.Enum):
    """What the DNS said about a name and type."""

    NOERROR = "noerror"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"


@attrs.frozen
class TxtAnswer:
    """
    TXT records at ``name``, after following any CNAME chain.

    Each record's character-strings are joined without separators (RFC 6376 §3.6.2.2).
    ``ttl`` is the answer's TTL, or the negative-caching TTL for NXDOMAIN/NODATA when
    known. ``chain`` lists the CNAME targets followed, in order.
    """

    name: str
    status: DnsStatus
    records: tuple[bytes, ...] = ()
    ttl: int | None = None
    chain: tuple[str, ...] = ()

    @property
    def exists(self) -> bool:
        """True when at least one record was found."""
        return self.status is DnsStatus.NOERROR and bool(self.records)


@attrs.frozen
class CnameAnswer:
    """The CNAME record at ``name`` itself (not followed)."""

    name: str
    status: DnsStatus
    target: str | None = None
    ttl: int | None = None


@attrs.frozen
class MxAnswer:
    """
    MX records at ``name``, after following any CNAME chain.

    ``records`` holds ``(preference, exchange)`` pairs sorted by preference then name,
    the exchange lowercase without a trailing dot (``"."`` for a null MX, RFC 7505).
    SPF needs their number (more than 10 is permerror, RFC 7208 §4.6.4) and the names.
    """

    name: str
    status: DnsStatus
    records: tuple[tuple[int, str], ...] = ()
    ttl: int | None = None
    chain: tuple[str, ...] = ()

    @property
    def exists(self) -> bool:
        """True when at least one record was found."""
        return self.status is DnsStatus.NOERROR and bool(self.records)

    @property
    def exchanges(self) -> tuple[str, ...]:
        """The exchange names in preference order (duplicates kept, as DNS gave them)."""
        return tuple(exchange for _, exchange in self.records)


@attrs.frozen
class AddressAnswer:
    """
    The A and AAAA records at ``name``, after following any CNAME chain.

    Two questions (A, then AAAA) make one answer: ``status`` is NOERROR when either has
    an address, NXDOMAIN when the name does not exist, NODATA otherwise. ``ttl`` is the
    lower of the two answers' TTLs. Addresses are in their canonical text form, sorted.
    """

    name: str
    status: DnsStatus
    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()
    ttl: int | None = None
    chain: tuple[str, ...] = ()

    @property
    def exists(self) -> bool:
        """True when at least one address of either family was found."""
        return self.status is DnsStatus.NOERROR and bool(self.ipv4 or self.ipv6)
