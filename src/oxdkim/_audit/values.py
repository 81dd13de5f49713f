"""
What a delegation audit found, as values: problems, per-selector and per-domain reports.

Pure data with a JSON form, and no DNS: the verified-delegation policy reads these values
and sits in the signing core, which must not reach the resolvers.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TypeVar

import attrs

from .._base.answers import DnsStatus
from .._keys.ringstate import SlotState
from ..exceptions import ConfigurationError

__all__ = [
    "DelegationVerdict",
    "DomainReport",
    "KeyStatus",
    "Party",
    "Problem",
    "ProblemCode",
    "SelectorReport",
    "Severity",
    "TargetKind",
    "format_time",
    "parse_time",
]


class DelegationVerdict(enum.Enum):
    """
    Whether a domain's delegation is in place.

    ``ok`` means both CNAMEs point at the brand and serve the ring's keys, so aligned
    signatures verify now and after every rotation; ``broken`` means at least one error;
    ``unknown`` means a temporary DNS failure hid the answer (never the customer's fault).
    """

    OK = "ok"
    BROKEN = "broken"
    UNKNOWN = "unknown"


class Severity(enum.Enum):
    """How much a problem matters."""

    ERROR = "error"
    """Aligned signatures fail now, or will after the next rotation step."""
    WARNING = "warning"
    """Works, but fragile."""
    NOTICE = "notice"
    """For information; nothing for the customer to do."""
    UNKNOWN = "unknown"
    """Could not be checked (temporary DNS failure)."""


class Party(enum.Enum):
    """Who has to act."""

    CUSTOMER = "customer"
    """The customer: a record in their zone is missing or wrong."""
    PROVIDER = "provider"
    """The provider: the key host or the key ring."""
    DNS = "dns"
    """Nobody yet: DNS did not answer; run the audit again."""


class ProblemCode(enum.Enum):
    """The problems an audit finds, as operators meet them. Values are stable tokens."""

    MISSING_CNAME = "missing-cname"
    ONE_SELECTOR_ONLY = "one-selector-only"
    TXT_INSTEAD_OF_CNAME = "txt-instead-of-cname"
    WRONG_TARGET = "wrong-target"
    BROKEN_CHAIN = "broken-chain"
    LOW_TTL = "low-ttl"
    KEY_MISSING = "key-missing"
    KEY_MISMATCH = "key-mismatch"
    KEY_REVOKED = "key-revoked"
    MALFORMED_KEY = "malformed-key"
    MULTIPLE_KEYS = "multiple-keys"
    SLOT_EMPTY = "slot-empty"
    DNS_TEMPORARY = "dns-temporary"

    @property
    def explanation(self) -> str:
        """What the problem means and what to do, in an operator's words."""
        return _EXPLANATIONS[self]


_EXPLANATIONS = {
    ProblemCode.MISSING_CNAME: (
        "The customer's zone has no CNAME for this selector (the name does not exist, or "
        "exists without a CNAME). Receivers find no key, so aligned signatures fail. The "
        "customer must publish the CNAME."
    ),
    ProblemCode.ONE_SELECTOR_ONLY: (
        "Only one of the two selectors is set up. Signatures made with the missing one "
        "fail: now if it signs, otherwise from the next key rotation. The customer must "
        "add the second CNAME."
    ),
    ProblemCode.TXT_INSTEAD_OF_CNAME: (
        "A key record was copied into the customer's zone instead of the CNAME. Even if "
        "it matches the brand's key today, it breaks at the next key rotation. The "
        "customer must replace the TXT record by the CNAME."
    ),
    ProblemCode.WRONG_TARGET: (
        "The CNAME points somewhere else than the brand's key host: another brand, the "
        "brand's name with the customer's domain appended (a missing trailing dot in the "
        "zone file), a typo, the other selector, or an unrelated name. The customer must "
        "correct the target."
    ),
    ProblemCode.BROKEN_CHAIN: (
        "Following the CNAME leads to a loop, too many hops, or an unusable answer; "
        "receivers give up the same way."
    ),
    ProblemCode.LOW_TTL: (
        "The CNAME works but has a very short TTL: every verification needs a fresh "
        "lookup of the customer's DNS, so an outage there turns into failed signatures "
        "sooner. A TTL of an hour or more is usual."
    ),
    ProblemCode.KEY_MISSING: (
        "The CNAME is right, but the brand's key host serves no key record at the target. "
        "Not the customer's problem: the provider must publish the ring's record."
    ),
    ProblemCode.KEY_MISMATCH: (
        "The CNAME is right, but the key served behind it is not the ring's key for this "
        "slot. Not the customer's problem: the provider's published records and key ring "
        "disagree."
    ),
    ProblemCode.KEY_REVOKED: (
        "The CNAME is right, but the key host serves a revoked key (empty p=) where the "
        "ring still holds a key. Not the customer's problem."
    ),
    ProblemCode.MALFORMED_KEY: (
        "The key record behind the name cannot be parsed as a DKIM key record, so "
        "verifiers reject it."
    ),
    ProblemCode.MULTIPLE_KEYS: (
        "Several TXT records answer for the key name; verifiers need exactly one."
    ),
    ProblemCode.SLOT_EMPTY: (
        "The key ring holds no key in this slot yet, so there is no key to compare. Not "
        "the customer's problem; the CNAME itself was checked."
    ),
    ProblemCode.DNS_TEMPORARY: (
        "DNS did not answer (timeout, SERVFAIL, refused), so nothing is known about this "
        "selector. Not a customer error: run the audit again."
    ),
}


class TargetKind(enum.Enum):
    """Which kind of wrong CNAME target was found."""

    OTHER_BRAND = "other-brand"
    """Under another brand's key host (from the configured list)."""
    DOUBLED_DOMAIN = "doubled-domain"
    """The right target with a domain appended: a missing trailing dot in the zone file."""
    TYPO = "typo"
    """A small edit distance from the right target."""
    OTHER_SELECTOR = "other-selector"
    """The brand's target for the other selector (the two are swapped or copied)."""
    OTHER = "other"
    """Anything else."""


class KeyStatus(enum.Enum):
    """What the selector's name serves, following CNAMEs as a verifier does."""

    RING_KEY = "ring-key"
    """The ring's key for this slot."""
    OTHER_SLOT_KEY = "other-slot-key"
    """The ring's key of the other slot."""
    OTHER_KEY = "other-key"
    """Some key the ring does not hold."""
    REVOKED = "revoked"
    """A key record with an empty ``p=``."""
    MISSING = "missing"
    """No key record."""
    MALFORMED = "malformed"
    """A record that does not parse as a DKIM key record."""
    MULTIPLE = "multiple"
    """Several TXT records."""
    UNKNOWN = "unknown"
    """Not known: a temporary DNS failure, or a chain that could not be followed."""


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as the audit JSON writes times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: object, where: str) -> datetime:
    """
    Read a time written by :func:`format_time` (any ISO 8601 with a zone is accepted).

    Raises:
        ConfigurationError: Not an ISO 8601 time with a time zone.
    """
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}: expected an ISO 8601 time, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"{where}: not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise ConfigurationError(f"{where}: the time {value!r} has no time zone")
    return moment


Observed = Mapping[str, str | int | bool | None]


def _observed(value: Mapping[str, Any]) -> Observed:
    return MappingProxyType(dict(value))


@attrs.frozen
class Problem:
    """
    One problem found for one selector of a domain.

    Attributes:
        code: What kind of problem (a stable token; see :attr:`ProblemCode.explanation`).
        selector: The selector it concerns.
        severity: How much it matters.
        party: Who has to act.
        message: What was found, for this domain, in an operator's words.
        target_kind: For ``wrong-target``: which kind of wrong target.
        observed: The data behind it (the target found, the TTL seen, ...), JSON-ready.
    """

    code: ProblemCode
    selector: str
    severity: Severity
    party: Party
    message: str
    target_kind: TargetKind | None = None
    observed: Observed = attrs.field(factory=dict, converter=_observed, hash=False)

    @property
    def identity(self) -> tuple[str, str, str | None]:
        """The parts a diff compares (selector, code and target kind), not the wording."""
        kind = self.target_kind.value if self.target_kind is not None else None
        return (self.selector, self.code.value, kind)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "code": self.code.value,
            "selector": self.selector,
            "severity": self.severity.value,
            "party": self.party.value,
            "message": self.message,
            "target_kind": self.target_kind.value if self.target_kind else None,
            "observed": dict(self.observed),
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> Problem:
        """
        Read :meth:`to_json`'s form.

        Raises:
            ConfigurationError: Missing fields or unknown tokens.
        """
        obj = _mapping(data, where)
        kind = obj.get("target_kind")
        observed = obj.get("observed") or {}
        if not isinstance(observed, dict):
            raise ConfigurationError(f"{where}: observed must be an object")
        return cls(
            code=_enum(ProblemCode, obj.get("code"), f"{where}.code"),
            selector=_str(obj.get("selector"), f"{where}.selector"),
            severity=_enum(Severity, obj.get("severity"), f"{where}.severity"),
            party=_enum(Party, obj.get("party"), f"{where}.party"),
            message=_str(obj.get("message"), f"{where}.message"),
            target_kind=None if kind is None else _enum(TargetKind, kind, f"{where}.target_kind"),
            observed=observed,
        )


def _verdict(problems: tuple[Problem, ...]) -> DelegationVerdict:
    if any(p.severity is Severity.ERROR for p in problems):
        return DelegationVerdict.BROKEN
    if any(p.severity is Severity.UNKNOWN for p in problems):
        return DelegationVerdict.UNKNOWN
    return DelegationVerdict.OK


@attrs.frozen
class SelectorReport:
    """
    What the audit saw for one selector of one domain.

    Attributes:
        selector: The selector (``mail1``).
        expected_target: Where the CNAME must point: ``<selector>._domainkey.<key host>``.
        slot_state: The ring slot's state at the time of the audit.
        cname_status: What DNS said about the CNAME (``None``: not known, temporary failure).
        target: The CNAME's target, when there is one.
        cname_ttl: The CNAME's TTL as served.
        chain: The names followed from the selector's name to the key record.
        key_status: What a verifier would find at the end of the chain.
        problems: What is wrong, if anything.
    """

    selector: str
    expected_target: str
    slot_state: SlotState
    cname_status: DnsStatus | None
    target: str | None = None
    cname_ttl: int | None = None
    chain: tuple[str, ...] = ()
    key_status: KeyStatus = KeyStatus.UNKNOWN
    problems: tuple[Problem, ...] = ()

    @property
    def verdict(self) -> DelegationVerdict:
        """This selector's verdict (errors first, then unknowns)."""
        return _verdict(self.problems)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "selector": self.selector,
            "verdict": self.verdict.value,
            "slot_state": self.slot_state.value,
            "expected_target": self.expected_target,
            "cname": {
                "status": self.cname_status.value if self.cname_status else None,
                "target": self.target,
                "ttl": self.cname_ttl,
            },
            "chain": list(self.chain),
            "key": self.key_status.value,
            "problems": [problem.to_json() for problem in self.problems],
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> SelectorReport:
        """
        Read :meth:`to_json`'s form.

        Raises:
            ConfigurationError: Missing fields or unknown tokens.
        """
        obj = _mapping(data, where)
        cname = _mapping(obj.get("cname"), f"{where}.cname")
        status = cname.get("status")
        ttl = cname.get("ttl")
        if ttl is not None and (type(ttl) is not int or ttl < 0):
            raise ConfigurationError(f"{where}.cname.ttl: expected a TTL, got {ttl!r}")
        target = cname.get("target")
        chain = obj.get("chain") or []
        problems = obj.get("problems") or []
        if not isinstance(chain, list) or not isinstance(problems, list):
            raise ConfigurationError(f"{where}: chain and problems must be lists")
        return cls(
            selector=_str(obj.get("selector"), f"{where}.selector"),
            expected_target=_str(obj.get("expected_target"), f"{where}.expected_target"),
            slot_state=_enum(SlotState, obj.get("slot_state"), f"{where}.slot_state"),
            cname_status=None if status is None else _enum(DnsStatus, status, f"{where}.cname"),
            target=None if target is None else _str(target, f"{where}.cname.target"),
            cname_ttl=ttl,
            chain=tuple(_str(name, f"{where}.chain") for name in chain),
            key_status=_enum(KeyStatus, obj.get("key"), f"{where}.key"),
            problems=tuple(
                Problem.from_json(p, f"{where}.problems[{i}]") for i, p in enumerate(problems)
            ),
        )


_SHORT = {
    ProblemCode.MISSING_CNAME: "{s} CNAME missing",
    ProblemCode.ONE_SELECTOR_ONLY: "{s} CNAME missing (only the other selector is set up)",
    ProblemCode.TXT_INSTEAD_OF_CNAME: "{s} has a TXT key record instead of the CNAME",
    ProblemCode.WRONG_TARGET: "{s} CNAME points to the wrong target ({k})",
    ProblemCode.BROKEN_CHAIN: "{s} CNAME chain is broken",
    ProblemCode.LOW_TTL: "{s} CNAME TTL is low",
    ProblemCode.KEY_MISSING: "{s} key missing at the key host",
    ProblemCode.KEY_MISMATCH: "{s} key served differs from the ring's",
    ProblemCode.KEY_REVOKED: "{s} key served is revoked",
    ProblemCode.MALFORMED_KEY: "{s} key record is malformed",
    ProblemCode.MULTIPLE_KEYS: "{s} has several key records",
    ProblemCode.SLOT_EMPTY: "{s} slot of the ring is empty",
    ProblemCode.DNS_TEMPORARY: "{s} temporary DNS failure",
}
_ORDER = {Severity.ERROR: 0, Severity.UNKNOWN: 1, Severity.WARNING: 2, Severity.NOTICE: 3}


@attrs.frozen
class DomainReport:
    """
    The audit of one customer domain: both selectors, every problem, one verdict.

    Attributes:
        domain: The customer domain (lowercase A-labels).
        checked_at: When it was audited.
        selectors: One report per selector, in the ring's order.
        active_selector: The ring's signing selector at the time, if any.
    """

    domain: str
    checked_at: datetime
    selectors: tuple[SelectorReport, ...]
    active_selector: str | None = None

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Every problem of every selector."""
        return tuple(problem for report in self.selectors for problem in report.problems)

    @property
    def verdict(self) -> DelegationVerdict:
        """``broken`` on any error; else ``unknown`` on a temporary failure; else ``ok``."""
        return _verdict(self.problems)

    @property
    def verifies_now(self) -> bool | None:
        """
        Would an aligned signature by the active selector verify right now?

        True even for a broken delegation that happens to work today (a copied key that
        matches the active one); False when the key cannot be reached (a CNAME loop);
        ``None`` after a temporary DNS failure or when the ring has no active key.
        """
        for report in self.selectors:
            if report.selector == self.active_selector:
                if report.verdict is DelegationVerdict.UNKNOWN:
                    return None
                return report.key_status is KeyStatus.RING_KEY
        return None

    def selector(self, selector: str) -> SelectorReport:
        """The report for ``selector``."""
        for report in self.selectors:
            if report.selector == selector:
                return report
        raise KeyError(selector)

    def summary(self) -> str:
        """
        One line for operators: ``"mail2 CNAME missing"``, ``"delegation verified"``.

        Errors first, then temporary failures, then warnings; notices are left out.
        """
        problems = sorted(
            (p for p in self.problems if p.severity is not Severity.NOTICE),
            key=lambda p: _ORDER[p.severity],
        )
        if not problems:
            return "delegation verified"
        return "; ".join(
            _SHORT[p.code].format(s=p.selector, k=p.target_kind.value if p.target_kind else "")
            for p in problems
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (verdict and summary included for readers)."""
        return {
            "domain": self.domain,
            "verdict": self.verdict.value,
            "summary": self.summary(),
            "checked_at": format_time(self.checked_at),
            "active_selector": self.active_selector,
            "verifies_now": self.verifies_now,
            "selectors": [report.to_json() for report in self.selectors],
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "report") -> DomainReport:
        """
        Read :meth:`to_json`'s form (the verdict is recomputed from the problems).

        Raises:
            ConfigurationError: Missing fields or unknown tokens.
        """
        obj = _mapping(data, where)
        domain = _str(obj.get("domain"), f"{where}.domain")
        selectors = obj.get("selectors")
        if not isinstance(selectors, list):
            raise ConfigurationError(f"{where}.selectors: expected a list")
        active = obj.get("active_selector")
        return cls(
            domain=domain,
            checked_at=parse_time(obj.get("checked_at"), f"{where}.checked_at"),
            selectors=tuple(
                SelectorReport.from_json(s, f"{domain}.selectors[{i}]")
                for i, s in enumerate(selectors)
            ),
            active_selector=None if active is None else _str(active, f"{where}.active_selector"),
        )


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigurationError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}: expected a string, got {value!r}")
    return value


_E = TypeVar("_E", bound=enum.Enum)


def _enum(cls: type[_E], value: Any, where: str) -> _E:
    try:
        return cls(value)
    except ValueError:
        raise ConfigurationError(f"{where}: unknown value {value!r}") from None
