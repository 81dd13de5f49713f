"""Verify mode through a real Postfix: one Authentication-Results field per message (RFC 8601)."""

from __future__ import annotations

from pathlib import Path

import oxdkim

from .postfix import Postfix
from .test_sign import fields, message
from .world import ACME, ACME_DOMAIN, AUTHSERV_ID, GLOBEX_DOMAIN


def signed(config: Path, msg: bytes, tenant: str | None = ACME) -> bytes:
    """``msg`` with the brand's signatures prepended, as the sending side would."""
    signer = oxdkim.load_config(config).signer("brandmail")
    return b"".join(r.header for r in signer.sign(msg, tenant=tenant)) + msg


def results(msg: bytes) -> list[bytes]:
    """The Authentication-Results fields, unfolded."""
    return [f for f in fields(msg) if f.lower().startswith(b"authentication-results:")]


def test_signed_message_gets_dkim_and_dmarc_pass(mx: Postfix, config: Path):
    """An aligned, intact signature: dkim=pass and dmarc=pass in one field."""
    assert 250 == mx.send(signed(config, message(ACME_DOMAIN, "ok")))[0]
    [delivered] = mx.wait_delivered(1)
    [field] = results(delivered)
    assert field.startswith(f"Authentication-Results: {AUTHSERV_ID};".encode())
    assert f"dkim=pass header.d={ACME_DOMAIN}".encode() in field
    assert f"dmarc=pass header.from={ACME_DOMAIN}".encode() in field


def test_tampered_message_gets_dkim_fail_and_dmarc_fail(mx: Postfix, config: Path):
    """A body changed after signing: dkim=fail, and DMARC fails with the domain's policy."""
    tampered = signed(config, message(ACME_DOMAIN, "t")).replace(b"Hi there.", b"Hi thera.")
    mx.send(tampered)
    [delivered] = mx.wait_delivered(1)
    [field] = results(delivered)
    assert b"dkim=fail" in field
    assert f"dmarc=fail header.from={ACME_DOMAIN} policy.dmarc=reject".encode() in field


def test_unsigned_message_gets_dkim_none(mx: Postfix):
    """No signature: dkim=none, and DMARC fails (the domain publishes p=quarantine)."""
    mx.send(message(GLOBEX_DOMAIN, "u"))
    [delivered] = mx.wait_delivered(1)
    [field] = results(delivered)
    assert b"dkim=none" in field
    assert f"dmarc=fail header.from={GLOBEX_DOMAIN}".encode() in field


def test_forged_results_claiming_our_authserv_id_are_removed(mx: Postfix, config: Path):
    """RFC 8601 §5: fields with our authserv-id are removed; other receivers' fields stay."""
    forged = (
        f"Authentication-Results: {AUTHSERV_ID}; dkim=pass header.d=bank.example\r\n"
        f"Authentication-Results: (comment) {AUTHSERV_ID.upper()};\r\n\tdmarc=pass\r\n"
        "Authentication-Results: relay.other.example; dkim=none\r\n"
    ).encode()
    mx.send(forged + message(GLOBEX_DOMAIN, "f"))
    [delivered] = mx.wait_delivered(1)
    found = results(delivered)
    assert 2 == len(found)
    assert b"dkim=none" in found[0]
    assert AUTHSERV_ID.encode() in found[0]
    assert found[1] == b"Authentication-Results: relay.other.example; dkim=none"


def test_message_over_the_size_limit_gets_dkim_policy_and_forged_fields_removed(mx: Postfix):
    """Over max_message_bytes (20 MB here): dkim=policy, not verified; forgeries still go."""
    forged = f"Authentication-Results: {AUTHSERV_ID}; dkim=pass\r\n".encode()
    big = forged + message(ACME_DOMAIN, "big", body=(b"b" * 998 + b"\r\n") * 21_000)
    assert 250 == mx.send_raw(big)[0]
    [field] = results(mx.wait_for(b"Subject: big", timeout=60))
    assert f"Authentication-Results: {AUTHSERV_ID};".encode() in field
    assert b"dkim=policy" in field


def test_spf_aligned_mail_passes_dmarc_without_dkim(mx: Postfix):
    """Unsigned mail whose envelope sender's domain passes SPF and aligns (relaxed) with
    From: spf=pass and dmarc=pass. Without SPF in the evaluation it would read dmarc=fail."""
    code, _ = mx.send(message(ACME_DOMAIN, "spf"), sender=f"b@bounces.{ACME_DOMAIN}")
    assert 250 == code
    [delivered] = mx.wait_delivered(1)
    [field] = results(delivered)
    assert f"spf=pass smtp.mailfrom=bounces.{ACME_DOMAIN}".encode() in field
    assert f"dmarc=pass header.from={ACME_DOMAIN}".encode() in field


def test_spf_fail_and_no_signature_fail_dmarc(mx: Postfix):
    """The envelope domain's SPF refuses this client and nothing is signed: dmarc=fail."""
    mx.send(message(GLOBEX_DOMAIN, "spf-fail"), sender=f"b@bounces.{GLOBEX_DOMAIN}")
    [delivered] = mx.wait_delivered(1)
    [field] = results(delivered)
    assert f"spf=fail smtp.mailfrom=bounces.{GLOBEX_DOMAIN}".encode() in field
    assert f"dmarc=fail header.from={GLOBEX_DOMAIN}".encode() in field
