"""
Test helpers for the signing core: dkimpy as the independent verifier, fixed clocks,
a tiny policy that returns fixed specs, and a reader for the vectors' zone files.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import attrs
import dkim
from dkim.util import parse_tag_value

from oxdkim import SignatureSpec, SigningDecision, SigningKey, SigningRequest

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
RFC8463 = VECTORS / "rfc8463"

FIXED_TIME = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
"""A fixed signing time in the past (dkimpy refuses t= more than 10 h in the future)."""


def fixed_clock(when: datetime = FIXED_TIME) -> Callable[[], datetime]:
    """A clock that always returns ``when``."""
    return lambda: when


def rfc8463_ed25519() -> SigningKey:
    """The RFC 8463 Appendix A Ed25519 key, from its published seed."""
    seed = base64.b64decode((RFC8463 / "ed25519.seed.b64").read_text())
    return SigningKey.from_ed25519_seed(seed)


def rfc8463_rsa() -> SigningKey:
    """The RFC 8463 Appendix A RSA key (1024 bits, so it needs the opt-in)."""
    return SigningKey.from_pem((RFC8463 / "rsa.private.pem").read_bytes(), min_rsa_bits=1024)


def read_zone(path: Path) -> dict[str, str]:
    """
    Read the vectors' zone-file subset: ``NAME [TTL] [IN] TXT "s1" ["s2" ...]``.

    Returns name (lowercase, no trailing dot) -> the record's strings joined.
    """
    records: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        name, rest = line.split(None, 1)
        match = re.search(r"\bTXT\s+(.*)$", rest)
        if match is None:
            continue
        records[name.lower().rstrip(".")] = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', match[1]))
    return records


def records_for(*signers: tuple[str, str, SigningKey]) -> dict[str, str]:
    """``(domain, selector, key)`` triples -> ``{selector._domainkey.domain: TXT value}``."""
    return {
        f"{selector}._domainkey.{domain}": key.txt_record() for domain, selector, key in signers
    }


def dnsfunc_for(records: Mapping[str, str]) -> Callable[..., bytes | None]:
    """A dkimpy ``dnsfunc`` answering from ``records`` (name without trailing dot -> TXT)."""
    table = {
        name.lower().rstrip(".") + ".": value.encode("ascii") for name, value in records.items()
    }

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        return table.get(name.decode("ascii").lower())

    return dnsfunc


def signature_count(message: bytes) -> int:
    """How many DKIM-Signature fields dkimpy sees in ``message``."""
    return sum(1 for name, _ in dkim.DKIM(message).headers if name.lower() == b"dkim-signature")


def dkimpy_verify(message: bytes, records: Mapping[str, str], index: int = 0) -> bool:
    """Verify the ``index``-th DKIM-Signature of ``message`` with dkimpy."""
    verifier = dkim.DKIM(message, minkey=1024)
    return bool(verifier.verify(idx=index, dnsfunc=dnsfunc_for(records)))


def dkimpy_verify_all(message: bytes, records: Mapping[str, str]) -> list[bool]:
    """dkimpy's verdict for every DKIM-Signature of ``message``, top first."""
    return [dkimpy_verify(message, records, i) for i in range(signature_count(message))]


def tags(header: bytes) -> dict[str, str]:
    """The tags of one DKIM-Signature field, parsed by dkimpy (values as text, unfolded)."""
    value = header.split(b":", 1)[1]
    return {
        k.decode("ascii"): re.sub(r"\s+", "", v.decode("ascii"))
        for k, v in parse_tag_value(value).items()
    }


def h_list(header: bytes) -> list[str]:
    """The ``h=`` names of a DKIM-Signature field, in order, lowercase."""
    return [name.strip().lower() for name in tags(header)["h"].split(":")]


@attrs.frozen
class StaticPolicy:
    """A test policy that always answers with the same specs (several signatures)."""

    specs: tuple[SignatureSpec, ...]
    name: str = "static-test"

    def decide(self, request: SigningRequest) -> SigningDecision:
        """Always sign with ``specs``."""
        return SigningDecision(self.name, f"fixed specs for {request.from_domain}", self.specs)
