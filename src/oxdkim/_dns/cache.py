"""
A TTL-honouring, size-bounded answer cache in front of any resolver, sync or async.

Both wrappers share one :class:`AnswerCache` (the logic); they differ only in whether
they ``await`` the resolver behind them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Generator
from typing import Generic

from typing_extensions import TypeVar

from .._base.answers import AddressAnswer, CnameAnswer, DnsStatus, MxAnswer, TxtAnswer
from .._base.sansio import AsyncByClass, drive, drive_async
from ..exceptions import ConfigurationError
from ..typing import AsyncHostResolver, AsyncResolver, HostResolver, Resolver
from .resolve import check_name

Answer = TxtAnswer | CnameAnswer | MxAnswer | AddressAnswer
MonotonicClock = Callable[[], float]


def _positive(answer: Answer) -> bool:
    return answer.status is DnsStatus.NOERROR


_OVERHEAD = 256  # bytes an entry costs beyond its names and records (objects, dict slot)


def answer_size(answer: Answer) -> int:
    """Roughly the memory an answer holds: its names and record bytes, plus a fixed cost."""
    if isinstance(answer, TxtAnswer):
        return (
            _OVERHEAD
            + len(answer.name)
            + sum(len(record) for record in answer.records)
            + sum(len(hop) for hop in answer.chain)
        )
    if isinstance(answer, MxAnswer):
        return (
            _OVERHEAD
            + len(answer.name)
            + sum(8 + len(exchange) for _, exchange in answer.records)
            + sum(len(hop) for hop in answer.chain)
        )
    if isinstance(answer, AddressAnswer):
        return (
            _OVERHEAD
            + len(answer.name)
            + sum(len(address) for address in (*answer.ipv4, *answer.ipv6))
            + sum(len(hop) for hop in answer.chain)
        )
    return _OVERHEAD + len(answer.name) + len(answer.target or "")


class AnswerCache:
    """
    Answers by ``(type, name)``, each kept until its TTL runs out, least recently used
    evicted first when full. Thread-safe.

    The bound is in bytes as well as entries: TXT answers are chosen by whoever runs the
    queried zone, and 10,000 answers of 64 KB each would hold 640 MB.

    Args:
        max_entries: Bound on the number of answers kept (LRU beyond it).
        max_bytes: Bound on the names and record bytes kept (LRU beyond it); one answer
            larger than an eighth of it is not cached at all.
        max_ttl: Cap on how long a positive answer is kept, in seconds.
        max_negative_ttl: Cap for NXDOMAIN and NODATA (RFC 2308 §5 advises capping; a
            short cap lets a newly published key be seen soon).
        unknown_ttl: Seconds to keep an answer that carries no TTL (a negative answer
            without an SOA).
        clock: Monotonic seconds; inject a fake one in tests. A wall clock would let a
            time change expire or revive every entry at once.
    """

    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        max_bytes: int = 16 << 20,
        max_ttl: int = 86_400,
        max_negative_ttl: int = 900,
        unknown_ttl: int = 60,
        clock: MonotonicClock = time.monotonic,
    ) -> None:
        for label, value, low in (
            ("max_entries", max_entries, 1),
            ("max_bytes", max_bytes, 8 * _OVERHEAD),
            ("max_ttl", max_ttl, 0),
            ("max_negative_ttl", max_negative_ttl, 0),
            ("unknown_ttl", unknown_ttl, 0),
        ):
            if type(value) is not int or value < low:
                raise ConfigurationError(f"{label} must be an integer >= {low}, not {value!r}")
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._max_ttl = max_ttl
        self._max_negative_ttl = max_negative_ttl
        self._unknown_ttl = unknown_ttl
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[float, Answer, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits: int = 0
        self.misses: int = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, rdtype: str, name: str) -> Answer | None:
        """The cached answer, or None when absent or expired."""
        key = (rdtype, name)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > self._clock():
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[1]
            if entry is not None:
                del self._entries[key]
                self._bytes -= entry[2]
            self.misses += 1
            return None

    def put(self, rdtype: str, name: str, answer: Answer) -> None:
        """Keep ``answer`` for its TTL, capped; a TTL of 0 means "do not cache"."""
        cap = self._max_ttl if _positive(answer) else self._max_negative_ttl
        ttl = min(self._unknown_ttl if answer.ttl is None else answer.ttl, cap)
        size = answer_size(answer)
        if ttl <= 0 or size > self._max_bytes // 8:
            return
        key = (rdtype, name)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
            self._entries[key] = (self._clock() + ttl, answer, size)
            self._bytes += size
            while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
                self._bytes -= self._entries.popitem(last=False)[1][2]

    @property
    def size(self) -> int:
        """The bytes the cached answers hold, as counted against ``max_bytes``."""
        with self._lock:
            return self._bytes

    def clear(self) -> None:
        """Forget every answer."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0


_R_co = TypeVar("_R_co", bound=Resolver | AsyncResolver, covariant=True)
_SR_co = TypeVar("_SR_co", bound=Resolver, default=Resolver, covariant=True)
_AR_co = TypeVar("_AR_co", bound=AsyncResolver, default=AsyncResolver, covariant=True)
_A = TypeVar("_A", TxtAnswer, CnameAnswer, MxAnswer, AddressAnswer)


class _CachingBase(Generic[_R_co]):
    """
    The cache in front of a resolver, with the one constructor of all four caching
    resolvers; they differ only in sync or async and in the questions they pass on.
    Each is generic in the resolver it wraps, so a host cache's resolver is typed as a
    host resolver without a constructor of its own.
    """

    def __init__(
        self,
        resolver: _R_co,
        *,
        cache: AnswerCache | None = None,
        max_entries: int = 10_000,
        max_bytes: int = 16 << 20,
        max_ttl: int = 86_400,
        max_negative_ttl: int = 900,
        unknown_ttl: int = 60,
        clock: MonotonicClock = time.monotonic,
    ) -> None:
        self._resolver: _R_co = resolver
        self.cache: AnswerCache = (
            cache
            if cache is not None  # an empty AnswerCache is falsy (it has a length)
            else AnswerCache(
                max_entries=max_entries,
                max_bytes=max_bytes,
                max_ttl=max_ttl,
                max_negative_ttl=max_negative_ttl,
                unknown_ttl=unknown_ttl,
                clock=clock,
            )
        )

    def _lookup(self, rdtype: str, name: str, kind: type[_A]) -> Generator[str, _A, _A]:
        """
        One lookup's caching, as a plan both faces drive: a fresh cached answer, or the
        resolver's (asked for the checked name it yields), kept for its TTL. An error
        thrown in passes through uncached.
        """
        name = check_name(name)
        cached = self.cache.get(rdtype, name)
        if isinstance(cached, kind):
            return cached
        answer = yield name
        self.cache.put(rdtype, name, answer)
        return answer


class CachingResolver(_CachingBase[_SR_co]):
    """
    A :class:`~oxdkim.typing.Resolver` that remembers another resolver's answers.

    Records are kept for their TTL, NXDOMAIN and NODATA for their negative TTL (RFC 2308),
    both capped; the number of answers and the bytes they hold are bounded (least
    recently used evicted).
    Temporary failures (:class:`~oxdkim.exceptions.DnsTempError`) and permanent errors are
    never cached: the next lookup asks again. A cached answer is returned as it was
    received (its ``ttl`` is not counted down). Thread-safe; two threads missing the same
    name at once may both ask.

    Args:
        resolver: The resolver to ask on a miss.
        cache: Share an :class:`AnswerCache` between resolvers, or pass its arguments
            (``max_entries``, ``max_bytes``, ``max_ttl``, ``max_negative_ttl``,
            ``unknown_ttl``, ``clock``) to get a new one.
    """

    def txt(self, name: str) -> TxtAnswer:
        """TXT records at ``name``, following CNAMEs; from the cache when fresh."""
        return drive(self._lookup("TXT", name, TxtAnswer), self._resolver.txt)

    def cname(self, name: str) -> CnameAnswer:
        """The CNAME record at ``name`` itself; from the cache when fresh."""
        return drive(self._lookup("CNAME", name, CnameAnswer), self._resolver.cname)


class AsyncCachingResolver(_CachingBase[_AR_co], AsyncByClass):
    """The async twin of :class:`CachingResolver`, in front of an AsyncResolver."""

    async def txt(self, name: str) -> TxtAnswer:
        """TXT records at ``name``, following CNAMEs; from the cache when fresh."""
        return await drive_async(self._lookup("TXT", name, TxtAnswer), self._resolver.txt)

    async def cname(self, name: str) -> CnameAnswer:
        """The CNAME record at ``name`` itself; from the cache when fresh."""
        return await drive_async(self._lookup("CNAME", name, CnameAnswer), self._resolver.cname)


class CachingHostResolver(CachingResolver[HostResolver]):
    """
    A :class:`~oxdkim.typing.HostResolver` that remembers another one's answers: a
    :class:`CachingResolver` that also caches MX and address answers (same rules and
    arguments).

    Args:
        resolver: The :class:`~oxdkim.typing.HostResolver` to ask on a miss.
    """

    def mx(self, name: str) -> MxAnswer:
        """MX records at ``name``, following CNAMEs; from the cache when fresh."""
        return drive(self._lookup("MX", name, MxAnswer), self._resolver.mx)

    def addresses(self, name: str) -> AddressAnswer:
        """A and AAAA records at ``name``; from the cache when fresh."""
        return drive(self._lookup("A+AAAA", name, AddressAnswer), self._resolver.addresses)


class AsyncCachingHostResolver(AsyncCachingResolver[AsyncHostResolver]):
    """
    The async twin of :class:`CachingHostResolver`.

    Args:
        resolver: The :class:`~oxdkim.typing.AsyncHostResolver` to ask on a miss.
    """

    async def mx(self, name: str) -> MxAnswer:
        """MX records at ``name``, following CNAMEs; from the cache when fresh."""
        return await drive_async(self._lookup("MX", name, MxAnswer), self._resolver.mx)

    async def addresses(self, name: str) -> AddressAnswer:
        """A and AAAA records at ``name``; from the cache when fresh."""
        return await drive_async(
            self._lookup("A+AAAA", name, AddressAnswer), self._resolver.addresses
        )
