"""
Hostile messages through Postfix and the signing milter (the inputs of tests/hostile, sent
over SMTP byte for byte): each gets a clear SMTP answer or passes unsigned with a logged
reason, and the milter keeps serving the next message.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from .conftest import MilterProcess
from .postfix import Postfix
from .test_sign import message, signatures
from .world import ACME_DOMAIN, dkimpy_verifies

HEAD = f"From: a@{ACME_DOMAIN}\r\nTo: r@example.org\r\nSubject: hostile\r\n".encode()


def still_serving(sink: Postfix, world: Path) -> None:
    """The next ordinary message is signed: the milter survived."""
    subject = f"next-{uuid.uuid4().hex}"
    assert 250 == sink.send(message(ACME_DOMAIN, subject), listener="acme")[0]
    assert dkimpy_verifies(sink.wait_for(subject.encode()), world)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(HEAD + b"\r\nbody\0with a NUL\r\n", "nul", id="nul-in-body"),
        pytest.param(HEAD + b"\r\nx\ry\r\n", "bare-cr", id="bare-cr-in-body"),
        pytest.param(HEAD + b"\r\nend\r", "bare-cr", id="body-ends-in-cr"),
        pytest.param(
            b"From: a@acme.example\r\nSubject: a\rb\r\n\r\nbody\r\n", "bare-cr", id="bare-cr-header"
        ),
        pytest.param(
            b"From: a@acme.example, b@globex.example\r\n\r\nbody\r\n", "from", id="two-froms"
        ),
        pytest.param(b"From: <a@acme.example\r\n\r\nbody\r\n", "from", id="broken-from"),
        pytest.param(b"Subject: no from\r\n\r\nbody\r\n", "from", id="no-from"),
        pytest.param(
            b"From: a@acme.example\r\nFrom: b@acme.example\r\n\r\nbody\r\n", "from", id="from-twice"
        ),
    ],
)
def test_malformed_message_passes_unsigned_with_a_logged_reason(
    raw: bytes, reason: str, sink: Postfix, world: Path, signing_milter: MilterProcess
):
    """Postfix accepts it; the milter does not sign it and logs why; the next one is signed."""
    marker = f"X-Case: {uuid.uuid4().hex}\r\n".encode()
    code, text = sink.send_raw(marker + raw, listener="acme")
    if code == 250:
        delivered = sink.wait_for(marker.strip())
        line = signing_milter.decision(text)
        if signatures(delivered):
            # Postfix repaired it before the milter saw it (e.g. CR -> CRLF): then the
            # signature must hold for what arrived.
            assert "decision=signed" in line
            assert dkimpy_verifies(delivered, world)
        else:
            assert "decision=unsigned" in line
            assert reason in line.lower()
    else:
        assert code in (451, 550, 552, 554), (code, text)
    still_serving(sink, world)


@pytest.mark.slow  # about 15 s: 100k milter header events, each a protocol packet
def test_hundred_thousand_header_fields(sink: Postfix, world: Path, signing_milter: MilterProcess):
    """100k fields: unsigned pass with the limit logged, or an SMTP refusal; never a hang."""
    raw = HEAD + b"".join(b"X-H%d: v\r\n" % n for n in range(100_000)) + b"\r\nbody\r\n"
    code, text = sink.send_raw(raw, listener="acme")
    if code == 250:
        assert [] == signatures(sink.wait_for(b"X-H99999: v", timeout=60))
        line = signing_milter.decision(text)
        assert "decision=unsigned" in line
        assert "MessageLimitError" in line
    still_serving(sink, world)


def test_fifty_megabyte_body_refused_552(sink: Postfix, world: Path, signing_milter: MilterProcess):
    """Over max_message_bytes (20 MB here): 552 5.3.4, never signed by streaming or passed."""
    raw = HEAD + b"\r\n" + (b"x" * 998 + b"\r\n") * (50 * 1024 * 1024 // 1000)
    code, text = sink.send_raw(raw, listener="acme")
    assert 552 == code
    assert text.startswith(b"5.3.4")
    assert "reason=message-too-large" in signing_milter.text()
    still_serving(sink, world)


def test_eight_bit_header_name(sink: Postfix, world: Path, signing_milter: MilterProcess):
    """A field name with 8-bit bytes: a clear answer or an unsigned pass, and the milter lives."""
    raw = "From: a@acme.example\r\nSübject: 8bit-name\r\n\r\nbody\r\n".encode()
    code, reply = sink.send_raw(raw, listener="acme")
    assert code in (250, 451, 550, 554)
    if code == 250:
        delivered = sink.wait_for(b"8bit-name")
        line = signing_milter.decision(reply)
        if "decision=signed" in line:
            # Postfix ends the header at the 8-bit line (it is body text from there on):
            # what was signed is what arrives.
            assert dkimpy_verifies(delivered, world)
        else:
            assert "decision=unsigned" in line
    still_serving(sink, world)


@pytest.mark.parametrize(
    "raw",
    [
        HEAD + b"\r\nbody\0with a NUL\r\n",
        HEAD + b"\r\nx\ry\r\n",
        b"From: a@acme.example\r\nSubject: a\rb\r\n\r\nbody\r\n",
        b"From: a@acme.example, b@globex.example\r\n\r\nbody\r\n",
        b"From: <a@acme.example\r\n\r\nbody\r\n",
        b"Subject: no from\r\n\r\nbody\r\n",
        b"DKIM-Signature: v=1; a=rsa-sha256; d=acme.example; s=x; b=!!;\r\n" + HEAD + b"\r\nb\r\n",
        b"DKIM-Signature: " + b"x" * 20000 + b"\r\n" + HEAD + b"\r\nb\r\n",
    ],
    ids=["nul", "bare-cr-body", "bare-cr-header", "two-froms", "broken-from", "no-from",
         "broken-signature", "huge-signature"],
)  # fmt: skip
def test_verify_mode_answers_hostile_inbound_mail_with_results(raw: bytes, mx: Postfix):
    """Inbound hostile mail is accepted with one Authentication-Results field, never 451."""
    marker = f"X-Case: {uuid.uuid4().hex}\r\n".encode()
    code, text = mx.send_raw(marker + raw)
    assert 250 == code, text
    delivered = mx.wait_for(marker.strip())
    head = delivered.split(b"\r\n\r\n", 1)[0]
    assert 1 == head.count(b"Authentication-Results: mx.receiver.example;")
