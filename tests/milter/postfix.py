"""
A real Postfix (Debian ``postfix``) for the milter tests, started on 127.0.0.1 from an
alternate configuration directory in a temporary folder, relaying to an ``smtp-sink`` that
writes each delivered message to a file.

Postfix accepts ``postfix -c DIR`` only when the default ``/etc/postfix/main.cf`` lists DIR
in ``alternate_config_directories``; this is a test machine, so :func:`allow_config_dir`
appends it there (and writes that file when the package was installed with "No
configuration"). ``maillog_file`` must lie under ``maillog_file_prefixes``, hence the
prefix setting in the same file. Postfix prints start-up errors only on a tty: read
:meth:`Postfix.maillog` instead.

Optional SASL (Cyrus, ``sasl2-bin`` for ``saslpasswd2``): users in the system's sasldb
(see :meth:`Postfix._write_sasl`), a listener ``"sasl"`` that requires AUTH, so a test can
authenticate as a tenant and the milter reads the login from ``{auth_authen}``
(``user@ci.example.test``).
"""

from __future__ import annotations

import os
import re
import shutil
import smtplib
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

POSTFIX = "/usr/sbin/postfix"
SMTP_SINK = "/usr/sbin/smtp-sink"
SASLPASSWD2 = "/usr/sbin/saslpasswd2"
SASLDB = "/etc/sasldb2"
DEFAULT_MAIN_CF = Path("/etc/postfix/main.cf")
SASL_REALM = "ci.example.test"


def postfix_available() -> bool:
    """Whether the Debian postfix package (with smtp-sink) is installed."""
    return os.access(POSTFIX, os.X_OK) and os.access(SMTP_SINK, os.X_OK)


def sasl_available() -> bool:
    """Whether saslpasswd2 (Debian ``sasl2-bin``) is installed, for the SASL listener."""
    return os.access(SASLPASSWD2, os.X_OK)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def allow_config_dir(directory: Path) -> None:
    """List ``directory`` in the default main.cf's ``alternate_config_directories``."""
    text = DEFAULT_MAIN_CF.read_text() if DEFAULT_MAIN_CF.exists() else ""
    lines = text.splitlines()
    current = ""
    for line in lines:
        if line.startswith("alternate_config_directories"):
            current = line.split("=", 1)[1].strip()
    dirs = [d for d in current.replace(",", " ").split() if Path(d).is_dir()]
    if str(directory) not in dirs:
        dirs.append(str(directory))
    kept = [
        line
        for line in lines
        if not line.startswith(("alternate_config_directories", "maillog_file_prefixes"))
    ]
    kept.append("alternate_config_directories = " + " ".join(dirs))
    kept.append("maillog_file_prefixes = /var, /dev/stdout, /tmp")
    DEFAULT_MAIN_CF.parent.mkdir(parents=True, exist_ok=True)
    DEFAULT_MAIN_CF.write_text("\n".join(kept) + "\n")


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on 127.0.0.1:{port}") from None
            time.sleep(0.05)


class Postfix:
    """
    One Postfix instance and its smtp-sink; ``start()`` / ``stop()``, or use it as a
    context manager.

    Args:
        base: An empty folder (under /tmp: ``maillog_file_prefixes`` is set for it).
        milter: The ``smtpd_milters`` value, e.g. ``inet:127.0.0.1:PORT``; None for none.
        extra_listeners: More smtpd listeners: name -> ``-o`` overrides, each on a free port
            (``ports[name]``).
        sasl_users: login -> password; adds a listener ``"sasl"`` that requires AUTH.
        main: Extra main.cf settings.
    """

    def __init__(
        self,
        base: Path,
        milter: str | None,
        *,
        extra_listeners: Mapping[str, Mapping[str, str]] | None = None,
        sasl_users: Mapping[str, str] | None = None,
        main: Mapping[str, str] | None = None,
    ) -> None:
        self.base = base
        self.config = base / "etc"
        self.sink = base / "sink"
        self.milter = milter
        self.ports: dict[str, int] = {"smtpd": free_port()}
        self.sink_port = free_port()
        self.extra_listeners = dict(extra_listeners or {})
        for name in self.extra_listeners:
            self.ports[name] = free_port()
        self.sasl_users = dict(sasl_users or {})
        if self.sasl_users:
            self.ports["sasl"] = free_port()
        self.main = dict(main or {})
        self._sink_proc: subprocess.Popen[bytes] | None = None
        self.started = False

    @property
    def port(self) -> int:
        """The plain smtpd listener's port."""
        return self.ports["smtpd"]

    def _write_config(self) -> None:
        self.config.mkdir(parents=True, exist_ok=True)
        self.sink.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.sink, "postfix")
        os.chmod(self.base, 0o755)  # mkdtemp's 0700 would lock the postfix user out
        (self.base / "spool").mkdir(exist_ok=True)
        (self.base / "data").mkdir(exist_ok=True)
        shutil.chown(self.base / "data", "postfix")
        base = self.base
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": f"{base}/spool",
            "data_directory": f"{base}/data",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "myhostname": "ci.example.test",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "relayhost": f"[127.0.0.1]:{self.sink_port}",
            "milter_default_action": "tempfail",
            "milter_protocol": "6",
            "maillog_file": f"{base}/maillog",
            "maillog_file_prefixes": "/tmp",
            "smtp_dns_support_level": "disabled",
            "smtpd_authorized_xclient_hosts": "127.0.0.0/8",
            # Fast tests: no delays in the queue manager or when the milter is gone.
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "milter_connect_timeout": "5s",
            "milter_command_timeout": "10s",
            "milter_content_timeout": "30s",
            "smtpd_error_sleep_time": "0",
            "smtpd_soft_error_limit": "1000",
            "smtpd_hard_error_limit": "1000",
            "smtpd_client_connection_rate_limit": "0",
            "message_size_limit": str(80 * 1024 * 1024),
            "header_size_limit": str(10 * 1024 * 1024),
        }
        if self.milter:
            settings["smtpd_milters"] = self.milter
            settings["non_smtpd_milters"] = "$smtpd_milters"
        settings.update(self.main)
        (self.config / "main.cf").write_text(
            "".join(f"{key} = {value}\n" for key, value in settings.items())
        )
        master = []
        for line in Path("/etc/postfix/master.cf").read_text().splitlines():
            if line.startswith("smtp ") and " inet " in line:
                continue
            master.append(line)
        master.append(f"127.0.0.1:{self.port} inet n - n - - smtpd")
        for name, overrides in self.extra_listeners.items():
            master.append(f"127.0.0.1:{self.ports[name]} inet n - n - - smtpd")
            master += [f"  -o {key}={value}" for key, value in overrides.items()]
        if self.sasl_users:
            self._write_sasl()
            master.append(f"127.0.0.1:{self.ports['sasl']} inet n - n - - smtpd")
            master += [
                "  -o smtpd_sasl_auth_enable=yes",
                "  -o smtpd_sasl_type=cyrus",
                "  -o smtpd_sasl_path=smtpd",
                f"  -o smtpd_sasl_local_domain={SASL_REALM}",
                "  -o smtpd_tls_security_level=none",
                "  -o smtpd_sasl_security_options=noanonymous",
                "  -o mynetworks=",
                "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject",
            ]
        (self.config / "master.cf").write_text("\n".join(master) + "\n")
        subprocess.run(
            [
                POSTFIX.replace("postfix", "postconf"),
                "-c",
                str(self.config),
                "-F",
                "*/*/chroot = n",
            ],
            check=True,
            capture_output=True,
        )

    def _write_sasl(self) -> None:
        """
        The users go into the system's ``/etc/sasldb2`` (realm ``ci.example.test``), readable
        by the postfix user through the ``sasl`` group. Debian's Postfix 3.7 with Cyrus
        2.1.28 read no ``smtpd.conf`` from ``cyrus_sasl_config_path`` in our tries (every
        mechanism stayed offered, the default sasldb path was opened), hence the default
        database. This is a test machine: the fixture may add users there.
        """
        subprocess.run(["usermod", "-a", "-G", "sasl", "postfix"], check=True, capture_output=True)
        for user, password in self.sasl_users.items():
            subprocess.run(
                [SASLPASSWD2, "-c", "-p", "-u", SASL_REALM, user],
                input=password.encode(),
                check=True,
                capture_output=True,
            )
        shutil.chown(SASLDB, group="sasl")  # whoever created it: readable by the group
        os.chmod(SASLDB, 0o640)

    def start(self) -> Postfix:
        """Write the configuration, start smtp-sink and Postfix, wait until they listen."""
        self._write_config()
        allow_config_dir(self.config)
        self._sink_proc = subprocess.Popen(
            [
                SMTP_SINK,
                "-u",
                "postfix",
                "-d",
                f"{self.sink}/%M.",
                f"127.0.0.1:{self.sink_port}",
                "100",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        done = subprocess.run(
            [POSTFIX, "-c", str(self.config), "start"], capture_output=True, check=False
        )
        self.started = True
        try:
            for port in self.ports.values():
                wait_for_port(port)
            wait_for_port(self.sink_port)
        except TimeoutError as exc:
            self.stop()
            raise RuntimeError(
                f"postfix did not start ({done.returncode}): {done.stderr!r}\n{self.maillog()}"
            ) from exc
        return self

    def stop(self) -> None:
        """Stop Postfix (``postfix -c DIR stop``) and the sink."""
        if self.started:
            subprocess.run(
                [POSTFIX, "-c", str(self.config), "stop"], capture_output=True, check=False
            )
            self.started = False
        if self._sink_proc is not None:
            self._sink_proc.terminate()
            self._sink_proc.wait(10)
            self._sink_proc = None

    def __enter__(self) -> Postfix:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def maillog(self) -> str:
        """Postfix's log so far."""
        path = self.base / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def delivered(self) -> list[Path]:
        """The files smtp-sink has written, oldest first."""
        return sorted(self.sink.iterdir(), key=lambda p: p.stat().st_mtime_ns)

    def wait_delivered(self, count: int, timeout: float = 15.0) -> list[bytes]:
        """
        Wait until smtp-sink holds ``count`` messages and return them, without the
        sink's own pseudo-headers (``X-Mail-Args``, ``X-Rcpt-Args``), CRLF line ends.
        """
        deadline = time.monotonic() + timeout
        while True:
            files = self.delivered()
            if len(files) >= count:
                time.sleep(0.05)  # smtp-sink writes a file before the final dot
                return [strip_sink_headers(p.read_bytes()) for p in self.delivered()]
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{len(files)} of {count} messages delivered\n{self.maillog()[-4000:]}"
                )
            time.sleep(0.05)

    def wait_for(self, marker: bytes, timeout: float = 15.0) -> bytes:
        """
        The delivered message that contains ``marker`` (a unique subject), once smtp-sink
        has all of it: Postfix logs ``status=sent`` only after the sink's final reply.
        """
        deadline = time.monotonic() + timeout
        while True:
            for path in self.delivered():
                data = path.read_bytes()
                if marker not in data:
                    continue
                head = data[:65536]
                found = re.search(rb"\(Postfix\) with [A-Z]+ id ([0-9A-F]+)", head)
                assert found, head[:2000]
                sent = f"{found.group(1).decode()}: to=<"
                while not any(
                    sent in line and "status=sent" in line for line in self.maillog().splitlines()
                ):
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{sent} not sent\n{self.maillog()[-4000:]}")
                    time.sleep(0.05)
                return strip_sink_headers(path.read_bytes())
            if time.monotonic() > deadline:
                raise TimeoutError(f"no message with {marker!r}\n{self.maillog()[-4000:]}")
            time.sleep(0.05)

    def clear_sink(self) -> None:
        """Forget the messages delivered so far."""
        for path in self.sink.iterdir():
            path.unlink()

    def send(
        self,
        message: bytes,
        *,
        sender: str = "sender@example.net",
        rcpt: str = "rcpt@example.org",
        listener: str = "smtpd",
        login: tuple[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """
        Submit one message over SMTP; returns the reply to the end of DATA (code, text).

        A rejection at DATA is returned, not raised, so tests can read the answer.
        """
        with smtplib.SMTP("127.0.0.1", self.ports[listener], timeout=60) as smtp:
            smtp.ehlo("client.example.net")
            if login is not None:
                smtp.login(*login)
            code, text = smtp.mail(sender)
            if code != 250:
                return code, text
            code, text = smtp.rcpt(rcpt)
            if code not in (250, 251):
                return code, text
            code, text = smtp.data(message)
            return code, text

    def send_raw(
        self, message: bytes, *, listener: str = "smtpd", rcpt: str = "rcpt@example.org"
    ) -> tuple[int, bytes]:
        """
        Submit ``message`` byte for byte (smtplib would rewrite bare CR and LF into CRLF):
        only dot-stuffing is applied. Returns the reply to the end of DATA.
        """
        with socket.create_connection(("127.0.0.1", self.ports[listener]), timeout=120) as sock:
            reader = sock.makefile("rb")

            def reply() -> tuple[int, bytes]:
                lines = []
                while True:
                    line = reader.readline()
                    lines.append(line[4:].rstrip(b"\r\n"))
                    if len(line) < 4 or line[3:4] != b"-":
                        return int(line[:3]), b"\n".join(lines)

            reply()
            for command in (
                b"EHLO client.example.net",
                b"MAIL FROM:<s@example.net>",
                f"RCPT TO:<{rcpt}>".encode(),
                b"DATA",
            ):
                sock.sendall(command + b"\r\n")
                code, text = reply()
                if code >= 400:
                    return code, text
            stuffed = message.replace(b"\r\n.", b"\r\n..")
            if stuffed.startswith(b"."):
                stuffed = b"." + stuffed
            if not stuffed.endswith(b"\r\n"):
                stuffed += b"\r\n"
            sock.sendall(stuffed + b".\r\n")
            code, text = reply()
            sock.sendall(b"QUIT\r\n")
            return code, text


def messages_in(postfix: Postfix) -> Iterator[bytes]:
    """The delivered messages, sink headers removed."""
    for path in postfix.delivered():
        yield strip_sink_headers(path.read_bytes())


def strip_sink_headers(raw: bytes) -> bytes:
    """
    The message as Postfix sent it: smtp-sink stores LF line ends and prepends its
    pseudo-headers (``X-Client-Addr``, ``X-Mail-Args``, ...) and its own ``Received:``.
    """
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    while lines and lines[0].startswith(b"X-") and b":" in lines[0]:
        lines.pop(0)
    if lines and lines[0].startswith(b"Received:"):
        lines.pop(0)
        while lines and lines[0][:1] in (b" ", b"\t"):
            lines.pop(0)
    return b"\r\n".join(lines)
