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
