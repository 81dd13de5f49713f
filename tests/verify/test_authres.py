"""Authentication-Results rendering (RFC 8601): correct fields, and no injection."""

from __future__ import annotations

import re

import pytest

from oxdkim import ConfigurationError, SigningKey
from oxdkim._verify.authres import render_authentication_results
from oxdkim._verify.verifier import DkimReason, DkimResult, Verifier, VerifyResult

from .support import MESSAGE, VECTORS, base_tags, craft, fixed_clock, key_zone, zone
from .test_vectors import zone_resolver

# One property value: a token or a quoted-string without CR/LF.
_PVALUE = r'(?:[!#$%&\'*+\-.0-9A-Z^_`a-z{|}~]+|"(?:[^"\\\r\n]|\\.)*")'
_RESINFO = re.compile(
    r"\Adkim=(?:pass|fail|policy|neutral|temperror|permerror|none)"
    r'(?: reason="[a-z0-9 ]+")?(?: \(key in testing mode\))?'
    r"(?: header\.[disab]=" + _PVALUE + r")*\Z"
)


def _check_structure(field: bytes) -> list[str]:
    """Assert the field is one A-R field of well-formed dkim resinfos; return them."""
    text = field.decode("ascii")
    assert text.endswith("\r\n")
    lines = text[:-2].split("\r\n")
    assert lines[0].startswith("Authentication-Results: ")
    assert all(line.startswith("\t") for line in lines[1:])
    unfolded = "".join(line.lstrip("\t") if i else line for i, line in enumerate(lines))
    assert "\r" not in unfolded
    assert "\n" not in unfolded
    head, *resinfos = unfolded.split(";")
    assert re.fullmatch(r"Authentication-Results: [A-Za-z0-9.-]+", head)
    for resinfo in resinfos:
        assert _RESINFO.match(resinfo), resinfo
    return resinfos


def test_rfc8463_example_renders_both_passes() -> None:
    """The RFC 8463 message gives two dkim=pass results with d, i, s, a and b."""
    message = (VECTORS / "rfc8463" / "signed.eml").read_bytes()
    results = Verifier(zone_resolver(VECTORS / "rfc8463" / "zone.txt")).verify(message)
    field = render_authentication_results("mx.example.net", results)
    assert (
        b"Authentication-Results: mx.example.net;\r\n"
        b'\tdkim=pass header.d=football.example.com header.i="@football.example.com"'
        b' header.s=brisbane header.a=ed25519-sha256 header.b="/gCrinpc";\r\n'
        b'\tdkim=pass header.d=football.example.com header.i="@football.example.com"'
        b" header.s=test header.a=rsa-sha256 header.b=F45dVWDf\r\n"
    ) == field
    assert 2 == len(_check_structure(field))


def test_unsigned_message_renders_dkim_none() -> None:
    """No signature: 'dkim=none'."""
    assert b"Authentication-Results: mx.example.net;\r\n\tdkim=none\r\n" == (
        render_authentication_results("mx.example.net", ())
    )


def test_failure_carries_a_fixed_reason(rsa_key: SigningKey) -> None:
    """A failing signature renders its result and the reason's fixed phrase."""
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key)).replace(b"numbers", b"letters")
    results = Verifier(key_zone(rsa_key), clock=fixed_clock()).verify(signed)
    field = render_authentication_results("mx.example.net", results, linesep=b"\n")
    assert field.startswith(b"Authentication-Results: mx.example.net;\n\tdkim=fail")
    assert b'reason="body hash mismatch"' in field
    assert field.endswith(b"\n")


def test_testing_key_is_noted(rsa_key: SigningKey) -> None:
    """A key in testing mode (t=y) adds a comment to the result."""
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key))
    resolver = zone({"sel._domainkey.example.com": f"t=y; p={rsa_key.public_key_b64}"})
    results = Verifier(resolver, clock=fixed_clock()).verify(signed)
    field = render_authentication_results("mx.example.net", results)
    assert b"dkim=pass (key in testing mode) header.d=example.com" in field


HOSTILE_D = [
    "evil.example; dkim=pass header.d=bank.example",
    "evil.example\r\n\tdkim=pass",
    "evil.example (comment) dkim=pass",
    'evil.example" dkim=pass',
    "evil.example\r\nX-Injected: yes",
]


@pytest.mark.parametrize("hostile", HOSTILE_D)
def test_hostile_domain_in_message_cannot_inject(rsa_key: SigningKey, hostile: str) -> None:
    """
    A d= with ';', CRLF, parentheses or quotes yields a permerror, and at most the part
    a DKIM parser reads as d= (a plain domain) is echoed: nothing after it.
    """
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key, d=hostile))
    results = Verifier(key_zone(rsa_key), clock=fixed_clock()).verify(signed)
    field = render_authentication_results("mx.example.net", results)
    (resinfo,) = _check_structure(field)
    assert resinfo.startswith("dkim=permerror")
    assert set(re.findall(r"header\.d=(\S+)", resinfo)) <= {"evil.example"}
    assert b"dkim=pass" not in field
    assert b"bank" not in field
    assert b"Injected" not in field
    assert b"comment" not in field


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("domain", "bank.example; dkim=pass"),
        ("domain", "bank.example\r\n\tdkim=pass"),
        ("domain", "(bank).example"),
        ("selector", "sel; dkim=pass"),
        ("selector", 'sel"x'),
        ("auid", "joe@bank.example; dkim=pass"),
        ("auid", 'a"b@bank.example'),
        ("auid", "joe@bank.example\r\n\tX: y"),
        ("algorithm", "rsa-sha256; dkim=pass"),
        ("signature_b64", "AAAA; dkim=pass"),
        ("signature_b64", "AAAA\r\nBBBB"),
    ],
)
def test_hostile_values_in_results_are_dropped(field: str, value: str) -> None:
    """A result built by hand with hostile values still renders a safe field."""
    kwargs = {"domain": "ok.example", "selector": "sel", field: value}
    result = VerifyResult(DkimResult.FAIL, DkimReason.BAD_SIGNATURE, "x", **kwargs)  # type: ignore[arg-type]
    rendered = render_authentication_results("mx.example.net", [result])
    (resinfo,) = _check_structure(rendered)
    assert resinfo.startswith("dkim=fail")
    assert "dkim=pass" not in rendered.decode()
    assert b"bank" not in rendered


def test_message_text_never_reaches_the_field() -> None:
    """The human message (which may quote the mail) is not rendered."""
    result = VerifyResult(
        DkimResult.PERMERROR, DkimReason.INVALID_DOMAIN, "d=evil; dkim=pass\r\nX: y"
    )
    rendered = render_authentication_results("mx.example.net", [result])
    assert (
        b'Authentication-Results: mx.example.net;\r\n\tdkim=permerror reason="invalid domain"\r\n'
        == (rendered)
    )


def test_header_b_is_lengthened_to_tell_signatures_apart() -> None:
    """Two b= values sharing their first 8 characters get longer prefixes (RFC 6008)."""
    one = VerifyResult(DkimResult.PASS, None, "", index=0, signature_b64="ABCDEFGHxyz1")
    two = VerifyResult(DkimResult.PASS, None, "", index=1, signature_b64="ABCDEFGHxyz2")
    rendered = render_authentication_results("mx.example.net", [one, two])
    assert b"header.b=ABCDEFGHxyz1" in rendered
    assert b"header.b=ABCDEFGHxyz2" in rendered


def test_not_evaluated_signatures_are_left_out() -> None:
    """Signatures past the verifier's bound do not appear in the field."""
    done = VerifyResult(DkimResult.PASS, None, "", index=0, domain="ok.example")
    skipped = VerifyResult(DkimResult.NEUTRAL, DkimReason.NOT_EVALUATED, "", index=1)
    rendered = render_authentication_results("mx.example.net", [done, skipped])
    assert 1 == len(_check_structure(rendered))


@pytest.mark.parametrize("authserv_id", ["", "mx example", "mx;dkim=pass", "mx\r\n", "-mx"])
def test_bad_authserv_id_is_refused(authserv_id: str) -> None:
    """The authserv-id must look like a host name."""
    with pytest.raises(ConfigurationError):
        render_authentication_results(authserv_id, ())


def test_bad_linesep_is_refused() -> None:
    """Only CRLF or LF may end the field's lines."""
    with pytest.raises(ConfigurationError):
        render_authentication_results("mx.example.net", (), linesep=b"\r")


def test_every_reason_maps_to_its_documented_result() -> None:
    """The reason -> RFC 8601 result table, as the verifier's docstring states it."""
    fail = {"body-hash-mismatch", "bad-signature", "signature-expired"}
    policy = {"key-too-small", "body-length-limit", "timestamp-in-future", "message-too-large"}
    expected = {
        reason: (
            DkimResult.FAIL
            if reason.value in fail
            else DkimResult.POLICY
            if reason.value in policy
            else DkimResult.TEMPERROR
            if reason is DkimReason.DNS_TEMPORARY
            else DkimResult.NEUTRAL
            if reason is DkimReason.NOT_EVALUATED
            else DkimResult.PERMERROR
        )
        for reason in DkimReason
    }
    assert expected == {reason: reason.result for reason in DkimReason}
    assert all(re.fullmatch(r"[a-z0-9 ]+", reason.phrase) for reason in DkimReason)
