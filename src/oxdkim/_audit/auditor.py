"""
The delegation audit: does each customer domain of a legacy brand delegate its selectors?

For every selector the audit asks for the CNAME at ``<selector>._domainkey.<domain>``,
then for the key record at its target (following any further CNAMEs, as a verifier
does), and compares what it finds with the brand's key ring. The observations are
gathered by the sync or async driver; one pure classifier turns them into a
:class:`~oxdkim._audit.values.DomainReport`, so both drivers give the same answers.

Query cost: one CNAME query per selector in the common case. The key record behind a
target is fetched once per bulk run and shared by every domain pointing there (every
correct domain points at the same two targets); only permanent answers are shared, so a
temporary failure is asked again by the next domain. A name without a CNAME costs one
more query (TXT at the name itself, to tell a copied key from a missing record).
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Callable, Iterable
from datetime import datetime

import attrs

from .._base.answers import CnameAnswer, DnsStatus, TxtAnswer
from .._base.clock import utc_now
from .._base.domains import (
    DomainSyntaxError,
    checked_domain,
    is_subdomain,
    normalize_domain,
    unique_domains,
)
from .._base.sansio import drive, drive_async
from .._dkim.keyrecord import key_records, parse_key_record_cached
from .._keys.keyring import KeyRing
from .._keys.ringstate import KeySlot, RingSnapshot, SlotState
from ..exceptions import (
    ConfigurationError,
    DnsError,
    DnsPermError,
    DnsTempError,
    RecordSyntaxError,
)
from ..typing import AsyncResolver, Clock, Resolver
from .bulk import map_bounded, map_threads, run_many
from .questions import Answer, Ask, Plan, answer, answer_async, ask_cname, ask_txt, run, run_async
from .report import AuditRun
from .values import (
    DomainReport,
    KeyStatus,
    Party,
    Problem,
    ProblemCode,
    SelectorReport,
    Severity,
    TargetKind,
)

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MIN_TTL",
    "DEFAULT_TYPO_DISTANCE",
    "DelegationAuditor",
    "ProgressCallback",
    "edit_distance",
    "parse_domain_list",
]

DEFAULT_MIN_TTL = 300
"""CNAME TTLs below this many seconds are reported as ``low-ttl`` (0 turns it off)."""

DEFAULT_TYPO_DISTANCE = 2
"""Wrong targets at most this many edits from the right one are called typos."""

DEFAULT_CONCURRENCY = 64
"""Domains audited at the same time in a bulk audit."""

ProgressCallback = Callable[[int, int, DomainReport], None]
"""Called after each domain of a bulk audit with ``(done, total, report)``."""


def edit_distance(a: str, b: str, limit: int) -> int:
    """
    The optimal-string-alignment distance of ``a`` and ``b`` (insertions, deletions,
    substitutions and swaps of neighbours each cost 1), or ``limit + 1`` once it is
    known to exceed ``limit``.
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return min(previous[-1], limit + 1)


def parse_domain_list(lines: Iterable[str], *, source: str = "domains") -> list[str]:
    """
    Read a domain list: one domain per line, ``#`` comments and blank lines ignored.

    Domains are normalized (lowercase A-labels, no trailing dot); a repeated domain is
    kept once, in the place it first appeared.

    Raises:
        ConfigurationError: A line is not a domain name; the message names the lines.
    """
    domains: dict[str, None] = {}
    bad: list[str] = []
    for number, raw in enumerate(lines, 1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            domains.setdefault(normalize_domain(text), None)
        except DomainSyntaxError as exc:
            bad.append(f"line {number}: {exc}")
    if bad:
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise ConfigurationError(f"{source}: {'; '.join(bad[:5])}{more}")
    return list(domains)


@attrs.frozen
class _Observation:
    """What DNS said for one selector: the CNAME question, then the key record question."""

    cname: CnameAnswer | DnsError
    key: TxtAnswer | DnsError | None = None


class _SyncTxtMemo:
    """TXT answers shared within one bulk run (permanent answers only), thread-safe."""

    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver
        self._answers: dict[str, TxtAnswer | DnsPermError] = {}
        self._lock = threading.Lock()

    def txt(self, name: str) -> TxtAnswer:
        with self._lock:
            hit = self._answers.get(name)
        if isinstance(hit, DnsPermError):
            raise hit
        if hit is not None:
            return hit
        try:
            answer = self._resolver.txt(name)
        except DnsPermError as exc:
            with self._lock:
                self._answers[name] = exc
            raise
        with self._lock:
            self._answers[name] = answer
        return answer


class _AsyncTxtMemo:
    """The asyncio twin of :class:`_SyncTxtMemo`: concurrent askers share one query."""

    def __init__(self, resolver: AsyncResolver) -> None:
        self._resolver = resolver
        self._tasks: dict[str, asyncio.Future[TxtAnswer]] = {}

    async def txt(self, name: str) -> TxtAnswer:
        task = self._tasks.get(name)
        if task is None:
            task = asyncio.ensure_future(self._resolver.txt(name))
            self._tasks[name] = task
        try:
            return await asyncio.shield(task)
        except DnsTempError:
            if self._tasks.get(name) is task:
                del self._tasks[name]  # ask again next time
            raise


class _Classifier:
    """One ring snapshot, prepared for classifying many domains."""

    def __init__(self, auditor: DelegationAuditor, snapshot: RingSnapshot) -> None:
        self.snapshot = snapshot
        self.key_host = auditor.key_host
        self.selectors = auditor.selectors
        self.min_ttl = auditor.min_ttl
        self.typo_distance = auditor.typo_distance
        self.known_key_hosts = auditor.known_key_hosts
        self.expected = {s: f"{s}._domainkey.{self.key_host}" for s in self.selectors}
        self.slots = {slot.selector: slot for slot in snapshot.slots}
        self.keys = {
            slot.selector: base64.b64decode(slot.key.public_key_b64)
            for slot in snapshot.slots
            if slot.key is not None
        }
        self.active = snapshot.active.selector if snapshot.has_active else None
        self._served: dict[bytes, tuple[bytes | None, str | None]] = {}

    # --- what the key record says ----------------------------------------------------

    def _served_key(self, record: bytes) -> tuple[bytes | None, str | None]:
        """The served public key (normalized like ``public_key_b64``), or a parse error."""
        cached = self._served.get(record)
        if cached is None:
            try:
                parsed = parse_key_record_cached(record)
            except RecordSyntaxError as exc:
                cached = (None, str(exc))
            else:
                served = parsed.key_bytes
                if parsed.revoked:
                    cached = (b"", None)
                elif served is not None:
                    cached = (served, None)
                else:
                    cached = (None, f"key record of unknown type k={parsed.key_type}")
            self._served[record] = cached
        return cached

    def key_status(self, selector: str, answer: TxtAnswer) -> tuple[KeyStatus, str | None]:
        """What a verifier finds in ``answer``, compared with the ring's slots."""
        records = key_records(answer.records)  # what verifiers read: non-DKIM TXT skipped
        if not records:
            return KeyStatus.MISSING, None
        if len(records) > 1:
            return KeyStatus.MULTIPLE, f"{len(records)} DKIM key records"
        served, error = self._served_key(records[0])
        if served is None:
            return KeyStatus.MALFORMED, error
        if served == b"":
            return KeyStatus.REVOKED, None
        if served == self.keys.get(selector):
            return KeyStatus.RING_KEY, None
        if served in self.keys.values():
            return KeyStatus.OTHER_SLOT_KEY, None
        return KeyStatus.OTHER_KEY, None

    # --- classification ---------------------------------------------------------------

    def report(self, domain: str, observations: list[_Observation], now: datetime) -> DomainReport:
        """Classify the observations of every selector of ``domain``."""
        reports = [
            self._selector(domain, selector, observation)
            for selector, observation in zip(self.selectors, observations, strict=True)
        ]
        with_cname = {r.selector for r in reports if r.cname_status is DnsStatus.NOERROR}
        for index, report in enumerate(reports):
            others = sorted(with_cname - {report.selector})
            if others and any(p.code is ProblemCode.MISSING_CNAME for p in report.problems):
                reports[index] = attrs.evolve(
                    report,
                    problems=tuple(
                        self._one_only(domain, report.selector, others[0])
                        if p.code is ProblemCode.MISSING_CNAME
                        else p
                        for p in report.problems
                    ),
                )
        return DomainReport(domain, now, tuple(reports), self.active)

    def _one_only(self, domain: str, selector: str, other: str) -> Problem:
        name = f"{selector}._domainkey.{domain}"
        when = (
            "now: it is the signing selector"
            if selector == self.active
            else ("as soon as it signs (after the next rotation)")
        )
        return Problem(
            ProblemCode.ONE_SELECTOR_ONLY,
            selector,
            Severity.ERROR,
            Party.CUSTOMER,
            f"{other} is set up but {selector} is not: there is no CNAME at {name}, so "
            f"signatures by {selector} fail {when}; publish {name} CNAME "
            f"{self.expected[selector]}",
            observed={"other_selector": other, "signing": selector == self.active},
        )

    def _selector(self, domain: str, selector: str, observation: _Observation) -> SelectorReport:
        # Each path builds its report once (no attrs.evolve chain): this runs for every
        # selector of every domain, and the in-memory audit's time is mostly here.
        name = f"{selector}._domainkey.{domain}"
        expected = self.expected[selector]
        state = self.slots[selector].state
        cname = observation.cname
        if isinstance(cname, DnsTempError):
            return SelectorReport(
                selector, expected, state, None, problems=(_temporary(selector, cname),)
            )
        if isinstance(cname, DnsError):
            problem = _broken(selector, name, cname, Party.CUSTOMER)
            return SelectorReport(selector, expected, state, None, problems=(problem,))
        status = cname.status
        key = observation.key
        if status is DnsStatus.NXDOMAIN or (
            status is DnsStatus.NODATA and isinstance(key, TxtAnswer) and not key.records
        ):
            what = (
                "does not exist"
                if status is DnsStatus.NXDOMAIN
                else ("exists without a CNAME or a key record")
            )
            problem = Problem(
                ProblemCode.MISSING_CNAME,
                selector,
                Severity.ERROR,
                Party.CUSTOMER,
                f"no CNAME at {name}: the name {what}; publish {name} CNAME {expected}",
                observed={"status": status.value},
            )
            return SelectorReport(
                selector, expected, state, status, key_status=KeyStatus.MISSING, problems=(problem,)
            )
        target = cname.target
        chain: tuple[str, ...]
        problems: list[Problem]
        if isinstance(key, DnsError):
            # The key could not be fetched. A target that is recognisably wrong is
            # wrong whatever lies behind it; any other one may be an alias leading to
            # the brand, so nothing more is known (temporary) or it is broken (loop).
            key_status = KeyStatus.UNKNOWN
            chain = (target,) if target else ()
            known: Problem | None = None
            if target is not None and target != expected:
                wrong = self._wrong_target(domain, selector, target, KeyStatus.UNKNOWN)
                known = wrong if wrong.target_kind is not TargetKind.OTHER else None
            if known is not None:
                problems = [known]
            elif isinstance(key, DnsTempError):
                problems = [_temporary(selector, key)]
            else:
                party = Party.PROVIDER if target == expected else Party.CUSTOMER
                problems = [_broken(selector, name, key, party)]
        else:
            assert key is not None
            key_status, detail = self.key_status(selector, key)
            if status is DnsStatus.NODATA:
                problem = self._copied_key(name, selector, key_status, detail, key)
                return SelectorReport(
                    selector,
                    expected,
                    state,
                    status,
                    chain=key.chain,
                    key_status=key_status,
                    problems=(problem,),
                )
            assert target is not None
            chain = (target, *key.chain)
            if expected not in chain:
                problems = [self._wrong_target(domain, selector, target, key_status)]
            else:
                problems = self._key_problems(selector, key_status, detail, chain[-1])
                if cname.ttl is not None and cname.ttl < self.min_ttl:
                    problems.append(self._low_ttl(name, selector, cname.ttl))
        return SelectorReport(
            selector,
            expected,
            state,
            status,
            target=target,
            cname_ttl=cname.ttl,
            chain=chain,
            key_status=key_status,
            problems=tuple(problems),
        )

    def _low_ttl(self, name: str, selector: str, ttl: int) -> Problem:
        return Problem(
            ProblemCode.LOW_TTL,
            selector,
            Severity.WARNING,
            Party.CUSTOMER,
            f"the CNAME at {name} has a TTL of {ttl} s, below {self.min_ttl} s",
            observed={"ttl": ttl, "min_ttl": self.min_ttl},
        )

    def _copied_key(
        self, name: str, selector: str, status: KeyStatus, detail: str | None, key: TxtAnswer
    ) -> Problem:
        expected = self.expected[selector]
        what = {
            KeyStatus.RING_KEY: (
                f"a copy of the ring's current {selector} key: it verifies today but breaks "
                "at the next key rotation"
            ),
            KeyStatus.OTHER_SLOT_KEY: (
                f"a copy of the ring's key of the other selector: signatures by {selector} fail"
            ),
            KeyStatus.OTHER_KEY: (
                f"a key the ring does not hold (an old or foreign key): signatures by "
                f"{selector} fail"
            ),
            KeyStatus.REVOKED: "a revoked key record (empty p=)",
            KeyStatus.MALFORMED: f"a TXT record that is not a usable key ({detail})",
            KeyStatus.MULTIPLE: f"{detail} where verifiers need one key",
        }[status]
        return Problem(
            ProblemCode.TXT_INSTEAD_OF_CNAME,
            selector,
            Severity.ERROR,
            Party.CUSTOMER,
            f"{name} holds {what}; replace it by {name} CNAME {expected}",
            observed={"matches": status.value, "records": len(key.records)},
        )

    def _wrong_target(self, domain: str, selector: str, target: str, status: KeyStatus) -> Problem:
        name = f"{selector}._domainkey.{domain}"
        expected = self.expected[selector]
        observed: dict[str, str | int | bool | None] = {
            "target": target,
            "expected": expected,
            "key": status.value,
        }
        others = {self.expected[s]: s for s in self.selectors if s != selector}
        others.update({f"{s}._domainkey.{self.key_host}": s for s in self.slots if s != selector})
        brand = next((h for h in self.known_key_hosts if is_subdomain(target, h)), None)
        if target in others:
            kind = TargetKind.OTHER_SELECTOR
            observed["other_selector"] = others[target]
            why = f"the brand's target for selector {others[target]}"
        elif target.startswith(expected + "."):
            kind = TargetKind.DOUBLED_DOMAIN
            appended = target[len(expected) + 1 :]
            observed["appended"] = appended
            why = (
                f"the brand's name with {appended} appended: the zone file lacks the "
                "trailing dot after the target"
            )
        elif brand is not None:
            kind = TargetKind.OTHER_BRAND
            observed["brand_key_host"] = brand
            why = f"under another brand's key host, {brand}"
        else:
            distance = edit_distance(target, expected, self.typo_distance)
            if distance <= self.typo_distance:
                kind = TargetKind.TYPO
                observed["distance"] = distance
                why = (
                    f"{distance} typing error{'s' if distance > 1 else ''} away from the "
                    "right target"
                )
            else:
                kind = TargetKind.OTHER
                why = "not the brand's key host"
        return Problem(
            ProblemCode.WRONG_TARGET,
            selector,
            Severity.ERROR,
            Party.CUSTOMER,
            f"{name} points to {target}, {why}; it must point to {expected}",
            target_kind=kind,
            observed=observed,
        )

    def _key_problems(
        self, selector: str, status: KeyStatus, detail: str | None, where: str
    ) -> list[Problem]:
        slot: KeySlot = self.slots[selector]
        observed = {"key": status.value, "slot_state": slot.state.value, "at": where}
        if slot.state is SlotState.EMPTY:
            return [
                Problem(
                    ProblemCode.SLOT_EMPTY,
                    selector,
                    Severity.NOTICE,
                    Party.PROVIDER,
                    f"the ring holds no key in {selector} yet, so there is nothing to compare "
                    "behind the (correct) CNAME; not the customer's problem",
                    observed=observed,
                )
            ]
        if status is KeyStatus.RING_KEY:
            return []
        if slot.state is SlotState.REVOKED:
            if status in (KeyStatus.REVOKED, KeyStatus.MISSING):
                return []
            return [
                Problem(
                    _KEY_CODES[status],
                    selector,
                    Severity.NOTICE,
                    Party.PROVIDER,
                    f"{selector} is revoked in the ring, but {where} serves "
                    f"{_KEY_WORDS[status]}; publish the revoked (empty p=) record",
                    observed=observed,
                )
            ]
        staged = slot.state is SlotState.STAGED
        note = (
            " (the slot is only staged: the ring's confirm step waits for this record)"
            if staged
            else "; not the customer's problem"
        )
        extra = f" ({detail})" if detail else ""
        return [
            Problem(
                _KEY_CODES[status],
                selector,
                Severity.NOTICE if staged else Severity.ERROR,
                Party.PROVIDER,
                f"the CNAME is right, but {where} serves {_KEY_WORDS[status]}{extra} "
                f"instead of the ring's {slot.state.value} {selector} key{note}",
                observed=observed,
            )
        ]


_KEY_CODES = {
    KeyStatus.MISSING: ProblemCode.KEY_MISSING,
    KeyStatus.REVOKED: ProblemCode.KEY_REVOKED,
    KeyStatus.OTHER_KEY: ProblemCode.KEY_MISMATCH,
    KeyStatus.OTHER_SLOT_KEY: ProblemCode.KEY_MISMATCH,
    KeyStatus.MALFORMED: ProblemCode.MALFORMED_KEY,
    KeyStatus.MULTIPLE: ProblemCode.MULTIPLE_KEYS,
}
_KEY_WORDS = {
    KeyStatus.MISSING: "no key record",
    KeyStatus.REVOKED: "a revoked key (empty p=)",
    KeyStatus.OTHER_KEY: "a key the ring does not hold",
    KeyStatus.OTHER_SLOT_KEY: "the key of the ring's other slot",
    KeyStatus.MALFORMED: "a malformed key record",
    KeyStatus.MULTIPLE: "several TXT records",
}


def _temporary(selector: str, exc: DnsTempError) -> Problem:
    return Problem(
        ProblemCode.DNS_TEMPORARY,
        selector,
        Severity.UNKNOWN,
        Party.DNS,
        f"DNS did not answer ({exc}); nothing is known about {selector}: run the audit again",
        observed={"name": exc.name},
    )


def _broken(selector: str, name: str, exc: DnsError, party: Party) -> Problem:
    return Problem(
        ProblemCode.BROKEN_CHAIN,
        selector,
        Severity.ERROR,
        party,
        f"following {name} fails as it does for receivers: {exc}",
        observed={"name": exc.name},
    )


def _check_int(label: str, value: object, low: int) -> int:
    if type(value) is not int or value < low:
        raise ConfigurationError(f"{label} must be an integer >= {low}, not {value!r}")
    return value


class DelegationAuditor:
    """
    Audits customer domains of a legacy brand against its key ring.

    For each selector: the CNAME exists and points at ``<selector>._domainkey.<key
    host>``, and the key a verifier finds behind it is the ring's key for that slot.
    Problems are classified the way operators meet them (see
    :class:`~oxdkim.ProblemCode`); temporary DNS failures make a domain
    ``unknown``, never ``broken``.

    Args:
        ring: The brand's ring; a :class:`~oxdkim.KeyRing` is read once per audit call
            (and once per bulk run), so a rotation between runs is seen.
        key_host: Where the CNAMEs must point (default: the ring's key host).
        selectors: The selectors to check (default: both of the ring's).
        known_key_hosts: Other brands' key hosts, to name a CNAME that points at one.
        min_ttl: CNAME TTLs below this are reported as ``low-ttl`` (0: never).
        typo_distance: Wrong targets at most this many edits away are typos.
        clock: The time written into each report.

    Raises:
        ConfigurationError: No key host, a selector the ring does not have, bad limits.
    """

    def __init__(
        self,
        ring: RingSnapshot | KeyRing,
        *,
        key_host: str | None = None,
        selectors: Iterable[str] | None = None,
        known_key_hosts: Iterable[str] = (),
        min_ttl: int = DEFAULT_MIN_TTL,
        typo_distance: int = DEFAULT_TYPO_DISTANCE,
        clock: Clock = utc_now,
    ) -> None:
        if not isinstance(ring, (RingSnapshot, KeyRing)):
            raise ConfigurationError(f"ring must be a KeyRing or RingSnapshot, not {ring!r}")
        self._ring = ring
        snapshot = self._snapshot()
        host = key_host if key_host is not None else snapshot.key_host
        if host is None:
            raise ConfigurationError("the ring has no key host; pass key_host=")
        try:
            self.key_host: str = normalize_domain(host, allow_underscore=True)
            others = (normalize_domain(h, allow_underscore=True) for h in known_key_hosts)
            self.known_key_hosts: tuple[str, ...] = tuple(
                dict.fromkeys(h for h in others if h != self.key_host)
            )
        except DomainSyntaxError as exc:
            raise ConfigurationError(f"invalid key host: {exc}") from None
        if selectors is None:
            chosen = tuple(slot.selector for slot in snapshot.slots)
        else:
            if isinstance(selectors, str):
                raise ConfigurationError("selectors must be a list, not one string")
            chosen = tuple(dict.fromkeys(snapshot.slot(s.lower()).selector for s in selectors))
        if not chosen:
            raise ConfigurationError("no selectors to audit")
        self.selectors = chosen
        self.min_ttl: int = _check_int("min_ttl", min_ttl, 0)
        self.typo_distance: int = _check_int("typo_distance", typo_distance, 0)
        self._clock = clock

    def __repr__(self) -> str:
        return f"<DelegationAuditor key_host={self.key_host} selectors={','.join(self.selectors)}>"

    def _snapshot(self) -> RingSnapshot:
        ring = self._ring
        return ring.snapshot() if isinstance(ring, KeyRing) else ring

    def _classifier(self) -> _Classifier:
        return _Classifier(self, self._snapshot())

    # --- one domain ---------------------------------------------------------------

    def _plan(self, classifier: _Classifier, domain: str) -> Plan[DomainReport]:
        """
        The audit of one (checked) domain as a plan: the CNAME of each selector, then the
        key record behind it (a ``shared`` question at a target).
        """
        observations = []
        for selector in self.selectors:
            name = f"{selector}._domainkey.{domain}"
            try:
                cname = yield from ask_cname(name)
            except DnsError as exc:
                observations.append(_Observation(exc))
                continue
            key: TxtAnswer | DnsError | None = None
            try:
                if cname.status is DnsStatus.NOERROR and cname.target:
                    key = yield from ask_txt(cname.target, shared=True)
                elif cname.status is DnsStatus.NODATA:
                    key = yield from ask_txt(name)
            except DnsError as exc:
                key = exc
            observations.append(_Observation(cname, key))
        return classifier.report(domain, observations, self._clock())

    def audit(self, domain: str, resolver: Resolver) -> DomainReport:
        """
        Audit one domain through a synchronous resolver.

        Raises:
            ConfigurationError: ``domain`` is not a domain name.
        """
        return run(audit_plan(self, domain), resolver)

    async def audit_async(self, domain: str, resolver: AsyncResolver) -> DomainReport:
        """
        Audit one domain through an asynchronous resolver.

        Raises:
            ConfigurationError: ``domain`` is not a domain name.
        """
        return await run_async(audit_plan(self, domain), resolver)

    # --- many domains -------------------------------------------------------------

    def _run(
        self, classifier: _Classifier, reports: list[DomainReport], started: datetime
    ) -> AuditRun:
        return AuditRun(
            reports,
            key_host=self.key_host,
            selectors=self.selectors,
            started_at=started,
            finished_at=self._clock(),
            ring_generation=classifier.snapshot.generation,
            min_ttl=self.min_ttl,
        )

    async def audit_many_async(
        self,
        domains: Iterable[str],
        resolver: AsyncResolver,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
    ) -> AuditRun:
        """
        Audit many domains, at most ``concurrency`` at a time; reports in input order.

        Repeated domains are audited once. ``progress(done, total, report)`` is called
        after each domain, in the event loop.

        Raises:
            ConfigurationError: A domain is invalid or ``concurrency`` is below 1.
        """
        names = unique_domains(domains)
        classifier = self._classifier()
        started = self._clock()
        memo = _AsyncTxtMemo(resolver)

        async def fetch(ask: Ask) -> Answer:
            return await (memo.txt(ask.name) if ask.shared else answer_async(resolver, None, ask))

        async def one(name: str) -> DomainReport:
            return await drive_async(self._plan(classifier, name), fetch)

        reports = await map_bounded(names, one, concurrency, progress)
        return self._run(classifier, reports, started)

    def audit_many(
        self,
        domains: Iterable[str],
        resolver: Resolver | AsyncResolver,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
    ) -> AuditRun:
        """
        Audit many domains from synchronous code; reports in input order.

        With an :class:`~oxdkim.typing.AsyncResolver` this runs
        :meth:`audit_many_async` in a new event loop (so it cannot be called from inside
        one); with a :class:`~oxdkim.typing.Resolver` it uses ``concurrency`` threads
        (none for ``concurrency=1``). ``progress`` is called in the calling thread.

        Raises:
            ConfigurationError: A domain is invalid, ``concurrency`` is below 1, or an
                async resolver is used from inside a running event loop.
        """
        return run_many(
            resolver,
            None,
            lambda chosen, _: self.audit_many_async(
                domains, chosen, concurrency=concurrency, progress=progress
            ),
            lambda sync, _: self._audit_threads(domains, sync, concurrency, progress),
            "audit_many",
        )

    def _audit_threads(
        self,
        domains: Iterable[str],
        resolver: Resolver,
        concurrency: int,
        progress: ProgressCallback | None,
    ) -> AuditRun:
        names = unique_domains(domains)
        classifier = self._classifier()
        started = self._clock()
        memo = _SyncTxtMemo(resolver)

        def fetch(ask: Ask) -> Answer:
            return memo.txt(ask.name) if ask.shared else answer(resolver, None, ask)

        reports = map_threads(
            names,
            lambda name: drive(self._plan(classifier, name), fetch),
            concurrency,
            progress,
            thread_name="oxdkim-audit",
        )
        return self._run(classifier, reports, started)


def audit_plan(auditor: DelegationAuditor, domain: str) -> Plan[DomainReport]:
    """
    :meth:`DelegationAuditor.audit` of one domain as a plan, for a larger plan (the
    readiness preview) or a driver.

    Raises:
        ConfigurationError: ``domain`` is not a domain name (when called).
    """
    return auditor._plan(auditor._classifier(), checked_domain(domain))
