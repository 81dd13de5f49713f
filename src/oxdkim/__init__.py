"""
oxdkim: DKIM signing, two-key rollover and DMARC readiness for mail providers.

Everything public is importable from here; the modules behind it are private.
"""

from __future__ import annotations

from ._authres import render_authentication_results
from ._canon import Canon, Canonicalization
from ._crypto import Algorithm, SigningKey
from ._dnsanswers import CnameAnswer, DnsStatus, TxtAnswer
from ._keyring import KeyRing
from ._keystore import FileKeyStore
from ._message import MessageLimits
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
from ._verifier import AsyncVerifier, DkimReason, DkimResult, Verifier, VerifyResult
from ._version import __version__
from .exceptions import (
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
    DomainOwnership,
    LegacyBrandPolicy,
    PerDomainPolicy,
    RefusePolicy,
)
from .typing import AsyncResolver, Clock, KeyStore, Resolver, SigningPolicy

__all__ = [
    "DEFAULT_SIGNED_HEADERS",
    "Algorithm",
    "AsyncResolver",
    "AsyncVerifier",
    "Canon",
    "Canonicalization",
    "Clock",
    "CnameAnswer",
    "ConfigurationError",
    "DefaultGenericPolicy",
    "DkimReason",
    "DkimResult",
    "DnsError",
    "DnsPermError",
    "DnsRecord",
    "DnsStatus",
    "DnsTempError",
    "DomainOwnership",
    "FileKeyStore",
    "FromHeaderError",
    "KeyLoadError",
    "KeyRing",
    "KeyRingError",
    "KeySlot",
    "KeyStore",
    "KeyStoreError",
    "LegacyBrandPolicy",
    "MessageFormatError",
    "MessageLimitError",
    "MessageLimits",
    "MessageProblem",
    "NoActiveKeyError",
    "OxDkimError",
    "PerDomainPolicy",
    "PolicyError",
    "RecordSyntaxError",
    "RefusePolicy",
    "Resolver",
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
    "SigningPolicy",
    "SigningRefusedError",
    "SigningRequest",
    "SlotState",
    "SlotStatus",
    "TxtAnswer",
    "Verifier",
    "VerifyResult",
    "WeakKeyError",
    "__version__",
    "brand_records",
    "records_json",
    "render_authentication_results",
    "render_zone",
]
