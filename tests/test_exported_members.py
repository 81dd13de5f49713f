"""
The public API, name by name: every name importable from a public namespace today stays
importable from there (httpx's test_exported_members.py is the model). ``__all__`` is
sorted and complete, and every exported class and function names its public path in
``__module__``.

A name added on purpose is added to the table below; one that disappears is a break.

A cross-cutting test of the whole package: it stays at the top of tests/ (the
folders below mirror src/oxdkim, one per package).
"""

from __future__ import annotations

import importlib
import types

import pytest

EXPORTS = {
    "oxdkim": [
        "AddressAnswer",
        "Algorithm",
        "AsyncDmarcAlignment",
        "AsyncTreeWalkFinder",
        "AsyncVerifier",
        "AuditDiff",
        "AuditRun",
        "BrandConfig",
        "Canon",
        "Canonicalization",
        "CnameAnswer",
        "ComparingFinder",
        "Config",
        "ConfigFileError",
        "ConfigProblem",
        "ConfigurationError",
        "DEFAULT_SIGNED_HEADERS",
        "DefaultGenericPolicy",
        "DelegationAuditor",
        "DelegationRegistry",
        "DelegationState",
        "DelegationVerdict",
        "DkimReason",
        "DkimResult",
        "DmarcAlignment",
        "DmarcReason",
        "DmarcRecord",
        "DmarcResult",
        "DmarcVerdict",
        "DnsError",
        "DnsPermError",
        "DnsRecord",
        "DnsStatus",
        "DnsTempError",
        "DomainOwnership",
        "DomainReadiness",
        "DomainReport",
        "FileKeyStore",
        "FromHeaderError",
        "KeyEncryptionError",
        "KeyLoadError",
        "KeyRing",
        "KeyRingError",
        "KeySlot",
        "KeyStoreError",
        "KeysReloaded",
        "LegacyBrandPolicy",
        "MessageFormatError",
        "MessageLimitError",
        "MessageLimits",
        "MessageProblem",
        "MxAnswer",
        "NoActiveKeyError",
        "OrgDomain",
        "OxDkimError",
        "PerDomainPolicy",
        "PolicyError",
        "Problem",
        "ProblemCode",
        "PrometheusObserver",
        "PslFinder",
        "ReadinessPreview",
        "ReadinessRun",
        "ReadinessVerdict",
        "RecordSyntaxError",
        "RefusePolicy",
        "Refused",
        "RefusedDecision",
        "RingSnapshot",
        "RolloverRefusal",
        "RolloverTimings",
        "SignResult",
        "SignatureOptions",
        "SignatureSpec",
        "Signed",
        "Signer",
        "SigningDecision",
        "SigningError",
        "SigningKey",
        "SigningRefusedError",
        "SigningRequest",
        "SlotState",
        "SlotStatus",
        "SpfAnalysis",
        "SpfCheck",
        "SpfResult",
        "StoreUnavailableError",
        "StoreUnreachable",
        "TenantGuard",
        "TreeWalkFinder",
        "TxtAnswer",
        "VerifiedDelegationPolicy",
        "Verifier",
        "VerifyResult",
        "WeakKeyError",
        "__version__",
        "analyze_spf",
        "brand_records",
        "load_config",
        "records_json",
        "render_authentication_results",
        "render_zone",
        "signer_from_config",
    ],
    "oxdkim.policies": [
        "DefaultGenericPolicy",
        "DelegationRegistry",
        "DelegationState",
        "DomainOwnership",
        "LegacyBrandPolicy",
        "PerDomainPolicy",
        "RefusePolicy",
        "TenantGuard",
        "VerifiedDelegationPolicy",
    ],
    "oxdkim.resolvers": [
        "AnswerCache",
        "AsyncCachingHostResolver",
        "AsyncCachingResolver",
        "AsyncDnspythonResolver",
        "CachingHostResolver",
        "CachingResolver",
        "DEFAULT_MAX_HOPS",
        "DnspythonResolver",
        "InMemoryZone",
        "InlineAsyncHostResolver",
        "InlineAsyncResolver",
        "ZoneFileResolver",
    ],
    "oxdkim.dmarc": [
        "AlignmentMode",
        "AlignmentReason",
        "AsyncComparingFinder",
        "AsyncDmarcAlignment",
        "AsyncFinderAdapter",
        "AsyncOrgDomainFinder",
        "AsyncTreeWalkFinder",
        "ComparingFinder",
        "DEFAULT_PREVIEW_CONCURRENCY",
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
        "MAX_AUTHOR_DOMAINS",
        "MAX_MX_NAMES",
        "MAX_SPF_LOOKUPS",
        "MAX_TREE_WALK_QUERIES",
        "MAX_VOID_LOOKUPS",
        "OrgDomain",
        "OrgDomainFinder",
        "OrgDomainMethod",
        "OrgDomainRule",
        "PREVIEW_FORMAT",
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
    ],
    "oxdkim.audit": [
        "AUDIT_FORMAT",
        "AUDIT_FORMAT_VERSION",
        "AuditDiff",
        "AuditRun",
        "CSV_COLUMNS",
        "ChangeKind",
        "DEFAULT_CONCURRENCY",
        "DEFAULT_GRACE",
        "DEFAULT_MIN_TTL",
        "DEFAULT_TYPO_DISTANCE",
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
    ],
    "oxdkim.testing": [
        "FixedClock",
        "TestBrand",
        "make_message",
        "test_key",
        "transport",
    ],
    "oxdkim.typing": [
        "AsyncHostResolver",
        "AsyncOrgDomainFinder",
        "AsyncResolver",
        "Clock",
        "Event",
        "HostResolver",
        "KeyStore",
        "Observer",
        "OrgDomainFinder",
        "Ownership",
        "Resolver",
        "SigningPolicy",
    ],
    "oxdkim.exceptions": [
        "ConfigFileError",
        "ConfigProblem",
        "ConfigurationError",
        "DnsError",
        "DnsPermError",
        "DnsTempError",
        "FromHeaderError",
        "KeyEncryptionError",
        "KeyLoadError",
        "KeyRingError",
        "KeyStoreError",
        "MessageFormatError",
        "MessageLimitError",
        "MessageProblem",
        "NoActiveKeyError",
        "OxDkimError",
        "PolicyError",
        "RecordSyntaxError",
        "RefusedDecision",
        "RolloverRefusal",
        "SigningError",
        "SigningRefusedError",
        "StoreUnavailableError",
        "WeakKeyError",
    ],
    "oxdkim.postgres": [
        "BrandData",
        "DomainEntry",
        "KeyEncryptionKey",
        "PostgresKeyStore",
        "PostgresStore",
    ],
    "oxdkim.pytest_plugin": [
        "oxdkim_brand",
        "oxdkim_clock",
        "oxdkim_message",
        "oxdkim_ring",
        "oxdkim_signer",
        "oxdkim_verifier",
        "oxdkim_zone",
    ],
}


def _isort_style(name: str) -> tuple[int, str]:
    """ruff's order for __all__ (RUF022): CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return 0, name
    return (1 if name[:1].isupper() else 2), name


@pytest.mark.parametrize("namespace", sorted(EXPORTS))
def test_every_public_name_stays_importable(namespace: str) -> None:
    """Each name of the table imports from its namespace."""
    module = importlib.import_module(namespace)
    missing = [name for name in EXPORTS[namespace] if not hasattr(module, name)]
    assert [] == missing


@pytest.mark.parametrize("namespace", sorted(set(EXPORTS) - {"oxdkim.pytest_plugin"}))
def test_all_is_sorted_and_complete(namespace: str) -> None:
    """__all__ is the table (no name dropped, none added unannounced), sorted, and it
    holds every public member the namespace defines or claims."""
    module = importlib.import_module(namespace)
    assert EXPORTS[namespace] == sorted(module.__all__)
    assert sorted(module.__all__, key=_isort_style) == list(module.__all__)
    public = {  # what this namespace defines or claims: each must be exported
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", None) == namespace
    }
    assert set() == public - set(module.__all__)


@pytest.mark.parametrize("namespace", sorted(set(EXPORTS) - {"oxdkim.pytest_plugin"}))
def test_exported_objects_show_their_public_path(namespace: str) -> None:
    """No exported class or function names a private module in ``__module__``."""
    module = importlib.import_module(namespace)
    private = {
        name: value.__module__
        for name in module.__all__
        if isinstance(value := getattr(module, name), type) or callable(value)
        if any(part.startswith("_") for part in value.__module__.split("."))
    }
    assert {} == private


def test_each_exported_object_has_a_docstring() -> None:
    """Every exported class and function says what it is."""
    import oxdkim

    undocumented = [
        name
        for name in oxdkim.__all__
        if (isinstance(value := getattr(oxdkim, name), type) or callable(value))
        and not (value.__doc__ or "").strip()
    ]
    assert [] == undocumented
