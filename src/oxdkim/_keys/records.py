"""
DNS records as text: TXT values split into character-strings, and zone-file lines.

The zone-file form is the RFC 1035 master format, the common currency of DNS operators:
what oxdkim renders, dnspython (and any DNS server) can load.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import attrs

from .._dkim.crypto import SigningKey
from ..exceptions import ConfigurationError
from .ringstate import RingSnapshot

MAX_STRING = 255


def split_txt(value: str, size: int = MAX_STRING) -> tuple[str, ...]:
    """
    Split a TXT value into character-strings of at most ``size`` bytes.

    Verifiers join them without separators (RFC 6376 §3.6.2.2), so splits may fall
    anywhere; they are placed before ``p=`` when that keeps the head readable.
    """
    if not 1 <= size <= MAX_STRING:
        raise ValueError(f"TXT character-strings hold 1 to {MAX_STRING} bytes")
    if len(value) <= size:
        return (value,)
    head, sep, key = value.partition("p=")
    parts = [head] if sep and head and len(head) <= size else []
    rest = sep + key if parts else value
    return (*parts, *(rest[i : i + size] for i in range(0, len(rest), size)))


def quote(string: str) -> str:
    """One character-string in master-file syntax (RFC 1035 §5.1)."""
    return '"' + string.replace("\\", "\\\\").replace('"', '\\"') + '"'


@attrs.frozen
class DnsRecord:
    """One resource record to publish: absolute ``name`` (no trailing dot), type, data."""

    name: str
    rtype: str
    value: str
    ttl: int = 3600
    comment: str | None = None

    def strings(self) -> tuple[str, ...]:
        """TXT character-strings (for TXT records)."""
        return split_txt(self.value)

    def zone_line(self) -> str:
        """The record as one master-file line with an absolute owner name."""
        if self.rtype == "TXT":
            rdata = " ".join(quote(s) for s in self.strings())
        elif self.rtype == "CNAME":
            rdata = self.value.rstrip(".") + "."
        else:
            rdata = self.value
        line = f"{self.name}.\t{self.ttl}\tIN\t{self.rtype}\t{rdata}"
        return f"{line}\t; {self.comment}" if self.comment else line

    def as_json(self) -> dict[str, object]:
        """A JSON-ready mapping; TXT records also carry their split strings."""
        data: dict[str, object] = {
            "name": self.name,
            "type": self.rtype,
            "ttl": self.ttl,
            "value": self.value,
        }
        if self.rtype == "TXT":
            data["strings"] = list(self.strings())
        if self.comment:
            data["comment"] = self.comment
        return data


def key_record_name(selector: str, domain: str) -> str:
    """Where a key record lives: ``<selector>._domainkey.<domain>`` (RFC 6376 §3.6.2.1)."""
    return f"{selector}._domainkey.{domain}"


def render_zone(records: list[DnsRecord] | tuple[DnsRecord, ...], *, header: str = "") -> str:
    """A zone-file fragment with absolute names (loadable after ``$ORIGIN .``)."""
    lines = [f"; {line}" if line else ";" for line in header.splitlines()]
    lines += [record.zone_line() for record in records]
    return "\n".join(lines) + "\n"


def ring_records(snapshot: RingSnapshot, *, ttl: int | None = None) -> list[DnsRecord]:
    """
    The TXT records at the key host for both slots of a ring (empty ``p=`` once revoked).

    ``ttl`` defaults to the ring's ``record_ttl``, the value its activation waits assume.
    """
    if snapshot.key_host is None:
        raise ConfigurationError("the ring has no key host to publish its records at")
    ttl = ttl if ttl is not None else int(snapshot.timings.record_ttl.total_seconds())
    records = []
    for slot in snapshot.slots:
        value = slot.txt_record(snapshot.algorithm)
        if value is not None:
            name = key_record_name(slot.selector, snapshot.key_host)
            records.append(DnsRecord(name, "TXT", value, ttl, f"slot {slot.state.value}"))
    return records


def delegation_records(
    domain: str, selectors: tuple[str, ...], key_host: str, *, ttl: int = 3600
) -> list[DnsRecord]:
    """The CNAMEs a customer domain publishes once: ``<s>._domainkey.<domain>`` -> key host."""
    return [
        DnsRecord(
            key_record_name(selector, domain), "CNAME", key_record_name(selector, key_host), ttl
        )
        for selector in selectors
    ]


def brand_records(
    *,
    ring: RingSnapshot | None = None,
    generic: tuple[str, str, SigningKey] | None = None,
    legacy_domains: Iterable[str] = (),
    ttl: int | None = None,
    cname_ttl: int = 3600,
) -> list[DnsRecord]:
    """
    Every record a brand needs: the generic key (``(domain, selector, key)``), the ring's
    TXT records at the key host, and two CNAMEs per legacy customer domain.
    """
    records = []
    if generic is not None:
        domain, selector, key = generic
        records.append(
            DnsRecord(key_record_name(selector, domain), "TXT", key.txt_record(), ttl or 3600)
        )
    if ring is not None:
        records += ring_records(ring, ttl=ttl)
        selectors = tuple(slot.selector for slot in ring.slots)
        for domain in legacy_domains:
            assert ring.key_host is not None
            records += delegation_records(domain, selectors, ring.key_host, ttl=cname_ttl)
    elif legacy_domains:
        raise ConfigurationError("legacy domains need a key ring to delegate to")
    return records


def records_json(records: Iterable[DnsRecord]) -> str:
    """The records as a JSON array (stable key order)."""
    return json.dumps([record.as_json() for record in records], indent=2)
