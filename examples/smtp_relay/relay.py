"""
A small SMTP relay that DKIM-signs every message through oxdkim and passes it on.

This shows how a mail service embeds oxdkim: the library never sees a socket. The relay
(aiosmtpd) receives a message, asks the :class:`oxdkim.Signer` for signature fields with
the submitting tenant (the SMTP AUTH login) and the envelope sender, prepends them, and
hands the message to the next hop (smtplib). Refusals become SMTP errors, so the client
learns why.

Run it against a brand configuration::

    python examples/smtp_relay/relay.py --config oxdkim.toml --brand brandmail \\
        --listen 127.0.0.1:10025 --upstream 127.0.0.1:25 --users users.txt

``users.txt`` holds ``login:password:tenant`` lines (for the example only: a real
service authenticates against its own user store, and requires TLS before AUTH).
"""

from __future__ import annotations

import argparse
import asyncio
import smtplib
from collections.abc import Mapping
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from oxdkim import MessageFormatError, Signer, SigningRefusedError, load_config


class SigningRelay:
    """aiosmtpd handler: sign with oxdkim, then relay to ``upstream``."""

    def __init__(self, signer: Signer, upstream: tuple[str, int]) -> None:
        self.signer = signer
        self.upstream = upstream

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        """Sign the message for the authenticated tenant and pass it on."""
        message = envelope.original_content or b""
        tenant = session.auth_data.login.decode() if session.authenticated else None
        try:
            signed = self.signer.signed_message(
                message, tenant=tenant, envelope_sender=envelope.mail_from
            )
        except SigningRefusedError as exc:
            return f"550 5.7.1 not signed: {exc.decision.reason}"
        except MessageFormatError as exc:
            return f"554 5.6.0 message not accepted: {exc}"
        await asyncio.to_thread(self._relay, envelope.mail_from, envelope.rcpt_tos, signed)
        return "250 2.0.0 signed and relayed"

    def _relay(self, sender: str, recipients: list[str], message: bytes) -> None:
        host, port = self.upstream
        with smtplib.SMTP(host, port, timeout=30) as smtp:
            smtp.sendmail(sender, recipients, message)


class Authenticator:
    """Accept ``login:password`` pairs; the login names the tenant (example only)."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self.users = dict(users)

    def __call__(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if mechanism not in ("LOGIN", "PLAIN") or not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        ok = self.users.get(login) == password
        return AuthResult(success=ok, auth_data=data if ok else None)


def start_relay(
    signer: Signer,
    *,
    listen: tuple[str, int],
    upstream: tuple[str, int],
    users: Mapping[str, str],
) -> Controller:
    """Start the relay in a background thread; ``controller.stop()`` ends it."""
    controller = Controller(
        SigningRelay(signer, upstream),
        hostname=listen[0],
        port=listen[1],
        authenticator=Authenticator(users),
        auth_require_tls=False,  # an example on loopback; require TLS in real use
        decode_data=False,
    )
    controller.start()
    return controller


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def main() -> None:
    """Run the relay until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--brand")
    parser.add_argument("--listen", default="127.0.0.1:10025", type=_address)
    parser.add_argument("--upstream", required=True, type=_address)
    parser.add_argument("--users", required=True, help="file of login:password lines")
    args = parser.parse_args()
    users = {}
    with open(args.users, encoding="utf-8") as lines:
        for line in lines:
            login, _, password = line.strip().partition(":")
            if login:
                users[login] = password
    signer = load_config(args.config).signer(args.brand)
    controller = start_relay(signer, listen=args.listen, upstream=args.upstream, users=users)
    print(f"signing relay on {args.listen[0]}:{args.listen[1]} -> {args.upstream}")
    try:
        asyncio.run(asyncio.Event().wait())
    except KeyboardInterrupt:
        controller.stop()


if __name__ == "__main__":
    main()
