"""TenantGuard: no composition of policies signs as another tenant's domain."""

from __future__ import annotations

import pytest

from oxdkim import (
    DefaultGenericPolicy,
    PerDomainPolicy,
    Signer,
    SigningKey,
    SigningRefusedError,
)
from oxdkim.policies import TenantGuard

KEY = SigningKey.generate("ed25519-sha256")
OWNERS = {"acme": ["acme.example"], "globex": ["globex.example"]}
GENERIC = DefaultGenericPolicy("dkim.brand.example", "gen1", KEY)
# An override that signs as acme.example itself, for whoever sends as it: the risky shape.
ACME_OWN_KEY = DefaultGenericPolicy("acme.example", "own1", KEY)
ROUTED = PerDomainPolicy(default=GENERIC, overrides={"acme.example": ACME_OWN_KEY})


def msg(domain: str) -> bytes:
    return f"From: x@{domain}\r\nSubject: s\r\n\r\nbody\r\n".encode()


def test_without_the_guard_an_override_signs_for_any_tenant() -> None:
    """The risk the guard exists for: the per-domain table routes by From domain only."""
    [result] = Signer(ROUTED).sign(msg("acme.example"), tenant="globex")
    assert "acme.example" == result.domain


def test_the_guard_refuses_another_tenants_domain() -> None:
    """With the guard, globex cannot get d=acme.example; acme still can."""
    signer = Signer(TenantGuard(ROUTED, OWNERS))
    with pytest.raises(SigningRefusedError) as info:
        signer.sign(msg("acme.example"), tenant="globex")
    assert "tenant-guard" == info.value.decision.policy
    assert "belongs to another tenant" in info.value.decision.reason
    [ok] = signer.sign(msg("acme.example"), tenant="acme")
    assert "acme.example" == ok.domain


def test_the_guard_falls_back_to_generic() -> None:
    """With a fallback, the violating message is signed generic and the reason kept."""
    signer = Signer(TenantGuard(ROUTED, OWNERS, fallback=GENERIC))
    [result] = signer.sign(msg("acme.example"), tenant="globex")
    assert ("dkim.brand.example", "tenant-guard>default-generic") == (result.domain, result.policy)
    assert "per-domain>default-generic" not in result.policy


def test_an_aligned_signature_for_an_unowned_domain_is_refused() -> None:
    """d= equal to (or a parent of) the From domain needs an owner."""
    parent = DefaultGenericPolicy("unowned.example", "s", KEY)
    signer = Signer(TenantGuard(parent, OWNERS))
    with pytest.raises(SigningRefusedError) as info:
        signer.sign(msg("news.unowned.example"), tenant="acme")
    assert "no tenant owns it" in info.value.decision.reason


def test_generic_signatures_pass_the_guard() -> None:
    """The provider's generic d= is nobody's tenant domain: always allowed."""
    [result] = Signer(TenantGuard(GENERIC, OWNERS)).sign(msg("globex.example"), tenant="acme")
    assert "dkim.brand.example" == result.domain


def test_a_signing_domain_below_another_tenants_domain_is_theirs() -> None:
    """d=news.acme.example aligns (relaxed) with acme's mail: only acme may get it."""
    below = DefaultGenericPolicy("news.acme.example", "s", KEY)
    signer = Signer(TenantGuard(below, OWNERS))
    with pytest.raises(SigningRefusedError) as info:
        signer.sign(msg("globex.example"), tenant="globex")
    assert "is under acme.example" in info.value.decision.reason
    [ok] = signer.sign(msg("acme.example"), tenant="acme")
    assert "news.acme.example" == ok.domain
