"""
The limit of 10 MX names and void lookups of hosts without addresses, as the readiness
preview, ``oxdkim preview`` and the dnspython resolvers against Knot see them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dnsserver import DnsServer, make_zone
from oxdkim._config.values import BrandConfig
from oxdkim._readiness.preview import ReadinessPreview
from oxdkim.cli import main
from oxdkim.dmarc import SpfResult, analyze_spf, analyze_spf_async
from oxdkim.resolvers import (
    AsyncCachingHostResolver,
    AsyncDnspythonResolver,
    DnspythonResolver,
    ZoneFileResolver,
)

from .scenario import RING, SPF_INCLUDE, T0, write_world, zones

KNOT_PROVIDER = "_spf.hosts.test"
ELEVEN_MX = "".join(f"bounce MX {10 + i} mx{i}\nmx{i} A 192.0.2.{100 + i}\n" for i in range(11))
VOID_HOSTS = "".join(f'h{i} TXT "a host without an address"\n' for i in range(3))
HOSTS = " ".join(f"a:h{i}.hosts.test" for i in range(3))
WORLD = f"""\
_spf     TXT "v=spf1 ip4:192.0.2.0/24 -all"
bounce   TXT "v=spf1 mx include:{KNOT_PROVIDER} -all"
{ELEVEN_MX}
voids    TXT "v=spf1 {HOSTS} include:{KNOT_PROVIDER} -all"
two      TXT "v=spf1 {HOSTS.rsplit(" ", 1)[0]} include:{KNOT_PROVIDER} -all"
{VOID_HOSTS}"""


def preview_zones() -> dict[str, str]:
    """The preview scenario, with pass.test's bounce domain listing 11 MX names."""
    texts = zones()
    texts["pass.test"] = texts["pass.test"].replace(
        f'bounce.pass.test. 300 IN TXT "v=spf1 mx include:{SPF_INCLUDE} -all"\n', ""
    )
    texts["pass.test"] += (
        "".join(
            f"bounce.pass.test. 300 IN MX {10 + i} mx{i}.pass.test.\n"
            f"mx{i}.pass.test. 300 IN A 192.0.2.{100 + i}\n"
            for i in range(11)
        )
        + f'bounce.pass.test. 300 IN TXT "v=spf1 mx include:{SPF_INCLUDE} -all"\n'
    )
    return texts


def test_the_preview_sees_eleven_mx_names(brandmail: BrandConfig) -> None:
    """Through the preview with a host resolver: SPF permerror at the bounce domain; the
    domain still passes DMARC through DKIM. Without one, the old pass and a limit."""
    resolver = ZoneFileResolver.from_text(*preview_zones().values())
    preview = ReadinessPreview(brandmail, ring=RING, clock=lambda: T0)
    seen = preview.preview("pass.test", resolver, hosts=resolver)
    assert SpfResult.PERMERROR is seen.spf.result
    assert seen.spf.analysis is not None
    assert "11 MX records" in seen.spf.analysis.explain()
    blind = preview.preview("pass.test", resolver)
    assert SpfResult.PASS is blind.spf.result
    assert blind.spf.analysis is not None
    assert any("limit of 10 MX names" in limit for limit in blind.spf.analysis.limits)
    both = asyncio.run(
        preview.preview_async("pass.test", resolver.as_async(), hosts=resolver.as_async())
    )
    assert seen.spf == both.spf


def test_oxdkim_preview_sees_eleven_mx_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``oxdkim preview`` asks MX and address records: SPF permerror for pass.test."""
    write_world(tmp_path, preview_zones())
    args = ["preview", "--config", str(tmp_path / "brands.toml"), "--brand", "brandmail"]
    for path in sorted((tmp_path / "zones").glob("*.zone")):
        args += ["--zone", str(path)]
    main([*args, "--domain", "pass.test", "--json"])
    data = json.loads(capsys.readouterr().out)
    spf = data["domains"][0]["spf"]
    assert "permerror" == spf["result"]
    assert ["too-many-mx"] == [p["code"] for p in spf["analysis"]["problems"]]


@pytest.fixture(scope="module")
def hosts_server(dns_server_factory: Callable[..., DnsServer]) -> Iterator[DnsServer]:
    """Knot serving the MX and address records of the SPF worlds."""
    with dns_server_factory({"hosts.test": make_zone("hosts.test", WORLD)}) as server:
        yield server


@pytest.mark.dnsserver
@pytest.mark.parametrize(
    ("domain", "result", "code"),
    [
        ("bounce.hosts.test", "permerror", "too-many-mx"),
        ("voids.hosts.test", "permerror", "too-many-void-lookups"),
        ("two.hosts.test", "pass", None),
    ],
)
def test_dnspython_resolvers_against_knot(
    hosts_server: DnsServer, domain: str, result: str, code: str | None
) -> None:
    """The network resolvers answer MX and A/AAAA from a real server: 11 MX names and
    three hosts without an address are permerror, two are not."""
    sync = DnspythonResolver([hosts_server.nameserver], timeout=1.0)
    found = analyze_spf(sync, domain, KNOT_PROVIDER, hosts=sync)
    network = AsyncCachingHostResolver(
        AsyncDnspythonResolver([hosts_server.nameserver], timeout=1.0)
    )
    other = asyncio.run(analyze_spf_async(network, domain, KNOT_PROVIDER, hosts=network))
    assert found == other
    assert result == found.result.value
    assert ([code] if code else []) == [
        p.code.value for p in found.problems if p.code.value.startswith("too-many")
    ]
