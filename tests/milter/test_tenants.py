"""The tenant comes from the MTA (a trusted macro), never from the message."""

from __future__ import annotations

from pathlib import Path

from .postfix import Postfix
from .test_sign import message, signatures
from .world import ACME_DOMAIN, GENERIC_DOMAIN, GLOBEX_DOMAIN, dkimpy_verifies


def test_tenant_spoofing_another_tenants_from_gets_no_aligned_signature(sink: Postfix, world: Path):
    """Submitted as acme with globex's From: signed as the provider, never as globex."""
    code, _ = sink.send(message(GLOBEX_DOMAIN, "spoof"), listener="acme")
    assert 250 == code
    [delivered] = sink.wait_delivered(1)
    [sig] = signatures(delivered)
    assert f"d={GENERIC_DOMAIN};".encode() in sig
    assert f"d={GLOBEX_DOMAIN}".encode() not in sig
    assert dkimpy_verifies(delivered, world)


def test_a_header_naming_a_tenant_changes_nothing(sink: Postfix):
    """Headers that look like a login or a tenant are ignored: only the macro counts."""
    forged = message(ACME_DOMAIN, "forged").replace(
        b"\r\n\r\n", b"\r\nX-Auth-User: submit-acme\r\nX-Tenant: acme\r\n\r\n", 1
    )
    sink.send(forged)  # the plain listener: no tenant
    [delivered] = sink.wait_delivered(1)
    [sig] = signatures(delivered)
    assert f"d={GENERIC_DOMAIN};".encode() in sig


def test_each_listener_signs_for_its_own_tenant(sink: Postfix, world: Path):
    """acme's listener signs acme aligned, globex's signs globex aligned."""
    sink.send(message(ACME_DOMAIN, "a"), listener="acme")
    sink.send(message(GLOBEX_DOMAIN, "g"), listener="globex")
    delivered = sink.wait_delivered(2)
    domains = sorted(
        next(part for part in sig.split(b";") if part.strip().startswith(b"d=")).strip()
        for msg in delivered
        for sig in signatures(msg)
    )
    assert [f"d={ACME_DOMAIN}".encode(), f"d={GLOBEX_DOMAIN}".encode()] == domains
    assert all(dkimpy_verifies(msg, world) for msg in delivered)
