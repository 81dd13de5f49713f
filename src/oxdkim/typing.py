"""
The contracts that plug-ins implement, in one low module that everything may import.

Implementations import this module, never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ._base import events as _events

if TYPE_CHECKING:
    from ._base.answers import AddressAnswer, CnameAnswer, MxAnswer, TxtAnswer
    from ._dmarc.record import OrgDomain
    from ._keys.ringstate import RingSnapshot
    from ._signing.results import SigningDecision, SigningRequest

__all__ = [
    "AsyncHostResolver",
    "AsyncOrgDomainFinder",
    "AsyncResolver",
    "Clock",
    "Event",
    "HostResolver",
    "KeyStore",
    "Observer",
    "OrgDomainFinder",
    "Ownership",
    "Resolver",
    "SigningPolicy",
]

Clock = Callable[[], datetime]
"""A callable returning the current time as an aware :class:`~datetime.datetime`."""

Event = _events.Event
"""What an :class:`Observer` receives: :class:`~oxdkim.Signed`, :class:`~oxdkim.Refused`,
:class:`~oxdkim.KeysReloaded` or :class:`~oxdkim.StoreUnreachable`."""


@runtime_checkable
class SigningPolicy(Protocol):
    """
    **Protocol:** Decide whether and how to sign one message.

    A policy is a value: it does no I/O and keeps no per-message state, so one instance
    serves every thread. Everything it needs (keys, ownership tables) is given when it is
    built, and invalid configuration is refused then, not per message.
    """

    @property
    def name(self) -> str:
        """Short name used in decisions and logs, e.g. ``"legacy-brand"``."""
        ...

    def decide(self, request: SigningRequest) -> SigningDecision:
        """Return the signatures to make for ``request``, or a refusal with its reason."""
        ...


@runtime_checkable
class Resolver(Protocol):
    """
    **Protocol:** Answer the DNS questions oxdkim asks, synchronously.

    Names are lowercase A-labels without a trailing dot.

    Raises:
        DnsTempError: The answer is unknowable right now (timeout, SERVFAIL, REFUSED).
        DnsPermError: The answer is permanently unusable (CNAME loop, too many hops).
    """

    def txt(self, name: str) -> TxtAnswer:
        """TXT records at ``name``, following CNAMEs."""
        ...

    def cname(self, name: str) -> CnameAnswer:
        """The CNAME record at ``name`` itself, not followed."""
        ...


@runtime_checkable
class AsyncResolver(Protocol):
    """**Protocol:** The asynchronous twin of :class:`Resolver`, with the same answers."""

    async def txt(self, name: str) -> TxtAnswer:
        """TXT records at ``name``, following CNAMEs."""
        ...

    async def cname(self, name: str) -> CnameAnswer:
        """The CNAME record at ``name`` itself, not followed."""
        ...


@runtime_checkable
class HostResolver(Resolver, Protocol):
    """
    **Protocol:** A :class:`Resolver` that also answers MX and address questions.

    The SPF analysis needs them to see what a receiver sees for ``a``, ``mx`` and
    ``exists`` (void lookups, the limit of 10 MX names, RFC 7208 §4.6.4). Every
    built-in resolver provides them; a resolver with only ``txt`` and ``cname`` stays a
    :class:`Resolver`, and callers pass a host resolver explicitly (``hosts=``), so
    nothing is guessed from an object's attributes. Same answers and errors as
    :class:`Resolver`: NXDOMAIN and NODATA are answers, temporary failures raise
    :class:`~oxdkim.exceptions.DnsTempError`.
    """

    def mx(self, name: str) -> MxAnswer:
        """MX records at ``name``, following CNAMEs."""
        ...

    def addresses(self, name: str) -> AddressAnswer:
        """A and AAAA records at ``name`` (two questions, one answer), following CNAMEs."""
        ...


@runtime_checkable
class AsyncHostResolver(AsyncResolver, Protocol):
    """**Protocol:** The asynchronous twin of :class:`HostResolver`, with the same answers."""

    async def mx(self, name: str) -> MxAnswer:
        """MX records at ``name``, following CNAMEs."""
        ...

    async def addresses(self, name: str) -> AddressAnswer:
        """A and AAAA records at ``name`` (two questions, one answer), following CNAMEs."""
        ...


@runtime_checkable
class Ownership(Protocol):
    """
    **Protocol:** Which tenant owns a domain: a table in memory
    (:class:`~oxdkim.policies.DomainOwnership`) or rows read on demand from a store.

    Raises:
        StoreUnavailableError: (a store) The owner is not known yet and the store cannot
            be reached: a temporary failure.
    """

    def owner_of(self, domain: str) -> str | None:
        """The tenant that owns exactly ``domain``, or ``None``."""
        ...


@runtime_checkable
class KeyStore(Protocol):
    """
    **Protocol:** Keep a key ring's state and private keys between processes.

    Raises:
        KeyStoreError: The state or a key file cannot be read or written safely.
    """

    def load(self) -> RingSnapshot:
        """Read the stored ring, keys included."""
        ...

    def save(self, snapshot: RingSnapshot) -> None:
        """Store ``snapshot`` atomically: readers see the old state or the new, never a mix."""
        ...

    def locked(self) -> AbstractContextManager[None]:
        """Hold the writer lock, so two rotators never race."""
        ...

    def version_token(self) -> Hashable:
        """A cheap token that changes whenever the stored state changes."""
        ...


@runtime_checkable
class OrgDomainFinder(Protocol):
    """
    **Protocol:** Find the organizational domain of a domain, synchronously.

    Implementations: the RFC 9989 §4.10 DNS Tree Walk (the default) and the RFC 7489
    §3.2 Public Suffix List rule. ``domain`` is lowercase A-labels without a trailing dot.

    Raises:
        DnsTempError: A DNS query the method needs failed temporarily.
        DnsPermError: A DNS answer was permanently unusable.
    """

    def find(self, domain: str) -> OrgDomain:
        """The organizational domain of ``domain`` and how it was found."""
        ...


@runtime_checkable
class AsyncOrgDomainFinder(Protocol):
    """**Protocol:** The asynchronous twin of :class:`OrgDomainFinder`, with the same answers."""

    async def find(self, domain: str) -> OrgDomain:
        """The organizational domain of ``domain`` and how it was found."""
        ...


@runtime_checkable
class Observer(Protocol):
    """
    **Protocol:** Receive oxdkim's events (signed, refused, keys reloaded, store unreachable).

    Called on the thread that did the work, once per event: be quick and thread-safe
    (count, enqueue; no I/O). An exception is logged and dropped, never raised to the
    signer's caller. :class:`~oxdkim.PrometheusObserver` is one.
    """

    def observe(self, event: Event, /) -> None:
        """Record ``event`` (a :class:`~oxdkim.Signed`, :class:`~oxdkim.Refused`, ...)."""
        ...
