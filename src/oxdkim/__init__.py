"""
oxdkim: DKIM signing, two-key rollover and DMARC readiness for mail providers.

Everything public is importable from here; the modules behind it are private.
"""

from __future__ import annotations

from ._audit.auditor import DelegationAuditor
from ._audit.report import AuditDiff, AuditRun
from ._audit.spf import SpfAnalysis, analyze_spf
from ._audit.values import DelegationVerdict, DomainReport, Problem, ProblemCode
from ._base.answers import AddressAnswer, CnameAnswer, DnsStatus, MxAnswer, TxtAnswer
from ._base.events import KeysReloaded, Refused, Signed, StoreUnreachable
from ._base.exports import claim as _claim
from ._config.file import Config, load_config, signer_from_config
from ._config.values import BrandConfig
from ._dkim.canon import Canon, Canonicalization
from ._dkim.crypto import Algorithm, SigningKey
from ._dkim.message import MessageLimits
from ._dmarc.alignment import (
    AsyncDmarcAlignment,
    DmarcAlignment,
    DmarcReason,
    DmarcResult,
    DmarcVerdict,
    SpfCheck,
    SpfResult,
)
from ._dmarc.orgdomain import (
    AsyncTreeWalkFinder,
    ComparingFinder,
    PslFinder,
    TreeWalkFinder,
)
from ._dmarc.record import DmarcRecord, OrgDomain
from ._keys.keyring import KeyRing
from ._keys.keystore import FileKeyStore
from ._keys.records import DnsRecord, brand_records, records_json, render_zone
from ._keys.ringstate import KeySlot, RingSnapshot, RolloverTimings, SlotState
from ._keys.rollover import SlotStatus
from ._observe.prometheus import PrometheusObserver
from ._readiness.preview import ReadinessPreview
from ._readiness.values import DomainReadiness, ReadinessRun, ReadinessVerdict
from ._signing.results import (
    DEFAULT_SIGNED_HEADERS,
    SignatureOptions,
    SignatureSpec,
    SigningDecision,
    SigningRequest,
    SignResult,
)
from ._signing.signer import Signer
from ._verify.authres import render_authentication_results
from ._verify.verifier import AsyncVerifier, DkimReason, DkimResult, Verifier, VerifyResult
from ._version import __version__
from .exceptions import (
    ConfigFileError,
    ConfigProblem,
    ConfigurationError,
    DnsError,
    DnsPermError,
    DnsTempError,
    FromHeaderError,
    KeyEncryptionError,
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
    RefusedDecision,
    RolloverRefusal,
    SigningError,
    SigningRefusedError,
    StoreUnavailableError,
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
]

_claim(__name__, __all__, globals())
