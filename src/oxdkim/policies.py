"""
Signing policies: small values that decide, per message, what to sign with.

* :class:`DefaultGenericPolicy` signs as the provider's generic domain (not aligned).
* :class:`LegacyBrandPolicy` signs as the From domain with the brand's key ring
  (aligned), only for a domain the submitting tenant owns.
* :class:`PerDomainPolicy` routes a domain to a policy of its own, else to a default.
* :class:`RefusePolicy` never signs (a per-domain block).
* :class:`TenantGuard` checks any policy's decisions against the table of owners.
* :class:`VerifiedDelegationPolicy` signs aligned only where the last domain audit found
  the delegation correct (its registry is :class:`DelegationRegistry`).

They compose instead of growing flags: ``LegacyBrandPolicy(..., fallback=generic)`` signs
generic where aligned signing is not allowed. Every decision names the policy that made
it and why.
"""

from ._audit.delegation import DelegationRegistry, DelegationState, VerifiedDelegationPolicy
from ._base.exports import claim as _claim
from ._signing.policies import (
    DefaultGenericPolicy,
    DomainOwnership,
    LegacyBrandPolicy,
    PerDomainPolicy,
    RefusePolicy,
    TenantGuard,
)

__all__ = [
    "DefaultGenericPolicy",
    "DelegationRegistry",
    "DelegationState",
    "DomainOwnership",
    "LegacyBrandPolicy",
    "PerDomainPolicy",
    "RefusePolicy",
    "TenantGuard",
    "VerifiedDelegationPolicy",
]

_claim(__name__, __all__, globals())
