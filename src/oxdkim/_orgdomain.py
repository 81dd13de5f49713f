"""
Organizational domains: the RFC 9989 DNS Tree Walk and the RFC 7489 Public Suffix List rule.

Both finders implement :class:`~oxdkim.typing.OrgDomainFinder` (or its async twin) and
return an :class:`OrgDomain` that says which rule decided.

* :class:`TreeWalkFinder` / :class:`AsyncTreeWalkFinder` (the default, RFC 9989 §4.10):
  query ``_dmarc`` names from the domain up to its top-level domain, at most eight of
  them, and pick the organizational domain from the records found. Both classes drive one
  pure generator, :func:`tree_walk`, which yields the names to query and returns the
  result; only the line that performs the query differs.
* :class:`PslFinder` (RFC 7489 §3.2): the registered domain per the Public Suffix List,
  offline, from the list ``publicsuffixlist`` bundles or from a list file.
* :class:`ComparingFinder` / :class:`AsyncComparingFinder` run two finders and attach the
  second one's answer as :attr:`OrgDomain.alternative`, so alignment can report where
  RFC 9989 and RFC 7489 receivers disagree.
"""

from __future__ import annotations

import enum
import functools
import os
from collections.abc import Awaitable, Callable, Generator
from typing import TypeVar

import attrs
from publicsuffixlist import PublicSuffixList

from ._dmarc_record import DmarcLookup, PsdFlag, dmarc_name, impossible_name
from ._dnsanswers import TxtAnswer
from ._domains import DomainSyntaxError, normalize_domain
from .exceptions import ConfigurationError, DnsError
from .typing import AsyncOrgDomainFinder, AsyncResolver, OrgDomainFinder, Resolver

__all__ = [
    "MAX_TREE_WALK_QUERIES",
    "AsyncComparingFinder",
    "AsyncFinderAdapter",
    "AsyncTreeWalkFinder",
    "ComparingFinder",
    "OrgDomain",
    "OrgDomainMethod",
    "OrgDomainRule",
    "PslFinder",
    "TreeWalkFinder",
    "normalize_dmarc_domain",
    "select_organizational_domain",
    "tree_walk",
    "walk_targets",
]

MAX_TREE_WALK_QUERIES = 8
"""RFC 9989 §4.10: a tree walk never makes more than eight DNS queries."""

_JUMP_TO = MAX_TREE_WALK_QUERIES - 1


class OrgDomainMethod(enum.Enum):
    """How an organizational domain was found."""

    TREE_WALK = "rfc9989-tree-walk"
    PUBLIC_SUFFIX_LIST = "rfc7489-psl"


class OrgDomainRule(enum.Enum):
    """Which rule of the method decided (for explanations and reports)."""

    PSD_NO = "psd=n"
    """RFC 9989 §4.10.2 rule 1: a record with ``psd=n`` names itself."""
    BELOW_PSD = "below-psd=y"
    """RFC 9989 §4.10.2 rule 2: one label below the domain whose record has ``psd=y``."""
    FEWEST_LABELS = "fewest-labels"
    """RFC 9989 §4.10.2 rule 3: the record found at the name with the fewest labels."""
    NO_RECORD = "no-record"
    """RFC 9989 §4.10.2: no record found, so the domain is its own organizational domain."""
    PUBLIC_SUFFIX_LIST = "public-suffix-list"
    """RFC 7489 §3.2: the public suffix plus one label."""
    PUBLIC_SUFFIX = "public-suffix"
    """RFC 7489 §3.2: the domain is itself a public suffix and has no organizational domain."""


@attrs.frozen
class OrgDomain:
    """
    The organizational domain of ``domain`` and how it was found.

    Attributes:
        domain: The subject domain (lowercase A-labels).
        organizational_domain: Its organizational domain. For a public suffix under the
            PSL rule there is none, and this is ``domain`` itself with
            ``is_public_suffix`` set; such a domain aligns only with itself (RFC 7489
            §3.1.1: ``d=com`` never aligns).
        method: Tree walk or Public Suffix List.
        rule: The rule that decided.
        lookups: The ``_dmarc`` queries a tree walk made, in order (empty for the PSL).
        public_suffix_domain: The domain whose record says ``psd=y`` (tree walk), or the
            matching public suffix (PSL); ``None`` when there is none.
        is_public_suffix: ``domain`` itself is a public suffix (PSL only).
        alternative: The other method's answer, in comparing mode.
    """

    domain: str
    organizational_domain: str
    method: OrgDomainMethod
    rule: OrgDomainRule
    lookups: tuple[DmarcLookup, ...] = ()
    public_suffix_domain: str | None = None
    is_public_suffix: bool = False
    alternative: OrgDomain | None = None

    @property
    def queries(self) -> tuple[str, ...]:
        """The DNS names queried, in order."""
        return tuple(lookup.name for lookup in self.lookups)

    @property
    def disagrees(self) -> bool:
        """True in comparing mode when the other method found another organizational domain."""
        return (
            self.alternative is not None
            and self.alternative.organizational_domain != self.organizational_domain
        )

    def lookup_for(self, domain: str) -> DmarcLookup | None:
        """The lookup this walk made for ``_dmarc.<domain>``, if it made one."""
        for lookup in self.lookups:
            if lookup.domain == domain:
                return lookup
        return None


def normalize_dmarc_domain(value: str) -> str:
    """
    Return ``value`` as lowercase A-labels without a trailing dot; one label is allowed.

    DMARC must handle single-label names (``d=com``, the top of every tree walk), which
    the signing-side normalizer refuses.

    Raises:
        DomainSyntaxError: Empty, bad characters, empty labels, or refused by IDNA 2008.
    """
    name = value.strip()
    name = name[:-1] if name.endswith(".") else name
    if name and "." not in name:
        # Reuse the full check by borrowing a second label.
        return normalize_domain(name + ".invalid").rsplit(".", 1)[0]
    return normalize_domain(name)


def walk_targets(domain: str) -> tuple[str, ...]:
    """
    The domains whose ``_dmarc`` names a full tree walk queries, in order (RFC 9989 §4.10).

    The domain itself first; then, if it has eight labels or more, straight to its last
    seven labels; then one label less each time, down to the top-level domain. That is
    never more than :data:`MAX_TREE_WALK_QUERIES` names.
    """
    labels = domain.split(".")
    count = min(len(labels) - 1, _JUMP_TO)
    return (domain, *(".".join(labels[-n:]) for n in range(count, 0, -1)))


def select_organizational_domain(domain: str, lookups: tuple[DmarcLookup, ...]) -> OrgDomain:
    """
    Pick the organizational domain from a tree walk's lookups (RFC 9989 §4.10.2).

    Records are considered from the longest name to the shortest: ``psd=n`` names
    itself; ``psd=y`` (anywhere but the starting domain) makes the domain one label below
    it the answer; otherwise the record with the fewest labels wins. With no record at
    all, the domain is its own organizational domain.
    """
    found = [lookup for lookup in lookups if lookup.record is not None]
    labels = domain.split(".")
    for lookup in found:
        assert lookup.record is not None
        if lookup.record.psd is PsdFlag.NO:
            return _walked(domain, lookup.domain, OrgDomainRule.PSD_NO, lookups)
        if lookup.record.psd is PsdFlag.YES and lookup.domain != domain:
            below = ".".join(labels[-(lookup.domain.count(".") + 2) :])
            return _walked(domain, below, OrgDomainRule.BELOW_PSD, lookups, lookup.domain)
    if found:
        return _walked(domain, found[-1].domain, OrgDomainRule.FEWEST_LABELS, lookups)
    return _walked(domain, domain, OrgDomainRule.NO_RECORD, lookups)


def _walked(
    domain: str,
    org: str,
    rule: OrgDomainRule,
    lookups: tuple[DmarcLookup, ...],
    psd: str | None = None,
) -> OrgDomain:
    return OrgDomain(domain, org, OrgDomainMethod.TREE_WALK, rule, lookups, psd)


def tree_walk(domain: str) -> Generator[str, TxtAnswer, OrgDomain]:
    """
    The DNS Tree Walk of RFC 9989 §4.10 as a pure step generator.

    It yields each DNS name to query (``_dmarc.<target>``), expects the
    :class:`~oxdkim.TxtAnswer` to be sent back, and returns the :class:`OrgDomain`. It
    stops early at a single DMARC record carrying ``psd=y`` or ``psd=n`` (steps 2 and 6).
    It does no I/O, so sync and async callers share it; a DNS error thrown in propagates.
    """
    lookups: list[DmarcLookup] = []
    for target in walk_targets(domain):
        name = dmarc_name(target)
        answer = impossible_name(name) or (yield name)
        lookup = DmarcLookup.from_answer(target, answer)
        lookups.append(lookup)
        if lookup.record is not None and lookup.record.psd is not PsdFlag.UNKNOWN:
            break
    return select_organizational_domain(domain, tuple(lookups))


_Q = TypeVar("_Q")
_A = TypeVar("_A")
_R = TypeVar("_R")


def drive(plan: Generator[_Q, _A, _R], fetch: Callable[[_Q], _A]) -> _R:
    """
    Run a sans-I/O ``plan`` synchronously: answer each request it yields with ``fetch``.

    A :class:`~oxdkim.exceptions.DnsError` raised by ``fetch`` is thrown into the plan,
    which may handle it or let it propagate to the caller.
    """
    try:
        request = next(plan)
        while True:
            try:
                answer = fetch(request)
            except DnsError as exc:
                request = plan.throw(exc)
            else:
                request = plan.send(answer)
    except StopIteration as stop:
        result: _R = stop.value
        return result


async def drive_async(plan: Generator[_Q, _A, _R], fetch: Callable[[_Q], Awaitable[_A]]) -> _R:
    """The asynchronous twin of :func:`drive`; the plan is the same object."""
    try:
        request = next(plan)
        while True:
            try:
                answer = await fetch(request)
            except DnsError as exc:
                request = plan.throw(exc)
            else:
                request = plan.send(answer)
    except StopIteration as stop:
        result: _R = stop.value
        return result


def _subject(domain: str) -> str:
    try:
        return normalize_dmarc_domain(domain)
    except DomainSyntaxError as exc:
        raise ConfigurationError(f"invalid domain: {exc}") from None


class TreeWalkFinder:
    """
    Organizational domains by the RFC 9989 DNS Tree Walk.

    DNS is read through a :class:`~oxdkim.typing.Resolver`.

    Raises (from :meth:`find`):
        ConfigurationError: ``domain`` is not a domain name.
        DnsTempError: A query failed temporarily; the walk cannot be finished.
        DnsPermError: A query failed permanently (CNAME loop, ...).
    """

    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver

    def find(self, domain: str) -> OrgDomain:
        """Walk the tree above ``domain`` and return its organizational domain."""
        return drive(tree_walk(_subject(domain)), self._resolver.txt)


class AsyncTreeWalkFinder:
    """The asynchronous twin of :class:`TreeWalkFinder`, over an async resolver."""

    def __init__(self, resolver: AsyncResolver) -> None:
        self._resolver = resolver

    async def find(self, domain: str) -> OrgDomain:
        """Walk the tree above ``domain`` and return its organizational domain."""
        return await drive_async(tree_walk(_subject(domain)), self._resolver.txt)


@functools.cache
def _bundled_list(private_domains: bool) -> PublicSuffixList:
    return PublicSuffixList(accept_unknown=True, only_icann=not private_domains)


class PslFinder:
    """
    Organizational domains by the RFC 7489 §3.2 Public Suffix List rule, offline.

    Args:
        list_file: A ``public_suffix_list.dat`` to use instead of the copy bundled with
            the ``publicsuffixlist`` package (for a newer list, or a pinned one).
        private_domains: Honour the list's PRIVATE section (``github.io``,
            ``blogspot.com``, ...), as publicsuffix.org recommends. RFC 7489 receivers
            differ here; ``False`` keeps only the ICANN section.

    Unlisted top-level domains count as public suffixes (the list's ``*`` default rule).
    The finder does no I/O after construction and is safe to share between threads.

    Raises:
        ConfigurationError: ``list_file`` cannot be read.
    """

    def __init__(
        self, list_file: str | os.PathLike[str] | None = None, *, private_domains: bool = True
    ) -> None:
        if list_file is None:
            self._psl = _bundled_list(private_domains)
            return
        try:
            with open(list_file, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"cannot read public suffix list {list_file}: {exc}") from None
        self._psl = PublicSuffixList(
            text.splitlines(), accept_unknown=True, only_icann=not private_domains
        )

    def registrable_domain(self, name: str) -> str | None:
        """
        The public suffix plus one label, lowercase; ``None`` for a public suffix or a bad name.

        This is the list's own test semantics (``checkPublicSuffix``), for any string.
        """
        result = self._psl.privatesuffix(name)
        return None if result is None else str(result)

    def find(self, domain: str) -> OrgDomain:
        """
        The organizational domain of ``domain`` under the Public Suffix List rule.

        Raises:
            ConfigurationError: ``domain`` is not a domain name.
        """
        subject = _subject(domain)
        suffix = self._psl.publicsuffix(subject)
        org = self.registrable_domain(subject)
        if org is None:
            return OrgDomain(
                subject,
                subject,
                OrgDomainMethod.PUBLIC_SUFFIX_LIST,
                OrgDomainRule.PUBLIC_SUFFIX,
                public_suffix_domain=subject,
                is_public_suffix=True,
            )
        return OrgDomain(
            subject,
            org,
            OrgDomainMethod.PUBLIC_SUFFIX_LIST,
            OrgDomainRule.PUBLIC_SUFFIX_LIST,
            public_suffix_domain=None if suffix is None else str(suffix),
        )


class AsyncFinderAdapter:
    """Use a finder that does no I/O (such as :class:`PslFinder`) where an async one is needed."""

    def __init__(self, finder: OrgDomainFinder) -> None:
        self._finder = finder

    async def find(self, domain: str) -> OrgDomain:
        """The wrapped finder's answer."""
        return self._finder.find(domain)


class ComparingFinder:
    """
    Run ``primary`` and ``secondary``; answer with ``primary``, the other attached.

    The result's :attr:`OrgDomain.alternative` holds the secondary answer, and alignment
    reports identifiers whose verdict would differ. Typical use: the RFC 9989 tree walk as
    primary and :class:`PslFinder` as secondary, to see what RFC 7489 receivers decide.
    """

    def __init__(self, primary: OrgDomainFinder, secondary: OrgDomainFinder) -> None:
        self._primary = primary
        self._secondary = secondary

    def find(self, domain: str) -> OrgDomain:
        """Both answers; a DNS error from either finder propagates."""
        first = self._primary.find(domain)
        return attrs.evolve(first, alternative=self._secondary.find(domain))


class AsyncComparingFinder:
    """The asynchronous twin of :class:`ComparingFinder`."""

    def __init__(self, primary: AsyncOrgDomainFinder, secondary: AsyncOrgDomainFinder) -> None:
        self._primary = primary
        self._secondary = secondary

    async def find(self, domain: str) -> OrgDomain:
        """Both answers; a DNS error from either finder propagates."""
        first = await self._primary.find(domain)
        return attrs.evolve(first, alternative=await self._secondary.find(domain))
