"""
The milter tests' world: one brand signing aligned for two tenants (ring at the key host,
generic fallback), its zone files, and a configuration file with a ``[milter]`` table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dkim

from dnsserver import make_zone
from oxdkim import FileKeyStore, KeyRing, SigningKey, brand_records, render_zone
from oxdkim.resolvers import ZoneFileResolver

GENERIC_DOMAIN = "dkim.brandmail.example"
KEY_HOST = "keys.brandmail.example"
ACME, GLOBEX = "acme", "globex"
ACME_DOMAIN, GLOBEX_DOMAIN = "acme.example", "globex.example"
AUTHSERV_ID = "mx.receiver.example"

RING_KEY_1 = SigningKey.from_ed25519_seed(bytes([61]) * 32)
RING_KEY_2 = SigningKey.from_ed25519_seed(bytes([62]) * 32)
GENERIC_KEY = SigningKey.generate("rsa-sha256", bits=2048)


def ring() -> KeyRing:
    """mail1 signs; published for a month already."""
    since = datetime.now(UTC) - timedelta(days=30)
    return KeyRing.from_keys(
        {"mail1": RING_KEY_1, "mail2": RING_KEY_2}, active="mail1", since=since, key_host=KEY_HOST
    )


def zones() -> dict[str, str]:
    """Origin -> master file: the provider's keys, the tenants' delegations and DMARC."""
    records = brand_records(
        ring=ring().snapshot(),
        generic=(GENERIC_DOMAIN, "gen1", GENERIC_KEY),
        legacy_domains=[ACME_DOMAIN, GLOBEX_DOMAIN],
    )
    text = render_zone(records)
    result = {"example": make_zone("example", text)}
    result["example"] += (
        f'_dmarc.{ACME_DOMAIN}. 300 IN TXT "v=DMARC1; p=reject"\n'
        f'_dmarc.{GLOBEX_DOMAIN}. 300 IN TXT "v=DMARC1; p=quarantine"\n'
        # SPF for verify mode: the bounce domain of acme allows this machine, globex none.
        f'bounces.{ACME_DOMAIN}. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"\n'
        f'bounces.{GLOBEX_DOMAIN}. 300 IN TXT "v=spf1 -all"\n'
    )
    return result


def config_text(milter: str, fallback: str = "generic") -> str:
    """The configuration file: the brand, the zone-file resolver, and ``milter``."""
    return f"""\
[resolver]
zone_files = ["zones/example.zone"]

[brands.brandmail]
mode = "legacy"
generic_domain = "{GENERIC_DOMAIN}"
generic_selector = "gen1"
generic_key = "keys/generic.pem"
key_host = "{KEY_HOST}"
ring = "ring"
fallback = "{fallback}"

[brands.brandmail.tenants]
{ACME} = ["{ACME_DOMAIN}"]
{GLOBEX} = ["{GLOBEX_DOMAIN}"]

[milter]
{milter}
"""


DEFAULT_MILTER = f"""\
brand = "brandmail"
authserv_id = "{AUTHSERV_ID}"
tenant_macro = "{{daemon_name}}"
max_message_bytes = 20000000
timeout = 20
[milter.logins]
"submit-acme" = "{ACME}"
"submit-globex" = "{GLOBEX}"
"ann@ci.example.test" = "{ACME}"
"gus@ci.example.test" = "{GLOBEX}"
"""


def write_world(root: Path, milter: str = DEFAULT_MILTER, fallback: str = "generic") -> Path:
    """Keys, ring, zones and the configuration file under ``root``; the file's path."""
    FileKeyStore.create(root / "ring", ring().snapshot())
    (root / "keys").mkdir()
    (root / "keys" / "generic.pem").write_bytes(GENERIC_KEY.private_pem())
    (root / "zones").mkdir()
    for origin, text in zones().items():
        (root / "zones" / f"{origin}.zone").write_text(text)
    config = root / "oxdkim.toml"
    config.write_text(config_text(milter, fallback))
    return config


def resolver(root: Path) -> ZoneFileResolver:
    """The receivers' view of DNS."""
    return ZoneFileResolver(root / "zones" / "example.zone", split_long_strings=True)


def dkimpy_verifies(message: bytes, root: Path, index: int = 0) -> bool:
    """dkimpy's verdict on the ``index``-th signature, DNS from the same zone file."""
    zone = resolver(root)

    def dnsfunc(name: bytes | str, timeout: int = 5) -> bytes:
        text = name.decode() if isinstance(name, bytes) else name
        records = zone.txt(text.rstrip(".")).records
        return records[0] if records else b""

    return bool(dkim.DKIM(message).verify(idx=index, dnsfunc=dnsfunc))
