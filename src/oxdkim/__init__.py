"""
oxdkim: DKIM signing, two-key rollover and DMARC readiness for mail providers.

Everything public is importable from here; the modules behind it are private.
"""

from __future__ import annotations

from ._canon import Canon, Canonicalization
from ._crypto import Algorithm, SigningKey
from ._dnsanswers import CnameAnswer, DnsStatus, TxtAnswer
from ._keyring import KeyRing
from ._message import MessageLimits
from ._results import (
    DEFAULT_SIGNED_HEADERS,
    SignatureOptions,
    SignatureSpec,
    SigningDecision,
    SigningRequest,
    SignResult,
)
from ._ringstate import KeySlot, RingSnapshot, RolloverTimings, SlotState
from ._signer import Signer
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
from .typing import AsyncResolver, Clock, Resolver, SigningPolicy

__all__ = [
    "DEFAULT_SIGNED_HEADERS",
    "Algorithm",
    "AsyncResolver",
    "Canon",
    "Canonicalization",
    "Clock",
    "CnameAnswer",
    "ConfigurationError",
    "DefaultGenericPolicy",
    "DnsError",
    "DnsPermError",
    "DnsStatus",
    "DnsTempError",
    "DomainOwnership",
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
    "NoActiveKeyError",
    "OxDkimError",
    "PerDomainPolicy",
    "PolicyError",
    "RecordSyntaxError",
    "RefusePolicy",
    "Resolver",
    "RingSnapshot",
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
    "TxtAnswer",
    "WeakKeyError",
    "__version__",
]
