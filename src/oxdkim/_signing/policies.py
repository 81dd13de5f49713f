"""
The signing policies: generic, aligned for a brand, per domain, refusing, and the
tenant guard over any of them (the public namespace is :mod:`oxdkim.policies`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

import attrs

from .._base.domains import checked_domain, is_subdomain
from .._dkim.crypto import SigningKey
from .._keys.keyring import KeyRing
from .._signing.results import (
    DEFAULT_OPTIONS,
    SignatureOptions,
    SignatureSpec,
    SigningDecision,
    SigningRequest,
)
from ..exceptions import ConfigurationError, NoActiveKeyError
from ..typing import Ownership, SigningPolicy

__all__ = [
    "DefaultGenericPolicy",
    "DomainOwnership",
    "LegacyBrandPolicy",
    "PerDomainPolicy",
    "RefusePolicy",
    "TenantGuard",
]


def _domain(value: str) -> str:
    return checked_domain(value, what=None)


def _delegate(outer: str, why: str, inner: SigningDecision) -> SigningDecision:
    return SigningDecision(f"{outer}>{inner.policy}", f"{why}; {inner.reason}", inner.signatures)


@attrs.frozen
class DefaultGenericPolicy:
    """
    Sign every message as the provider's generic domain and selector.

    Customers need no DNS change; ``d=`` never matches the From domain, so DKIM is not
    aligned and DMARC can pass only through aligned SPF.
    """

    domain: str = attrs.field(converter=_domain)
    selector: str
    key: SigningKey = attrs.field(repr=False)
    options: SignatureOptions = DEFAULT_OPTIONS
    name: str = "default-generic"
    _spec: SignatureSpec = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        spec = SignatureSpec(self.domain, self.selector, self.key, self.options)
        object.__setattr__(self, "_spec", spec)

    def decide(self, request: SigningRequest) -> SigningDecision:
        """Always sign with the generic spec."""
        return SigningDecision(
            self.name,
            f"generic signature d={self.domain} s={self._spec.selector} "
            f"(not aligned with {request.from_domain})",
            (self._spec,),
        )


def _owners(pairs: Iterable[tuple[str, str]]) -> Mapping[str, str]:
    """Normalize each (domain, tenant) pair's domain and refuse a domain owned twice."""
    owners: dict[str, str] = {}
    for raw, tenant in pairs:
        domain = _domain(raw)
        if owners.get(domain, tenant) != tenant:
            raise ConfigurationError(
                f"domain {domain} is owned by both {owners[domain]!r} and {tenant!r}"
            )
        owners[domain] = tenant
    return MappingProxyType(owners)


def _owner_table(value: Mapping[str, str]) -> Mapping[str, str]:
    return _owners(value.items())


def _listed(tenant: str, domains: Iterable[str]) -> Iterable[str]:
    if isinstance(domains, str):
        raise ConfigurationError(f"tenant {tenant!r}: give a list of domains")
    return domains


def _ownership(value: Mapping[str, Iterable[str]] | Ownership) -> Ownership:
    """A tenants table becomes a :class:`DomainOwnership`; an ownership stays as it is."""
    if isinstance(value, Mapping):
        return DomainOwnership.from_tenants(value)
    if not callable(getattr(value, "owner_of", None)):
        raise ConfigurationError(
            f"ownership must be a tenants table or an Ownership, not {type(value).__name__}"
        )
    return value


@attrs.frozen
class DomainOwnership:
    """
    Which tenant owns which domain. A domain has exactly one owner.

    Matching is exact: owning ``example.com`` does not grant ``news.example.com``, which
    needs its own delegation CNAMEs anyway.
    """

    owners: Mapping[str, str] = attrs.field(converter=_owner_table)

    @classmethod
    def from_tenants(cls, tenants: Mapping[str, Iterable[str]]) -> DomainOwnership:
        """
        Build from ``{tenant: [domain, ...]}``.

        Raises:
            ConfigurationError: A domain listed for two tenants, or an invalid domain.
        """
        return cls(
            _owners(
                (raw, tenant)
                for tenant, domains in tenants.items()
                for raw in _listed(tenant, domains)
            )
        )

    def owner_of(self, domain: str) -> str | None:
        """The tenant that owns ``domain``, or ``None``."""
        return self.owners.get(domain)


def _rings(value: KeyRing | Iterable[KeyRing]) -> tuple[KeyRing, ...]:
    rings = (value,) if isinstance(value, KeyRing) else tuple(value)
    if not rings:
        raise ConfigurationError("an aligned policy needs at least one key ring")
    return rings


@attrs.frozen
class LegacyBrandPolicy:
    """
    Sign aligned: ``d=`` is the From domain, ``s=`` the ring's active slot.

    One brand key signs for every brand domain, so this policy signs only when the
    submitting tenant owns the From domain. Otherwise it refuses, or asks ``fallback``
    (typically the brand's :class:`DefaultGenericPolicy`); it never puts another tenant's
    domain in ``d=``.

    ``ring`` may be several rings (e.g. RSA and Ed25519 side by side): each adds its
    signature. During a ring's dual-signing grace its retiring key signs too.
    """

    ring: tuple[KeyRing, ...] = attrs.field(converter=_rings)
    ownership: Ownership = attrs.field(converter=_ownership)
    options: SignatureOptions = DEFAULT_OPTIONS
    fallback: SigningPolicy | None = None
    name: str = "legacy-brand"

    def decide(self, request: SigningRequest) -> SigningDecision:
        """Sign aligned for the tenant's own domain; otherwise fall back or refuse."""
        domain = request.from_domain
        owner = self.ownership.owner_of(domain)
        if owner is None:
            return self._not_aligned(request, f"{domain} is not a domain of this brand")
        if request.tenant is None:
            return self._not_aligned(request, "no tenant given; aligned signing needs one")
        if owner != request.tenant:
            return self._not_aligned(
                request, f"{domain} belongs to another tenant than {request.tenant!r}"
            )
        specs: list[SignatureSpec] = []
        for ring in self.ring:
            try:
                slots = ring.snapshot().signing_slots(request.now)
            except NoActiveKeyError:
                return self._not_aligned(request, "the key ring has no active key yet")
            specs += [
                SignatureSpec(domain, slot.selector, slot.key, self.options)
                for slot in slots
                if slot.key is not None
            ]
        selectors = ", ".join(spec.selector for spec in specs)
        return SigningDecision(
            self.name,
            f"aligned signature d={domain} s={selectors}: tenant {owner!r} owns the domain",
            tuple(specs),
        )

    def _not_aligned(self, request: SigningRequest, why: str) -> SigningDecision:
        if self.fallback is None:
            return SigningDecision.refuse(self.name, why)
        return _delegate(self.name, why, self.fallback.decide(request))


def _policies(value: Mapping[str, SigningPolicy]) -> Mapping[str, SigningPolicy]:
    return MappingProxyType({_domain(domain): policy for domain, policy in value.items()})


@attrs.frozen
class PerDomainPolicy:
    """
    A domain with a policy of its own uses it; every other domain gets ``default``.

    The table routes by From domain only, not by tenant: wrap the result in a
    :class:`TenantGuard` so that an override signing as the domain itself cannot be used by
    another tenant.
    """

    default: SigningPolicy
    overrides: Mapping[str, SigningPolicy] = attrs.field(factory=dict, converter=_policies)
    name: str = "per-domain"

    def decide(self, request: SigningRequest) -> SigningDecision:
        """Route to the domain's own policy or the default."""
        own = self.overrides.get(request.from_domain)
        if own is not None:
            return _delegate(
                self.name, f"{request.from_domain} has its own policy", own.decide(request)
            )
        return _delegate(self.name, "brand default", self.default.decide(request))


@attrs.frozen
class RefusePolicy:
    """Never sign; ``reason`` is reported in the refusal (e.g. a suspended domain)."""

    reason: str = "signing is disabled for this domain"
    name: str = "refuse"

    def decide(self, request: SigningRequest) -> SigningDecision:
        """Refuse."""
        return SigningDecision.refuse(self.name, self.reason)


@attrs.frozen
class TenantGuard:
    """
    Check every decision of ``inner``: no signature may carry a ``d=`` that another
    tenant owns or that lies below another tenant's domain (relaxed alignment would make it
    theirs), nor a ``d=`` that aligns with the From domain when no tenant owns it.

    Ownership of a registered domain covers its subdomains. Two unowned siblings under an
    unowned registered domain are outside what an ownership table can tell; give the
    tenants their registered domains.

    :class:`LegacyBrandPolicy` already signs aligned only for the tenant's own domains;
    the guard makes the same promise for any composition (a per-domain override, a custom
    policy), so one table of owners protects the whole brand. On a violation it asks
    ``fallback`` (whose decision is checked too) or refuses.
    """

    inner: SigningPolicy
    ownership: Ownership = attrs.field(converter=_ownership)
    fallback: SigningPolicy | None = None
    name: str = "tenant-guard"

    def _violation(self, request: SigningRequest, decision: SigningDecision) -> str | None:
        from_owner = self._owner_above(request.from_domain)
        for spec in decision.signatures:
            owned_by = self._owner_above(spec.domain)
            if owned_by is not None and owned_by[1] != request.tenant:
                domain = owned_by[0]
                where = "" if domain == spec.domain else f" is under {domain}, which"
                return f"d={spec.domain}{where} belongs to another tenant than {request.tenant!r}"
            if not self._aligned(spec.domain, request.from_domain):
                continue
            if from_owner is None:
                return f"d={spec.domain} aligns with the From domain but no tenant owns it"
            if from_owner[1] != request.tenant:
                return (
                    f"d={spec.domain} aligns with the From domain {request.from_domain}, "
                    f"which belongs to another tenant than {request.tenant!r}"
                )
        return None

    def _aligned(self, signing: str, author: str) -> bool:
        """
        Whether ``d=`` may align with the From domain, as far as the owners tell: one lies
        at or below the other, or both lie below the same owned domain (one registered
        domain, so relaxed alignment holds).
        """
        if is_subdomain(author, signing) or is_subdomain(signing, author):
            return True
        labels = signing.split(".")
        return any(
            self.ownership.owner_of(".".join(labels[i:])) is not None
            and is_subdomain(author, ".".join(labels[i:]))
            for i in range(1, len(labels) - 1)
        )

    def _owner_above(self, domain: str) -> tuple[str, str] | None:
        """The nearest owned domain at or above ``domain`` and its owner: a d= below a
        tenant's domain aligns (relaxed) with that tenant's mail, so it is theirs too."""
        labels = domain.split(".")
        for start in range(len(labels) - 1):
            candidate = ".".join(labels[start:])
            owner = self.ownership.owner_of(candidate)
            if owner is not None:
                return candidate, owner
        return None

    def decide(self, request: SigningRequest) -> SigningDecision:
        """The inner decision if it is safe; otherwise the fallback's, or a refusal."""
        decision = self.inner.decide(request)
        why = self._violation(request, decision)
        if why is None:
            return decision
        why = f"{decision.policy} wanted to sign, but {why}"
        if self.fallback is not None:
            second = self.fallback.decide(request)
            if self._violation(request, second) is None:
                return _delegate(self.name, why, second)
        return SigningDecision.refuse(self.name, why)
