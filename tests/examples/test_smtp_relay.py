"""The embedding example: send through the signing relay, verify what arrives."""

from __future__ import annotations

import importlib.util
import re
import smtplib
import socket
import subprocess
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


def test_a_client_that_did_not_authenticate_is_refused_before_anything_is_signed(
    sink: tuple[Sink, int],
) -> None:
    """MAIL FROM without AUTH: 530 5.7.0; nothing reaches the next hop (it used to be
    signed with the generic key)."""
    handler, sink_port = sink
    controller, port = relay_for(TestBrand.build().signer(), sink_port)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.ehlo()
            code, reply = smtp.mail("ann@acme.example")
    finally:
        controller.stop()
    assert (530, b"5.7.0 authentication required") == (code, reply)
    assert [] == handler.messages


def test_a_wrong_password_is_refused(sink: tuple[Sink, int]) -> None:
    """AUTH with a wrong password fails at once with 535 (it used to hang the client)."""
    _, sink_port = sink
    controller, port = relay_for(TestBrand.build().signer(), sink_port)
    try:
        with (
            smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp,
            pytest.raises(smtplib.SMTPAuthenticationError),
        ):
            smtp.login("acme", "not-the-password")
    finally:
        controller.stop()


def test_a_next_hop_that_is_down_is_a_temporary_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing listens upstream: 451 4.4.1 (the client retries), one log line, no traceback."""
    controller, port = relay_for(TestBrand.build().signer(), free_port())
    try:
        with pytest.raises(smtplib.SMTPDataError) as failed:
            send(port, "acme", make_message("Ann <ann@acme.example>"), "ann@acme.example")
    finally:
        controller.stop()
    assert 451 == failed.value.smtp_code
    assert b"4.4.1" in failed.value.smtp_error
    assert all(record.exc_info is None for record in caplog.records)
    assert any("unreachable" in record.getMessage() for record in caplog.records)


class Refuser(Sink):
    """A next hop that refuses every message permanently."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "554 5.7.1 no thanks"


def test_a_permanent_refusal_upstream_is_passed_on_as_permanent() -> None:
    """The next hop's 5xx becomes 554 5.0.0 for the client (not a retry loop)."""
    upstream = free_port()
    sink = Controller(Refuser(), hostname="127.0.0.1", port=upstream, decode_data=False)
    sink.start()
    controller, port = relay_for(TestBrand.build().signer(), upstream)
    try:
        with pytest.raises(smtplib.SMTPDataError) as failed:
            send(port, "acme", make_message("Ann <ann@acme.example>"), "ann@acme.example")
    finally:
        controller.stop()
        sink.stop()
    assert 554 == failed.value.smtp_code


def test_the_users_file_format_of_the_docstring_is_what_main_reads(tmp_path: Path) -> None:
    """login:password:tenant lines (tenant optional, # comments); a bad line is named."""
    relay = load_relay()
    users = tmp_path / "users.txt"
    users.write_text("# demo users\nann:pw1:acme\nglobex:pw2\n\n")
    assert ({"ann": "pw1", "globex": "pw2"}, {"ann": "acme", "globex": "globex"}) == (
        relay.read_users(str(users))
    )
    assert "login:password:tenant" in relay.__doc__
    users.write_text("ann\n")
    with pytest.raises(SystemExit, match=r"users.txt:1: expected login:password\[:tenant\]"):
        relay.read_users(str(users))


def test_a_login_signs_for_its_configured_tenant(sink: tuple[Sink, int]) -> None:
    """With tenants={login: tenant}, login 'ann' signs aligned for tenant acme's domain."""
    handler, sink_port = sink
    brand = TestBrand.build()
    port = free_port()
    controller = load_relay().start_relay(
        brand.signer(), listen=("127.0.0.1", port), upstream=("127.0.0.1", sink_port),
        users={"ann": "pw"}, tenants={"ann": "acme"},
    )  # fmt: skip
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.login("ann", "pw")
            smtp.sendmail("ann@acme.example", ["b@r.example"], make_message("A <ann@acme.example>"))
    finally:
        controller.stop()
    [result] = brand.verifier().verify(handler.messages[0])
    assert (DkimResult.PASS, "acme.example") == (result.result, result.domain)


def test_the_readme_run_command_names_real_options() -> None:
    """The README's command runs the script with options it has (checked with --help)."""
    readme = (EXAMPLE.parent / "README.md").read_text(encoding="utf-8")
    [command] = re.findall(r"^```sh\n(.*?)^```$", readme, re.S | re.M)
    assert "examples/smtp_relay/relay.py" in command
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--help"], capture_output=True, text=True, check=False
    )
    assert 0 == done.returncode
    for option in re.findall(r"--[a-z-]+", command):
        assert option in done.stdout, option
