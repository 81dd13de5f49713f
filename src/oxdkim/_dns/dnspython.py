"""
Resolvers over the network, through dnspython (sync and asyncio).

dnspython does the transport: UDP with EDNS, retries, server rotation, and the retry
over TCP when a UDP answer is truncated. This module only translates: each response
becomes a :class:`~oxdkim._dns.resolve.Step` for the shared chain logic, and each
dnspython exception becomes an answer (NXDOMAIN), :class:`~oxdkim.exceptions.DnsTempError`
or :class:`~oxdkim.exceptions.DnsPermError`. No dnspython exception escapes.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.nameserver
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rdtypes.ANY.MX
import dns.rdtypes.ANY.SOA
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA
import dns.rdtypes.txtbase
import dns.resolver
import dns.rrset

from .._base.answers import AddressAnswer, CnameAnswer, DnsStatus, MxAnswer, TxtAnswer
from .._base.sansio import AsyncByClass
from ..exceptions import ConfigurationError, DnsPermError, DnsTempError
from .resolve import (
    DEFAULT_MAX_HOPS,
    Hop,
    Record,
    Resolution,
    Step,
    TxtResolution,
    address_answer,
    check_name,
    cname_answer,
    mx_answer,
)

DEFAULT_TIMEOUT = 2.0
DEFAULT_RETRIES = 1
DEFAULT_PAYLOAD = 1232
"""EDNS UDP payload: the DNS Flag Day 2020 size that avoids IP fragmentation."""


def parse_nameserver(text: str) -> tuple[str, int]:
    """
    Split ``host[:port]`` into an IP address and a port (53 when absent).

    IPv6 addresses take brackets when a port follows (``[2001:db8::1]:5353``); a bare
    IPv6 address means port 53.

    Raises:
        ConfigurationError: Not an IP address (host names would need DNS to find DNS),
            or a port outside 1-65535.
    """
    host, port_text = text.strip(), ""
    if host.startswith("["):
        host, sep, rest = host[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ConfigurationError(f"nameserver {text!r}: expected [IPv6]:port")
        port_text = rest[1:]
    elif host.count(":") == 1:
        host, _, port_text = host.partition(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ConfigurationError(f"nameserver {text!r} is not an IP address") from None
    port = 53
    if port_text or text.strip().endswith(":"):
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ConfigurationError(f"nameserver {text!r}: bad port {port_text!r}")
        port = int(port_text)
    return str(address), port


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


def _find(
    section: list[dns.rrset.RRset], name: dns.name.Name, rdtype: int
) -> dns.rrset.RRset | None:
    for rrset in section:
        if rrset.rdclass == dns.rdataclass.IN and rrset.rdtype == rdtype and rrset.name == name:
            return rrset
    return None


def step_from_response(response: dns.message.Message, rdtype: dns.rdatatype.RdataType) -> Step:
    """
    Read one response into a :class:`Step`: the CNAMEs in its answer from the name asked,
    the wanted records at the end of them, and the negative TTL from an SOA.
    """
    qname = response.question[0].name
    status = DnsStatus.NXDOMAIN if response.rcode() == dns.rcode.NXDOMAIN else DnsStatus.NOERROR
    if rdtype == dns.rdatatype.CNAME:
        cname = _find(response.answer, qname, dns.rdatatype.CNAME)
        if cname is not None:
            rdata = cname[0]
            assert isinstance(rdata, dns.rdtypes.ANY.CNAME.CNAME)
            hop = Hop(owner=_text(qname), target=_text(rdata.target), ttl=cname.ttl)
            return Step(status=status, hops=(hop,))
        return Step(status=status, negative_ttl=_negative_ttl(response, qname))
    current, seen = qname, {qname}
    hops: list[Hop] = []
    while True:
        found = _find(response.answer, current, rdtype)
        if found is not None:
            records = tuple(r for r in map(_record, found) if r is not None)
            return Step(status=status, hops=tuple(hops), records=records, ttl=found.ttl)
        cname = _find(response.answer, current, dns.rdatatype.CNAME)
        if cname is None:
            break
        rdata = cname[0]
        assert isinstance(rdata, dns.rdtypes.ANY.CNAME.CNAME)
        hops.append(Hop(owner=_text(current), target=_text(rdata.target), ttl=cname.ttl))
        if rdata.target in seen:  # a loop: the chain logic reports it
            break
        seen.add(rdata.target)
        current = rdata.target
    negative_ttl = _negative_ttl(response, current)
    # A server that returns a CNAME without what it points to, and without an SOA that
    # covers the target, did not chase it (another zone): the target must be asked.
    conclusive = not hops or status is DnsStatus.NXDOMAIN or negative_ttl is not None
    return Step(status=status, hops=tuple(hops), negative_ttl=negative_ttl, conclusive=conclusive)


def _record(rdata: object) -> Record | None:
    """One record as a :class:`Step` holds it (see :data:`~oxdkim._dns.resolve.Record`)."""
    if isinstance(rdata, dns.rdtypes.txtbase.TXTBase):
        return tuple(rdata.strings)
    if isinstance(rdata, dns.rdtypes.ANY.MX.MX):
        return f"{rdata.preference} {_text(rdata.exchange)}"
    if isinstance(rdata, (dns.rdtypes.IN.A.A, dns.rdtypes.IN.AAAA.AAAA)):
        return str(rdata.address)
    return None


def _negative_ttl(response: dns.message.Message, name: dns.name.Name) -> int | None:
    """RFC 2308 §5: min(SOA TTL, SOA MINIMUM) of an SOA in authority above ``name``."""
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA and name.is_subdomain(rrset.name) and rrset:
            soa = rrset[0]
            assert isinstance(soa, dns.rdtypes.ANY.SOA.SOA)
            return min(rrset.ttl, soa.minimum)
    return None


def _describe(errors: Iterable[tuple[object, ...]]) -> str:
    parts = []
    for error in errors:
        server, tcp, port, problem = error[0], error[1], error[2], error[3]
        what = problem if isinstance(problem, str) else type(problem).__name__
        detail = "" if isinstance(problem, str) or not str(problem) else f" ({problem})"
        parts.append(f"{server}:{port}{'/tcp' if tcp else ''} {what}{detail}")
    return "; ".join(parts) or "no nameserver to ask"


def step_from_error(name: str, rdtype: dns.rdatatype.RdataType, exc: Exception) -> Step:
    """
    Translate a dnspython exception into a :class:`Step`, or raise oxdkim's error.

    Raises:
        DnsTempError: Timeout, or no server gave a usable answer (SERVFAIL, REFUSED,
            a network error); the message names each server and what it said.
        DnsPermError: YXDOMAIN (a DNAME substitution that overflows the name).
    """
    if isinstance(exc, dns.resolver.NXDOMAIN):
        responses: dict[dns.name.Name, dns.message.Message] = exc.kwargs.get("responses", {})
        for response in responses.values():
            return step_from_response(response, rdtype)
        return Step(status=DnsStatus.NXDOMAIN)  # pragma: no cover - dnspython always sets one
    if isinstance(exc, dns.resolver.NoNameservers):
        errors = exc.kwargs.get("errors", [])
        for error in errors:
            # dnspython refuses some answers it could read (a CNAME loop makes its
            # chaining raise ChainTooLong): judge those here, so a loop is a permanent
            # error and not a temporary one.
            refused: object = error[4] if len(error) > 4 else None
            if (
                isinstance(refused, dns.message.Message)
                and isinstance(error[3], Exception)
                and refused.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN)
            ):
                return step_from_response(refused, rdtype)
        raise DnsTempError(f"no usable answer: {_describe(errors)}", name=name) from None
    if isinstance(exc, dns.exception.Timeout):
        raise DnsTempError(f"timed out ({exc})", name=name) from None
    if isinstance(exc, dns.resolver.YXDOMAIN):
        raise DnsPermError("YXDOMAIN: the name is too long after DNAME substitution", name=name)
    if isinstance(exc, (dns.exception.DNSException, OSError)):
        raise DnsTempError(f"lookup failed: {type(exc).__name__}: {exc}", name=name) from None
    raise exc


class _DnspythonBase:
    """Configuration shared by the sync and async dnspython resolvers."""

    _resolver_class: type[dns.resolver.BaseResolver]

    def __init__(
        self,
        nameservers: Iterable[str] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        edns: bool = True,
        payload: int = DEFAULT_PAYLOAD,
        tcp: bool = False,
        max_hops: int = DEFAULT_MAX_HOPS,
    ) -> None:
        if isinstance(nameservers, str):
            nameservers = [nameservers]
        self._servers = (
            None if nameservers is None else tuple(parse_nameserver(n) for n in nameservers)
        )
        if self._servers == ():
            raise ConfigurationError("nameservers is empty (use None for the system's)")
        if not 0 < timeout <= 60:
            raise ConfigurationError(f"timeout must be in (0, 60] seconds, not {timeout!r}")
        if type(retries) is not int or not 0 <= retries <= 10:
            raise ConfigurationError(f"retries must be an integer 0-10, not {retries!r}")
        if type(payload) is not int or not 512 <= payload <= 65535:
            raise ConfigurationError(f"payload must be 512-65535, not {payload!r}")
        if type(max_hops) is not int or max_hops < 0:
            raise ConfigurationError(f"max_hops must be a non-negative integer, not {max_hops!r}")
        self._timeout = float(timeout)
        self._retries = retries
        self._edns = edns
        self._payload = payload
        self._tcp = tcp
        self._max_hops = max_hops
        try:
            resolver = self._resolver_class(configure=nameservers is None)
        except dns.exception.DNSException as exc:
            raise ConfigurationError(f"no system DNS configuration: {exc}") from None
        self._configure(resolver)
        self._resolver = resolver

    @property
    def nameservers(self) -> tuple[str, ...]:
        """The servers asked, as ``host:port`` (empty when the system's are used)."""
        return tuple(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in (self._servers or ()))

    def _configure(self, resolver: dns.resolver.BaseResolver) -> None:
        if self._servers is not None:
            resolver.nameservers = [
                dns.nameserver.Do53Nameserver(host, port) for host, port in self._servers
            ]
        count = len(resolver.nameservers) or 1
        # dnspython asks each server in turn, waiting ``timeout`` for each, and goes
        # round again after a back-off (0.1 s, doubling) until ``lifetime`` is spent.
        backoff = sum(min(0.1 * 2**i, 2.0) for i in range(self._retries))
        resolver.timeout = self._timeout
        resolver.lifetime = self._timeout * count * (self._retries + 1) + backoff
        resolver.use_edns(0 if self._edns else False, 0, self._payload)
        resolver.cache = None
        resolver.search = []
        resolver.use_search_by_default = False
        resolver.retry_servfail = False
        resolver.rotate = False

    def _new_resolution(self, name: str) -> TxtResolution:
        return TxtResolution(check_name(name), self._max_hops)

    def _resolution(self, name: str) -> Resolution:
        return Resolution(name, self._max_hops)

    def __repr__(self) -> str:
        servers = ", ".join(self.nameservers) or "system"
        return f"<{type(self).__name__} {servers} timeout={self._timeout} retries={self._retries}>"


def _qname(name: str) -> dns.name.Name:
    return dns.name.from_text(name, dns.name.root)


class DnspythonResolver(_DnspythonBase):
    """
    A :class:`~oxdkim.typing.HostResolver` asking DNS servers through dnspython.

    Answers: records (NOERROR), NXDOMAIN and NODATA (with the RFC 2308 negative TTL from
    the SOA the server sent) are answers; a timeout, or SERVFAIL/REFUSED/network errors
    from every server, raise :class:`~oxdkim.exceptions.DnsTempError` naming what each
    server said; a CNAME loop or too many hops raise
    :class:`~oxdkim.exceptions.DnsPermError`. Truncated UDP answers are asked again over
    TCP (dnspython does this). Several TXT records are all returned, sorted; the caller
    decides whether that is an error. Thread-safe.

    Args:
        nameservers: ``host[:port]`` strings (``[v6]:port`` for IPv6); ``None`` uses
            the system's (``/etc/resolv.conf``).
        timeout: Seconds to wait for one server's answer.
        retries: How many more rounds over the servers after timeouts. A lookup gives up
            after about ``timeout × servers × (retries + 1)`` seconds.
        edns: Send EDNS(0) (RFC 6891); without it UDP answers stop at 512 bytes.
        payload: EDNS UDP payload size advertised.
        tcp: Always use TCP.
        max_hops: CNAMEs followed for one TXT lookup before DnsPermError.

    Raises:
        ConfigurationError: A nameserver is not ``IP[:port]``, or a limit is out of range;
            or no system configuration exists when ``nameservers`` is None.
    """

    _resolver_class = dns.resolver.Resolver
    _resolver: dns.resolver.Resolver

    def _ask(self, name: str, rdtype: dns.rdatatype.RdataType) -> Step:
        try:
            answer = self._resolver.resolve(
                _qname(name), rdtype, search=False, raise_on_no_answer=False, tcp=self._tcp
            )
        except Exception as exc:
            return step_from_error(name, rdtype, exc)
        return step_from_response(answer.response, rdtype)

    def txt(self, name: str) -> TxtAnswer:
        """TXT records at ``name``, following CNAMEs (see the class docstring)."""
        resolution = self._new_resolution(name)
        while (query := resolution.next_query()) is not None:
            resolution.feed(self._ask(query, dns.rdatatype.TXT))
        return resolution.answer()

    def cname(self, name: str) -> CnameAnswer:
        """The CNAME record at ``name`` itself, not followed."""
        name = check_name(name)
        return cname_answer(name, self._ask(name, dns.rdatatype.CNAME))

    def _resolve(self, name: str, rdtype: dns.rdatatype.RdataType) -> Resolution:
        resolution = self._resolution(name)
        while (query := resolution.next_query()) is not None:
            resolution.feed(self._ask(query, rdtype))
        return resolution

    def mx(self, name: str) -> MxAnswer:
        """MX records at ``name``, following CNAMEs."""
        return mx_answer(self._resolve(check_name(name), dns.rdatatype.MX).result())

    def addresses(self, name: str) -> AddressAnswer:
        """A and AAAA records at ``name``, following CNAMEs (two questions, one answer)."""
        name = check_name(name)
        a = self._resolve(name, dns.rdatatype.A).result()
        return address_answer(name, a, self._resolve(name, dns.rdatatype.AAAA).result())


class AsyncDnspythonResolver(_DnspythonBase, AsyncByClass):
    """
    The asyncio twin of :class:`DnspythonResolver` (``dns.asyncresolver``).

    Same arguments, same answers, same errors; lookups run concurrently in the loop.
    """

    _resolver_class = dns.asyncresolver.Resolver
    _resolver: dns.asyncresolver.Resolver

    async def _ask(self, name: str, rdtype: dns.rdatatype.RdataType) -> Step:
        try:
            answer = await self._resolver.resolve(
                _qname(name), rdtype, search=False, raise_on_no_answer=False, tcp=self._tcp
            )
        except Exception as exc:
            return step_from_error(name, rdtype, exc)
        return step_from_response(answer.response, rdtype)

    async def txt(self, name: str) -> TxtAnswer:
        """TXT records at ``name``, following CNAMEs (see :class:`DnspythonResolver`)."""
        resolution = self._new_resolution(name)
        while (query := resolution.next_query()) is not None:
            resolution.feed(await self._ask(query, dns.rdatatype.TXT))
        return resolution.answer()

    async def cname(self, name: str) -> CnameAnswer:
        """The CNAME record at ``name`` itself, not followed."""
        name = check_name(name)
        return cname_answer(name, await self._ask(name, dns.rdatatype.CNAME))

    async def _resolve(self, name: str, rdtype: dns.rdatatype.RdataType) -> Resolution:
        resolution = self._resolution(name)
        while (query := resolution.next_query()) is not None:
            resolution.feed(await self._ask(query, rdtype))
        return resolution

    async def mx(self, name: str) -> MxAnswer:
        """MX records at ``name``, following CNAMEs."""
        return mx_answer((await self._resolve(check_name(name), dns.rdatatype.MX)).result())

    async def addresses(self, name: str) -> AddressAnswer:
        """
        A and AAAA records at ``name``, following CNAMEs: the two questions are asked at
        once; when both fail, the A question's error is raised, as the sync twin does.
        """
        name = check_name(name)
        a, aaaa = await asyncio.gather(
            self._resolve(name, dns.rdatatype.A),
            self._resolve(name, dns.rdatatype.AAAA),
            return_exceptions=True,
        )
        if isinstance(a, BaseException):
            raise a
        if isinstance(aaaa, BaseException):
            raise aaaa
        return address_answer(name, a.result(), aaaa.result())
