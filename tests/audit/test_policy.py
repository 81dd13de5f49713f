"""
The verified-delegation policy: aligned signatures only for domains the audit found
right, generic ones otherwise, with the audit state in every decision's reason; and the
registry it reads (updates, temporary failures, persistence, threads).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import dkim
import pytest

from oxdkim import (
    ConfigurationError,
    DefaultGenericPolicy,
    KeyRing,
    LegacyBrandPolicy,
    Signer,
    SigningRequest,
)
from oxdkim.audit import (
    AuditRun,
    DelegationAuditor,
    DelegationRegistry,
    DelegationState,
    DelegationVerdict,
    DomainReport,
    VerifiedDelegationPolicy,
)
from oxdkim.resolvers import ZoneFileResolver
from oxdkim.typing import Resolver, SigningPolicy

from .scenario import (
    CUSTOMER_DOMAINS,
    GENERIC_DOMAIN,
    GENERIC_KEY,
    KEY1,
    KEY2,
    KEY_HOST,
    RING,
    T0,
    servfail_names,
    zones,
)

TENANT = "tenant-a"
MESSAGE = b"From: Alice <alice@%s>\r\nTo: bob@example.net\r\nSubject: hi\r\n\r\nHello.\r\n"
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def zone() -> ZoneFileResolver:
    return ZoneFileResolver.from_text(*zones().values(), failing=servfail_names())


def audit_at(when: datetime, domains: list[str], zone: Resolver) -> AuditRun:
    return DelegationAuditor(RING, clock=lambda: when).audit_many(domains, zone, concurrency=1)


@pytest.fixture
def registry(zone: ZoneFileResolver) -> DelegationRegistry:
    """Every customer domain of the scenario, audited at T0."""
    return DelegationRegistry(audit_at(T0, CUSTOMER_DOMAINS, zone))


def make_policy(registry: DelegationRegistry, **options: object) -> VerifiedDelegationPolicy:
    generic = DefaultGenericPolicy(GENERIC_DOMAIN, "gen1", GENERIC_KEY)
    ring = KeyRing.from_keys({"mail1": KEY1, "mail2": KEY2}, active="mail1", key_host=KEY_HOST)
    owned = [*CUSTOMER_DOMAINS, "unaudited.test"]
    aligned = LegacyBrandPolicy(ring, {TENANT: owned, "tenant-b": ["b.test"]}, fallback=generic)
    return VerifiedDelegationPolicy(aligned, generic, registry, **options)  # type: ignore[arg-type]


def request(
    domain: str, when: datetime = T0 + timedelta(hours=1), tenant: str = TENANT
) -> SigningRequest:
    return SigningRequest(domain, tenant, None, when)


def dkimpy_passes(signed: bytes, zone: Resolver, index: int) -> bool:
    """dkimpy's verdict on the index-th signature, its DNS answered by ``zone``."""

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        answer = zone.txt(name.decode("ascii").rstrip("."))
        return answer.records[0] if answer.exists else None

    return bool(dkim.DKIM(signed).verify(idx=index, dnsfunc=dnsfunc))


def test_verified_domain_signs_aligned(registry: DelegationRegistry, zone: Resolver) -> None:
    """ok.test was verified: d=ok.test s=mail1, which dkimpy verifies through the CNAME."""
    policy = make_policy(registry)
    decision = policy.decide(request("ok.test"))
    assert "verified-delegation>legacy-brand" == decision.policy
    assert decision.reason.startswith(
        "ok.test: delegation verified (audit 2026-11-28T12:00Z); aligned signature d=ok.test"
    )
    signer = Signer(policy, clock=lambda: T0 + timedelta(hours=1))
    signed = signer.signed_message(MESSAGE % b"ok.test", tenant=TENANT)
    [result] = signer.sign(MESSAGE % b"ok.test", tenant=TENANT)
    assert ("ok.test", "mail1") == (result.domain, result.selector)
    assert dkimpy_passes(signed, zone, 0)


def test_broken_domain_signs_generic_and_says_why(
    registry: DelegationRegistry, zone: Resolver
) -> None:
    """missing.test has no CNAMEs: the generic signature, with the audit's finding as reason."""
    policy = make_policy(registry)
    decision = policy.decide(request("missing.test"))
    assert "verified-delegation>default-generic" == decision.policy
    assert decision.reason.startswith(
        "missing.test: mail1 CNAME missing; mail2 CNAME missing (audit 2026-11-28T12:00Z); "
        "generic signature d=dkim.brand.test s=gen1"
    )
    signer = Signer(policy, clock=lambda: T0)
    signed = signer.signed_message(MESSAGE % b"missing.test", tenant=TENANT)
    assert dkimpy_passes(signed, zone, 0)


def test_a_domain_that_works_today_but_is_not_delegated_signs_generic(
    registry: DelegationRegistry,
) -> None:
    """A copied key verifies today, but the delegation is broken: generic, reason given."""
    decision = make_policy(registry).decide(request("txtcopy.test"))
    assert GENERIC_DOMAIN == decision.signatures[0].domain
    assert "mail1 has a TXT key record instead of the CNAME" in decision.reason


def test_unaudited_domain_signs_generic(registry: DelegationRegistry) -> None:
    """A domain the registry does not know is never signed aligned."""
    decision = make_policy(registry).decide(request("unaudited.test"))
    assert GENERIC_DOMAIN == decision.signatures[0].domain
    assert decision.reason.startswith("unaudited.test: delegation never audited; generic")


def unknown_report(zone: ZoneFileResolver, domain: str, when: datetime) -> DomainReport:
    failing = ZoneFileResolver.from_text(
        *zones().values(), failing=[f"mail1._domainkey.{domain}", f"mail2._domainkey.{domain}"]
    )
    report = DelegationAuditor(RING, clock=lambda: when).audit(domain, failing)
    assert DelegationVerdict.UNKNOWN == report.verdict
    return report


def test_temporary_failure_keeps_a_verified_domain_aligned_within_the_grace(
    registry: DelegationRegistry, zone: ZoneFileResolver
) -> None:
    """A later audit that only hit DNS failures does not flip the domain to generic."""
    registry.update([unknown_report(zone, "ok.test", T0 + DAY)])
    policy = make_policy(registry)
    decision = policy.decide(request("ok.test", T0 + 2 * DAY))
    assert "ok.test" == decision.signatures[0].domain
    assert decision.reason.startswith(
        "ok.test: delegation verified (audit 2026-11-28T12:00Z; kept through the temporary "
        "DNS failure of 2026-11-29T12:00Z, grace 3d)"
    )


def test_temporary_failures_beyond_the_grace_sign_generic(
    registry: DelegationRegistry, zone: ZoneFileResolver
) -> None:
    """Three days after the last verified audit, persistent failures mean generic."""
    registry.update([unknown_report(zone, "ok.test", T0 + DAY)])
    policy = make_policy(registry)
    status = policy.status("ok.test", T0 + 3 * DAY + timedelta(minutes=1))
    assert DelegationState.UNKNOWN == status.state
    decision = policy.decide(request("ok.test", T0 + 4 * DAY))
    assert GENERIC_DOMAIN == decision.signatures[0].domain
    assert "more than the 3d grace period ago" in decision.reason
    strict = make_policy(registry, grace=timedelta(0))
    assert DelegationState.UNKNOWN == strict.status("ok.test", T0 + DAY).state


def test_temporary_failure_without_history_is_unknown(zone: ZoneFileResolver) -> None:
    """A first audit that only hit DNS failures gives unknown, hence generic."""
    registry = DelegationRegistry([unknown_report(zone, "ok.test", T0)])
    decision = make_policy(registry).decide(request("ok.test"))
    assert GENERIC_DOMAIN == decision.signatures[0].domain
    assert "delegation unknown, temporary DNS failure" in decision.reason


def test_temporary_failure_after_broken_stays_broken(
    registry: DelegationRegistry, zone: ZoneFileResolver
) -> None:
    """A broken domain stays broken when the next audit cannot reach DNS."""
    registry.update([unknown_report(zone, "missing.test", T0 + DAY)])
    status = make_policy(registry).status("missing.test", T0 + DAY)
    assert DelegationState.BROKEN == status.state
    assert "hit a temporary DNS failure" in status.reason


def test_old_audits_are_stale_with_max_age(registry: DelegationRegistry) -> None:
    """With max_age, a verdict older than it no longer counts."""
    policy = make_policy(registry, max_age=7 * DAY)
    assert DelegationState.VERIFIED == policy.status("ok.test", T0 + 7 * DAY).state
    decision = policy.decide(request("ok.test", T0 + 8 * DAY))
    assert GENERIC_DOMAIN == decision.signatures[0].domain
    assert "is older than 7d (it said: verified)" in decision.reason


def test_dual_sign_for_broken_domains(registry: DelegationRegistry, zone: Resolver) -> None:
    """Broken domains in dual_sign get both: the aligned one fails, the generic one passes."""
    policy = make_policy(registry, dual_sign={"broken"})
    decision = policy.decide(request("missing.test"))
    assert "verified-delegation>legacy-brand+default-generic" == decision.policy
    assert [("missing.test", "mail1"), (GENERIC_DOMAIN, "gen1")] == [
        (s.domain, s.selector) for s in decision.signatures
    ]
    signed = Signer(policy, clock=lambda: T0).signed_message(
        MESSAGE % b"missing.test", tenant=TENANT
    )
    assert [False, True] == [dkimpy_passes(signed, zone, i) for i in range(2)]
    verified = policy.decide(request("ok.test"))
    assert ["ok.test"] == [s.domain for s in verified.signatures]


def test_dual_sign_does_not_repeat_a_signature(registry: DelegationRegistry) -> None:
    """When the aligned policy itself falls back to generic, the generic key signs once."""
    policy = make_policy(registry, dual_sign=["verified"])
    decision = policy.decide(request("ok.test", tenant="tenant-b"))
    assert [GENERIC_DOMAIN] == [s.domain for s in decision.signatures]
    assert "belongs to another tenant" in decision.reason


def test_tenant_ownership_is_still_enforced(registry: DelegationRegistry) -> None:
    """A verified domain is signed aligned only for its owner; others get the fallback."""
    decision = make_policy(registry).decide(request("ok.test", tenant="tenant-b"))
    assert GENERIC_DOMAIN == decision.signatures[0].domain
    assert "ok.test belongs to another tenant" in decision.reason


def test_policy_is_a_signing_policy_and_refuses_bad_configuration(
    registry: DelegationRegistry,
) -> None:
    """It implements the protocol; bad arguments raise ConfigurationError when built."""
    assert isinstance(make_policy(registry), SigningPolicy)
    for options, match in (
        ({"grace": timedelta(days=-1)}, "grace"),
        ({"max_age": timedelta(0)}, "max_age"),
        ({"dual_sign": ["sometimes"]}, "dual_sign"),
    ):
        with pytest.raises(ConfigurationError, match=match):
            make_policy(registry, **options)
    with pytest.raises(ConfigurationError, match="aligned"):
        VerifiedDelegationPolicy(object(), object(), registry)  # type: ignore[arg-type]


def test_registry_ignores_older_reports(
    registry: DelegationRegistry, zone: ZoneFileResolver
) -> None:
    """An out-of-order older report does not replace a newer one."""
    newer = audit_at(T0 + DAY, ["missing.test"], zone).reports[0]
    registry.update([newer])
    older = audit_at(T0 - DAY, ["missing.test"], zone).reports[0]
    registry.update([older])
    entry = registry.get("missing.test")
    assert entry is not None
    assert T0 + DAY == entry.latest.checked_at


def test_registry_snapshot_is_immutable(registry: DelegationRegistry) -> None:
    """A snapshot taken before an update does not change; forget() drops domains."""
    before = registry.snapshot()
    registry.forget("ok.test")
    assert "ok.test" in before
    assert registry.get("ok.test") is None
    assert len(CUSTOMER_DOMAINS) - 1 == len(registry)
    with pytest.raises(TypeError):
        before["x"] = before["ok.test"]  # type: ignore[index]


def test_registry_saves_and_loads_as_audit_json(
    registry: DelegationRegistry, zone: ZoneFileResolver, tmp_path: Path
) -> None:
    """The saved registry is audit JSON, keeps the last conclusive report, and loads back."""
    registry.update([unknown_report(zone, "ok.test", T0 + DAY)])
    path = tmp_path / "registry.json"
    registry.save(path)
    loaded = DelegationRegistry.load(path)
    assert registry.snapshot() == loaded.snapshot()
    run = AuditRun.from_json(path.read_text())
    assert DelegationVerdict.UNKNOWN == run.report("ok.test").verdict  # type: ignore[union-attr]
    policy = make_policy(loaded)
    assert DelegationState.VERIFIED == policy.status("ok.test", T0 + 2 * DAY).state


def test_registry_loads_a_plain_audit_run(
    registry: DelegationRegistry, zone: ZoneFileResolver
) -> None:
    """An audit run's JSON (from oxdkim check --save) is a registry too."""
    text = audit_at(T0, CUSTOMER_DOMAINS, zone).to_json()
    assert registry.snapshot() == DelegationRegistry.from_json(text).snapshot()


def test_registry_load_errors(tmp_path: Path) -> None:
    """A missing or foreign file is a ConfigurationError."""
    with pytest.raises(ConfigurationError, match="cannot read"):
        DelegationRegistry.load(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ConfigurationError, match="not an oxdkim audit"):
        DelegationRegistry.load(tmp_path / "x.json")


def test_decisions_stay_consistent_while_the_registry_changes(
    zone: ZoneFileResolver,
) -> None:
    """Threads deciding while another thread records audits always see one whole verdict."""
    good = audit_at(T0, ["ok.test"], zone).reports[0]
    bad = DomainReport("ok.test", T0, audit_at(T0, ["missing.test"], zone).reports[0].selectors)
    registry = DelegationRegistry([good])
    policy = make_policy(registry)
    errors: list[str] = []
    stop = threading.Event()

    def decide() -> None:
        while not stop.is_set():
            decision = policy.decide(request("ok.test"))
            aligned = decision.signatures[0].domain == "ok.test"
            if aligned != ("delegation verified" in decision.reason):
                errors.append(decision.reason)

    threads = [threading.Thread(target=decide) for _ in range(4)]
    for thread in threads:
        thread.start()
    for i in range(300):
        report = good if i % 2 else bad
        registry.update([DomainReport("ok.test", T0 + timedelta(seconds=i), report.selectors)])
    stop.set()
    for thread in threads:
        thread.join()
    assert [] == errors
