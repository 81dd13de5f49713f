"""
DNS data held in memory, answering like an authoritative server would.

:class:`RecordStore` is the data (immutable once built), :class:`StoreBuilder` collects
and checks it. The resolvers over it live in :mod:`oxdkim._dns.memory`; zone-file text is
parsed by dnspython in :mod:`oxdkim._dns.zonefile`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import TypeAlias

import attrs

from .._base.answers import DnsStatus
from ..exceptions import ConfigurationError, DnsPermError
from .resolve import Hop, Step, check_name

TxtString: TypeAlias = "str | bytes"
TxtValue: TypeAlias = "str | bytes | Sequence[str | bytes | Sequence[str | bytes]]"
"""One TXT record (a string), or a list of records, each a string or a tuple of strings."""

_MAX_STRING = 255


@attrs.frozen
class RRset:
    """
    Records of one type at one name.

    ``rdatas`` holds, per record: the character-strings (TXT), the target (CNAME), or the
    presentation text (any other type; only its existence matters here).
    """

    ttl: int
    rdatas: tuple[tuple[bytes, ...] | str, ...]


def _encode(value: TxtString) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _split(data: bytes) -> tuple[bytes, ...]:
    """Split one long value into 255-byte character-strings, as a zone file needs."""
    if not data:
        return (b"",)
    return tuple(data[i : i + _MAX_STRING] for i in range(0, len(data), _MAX_STRING))


def txt_records(value: TxtValue) -> list[tuple[bytes, ...]]:
    """
    Normalize the shorthand for TXT records into each record's character-strings.

    A ``str``/``bytes`` is one record (split into 255-byte strings if long); a list holds
    several records, each a ``str``/``bytes`` or a tuple of explicit strings.
    """
    if isinstance(value, (str, bytes)):
        return [_split(_encode(value))]
    records: list[tuple[bytes, ...]] = []
    for item in value:
        if isinstance(item, (str, bytes)):
            records.append(_split(_encode(item)))
        else:
            strings = tuple(_encode(s) for s in item)
            if not strings or any(len(s) > _MAX_STRING for s in strings):
                raise ConfigurationError("a TXT record needs 1 to n strings of <= 255 bytes")
            records.append(strings)
    return records


class RecordStore:
    """
    Immutable DNS data: RRsets by name and type, and the zone apexes with their SOA.

    Answers follow RFC 1034 §4.3.2 as an authoritative server gives them: a name that
    owns records of other types, or only has names below it (an empty non-terminal), is
    NODATA; a name that does not exist is NXDOMAIN; a CNAME at the name is returned for
    any other type; ``*`` labels synthesize answers as RFC 4592 says. DNAME and
    delegations (NS below an apex) are not interpreted.
    """

    def __init__(
        self,
        nodes: Mapping[str, Mapping[str, RRset]],
        *,
        apexes: Mapping[str, int] | None = None,
        negative_ttl: int | None = None,
    ) -> None:
        self._nodes = {name: dict(types) for name, types in nodes.items()}
        self._apexes = dict(apexes or {})
        self._negative_ttl = negative_ttl
        existing: set[str] = set()
        for name in [*self._nodes, *self._apexes]:
            labels = name.split(".")
            for i in range(len(labels)):
                existing.add(".".join(labels[i:]))
        self._existing = frozenset(existing)

    @property
    def names(self) -> frozenset[str]:
        """Every name that owns records."""
        return frozenset(self._nodes)

    def rrset(self, name: str, rdtype: str) -> RRset | None:
        """The RRset of ``rdtype`` owned by ``name`` itself (no wildcard, no CNAME)."""
        return self._nodes.get(name, {}).get(rdtype)

    def negative_ttl(self, name: str) -> int | None:
        """RFC 2308 §5: min(SOA TTL, SOA MINIMUM) of the closest enclosing zone."""
        labels = name.split(".")
        for i in range(len(labels)):
            apex = ".".join(labels[i:])
            if apex in self._apexes:
                return self._apexes[apex]
        if "" in self._apexes:
            return self._apexes[""]
        return self._negative_ttl

    def _node(self, name: str) -> Mapping[str, RRset] | None:
        node = self._nodes.get(name)
        if node is not None or name in self._existing:
            return node
        # RFC 4592 §3.3.1: the closest encloser's wildcard child is the source.
        labels = name.split(".")
        for i in range(1, len(labels)):
            encloser = ".".join(labels[i:])
            if encloser in self._existing:
                return self._nodes.get("*." + encloser)
        return self._nodes.get("*")

    def lookup(self, name: str, rdtype: str) -> Step:
        """Answer one question about ``name`` (lowercase, no trailing dot)."""
        node = self._node(name)
        if node is None:
            # An empty non-terminal exists (NODATA, sent as NOERROR without records).
            status = DnsStatus.NOERROR if name in self._existing else DnsStatus.NXDOMAIN
            return Step(status=status, negative_ttl=self.negative_ttl(name))
        cname = node.get("CNAME")
        if cname is not None:
            target = cname.rdatas[0]
            assert isinstance(target, str)
            return Step(
                status=DnsStatus.NOERROR,
                hops=(Hop(owner=name, target=target, ttl=cname.ttl),),
                conclusive=rdtype == "CNAME",
            )
        rrset = node.get(rdtype)
        if rrset is None:
            return Step(status=DnsStatus.NOERROR, negative_ttl=self.negative_ttl(name))
        return Step(status=DnsStatus.NOERROR, records=rrset.rdatas, ttl=rrset.ttl)


class StoreBuilder:
    """Collects records, merging and checking them, and builds a :class:`RecordStore`."""

    def __init__(self) -> None:
        self._nodes: dict[str, dict[str, RRset]] = {}
        self._apexes: dict[str, int] = {}

    def add(
        self, name: str, rdtype: str, ttl: int, rdatas: Iterable[tuple[bytes, ...] | str]
    ) -> None:
        """
        Add records; records of a type already present join that RRset (lowest TTL wins).

        Raises:
            ConfigurationError: A bad name or TTL, a CNAME beside other data or a second
                CNAME target (RFC 1034 §3.6.2).
        """
        try:
            owner = check_name(name) if name not in ("", ".") else ""
        except DnsPermError as exc:
            raise ConfigurationError(f"bad owner name {name!r}: {exc}") from None
        if type(ttl) is not int or not 0 <= ttl <= 0x7FFFFFFF:
            raise ConfigurationError(f"bad TTL {ttl!r} for {name!r}")
        rdtype = rdtype.upper()
        values = list(rdatas)
        if rdtype == "CNAME":
            try:
                values = [check_name(str(v)) for v in values]
            except DnsPermError as exc:
                raise ConfigurationError(f"bad CNAME target at {name!r}: {exc}") from None
        node = self._nodes.setdefault(owner, {})
        old = node.get(rdtype)
        if old is not None:
            merged = list(old.rdatas) + [v for v in values if v not in old.rdatas]
            node[rdtype] = RRset(ttl=min(ttl, old.ttl), rdatas=tuple(merged))
        else:
            node[rdtype] = RRset(ttl=ttl, rdatas=tuple(values))
        if "CNAME" in node and len(node) > 1:
            raise ConfigurationError(f"{name!r} has a CNAME and other data (RFC 1034 §3.6.2)")
        if len(node.get("CNAME", RRset(0, ())).rdatas) > 1:
            raise ConfigurationError(f"{name!r} has more than one CNAME target")

    def add_txt(self, name: str, value: TxtValue, *, ttl: int) -> None:
        """Add TXT records given in the shorthand of :func:`txt_records`."""
        self.add(name, "TXT", ttl, txt_records(value))

    def add_mx(self, name: str, exchanges: Iterable[str | tuple[int, str]], *, ttl: int) -> None:
        """
        Add MX records: exchange names (preferences 10, 20, ... in order) or
        ``(preference, exchange)`` pairs; ``"."`` is a null MX (RFC 7505).

        Raises:
            ConfigurationError: A bad exchange name or preference.
        """
        values: list[tuple[bytes, ...] | str] = []
        for index, item in enumerate([exchanges] if isinstance(exchanges, str) else exchanges):
            preference, exchange = (10 * (index + 1), item) if isinstance(item, str) else item
            if type(preference) is not int or not 0 <= preference <= 0xFFFF:
                raise ConfigurationError(f"bad MX preference {preference!r} at {name!r}")
            try:
                host = "." if exchange in (".", "") else check_name(exchange)
            except DnsPermError as exc:
                raise ConfigurationError(f"bad MX exchange at {name!r}: {exc}") from None
            values.append(f"{preference} {host}")
        self.add(name, "MX", ttl, values)

    def add_addresses(self, name: str, addresses: str | Iterable[str], *, ttl: int) -> None:
        """
        Add A and AAAA records from addresses of either family.

        Raises:
            ConfigurationError: A value that is not an IPv4 or IPv6 address.
        """
        by_type: dict[str, list[tuple[bytes, ...] | str]] = {}
        for text in [addresses] if isinstance(addresses, str) else addresses:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                raise ConfigurationError(f"{text!r} at {name!r} is not an IP address") from None
            by_type.setdefault("A" if address.version == 4 else "AAAA", []).append(str(address))
        for rdtype, values in by_type.items():
            self.add(name, rdtype, ttl, values)

    def add_apex(self, name: str, negative_ttl: int) -> None:
        """Mark ``name`` as a zone apex whose SOA gives ``negative_ttl``."""
        owner = check_name(name) if name not in ("", ".") else ""
        self._apexes[owner] = negative_ttl

    def build(self, *, negative_ttl: int | None) -> RecordStore:
        """The immutable store; ``negative_ttl`` applies where no SOA encloses a name."""
        return RecordStore(self._nodes, apexes=self._apexes, negative_ttl=negative_ttl)
