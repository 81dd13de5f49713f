"""
Test helpers for the signing layer: dkimpy as the independent verifier and a tiny policy
that returns fixed specs. The vectors' keys, the fixed clock and the zone reader come
from tests/keyfiles.py (re-exported here for the signing tests).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import attrs
import dkim
from dkim.util import parse_tag_value

from keyfiles import (
    FIXED_TIME,
    RFC8463,
    VECTORS,
    fixed_clock,
    read_zone,
    rfc8463_ed25519,
    rfc8463_rsa,
)
from oxdkim import SignatureSpec, SigningDecision, SigningKey, SigningRequest

__all__ = [
    "FIXED_TIME",
    "RFC8463",
    "VECTORS",
    "StaticPolicy",
    "dkimpy_verify",
    "dkimpy_verify_all",
    "dnsfunc_for",
    "fixed_clock",
    "h_list",
    "read_zone",
    "records_for",
    "rfc8463_ed25519",
    "rfc8463_rsa",
    "signature_count",
    "tags",
]


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
