"""
The milter: kilter.service speaks the protocol; this module decides each message.

One :class:`State` (signer, verifier, settings) is built from the configuration file and
swapped whole on ``SIGHUP``; a message keeps the state it started with. Signing and
verification run in worker threads, at most ``max_concurrency`` at once, each under
``timeout``. Whatever goes wrong inside the milter ends in a temporary failure (the MTA
answers ``451 4.7.1``), never in mail passed on unsigned without a logged reason.
"""

from __future__ import annotations

import functools
import logging
import re
import signal
from collections.abc import Awaitable, Callable, Sequence
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import TypeVar

import anyio
import anyio.abc
import attrs
from kilter.protocol import Accept, Reject, ReplyCode
from kilter.protocol.messages import ActionFlags, Header, InsertHeader, ProtocolFlags
from kilter.service import Runner, Session
from kilter.service.options import modify_flags
from kilter.service.session import Filter

import oxdkim
from oxdkim.dmarc import DmarcAlignment
from oxdkim.exceptions import (
    ConfigurationError,
    MessageFormatError,
    OxDkimError,
    SigningRefusedError,
    StoreUnavailableError,
)
from oxdkim.resolvers import CachingHostResolver, DnspythonResolver, ZoneFileResolver
from oxdkim.typing import HostResolver, Observer

from . import spf
from .config import MilterConfig, load_milter_config

logger = logging.getLogger("oxdkim.milter")

MODES = ("sign", "verify")
T = TypeVar("T")
FilterResponse = Accept | Reject | ReplyCode

_REJECT = ReplyCode(b"550 5.7.1 Message refused by the DKIM signing policy")
_TOO_BIG = ReplyCode(b"552 5.3.4 Message too big for DKIM signing")
# Postfix's own answer when the milter is unreachable, with the reason: try again later.
_TEMPFAIL = ReplyCode(b"451 4.7.1 DKIM milter temporarily unavailable, try again later")
_AR_NAME = "authentication-results"
# Every event up to the end of the message, so kilter's session state follows each
# transaction (several per connection). No reply per header; a reply to DATA, the end of
# the headers and each body chunk: without one, Postfix's next small write waited for our
# delayed ACK (Nagle), 40 ms per message (20 messages/s on one session instead of 170).
_EVENTS = (
    ProtocolFlags.NO_HELO
    | ProtocolFlags.NO_SENDER
    | ProtocolFlags.NO_RECIPIENT
    | ProtocolFlags.NO_DATA
    | ProtocolFlags.NO_HEADERS
    | ProtocolFlags.NO_END_OF_HEADERS
    | ProtocolFlags.NO_BODY
    | ProtocolFlags.NR_BODY
    | ProtocolFlags.NR_END_OF_HEADERS
    | ProtocolFlags.NR_DATA
)


class _FromDomain:
    """A policy that only records the From domain the core's strict parser found."""

    name = "from-domain"

    def __init__(self) -> None:
        self.domain: str | None = None

    def decide(self, request: oxdkim.SigningRequest) -> oxdkim.SigningDecision:
        self.domain = request.from_domain
        return oxdkim.SigningDecision.refuse(self.name, "recording only")


@attrs.frozen
class State:
    """Everything a message is decided with; rebuilt whole on reload."""

    settings: MilterConfig
    signer: oxdkim.Signer | None
    tenants: frozenset[str]
    resolver: HostResolver | None


def make_resolver(config: oxdkim.Config) -> HostResolver:
    """The resolver of the file's ``[resolver]`` table, behind a cache (MX and addresses
    too: SPF asks them)."""
    settings = config.resolver
    inner: HostResolver
    if settings.zone_files:
        inner = ZoneFileResolver(*settings.zone_files, split_long_strings=True)
    else:
        inner = DnspythonResolver(settings.nameservers, timeout=settings.timeout)
    return CachingHostResolver(inner)


def build_state(path: Path, mode: str, observer: Observer | None = None) -> State:
    """
    Read the file and build what ``mode`` needs (keys are loaded here: a bad key fails the
    start or the reload, not a message).
    """
    settings = load_milter_config(path)
    config = oxdkim.load_config(path)
    if mode == "sign":
        brand = config.brand(settings.brand)
        signer = config.signer(settings.brand, observer=observer)
        return State(settings, signer, frozenset(brand.tenants), None)
    if settings.authserv_id is None:
        raise ConfigurationError(f"{path}: milter.authserv_id is required in verify mode")
    return State(settings, None, frozenset(), make_resolver(config))


def wire_field(header: Header) -> bytes:
    """One header field as it is on the wire (Postfix sends folds as bare LF)."""
    value = bytes(header.value).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return header.name.encode("ascii") + b":" + value + b"\r\n"


def milter_value(field: bytes) -> bytes:
    """A whole ``Name: value\\r\\n`` field as the milter value: after the colon, LF folds."""
    value = field.split(b":", 1)[1]
    return value.removesuffix(b"\r\n").replace(b"\r\n", b"\n")


def authserv_id_of(value: bytes) -> str:
    """The authserv-id an Authentication-Results value claims (before ``;``, no comments)."""
    text = value.decode("latin-1")
    text = re.sub(r"\([^()]*\)", " ", text)  # one level of comments is what is seen in use
    return text.split(";", 1)[0].strip().split(" ", 1)[0].strip().lower()


class Milter:
    """
    The filter for one mode, and the counters of what it decided.

    ``state`` is replaced by :meth:`reload`; ``in_flight`` counts messages from their first
    header field to the answer, so a graceful stop can wait for them.
    """

    def __init__(
        self,
        path: Path,
        mode: str,
        observer: Observer | None = None,
        on_decision: Callable[[str, str], None] | None = None,
    ) -> None:
        if mode not in MODES:
            raise ConfigurationError(f"unknown mode {mode!r}; use sign or verify")
        self.path = path
        self.mode = mode
        self.observer = observer
        self.on_decision = on_decision
        self.state = build_state(path, mode, observer)
        self.limiter = anyio.CapacityLimiter(self.state.settings.max_concurrency)
        self.in_flight = 0
        self.counts: dict[str, int] = {}

    def reload(self) -> bool:
        """Rebuild the state from the file; on any problem keep the old one (logged)."""
        try:
            state = build_state(self.path, self.mode, self.observer)
        except OxDkimError as exc:
            logger.error("reload failed, keeping the running configuration: %s", exc)
            return False
        self.state = state
        self.limiter.total_tokens = state.settings.max_concurrency
        logger.info("reloaded %s", self.path)
        return True

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1
        if self.on_decision is not None:
            self.on_decision(self.mode, what)

    async def _run(self, state: State, func: Callable[[], T]) -> T:
        with anyio.fail_after(state.settings.timeout):
            return await anyio.to_thread.run_sync(
                func, limiter=self.limiter, abandon_on_cancel=True
            )

    async def __call__(self, session: Session) -> FilterResponse:
        """
        One message: read it, then sign or verify it at the end of data.

        A message counts as in flight from its first header field on, so a graceful stop
        waits for messages still being transferred too.
        """
        headers: list[Header] = []
        started = False
        try:
            async with session.headers as fields:
                async for field in fields:
                    if not started:
                        started = True
                        self.in_flight += 1
                        logger.debug("message started")
                    headers.append(field)
            if not started:
                started = True
                self.in_flight += 1
            state = self.state  # the state of the moment the message came: kept to its end
            size = sum(len(field.name) + len(field.value) + 3 for field in headers) + 2
            chunks: list[bytes] = []
            async with session.body as body:
                async for chunk in body:
                    size += len(chunk)
                    if size <= state.settings.max_message_bytes:
                        chunks.append(bytes(chunk))
            return await self._decide(session, state, headers, chunks, size)
        finally:
            if started:
                self.in_flight -= 1

    async def _decide(
        self,
        session: Session,
        state: State,
        headers: list[Header],
        chunks: list[bytes],
        size: int,
    ) -> FilterResponse:
        try:
            if size > state.settings.max_message_bytes:
                return await self._oversize(session, state, size, headers)
            message = b"".join(wire_field(h) for h in headers) + b"\r\n" + b"".join(chunks)
            if self.mode == "sign":
                return await self._sign(session, state, message)
            return await self._verify(session, state, message, headers)
        except TimeoutError:
            self._log(session, "tempfail", reason="timeout")
            return _TEMPFAIL
        except StoreUnavailableError:
            # The key store cannot be reached and this message needs data not yet
            # loaded: the MTA keeps it and retries (451 4.7.1), as for any failure.
            self._log(session, "tempfail", reason="store unavailable")
            return _TEMPFAIL
        except Exception as exc:
            # An internal error: the MTA keeps the message and retries (451 4.7.1).
            self._log(session, "tempfail", reason=f"internal error {type(exc).__name__}")
            logger.debug("internal error", exc_info=True)
            return _TEMPFAIL

    def _log(self, session: Session, decision: str, **fields: object) -> None:
        self.count(decision)
        parts = [f"mode={self.mode}", f"decision={decision}"]
        queue_id = session.macros.get("i")
        if queue_id:
            parts.insert(0, f"queue_id={queue_id}")
        parts += [f"{key}={_quoted(value)}" for key, value in fields.items() if value is not None]
        level = logging.WARNING if decision in ("tempfail", "rejected") else logging.INFO
        logger.log(level, " ".join(parts))

    async def _oversize(
        self, session: Session, state: State, size: int, headers: Sequence[Header]
    ) -> FilterResponse:
        if self.mode == "sign":
            self._log(session, "rejected", reason="message-too-large", size=size)
            return _TOO_BIG
        assert state.settings.authserv_id is not None
        field = (
            f" {state.settings.authserv_id};\n\tdkim=policy (message over the verifier's size"
            " limit)"
        ).encode("ascii")
        removed = await _remove_forged(session, headers, state.settings.authserv_id)
        await _prepend(session, "Authentication-Results", field)
        self._log(
            session, "verified", reason="message-too-large", size=size, removed=removed or None
        )
        return Accept()

    def tenant(self, session: Session, state: State) -> str | None:
        """The tenant, from the trusted macro only; ``None`` when unknown."""
        login = session.macros.get(state.settings.tenant_macro)
        if not login:
            return None
        tenant = state.settings.logins.get(login)
        if tenant is None and state.settings.identity_logins and login in state.tenants:
            tenant = login
        return tenant

    async def _sign(self, session: Session, state: State, message: bytes) -> FilterResponse:
        signer = state.signer
        assert signer is not None
        tenant = self.tenant(session, state)
        sender = session.macros.get("{mail_addr}") or None
        try:
            results = await self._run(
                state,
                functools.partial(signer.sign, message, tenant=tenant, envelope_sender=sender),
            )
        except (SigningRefusedError, MessageFormatError) as exc:
            reason = _reason(exc)
            if state.settings.on_refusal == "reject":
                self._log(session, "rejected", tenant=tenant, reason=reason)
                return _REJECT
            self._log(session, "unsigned", tenant=tenant, reason=reason)
            return Accept()
        # The signature is the last change: whatever is inserted now is not signed.
        for result in reversed(results):
            value = milter_value(result.header)
            await _prepend(session, "DKIM-Signature", value)
        self._log(
            session,
            "signed",
            tenant=tenant,
            signatures=",".join(f"{r.domain}/{r.selector}" for r in results),
            policy=results[0].policy if results else None,
        )
        return Accept()

    async def _verify(
        self, session: Session, state: State, message: bytes, headers: Sequence[Header]
    ) -> FilterResponse:
        authserv_id = state.settings.authserv_id
        resolver = state.resolver
        assert authserv_id is not None
        assert resolver is not None
        address = session.address
        client = str(address) if isinstance(address, IPv4Address | IPv6Address) else None
        mail_from = session.macros.get("{mail_addr}") or None
        field = await self._run(
            state, functools.partial(_evaluate, resolver, authserv_id, message, client, mail_from)
        )
        removed = await _remove_forged(session, headers, authserv_id)
        await _prepend(session, "Authentication-Results", milter_value(field))
        self._log(
            session,
            "verified",
            removed=removed or None,
            results=" ".join(
                part.strip().split(" ", 1)[0] for part in field.decode("ascii").split(";")[1:]
            ),
        )
        return Accept()


async def _remove_forged(session: Session, headers: Sequence[Header], authserv_id: str) -> int:
    """RFC 8601 §5: fields claiming our authserv-id did not come from us; delete them."""
    forged = [
        h
        for h in headers
        if h.name.lower() == _AR_NAME and authserv_id_of(bytes(h.value)) == authserv_id.lower()
    ]
    for header in forged:
        await session.headers.delete(header)
    return len(forged)


async def _prepend(session: Session, name: str, value: bytes) -> None:
    """
    Insert a field at index 0: on top, above Postfix's own ``Received:`` (as observed with
    Postfix 3.7). kilter's ``insert(START)`` sends index 1, below the first field.
    """
    await session.sender.send(InsertHeader(0, name, value))


def _evaluate(
    resolver: HostResolver,
    authserv_id: str,
    message: bytes,
    client: str | None,
    mail_from: str | None,
) -> bytes:
    """DKIM, SPF and DMARC results of one message as one Authentication-Results field."""
    results = oxdkim.Verifier(resolver).verify(message)
    spf_check = spf.check(resolver, client, mail_from)
    author = _FromDomain()
    from_domain: str | None
    try:
        oxdkim.Signer(author).decide(message)
        from_domain = author.domain
    except MessageFormatError:
        from_domain = None  # no single From domain: DMARC permerror
    dmarc = DmarcAlignment(resolver).evaluate(from_domain, dkim=results, spf=spf_check)
    field = oxdkim.render_authentication_results(authserv_id, results, linesep=b"\r\n")
    parts = [field.removesuffix(b"\r\n")]
    if spf_check is not None:
        parts.append(f"spf={spf_check.result.value} smtp.mailfrom={spf_check.domain}".encode())
    parts.append(dmarc.authentication_results().encode("ascii"))
    return b";\r\n\t".join(parts) + b"\r\n"


def _reason(exc: OxDkimError) -> str:
    if isinstance(exc, SigningRefusedError):
        decision = exc.decision
        return f"{decision.policy}: {decision.reason}"
    problem = getattr(exc, "problem", None)
    detail = getattr(problem, "value", problem)
    return f"{type(exc).__name__} ({detail})" if detail else type(exc).__name__


def _quoted(value: object) -> str:
    text = str(value)
    if re.fullmatch(r"[A-Za-z0-9_.,/@:+-]*", text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def parse_socket(spec: str) -> tuple[str, str, int]:
    """``inet:HOST:PORT`` -> ("inet", host, port); ``unix:PATH`` -> ("unix", path, 0)."""
    kind, _, rest = spec.partition(":")
    if kind == "unix" and rest:
        return "unix", rest, 0
    if kind in ("inet", "inet6"):
        host, _, port = rest.rpartition(":")
        if host and port.isdigit() and 0 < int(port) < 65536:
            return "inet", host.strip("[]"), int(port)
    raise ConfigurationError(f"socket {spec!r}: use inet:HOST:PORT or unix:PATH")


async def _listener(spec: str) -> anyio.abc.Listener[anyio.abc.ByteStream]:
    kind, where, port = parse_socket(spec)
    if kind == "unix":
        Path(where).unlink(missing_ok=True)
        # Connecting needs write permission on the socket; who may reach it is decided by
        # the directory it lives in (e.g. 0750 root:postfix), as with other milters.
        return await anyio.create_unix_listener(where, mode=0o666)
    return await anyio.create_tcp_listener(local_host=where, local_port=port, reuse_port=False)


def as_filter(milter: Milter) -> Filter:
    """The milter as the plain function kilter expects, with the protocol options it needs."""

    async def oxdkim_milter(session: Session) -> FilterResponse:
        return await milter(session)

    # Exact header bytes (the leading space kept) and the right to add and delete fields.
    flags = modify_flags(
        unset_options=_EVENTS,
        set_options=ProtocolFlags.HEADER_LEADING_SPACE,
        set_actions=ActionFlags.ADD_HEADERS | ActionFlags.CHANGE_HEADERS,
    )
    return flags(oxdkim_milter)


WATCH_INTERVAL = 2.0


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


async def _watch(path: Path, milters: Sequence[Milter]) -> None:
    """
    Reload when the configuration file is replaced or edited (as SIGHUP does). Key rings
    follow their own store (the core reloads a ring whose ``ring.json`` changed).
    """
    seen = _stamp(path)
    while True:
        await anyio.sleep(WATCH_INTERVAL)
        stamp = _stamp(path)
        if stamp is None or stamp == seen:
            continue
        seen = stamp
        logger.info("%s changed", path)
        for milter in milters:
            await anyio.to_thread.run_sync(milter.reload)


def _metrics(
    settings: MilterConfig,
) -> tuple[Observer | None, Callable[[str, str], None] | None]:
    """
    The Prometheus endpoint of ``[milter] metrics``: the signer's observer metrics and
    ``oxdkim_milter_decisions_total{mode, decision}``. Started once; a reload keeps it.
    """
    if settings.metrics is None:
        return None, None
    try:
        import prometheus_client  # noqa: PLC0415 - the optional metrics extra
    except ImportError:
        raise ConfigurationError(
            "milter.metrics needs prometheus_client: pip install 'oxdkim[metrics]'"
        ) from None
    registry = prometheus_client.CollectorRegistry()
    observer = oxdkim.PrometheusObserver(registry)
    decisions = prometheus_client.Counter(
        "milter_decisions",
        "Messages the milter decided, by mode and decision.",
        ["mode", "decision"],
        namespace="oxdkim",
        registry=registry,
    )
    host, port = settings.metrics
    prometheus_client.start_http_server(port, addr=host, registry=registry)
    logger.info("metrics on http://%s:%d/metrics", host, port)

    def on_decision(mode: str, decision: str) -> None:
        decisions.labels(mode=mode, decision=decision).inc()

    return observer, on_decision


def _guarded(runner: Runner) -> Callable[[anyio.abc.ByteStream], Awaitable[None]]:
    """A connection handler whose failure ends that connection only (the MTA tempfails)."""

    async def handle(stream: anyio.abc.ByteStream) -> None:
        try:
            await runner(stream)
        except Exception as exc:
            logger.warning("connection dropped: protocol error %s", type(exc).__name__)
            logger.debug("protocol error", exc_info=True)
            await stream.aclose()

    return handle


async def serve(
    path: Path,
    listeners: Sequence[tuple[str, str]],
    *,
    grace: float = 30.0,
    ready: Callable[[], None] | None = None,
) -> None:
    """
    Serve ``listeners`` (socket, mode) until SIGTERM or SIGINT; SIGHUP reloads the file.

    Each mode has one state, shared by its listeners; sign and verify can run in one
    process. A stop closes the listeners first, then waits up to ``grace`` seconds for the
    messages being decided, then closes the remaining connections (the MTA retries those).
    """
    observer, on_decision = _metrics(load_milter_config(path))
    milters = {
        mode: Milter(path, mode, observer, on_decision)
        for mode in dict.fromkeys(m for _, m in listeners)
    }
    sockets = [(await _listener(spec), spec, mode) for spec, mode in listeners]
    async with anyio.create_task_group() as connections:
        with anyio.open_signal_receiver(signal.SIGHUP, signal.SIGTERM, signal.SIGINT) as signals:
            async with anyio.create_task_group() as accepting:
                for listener, spec, mode in sockets:
                    handler = _guarded(Runner(as_filter(milters[mode])))
                    accepting.start_soon(listener.serve, handler, connections)
                    logger.info("listening on %s mode=%s", spec, mode)
                accepting.start_soon(_watch, path, list(milters.values()))
                if ready is not None:
                    ready()
                async for signum in signals:
                    if signum == signal.SIGHUP:
                        for milter in milters.values():
                            await anyio.to_thread.run_sync(milter.reload)
                        continue
                    in_flight = sum(m.in_flight for m in milters.values())
                    logger.info("stopping: finishing %d message(s) in flight", in_flight)
                    accepting.cancel_scope.cancel()
                    break
        for listener, _, _ in sockets:
            await listener.aclose()
        with anyio.move_on_after(grace):
            while any(m.in_flight for m in milters.values()):
                await anyio.sleep(0.05)
        connections.cancel_scope.cancel()
    for mode, milter in milters.items():
        logger.info("stopped %s; decisions: %s", mode, milter.counts)
