"""
Signing policies (oxdkim._signing.policies): generic, legacy brand (aligned), per-domain
table, tenant isolation and the tenant guard. The verified-delegation policy belongs to
the audit and is tested in tests/audit/test_policy.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxdkim import (
    ConfigurationError,
    DefaultGenericPolicy,
    DomainOwnership,
    KeyRing,
    LegacyBrandPolicy,
    PerDomainPolicy,
    RefusePolicy,
    SignatureOptions,
    Signer,
    SigningKey,
    SigningRefusedError,
    SigningRequest,
)
from oxdkim.policies import TenantGuard
from oxdkim.typing import SigningPolicy

from .helpers import dkimpy_verify, fixed_clock, records_for, tags

GENERIC_DOMAIN = "dkim.brand.example"
TENANTS = {
    "acme": ["acme.example", "news.acme.example", "Müller.example."],
    "globex": ["globex.example"],
}


def message_from(domain: str) -> bytes:
    """A small message whose From is at ``domain``."""
    return (
        f"From: Sender <sender@{domain}>\r\nTo: rcpt@elsewhere.example\r\n"
        f"Subject: hello\r\n\r\nbody\r\n"
    ).encode()


@pytest.fixture(scope="module")
def ring(ed_key: SigningKey, ed_key2: SigningKey) -> KeyRing:
    """A brand ring: mail1 active, mail2 waiting."""
    return KeyRing.from_keys({"mail1": ed_key, "mail2": ed_key2}, active="mail1")


@pytest.fixture(scope="module")
def generic(rsa_key: SigningKey) -> DefaultGenericPolicy:
    """The brand's generic policy."""
    return DefaultGenericPolicy(GENERIC_DOMAIN, "gen1", rsa_key)


def brand_records(ring: KeyRing, domain: str) -> dict[str, str]:
    """The ring's TXT records as a verifier sees them under ``domain`` (CNAMEs resolved)."""
    return {f"{selector}._domainkey.{domain}": txt for selector, txt in ring.txt_records().items()}


# -- generic --------------------------------------------------------------------------


def test_generic_signs_as_brand(generic: DefaultGenericPolicy, rsa_key: SigningKey):
    """DefaultGenericPolicy: d= and s= are the brand's, whatever the From domain; it verifies."""
    signer = Signer(generic, clock=fixed_clock())
    message = message_from("customer.example")
    [result] = signer.sign(message, tenant="anyone")
    found = tags(result.header)
    assert (GENERIC_DOMAIN, "gen1") == (found["d"], found["s"])
    assert ("default-generic", "default-generic") == (generic.name, result.policy)
    assert "not aligned with customer.example" in result.reason
    assert dkimpy_verify(
        signer.signed_message(message), records_for((GENERIC_DOMAIN, "gen1", rsa_key))
    )


def test_generic_normalizes_configuration(rsa_key: SigningKey):
    """Domain and selector are normalized when the policy is built."""
    policy = DefaultGenericPolicy("DKIM.Brand.Example.", "GEN1", rsa_key)
    [spec] = policy.decide(SigningRequest("x.example")).signatures
    assert (GENERIC_DOMAIN, "gen1") == (spec.domain, spec.selector)


@pytest.mark.parametrize("bad", [";", "=", " ", "\t", "(", "\0", "\r\n", ":"])
def test_bad_selector_refused_at_build(rsa_key: SigningKey, bad: str):
    """A selector with ; = whitespace ( or NUL is a ConfigurationError when the policy is built."""
    with pytest.raises(ConfigurationError):
        DefaultGenericPolicy(GENERIC_DOMAIN, f"gen{bad}1", rsa_key)


@pytest.mark.parametrize("bad", [";", "=", " ", "\t", "(", "\0", "\r\n", ":"])
def test_bad_domain_refused_at_build(
    rsa_key: SigningKey, ed_key: SigningKey, ed_key2: SigningKey, bad: str
):
    """A domain with ; = whitespace ( or NUL is a ConfigurationError when a policy is built."""
    domain = f"dkim{bad}brand.example"
    with pytest.raises(ConfigurationError):
        DefaultGenericPolicy(domain, "gen1", rsa_key)
    ring = KeyRing.from_keys({"mail1": ed_key, "mail2": ed_key2}, active="mail1")
    with pytest.raises(ConfigurationError):
        LegacyBrandPolicy(ring, {"acme": [domain]})
    with pytest.raises(ConfigurationError):
        PerDomainPolicy(RefusePolicy(), {domain: RefusePolicy()})


@pytest.mark.parametrize("bad", [";", "=", " ", "(", "\0"])
def test_bad_ring_selector_refused_at_build(ed_key: SigningKey, ed_key2: SigningKey, bad: str):
    """A ring slot selector with ; = whitespace ( or NUL is refused when the ring is built."""
    with pytest.raises(ConfigurationError):
        KeyRing.from_keys({f"mail{bad}1": ed_key, "mail2": ed_key2}, active="mail2")


@pytest.mark.parametrize("domain", ["", "example", "192.0.2.1", "a..example", "-a.example"])
def test_unusable_generic_domain_refused(rsa_key: SigningKey, domain: str):
    """A signing domain that is not a usable host name is refused at build time."""
    with pytest.raises(ConfigurationError):
        DefaultGenericPolicy(domain, "gen1", rsa_key)


# -- legacy brand ---------------------------------------------------------------------


def test_legacy_signs_aligned_with_active_slot(ring: KeyRing):
    """LegacyBrandPolicy: d= is the From domain, s= the ring's active slot; it verifies."""
    policy = LegacyBrandPolicy(ring, TENANTS)
    signer = Signer(policy, clock=fixed_clock())
    message = message_from("acme.example")
    [result] = signer.sign(message, tenant="acme")
    found = tags(result.header)
    assert ("acme.example", "mail1") == (found["d"], found["s"])
    assert "legacy-brand" == result.policy
    assert "acme" in result.reason
    assert dkimpy_verify(
        signer.signed_message(message, tenant="acme"), brand_records(ring, "acme.example")
    )


def test_legacy_same_key_for_every_domain(ring: KeyRing, ed_key: SigningKey):
    """Every domain of the brand is signed with the same (active) key."""
    signer = Signer(LegacyBrandPolicy(ring, TENANTS), clock=fixed_clock())
    prints = set()
    for domain, tenant in [
        ("acme.example", "acme"),
        ("news.acme.example", "acme"),
        ("müller.example", "acme"),
        ("globex.example", "globex"),
    ]:
        [result] = signer.sign(message_from(domain), tenant=tenant)
        prints.add(result.key_fingerprint)
    assert {ed_key.fingerprint} == prints


def test_legacy_other_active_slot(ed_key: SigningKey, ed_key2: SigningKey):
    """With mail2 active, s=mail2 and its key sign; verification uses mail2's record."""
    ring = KeyRing.from_keys({"mail1": ed_key, "mail2": ed_key2}, active="mail2")
    signer = Signer(LegacyBrandPolicy(ring, TENANTS), clock=fixed_clock())
    message = message_from("globex.example")
    [result] = signer.sign(message, tenant="globex")
    assert ("mail2", ed_key2.fingerprint) == (result.selector, result.key_fingerprint)
    assert dkimpy_verify(result.header + message, brand_records(ring, "globex.example"))


def test_legacy_idn_domain_a_label(ring: KeyRing):
    """An owned IDN domain matches its U-label From and is signed as its A-label."""
    signer = Signer(LegacyBrandPolicy(ring, TENANTS), clock=fixed_clock())
    message = message_from("MÜLLER.example")
    [result] = signer.sign(message, tenant="acme")
    assert "xn--mller-kva.example" == tags(result.header)["d"]
    assert dkimpy_verify(result.header + message, brand_records(ring, "xn--mller-kva.example"))


# -- tenant isolation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("from_domain", "tenant", "why"),
    [
        pytest.param("globex.example", "acme", "another tenant", id="other-tenants-domain"),
        pytest.param("acme.example", None, "no tenant", id="no-tenant"),
        pytest.param("stranger.example", "acme", "not a domain of this brand", id="unknown-domain"),
        pytest.param(
            "sub.acme.example", "acme", "not a domain of this brand", id="subdomain-not-owned"
        ),
        pytest.param("acme.example", "ACME", "another tenant", id="tenant-case-matters"),
    ],
)
def test_isolation_refuses_by_default(
    ring: KeyRing, from_domain: str, tenant: str | None, why: str
):
    """Without a fallback, a domain the tenant does not own is refused, with the decision."""
    signer = Signer(LegacyBrandPolicy(ring, TENANTS), clock=fixed_clock())
    with pytest.raises(SigningRefusedError) as info:
        signer.sign(message_from(from_domain), tenant=tenant)
    decision = info.value.decision
    assert "legacy-brand" == decision.policy
    assert why in decision.reason
    assert () == decision.signatures


@pytest.mark.parametrize(
    ("from_domain", "tenant"),
    [("globex.example", "acme"), ("acme.example", None), ("stranger.example", "acme")],
)
def test_isolation_fallback_signs_generic(
    ring: KeyRing,
    generic: DefaultGenericPolicy,
    rsa_key: SigningKey,
    from_domain: str,
    tenant: str | None,
):
    """With fallback=generic, a non-owned domain gets the generic signature, never its own d=."""
    signer = Signer(LegacyBrandPolicy(ring, TENANTS, fallback=generic), clock=fixed_clock())
    message = message_from(from_domain)
    [result] = signer.sign(message, tenant=tenant)
    assert (GENERIC_DOMAIN, "gen1") == (result.domain, result.selector)
    assert "legacy-brand>default-generic" == result.policy
    assert dkimpy_verify(result.header + message, records_for((GENERIC_DOMAIN, "gen1", rsa_key)))


@pytest.mark.parametrize(
    "tenants",
    [
        {"acme": ["shared.example"], "globex": ["shared.example"]},
        {"acme": ["shared.example"], "globex": ["SHARED.example."]},
        {"acme": ["müller.example"], "globex": ["xn--mller-kva.example"]},
    ],
)
def test_domain_owned_twice_is_configuration_error(ring: KeyRing, tenants: dict[str, list[str]]):
    """A domain owned by two tenants (in any spelling) is a ConfigurationError at build time."""
    with pytest.raises(ConfigurationError):
        LegacyBrandPolicy(ring, tenants)
    with pytest.raises(ConfigurationError):
        DomainOwnership.from_tenants(tenants)


def test_ownership_needs_a_list(ring: KeyRing):
    """A bare string of domains (a likely typo) is refused, not read character by character."""
    with pytest.raises(ConfigurationError):
        LegacyBrandPolicy(ring, {"acme": "acme.example"})  # type: ignore[dict-item]


domains = st.sampled_from(["a.example", "b.example", "c.example", "d.example", "e.example"])
tenant_names = st.sampled_from(["t1", "t2", "t3"])


@settings(max_examples=60, deadline=None)
@given(
    owned=st.dictionaries(domains, tenant_names, max_size=5),
    from_domain=domains,
    tenant=st.none() | tenant_names,
    with_fallback=st.booleans(),
)
def test_isolation_property(
    ring: KeyRing,
    generic: DefaultGenericPolicy,
    owned: dict[str, str],
    from_domain: str,
    tenant: str | None,
    with_fallback: bool,
):
    """For any ownership table and request, d= is the From domain only for its owner."""
    table: dict[str, list[str]] = {}
    for domain, owner in owned.items():
        table.setdefault(owner, []).append(domain)
    policy = LegacyBrandPolicy(ring, table, fallback=generic if with_fallback else None)
    decision = policy.decide(SigningRequest(from_domain, tenant))
    signed_domains = {spec.domain for spec in decision.signatures}
    if tenant is not None and owned.get(from_domain) == tenant:
        assert {from_domain} == signed_domains
    elif with_fallback:
        assert {GENERIC_DOMAIN} == signed_domains
    else:
        assert set() == signed_domains
    assert decision.policy.startswith("legacy-brand")
    assert decision.reason


# -- per-domain table -----------------------------------------------------------------


def test_per_domain_table(ring: KeyRing, generic: DefaultGenericPolicy, ed_key2: SigningKey):
    """A domain with its own policy uses it; every other domain gets the brand default."""
    own = DefaultGenericPolicy("own.example", "self", ed_key2, name="own-key")
    table = PerDomainPolicy(
        generic,
        {
            "Own.Example.": own,
            "acme.example": LegacyBrandPolicy(ring, TENANTS),
            "blocked.example": RefusePolicy("suspended for abuse"),
        },
    )
    cases = {
        "own.example": ("per-domain>own-key", "own.example"),
        "acme.example": ("per-domain>legacy-brand", "acme.example"),
        "other.example": ("per-domain>default-generic", GENERIC_DOMAIN),
    }
    for domain, (policy_name, signed_as) in cases.items():
        decision = table.decide(SigningRequest(domain, "acme"))
        assert policy_name == decision.policy
        assert (signed_as,) == tuple(spec.domain for spec in decision.signatures)
        assert decision.reason
    blocked = table.decide(SigningRequest("blocked.example", "acme"))
    assert ("per-domain>refuse", False) == (blocked.policy, blocked.signs)
    assert "suspended for abuse" in blocked.reason
    assert "blocked.example has its own policy" in blocked.reason


def test_per_domain_table_signs_and_verifies(
    generic: DefaultGenericPolicy, ed_key2: SigningKey, rsa_key: SigningKey
):
    """Signatures routed through the table verify with their own records."""
    own = DefaultGenericPolicy("own.example", "self", ed_key2)
    signer = Signer(PerDomainPolicy(generic, {"own.example": own}), clock=fixed_clock())
    records = records_for(("own.example", "self", ed_key2), (GENERIC_DOMAIN, "gen1", rsa_key))
    for domain, expected in [("own.example", "own.example"), ("x.example", GENERIC_DOMAIN)]:
        message = message_from(domain)
        [result] = signer.sign(message)
        assert expected == result.domain
        assert dkimpy_verify(result.header + message, records)


def test_policies_satisfy_protocol(ring: KeyRing, generic: DefaultGenericPolicy):
    """Every shipped policy is a SigningPolicy (runtime-checkable protocol)."""
    for policy in (
        generic,
        LegacyBrandPolicy(ring, TENANTS),
        PerDomainPolicy(generic),
        RefusePolicy(),
    ):
        assert isinstance(policy, SigningPolicy)


def test_policy_options_reach_the_signature(ring: KeyRing):
    """The options given to a policy (headers, expiry) shape its signatures."""
    options = SignatureOptions(headers=("from", "subject"), oversign=False, expires_in=60)
    signer = Signer(LegacyBrandPolicy(ring, TENANTS, options=options), clock=fixed_clock())
    [result] = signer.sign(message_from("acme.example"), tenant="acme")
    found = tags(result.header)
    assert "from:subject" == found["h"]
    assert int(found["t"]) + 60 == int(found["x"])


def test_direct_ownership_table_normalized_and_checked(ring: KeyRing):
    """A DomainOwnership built directly normalizes its domains and refuses bad or doubled ones."""
    ownership = DomainOwnership({"Acme.Example.": "acme"})
    assert "acme" == ownership.owner_of("acme.example")
    decision = LegacyBrandPolicy(ring, ownership).decide(SigningRequest("acme.example", "acme"))
    assert ("acme.example",) == tuple(spec.domain for spec in decision.signatures)
    with pytest.raises(ConfigurationError):
        DomainOwnership({"bad;domain.example": "acme"})
    with pytest.raises(ConfigurationError):
        DomainOwnership({"a.example": "acme", "A.EXAMPLE.": "globex"})


# -- tenant guard: no composition of policies signs as another tenant's domain ---------

GUARD_KEY = SigningKey.generate("ed25519-sha256")
GUARD_OWNERS = {"acme": ["acme.example"], "globex": ["globex.example"]}
GUARD_GENERIC = DefaultGenericPolicy(GENERIC_DOMAIN, "gen1", GUARD_KEY)
# An override that signs as acme.example itself, for whoever sends as it: the risky shape.
ACME_OWN_KEY = DefaultGenericPolicy("acme.example", "own1", GUARD_KEY)
ROUTED = PerDomainPolicy(default=GUARD_GENERIC, overrides={"acme.example": ACME_OWN_KEY})


def test_without_the_guard_an_override_signs_for_any_tenant() -> None:
    """The risk the guard exists for: the per-domain table routes by From domain only."""
    [result] = Signer(ROUTED).sign(message_from("acme.example"), tenant="globex")
    assert "acme.example" == result.domain


def test_the_guard_falls_back_to_generic() -> None:
    """With a fallback, the violating message is signed generic and the reason kept."""
    signer = Signer(TenantGuard(ROUTED, GUARD_OWNERS, fallback=GUARD_GENERIC))
    [result] = signer.sign(message_from("acme.example"), tenant="globex")
    assert ("dkim.brand.example", "tenant-guard>default-generic") == (result.domain, result.policy)
    assert "per-domain>default-generic" not in result.policy


def test_generic_signatures_pass_the_guard() -> None:
    """The provider's generic d= is nobody's tenant domain: always allowed."""
    [result] = Signer(TenantGuard(GUARD_GENERIC, GUARD_OWNERS)).sign(
        message_from("globex.example"), tenant="acme"
    )
    assert "dkim.brand.example" == result.domain


@pytest.mark.parametrize(
    ("policy", "from_domain", "tenant", "reason", "owner"),
    [
        pytest.param(
            ROUTED,
            "acme.example",
            "globex",
            "belongs to another tenant",
            ("acme", "acme.example", "acme.example"),
            id="another-tenants-domain",
        ),
        # d= equal to (or a parent of) the From domain needs an owner.
        pytest.param(
            DefaultGenericPolicy("unowned.example", "s", GUARD_KEY),
            "news.unowned.example",
            "acme",
            "no tenant owns it",
            None,
            id="unowned-domain",
        ),
        # d=news.acme.example aligns (relaxed) with acme's mail: only acme may get it.
        pytest.param(
            DefaultGenericPolicy("news.acme.example", "s", GUARD_KEY),
            "globex.example",
            "globex",
            "is under acme.example",
            ("acme", "acme.example", "news.acme.example"),
            id="below-another-tenants-domain",
        ),
    ],
)
def test_the_guard_refuses_a_domain_the_tenant_does_not_own(
    policy: SigningPolicy,
    from_domain: str,
    tenant: str,
    reason: str,
    owner: tuple[str, str, str] | None,
) -> None:
    """The guard refuses, saying why; the owning tenant, where there is one, still signs."""
    signer = Signer(TenantGuard(policy, GUARD_OWNERS))
    with pytest.raises(SigningRefusedError) as info:
        signer.sign(message_from(from_domain), tenant=tenant)
    assert "tenant-guard" == info.value.decision.policy
    assert reason in info.value.decision.reason
    if owner is not None:
        owner_tenant, owner_from, domain = owner
        [ok] = signer.sign(message_from(owner_from), tenant=owner_tenant)
        assert domain == ok.domain
