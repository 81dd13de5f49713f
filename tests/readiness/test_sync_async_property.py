"""
The sync and async faces of the audit and the preview drive one plan: for generated
worlds (records, delegations, failing names, brand modes, finders) they give the same
results and ask the same questions in the same order, one domain at a time and in bulk.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxdkim import DelegationAuditor
from oxdkim._base.answers import AddressAnswer, CnameAnswer, MxAnswer, TxtAnswer
from oxdkim._config.values import BrandConfig
from oxdkim._readiness.preview import ReadinessPreview
from oxdkim.resolvers import InMemoryZone

from .scenario import RING, SELECTORS, T0, provider_zone
from .test_cases import brand

DOMAIN = "c.test"
CHOICES: dict[str, tuple[str | None, ...]] = {
    "_dmarc.c.test": (None, "v=DMARC1; p=reject", "v=DMARC1; p=none; adkim=s", "v=DMARC1; p=x"),
    "_dmarc.test": (None, "v=DMARC1; p=quarantine; psd=y"),
    "bounce.c.test": (
        None,
        "v=spf1 include:_spf.brandmail.test -all",
        "v=spf1 mx a -all",
        "v=spf1 include:missing.test ~all",
        "v=spf1 redirect=c.test",
    ),
    "c.test": (None, "v=spf1 -all", "v=spf1 include:_spf.brandmail.test mx ?all"),
}
DELEGATIONS = ("none", "both", "one", "typo", "copied")
FAILABLE = (
    "_dmarc.c.test",
    "_dmarc.test",
    "bounce.c.test",
    "c.test",
    "mx.c.test",
    "mail1._domainkey.c.test",
    "mail2._domainkey.c.test",
    "mail1._domainkey.keys.brandmail.test",
)


def _zone(records: dict[str, str | None], delegated: str, mx: bool, failing: frozenset[str]) -> Any:
    lines = [f'{name}. 300 IN TXT "{value}"' for name, value in records.items() if value]
    target = {
        "both": "keys.brandmail.test",
        "one": "keys.brandmail.test",
        "typo": "keys.brandmai.test",
    }
    for selector in SELECTORS[: 1 if delegated == "one" else 2]:
        if delegated in target:
            lines.append(
                f"{selector}._domainkey.{DOMAIN}. 300 IN CNAME "
                f"{selector}._domainkey.{target[delegated]}."
            )
        elif delegated == "copied":
            lines.append(f'{selector}._domainkey.{DOMAIN}. 300 IN TXT "v=DKIM1; p="')
    if mx:
        lines += [f"{DOMAIN}. 300 IN MX 10 mx.{DOMAIN}.", f"mx.{DOMAIN}. 300 IN A 192.0.2.1"]
    return InMemoryZone(zone_text=[provider_zone(), "\n".join(lines) + "\n"], failing=failing)


class _Recording:
    """Every question asked, in order, of a sync host resolver."""

    def __init__(self, zone: InMemoryZone) -> None:
        self.zone = zone
        self.asked: list[tuple[str, str]] = []

    def txt(self, name: str) -> TxtAnswer:
        self.asked.append(("TXT", name))
        return self.zone.txt(name)

    def cname(self, name: str) -> CnameAnswer:
        self.asked.append(("CNAME", name))
        return self.zone.cname(name)

    def mx(self, name: str) -> MxAnswer:
        self.asked.append(("MX", name))
        return self.zone.mx(name)

    def addresses(self, name: str) -> AddressAnswer:
        self.asked.append(("ADDRESSES", name))
        return self.zone.addresses(name)


class _AsyncRecording:
    """The same, as an async host resolver."""

    def __init__(self, zone: InMemoryZone) -> None:
        self.sync = _Recording(zone)
        self.asked = self.sync.asked

    async def txt(self, name: str) -> TxtAnswer:
        return self.sync.txt(name)

    async def cname(self, name: str) -> CnameAnswer:
        return self.sync.cname(name)

    async def mx(self, name: str) -> MxAnswer:
        return self.sync.mx(name)

    async def addresses(self, name: str) -> AddressAnswer:
        return self.sync.addresses(name)


@pytest.fixture(scope="module")
def brands(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BrandConfig]:
    return {
        mode: brand(tmp_path_factory.mktemp(mode), mode, tenants=[DOMAIN])
        for mode in ("legacy", "generic")
    }


WORLDS = st.fixed_dictionaries(
    {
        "records": st.fixed_dictionaries({k: st.sampled_from(v) for k, v in CHOICES.items()}),
        "delegated": st.sampled_from(DELEGATIONS),
        "mx": st.booleans(),
        "failing": st.frozensets(st.sampled_from(FAILABLE), max_size=3),
    }
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    world=WORLDS,
    mode=st.sampled_from(("legacy", "generic")),
    finder=st.sampled_from(("tree-walk", "psl", "compare")),
    hosts=st.booleans(),
)
def test_preview_sync_and_async_agree(
    brands: dict[str, BrandConfig], world: dict[str, Any], mode: str, finder: str, hosts: bool
) -> None:
    preview = ReadinessPreview(brands[mode], ring=RING, finder=finder, clock=lambda: T0)
    sync = _Recording(_zone(**world))
    asynchronous = _AsyncRecording(_zone(**world))
    one = preview.preview(DOMAIN, sync, hosts=sync if hosts else None)
    other = asyncio.run(
        preview.preview_async(DOMAIN, asynchronous, hosts=asynchronous if hosts else None)
    )
    assert one == other
    assert sync.asked == asynchronous.asked
    # each TXT and CNAME question once per domain
    repeated = [q for q in sync.asked if q[0] in ("TXT", "CNAME") and sync.asked.count(q) > 1]
    assert not repeated

    bulk_sync = _Recording(_zone(**world))
    bulk_async = _AsyncRecording(_zone(**world))
    run = preview.preview_many(
        [DOMAIN], bulk_sync, concurrency=1, hosts=bulk_sync if hosts else None
    )
    arun = asyncio.run(
        preview.preview_many_async(
            [DOMAIN], bulk_async, concurrency=1, hosts=bulk_async if hosts else None
        )
    )
    assert run.reports == arun.reports == (one,)
    assert bulk_sync.asked == bulk_async.asked == sync.asked


@settings(max_examples=150, deadline=None)
@given(world=WORLDS)
def test_audit_sync_and_async_agree(world: dict[str, Any]) -> None:
    auditor = DelegationAuditor(RING, clock=lambda: T0)
    sync = _Recording(_zone(**world))
    asynchronous = _AsyncRecording(_zone(**world))
    report = auditor.audit(DOMAIN, sync)
    assert asyncio.run(auditor.audit_async(DOMAIN, asynchronous)) == report
    assert sync.asked == asynchronous.asked

    bulk_sync = _Recording(_zone(**world))
    bulk_async = _AsyncRecording(_zone(**world))
    domains = [DOMAIN, "other.test", DOMAIN.upper()]
    run = auditor.audit_many(domains, bulk_sync, concurrency=1)
    arun = asyncio.run(auditor.audit_many_async(domains, bulk_async, concurrency=1))
    assert run.reports == arun.reports
    assert run.reports[0] == report
    assert bulk_sync.asked == bulk_async.asked
