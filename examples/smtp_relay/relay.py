"""
A small SMTP relay that DKIM-signs every message through oxdkim and passes it on.

This shows how a mail service embeds oxdkim: the library never sees a socket. The relay
(aiosmtpd) receives a message, asks the :class:`oxdkim.Signer` for signature fields with
the submitting tenant (the SMTP AUTH login) and the envelope sender, prepends them, and
hands the message to the next hop (smtplib). Refusals become SMTP errors, so the client
learns why. Only authenticated clients may send (``530 5.7.0`` before AUTH): the login
decides the tenant, and tenant isolation is the point of signing here. A next hop that
is down or answers with a temporary error gives the client a temporary ``451 4.4.1``
(it retries); a permanent refusal there is passed on as ``554 5.0.0``.

Run it against a brand configuration::

    python examples/smtp_relay/relay.py --config oxdkim.toml --brand brandmail \\
        --listen 127.0.0.1:10025 --upstream 127.0.0.1:25 --users users.txt

``users.txt`` holds ``login:password:tenant`` lines (``:tenant`` may be left out: the
login is then the tenant). For the example only: a real service authenticates against
its own user store, and requires TLS before AUTH.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import smtplib
from collections.abc import Mapping
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from oxdkim import MessageFormatError, Signer, SigningRefusedError, load_config

log = logging.getLogger("oxdkim.relay")


class SigningRelay:
    """aiosmtpd handler: sign with oxdkim, then relay to ``upstream``."""

    signer: Signer
    upstream: tuple[str, int]

    def __init__(self, signer: Signer, upstream: tuple[str, int]) -> None:
        self.signer = signer
        self.upstream = upstream

    async def handle_MAIL(  # noqa: N802
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Refuse MAIL FROM before AUTH: the login decides the tenant (and what is signed)."""
        if _tenant(session) is None:
            return "530 5.7.0 authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        """Sign the message for the authenticated tenant and pass it on."""
        tenant = _tenant(session)
        if tenant is None:  # handle_MAIL refused already; never sign for nobody
            return "530 5.7.0 authentication required"
        message = envelope.original_content or b""
        try:
            signed = self.signer.signed_message(
                message, tenant=tenant, envelope_sender=envelope.mail_from
            )
        except SigningRefusedError as exc:
            return f"550 5.7.1 not signed: {exc.decision.reason}"
        except MessageFormatError as exc:
            return f"554 5.6.0 message not accepted: {exc}"
        try:
            sender = envelope.mail_from or ""
            await asyncio.to_thread(self._relay, sender, envelope.rcpt_tos, signed)
        except smtplib.SMTPResponseException as exc:
            log.warning("next hop %s:%s answered %s", *self.upstream, exc.smtp_code)
            if 500 <= exc.smtp_code < 600:
                return f"554 5.0.0 next hop refused the message ({exc.smtp_code})"
            return "451 4.4.1 next hop unavailable; try again later"
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("next hop %s:%s unreachable: %s", *self.upstream, exc)
            return "451 4.4.1 next hop unavailable; try again later"
        return "250 2.0.0 signed and relayed"

    def _relay(self, sender: str, recipients: list[str], message: bytes) -> None:
        host, port = self.upstream
        with smtplib.SMTP(host, port, timeout=30) as smtp:
            smtp.sendmail(sender, recipients, message)


def _tenant(session: Session) -> str | None:
    """The tenant the session authenticated as (the authenticator's ``auth_data``)."""
    data: object = session.auth_data
    return data if session.authenticated and isinstance(data, str) else None


class Authenticator:
    """
    Accept ``login`` / ``password`` pairs (example only); the session then carries the
    login's tenant (``tenants``, else the login itself).
    """

    users: dict[str, str]
    tenants: dict[str, str]

    def __init__(self, users: Mapping[str, str], tenants: Mapping[str, str] | None = None) -> None:
        self.users = dict(users)
        self.tenants = dict(tenants or {})

    def __call__(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        """aiosmtpd's authenticator hook: check the pair, hand the tenant to the session."""
        if mechanism not in ("LOGIN", "PLAIN") or not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode("utf-8", "replace")
        password = data.password.decode("utf-8", "replace")
        if login not in self.users or self.users[login] != password:
            # handled=False: aiosmtpd answers 535 (handled=True would leave the client
            # waiting for a reply that never comes).
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=self.tenants.get(login, login))


def start_relay(
    signer: Signer,
    *,
    listen: tuple[str, int],
    upstream: tuple[str, int],
    users: Mapping[str, str],
    tenants: Mapping[str, str] | None = None,
) -> Controller:
    """
    Start the relay in a background thread; ``controller.stop()`` ends it.

    ``users`` maps logins to passwords; ``tenants`` maps logins to tenants (default: the
    login is the tenant).
    """
    controller = Controller(
        SigningRelay(signer, upstream),
        hostname=listen[0],
        port=listen[1],
        authenticator=Authenticator(users, tenants),
        auth_require_tls=False,  # an example on loopback; require TLS in real use
        decode_data=False,
    )
    controller.start()
    return controller


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"not HOST:PORT: {text!r}")
    return host, int(port)


def read_users(path: str) -> tuple[dict[str, str], dict[str, str]]:
    """``login:password[:tenant]`` lines (``#`` comments) as (passwords, tenants)."""
    users: dict[str, str] = {}
    tenants: dict[str, str] = {}
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            login, sep, rest = text.partition(":")
            password, _, tenant = rest.partition(":")
            if not login or not sep or not password:
                raise SystemExit(f"{path}:{number}: expected login:password[:tenant]")
            users[login] = password
            tenants[login] = tenant or login
    return users, tenants


def main() -> None:
    """Run the relay until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--brand")
    parser.add_argument("--listen", default="127.0.0.1:10025", type=_address)
    parser.add_argument("--upstream", required=True, type=_address)
    parser.add_argument("--users", required=True, help="file of login:password[:tenant] lines")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    users, tenants = read_users(args.users)
    signer = load_config(args.config).signer(args.brand)
    controller = start_relay(
        signer, listen=args.listen, upstream=args.upstream, users=users, tenants=tenants
    )
    print(f"signing relay on {args.listen[0]}:{args.listen[1]} -> {args.upstream}")
    try:
        asyncio.run(asyncio.Event().wait())
    except KeyboardInterrupt:
        controller.stop()


if __name__ == "__main__":
    main()
