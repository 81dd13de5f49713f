"""
oxdkim: DKIM signing, two-key rollover and DMARC readiness for mail providers.

Everything public is importable from here; the modules behind it are private.
"""

from __future__ import annotations

from ._alignment import (
    AsyncDmarcAlignment,
    DmarcAlignment,
    DmarcReason,
    DmarcResult,
    DmarcVerdict,
    SpfCheck,
    SpfResult,
)
from ._audit import DelegationAuditor
from ._audit_report import AuditDiff, AuditRun
from ._audit_values import DelegationVerdict, DomainReport, Problem, ProblemCode
from ._authres import render_authentication_results
from ._canon import Canon, Canonicalization
from ._config import (
    BrandConfig,
    Config,
    ConfigProblem,
    load_config,
    signer_from_config,
)
from ._crypto import Algorithm, SigningKey
from ._dmarc_record import DmarcRecord
from ._dnsanswers import AddressAnswer, CnameAnswer, DnsStatus, MxAnswer, TxtAnswer
from ._keyring import KeyRing
from ._keystore import FileKeyStore
from ._message import MessageLimits
from ._orgdomain import AsyncTreeWalkFinder, ComparingFinder, OrgDomain, PslFinder, TreeWalkFinder
from ._preview import DomainReadiness, ReadinessPreview, ReadinessRun, ReadinessVerdict
from ._records import DnsRecord, brand_records, records_json, render_zone
from ._results import (
    DEFAULT_SIGNED_HEADERS,
    SignatureOptions,
    SignatureSpec,
    SigningDecision,
    SigningRequest,
    SignResult,
)
from ._ringstate import KeySlot, RingSnapshot, RolloverTimings, SlotState
from ._rollover import SlotStatus
from ._signer import Signer
from ._spf import SpfAnalysis, analyze_spf
from ._verifier import AsyncVerifier, DkimReason, DkimResult, Verifier, VerifyResult
from ._version import __version__
from .exceptions import (
    ConfigFileError,
    ConfigurationError,
    DnsError,
    DnsPermError,
    DnsTempError,
    FromHeaderError,
    KeyLoadError,
    KeyRingError,
    KeyStoreError,
    MessageFormatError,
    MessageLimitError,
    MessageProblem,
    NoActiveKeyError,
    OxDkimError,
    PolicyError,
    RecordSyntaxError,
    RolloverRefusal,
    SigningError,
    SigningRefusedError,
    WeakKeyError,
)
from .policies import (
    DefaultGenericPolicy,
    DelegationRegistry,
    DelegationState,
    DomainOwnership,
    LegacyBrandPolicy,
    PerDomainPolicy,
    RefusePolicy,
    TenantGuard,
    VerifiedDelegationPolicy,
)

__all__ = [
    "DEFAULT_SIGNED_HEADERS",
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
    "KeyLoadError",
    "KeyRing",
    "KeyRingError",
    "KeySlot",
    "KeyStoreError",
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
    "PslFinder",
    "ReadinessPreview",
    "ReadinessRun",
    "ReadinessVerdict",
    "RecordSyntaxError",
    "RefusePolicy",
    "RingSnapshot",
    "RolloverRefusal",
    "RolloverTimings",
    "SignResult",
    "SignatureOptions",
    "SignatureSpec",
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
]
