"""
The verified-delegation policy: sign aligned only where the audit last found the CNAMEs
right, generic elsewhere, and say why in every decision.

The audit's verdicts live in a :class:`DelegationRegistry` (domain -> last report), which
bulk audits update and which loads and saves as the audit JSON. The policy reads the
registry's current immutable snapshot and does no I/O when it decides.

Temporary DNS failures: an ``unknown`` verdict says nothing about the customer's records
(the auditor's own resolver or network fails as often as the customer's DNS), so a domain
verified before keeps signing aligned for a grace period counted from that verified audit
(default three days). Flipping on every resolver hiccup would move thousands of domains
to generic signing, changing their DMARC results, and back at the next run. After the
grace period a domain whose audits keep failing signs generic: receivers cannot fetch a
key through its DNS either, while the generic key lives in the provider's own zone.
"""

from __future__ import annotations

import enum
import json
import os
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import attrs

from .._base.clock import utc_now
from .._base.files import atomic_write
from .._signing.results import SignatureSpec, SigningDecision, SigningRequest
from ..exceptions import ConfigurationError
from ..typing import Clock, SigningPolicy
from .report import AuditRun
from .values import DelegationVerdict, DomainReport, format_time

__all__ = [
    "DEFAULT_GRACE",
    "DelegationEntry",
    "DelegationRegistry",
    "DelegationState",
    "DelegationStatus",
    "VerifiedDelegationPolicy",
]

DEFAULT_GRACE = timedelta(days=3)
"""How long a verified delegation is trusted while later audits hit temporary failures."""


@attrs.frozen
class DelegationEntry:
    """
    What the registry knows about one domain.

    ``latest`` is the newest report; ``last_conclusive`` the newest ``ok`` or ``broken``
    one (the same report unless the newest was ``unknown``).
    """

    latest: DomainReport
    last_conclusive: DomainReport | None = None

    def updated(self, report: DomainReport) -> DelegationEntry:
        """The entry after a new report (older reports than ``latest`` change nothing)."""
        if report.checked_at < self.latest.checked_at:
            return self
        if report.verdict is DelegationVerdict.UNKNOWN:
            conclusive = self.last_conclusive
            if self.latest.verdict is not DelegationVerdict.UNKNOWN:
                conclusive = self.latest
            return DelegationEntry(report, conclusive)
        return DelegationEntry(report, report)

    @classmethod
    def first(cls, report: DomainReport) -> DelegationEntry:
        """The entry for a domain seen for the first time."""
        conclusive = None if report.verdict is DelegationVerdict.UNKNOWN else report
        return cls(report, conclusive)


class DelegationRegistry:
    """
    The audit's last verdict for each domain, shared by signers and auditors.

    Thread-safe: :meth:`update` builds a new immutable mapping and swaps it in under a
    lock; :meth:`snapshot` and :meth:`get` read the current one without locking, so a
    policy deciding on many threads never waits for an audit being recorded.

    Args:
        reports: Reports to start from (e.g. :class:`~oxdkim.AuditRun`).
    """

    def __init__(self, reports: Iterable[DomainReport] = ()) -> None:
        self._lock = threading.Lock()
        self._entries: Mapping[str, DelegationEntry] = MappingProxyType({})
        self.update(reports)

    def __repr__(self) -> str:
        return f"<DelegationRegistry {len(self._entries)} domains>"

    def __len__(self) -> int:
        return len(self._entries)

    def snapshot(self) -> Mapping[str, DelegationEntry]:
        """The current domain -> entry mapping (immutable; later updates do not change it)."""
        return self._entries

    def get(self, domain: str) -> DelegationEntry | None:
        """The entry for ``domain`` (normalized form), or ``None``."""
        return self._entries.get(domain)

    def update(self, reports: Iterable[DomainReport]) -> None:
        """
        Record new reports (an :class:`~oxdkim.AuditRun` is an iterable of them).

        A report older than the one held for its domain is ignored; an ``unknown`` one is
        kept as the latest while the last ``ok``/``broken`` report is remembered.
        """
        new = list(reports)
        if not new:
            return
        with self._lock:
            entries = dict(self._entries)
            for report in new:
                if not isinstance(report, DomainReport):
                    raise ConfigurationError(f"not a DomainReport: {report!r}")
                old = entries.get(report.domain)
                entries[report.domain] = (
                    DelegationEntry.first(report) if old is None else old.updated(report)
                )
            self._entries = MappingProxyType(entries)

    def forget(self, *domains: str) -> None:
        """Drop ``domains`` (e.g. customers who left); their state becomes unaudited."""
        with self._lock:
            entries = dict(self._entries)
            for domain in domains:
                entries.pop(domain, None)
            self._entries = MappingProxyType(entries)

    # --- persistence: the audit JSON ---------------------------------------------------

    def to_json(self, *, indent: int | None = 2) -> str:
        """
        The registry as audit JSON: the latest report of each domain, and for an
        ``unknown`` one the last conclusive report under ``"last_conclusive"``.
        """
        entries = self._entries
        run = AuditRun([entry.latest for entry in entries.values()])
        data = run.to_json_obj()
        for item, entry in zip(data["domains"], entries.values(), strict=True):
            if entry.last_conclusive is not None and entry.last_conclusive is not entry.latest:
                item["last_conclusive"] = entry.last_conclusive.to_json()
        return json.dumps(data, indent=indent, ensure_ascii=True) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "audit JSON") -> DelegationRegistry:
        """
        Load a registry from audit JSON (a saved registry, or any audit run's JSON).

        Raises:
            ConfigurationError: Not an oxdkim audit, or a bad entry.
        """
        run = AuditRun.from_json(text, source=source)
        data = json.loads(text)
        registry = cls()
        entries: dict[str, DelegationEntry] = {}
        for index, (report, item) in enumerate(zip(run.reports, data["domains"], strict=True)):
            previous = item.get("last_conclusive")
            entry = DelegationEntry.first(report)
            if previous is not None:
                where = f"{source}: domains[{index}].last_conclusive"
                entry = DelegationEntry.first(DomainReport.from_json(previous, where)).updated(
                    report
                )
            entries[report.domain] = entry
        registry._entries = MappingProxyType(entries)
        return registry

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_json` to ``path`` atomically (readers see old or new, whole)."""
        atomic_write(Path(path), self.to_json().encode(), mode=0o644)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DelegationRegistry:
        """
        Read a registry saved by :meth:`save` (or an audit run's JSON).

        Raises:
            ConfigurationError: The file cannot be read or is not an oxdkim audit.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"cannot read {path}: {exc}") from None
        return cls.from_json(text, source=str(path))


class DelegationState(enum.Enum):
    """How the verified-delegation policy sees a domain."""

    VERIFIED = "verified"
    """The last conclusive audit found the delegation right (within the grace period)."""
    BROKEN = "broken"
    """The last conclusive audit found a problem."""
    UNKNOWN = "unknown"
    """Audits hit temporary failures and no verified result is recent enough."""
    UNAUDITED = "unaudited"
    """No audit of this domain is known."""
    STALE = "stale"
    """The audit that decides is older than the policy's ``max_age``."""


@attrs.frozen
class DelegationStatus:
    """The state of one domain for the policy, the report it rests on, and why."""

    state: DelegationState
    report: DomainReport | None
    reason: str


def _minute(report: DomainReport) -> str:
    return format_time(report.checked_at.replace(second=0, microsecond=0)).replace(":00Z", "Z")


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def delegation_status(
    domain: str,
    entry: DelegationEntry | None,
    now: datetime,
    *,
    grace: timedelta,
    max_age: timedelta | None,
) -> DelegationStatus:
    """Decide a domain's :class:`DelegationState` from its registry entry at ``now``."""
    if entry is None:
        return DelegationStatus(
            DelegationState.UNAUDITED, None, f"{domain}: delegation never audited"
        )
    latest = entry.latest
    if latest.verdict is DelegationVerdict.UNKNOWN:
        last = entry.last_conclusive
        if last is None:
            return DelegationStatus(
                DelegationState.UNKNOWN,
                latest,
                f"{domain}: delegation unknown, temporary DNS failure "
                f"(audit {_minute(latest)}) and no earlier result",
            )
        if last.verdict is DelegationVerdict.BROKEN:
            status = DelegationStatus(
                DelegationState.BROKEN,
                last,
                f"{domain}: {last.summary()} (audit {_minute(last)}; the audit of "
                f"{_minute(latest)} hit a temporary DNS failure)",
            )
        elif now - last.checked_at > grace:
            return DelegationStatus(
                DelegationState.UNKNOWN,
                latest,
                f"{domain}: delegation unknown, temporary DNS failure (audit "
                f"{_minute(latest)}); last verified {_minute(last)}, more than the "
                f"{_duration(grace)} grace period ago",
            )
        else:
            status = DelegationStatus(
                DelegationState.VERIFIED,
                last,
                f"{domain}: delegation verified (audit {_minute(last)}; kept through the "
                f"temporary DNS failure of {_minute(latest)}, grace {_duration(grace)})",
            )
    elif latest.verdict is DelegationVerdict.OK:
        status = DelegationStatus(
            DelegationState.VERIFIED,
            latest,
            f"{domain}: delegation verified (audit {_minute(latest)})",
        )
    else:
        status = DelegationStatus(
            DelegationState.BROKEN,
            latest,
            f"{domain}: {latest.summary()} (audit {_minute(latest)})",
        )
    assert status.report is not None
    if max_age is not None and now - status.report.checked_at > max_age:
        return DelegationStatus(
            DelegationState.STALE,
            status.report,
            f"{domain}: last audit {_minute(status.report)} is older than "
            f"{_duration(max_age)} (it said: {status.state.value})",
        )
    return status


def _states(value: Iterable[DelegationState | str]) -> frozenset[DelegationState]:
    if isinstance(value, (str, DelegationState)):
        value = [value]
    try:
        return frozenset(DelegationState(v) for v in value)
    except ValueError as exc:
        raise ConfigurationError(f"dual_sign: {exc}") from None


def _grace(value: object) -> timedelta:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ConfigurationError(f"grace must be a non-negative timedelta, not {value!r}")
    return value


def _max_age(value: object) -> timedelta | None:
    if value is None:
        return None
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ConfigurationError(f"max_age must be a positive timedelta, not {value!r}")
    return value


def _spec_key(spec: SignatureSpec) -> tuple[str, str, str]:
    return (spec.domain, spec.selector, spec.key.public_key_b64)


@attrs.frozen
class VerifiedDelegationPolicy:
    """
    Sign aligned only for domains whose delegation the audit last found correct.

    ``aligned`` (typically a :class:`~oxdkim.policies.LegacyBrandPolicy`, which also
    checks that the tenant owns the domain) decides for verified domains; ``generic``
    (typically a :class:`~oxdkim.policies.DefaultGenericPolicy`) for every other one.
    Domains in a state listed in ``dual_sign`` get both signatures, so a receiver that
    finds the aligned one broken still has a valid generic one. The inner policies'
    decisions are used as they are: when ``aligned`` falls back (a domain the tenant
    does not own) or refuses, so does this policy.

    Each decision's reason starts with the domain's audit state, e.g.
    ``"acme.example: mail2 CNAME missing (audit 2026-11-28T12:00Z); generic signature
    ..."``.

    Args:
        aligned: The policy for verified domains.
        generic: The policy for all others.
        registry: Where the audit verdicts are kept.
        grace: How long a verified result stands while later audits only hit temporary
            DNS failures (counted from the verified audit). ``timedelta(0)``: not at all.
        max_age: Audits older than this count as ``stale`` (``None``: no limit).
        dual_sign: States whose domains get aligned and generic signatures.
        clock: The time used when a request carries none.
    """

    aligned: SigningPolicy
    generic: SigningPolicy
    registry: DelegationRegistry
    grace: timedelta = attrs.field(default=DEFAULT_GRACE, converter=_grace)
    max_age: timedelta | None = attrs.field(default=None, converter=_max_age)
    dual_sign: frozenset[DelegationState] = attrs.field(default=frozenset(), converter=_states)
    clock: Clock = attrs.field(default=utc_now, eq=False, repr=False)
    name: str = "verified-delegation"

    def __attrs_post_init__(self) -> None:
        for label, policy in (("aligned", self.aligned), ("generic", self.generic)):
            if not isinstance(policy, SigningPolicy):
                raise ConfigurationError(f"{label} must be a signing policy, not {policy!r}")
        if not isinstance(self.registry, DelegationRegistry):
            raise ConfigurationError(
                f"registry must be a DelegationRegistry, not {self.registry!r}"
            )

    def status(self, domain: str, now: datetime | None = None) -> DelegationStatus:
        """The audit state of ``domain`` as this policy sees it (at ``now``)."""
        return delegation_status(
            domain,
            self.registry.get(domain),
            now if now is not None else self.clock(),
            grace=self.grace,
            max_age=self.max_age,
        )

    def decide(self, request: SigningRequest) -> SigningDecision:
        """Aligned for a verified domain, generic otherwise (both in ``dual_sign`` states)."""
        status = self.status(request.from_domain, request.now)
        verified = status.state is DelegationState.VERIFIED
        first = (self.aligned if verified else self.generic).decide(request)
        if status.state not in self.dual_sign:
            return SigningDecision(
                f"{self.name}>{first.policy}", f"{status.reason}; {first.reason}", first.signatures
            )
        second = (self.generic if verified else self.aligned).decide(request)
        aligned, generic = (first, second) if verified else (second, first)
        specs: dict[tuple[str, str, str], SignatureSpec] = {}
        for spec in (*aligned.signatures, *generic.signatures):
            specs.setdefault(_spec_key(spec), spec)
        return SigningDecision(
            f"{self.name}>{aligned.policy}+{generic.policy}",
            f"{status.reason}; both signatures ({status.state.value} domains get both): "
            f"{aligned.reason}; {generic.reason}",
            tuple(specs.values()),
        )
