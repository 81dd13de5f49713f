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

import functools
import os
from collections.abc import Generator, Mapping

import attrs
from publicsuffixlist import PublicSuffixList

from .._base.answers import TxtAnswer
from .._base.domains import DomainSyntaxError, normalize_domain
from .._base.sansio import drive, drive_async
from ..exceptions import ConfigurationError, DnsError, DnsTempError
from ..typing import AsyncOrgDomainFinder, AsyncResolver, OrgDomainFinder, Resolver
from .record import (
    DmarcLookup,
    DmarcRecord,
    LookupStatus,
    OrgDomain,
    OrgDomainMethod,
    OrgDomainRule,
    PsdFlag,
    dmarc_name,
    impossible_name,
)

__all__ = [
    "MAX_TREE_WALK_QUERIES",
    "AsyncComparingFinder",
    "AsyncFinderAdapter",
    "AsyncTreeWalkFinder",
    "ComparingFinder",
    "OrgKnowledge",
    "PslFinder",
    "TreeWalkFinder",
    "ancestors",
    "is_at_or_below",
    "lookup_dmarc",
    "lookup_dmarc_async",
    "normalize_dmarc_domain",
    "select_organizational_domain",
    "tolerant_tree_walk",
    "tree_walk",
    "walk_targets",
]

MAX_TREE_WALK_QUERIES = 8
"""RFC 9989 §4.10: a tree walk never makes more than eight DNS queries."""

_JUMP_TO = MAX_TREE_WALK_QUERIES - 1


def lookup_dmarc(resolver: Resolver, domain: str) -> DmarcLookup:
    """
    Query ``_dmarc.<domain>`` and classify the answer.

    Raises:
        DnsTempError: The answer is unknowable right now: never read as "no policy".
        DnsPermError: The resolver could not follow the answer (CNAME loop, ...).
    """
    name = dmarc_name(domain)
    return DmarcLookup.from_answer(domain, impossible_name(name) or resolver.txt(name))


async def lookup_dmarc_async(resolver: AsyncResolver, domain: str) -> DmarcLookup:
    """The asynchronous twin of :func:`lookup_dmarc`."""
    name = dmarc_name(domain)
    return DmarcLookup.from_answer(domain, impossible_name(name) or await resolver.txt(name))


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


def ancestors(domain: str) -> tuple[str, ...]:
    """``domain`` and every domain above it, longest first: its possible organizational domains."""
    labels = domain.split(".")
    return tuple(".".join(labels[i:]) for i in range(len(labels)))


def is_at_or_below(domain: str, other: str) -> bool:
    """``domain`` is ``other`` or a subdomain of it (lowercase A-labels)."""
    return domain == other or domain.endswith("." + other)


@attrs.frozen
class OrgKnowledge:
    """
    What DNS told about a domain's organizational domain, even when a query failed.

    An identifier aligns when its organizational domain equals the Author Domain's
    (RFC 9989 §4.4), so a failed query only matters if the two sets of *possible*
    organizational domains meet. ``candidates`` is that set: exactly the answer when the
    walk finished (``org`` is set), else every organizational domain some answer to the
    failed names would give (see :func:`tolerant_tree_walk`).

    Attributes:
        domain: The subject domain.
        org: The answer, when every query it needed was answered.
        candidates: The possible organizational domains.
        error: The failure that left the answer open (a temporary one if any was).
        lookups: The lookups that were answered.
        entries: The walk's targets in order, each with its lookup or ``None`` where the
            query failed (empty when a finder failed without saying more).
    """

    domain: str
    org: OrgDomain | None
    candidates: frozenset[str]
    error: DnsError | None = attrs.field(default=None, eq=False)
    lookups: tuple[DmarcLookup, ...] = ()
    entries: tuple[tuple[str, DmarcLookup | None], ...] = ()

    @property
    def failed(self) -> frozenset[str]:
        """The targets whose ``_dmarc`` query failed."""
        return frozenset(target for target, lookup in self.entries if lookup is None)

    def organizational_domain_if(self, answers: Mapping[str, PsdFlag | None]) -> str:
        """
        The organizational domain the walk gives if each failed target held ``answers``.

        ``None`` stands for no record, a :class:`PsdFlag` for a record carrying it.
        """
        lookups: list[DmarcLookup] = []
        for target, known in self.entries:
            lookup = known
            if lookup is None:
                flag = answers[target]
                record = None if flag is None else DmarcRecord(psd=flag)
                status = LookupStatus.NO_RECORD if flag is None else LookupStatus.FOUND
                lookup = DmarcLookup(target, status, record)
            lookups.append(lookup)
            if lookup.record is not None and lookup.record.psd is not PsdFlag.UNKNOWN:
                break
        return select_organizational_domain(self.domain, tuple(lookups)).organizational_domain

    @property
    def exact(self) -> bool:
        """The organizational domain is known."""
        return self.org is not None

    @classmethod
    def known(cls, org: OrgDomain) -> OrgKnowledge:
        """Everything is known."""
        return cls(org.domain, org, frozenset({org.organizational_domain}), None, org.lookups)

    @classmethod
    def unknown(cls, domain: str, error: DnsError) -> OrgKnowledge:
        """A finder failed and said nothing: any domain at or above ``domain`` is possible."""
        return cls(domain, None, frozenset(ancestors(domain)), error)


def _worse(old: DnsError | None, new: DnsError) -> DnsError:
    """The error to report: the first temporary one, else the first one."""
    if old is None or (isinstance(new, DnsTempError) and not isinstance(old, DnsTempError)):
        return new
    return old


def _child(domain: str, target: str) -> str:
    """The domain one label below ``target`` on the way to ``domain`` (RFC 9989 §4.10.2 rule 2)."""
    return ".".join(domain.split(".")[-(target.count(".") + 2) :])


def _possible(domain: str, entries: list[tuple[str, DmarcLookup | None]]) -> frozenset[str]:
    """
    Every organizational domain a walk could give, whatever the failed lookups would say.

    A failed lookup (``None``) could hold nothing, a record with ``psd=u`` (then it may be
    the record with the fewest labels), ``psd=n`` (it is the answer) or ``psd=y`` (the
    domain one label below it is). The walk stops at the first record with a ``psd``
    flag, so a known such record is reached only when every failed lookup before it
    held no flag. Each candidate listed is given by some answer, so the set is exact.
    """
    candidates: set[str] = set()
    for index, (target, lookup) in enumerate(entries):
        if lookup is None:
            candidates.add(target)
            candidates.add(_child(domain, target) if index else domain)
            continue
        if lookup.record is not None and lookup.record.psd is not PsdFlag.UNKNOWN:
            known = tuple(found for _, found in entries[: index + 1] if found is not None)
            candidates.add(select_organizational_domain(domain, known).organizational_domain)
            return frozenset(candidates)
    records = [found for _, found in entries if found is not None and found.record is not None]
    candidates.add(records[-1].domain if records else domain)
    return frozenset(candidates)


def tolerant_tree_walk(domain: str) -> Generator[str, TxtAnswer, OrgKnowledge]:
    """
    :func:`tree_walk` that goes on past a failed query and says what is still possible.

    With every query answered it returns the same answer as :func:`tree_walk`. A DNS error
    thrown in is remembered and the walk carries on up the tree (the names above decide
    too), so the result lists every organizational domain that some answer to the failed
    names would give: :attr:`OrgKnowledge.candidates`.
    """
    entries: list[tuple[str, DmarcLookup | None]] = []
    error: DnsError | None = None
    for target in walk_targets(domain):
        name = dmarc_name(target)
        try:
            answer = impossible_name(name) or (yield name)
        except DnsError as exc:
            error = _worse(error, exc)
            entries.append((target, None))
            continue
        lookup = DmarcLookup.from_answer(target, answer)
        entries.append((target, lookup))
        if lookup.record is not None and lookup.record.psd is not PsdFlag.UNKNOWN:
            break
    lookups = tuple(lookup for _, lookup in entries if lookup is not None)
    if error is None:
        return OrgKnowledge.known(select_organizational_domain(domain, lookups))
    return OrgKnowledge(domain, None, _possible(domain, entries), error, lookups, tuple(entries))


def _subject(domain: str) -> str:
    try:
        return normalize_dmarc_domain(domain)
    except DomainSyntaxError as exc:
        raise ConfigurationError(f"invalid domain: {exc}") from None


def tree_walk_for(domain: str) -> Generator[str, TxtAnswer, OrgDomain]:
    """
    :func:`tree_walk` for a domain as a caller writes it (checked and normalized).

    Raises:
        ConfigurationError: ``domain`` is not a domain name (when called).
    """
    return tree_walk(_subject(domain))


class TreeWalkFinder:
    """
    Organizational domains by the RFC 9989 DNS Tree Walk.

    DNS is read through a :class:`~oxdkim.typing.Resolver`.

    Raises (from :meth:`find`):
        ConfigurationError: ``domain`` is not a domain name.
        DnsTempError: A query failed temporarily; the walk cannot be finished.
        DnsPermError: A query failed permanently (CNAME loop, ...).
    """

    method = OrgDomainMethod.TREE_WALK

    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver

    def find(self, domain: str) -> OrgDomain:
        """Walk the tree above ``domain`` and return its organizational domain."""
        return drive(tree_walk_for(domain), self._resolver.txt)


class AsyncTreeWalkFinder:
    """The asynchronous twin of :class:`TreeWalkFinder`, over an async resolver."""

    method = OrgDomainMethod.TREE_WALK

    def __init__(self, resolver: AsyncResolver) -> None:
        self._resolver = resolver

    async def find(self, domain: str) -> OrgDomain:
        """Walk the tree above ``domain`` and return its organizational domain."""
        return await drive_async(tree_walk_for(domain), self._resolver.txt)


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

    method = OrgDomainMethod.PUBLIC_SUFFIX_LIST

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
        self.method: OrgDomainMethod | None = getattr(finder, "method", None)
        """The wrapped finder's method, when it says."""

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
        self.method: OrgDomainMethod | None = getattr(primary, "method", None)
        """The primary finder's method, whose answers decide."""

    def find(self, domain: str) -> OrgDomain:
        """Both answers; a DNS error from either finder propagates."""
        first = self._primary.find(domain)
        return attrs.evolve(first, alternative=self._secondary.find(domain))


class AsyncComparingFinder:
    """The asynchronous twin of :class:`ComparingFinder`."""

    def __init__(self, primary: AsyncOrgDomainFinder, secondary: AsyncOrgDomainFinder) -> None:
        self._primary = primary
        self._secondary = secondary
        self.method: OrgDomainMethod | None = getattr(primary, "method", None)
        """The primary finder's method, whose answers decide."""

    async def find(self, domain: str) -> OrgDomain:
        """Both answers; a DNS error from either finder propagates."""
        first = await self._primary.find(domain)
        return attrs.evolve(first, alternative=await self._secondary.find(domain))
