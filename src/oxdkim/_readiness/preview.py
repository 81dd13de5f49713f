"""
The DMARC readiness preview: before any mail is sent, what will each customer domain's
mail get from DMARC?

For one brand configuration and a list of customer domains, :class:`ReadinessPreview`
predicts, per domain:

* **signing**: which mode signs its mail (the brand default or the domain's override;
  aligned only for a domain a tenant owns, as the signer decides) and the ``d=``;
* **DKIM**: generic signatures pass but never align; aligned ones pass when the
  delegation audit finds the CNAMEs right, fail when it finds them broken, and are
  unknown when DNS did not answer;
* **SPF**: the MAIL FROM domain the brand uses for the domain, whether its SPF record
  authorizes the provider (:func:`~oxdkim._audit.spf.analyze_spf`), and whether it aligns with
  the From domain;
* **DMARC**: the domain's policy record and the result :class:`~oxdkim.dmarc.DmarcAlignment`
  gives for those identifiers, with what the policy does to mail that fails.

A temporary DNS failure makes a prediction ``unknown``, never ``fail``. Each domain is
evaluated twice by DMARC over the same answers: once with the predicted results (the
verdict) and once as if every identifier authenticated (whether each *would* align).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

from .._audit.auditor import DEFAULT_MIN_TTL, DelegationAuditor, audit_plan
from .._audit.bulk import map_bounded, map_threads, run_many
from .._audit.questions import Plan, ask_txt, memoized, run, run_async
from .._audit.spf import SpfAnalysis, spf_plan
from .._audit.values import DelegationVerdict, DomainReport, Severity
from .._base.clock import utc_now
from .._base.domains import DomainSyntaxError, checked_domain, normalize_domain, unique_domains
from .._base.sansio import relay
from .._config.build import _at, ring_store
from .._config.values import BrandConfig
from .._dmarc.alignment import (
    AlignmentReason,
    DmarcReason,
    DmarcResult,
    DmarcVerdict,
    SpfCheck,
    SpfResult,
    evaluation_plan,
)
from .._dmarc.orgdomain import PslFinder, tree_walk_for
from .._dmarc.record import AlignmentMode, LookupStatus, OrgDomain
from .._keys.keyring import KeyRing
from .._keys.ringstate import RingSnapshot
from ..exceptions import ConfigurationError
from ..typing import (
    AsyncHostResolver,
    AsyncResolver,
    Clock,
    HostResolver,
    Resolver,
)
from .values import (
    DkimOutlook,
    DkimPrediction,
    DomainReadiness,
    FinderMode,
    PreviewProgress,
    ReadinessRun,
    ReadinessVerdict,
    SigningMode,
    SigningPrediction,
    SpfPrediction,
    policy_words,
)

__all__ = ["DEFAULT_PREVIEW_CONCURRENCY", "ReadinessPreview"]

DEFAULT_PREVIEW_CONCURRENCY = 32
"""Domains previewed at the same time in a bulk run."""

# --- answers shared by the steps of one domain --------------------------------------------


@attrs.frozen
class _Signature:
    """A predicted DKIM signature that will not pass: listed, never aligned."""

    domain: str
    result: str


# --- the prediction itself (no I/O) -----------------------------------------------------


@attrs.frozen
class _Facts:
    """What DNS said for one domain, gathered by the sync or async driver."""

    domain: str
    signing: SigningPrediction
    audit: DomainReport | None
    mail_from: str | None
    mail_from_error: str | None
    spf: SpfAnalysis | None
    whatif: DmarcResult
    real: DmarcResult


def _dkim(facts: _Facts) -> DkimPrediction:
    signing = facts.signing
    aligned = _would_align(facts.whatif, "dkim")
    if signing.mode is SigningMode.NONE:
        return DkimPrediction(DkimOutlook.NONE, None, None, f"mail is not signed: {signing.reason}")
    if signing.mode is SigningMode.GENERIC:
        words = (
            f"generic signing (d={signing.domain}) never aligns with {facts.domain}"
            if aligned is not True
            else f"the generic signature d={signing.domain} aligns with {facts.domain}"
        )
        return DkimPrediction(DkimOutlook.PASS, signing.domain, aligned, words)
    report = facts.audit
    assert report is not None
    verdict = report.verdict
    if verdict is DelegationVerdict.OK:
        outlook, words = DkimOutlook.PASS, f"aligned DKIM passes (d={facts.domain})"
    elif verdict is DelegationVerdict.BROKEN and report.verifies_now:
        outlook = DkimOutlook.FRAGILE
        words = f"aligned DKIM passes today, but the delegation is broken: {report.summary()}"
    elif verdict is DelegationVerdict.BROKEN:
        outlook, words = DkimOutlook.FAIL, f"aligned DKIM fails: {report.summary()}"
    elif report.verifies_now:
        # The signing selector verified; only the other one could not be checked.
        outlook = DkimOutlook.PASS
        words = f"aligned DKIM passes (d={facts.domain}; {report.summary()})"
    else:
        outlook = DkimOutlook.UNKNOWN
        words = f"the delegation could not be checked: {report.summary()}"
    return DkimPrediction(outlook, facts.domain, aligned, words, report)


def _spf(facts: _Facts) -> SpfPrediction:
    mail_from = facts.mail_from
    if mail_from is None:
        return SpfPrediction(
            None,
            None,
            None,
            "no MAIL FROM domain is configured for the brand, so SPF alignment cannot be judged",
        )
    if facts.mail_from_error is not None or facts.spf is None:
        return SpfPrediction(
            mail_from, SpfResult.PERMERROR, False, f"MAIL FROM {mail_from}: {facts.mail_from_error}"
        )
    analysis = facts.spf
    alignment = facts.whatif.spf
    aligned = _would_align(facts.whatif, "spf")
    strict = alignment is not None and alignment.mode is AlignmentMode.STRICT
    if aligned is False:
        where = " (strict alignment, aspf=s)" if strict else ""
        align_words = f"MAIL FROM {mail_from} is not aligned with {facts.domain}{where}"
    elif aligned is None:
        align_words = f"whether MAIL FROM {mail_from} aligns is unknown (temporary DNS failure)"
    else:
        align_words = f"MAIL FROM {mail_from} is aligned"
    if analysis.result is SpfResult.PASS:
        words = f"SPF passes at {mail_from}; {align_words}"
    else:
        words = f"{analysis.explain()}; {align_words}"
    return SpfPrediction(mail_from, analysis.result, aligned, words, alignment, analysis)


def _would_align(whatif: DmarcResult, which: str) -> bool | None:
    """Alignment when every identifier is taken as authenticated; ``None`` if unknown."""
    if whatif.verdict is DmarcVerdict.TEMPERROR:
        return None
    found = whatif.spf if which == "spf" else (whatif.dkim[0] if whatif.dkim else None)
    if found is None:
        return None
    if found.reason in (AlignmentReason.TEMPERROR, AlignmentReason.PERMERROR):
        return None
    return found.aligned


def _why_not(signing: SigningPrediction, dkim: DkimPrediction, spf: SpfPrediction) -> str:
    """Why neither identifier gives DMARC a pass."""
    if dkim.outlook is DkimOutlook.NONE:
        dkim_words = "mail is not signed"
    elif dkim.passes and dkim.aligned is not True:
        dkim_words = (
            "generic signing never aligns"
            if signing.mode is SigningMode.GENERIC
            else f"d={dkim.domain} is not aligned"
        )
    else:
        dkim_words = dkim.reason
    if spf.mail_from is None:
        spf_words = "no MAIL FROM domain is configured (SPF cannot align)"
    elif spf.result is SpfResult.PASS:
        spf_words = f"MAIL FROM {spf.mail_from} is not aligned"
    elif spf.aligned is False:
        spf_words = f"MAIL FROM {spf.mail_from} is not aligned (and SPF gives {_value(spf)})"
    elif spf.analysis is not None:
        spf_words = spf.analysis.explain()
    else:
        spf_words = spf.reason
    return f"{dkim_words} and {spf_words}"


def _value(spf: SpfPrediction) -> str:
    return spf.result.value if spf.result is not None else "nothing"


def _through(dkim: DkimPrediction, spf: SpfPrediction) -> str:
    ways = [
        name
        for name, ok in (
            ("DKIM", dkim.passes and dkim.aligned is True),
            ("SPF", spf.passes_aligned),
        )
        if ok
    ]
    return " and ".join(ways) or "an aligned identifier"


def _notes(
    facts: _Facts, dkim: DkimPrediction, spf: SpfPrediction, summary: str
) -> tuple[str, ...]:
    notes: list[str] = []
    if dkim.outlook is DkimOutlook.FRAGILE:
        notes.append(
            "the delegation is broken even though today's signatures verify: "
            + (dkim.audit.summary() if dkim.audit else "")
        )
    if dkim.audit is not None:
        notes += [
            f"delegation: {p.message}"
            for p in dkim.audit.problems
            if p.severity is Severity.WARNING
        ]
    if spf.analysis is not None:
        # Every SPF problem the summary does not already say, the deciding one included
        # (a permerror from a missing include target is explained here). Where the
        # analysis models less than a receiver is in its JSON (``limits``), not here.
        errors = spf.analysis.result in (SpfResult.PERMERROR, SpfResult.TEMPERROR)
        notes += [
            f"SPF: {p.message}"
            for p in spf.analysis.problems
            if p.severity in (Severity.ERROR, Severity.WARNING, Severity.UNKNOWN)
            and p.message not in summary
            and (p.message not in spf.reason or errors)
        ]
    real = facts.real
    if real.record is not None:
        notes += [f"DMARC record: {p.message}" for p in real.record.problems]
    org = real.author_org
    if org is not None and org.disagrees and org.alternative is not None:
        notes.append(
            f"organizational domain: {org.organizational_domain} by the RFC 9989 tree walk, "
            f"{org.alternative.organizational_domain} by the RFC 7489 Public Suffix List"
        )
    for identifier in facts.whatif.disagreements:
        now = "aligned" if identifier.aligned else "not aligned"
        other = "aligned" if identifier.alternative_aligned else "not aligned"
        notes.append(
            f"{identifier.identifier.value.upper()} {identifier.domain} is {now} under RFC 9989 "
            f"but {other} for RFC 7489 (Public Suffix List) receivers"
        )
    return tuple(notes)


def _predict(facts: _Facts, checked_at: datetime) -> DomainReadiness:
    dkim = _dkim(facts)
    spf = _spf(facts)
    real = facts.real
    unknown_input = dkim.outlook is DkimOutlook.UNKNOWN or spf.result is SpfResult.TEMPERROR
    if real.verdict is DmarcVerdict.PASS:
        verdict = ReadinessVerdict.PASS
        summary = f"will pass DMARC through {_through(dkim, spf)}"
        if real.policy is not None and real.policy_source is not None:
            summary += f" ({real.policy_source.value}={real.policy.value})"
    elif real.verdict is DmarcVerdict.TEMPERROR or (
        real.verdict is DmarcVerdict.FAIL and unknown_input
    ):
        verdict = ReadinessVerdict.UNKNOWN
        summary = (
            "unknown: a temporary DNS failure hid part of the answer "
            f"({_unknown_part(dkim, spf, real)}); run the preview again"
        )
    elif real.verdict is DmarcVerdict.FAIL:
        verdict = ReadinessVerdict.FAIL
        summary = f"fails DMARC: {_why_not(facts.signing, dkim, spf)}; {policy_words(real)}"
    elif real.verdict is DmarcVerdict.NONE:
        verdict = ReadinessVerdict.NO_POLICY
        summary = "no DMARC record: receivers apply their local policy"
        several = _several(real)
        if several:
            summary = (
                f"several DMARC records at {', '.join(several)} (they count as none): "
                "receivers apply their local policy"
            )
        if any(i.aligned for i in real.identifiers):
            summary += f"; with a policy, mail would pass through {_through(dkim, spf)}"
        elif not unknown_input:
            summary += f"; with a policy, mail would fail: {_why_not(facts.signing, dkim, spf)}"
    else:
        verdict = ReadinessVerdict.PERMERROR
        where = f" at _dmarc.{real.policy_domain}" if real.policy_domain else ""
        summary = f"DMARC permerror ({real.reason.value}){where}: receivers cannot apply DMARC"
        if real.reason is DmarcReason.INVALID_RECORD:
            summary = (
                f"the DMARC record{where} is unusable (bad p=, sp= or np= and no valid rua): "
                "receivers skip DMARC"
            )
    return DomainReadiness(
        domain=facts.domain,
        checked_at=checked_at,
        signing=facts.signing,
        dkim=dkim,
        spf=spf,
        dmarc=real,
        verdict=verdict,
        summary=summary,
        notes=_notes(facts, dkim, spf, summary),
    )


def _several(result: DmarcResult) -> list[str]:
    """The ``_dmarc`` names that held several records (RFC 9989 §4.10: all discarded)."""
    names = [lookup.name for lookup in result.lookups if lookup.status is LookupStatus.MULTIPLE]
    if result.reason is DmarcReason.MULTIPLE_RECORDS and not names:
        names.append(f"_dmarc.{result.author_domain}")
    return names


def _unknown_part(dkim: DkimPrediction, spf: SpfPrediction, real: DmarcResult) -> str:
    parts = []
    if dkim.outlook is DkimOutlook.UNKNOWN:
        parts.append("the DKIM delegation")
    if spf.result is SpfResult.TEMPERROR:
        parts.append(f"SPF at {spf.mail_from}")
    if real.verdict is DmarcVerdict.TEMPERROR:
        parts.append("the DMARC policy")
    return ", ".join(parts) or "DNS"


# --- the preview --------------------------------------------------------------------


def _load_ring(brand: BrandConfig) -> RingSnapshot | None:
    if brand.ring is None and brand.store is None:
        return None
    with _at(f"brands.{brand.name}.ring"):
        return ring_store(brand).load()


class ReadinessPreview:
    """
    Predict, before any mail is sent, what DMARC makes of each customer domain's mail.

    Args:
        brand: The brand configuration (:func:`~oxdkim.load_config`): mode, tenants,
            per-domain overrides, generic domain, key host, ``spf_include`` (the
            provider's SPF include) and ``mail_from`` (the bounce domain).
        ring: The brand's key ring; by default it is loaded from the configured ``ring``
            directory when some domain signs aligned.
        finder: How organizational domains are found (``tree-walk``, ``psl``,
            ``compare``).
        psl: The Public Suffix List finder for ``psl`` and ``compare`` (default: the
            bundled list).
        known_key_hosts: Other brands' key hosts, for the delegation audit's wording.
        min_ttl: The audit's low-TTL threshold.
        clock: The time written into each prediction (and audit).

    Raises:
        ConfigurationError: An unknown finder mode, or the ring cannot be loaded.
        KeyStoreError: The ring directory cannot be read.
    """

    def __init__(
        self,
        brand: BrandConfig,
        *,
        ring: KeyRing | RingSnapshot | None = None,
        finder: FinderMode | str = FinderMode.TREE_WALK,
        psl: PslFinder | None = None,
        known_key_hosts: Iterable[str] = (),
        min_ttl: int = DEFAULT_MIN_TTL,
        clock: Clock = utc_now,
    ) -> None:
        try:
            self.finder: FinderMode = FinderMode(finder)
        except ValueError:
            choices = ", ".join(m.value for m in FinderMode)
            raise ConfigurationError(f"unknown finder {finder!r}; use one of {choices}") from None
        self.brand = brand
        self._clock = clock
        self._psl = psl if psl is not None else PslFinder()
        self._owners: Mapping[str, str] = {
            domain: tenant for tenant, domains in brand.tenants.items() for domain in domains
        }
        wants_ring = brand.mode == "legacy" or "legacy" in brand.domains.values()
        if ring is None and wants_ring:
            ring = _load_ring(brand)
        snapshot = ring.snapshot() if isinstance(ring, KeyRing) else ring
        self._ring = snapshot
        self._auditor: DelegationAuditor | None = None
        if snapshot is not None:
            self._auditor = DelegationAuditor(
                snapshot,
                key_host=brand.key_host,
                known_key_hosts=known_key_hosts,
                min_ttl=min_ttl,
                clock=clock,
            )

    def __repr__(self) -> str:
        return f"<ReadinessPreview brand={self.brand.name} finder={self.finder.value}>"

    # --- no DNS ------------------------------------------------------------------------

    def signing_for(self, domain: str) -> SigningPrediction:
        """
        How the brand signs mail from ``domain`` (submitted by the tenant that owns it).

        Follows the policy the configuration builds: the domain's override or the brand
        default; aligned only for a tenant's own domain and while the ring has an active
        key, otherwise the brand's fallback (generic or refuse).
        """
        domain = checked_domain(domain)
        brand = self.brand
        override = brand.domains.get(domain)
        mode = override or brand.mode
        source = "the domain's own setting" if override else "the brand default"
        if mode == "refuse":
            return SigningPrediction(SigningMode.NONE, None, f"signing is refused ({source})")
        if mode == "legacy":
            owner = self._owners.get(domain)
            if owner is None:
                why = f"{domain} is not a domain of any tenant of brand {brand.name}"
            elif self._ring is None or not self._ring.has_active:
                why = "the key ring has no active key yet"
            else:
                return SigningPrediction(
                    SigningMode.ALIGNED,
                    domain,
                    f"aligned signing ({source}); tenant {owner!r} owns the domain",
                )
            if brand.fallback == "generic" and brand.generic_domain is not None:
                return SigningPrediction(
                    SigningMode.GENERIC, brand.generic_domain, f"generic fallback: {why}"
                )
            return SigningPrediction(SigningMode.NONE, None, f"not signed: {why}")
        if brand.generic_domain is None:
            return SigningPrediction(SigningMode.NONE, None, "no generic key is configured")
        return SigningPrediction(
            SigningMode.GENERIC, brand.generic_domain, f"generic signing ({source})"
        )

    def _mail_from(self, domain: str) -> tuple[str | None, str | None]:
        raw = self.brand.mail_from_domain(domain)
        if raw is None:
            return None, None
        try:
            return normalize_domain(raw), None
        except DomainSyntaxError as exc:
            return raw, f"not a valid domain ({exc})"

    @staticmethod
    def _claims(
        signing: SigningPrediction,
        audit: DomainReport | None,
        mail_from: str | None,
        spf: SpfAnalysis | None,
    ) -> tuple[list[str | _Signature], SpfCheck | None, list[str], SpfCheck | None]:
        """The identifiers DMARC sees: predicted, and as if all authenticated."""
        real: list[str | _Signature] = []
        whatif: list[str] = []
        if signing.domain is not None:
            whatif.append(signing.domain)
            passes = signing.mode is SigningMode.GENERIC or (
                audit is not None
                and (audit.verdict is DelegationVerdict.OK or audit.verifies_now is True)
            )
            if passes:
                real.append(signing.domain)
            else:
                unknown = audit is not None and audit.verdict is DelegationVerdict.UNKNOWN
                real.append(_Signature(signing.domain, "temperror" if unknown else "fail"))
        if mail_from is None:
            return real, None, whatif, None
        result = spf.result if spf is not None else SpfResult.PERMERROR
        return real, SpfCheck(result, mail_from), whatif, SpfCheck(SpfResult.PASS, mail_from)

    # --- one domain -----------------------------------------------------------------------

    def _plan(self, domain: str, hosts: bool) -> Plan[DomainReadiness]:
        """One (checked) domain's preview as a plan; ``hosts``: MX and address questions."""
        signing = self.signing_for(domain)
        audit = None
        if signing.mode is SigningMode.ALIGNED:
            assert self._auditor is not None
            audit = yield from audit_plan(self._auditor, domain)
        mail_from, error = self._mail_from(domain)
        spf = None
        if mail_from is not None and error is None:
            spf = yield from spf_plan(mail_from, self.brand.spf_include, hosts)
        real, real_spf, whatif, whatif_spf = self._claims(signing, audit, mail_from, spf)
        facts = _Facts(
            domain,
            signing,
            audit,
            mail_from,
            error,
            spf,
            whatif=(yield from self._dmarc(domain, whatif, whatif_spf)),
            real=(yield from self._dmarc(domain, real, real_spf)),
        )
        return _predict(facts, self._clock())

    def _dmarc(
        self, domain: str, dkim: Iterable[str | _Signature], spf: SpfCheck | None
    ) -> Plan[DmarcResult]:
        """DMARC for the claims, organizational domains found as ``finder`` says."""
        org = {FinderMode.PSL: self._psl_org, FinderMode.COMPARE: self._compared_org}
        return (
            yield from evaluation_plan(
                domain,
                dkim=dkim,
                spf=spf,
                txt=ask_txt,
                org=org.get(self.finder),
                rfc7489=self.finder is FinderMode.PSL,
            )
        )

    def _psl_org(self, domain: str) -> Plan[OrgDomain]:
        """The Public Suffix List's answer: no question asked."""
        yield from ()
        return self._psl.find(domain)

    def _compared_org(self, domain: str) -> Plan[OrgDomain]:
        """The tree walk's answer, the Public Suffix List's attached (``ComparingFinder``)."""
        first = yield from relay(tree_walk_for(domain), ask_txt)
        return attrs.evolve(first, alternative=self._psl.find(domain))

    def preview(
        self, domain: str, resolver: Resolver, *, hosts: HostResolver | None = None
    ) -> DomainReadiness:
        """
        Predict what ``domain``'s mail will get, through a synchronous resolver.

        ``hosts`` answers the SPF analysis's MX and address lookups (usually the same
        object as ``resolver``; see :func:`~oxdkim.analyze_spf`). Each TXT and CNAME
        question is asked once per domain.

        Raises:
            ConfigurationError: ``domain`` is not a domain name.
        """
        plan = memoized(self._plan(checked_domain(domain), hosts is not None))
        return run(plan, resolver, hosts)

    async def preview_async(
        self, domain: str, resolver: AsyncResolver, *, hosts: AsyncHostResolver | None = None
    ) -> DomainReadiness:
        """
        Predict what ``domain``'s mail will get, through an asynchronous resolver
        (``hosts``: as in :meth:`preview`).

        Raises:
            ConfigurationError: ``domain`` is not a domain name.
        """
        plan = memoized(self._plan(checked_domain(domain), hosts is not None))
        return await run_async(plan, resolver, hosts)

    # --- many domains -------------------------------------------------------------------

    def _run(self, reports: list[DomainReadiness], started: datetime) -> ReadinessRun:
        return ReadinessRun(self.brand.name, self.finder, tuple(reports), started, self._clock())

    def domains(self) -> list[str]:
        """Every domain of the brand's tenants, in the configuration's order."""
        return list(self._owners)

    async def preview_many_async(
        self,
        domains: Iterable[str],
        resolver: AsyncResolver,
        *,
        concurrency: int = DEFAULT_PREVIEW_CONCURRENCY,
        progress: PreviewProgress | None = None,
        hosts: AsyncHostResolver | None = None,
    ) -> ReadinessRun:
        """
        Preview many domains, at most ``concurrency`` at a time; results in input order.

        Repeated domains are previewed once; ``progress(done, total, readiness)`` is
        called after each domain, in the event loop; ``hosts`` as in :meth:`preview`.

        Raises:
            ConfigurationError: A domain is invalid or ``concurrency`` is below 1.
        """
        names = unique_domains(domains)
        started = self._clock()

        async def one(name: str) -> DomainReadiness:
            return await self.preview_async(name, resolver, hosts=hosts)

        return self._run(await map_bounded(names, one, concurrency, progress), started)

    def preview_many(
        self,
        domains: Iterable[str],
        resolver: Resolver | AsyncResolver,
        *,
        concurrency: int = DEFAULT_PREVIEW_CONCURRENCY,
        progress: PreviewProgress | None = None,
        hosts: HostResolver | AsyncHostResolver | None = None,
    ) -> ReadinessRun:
        """
        Preview many domains from synchronous code; results in input order.

        With an :class:`~oxdkim.typing.AsyncResolver` this runs
        :meth:`preview_many_async` in a new event loop (so not from inside one); with a
        :class:`~oxdkim.typing.Resolver` it uses ``concurrency`` threads (none for 1).
        ``hosts`` (as in :meth:`preview`) is of the same kind, sync or async, as
        ``resolver``.
        ``progress`` is called in the calling thread.

        Raises:
            ConfigurationError: A domain is invalid, ``concurrency`` is below 1, or an
                async resolver is used from inside a running event loop.
        """
        return run_many(
            resolver,
            hosts,
            lambda chosen, chosen_hosts: self.preview_many_async(
                domains, chosen, concurrency=concurrency, progress=progress, hosts=chosen_hosts
            ),
            lambda sync, sync_hosts: self._preview_threads(
                domains, sync, concurrency, progress, sync_hosts
            ),
            "preview_many",
        )

    def _preview_threads(
        self,
        domains: Iterable[str],
        resolver: Resolver,
        concurrency: int,
        progress: PreviewProgress | None,
        hosts: HostResolver | None,
    ) -> ReadinessRun:
        names = unique_domains(domains)
        started = self._clock()
        results = map_threads(
            names,
            lambda name: self.preview(name, resolver, hosts=hosts),
            concurrency,
            progress,
            thread_name="oxdkim-preview",
        )
        return self._run(results, started)
