"""Sign mode through a real Postfix: what arrives at the next hop is signed, or says why not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from oxdkim import Verifier

from .postfix import Postfix
from .world import ACME_DOMAIN, GENERIC_DOMAIN, GLOBEX_DOMAIN, dkimpy_verifies, resolver


def message(from_domain: str, subject: str = "hello", body: bytes = b"Hi there.\r\n") -> bytes:
    return (
        f"From: Someone <someone@{from_domain}>\r\nTo: rcpt@example.org\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{subject}@{from_domain}>\r\n"
        "Date: Sun, 06 Dec 2026 05:00:00 +0000\r\n\r\n"
    ).encode() + body


def fields(msg: bytes) -> list[bytes]:
    """The header fields of ``msg``, each unfolded onto one line."""
    result: list[bytes] = []
    for line in msg.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and result:
            result[-1] += line
        else:
            result.append(line)
    return result


def signatures(msg: bytes) -> list[bytes]:
    """The DKIM-Signature fields, unfolded."""
    return [f for f in fields(msg) if f.lower().startswith(b"dkim-signature:")]


def test_tenant_message_arrives_signed_aligned_and_verifies_with_dkimpy(sink: Postfix, world: Path):
    """A tenant's mail leaves Postfix with one aligned signature that dkimpy accepts."""
    code, _ = sink.send(message(ACME_DOMAIN), listener="acme")
    assert 250 == code
    [delivered] = sink.wait_delivered(1)
    [sig] = signatures(delivered)
    assert f"d={ACME_DOMAIN}".encode() in sig
    assert dkimpy_verifies(delivered, world)
    [result] = Verifier(resolver(world)).verify(delivered)
    assert "pass" == result.result.value


def test_signature_is_the_top_field(sink: Postfix):
    """The DKIM-Signature lands on top, above Postfix's own Received (milter index 0)."""
    sink.send(message(ACME_DOMAIN), listener="acme")
    [delivered] = sink.wait_delivered(1)
    names = [field.split(b":", 1)[0].lower() for field in fields(delivered)]
    assert [b"dkim-signature", b"received", b"from"] == names[:3]


def test_oxdkim_verify_command_accepts_the_delivered_message(sink: Postfix, world: Path):
    """`oxdkim verify` with the receivers' zone file passes what Postfix delivered."""
    sink.send(message(GLOBEX_DOMAIN, "cli"), listener="globex")
    [delivered] = sink.wait_delivered(1)
    path = world / "delivered.eml"
    path.write_bytes(delivered)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "oxdkim",
            "verify",
            str(path),
            "--zone",
            str(world / "zones" / "example.zone"),
        ],
        capture_output=True,
        check=False,
    )
    assert 0 == done.returncode, done.stdout + done.stderr
    assert b"pass" in done.stdout


def test_several_messages_in_one_session_are_each_signed(sink: Postfix, world: Path):
    """Three transactions on one SMTP connection: three signed messages (kilter restarts)."""
    import smtplib

    with smtplib.SMTP("127.0.0.1", sink.ports["acme"]) as smtp:
        for n in range(3):
            smtp.sendmail("a@acme.example", ["r@example.org"], message(ACME_DOMAIN, f"m{n}"))
    delivered = sink.wait_delivered(3)
    for msg in delivered:
        assert dkimpy_verifies(msg, world)


def test_without_a_trusted_tenant_only_generic_signing(sink: Postfix, world: Path):
    """No tenant from the MTA: a tenant's From domain gets the provider's signature only."""
    sink.send(message(ACME_DOMAIN, "anon"))
    [delivered] = sink.wait_delivered(1)
    [sig] = signatures(delivered)
    assert f"d={GENERIC_DOMAIN}".encode() in sig
    assert dkimpy_verifies(delivered, world)


def test_the_log_holds_no_body_and_no_key(sink: Postfix, world: Path, signing_milter):
    """The decision lines name the message by queue id only: no body text, no key bytes."""
    secret = "body-secret-7f3a"
    code, reply = sink.send(
        message(ACME_DOMAIN, "private", body=f"{secret}\r\n".encode()), listener="acme"
    )
    assert 250 == code
    line = signing_milter.decision(reply)
    assert "decision=signed" in line
    log = signing_milter.text()
    assert secret not in log
    assert "PRIVATE KEY" not in log
    for pem in (world / "keys").glob("*.pem"):
        body = b"".join(pem.read_bytes().splitlines()[1:-1]).decode()
        assert body[:40] not in log
