"""
DMARC: policy records, organizational domains, alignment and evaluation (RFC 9989, RFC 7489).

Typical use::

    from oxdkim.dmarc import DmarcAlignment, SpfCheck

    dmarc = DmarcAlignment(resolver)                  # RFC 9989 tree walk
    result = dmarc.evaluate(
        "example.com",
        dkim=["dkim.brandmail.example"],              # d= of each passing signature
        spf=SpfCheck("pass", "bounces.example.com"),  # SPF result, MAIL FROM domain
    )
    result.verdict, result.disposition, result.authentication_results()

Organizational domains come from the RFC 9989 DNS tree walk by default; pass
``finder=PslFinder()`` for the RFC 7489 Public Suffix List rule, or
``finder=ComparingFinder(TreeWalkFinder(resolver), PslFinder())`` to see where receivers
of the two generations disagree (:attr:`DmarcResult.disagreements`).
"""

from __future__ import annotations

from ._audit.spf import (
    MAX_MX_NAMES,
    MAX_SPF_LOOKUPS,
    MAX_VOID_LOOKUPS,
    SpfAnalysis,
    SpfProblem,
    SpfProblemCode,
    SpfRecord,
    SpfStep,
    SpfTerm,
    SpfVia,
    analyze_spf,
    analyze_spf_async,
    is_spf_record,
)
from ._base.exports import claim as _claim
from ._dmarc.alignment import (
    MAX_AUTHOR_DOMAINS,
    AlignmentReason,
    AsyncDmarcAlignment,
    DkimInput,
    DmarcAlignment,
    DmarcReason,
    DmarcResult,
    DmarcVerdict,
    Identifier,
    IdentifierAlignment,
    PolicySource,
    SpfCheck,
    SpfResult,
)
from ._dmarc.orgdomain import (
    MAX_TREE_WALK_QUERIES,
    AsyncComparingFinder,
    AsyncFinderAdapter,
    AsyncTreeWalkFinder,
    ComparingFinder,
    PslFinder,
    TreeWalkFinder,
    lookup_dmarc,
    lookup_dmarc_async,
    select_organizational_domain,
    tree_walk,
    walk_targets,
)
from ._dmarc.record import (
    AlignmentMode,
    DmarcLookup,
    DmarcRecord,
    FailureOption,
    LookupStatus,
    OrgDomain,
    OrgDomainMethod,
    OrgDomainRule,
    Policy,
    PsdFlag,
    RecordProblem,
    dmarc_name,
    is_dmarc_record,
)
from ._readiness.preview import DEFAULT_PREVIEW_CONCURRENCY, ReadinessPreview
from ._readiness.values import (
    PREVIEW_FORMAT,
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
    dmarc_result_json,
    policy_words,
)
from .typing import AsyncOrgDomainFinder, OrgDomainFinder

__all__ = [
    "DEFAULT_PREVIEW_CONCURRENCY",
    "MAX_AUTHOR_DOMAINS",
    "MAX_MX_NAMES",
    "MAX_SPF_LOOKUPS",
    "MAX_TREE_WALK_QUERIES",
    "MAX_VOID_LOOKUPS",
    "PREVIEW_FORMAT",
    "AlignmentMode",
    "AlignmentReason",
    "AsyncComparingFinder",
    "AsyncDmarcAlignment",
    "AsyncFinderAdapter",
    "AsyncOrgDomainFinder",
    "AsyncTreeWalkFinder",
    "ComparingFinder",
    "DkimInput",
    "DkimOutlook",
    "DkimPrediction",
    "DmarcAlignment",
    "DmarcLookup",
    "DmarcReason",
    "DmarcRecord",
    "DmarcResult",
    "DmarcVerdict",
    "DomainReadiness",
    "FailureOption",
    "FinderMode",
    "Identifier",
    "IdentifierAlignment",
    "LookupStatus",
    "OrgDomain",
    "OrgDomainFinder",
    "OrgDomainMethod",
    "OrgDomainRule",
    "Policy",
    "PolicySource",
    "PreviewProgress",
    "PsdFlag",
    "PslFinder",
    "ReadinessPreview",
    "ReadinessRun",
    "ReadinessVerdict",
    "RecordProblem",
    "SigningMode",
    "SigningPrediction",
    "SpfAnalysis",
    "SpfCheck",
    "SpfPrediction",
    "SpfProblem",
    "SpfProblemCode",
    "SpfRecord",
    "SpfResult",
    "SpfStep",
    "SpfTerm",
    "SpfVia",
    "TreeWalkFinder",
    "analyze_spf",
    "analyze_spf_async",
    "dmarc_name",
    "dmarc_result_json",
    "is_dmarc_record",
    "is_spf_record",
    "lookup_dmarc",
    "lookup_dmarc_async",
    "policy_words",
    "select_organizational_domain",
    "tree_walk",
    "walk_targets",
]

_claim(__name__, __all__, globals())
