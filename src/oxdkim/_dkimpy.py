"""
The only module that imports dkimpy: a second, independent opinion on a signature.

oxdkim signs and verifies with its own code; dkimpy (the reference implementation) is
used where an independent check is worth more than speed, e.g. in ``oxdkim demo``.
"""

from __future__ import annotations

from collections.abc import Mapping

import dkim


def dkimpy_verifies(
    message: bytes, txt: Mapping[str, str], cnames: Mapping[str, str] | None = None
) -> bool:
    """
    True when dkimpy verifies the first DKIM-Signature of ``message``.

    DNS is answered from ``txt`` (name -> record value) after following ``cnames``
    (name -> target); names are lowercase without a trailing dot.
    """
    aliases = cnames or {}

    def dnsfunc(name: bytes | str, timeout: int = 5) -> bytes | None:
        del timeout
        key = (name.decode("ascii") if isinstance(name, bytes) else name).lower().rstrip(".")
        for _ in range(8):
            if key not in aliases:
                break
            key = aliases[key]
        value = txt.get(key)
        return value.encode("ascii") if value is not None else None

    return bool(dkim.verify(message, dnsfunc=dnsfunc))
