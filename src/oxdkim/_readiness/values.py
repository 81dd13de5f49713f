"""
The readiness preview's results as values: per-domain predictions, a run of many domains,
their JSON form and a text table. No DNS here; :mod:`oxdkim._readiness.preview` computes them.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from .._audit.report import count_repr
from .._audit.spf import SpfAnalysis
from .._audit.values import DomainReport, format_time
from .._dmarc.alignment import DmarcResult, IdentifierAlignment, PolicySource, SpfResult
from .._dmarc.record import Policy

__all__ = [
    "PREVIEW_FORMAT",
    "DkimOutlook",
    "DkimPrediction",
    "DomainReadiness",
    "FinderMode",
    "PreviewProgress",
    "ReadinessRun",
    "ReadinessVerdict",
    "SigningMode",
    "SigningPrediction",
    "SpfPrediction",
    "dmarc_result_json",
    "policy_words",
]

PREVIEW_FORMAT = "oxdkim-dmarc-preview"
"""The ``format`` field of the preview's JSON."""


class FinderMode(enum.Enum):
    """How organizational domains are found for alignment."""

    TREE_WALK = "tree-walk"
    """RFC 9989 §4.10 DNS tree walk (the default)."""
    PSL = "psl"
    """RFC 7489 §3.2 Public Suffix List."""
    COMPARE = "compare"
    """The tree walk, with the Public Suffix List's answer beside it: shows disagreements."""


class SigningMode(enum.Enum):
    """How the brand signs a domain's mail."""

    ALIGNED = "aligned"
    GENERIC = "generic"
    NONE = "none"
    """Not signed: signing is refused for the domain."""


class DkimOutlook(enum.Enum):
    """What receivers will find when they verify the domain's DKIM signature."""

    PASS = "pass"  # noqa: S105
    FRAGILE = "pass-until-rotation"
    """Verifies today, but the delegation is broken: fails after a key rotation."""
    FAIL = "fail"
    UNKNOWN = "unknown"
    """A temporary DNS failure hid the delegation."""
    NONE = "none"
    """Mail is not signed."""


class ReadinessVerdict(enum.Enum):
    """The predicted DMARC outcome of a domain's mail."""

    PASS = "pass"  # noqa: S105
    FAIL = "fail"
    NO_POLICY = "no-policy"
    """No usable DMARC record applies, so receivers use their local policy."""
    UNKNOWN = "unknown"
    """A temporary DNS failure hid something the prediction needs."""
    PERMERROR = "permerror"
    """The DMARC record (or a DNS answer it needs) is unusable."""


@attrs.frozen
class SigningPrediction:
    """Which mode signs the domain's mail, the ``d=`` it carries, and why."""

    mode: SigningMode
    domain: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {"mode": self.mode.value, "d": self.domain, "reason": self.reason}


@attrs.frozen
class DkimPrediction:
    """
    The DKIM outlook of the domain's mail.

    Attributes:
        outlook: What receivers will find.
        domain: The ``d=`` of the signature (``None`` when not signed).
        aligned: Whether that ``d=`` aligns with the From domain under the domain's
            DMARC record (``None`` when unknown or not signed).
        audit: The delegation audit, for aligned signing.
        reason: Why, in an operator's words.
    """

    outlook: DkimOutlook
    domain: str | None
    aligned: bool | None
    reason: str
    audit: DomainReport | None = None

    @property
    def passes(self) -> bool:
        """The signature verifies today."""
        return self.outlook in (DkimOutlook.PASS, DkimOutlook.FRAGILE)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "outlook": self.outlook.value,
            "d": self.domain,
            "aligned": self.aligned,
            "reason": self.reason,
            "audit": self.audit.to_json() if self.audit is not None else None,
        }


@attrs.frozen
class SpfPrediction:
    """
    The SPF outlook of the domain's mail, checked at its MAIL FROM domain.

    Attributes:
        mail_from: The MAIL FROM (bounce) domain the brand uses for the domain;
            ``None`` when none is configured (SPF alignment cannot be judged).
        result: The SPF result predicted for the provider's mail.
        aligned: Whether the MAIL FROM domain aligns with the From domain (``None`` when
            there is none or it could not be decided).
        alignment: DMARC's view of that alignment (mode, reason, organizational domain).
        analysis: The SPF record analysis.
        reason: Why, in an operator's words.
    """

    mail_from: str | None
    result: SpfResult | None
    aligned: bool | None
    reason: str
    alignment: IdentifierAlignment | None = None
    analysis: SpfAnalysis | None = None

    @property
    def passes_aligned(self) -> bool:
        """SPF passes and the MAIL FROM domain aligns: DMARC passes through SPF."""
        return self.result is SpfResult.PASS and self.aligned is True

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "mail_from": self.mail_from,
            "result": self.result.value if self.result is not None else None,
            "aligned": self.aligned,
            "mode": self.alignment.mode.value if self.alignment is not None else None,
            "reason": self.reason,
            "analysis": self.analysis.to_json() if self.analysis is not None else None,
        }


def _identifier_json(identifier: IdentifierAlignment) -> dict[str, Any]:
    return {
        "identifier": identifier.identifier.value,
        "domain": identifier.domain,
        "mode": identifier.mode.value,
        "aligned": identifier.aligned,
        "reason": identifier.reason.value,
        "organizational_domain": identifier.organizational_domain,
        "alternative_aligned": identifier.alternative_aligned,
    }


def dmarc_result_json(result: DmarcResult) -> dict[str, Any]:
    """A JSON-ready mapping of a :class:`~oxdkim.dmarc.DmarcResult` (for reports)."""
    org = result.author_org
    return {
        "verdict": result.verdict.value,
        "reason": result.reason.value,
        "author_domain": result.author_domain,
        "organizational_domain": result.organizational_domain,
        "organizational_domain_alternative": (
            org.alternative.organizational_domain
            if org is not None and org.alternative is not None
            else None
        ),
        "policy_domain": result.policy_domain,
        "record": result.record.text if result.record is not None else None,
        "policy_source": result.policy_source.value if result.policy_source else None,
        "policy": result.policy.value if result.policy is not None else None,
        "testing": bool(result.record.t) if result.record is not None else None,
        "disposition": result.disposition.value,
        "identifiers": [_identifier_json(i) for i in result.identifiers],
        "authentication_results": result.authentication_results(),
    }


_CONSEQUENCE = {
    Policy.REJECT: "mail will be rejected",
    Policy.QUARANTINE: "mail will be quarantined (spam folder)",
    Policy.NONE: "mail is delivered; failures are only reported",
}


def policy_words(result: DmarcResult) -> str:
    """
    What the applicable policy does to this domain's failing mail, in operator words.

    ``"p=reject: mail will be rejected"``; ``"sp=quarantine (example.com's policy for its
    subdomains): ..."``; with ``t=y`` the receiver applies the next milder policy.
    """
    if result.policy is None or result.policy_source is None:
        return "no DMARC record: receivers apply their local policy"
    tag = f"{result.policy_source.value}={result.policy.value}"
    if result.policy_source is PolicySource.SP:
        tag += f" ({result.policy_domain}'s policy for its subdomains)"
    elif result.policy_source is PolicySource.NP:
        tag += f" ({result.policy_domain}'s policy for non-existent subdomains)"
    elif result.policy_domain != result.author_domain:
        tag += f" (inherited from {result.policy_domain})"
    applied = result.applied_policy or result.policy
    pct = result.record.pct if result.rfc7489 and result.record is not None else 100
    if applied is not result.policy and result.rfc7489:
        tag += f" with pct=0: RFC 7489 receivers apply {applied.value} instead"
    elif applied is not result.policy:
        tag += f" with t=y (testing): receivers apply {applied.value} instead"
    elif pct < 100:
        milder = result.policy.relaxed_one_step().value
        tag += (
            f" with pct={pct}: RFC 7489 receivers apply it to {pct}% of failing mail, "
            f"{milder} to the rest"
        )
    return f"{tag}: {_CONSEQUENCE[applied]}"


@attrs.frozen
class DomainReadiness:
    """
    The readiness of one customer domain: what its mail will get, and why.

    Attributes:
        domain: The customer (From) domain.
        checked_at: When it was previewed.
        signing: How the brand signs its mail.
        dkim: The DKIM outlook.
        spf: The SPF outlook at the MAIL FROM domain.
        dmarc: DMARC's result for the predicted identifiers.
        verdict: The predicted DMARC outcome.
        summary: One sentence for operators.
        notes: Further warnings (fragile delegation, SPF problems, disagreements).
    """

    domain: str
    checked_at: datetime
    signing: SigningPrediction
    dkim: DkimPrediction
    spf: SpfPrediction
    dmarc: DmarcResult
    verdict: ReadinessVerdict
    summary: str
    notes: tuple[str, ...] = ()

    @property
    def policy(self) -> Policy | None:
        """The policy that applies to the domain's failing mail."""
        return self.dmarc.policy

    @property
    def disposition(self) -> Policy | None:
        """
        The predicted request to receivers for the domain's mail.

        The policy (after ``t=y``) when it fails DMARC, ``none`` otherwise; ``None`` when
        unknown.
        """
        if self.verdict is ReadinessVerdict.UNKNOWN:
            return None
        return self.dmarc.disposition

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "domain": self.domain,
            "verdict": self.verdict.value,
            "disposition": self.disposition.value if self.disposition is not None else None,
            "summary": self.summary,
            "notes": list(self.notes),
            "checked_at": format_time(self.checked_at),
            "signing": self.signing.to_json(),
            "dkim": self.dkim.to_json(),
            "spf": self.spf.to_json(),
            "dmarc": dmarc_result_json(self.dmarc),
        }

    def row(self) -> tuple[str, str, str, str, str, str]:
        """The table cells: domain, signing, DKIM, SPF, DMARC policy, prediction."""
        dkim = self.dkim.outlook.value
        if self.dkim.passes and self.dkim.aligned is not None:
            dkim += " aligned" if self.dkim.aligned else " not-aligned"
        if self.spf.result is None:
            spf = "n/a"
        else:
            spf = self.spf.result.value
            if self.spf.aligned is not None:
                spf += " aligned" if self.spf.aligned else " not-aligned"
        if self.dmarc.policy is not None and self.dmarc.policy_source is not None:
            policy = f"{self.dmarc.policy_source.value}={self.dmarc.policy.value}"
        elif self.dmarc.record is not None:
            policy = "invalid"
        else:
            policy = "none"
        prediction = self.verdict.value
        if self.verdict is ReadinessVerdict.FAIL:
            prediction = f"FAIL -> {self.dmarc.disposition.value}"
        elif self.verdict is ReadinessVerdict.PASS:
            ways = [
                name
                for name, ok in (("dkim", self._dkim_aligned), ("spf", self.spf.passes_aligned))
                if ok
            ]
            prediction = f"pass ({'+'.join(ways)})" if ways else "pass"
        return (self.domain, self.signing.mode.value, dkim, spf, policy, prediction)

    @property
    def _dkim_aligned(self) -> bool:
        return self.dkim.passes and self.dkim.aligned is True


PreviewProgress = Callable[[int, int, DomainReadiness], None]
"""Called after each domain of a bulk preview with ``(done, total, readiness)``."""

_HEADINGS = ("DOMAIN", "SIGNING", "DKIM", "SPF", "DMARC", "PREDICTION")


@attrs.frozen
class ReadinessRun:
    """A preview of many domains, in input order, with table and JSON output."""

    brand: str
    finder: FinderMode
    reports: tuple[DomainReadiness, ...] = attrs.field(repr=count_repr)
    started_at: datetime
    finished_at: datetime

    def __len__(self) -> int:
        return len(self.reports)

    def counts(self) -> dict[ReadinessVerdict, int]:
        """Domains per verdict (every verdict present, zero included)."""
        counts = dict.fromkeys(ReadinessVerdict, 0)
        for report in self.reports:
            counts[report.verdict] += 1
        return counts

    def to_json_obj(self) -> dict[str, Any]:
        """A JSON-ready mapping of the whole run."""
        return {
            "format": PREVIEW_FORMAT,
            "version": 1,
            "brand": self.brand,
            "finder": self.finder.value,
            "started_at": format_time(self.started_at),
            "finished_at": format_time(self.finished_at),
            "counts": {verdict.value: n for verdict, n in self.counts().items()},
            "domains": [report.to_json() for report in self.reports],
        }

    def to_json(self) -> str:
        """The run as JSON text (ASCII, indented)."""
        return json.dumps(self.to_json_obj(), indent=2, ensure_ascii=True) + "\n"

    def table(self, *, details: bool = True) -> str:
        """
        A text table, one row per domain, then (``details``) one line per domain that
        does not simply pass, with its summary and notes.
        """
        rows = [_HEADINGS, *(report.row() for report in self.reports)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADINGS))]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows
        ]
        if details:
            explained = [
                r for r in self.reports if r.verdict is not ReadinessVerdict.PASS or r.notes
            ]
            if explained:
                lines.append("")
            for report in explained:
                lines.append(f"{report.domain}: {report.summary}")
                lines += [f"  - {note}" for note in report.notes]
        return "\n".join(lines) + "\n"
