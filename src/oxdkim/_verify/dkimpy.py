"""
The only module that imports dkimpy: a second, independent opinion on a signature.

oxdkim signs and verifies with its own code; dkimpy (the reference implementation) is
used where an independent check is worth more than speed, e.g. in ``oxdkim demo``.
"""

from __future__ import annotations

import dkim

from ..exceptions import DnsError
from ..typing import Resolver


def dkimpy_verifies(message: bytes, resolver: Resolver, index: int = 0) -> bool:
    """
    True when dkimpy verifies the ``index``-th DKIM-Signature of ``message``.

    dkimpy's DNS questions are answered by ``resolver`` (CNAMEs followed); a DNS failure
    counts as "does not verify".
    """
    return dkimpy_disagreement(message, resolver, index) is None


def dkimpy_disagreement(message: bytes, resolver: Resolver, index: int = 0) -> str | None:
    """
    ``None`` when dkimpy verifies the ``index``-th signature, else dkimpy's reason.

    The reason is what an operator needs when the second opinion differs, e.g. dkimpy's
    "pynacl module required for ed25519" when PyNaCl is missing.
    """

    def dnsfunc(name: bytes | str, timeout: int = 5) -> bytes | None:
        del timeout
        text = name.decode("ascii") if isinstance(name, bytes) else name
        try:
            answer = resolver.txt(text.lower().rstrip("."))
        except DnsError:
            return None
        return answer.records[0] if len(answer.records) == 1 else None

    try:
        if dkim.DKIM(message).verify(idx=index, dnsfunc=dnsfunc):
            return None
    except dkim.DKIMException as exc:
        return f"{type(exc).__name__}: {exc}"
    return "the signature does not verify"
