"""The embedding example: send through the signing relay, verify what arrives."""

from __future__ import annotations

import importlib.util
import smtplib
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller

from oxdkim import DkimResult, Signer
from oxdkim.testing import TestBrand, make_message

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "smtp_relay" / "relay.py"
USERS = {"acme": "acme-secret", "globex": "globex-secret"}


def load_relay() -> Any:
    spec = importlib.util.spec_from_file_location("smtp_relay_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sink:
    """The next hop: keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.original_content)
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    yield handler, port
    controller.stop()


def relay_for(signer: Signer, upstream: int) -> tuple[Any, int]:
    port = free_port()
    controller = load_relay().start_relay(
        signer, listen=("127.0.0.1", port), upstream=("127.0.0.1", upstream), users=USERS
    )
    return controller, port


def send(port: int, login: str, message: bytes, sender: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.login(login, USERS[login])
        smtp.sendmail(sender, ["bob@receiver.example"], message)


def test_mail_through_the_relay_arrives_signed_and_verifies(sink: tuple[Sink, int]) -> None:
    """A tenant's own domain is signed aligned; another tenant's falls back to generic."""
    handler, sink_port = sink
    brand = TestBrand.build()
    controller, port = relay_for(brand.signer(), sink_port)
    try:
        send(
            port, "acme", make_message("Ann <ann@acme.example>", subject="one"), "ann@acme.example"
        )
        send(port, "globex", make_message("Eve <eve@acme.example>", subject="two"), "eve@x.example")
    finally:
        controller.stop()
    assert 2 == len(handler.messages)
    verifier = brand.verifier()
    first, second = (verifier.verify(m)[0] for m in handler.messages)
    assert (DkimResult.PASS, "acme.example") == (first.result, first.domain)
    assert (DkimResult.PASS, "dkim.brandmail.example") == (second.result, second.domain)
    assert handler.messages[0].endswith(make_message("Ann <ann@acme.example>", subject="one"))


def test_refusals_become_smtp_errors(sink: tuple[Sink, int]) -> None:
    """A policy refusal is a 550 with the reason; an unparsable message a 554."""
    handler, sink_port = sink
    brand = TestBrand.build()
    strict = Signer(brand.aligned_policy(fallback=False), clock=brand.clock)
    controller, port = relay_for(strict, sink_port)
    try:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            send(port, "globex", make_message("Eve <eve@acme.example>"), "eve@x.example")
        with pytest.raises(smtplib.SMTPDataError) as garbled:
            send(port, "acme", b"no header here\r\n\r\nbody\r\n", "ann@acme.example")
    finally:
        controller.stop()
    assert 550 == refused.value.smtp_code
    assert b"belongs to another tenant" in refused.value.smtp_error
    assert 554 == garbled.value.smtp_code
    assert [] == handler.messages
