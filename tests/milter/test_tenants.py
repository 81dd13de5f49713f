"""The tenant comes from the MTA (a trusted macro), never from the message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import instance
from .postfix import Postfix, sasl_available
from .test_sign import message, signatures
from .world import ACME_DOMAIN, DEFAULT_MILTER, GENERIC_DOMAIN, GLOBEX_DOMAIN, dkimpy_verifies


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


@pytest.mark.skipif(
    not sasl_available() and not os.environ.get("OXDKIM_REQUIRE_POSTFIX"),
    reason="saslpasswd2 (Debian sasl2-bin) is not installed",
)
def test_sasl_login_names_the_tenant_and_cannot_spoof_another():
    """Real SASL: ann (acme) signs acme aligned; ann with globex's From gets generic only."""
    milter = DEFAULT_MILTER.replace("{daemon_name}", "{auth_authen}")
    users = {"ann": "ann-secret", "gus": "gus-secret"}
    with instance(milter, sasl_users=users) as (process, postfix, root):
        login = ("ann", "ann-secret")
        assert 250 == postfix.send(message(ACME_DOMAIN, "own"), listener="sasl", login=login)[0]
        code, _ = postfix.send(message(GLOBEX_DOMAIN, "spoof"), listener="sasl", login=login)
        assert 250 == code
        own = postfix.wait_for(b"Subject: own")
        spoof = postfix.wait_for(b"Subject: spoof")
        [own_sig] = signatures(own)
        [spoof_sig] = signatures(spoof)
        assert f"d={ACME_DOMAIN};".encode() in own_sig
        assert f"d={GENERIC_DOMAIN};".encode() in spoof_sig
        assert dkimpy_verifies(own, root)
        assert dkimpy_verifies(spoof, root)
        assert "tenant=acme" in process.text()
