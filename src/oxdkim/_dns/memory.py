"""
Resolvers that answer from memory: a dict of records, zone-file text, or zone files.

They answer like an authoritative server (see :class:`~oxdkim._dns.store.RecordStore`)
and follow CNAME chains with the same logic as the network resolvers.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Generic

import dns.zone
from typing_extensions import TypeVar

from .._base.answers import AddressAnswer, CnameAnswer, MxAnswer, TxtAnswer
from .._base.sansio import AsyncByClass
from ..exceptions import ConfigurationError, DnsTempError
from ..typing import HostResolver, Resolver
from .resolve import (
    DEFAULT_MAX_HOPS,
    Resolution,
    Resolved,
    Step,
    TxtResolution,
    address_answer,
    check_name,
    cname_answer,
    mx_answer,
)
from .store import RecordStore, StoreBuilder, TxtValue
from .zonefile import add_zone, add_zone_text, parse_zone_text

# The resolver an inline adapter wraps: a host adapter's is a host resolver.
_SR_co = TypeVar("_SR_co", bound=Resolver, default=Resolver, covariant=True)


class InMemoryZone:
    """
    A :class:`~oxdkim.typing.HostResolver` answering from records held in memory.

    Build it from a dict of TXT records (and CNAMEs, MX records, addresses), from
    zone-file text, or both::

        zone = InMemoryZone(
            {"sel._domainkey.example.com": "v=DKIM1; k=ed25519; p=...",
             "two.example.com": ["first record", ("split ", "record")]},
            cname={"mail1._domainkey.customer.example": "mail1._domainkey.keys.example"},
            mx={"customer.example": ["mx1.customer.example"]},
            addresses={"mx1.customer.example": ["192.0.2.25", "2001:db8::25"]},
        )

    It answers like an authoritative server (see :class:`RecordStore`), follows CNAME
    chains with the same logic as the network resolvers, and can simulate a temporary
    failure for chosen names (:meth:`fail`), so callers' ``temperror`` paths can be
    tested. Several TXT records at a name are all returned, sorted; deciding that
    several key records is an error belongs to the caller (the verifier).

    Thread-safe: the records never change after construction (only the set of failing
    names is replaced, atomically).

    Args:
        txt: TXT records by name: a string is one record, a list holds several
            (a tuple inside the list is one record of several character-strings).
        cname: CNAME targets by name.
        mx: MX records by name: exchange names (preferences 10, 20, ... in order) or
            ``(preference, exchange)`` pairs.
        addresses: A and AAAA records by name: one address or a list, of either family.
        other: ``(name, type)`` pairs of placeholder records, so that a name exists
            (NODATA) without TXT. A placeholder holds no data: an ``A`` placeholder is
            not an address (use ``addresses``).
        zone_text: RFC 1035 master-file texts to add (names relative to the root unless
            the text sets ``$ORIGIN``).
        ttl: TTL of the records given in ``txt`` and ``cname``.
        negative_ttl: Negative-caching TTL where no SOA record encloses the name.
        failing: Names whose lookups raise :class:`~oxdkim.exceptions.DnsTempError`.
        max_hops: CNAMEs followed before :class:`~oxdkim.exceptions.DnsPermError`.

    Raises:
        ConfigurationError: Bad names, TTLs or record values, or unparsable zone text.
    """

    def __init__(
        self,
        txt: Mapping[str, TxtValue] | None = None,
        *,
        cname: Mapping[str, str] | None = None,
        mx: Mapping[str, Sequence[str | tuple[int, str]]] | None = None,
        addresses: Mapping[str, str | Sequence[str]] | None = None,
        other: Iterable[tuple[str, str]] = (),
        zone_text: str | Iterable[str] = (),
        ttl: int = 300,
        negative_ttl: int | None = 300,
        failing: Iterable[str] = (),
        max_hops: int = DEFAULT_MAX_HOPS,
    ) -> None:
        builder = StoreBuilder()
        for name, value in (txt or {}).items():
            builder.add_txt(name, value, ttl=ttl)
        for name, target in (cname or {}).items():
            builder.add(name, "CNAME", ttl, [target])
        for name, exchanges in (mx or {}).items():
            builder.add_mx(name, exchanges, ttl=ttl)
        for name, values in (addresses or {}).items():
            builder.add_addresses(name, values, ttl=ttl)
        for name, rdtype in other:
            builder.add(name, rdtype, ttl, [""])
        if zone_text:
            for text in [zone_text] if isinstance(zone_text, str) else zone_text:
                add_zone_text(builder, text, origin=".", default_ttl=ttl)
        self._setup(builder.build(negative_ttl=negative_ttl), failing, max_hops)

    def _setup(self, store: RecordStore, failing: Iterable[str], max_hops: int) -> None:
        if type(max_hops) is not int or max_hops < 0:
            raise ConfigurationError(f"max_hops must be a non-negative integer, not {max_hops!r}")
        self._store = store
        self._max_hops = max_hops
        self._failing = frozenset(check_name(n) for n in failing)
        self._lock = threading.Lock()
        self._queries: Counter[tuple[str, str]] = Counter()

    @property
    def store(self) -> RecordStore:
        """The records this resolver answers from."""
        return self._store

    @property
    def queries(self) -> Counter[tuple[str, str]]:
        """How often each ``(type, name)`` was asked (a copy), to check caching in tests."""
        with self._lock:
            return Counter(self._queries)

    def fail(self, *names: str) -> None:
        """From now on, lookups that reach any of ``names`` raise DnsTempError."""
        self._failing = self._failing | {check_name(n) for n in names}

    def recover(self, *names: str) -> None:
        """Undo :meth:`fail` for ``names`` (all names when none are given)."""
        self._failing = self._failing - {check_name(n) for n in names} if names else frozenset()

    def _step(self, name: str, rdtype: str) -> Step:
        with self._lock:
            self._queries[(rdtype, name)] += 1
        if name in self._failing:
            raise DnsTempError("simulated temporary failure (SERVFAIL)", name=name)
        return self._store.lookup(name, rdtype)

    def txt(self, name: str) -> TxtAnswer:
        """TXT records at ``name``, following CNAMEs (see the class docstring)."""
        name = check_name(name)
        resolution = TxtResolution(name, self._max_hops)
        while (query := resolution.next_query()) is not None:
            resolution.feed(self._step(query, "TXT"))
        return resolution.answer()

    def cname(self, name: str) -> CnameAnswer:
        """The CNAME record at ``name`` itself, not followed."""
        name = check_name(name)
        return cname_answer(name, self._step(name, "CNAME"))

    def _resolve(self, name: str, rdtype: str) -> Resolved:
        resolution = Resolution(name, self._max_hops)
        while (query := resolution.next_query()) is not None:
            resolution.feed(self._step(query, rdtype))
        return resolution.result()

    def mx(self, name: str) -> MxAnswer:
        """MX records at ``name``, following CNAMEs."""
        return mx_answer(self._resolve(check_name(name), "MX"))

    def addresses(self, name: str) -> AddressAnswer:
        """A and AAAA records at ``name``, following CNAMEs (two questions, one answer)."""
        name = check_name(name)
        return address_answer(name, self._resolve(name, "A"), self._resolve(name, "AAAA"))

    def as_async(self) -> InlineAsyncHostResolver:
        """This resolver as an :class:`~oxdkim.typing.AsyncHostResolver` (it never blocks)."""
        return InlineAsyncHostResolver(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} with {len(self._store.names)} names>"


class InlineAsyncResolver(Generic[_SR_co], AsyncByClass):
    """
    An :class:`~oxdkim.typing.AsyncResolver` that calls a non-blocking sync resolver.

    For resolvers that answer from memory (:class:`InMemoryZone`, a zone file, a cache
    over them): calling them inline in the event loop is cheaper than a thread. Do not
    wrap a network resolver this way; use the async dnspython resolver instead.
    """

    def __init__(self, resolver: _SR_co) -> None:
        self._resolver: _SR_co = resolver

    async def txt(self, name: str) -> TxtAnswer:
        """TXT records at ``name``, following CNAMEs."""
        return self._resolver.txt(name)

    async def cname(self, name: str) -> CnameAnswer:
        """The CNAME record at ``name`` itself, not followed."""
        return self._resolver.cname(name)


class InlineAsyncHostResolver(InlineAsyncResolver[HostResolver]):
    """
    An :class:`~oxdkim.typing.AsyncHostResolver` that calls a non-blocking sync
    :class:`~oxdkim.typing.HostResolver` (see :class:`InlineAsyncResolver`).
    """

    async def mx(self, name: str) -> MxAnswer:
        """MX records at ``name``, following CNAMEs."""
        return self._resolver.mx(name)

    async def addresses(self, name: str) -> AddressAnswer:
        """A and AAAA records at ``name``, following CNAMEs."""
        return self._resolver.addresses(name)


class ZoneFileResolver(InMemoryZone):
    """
    A :class:`~oxdkim.typing.HostResolver` answering from RFC 1035 master files.

    Several files (several zones) may be given; records of all of them answer together,
    and each zone's SOA gives the negative-caching TTL below its apex (RFC 2308 §5).
    A name outside every zone is NXDOMAIN (an authoritative server would REFUSE it).

    Names in a file are relative to ``origin`` unless the file sets ``$ORIGIN`` or writes
    them with a trailing dot. The default origin is the root, so files of absolute names
    without trailing dots, like the test vectors' ``*.zone.txt``, load as they are::

        resolver = ZoneFileResolver("tests/vectors/rfc8463/zone.txt")

    Some published vectors write a key as one string over 255 bytes, which RFC 1035
    (and dnspython, Knot, BIND) refuse; :meth:`from_vectors` loads those too.

    Args:
        files: Paths of master files, or dnspython zones already parsed.
        origin: Origin for relative names in the files.
        default_ttl: TTL of records that state none and follow no ``$TTL``.
        negative_ttl: Negative-caching TTL where no SOA encloses a name.
        failing: Names whose lookups raise :class:`~oxdkim.exceptions.DnsTempError`.
        max_hops: CNAMEs followed before :class:`~oxdkim.exceptions.DnsPermError`.
        split_long_strings: Accept quoted strings over 255 bytes by splitting them
            (the joined value is unchanged); by default they are an error, as in servers.

    Raises:
        ConfigurationError: A file cannot be read or is not a valid master file, or two
            files put a CNAME beside other data.
    """

    def __init__(
        self,
        *files: str | os.PathLike[str] | dns.zone.Zone,
        origin: str = ".",
        default_ttl: int | None = 3600,
        negative_ttl: int | None = None,
        failing: Iterable[str] = (),
        max_hops: int = DEFAULT_MAX_HOPS,
        split_long_strings: bool = False,
    ) -> None:
        builder = StoreBuilder()
        for source in files:
            if isinstance(source, dns.zone.Zone):
                add_zone(builder, source)
                continue
            path = Path(source)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigurationError(f"cannot read zone file {path}: {exc}") from exc
            add_zone_text(
                builder,
                text,
                origin=origin,
                default_ttl=default_ttl,
                filename=str(path),
                split_long=split_long_strings,
            )
        self._setup(builder.build(negative_ttl=negative_ttl), failing, max_hops)

    @classmethod
    def from_text(
        cls,
        *texts: str,
        origin: str = ".",
        default_ttl: int | None = 3600,
        negative_ttl: int | None = None,
        failing: Iterable[str] = (),
        max_hops: int = DEFAULT_MAX_HOPS,
        split_long_strings: bool = False,
    ) -> ZoneFileResolver:
        """A resolver from master-file texts instead of files (same arguments)."""
        zones = [
            parse_zone_text(
                text,
                origin=origin,
                default_ttl=default_ttl,
                filename=f"<text {i}>",
                split_long=split_long_strings,
            )
            for i, text in enumerate(texts, 1)
        ]
        return cls(*zones, negative_ttl=negative_ttl, failing=failing, max_hops=max_hops)

    @classmethod
    def from_vectors(
        cls, *files: str | os.PathLike[str], failing: Iterable[str] = ()
    ) -> ZoneFileResolver:
        """
        Load test-vector zone files (``tests/vectors/**/*zone.txt``) as they are written.

        Absolute names without trailing dots, no TTLs (3600 is used), and strings over
        255 bytes (split; see ``split_long_strings``).
        """
        return cls(*files, origin=".", default_ttl=3600, split_long_strings=True, failing=failing)
