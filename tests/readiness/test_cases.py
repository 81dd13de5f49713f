"""The preview's decisions one by one, in memory: modes, policies, SPF, unknowns, options."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from oxdkim import (
    AddressAnswer,
    CnameAnswer,
    FileKeyStore,
    KeySlot,
    MxAnswer,
    SlotState,
    TxtAnswer,
    load_config,
)
from oxdkim._config.values import BrandConfig
from oxdkim._keys.records import render_zone
from oxdkim._readiness.preview import ReadinessPreview
from oxdkim.exceptions import ConfigurationError, KeyStoreError
from oxdkim.resolvers import InMemoryZone

from .scenario import KEY1, RING, SPF_INCLUDE, T0, delegation, provider_zone, txt

GOOD_SPF = f"v=spf1 include:{SPF_INCLUDE} -all"


def brand(tmp_path: Path, mode: str = "generic", **settings: Any) -> BrandConfig:
    """A brand ``b`` with tenant ``t`` owning the domains given, and any other settings."""
    tenants = settings.pop("tenants", ["c.test"])
    overrides: Mapping[str, str] = settings.pop("domains", {})
    lines = [
        "[brands.b]",
        f'mode = "{mode}"',
        'generic_domain = "dkim.brandmail.test"',
        'generic_selector = "gen1"',
        'generic_key = "generic.pem"',
        'key_host = "keys.brandmail.test"',
        'ring = "ring"',
        f'spf_include = "{SPF_INCLUDE}"',
    ]
    settings.setdefault("mail_from", "bounce.{domain}")
    lines += [f'{key} = "{value}"' for key, value in settings.items() if value is not None]
    lines += ["[brands.b.tenants]", "t = [" + ", ".join(f'"{d}"' for d in tenants) + "]"]
    lines += ["[brands.b.domains]", *(f'"{d}" = "{m}"' for d, m in overrides.items())]
    path = tmp_path / "brands.toml"
    path.write_text("\n".join(lines) + "\n")
    return load_config(path).brand("b")


def world(
    records: Mapping[str, str | list[str]], *, delegated: tuple[str, ...] = (), **kw: Any
) -> InMemoryZone:
    """The provider's zone, delegation CNAMEs for ``delegated``, and TXT ``records``."""
    extra = [
        txt(name, value)
        for name, values in records.items()
        for value in ([values] if isinstance(values, str) else values)
    ]
    extra += [r for domain in delegated for r in delegation(domain)]
    return InMemoryZone(zone_text=[provider_zone(), render_zone(extra)], **kw)


def predict(
    brand_config: BrandConfig, resolver: InMemoryZone, domain: str = "c.test", **kw: Any
) -> Any:
    return ReadinessPreview(brand_config, ring=RING, clock=lambda: T0, **kw).preview(
        domain, resolver
    )


# --- what the policy does to failing mail ----------------------------------------------


def test_subdomain_policy_sp(tmp_path: Path) -> None:
    """A subdomain without its own record gets its organizational domain's sp=."""
    report = predict(
        brand(tmp_path, tenants=["news.corp.test"]),
        world(
            {
                "_dmarc.corp.test": "v=DMARC1; p=none; sp=reject",
                "bounce.news.corp.test": "v=spf1 -all",
            }
        ),
        "news.corp.test",
    )
    assert ("fail", "sp", "reject") == (
        report.verdict.value,
        report.dmarc.policy_source.value,
        report.disposition.value,
    )
    assert report.summary.endswith(
        "sp=reject (corp.test's policy for its subdomains): mail will be rejected"
    )


def test_testing_flag_softens_the_disposition(tmp_path: Path) -> None:
    """p=reject with t=y: receivers quarantine instead (RFC 9989 §4.7 t)."""
    report = predict(brand(tmp_path), world({"_dmarc.c.test": "v=DMARC1; p=reject; t=y"}))
    assert ("fail", "reject", "quarantine") == (
        report.verdict.value,
        report.policy.value,
        report.disposition.value,
    )
    assert report.summary.endswith(
        "p=reject with t=y (testing): receivers apply quarantine instead: "
        "mail will be quarantined (spam folder)"
    )


def test_p_none_delivers(tmp_path: Path) -> None:
    """p=none: the mail fails DMARC but is delivered; only reports follow."""
    report = predict(brand(tmp_path), world({"_dmarc.c.test": "v=DMARC1; p=none"}))
    assert ("fail", "none") == (report.verdict.value, report.disposition.value)
    assert report.summary.endswith("p=none: mail is delivered; failures are only reported")


def test_inherited_policy_names_its_domain(tmp_path: Path) -> None:
    """A policy found at the organizational domain says where it came from."""
    report = predict(
        brand(tmp_path, tenants=["a.c.test"]),
        world({"_dmarc.c.test": "v=DMARC1; p=quarantine"}),
        "a.c.test",
    )
    assert "p=quarantine (inherited from c.test): mail will be quarantined" in report.summary


def test_unusable_record_is_permerror(tmp_path: Path) -> None:
    """A record with a bad p= and no rua is unusable: permerror, receivers skip DMARC."""
    report = predict(brand(tmp_path), world({"_dmarc.c.test": "v=DMARC1; p=block"}))
    assert "permerror" == report.verdict.value
    assert "is unusable (bad p=, sp= or np= and no valid rua)" in report.summary
    assert ["DMARC record: p='block': must be none, quarantine or reject"] == list(report.notes)


def test_several_records_count_as_none(tmp_path: Path) -> None:
    """Two DMARC records: no policy applies, and the note says why."""
    resolver = world({"_dmarc.c.test": ["v=DMARC1; p=reject", "v=DMARC1; p=none"]})
    report = predict(brand(tmp_path), resolver)
    assert "no-policy" == report.verdict.value
    assert report.summary.startswith(
        "several DMARC records at _dmarc.c.test (they count as none): receivers apply"
    )
    psl = predict(brand(tmp_path), resolver, finder="psl")
    assert ("no-policy", "multiple-records") == (psl.verdict.value, psl.dmarc.reason.value)
    assert psl.summary.startswith("several DMARC records at _dmarc.c.test (they count as none)")


# --- signing modes ---------------------------------------------------------------------


def test_refuse_override_means_unsigned(tmp_path: Path) -> None:
    """A domain set to refuse is not signed: DKIM none; DMARC rests on SPF alone."""
    config = brand(tmp_path, "legacy", domains={"c.test": "refuse"})
    report = predict(
        config, world({"_dmarc.c.test": "v=DMARC1; p=reject", "bounce.c.test": GOOD_SPF})
    )
    assert ("none", "none", None) == (
        report.signing.mode.value,
        report.dkim.outlook.value,
        report.dkim.domain,
    )
    assert "will pass DMARC through SPF (p=reject)" == report.summary


def test_aligned_only_for_tenant_domains(tmp_path: Path) -> None:
    """A legacy brand signs a domain no tenant owns generic (fallback) or not at all."""
    resolver = world({"_dmarc.stray.test": "v=DMARC1; p=reject"})
    generic = predict(brand(tmp_path, "legacy"), resolver, "stray.test")
    assert ("generic", "dkim.brandmail.test") == (
        generic.signing.mode.value,
        generic.signing.domain,
    )
    assert "not a domain of any tenant" in generic.signing.reason
    refuse = predict(brand(tmp_path, "legacy", fallback="refuse"), resolver, "stray.test")
    assert ("none", "fail") == (refuse.signing.mode.value, refuse.verdict.value)
    assert refuse.summary.startswith("fails DMARC: mail is not signed and ")


def test_no_active_key_falls_back(tmp_path: Path) -> None:
    """A ring without an active key cannot sign aligned: the generic fallback signs."""
    ring = RING.replace(KeySlot("mail1", KEY1, SlotState.PUBLISHED, T0))
    preview = ReadinessPreview(brand(tmp_path, "legacy"), ring=ring, clock=lambda: T0)
    assert "the key ring has no active key yet" in preview.signing_for("c.test").reason
    assert "generic" == preview.signing_for("c.test").mode.value


def test_per_domain_override_to_generic(tmp_path: Path) -> None:
    """The domain's own setting beats the brand default."""
    preview = ReadinessPreview(
        brand(tmp_path, "legacy", domains={"c.test": "generic"}), ring=RING, clock=lambda: T0
    )
    signing = preview.signing_for("C.Test.")
    assert ("generic", "generic signing (the domain's own setting)") == (
        signing.mode.value,
        signing.reason,
    )


def test_ring_loaded_from_the_configured_directory(tmp_path: Path) -> None:
    """Without ring=, the ring comes from the brand's ring directory; a missing one is an error."""
    config = brand(tmp_path, "legacy")
    with pytest.raises((KeyStoreError, ConfigurationError)):
        ReadinessPreview(config)
    FileKeyStore.create(tmp_path / "ring", RING)
    report = ReadinessPreview(config, clock=lambda: T0).preview(
        "c.test", world({"_dmarc.c.test": "v=DMARC1; p=reject"}, delegated=("c.test",))
    )
    assert ("aligned", "pass") == (report.signing.mode.value, report.verdict.value)


# --- SPF and the MAIL FROM domain ------------------------------------------------------


def test_no_mail_from_cannot_be_judged(tmp_path: Path) -> None:
    """Without a configured MAIL FROM domain, SPF alignment cannot be judged."""
    report = predict(
        brand(tmp_path, mail_from=None), world({"_dmarc.c.test": "v=DMARC1; p=reject"})
    )
    assert (None, None, None) == (report.spf.mail_from, report.spf.result, report.spf.aligned)
    assert "SPF alignment cannot be judged" in report.spf.reason
    assert report.summary.startswith(
        "fails DMARC: generic signing never aligns and no MAIL FROM domain is configured"
    )


def test_strict_spf_alignment(tmp_path: Path) -> None:
    """aspf=s: a bounce subdomain that passes SPF is still not aligned."""
    resolver = world({"_dmarc.c.test": "v=DMARC1; p=reject; aspf=s", "bounce.c.test": GOOD_SPF})
    report = predict(brand(tmp_path), resolver)
    assert ("pass", False, "fail") == (
        report.spf.result.value,
        report.spf.aligned,
        report.verdict.value,
    )
    assert "(strict alignment, aspf=s)" in report.spf.reason


def test_spf_problems_become_notes(tmp_path: Path) -> None:
    """An SPF problem that does not decide the result is still shown to the operator."""
    resolver = world(
        {
            "_dmarc.c.test": "v=DMARC1; p=reject",
            "bounce.c.test": f"v=spf1 include:{SPF_INCLUDE} +all",
        }
    )
    report = predict(brand(tmp_path), resolver)
    assert "pass" == report.verdict.value
    assert ["SPF: bounce.c.test ends with '+all': any host may send as it"] == list(report.notes)


# --- temporary failures: unknown, never a failure ----------------------------------------


def test_spf_temperror_with_aligned_dkim_still_passes(tmp_path: Path) -> None:
    """Aligned DKIM passes whatever SPF does: a temporary SPF failure does not hide that."""
    resolver = world(
        {"_dmarc.c.test": "v=DMARC1; p=reject", "bounce.c.test": GOOD_SPF},
        delegated=("c.test",),
        failing=["bounce.c.test"],
    )
    report = predict(brand(tmp_path, "legacy"), resolver)
    assert ("temperror", "pass") == (report.spf.result.value, report.verdict.value)


def test_spf_temperror_with_generic_signing_is_unknown(tmp_path: Path) -> None:
    """Generic signing rests on SPF: a temporary SPF failure makes the prediction unknown."""
    resolver = world({"_dmarc.c.test": "v=DMARC1; p=reject"}, failing=["bounce.c.test"])
    report = predict(brand(tmp_path), resolver)
    assert ("unknown", None) == (report.verdict.value, report.disposition)
    assert "SPF at bounce.c.test" in report.summary


def test_delegation_temperror_is_unknown(tmp_path: Path) -> None:
    """The CNAMEs cannot be read: DKIM unknown, prediction unknown."""
    resolver = world(
        {"_dmarc.c.test": "v=DMARC1; p=reject"},
        failing=["mail1._domainkey.c.test", "mail2._domainkey.c.test"],
    )
    report = predict(brand(tmp_path, "legacy"), resolver)
    assert ("unknown", "unknown") == (report.dkim.outlook.value, report.verdict.value)
    assert "the DKIM delegation" in report.summary


def test_other_selector_temperror_still_passes(tmp_path: Path) -> None:
    """The signing selector verifies and only the other one cannot be read: DKIM passes."""
    resolver = world(
        {"_dmarc.c.test": "v=DMARC1; p=reject"},
        delegated=("c.test",),
        failing=["mail2._domainkey.c.test"],
    )
    report = predict(brand(tmp_path, "legacy"), resolver)
    assert ("unknown", "pass", "pass") == (
        report.dkim.audit.verdict.value,
        report.dkim.outlook.value,
        report.verdict.value,
    )
    assert "mail2 temporary DNS failure" in report.dkim.reason


def test_dmarc_temperror_is_unknown(tmp_path: Path) -> None:
    """The policy cannot be read: unknown, even where the identifiers pass."""
    resolver = world(
        {"_dmarc.c.test": "v=DMARC1; p=reject"}, delegated=("c.test",), failing=["_dmarc.c.test"]
    )
    report = predict(brand(tmp_path, "legacy"), resolver)
    assert ("pass", "unknown") == (report.dkim.outlook.value, report.verdict.value)
    assert "the DMARC policy" in report.summary


# --- RFC 9989 vs RFC 7489 --------------------------------------------------------------


def test_compare_mode_reports_disagreement(tmp_path: Path) -> None:
    """No DMARC record in the tree: RFC 9989 makes bounce.c.test its own organizational
    domain (not aligned); the Public Suffix List makes it c.test's (aligned)."""
    resolver = world({"bounce.c.test": GOOD_SPF})
    walk = predict(brand(tmp_path), resolver)
    psl = predict(brand(tmp_path), resolver, finder="psl")
    compare = predict(brand(tmp_path), resolver, finder="compare")
    assert (False, True, False) == (walk.spf.aligned, psl.spf.aligned, compare.spf.aligned)
    assert (
        "SPF bounce.c.test is not aligned under RFC 9989 but aligned for RFC 7489 "
        "(Public Suffix List) receivers"
    ) in compare.notes
    assert not walk.notes


def test_compare_mode_async(tmp_path: Path) -> None:
    """The async twin builds the same comparing finder: equal predictions."""
    resolver = world({"bounce.c.test": GOOD_SPF})
    preview = ReadinessPreview(brand(tmp_path), finder="compare", clock=lambda: T0)
    sync = preview.preview("c.test", resolver)
    assert sync == asyncio.run(preview.preview_async("c.test", resolver.as_async()))


# --- arguments ---------------------------------------------------------------------------


def test_bad_arguments(tmp_path: Path) -> None:
    """Invalid domains, finders and concurrency are configuration errors."""
    preview = ReadinessPreview(brand(tmp_path), clock=lambda: T0)
    resolver = world({})
    with pytest.raises(ConfigurationError):
        preview.preview("not a domain", resolver)
    with pytest.raises(ConfigurationError):
        preview.preview_many("c.test", resolver)
    with pytest.raises(ConfigurationError):
        preview.preview_many(["c.test"], resolver, concurrency=0)
    with pytest.raises(ConfigurationError):
        ReadinessPreview(brand(tmp_path), finder="dns")


def test_sync_wrapper_refuses_a_running_loop(tmp_path: Path) -> None:
    """preview_many with an async resolver inside an event loop says to await the twin."""
    preview = ReadinessPreview(brand(tmp_path), clock=lambda: T0)

    async def inside() -> None:
        preview.preview_many(["c.test"], world({}).as_async())

    with pytest.raises(ConfigurationError, match="await preview_many_async"):
        asyncio.run(inside())


class _CustomAsyncHosts:
    """A caller's own async host resolver (not one of oxdkim's classes)."""

    def __init__(self, zone: InMemoryZone) -> None:
        self.zone = zone

    async def txt(self, name: str) -> TxtAnswer:
        return self.zone.txt(name)

    async def cname(self, name: str) -> CnameAnswer:
        return self.zone.cname(name)

    async def mx(self, name: str) -> MxAnswer:
        return self.zone.mx(name)

    async def addresses(self, name: str) -> AddressAnswer:
        return self.zone.addresses(name)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_custom_async_resolver_still_works_with_a_deprecation_warning(
    tmp_path: Path, concurrency: int
) -> None:
    """preview_many(custom async resolver, hosts=it): the sync run's readiness, after a
    DeprecationWarning that names preview_many_async."""
    preview = ReadinessPreview(brand(tmp_path, tenants=["c.test", "d.test"]), clock=lambda: T0)
    records = {
        "c.test": f"v=spf1 mx include:{SPF_INCLUDE} -all",
        "_dmarc.c.test": "v=DMARC1; p=reject",
    }
    zone = world(
        records, mx={"c.test": [(10, "mx.c.test")]}, addresses={"mx.c.test": ["192.0.2.1"]}
    )
    expected = preview.preview_many(["c.test", "d.test"], zone, hosts=zone)
    custom = _CustomAsyncHosts(
        world(records, mx={"c.test": [(10, "mx.c.test")]}, addresses={"mx.c.test": ["192.0.2.1"]})
    )
    with pytest.warns(DeprecationWarning, match="preview_many_async"):
        run = preview.preview_many(
            ["c.test", "d.test"], custom, concurrency=concurrency, hosts=custom
        )
    assert expected.reports == run.reports


def test_repeated_domains_once_in_input_order(tmp_path: Path) -> None:
    """Domains are normalized, repeats dropped, order kept; the domains() default lists tenants."""
    config = brand(tmp_path, tenants=["b.test", "a.test"])
    preview = ReadinessPreview(config, clock=lambda: T0)
    assert ["b.test", "a.test"] == preview.domains()
    run = preview.preview_many(["B.test", "a.test", "b.test."], world({}), concurrency=2)
    assert ["b.test", "a.test"] == [r.domain for r in run.reports]
    assert T0 == run.started_at


# --- verdicts a failing unrelated domain cannot bend; what an SPF permerror means ---------


def test_generic_signer_dns_failure_does_not_hide_a_failure(tmp_path: Path) -> None:
    """The provider's own DMARC names failing cannot make a customer's fail unknown: its
    d= and MAIL FROM are outside the customer's organizational domain."""
    resolver = world(
        {"_dmarc.c.test": "v=DMARC1; p=reject", "bounce.brandmail.test": GOOD_SPF},
        failing=["_dmarc.brandmail.test", "_dmarc.dkim.brandmail.test"],
    )
    report = predict(brand(tmp_path, mail_from="bounce.brandmail.test"), resolver)
    assert ("fail", "reject") == (report.verdict.value, report.dmarc.disposition.value)


def test_spf_permerror_from_a_missing_include_is_explained(tmp_path: Path) -> None:
    """An include whose target has no SPF record is a permerror: when DMARC passes through
    DKIM anyway, a note still says why SPF fails (the table shows only "permerror")."""
    resolver = world(
        {
            "_dmarc.c.test": "v=DMARC1; p=reject",
            "bounce.c.test": f"v=spf1 include:gone.c.test include:{SPF_INCLUDE} -all",
        },
        delegated=("c.test",),
    )
    report = predict(brand(tmp_path, "legacy"), resolver)
    assert ("permerror", "pass") == (report.spf.result.value, report.verdict.value)
    assert any("gone.c.test" in note and "permerror" in note for note in report.notes)
    text = ReadinessPreview(brand(tmp_path, "legacy"), ring=RING, clock=lambda: T0).preview_many(
        ["c.test"], resolver
    )
    assert "gone.c.test has no SPF record" in text.table()


def test_psl_mode_applies_pct(tmp_path: Path) -> None:
    """--finder psl: p=reject; pct=0 gets quarantine from RFC 7489 receivers (§6.6.4)."""
    resolver = world({"_dmarc.c.test": "v=DMARC1; p=reject; pct=0", "bounce.c.test": "v=spf1 -all"})
    report = predict(brand(tmp_path), resolver, finder="psl")
    assert ("fail", "quarantine") == (report.verdict.value, report.dmarc.disposition.value)
    assert "with pct=0: RFC 7489 receivers apply quarantine instead" in report.summary
    tree = predict(brand(tmp_path), resolver)
    assert "reject" == tree.dmarc.disposition.value


def test_failure_above_the_customer_domain_does_not_hide_a_pass(tmp_path: Path) -> None:
    """_dmarc.test (the top-level domain) failing: the customer's own record applies and its
    aligned DKIM and subdomain MAIL FROM still align (RFC 9989 §4.10.1, §4.10.2)."""
    resolver = world(
        {"_dmarc.c.test": "v=DMARC1; p=reject", "bounce.c.test": GOOD_SPF},
        delegated=("c.test",),
        failing=["_dmarc.test"],
    )
    report = predict(brand(tmp_path, "legacy"), resolver)
    assert ("pass", True, True) == (report.verdict.value, report.dkim.aligned, report.spf.aligned)
    assert "dmarc=pass header.from=c.test policy.dmarc=reject" == (
        report.dmarc.authentication_results()
    )
