"""
Resolvers: the implementations of :class:`~oxdkim.typing.Resolver`, of
:class:`~oxdkim.typing.HostResolver` (which adds MX and address lookups) and their async
twins.

* :class:`InMemoryZone`: records held in memory (from a dict and/or zone-file text);
  can simulate temporary failures. For tests, fixtures, ``oxdkim demo``.
* :class:`ZoneFileResolver`: RFC 1035 master files, parsed by dnspython.
* :class:`DnspythonResolver`, :class:`AsyncDnspythonResolver`: DNS servers over the
  network (configurable nameservers, timeout, retries, EDNS, TCP fallback).
* :class:`CachingResolver`, :class:`AsyncCachingResolver`: a TTL-honouring, bounded
  cache in front of any resolver (negative answers cached, temporary failures not);
  :class:`CachingHostResolver`, :class:`AsyncCachingHostResolver` cache MX and address
  answers too, in front of a host resolver.
* :class:`InlineAsyncResolver`, :class:`InlineAsyncHostResolver`: one of the above, as
  an async resolver.

The in-memory, zone-file and dnspython resolvers are host resolvers; a cache or an
inline wrapper is one when built with its ``Host`` name over a host resolver.

Every resolver follows CNAME chains with the same logic (loop detection, a hop limit),
joins each TXT record's strings without separators (RFC 6376 §3.6.2.2) and returns
several TXT records sorted, leaving to the caller whether several records is an error.
"""

from __future__ import annotations

from ._base.exports import claim as _claim
from ._dns.cache import (
    AnswerCache,
    AsyncCachingHostResolver,
    AsyncCachingResolver,
    CachingHostResolver,
    CachingResolver,
)
from ._dns.dnspython import AsyncDnspythonResolver, DnspythonResolver
from ._dns.memory import (
    InlineAsyncHostResolver,
    InlineAsyncResolver,
    InMemoryZone,
    ZoneFileResolver,
)
from ._dns.resolve import DEFAULT_MAX_HOPS

__all__ = [
    "DEFAULT_MAX_HOPS",
    "AnswerCache",
    "AsyncCachingHostResolver",
    "AsyncCachingResolver",
    "AsyncDnspythonResolver",
    "CachingHostResolver",
    "CachingResolver",
    "DnspythonResolver",
    "InMemoryZone",
    "InlineAsyncHostResolver",
    "InlineAsyncResolver",
    "ZoneFileResolver",
]

_claim(__name__, __all__, globals())
