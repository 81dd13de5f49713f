"""
SPF for verify mode's DMARC result: RFC 7208 ``check_host`` by pyspf, the maintained
evaluator, asking its DNS questions through the milter's own resolver (so a zone-file
``[resolver]`` answers them too, and a temporary DNS failure is a ``temperror``).

Without SPF, a message that passes DMARC only through an aligned SPF pass would be
reported ``dmarc=fail``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import spf  # type: ignore[import-untyped]  # pyspf ships no types

from oxdkim import DnsStatus
from oxdkim.dmarc import SpfCheck
from oxdkim.exceptions import DnsError, DnsTempError
from oxdkim.typing import HostResolver

# pyspf asks DNS through one module-level function: one evaluation at a time swaps in
# the resolver of the moment (a reload may bring another).
_lock = threading.Lock()


def _lookup(resolver: HostResolver) -> Any:
    def lookup(
        name: str, qtype: str, tcpfallback: bool = True, timeout: int = 30
    ) -> Iterator[tuple[tuple[str, str], Any]]:
        name = name.lower().rstrip(".")
        try:
            if qtype == "TXT":
                answer = resolver.txt(name)
                if answer.status is DnsStatus.NOERROR:
                    for record in answer.records:
                        yield (name, "TXT"), [record]
            elif qtype in ("A", "AAAA"):
                found = resolver.addresses(name)
                for address in found.ipv4 if qtype == "A" else found.ipv6:
                    yield (name, qtype), address
            elif qtype == "MX":
                for preference, host in resolver.mx(name).records:
                    yield (name, "MX"), (preference, host)
            # PTR (the "ptr" mechanism, which RFC 7208 says not to use) finds nothing.
        except DnsTempError as exc:
            raise spf.TempError(f"DNS temporary failure for {name}") from exc
        except DnsError:
            return

    return lookup


def check(resolver: HostResolver, client: str | None, mail_from: str | None) -> SpfCheck | None:
    """
    The SPF result for the envelope sender's domain, or ``None`` when it cannot be
    evaluated here (no client address, or a null reverse-path: DMARC then rests on DKIM).
    """
    if not client or not mail_from:
        return None
    sender = mail_from.strip("<>")
    domain = sender.rpartition("@")[2].lower().rstrip(".")
    if not domain:
        return None
    with _lock:
        previous = spf.DNSLookup
        spf.DNSLookup = _lookup(resolver)
        try:
            result, _, _ = spf.query(i=client, s=sender, h=domain).check()
        except Exception:  # pyspf's own failure on odd input: no SPF result, not a crash
            return None
        finally:
            spf.DNSLookup = previous
    return SpfCheck(result, domain)
