"""
Tenant isolation across policy compositions: a per-domain table routes by From domain
only, so it can sign as a domain for any tenant; TenantGuard must stop every signature
that would pass DMARC for another tenant's domain.

DMARC's relaxed alignment (the default, ``adkim=r``) accepts a ``d=`` that shares the
From domain's organizational domain: ``d=mail.alice.example`` aligns with From
``alice.example``. So a guard must refuse a ``d=`` at or below a domain another tenant
owns, not only the From domain itself.
"""

from __future__ import annotations

import pytest

from oxdkim import DefaultGenericPolicy, PerDomainPolicy, Signer, SigningRefusedError
from oxdkim.policies import TenantGuard

from .support import (
    ALICE,
    ALICE_DOMAIN,
    BOB,
    GENERIC_DOMAIN,
    GENERIC_KEY,
    TENANTS,
    clock,
    seed_key,
    sign_unchanged,
)

GENERIC = DefaultGenericPolicy(GENERIC_DOMAIN, "gen1", GENERIC_KEY)
MESSAGE = f"From: x@{ALICE_DOMAIN}\r\nSubject: s\r\n\r\nbody\r\n".encode()


def table(signing_domain: str) -> PerDomainPolicy:
    """alice.example routed to a policy that signs as ``signing_domain``."""
    own = DefaultGenericPolicy(signing_domain, "a1", seed_key(5))
    return PerDomainPolicy(GENERIC, {ALICE_DOMAIN: own})


def test_unguarded_table_signs_as_the_domain_for_anyone():
    """
    The documented risk: a per-domain override signs as alice.example for bob too.
    (docs/security.md: wrap per-domain tables in TenantGuard.)
    """
    outcome = sign_unchanged(Signer(table(ALICE_DOMAIN), clock=clock), MESSAGE, tenant=BOB)
    assert [ALICE_DOMAIN] == [r.domain for r in outcome.signatures]


@pytest.mark.parametrize(
    ("signing_domain", "a_label"),
    [(ALICE_DOMAIN, ALICE_DOMAIN), ("bücher.example", "xn--bcher-kva.example")],
)
def test_guard_refuses_another_tenants_domain(signing_domain: str, a_label: str):
    """TenantGuard refuses bob a d= that alice owns; alice still gets it."""
    guarded = Signer(TenantGuard(table(signing_domain), TENANTS), clock=clock)
    refused = sign_unchanged(guarded, MESSAGE, tenant=BOB)
    assert isinstance(refused.error, SigningRefusedError)
    allowed = sign_unchanged(guarded, MESSAGE, tenant=ALICE)
    assert [a_label] == [r.domain for r in allowed.signatures]


def test_guard_falls_back_to_generic():
    """With a fallback, bob gets only the generic (unaligned) signature."""
    guarded = Signer(TenantGuard(table(ALICE_DOMAIN), TENANTS, fallback=GENERIC), clock=clock)
    outcome = sign_unchanged(guarded, MESSAGE, tenant=BOB)
    assert [GENERIC_DOMAIN] == [r.domain for r in outcome.signatures]


@pytest.mark.parametrize(
    "signing_domain",
    [
        pytest.param(f"mail.{ALICE_DOMAIN}", id="subdomain-of-the-from-domain"),
        pytest.param(f"other.{ALICE_DOMAIN}", id="sibling-below-alices-domain"),
    ],
)
def test_guard_refuses_a_relaxed_aligned_subdomain_of_another_tenants_domain(
    signing_domain: str,
):
    """
    A d= below alice's domain aligns (relaxed) with From alice.example: bob must not
    get it, even though nobody listed that subdomain.
    """
    guarded = Signer(TenantGuard(table(signing_domain), TENANTS), clock=clock)
    outcome = sign_unchanged(guarded, MESSAGE, tenant=BOB)
    assert isinstance(outcome.error, SigningRefusedError), outcome


NESTED = {ALICE: [ALICE_DOMAIN], BOB: [f"shop.{ALICE_DOMAIN}"]}
"""bob owns a subdomain inside alice's registered domain (a franchise, a shop)."""


@pytest.mark.parametrize(
    "from_domain",
    [
        pytest.param(ALICE_DOMAIN, id="alices-domain"),
        pytest.param(f"other.{ALICE_DOMAIN}", id="unowned-subdomain-of-alices-domain"),
    ],
)
def test_guard_refuses_own_subdomain_for_a_from_in_another_tenants_domain(from_domain: str):
    """
    A policy that signs with the tenant's own domain (bob: shop.alice.example) must not
    do so for From addresses in alice's domain: d=shop.alice.example aligns (relaxed)
    with alice.example and everything below it.
    """
    own = DefaultGenericPolicy(f"shop.{ALICE_DOMAIN}", "b1", seed_key(6))
    guarded = Signer(TenantGuard(own, NESTED), clock=clock)
    message = f"From: x@{from_domain}\r\nSubject: s\r\n\r\nbody\r\n".encode()
    outcome = sign_unchanged(guarded, message, tenant=BOB)
    assert isinstance(outcome.error, SigningRefusedError), outcome


def test_guard_lets_a_tenant_sign_its_own_subdomain_in_a_nested_table():
    """The same table still lets bob sign his own shop.alice.example mail."""
    own = DefaultGenericPolicy(f"shop.{ALICE_DOMAIN}", "b1", seed_key(6))
    guarded = Signer(TenantGuard(own, NESTED), clock=clock)
    message = f"From: x@shop.{ALICE_DOMAIN}\r\n\r\nbody\r\n".encode()
    outcome = sign_unchanged(guarded, message, tenant=BOB)
    assert [f"shop.{ALICE_DOMAIN}"] == [r.domain for r in outcome.signatures]
