"""
DMARC evaluation: policy discovery, identifier alignment, result and disposition.

:class:`DmarcAlignment` (sync) and :class:`AsyncDmarcAlignment` drive one sans-I/O plan
(:func:`_evaluate`), which yields two kinds of requests, "TXT records at a name" and
"organizational domain of a domain", and returns a :class:`DmarcResult`. The logic exists
once; the two classes differ only in how they answer a request.

Inputs (RFC 9989 §5.3.3):

* the Author Domain: one domain, or the domains of every address of a From field that
  holds several (one domain is one Author Domain, RFC 9989 §5.3.1; several domains never
  pass, §11.5; see :meth:`DmarcAlignment.evaluate`);
* DKIM: the ``d=`` of each signature, as plain domain strings (taken as passing) or as
  objects with ``.domain`` (a verifier's results): if such an object also has a
  ``.result`` whose token is not ``"pass"``, it is listed but never aligns;
* SPF: the SPF result and the domain it was checked for (the MAIL FROM domain, or the
  HELO domain for a null reverse-path, RFC 7208 §2.4).

Every passing signature is checked (RFC 9989 §4.4.1): one aligned identifier is a pass.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Protocol, TypeVar

import attrs

from .._base.answers import DnsStatus, TxtAnswer
from .._base.domains import DomainSyntaxError, is_subdomain
from .._base.sansio import drive, drive_async, relay, remembered
from ..exceptions import ConfigurationError, DnsError, DnsTempError
from ..typing import AsyncOrgDomainFinder, AsyncResolver, OrgDomainFinder, Resolver
from .orgdomain import (
    OrgKnowledge,
    is_at_or_below,
    normalize_dmarc_domain,
    tolerant_tree_walk,
)
from .record import (
    AlignmentMode,
    DmarcLookup,
    DmarcRecord,
    LookupStatus,
    OrgDomain,
    OrgDomainMethod,
    Policy,
    PsdFlag,
    dmarc_name,
    impossible_name,
)

__all__ = [
    "MAX_AUTHOR_DOMAINS",
    "AlignmentReason",
    "AsyncDmarcAlignment",
    "DkimInput",
    "DmarcAlignment",
    "DmarcReason",
    "DmarcResult",
    "DmarcVerdict",
    "Identifier",
    "IdentifierAlignment",
    "PolicySource",
    "SpfCheck",
    "SpfResult",
]

MAX_AUTHOR_DOMAINS = 8
"""Distinct From domains evaluated for a multi-address From (RFC 9989 §11.5 advises a limit)."""


class DmarcVerdict(enum.Enum):
    """The DMARC result codes (RFC 9989 §9.2; the ``dmarc=`` values of RFC 8601)."""

    PASS = "pass"  # noqa: S105
    FAIL = "fail"
    NONE = "none"
    TEMPERROR = "temperror"
    PERMERROR = "permerror"


class DmarcReason(enum.Enum):
    """Why the verdict is what it is, as a stable machine-readable code."""

    ALIGNED = "aligned"
    """An authenticated identifier is aligned with the Author Domain."""
    NOT_ALIGNED = "not-aligned"
    """A policy exists and no authenticated identifier is aligned."""
    NO_POLICY = "no-policy"
    """No DMARC policy record applies to the Author Domain (RFC 9989 §4.10.1)."""
    MULTIPLE_RECORDS = "multiple-records"
    """Several DMARC records at the policy name (RFC 7489 §6.6.3 step 5)."""
    INVALID_RECORD = "invalid-record"
    """The policy record has a bad ``p``/``sp``/``np`` and no valid ``rua`` (§4.10.1)."""
    DNS_TEMPORARY = "dns-temporary"
    """A DNS query needed for the verdict failed temporarily; try again later."""
    DNS_PERMANENT = "dns-permanent"
    """A DNS answer needed for the verdict was permanently unusable."""
    NO_AUTHOR_DOMAIN = "no-author-domain"
    """The From field gave no domain (RFC 9989 §5.3.1)."""
    INVALID_AUTHOR_DOMAIN = "invalid-author-domain"
    """The From domain is not a valid domain name."""
    MULTIPLE_AUTHORS = "multiple-authors"
    """The From field holds addresses in several domains; never a pass (RFC 9989 §11.5)."""
    TOO_MANY_AUTHORS = "too-many-authors"
    """More than ``MAX_AUTHOR_DOMAINS`` distinct From domains: evaluation refused."""


class PolicySource(enum.Enum):
    """The record tag the applied policy came from (RFC 9989 §4.10.1)."""

    P = "p"
    SP = "sp"
    NP = "np"


class Identifier(enum.Enum):
    """The authenticated identifier kinds DMARC aligns (RFC 9989 §4.3)."""

    DKIM = "dkim"
    SPF = "spf"


class AlignmentReason(enum.Enum):
    """Why one identifier is or is not aligned with the Author Domain."""

    IDENTICAL = "identical"
    """Same domain: aligned in strict and relaxed mode."""
    SAME_ORGANIZATIONAL_DOMAIN = "same-organizational-domain"
    """Relaxed mode, same organizational domain (RFC 9989 §3.2.10.1)."""
    DIFFERENT_ORGANIZATIONAL_DOMAIN = "different-organizational-domain"
    """Relaxed mode, different organizational domains."""
    OUTSIDE_ORGANIZATIONAL_DOMAIN = "outside-organizational-domain"
    """
    Relaxed mode, and the domain is not at or below the Author Domain's organizational
    domain: its own is itself or above it (RFC 9989 §4.10.2), so it can never align and
    its DNS is not asked (a failure there cannot change the verdict).
    """
    STRICT_MISMATCH = "strict-mismatch"
    """Strict mode and the domains differ (RFC 9989 §3.2.10.2)."""
    PUBLIC_SUFFIX = "public-suffix"
    """A public suffix has no organizational domain (RFC 7489 §3.1.1): only itself aligns."""
    NOT_AUTHENTICATED = "not-authenticated"
    """The SPF result or DKIM signature did not pass; only passing identifiers align."""
    EMPTY_DOMAIN = "empty-domain"
    """No domain was given; an empty domain never aligns."""
    INVALID_DOMAIN = "invalid-domain"
    """The domain is not a valid domain name."""
    TEMPERROR = "temperror"
    """The organizational domain could not be found: a DNS query failed temporarily."""
    PERMERROR = "permerror"
    """The organizational domain could not be found: a DNS answer was unusable."""


class SpfResult(enum.Enum):
    """SPF results (RFC 7208 §2.6); only ``pass`` authenticates the domain for DMARC."""

    PASS = "pass"  # noqa: S105
    FAIL = "fail"
    SOFTFAIL = "softfail"
    NEUTRAL = "neutral"
    NONE = "none"
    TEMPERROR = "temperror"
    PERMERROR = "permerror"


def _spf_result(value: SpfResult | str) -> SpfResult:
    if isinstance(value, SpfResult):
        return value
    try:
        return SpfResult(str(value).strip().lower())
    except ValueError:
        raise ConfigurationError(f"{value!r} is not an SPF result (RFC 7208 §2.6)") from None


@attrs.frozen
class SpfCheck:
    """
    The SPF result for a message and the domain SPF checked.

    ``domain`` is the RFC5321.MailFrom domain, or the HELO domain when the reverse-path
    was null (RFC 7208 §2.4); ``result`` accepts the enum or its token (``"pass"``).
    """

    result: SpfResult = attrs.field(converter=_spf_result)
    domain: str | None


class _HasDomain(Protocol):
    """A DKIM input for alignment: anything with the signature's ``d=`` (or ``None``)."""

    @property
    def domain(self) -> str | None: ...


DkimInput = str | _HasDomain
"""A DKIM ``d=`` domain (taken as a passing signature) or a verifier result with ``.domain``."""


@attrs.frozen
class IdentifierAlignment:
    """
    One authenticated identifier checked against the Author Domain.

    Attributes:
        identifier: DKIM or SPF.
        domain: The identifier's domain as normalized (or as given, when invalid).
        mode: The alignment mode the policy record asks for (relaxed without a record).
        aligned: Whether it aligns.
        reason: Why.
        organizational_domain: The identifier's organizational domain, when it was needed.
        alternative_aligned: In comparing mode, whether the other organizational-domain
            method would align it; ``None`` outside comparing mode.
    """

    identifier: Identifier
    domain: str
    mode: AlignmentMode
    aligned: bool
    reason: AlignmentReason
    organizational_domain: str | None = None
    alternative_aligned: bool | None = None

    @property
    def disagrees(self) -> bool:
        """The two organizational-domain methods give different alignment verdicts."""
        return self.alternative_aligned is not None and self.alternative_aligned != self.aligned


_A_R_DOMAIN = re.compile(r"\A[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?\Z")


@attrs.frozen
class DmarcResult:
    """
    The outcome of DMARC evaluation for one message (or one identity set).

    Attributes:
        verdict: pass, fail, none, temperror or permerror (RFC 9989 §9.2).
        reason: Why, as a stable code.
        author_domain: The From domain, normalized; ``None`` when there is none, or for
            a multi-address From (see ``authors``).
        author_org: How the Author Domain's organizational domain was found, when it was.
        policy_domain: Where the applicable policy record was found (RFC 9989 §3.2.5).
        record: That record.
        policy_source: Which tag supplies the policy: ``p`` for the Author Domain's own
            record, ``sp`` for an existing subdomain, ``np`` for a non-existent one.
        policy: The policy of that tag, whatever the verdict: what failing mail gets.
        disposition: What the Domain Owner asks for *this* message: the policy, one step
            milder under ``t=y``, when the verdict is fail; otherwise ``none``.
        dkim: One entry per DKIM signature given, in order.
        spf: The SPF identifier, when given.
        lookups: The ``_dmarc`` lookups made to discover the policy.
        authors: For a From whose addresses are in several domains, the evaluation of
            each distinct domain.
        author_exists: ``False`` when the Author Domain was found not to exist (NXDOMAIN);
            ``None`` when that was not checked (only ``np`` needs it).
        rfc7489: Evaluated as an RFC 7489 receiver would (the Public Suffix List mode):
            the ``pct`` tag is applied and ``t`` is not a tag (RFC 7489 §6.6.4).
    """

    verdict: DmarcVerdict
    reason: DmarcReason
    author_domain: str | None = None
    author_org: OrgDomain | None = None
    policy_domain: str | None = None
    record: DmarcRecord | None = None
    policy_source: PolicySource | None = None
    policy: Policy | None = None
    disposition: Policy = Policy.NONE
    dkim: tuple[IdentifierAlignment, ...] = ()
    spf: IdentifierAlignment | None = None
    lookups: tuple[DmarcLookup, ...] = ()
    authors: tuple[DmarcResult, ...] = ()
    author_exists: bool | None = None
    rfc7489: bool = False

    @property
    def passed(self) -> bool:
        """True when the verdict is pass."""
        return self.verdict is DmarcVerdict.PASS

    @property
    def organizational_domain(self) -> str | None:
        """The Author Domain's organizational domain, when it was found."""
        return None if self.author_org is None else self.author_org.organizational_domain

    @property
    def identifiers(self) -> tuple[IdentifierAlignment, ...]:
        """Each identifier checked, DKIM signatures first, then SPF."""
        return self.dkim + ((self.spf,) if self.spf is not None else ())

    @property
    def disagreements(self) -> tuple[IdentifierAlignment, ...]:
        """The identifiers the other method would align differently (comparing mode)."""
        found = tuple(i for i in self.identifiers if i.disagrees)
        return found + tuple(i for part in self.authors for i in part.disagreements)

    @property
    def applied_policy(self) -> Policy | None:
        """
        The policy after ``t`` is processed (``policy.dmarc`` of RFC 9989 §9.1).

        ``t=y`` asks for one step milder (RFC 9989 §4.7). In RFC 7489 mode ``pct`` takes
        its place: ``pct=0`` selects no message, so every one gets the next milder policy
        (RFC 7489 §6.6.4); another value below 100 samples, and the policy shown is what
        the selected messages get.
        """
        if self.policy is None or self.record is None:
            return None
        milder = self.record.pct == 0 if self.rfc7489 else self.record.t
        return self.policy.relaxed_one_step() if milder else self.policy

    def authentication_results(self) -> str:
        """
        The ``dmarc=`` method result for an Authentication-Results field (RFC 8601 §2.7).

        Example: ``dmarc=fail header.from=example.com policy.dmarc=quarantine``. The
        ``header.from`` and ``policy.dmarc`` properties are those registered by RFC 9989
        §9.1. Every part is either an enum token or a validated A-label domain, so
        nothing taken from a message can inject text into the field.
        """
        parts = [f"dmarc={self.verdict.value}"]
        if self.author_domain is not None and _A_R_DOMAIN.match(self.author_domain):
            parts.append(f"header.from={self.author_domain}")
        applied = self.applied_policy
        if applied is not None and self.verdict in (DmarcVerdict.PASS, DmarcVerdict.FAIL):
            # Only a known verdict has a policy to apply; temperror and permerror have none.
            parts.append(f"policy.dmarc={applied.value}")
        return " ".join(parts)


# ---------------------------------------------------------------------------
# The sans-I/O plan


@attrs.frozen
class _Txt:
    name: str


@attrs.frozen
class _Org:
    domain: str


_Request = _Txt | _Org
_Answer = TxtAnswer | OrgDomain


def _txt(name: str) -> Generator[_Request, _Answer, TxtAnswer]:
    answer = yield _Txt(name)
    assert isinstance(answer, TxtAnswer)
    return answer


def _org(domain: str) -> Generator[_Request, _Answer, OrgDomain]:
    answer = yield _Org(domain)
    assert isinstance(answer, OrgDomain)
    return answer


def _error_verdict(exc: DnsError) -> tuple[DmarcVerdict, DmarcReason]:
    if isinstance(exc, DnsTempError):
        return DmarcVerdict.TEMPERROR, DmarcReason.DNS_TEMPORARY
    return DmarcVerdict.PERMERROR, DmarcReason.DNS_PERMANENT


def _result_token(item: object) -> str | None:
    result = getattr(item, "result", None)
    if result is None:
        return None
    value = getattr(result, "value", result)
    return str(value).lower()


@attrs.frozen
class _Claim:
    """One identifier as given: its kind, domain text, and whether it authenticated."""

    identifier: Identifier
    domain: str | None
    passing: bool


_MISSING = object()


def _claims(dkim: Iterable[DkimInput], spf: SpfCheck | None) -> list[_Claim]:
    claims: list[_Claim] = []
    for item in dkim:
        if isinstance(item, str):
            claims.append(_Claim(Identifier.DKIM, item, True))
            continue
        domain = getattr(item, "domain", _MISSING)
        if isinstance(domain, bytes):
            domain = domain.decode("ascii", errors="replace")
        if domain is not None and not isinstance(domain, str):
            raise ConfigurationError(
                f"a DKIM input must be a domain or have a .domain, not {type(item).__name__}"
            )
        token = _result_token(item)
        claims.append(_Claim(Identifier.DKIM, domain, token in (None, "pass")))
    if spf is not None:
        claims.append(_Claim(Identifier.SPF, spf.domain, spf.result is SpfResult.PASS))
    return claims


class _Evaluation:
    """
    State of one Author Domain's evaluation: what is known of each organizational domain.

    Organizational domains are looked up lazily and only when a verdict can depend on
    them (RFC 9989 §4.10.2): identical domains and strict mode need none, and an
    identifier that is not at or below any possible organizational domain of the Author
    Domain can never align, so its DNS (which its owner controls) is never asked. (In
    comparing mode it is asked, for the other method's view; a failure there only leaves
    that view out.)
    """

    def __init__(self, author: str, walk: bool) -> None:
        self.author = author
        self.walk = walk
        self.known: dict[str, OrgKnowledge] = {}

    def knowledge(self, domain: str) -> Generator[_Request, _Answer, OrgKnowledge]:
        """What can be known of ``domain``'s organizational domain (cached)."""
        found = self.known.get(domain)
        if found is None:
            if self.walk:
                found = yield from relay(tolerant_tree_walk(domain), _txt)
            else:
                try:
                    found = OrgKnowledge.known((yield from _org(domain)))
                except DnsError as exc:
                    found = OrgKnowledge.unknown(domain, exc)
            self.known[domain] = found
        return found

    @property
    def author_org(self) -> OrgDomain | None:
        known = self.known.get(self.author)
        return known.org if known is not None else None

    def align(
        self, claim: _Claim, mode: AlignmentMode
    ) -> Generator[_Request, _Answer, IdentifierAlignment]:
        """Check one identifier (RFC 9989 §4.4, §4.10.2)."""

        def result(
            domain: str,
            aligned: bool,
            reason: AlignmentReason,
            org: str | None = None,
            alternative: bool | None = None,
        ) -> IdentifierAlignment:
            return IdentifierAlignment(
                claim.identifier, domain, mode, aligned, reason, org, alternative
            )

        def same(domain: str, aligned: bool, reason: AlignmentReason) -> IdentifierAlignment:
            # These verdicts do not depend on the organizational-domain method.
            author_org = self.author_org
            comparing = author_org is not None and author_org.alternative is not None
            return result(domain, aligned, reason, None, aligned if comparing else None)

        if not claim.domain or not claim.domain.strip():
            return same("", False, AlignmentReason.EMPTY_DOMAIN)
        try:
            domain = normalize_dmarc_domain(claim.domain)
        except DomainSyntaxError:
            return same(claim.domain, False, AlignmentReason.INVALID_DOMAIN)
        if not claim.passing:
            return same(domain, False, AlignmentReason.NOT_AUTHENTICATED)
        if domain == self.author:
            return same(domain, True, AlignmentReason.IDENTICAL)
        if mode is AlignmentMode.STRICT:
            return same(domain, False, AlignmentReason.STRICT_MISMATCH)
        author = yield from self.knowledge(self.author)
        reachable = any(is_at_or_below(domain, c) for c in author.candidates)
        comparing = author.org is not None and author.org.alternative is not None
        if not reachable and not comparing:
            # Its organizational domain is itself or above it: never the Author Domain's.
            return result(domain, False, AlignmentReason.OUTSIDE_ORGANIZATIONAL_DOMAIN)
        other = yield from self.knowledge(domain)
        if author.org is not None and other.org is not None:
            aligned, reason = _relaxed(author.org, other.org)
            alternative = None
            if author.org.alternative is not None and other.org.alternative is not None:
                alternative = _relaxed(author.org.alternative, other.org.alternative)[0]
            return result(domain, aligned, reason, other.org.organizational_domain, alternative)
        org = other.org.organizational_domain if other.org is not None else None
        if not reachable or not author.candidates & other.candidates:
            return result(domain, False, AlignmentReason.DIFFERENT_ORGANIZATIONAL_DOMAIN, org)
        same_org = _same_whatever_dns_says(author, other)
        if same_org is not None:
            reason = (
                AlignmentReason.SAME_ORGANIZATIONAL_DOMAIN
                if same_org
                else AlignmentReason.DIFFERENT_ORGANIZATIONAL_DOMAIN
            )
            return result(domain, same_org, reason, org)
        errors = [e for e in (author.error, other.error) if e is not None]
        temporary = any(isinstance(e, DnsTempError) for e in errors)
        return result(
            domain,
            False,
            AlignmentReason.TEMPERROR if temporary else AlignmentReason.PERMERROR,
            org,
        )


_FLAGS: tuple[PsdFlag | None, ...] = (None, PsdFlag.UNKNOWN, PsdFlag.YES, PsdFlag.NO)
"""What a failed ``_dmarc`` query could have held, as far as a tree walk cares."""
_MAX_JOINT = 5
"""Failed names beyond which the joint check gives up (4**5 = 1024 cases)."""


def _same_whatever_dns_says(author: OrgKnowledge, other: OrgKnowledge) -> bool | None:
    """
    Whether two walks give one organizational domain for every answer the failed names
    could hold; ``None`` when that depends on the answers (or is too costly to tell).

    The two walks share the names above the domains' common part, so their answers are
    tied: checking each set of answers jointly is exact where comparing the candidate
    sets separately is not.
    """
    if any(not k.entries and k.org is None for k in (author, other)):
        return None  # a finder failed and said nothing more
    failed = sorted(author.failed | other.failed)
    if len(failed) > _MAX_JOINT:
        return None
    seen: set[bool] = set()
    for flags in itertools.product(_FLAGS, repeat=len(failed)):
        answers = dict(zip(failed, flags, strict=True))
        mine = _org_if(author, answers)
        seen.add(mine == _org_if(other, answers))
        if len(seen) > 1:
            return None
    return seen.pop()


def _org_if(known: OrgKnowledge, answers: dict[str, PsdFlag | None]) -> str:
    if known.org is not None:
        return known.org.organizational_domain
    return known.organizational_domain_if(answers)


def _relaxed(author: OrgDomain, other: OrgDomain) -> tuple[bool, AlignmentReason]:
    """Relaxed alignment of two different domains from their organizational domains."""
    if author.is_public_suffix or other.is_public_suffix:
        return False, AlignmentReason.PUBLIC_SUFFIX
    if author.organizational_domain == other.organizational_domain:
        return True, AlignmentReason.SAME_ORGANIZATIONAL_DOMAIN
    return False, AlignmentReason.DIFFERENT_ORGANIZATIONAL_DOMAIN


@attrs.frozen
class _Policy:
    """Where the applicable policy record was found."""

    lookup: DmarcLookup | None
    subdomain: bool = False
    lookups: tuple[DmarcLookup, ...] = ()
    multiple: bool = False


def _discover(
    author: str, own: DmarcLookup, state: _Evaluation
) -> Generator[_Request, _Answer, _Policy]:
    """
    DMARC policy discovery (RFC 9989 §4.10.1) once the Author Domain's own record is known.

    A record at the Author Domain is the one applied, and nothing above it is asked. Else,
    with the tree walk, the organizational domain's record applies, else the PSD's (the
    ``psd=y`` record the walk met). With a finder that makes no DMARC queries (the PSL),
    this is RFC 7489 §6.6.3: several records at the Author Domain end discovery; else
    the organizational domain's record applies.

    Raises:
        DnsError: The walk or a lookup it needs failed: the policy is unknown.
    """
    if own.status is LookupStatus.FOUND:
        return _Policy(own, False, (own,))
    known = yield from state.knowledge(author)
    if known.org is None:
        assert known.error is not None
        raise known.error
    org = known.org
    walked = bool(org.lookups)
    lookups = list(org.lookups) if walked else [own]
    if own.status is LookupStatus.MULTIPLE and not walked:
        return _Policy(None, lookups=tuple(lookups), multiple=True)
    candidates = [org.organizational_domain]
    if walked and org.public_suffix_domain is not None:
        candidates.append(org.public_suffix_domain)
    for domain in candidates:
        if domain == author:
            continue
        found = org.lookup_for(domain)
        if found is None and not walked:
            name = dmarc_name(domain)
            answer = impossible_name(name) or (yield from _txt(name))
            found = DmarcLookup.from_answer(domain, answer)
            lookups.append(found)
        if found is not None and found.status is LookupStatus.FOUND:
            return _Policy(found, is_subdomain(author, domain), tuple(lookups))
        if found is not None and found.status is LookupStatus.MULTIPLE and not walked:
            return _Policy(None, lookups=tuple(lookups), multiple=True)
    return _Policy(None, lookups=tuple(lookups))


def _verdict(identifiers: tuple[IdentifierAlignment, ...]) -> tuple[DmarcVerdict, DmarcReason]:
    """One aligned identifier passes; an open question decides only when none does."""
    if any(i.aligned for i in identifiers):
        return DmarcVerdict.PASS, DmarcReason.ALIGNED
    if any(i.reason is AlignmentReason.TEMPERROR for i in identifiers):
        return DmarcVerdict.TEMPERROR, DmarcReason.DNS_TEMPORARY
    if any(i.reason is AlignmentReason.PERMERROR for i in identifiers):
        return DmarcVerdict.PERMERROR, DmarcReason.DNS_PERMANENT
    return DmarcVerdict.FAIL, DmarcReason.NOT_ALIGNED


def _evaluate_author(
    raw_author: str, claims: list[_Claim], walk: bool, rfc7489: bool
) -> Generator[_Request, _Answer, DmarcResult]:
    """Evaluate one Author Domain: discovery, alignment, verdict, policy."""
    try:
        author = normalize_dmarc_domain(raw_author)
    except DomainSyntaxError:
        return DmarcResult(DmarcVerdict.PERMERROR, DmarcReason.INVALID_AUTHOR_DOMAIN)
    state = _Evaluation(author, walk)
    try:
        name = dmarc_name(author)
        own = DmarcLookup.from_answer(author, impossible_name(name) or (yield from _txt(name)))
        found = yield from _discover(author, own, state)
    except DnsError as exc:
        verdict, reason = _error_verdict(exc)
        return DmarcResult(verdict, reason, author, state.author_org)
    record = found.lookup.record if found.lookup is not None else None
    usable = record if record is not None and record.usable else None
    dkim: list[IdentifierAlignment] = []
    spf: IdentifierAlignment | None = None
    for claim in claims:
        if claim.identifier is Identifier.DKIM:
            mode = usable.adkim if usable else AlignmentMode.RELAXED
            dkim.append((yield from state.align(claim, mode)))
        else:
            mode = usable.aspf if usable else AlignmentMode.RELAXED
            spf = yield from state.align(claim, mode)
    base = DmarcResult(
        DmarcVerdict.NONE,
        DmarcReason.NO_POLICY,
        author,
        state.author_org,
        dkim=tuple(dkim),
        spf=spf,
        lookups=found.lookups,
        rfc7489=rfc7489,
    )
    if found.lookup is None or record is None:
        reason = DmarcReason.MULTIPLE_RECORDS if found.multiple else DmarcReason.NO_POLICY
        return attrs.evolve(base, reason=reason)
    base = attrs.evolve(base, policy_domain=found.lookup.domain, record=record)
    if usable is None:
        return attrs.evolve(base, verdict=DmarcVerdict.PERMERROR, reason=DmarcReason.INVALID_RECORD)
    verdict, reason = _verdict(base.identifiers)
    exists: bool | None = None
    tag, policy = usable.policy_for(subdomain=found.subdomain)
    if found.subdomain and usable.np is not None and not rfc7489:
        # np applies to a non-existent Author Domain (RFC 9989 §3.2.13, Appendix A.4):
        # NXDOMAIN for any query type means nothing exists at or below the name. RFC 7489
        # has no np tag, so its receivers never ask.
        try:
            exists = (yield from _txt(author)).status is not DnsStatus.NXDOMAIN
        except DnsError as exc:
            missing = usable.policy_for(subdomain=True, exists=False)[1]
            if missing is not policy:
                # The policy is unknown: it decides a failing verdict, and is not reported.
                if verdict is DmarcVerdict.FAIL:
                    verdict, reason = _error_verdict(exc)
                return attrs.evolve(base, verdict=verdict, reason=reason)
        else:
            tag, policy = usable.policy_for(subdomain=True, exists=exists)
    result = attrs.evolve(
        base,
        verdict=verdict,
        reason=reason,
        policy_source=PolicySource(tag),
        policy=policy,
        author_exists=exists,
    )
    if verdict is DmarcVerdict.FAIL:
        result = attrs.evolve(result, disposition=result.applied_policy or Policy.NONE)
    return result


_STRICTNESS = {Policy.NONE: 0, Policy.QUARANTINE: 1, Policy.REJECT: 2}


def _domain_key(author: str) -> str:
    """The domain an address names, for counting Author Domains (A-label, lowercase)."""
    try:
        return normalize_dmarc_domain(author)
    except DomainSyntaxError:
        return author.strip().lower().rstrip(".")


def _evaluate(
    authors: Sequence[str], claims: list[_Claim], walk: bool, rfc7489: bool
) -> Generator[_Request, _Answer, DmarcResult]:
    """
    The whole evaluation for one From field (one or several addresses).

    Author Domains are counted, not addresses (RFC 9989 §5.3.1): a From with several
    mailboxes of one domain is one Author Domain and one evaluation.
    """
    if not authors or not all(a and a.strip() for a in authors):
        return DmarcResult(DmarcVerdict.PERMERROR, DmarcReason.NO_AUTHOR_DOMAIN)
    distinct: list[str] = []
    for author in authors:
        key = _domain_key(author)
        if key not in distinct:
            distinct.append(key)
    if len(distinct) == 1:
        return (yield from _evaluate_author(authors[0], claims, walk, rfc7489))
    if len(distinct) > MAX_AUTHOR_DOMAINS:
        return DmarcResult(DmarcVerdict.PERMERROR, DmarcReason.TOO_MANY_AUTHORS)
    parts: list[DmarcResult] = []
    for author in distinct:
        parts.append((yield from _evaluate_author(author, claims, walk, rfc7489)))
    return _combine(tuple(parts))


def _combine(parts: tuple[DmarcResult, ...]) -> DmarcResult:
    """
    A From with addresses in several domains (RFC 9989 §11.5): never a pass.

    Each distinct domain is evaluated as an Author Domain; if any has a policy the result
    is fail, with the strictest disposition among the failing checks.
    """
    verdicts = {part.verdict for part in parts}
    if DmarcVerdict.TEMPERROR in verdicts:
        return DmarcResult(DmarcVerdict.TEMPERROR, DmarcReason.DNS_TEMPORARY, authors=parts)
    if verdicts & {DmarcVerdict.PASS, DmarcVerdict.FAIL}:
        failing = [p for p in parts if p.verdict is DmarcVerdict.FAIL]
        worst = max(failing, key=lambda p: _STRICTNESS[p.disposition], default=None)
        return DmarcResult(
            DmarcVerdict.FAIL,
            DmarcReason.MULTIPLE_AUTHORS,
            policy_domain=worst.policy_domain if worst else None,
            record=worst.record if worst else None,
            policy_source=worst.policy_source if worst else None,
            policy=worst.policy if worst else None,
            disposition=worst.disposition if worst else Policy.NONE,
            authors=parts,
        )
    if DmarcVerdict.PERMERROR in verdicts:
        reason = next(p.reason for p in parts if p.verdict is DmarcVerdict.PERMERROR)
        return DmarcResult(DmarcVerdict.PERMERROR, reason, authors=parts)
    return DmarcResult(DmarcVerdict.NONE, DmarcReason.MULTIPLE_AUTHORS, authors=parts)


def _authors(from_domain: str | Sequence[str] | None) -> list[str]:
    if from_domain is None:
        return []
    if isinstance(from_domain, str):
        return [from_domain]
    return list(from_domain)


_Q = TypeVar("_Q")
_A = TypeVar("_A")


def evaluation_plan(
    from_domain: str | Sequence[str] | None,
    *,
    dkim: Iterable[DkimInput],
    spf: SpfCheck | None,
    txt: Callable[[str], Generator[_Q, _A, TxtAnswer]],
    org: Callable[[str], Generator[_Q, _A, OrgDomain]] | None = None,
    rfc7489: bool = False,
) -> Generator[_Q, _A, DmarcResult]:
    """
    The evaluation of :meth:`DmarcAlignment.evaluate` as a plan inside a larger one: its
    TXT questions are asked by the sub-plan ``txt``, organizational domains found by
    ``org`` (``None``: the RFC 9989 tree walk over ``txt``).

    Raises:
        ConfigurationError: As :meth:`DmarcAlignment.evaluate`, when called.
    """

    def ask(request: _Request) -> Generator[_Q, _A, _Answer]:
        if isinstance(request, _Txt):
            return (yield from txt(request.name))
        assert org is not None  # the plan asks only when it does not walk
        return (yield from org(request.domain))

    plan = _evaluate(_authors(from_domain), _claims(dkim, spf), org is None, rfc7489)
    return relay(plan, ask)


# ---------------------------------------------------------------------------
# Drivers


def _rfc7489(finder: object) -> bool:
    """The finder is the Public Suffix List (possibly wrapped): evaluate as RFC 7489 does."""
    return getattr(finder, "method", None) is OrgDomainMethod.PUBLIC_SUFFIX_LIST


def _txt_name(request: _Request) -> str | None:
    return request.name if isinstance(request, _Txt) else None


def _plan(
    from_domain: str | Sequence[str] | None,
    dkim: Iterable[DkimInput],
    spf: SpfCheck | None,
    finder: object,
) -> Generator[_Request, _Answer, DmarcResult]:
    """One evaluation's plan, asking each TXT name once (errors included)."""
    claims = _claims(dkim, spf)
    plan = _evaluate(_authors(from_domain), claims, finder is None, _rfc7489(finder))
    return remembered(plan, _txt_name)


class DmarcAlignment:
    """
    Evaluate DMARC for a message's identities through a :class:`~oxdkim.typing.Resolver`.

    Args:
        resolver: Answers the ``_dmarc`` queries (and the existence check for ``np``).
        finder: How to find organizational domains. ``None`` (the default) is the RFC
            9989 tree walk over ``resolver``, sharing each evaluation's answers so that no
            name is queried twice. Pass a :class:`~oxdkim.PslFinder` for RFC 7489
            behaviour (policy discovery then follows RFC 7489 §6.6.3 too), or a
            :class:`~oxdkim.ComparingFinder` to see where the two disagree.

    One instance serves every thread if its resolver and finder do.
    """

    def __init__(self, resolver: Resolver, finder: OrgDomainFinder | None = None) -> None:
        self._resolver = resolver
        self._finder = finder

    def evaluate(
        self,
        from_domain: str | Sequence[str] | None,
        *,
        dkim: Iterable[DkimInput] = (),
        spf: SpfCheck | None = None,
    ) -> DmarcResult:
        """
        DMARC result for one message.

        Args:
            from_domain: The RFC5322.From domain. For a From field with several
                addresses pass every address's domain (a list, even if they repeat).
                Addresses of one domain are one Author Domain (RFC 9989 §5.3.1); with
                several domains the result is never a pass: each distinct domain is
                evaluated and the strictest failing policy applies (§11.5). ``None`` or an
                empty list (no From domain) is permerror.
            dkim: The ``d=`` of each DKIM signature, or verifier results with ``.domain``
                (and ``.result``: non-``pass`` results never align).
            spf: The SPF result and the domain it was checked for.

        Returns:
            The :class:`DmarcResult`; a DNS failure becomes temperror/permerror (never
            "no policy") when the result depends on the failed name, and changes
            nothing otherwise: an identifier that cannot align is never looked up. A
            bad domain is a permerror (From) or an identifier that does not align, not
            an exception.

        Raises:
            ConfigurationError: A ``dkim`` item is neither a string nor has ``.domain``,
                or ``spf`` is not an :class:`SpfCheck`.
        """

        def fetch(request: _Request) -> _Answer:
            if isinstance(request, _Txt):
                return self._resolver.txt(request.name)
            assert self._finder is not None
            return self._finder.find(request.domain)

        return drive(_plan(from_domain, dkim, spf, self._finder), fetch)


class AsyncDmarcAlignment:
    """The asynchronous twin of :class:`DmarcAlignment`; the same plan and results."""

    def __init__(self, resolver: AsyncResolver, finder: AsyncOrgDomainFinder | None = None) -> None:
        self._resolver = resolver
        self._finder = finder

    async def evaluate(
        self,
        from_domain: str | Sequence[str] | None,
        *,
        dkim: Iterable[DkimInput] = (),
        spf: SpfCheck | None = None,
    ) -> DmarcResult:
        """DMARC result for one message; see :meth:`DmarcAlignment.evaluate`."""

        async def fetch(request: _Request) -> _Answer:
            if isinstance(request, _Txt):
                return await self._resolver.txt(request.name)
            assert self._finder is not None
            return await self._finder.find(request.domain)

        return await drive_async(_plan(from_domain, dkim, spf, self._finder), fetch)
