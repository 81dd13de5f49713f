"""
The delegation audit: which customer domains of a legacy brand delegate their selectors
correctly, and a signing policy that acts on the answer.

Typical use::

    from oxdkim.audit import DelegationAuditor, DelegationRegistry, VerifiedDelegationPolicy
    from oxdkim.resolvers import AsyncDnspythonResolver

    auditor = DelegationAuditor(ring, known_key_hosts=["keys.otherbrand.example"])
    run = auditor.audit_many(domains, AsyncDnspythonResolver(), concurrency=64)
    run.counts(), run.to_json(), run.to_csv(), run.diff(previous_run)

    registry = DelegationRegistry(run)             # domain -> last report
    policy = VerifiedDelegationPolicy(aligned=legacy, generic=generic, registry=registry)

Every problem is a :class:`ProblemCode` with an explanation, a :class:`Severity`, the
:class:`Party` that must act and the observed data; a temporary DNS failure makes a domain
``unknown``, never ``broken``. See the "Domain audit" page of the documentation.
"""

from __future__ import annotations

from ._audit.auditor import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MIN_TTL,
    DEFAULT_TYPO_DISTANCE,
    DelegationAuditor,
    ProgressCallback,
    parse_domain_list,
)
from ._audit.delegation import (
    DEFAULT_GRACE,
    DelegationEntry,
    DelegationRegistry,
    DelegationState,
    DelegationStatus,
    VerifiedDelegationPolicy,
)
from ._audit.report import (
    AUDIT_FORMAT,
    AUDIT_FORMAT_VERSION,
    CSV_COLUMNS,
    AuditDiff,
    AuditRun,
    ChangeKind,
    DomainChange,
)
from ._audit.values import (
    DelegationVerdict,
    DomainReport,
    KeyStatus,
    Party,
    Problem,
    ProblemCode,
    SelectorReport,
    Severity,
    TargetKind,
)
from ._base.exports import claim as _claim

__all__ = [
    "AUDIT_FORMAT",
    "AUDIT_FORMAT_VERSION",
    "CSV_COLUMNS",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_GRACE",
    "DEFAULT_MIN_TTL",
    "DEFAULT_TYPO_DISTANCE",
    "AuditDiff",
    "AuditRun",
    "ChangeKind",
    "DelegationAuditor",
    "DelegationEntry",
    "DelegationRegistry",
    "DelegationState",
    "DelegationStatus",
    "DelegationVerdict",
    "DomainChange",
    "DomainReport",
    "KeyStatus",
    "Party",
    "Problem",
    "ProblemCode",
    "ProgressCallback",
    "SelectorReport",
    "Severity",
    "TargetKind",
    "VerifiedDelegationPolicy",
    "parse_domain_list",
]

_claim(__name__, __all__, globals())
