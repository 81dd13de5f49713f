"""Properties: what the Signer makes verifies, and oxdkim agrees with dkimpy on changes."""

from __future__ import annotations

import dkim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxdkim import Canonicalization, DefaultGenericPolicy, SignatureOptions, Signer, SigningKey
from oxdkim._verify.verifier import Verifier

from .support import DOMAIN, SELECTOR, fixed_clock, key_zone

_LINE = st.text(alphabet=" \tabcXYZ.,-=:;", max_size=30).map(lambda s: s.encode("ascii"))
_BODY = st.lists(_LINE, max_size=8).map(lambda lines: b"\r\n".join(lines))
_CANON = st.sampled_from(["simple/simple", "simple/relaxed", "relaxed/simple", "relaxed/relaxed"])
_SUBJECT = st.text(alphabet=" \tabc", min_size=1, max_size=20).map(lambda s: s.encode("ascii"))


def _message(subject: bytes, body: bytes, ending: bytes) -> bytes:
    return (
        b"From: alice@example.com\r\nTo: bob@example.net\r\nSubject:"
        + subject
        + b"\r\n\r\n"
        + body
        + ending
    )


_MUTATIONS = [
    ("none", lambda m: m),
    ("space in body", lambda m: m + b" "),
    ("blank lines at end", lambda m: m + b"\r\n\r\n"),
    ("text at end", lambda m: m + b"x\r\n"),
    ("tab to space", lambda m: m.replace(b"\t", b" ")),
    ("double space", lambda m: m.replace(b" ", b"  ", 1)),
    ("subject case", lambda m: m.replace(b"Subject:", b"SUBJECT:")),
    ("subject refold", lambda m: m.replace(b"Subject:", b"Subject:\r\n ")),
    ("unsigned header", lambda m: m.replace(b"To:", b"X-Extra: 1\r\nTo:")),
    ("second subject on top", lambda m: b"Subject: x\r\n" + m),
    ("lf endings", lambda m: m.replace(b"\r\n", b"\n")),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=_SUBJECT,
    body=_BODY,
    ending=st.sampled_from([b"", b"\r\n", b"\r\n\r\n"]),
    canon=_CANON,
    mutation=st.sampled_from(_MUTATIONS),
)
def test_oxdkim_agrees_with_dkimpy_after_changes(
    ed_key: SigningKey,
    subject: bytes,
    body: bytes,
    ending: bytes,
    canon: str,
    mutation: tuple[str, object],
) -> None:
    """
    Signed by oxdkim, changed in transit (or not), delivered with its final CRLF: both
    verifiers give the same answer, and the unchanged message always passes.
    """
    options = SignatureOptions(canonicalization=Canonicalization.parse(canon))
    signer = Signer(DefaultGenericPolicy(DOMAIN, SELECTOR, ed_key, options), clock=fixed_clock())
    signed = signer.signed_message(_message(subject, body, ending))
    name, change = mutation
    changed = change(signed)  # type: ignore[operator]
    if not changed.endswith(b"\n"):
        changed += b"\r\n"  # SMTP ends every message so; dkimpy only agrees on that form
    record = ed_key.txt_record().encode()
    theirs = bool(dkim.verify(changed, dnsfunc=lambda n, timeout=5: record))
    (ours,) = Verifier(key_zone(ed_key), clock=fixed_clock()).verify(changed)
    assert theirs == ours.passed, (name, ours.message)
    if name == "none":
        assert ours.passed
