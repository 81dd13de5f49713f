"""DKIM key record parsing (RFC 6376 §3.6.1, RFC 8463 §4)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from keyfiles import VECTORS
from oxdkim import RecordSyntaxError, SigningKey
from oxdkim._dkim.keyrecord import parse_key_record

STALWART_PKCS1 = (
    "MIGJAoGBALVI635dLK4cJJAH3Lx6upo3X/Lm1tQz3mezcWTA3BUBnyIsdnRf57aD5BtNmhPrYYDlWlzw3UgnKisIx"
    "ktkk5+iMQMlFtAS10JB8L3YadXNJY+JBcbeSi5TgJe4WFzNgW95FWDAuSTRXSWZfA/8xjflbTLDx0euFZOM7C4T0G"
    "wLAgMBAAE="
)


def _der_int(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return b"\x02" + _der_len(len(body)) + body


def _der_len(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def test_rsa_record_gives_the_public_key(rsa2048_key: SigningKey) -> None:
    """A k=rsa record with an SPKI p= parses to the same RSA key, with its size."""
    record = parse_key_record(rsa2048_key.txt_record().encode())
    assert isinstance(record.public_key, rsa.RSAPublicKey)
    assert rsa2048_key.public_key().public_numbers() == record.public_key.public_numbers()
    assert 2048 == record.bits
    assert "rsa" == record.key_type
    assert not record.revoked
    assert not record.testing
    assert rsa2048_key.public_key_b64 == record.p


def test_k_defaults_to_rsa_and_v_is_optional(rsa_key: SigningKey) -> None:
    """Without k= the key is RSA; without v= the record is still a key record."""
    record = parse_key_record(f"p={rsa_key.public_key_b64}".encode())
    assert "rsa" == record.key_type
    assert 1024 == record.bits


def test_bare_pkcs1_rsa_key_is_accepted() -> None:
    """A PKCS#1 RSAPublicKey in p= (Stalwart's vector 002) is read like SPKI."""
    record = parse_key_record(f"v=DKIM1; p={STALWART_PKCS1}".encode())
    assert isinstance(record.public_key, rsa.RSAPublicKey)
    assert 1024 == record.bits


def test_whitespace_inside_p_is_removed(rsa_key: SigningKey) -> None:
    """TXT strings joined with spaces (or folded) still give the key."""
    p = rsa_key.public_key_b64
    record = parse_key_record(f"v=DKIM1; k=rsa; p={p[:50]} {p[50:100]}\t{p[100:]}".encode())
    assert rsa_key.public_key_b64 == record.p


def test_ed25519_record_is_the_raw_key(ed_key: SigningKey) -> None:
    """k=ed25519 takes the raw 32-byte key (RFC 8463 §4)."""
    record = parse_key_record(ed_key.txt_record().encode())
    assert isinstance(record.public_key, ed25519.Ed25519PublicKey)
    assert 256 == record.bits
    assert "ed25519" == record.key_type


def test_ed25519_spki_is_refused_with_a_clear_reason(ed_key: SigningKey) -> None:
    """An SPKI-wrapped Ed25519 key is an error that says what RFC 8463 wants."""
    spki = ed_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    p = base64.b64encode(spki).decode()
    with pytest.raises(RecordSyntaxError, match=r"raw 32-byte key.*not a SubjectPublicKeyInfo"):
        parse_key_record(f"v=DKIM1; k=ed25519; p={p}".encode())


def test_ed25519_wrong_length_is_refused() -> None:
    """An Ed25519 p= of other than 32 bytes is refused."""
    p = base64.b64encode(b"\x01" * 31).decode()
    with pytest.raises(RecordSyntaxError, match="32 bytes") as info:
        parse_key_record(f"k=ed25519; p={p}".encode())
    assert "p" == info.value.tag


def test_rsa_record_holding_an_ed25519_spki_is_refused(ed_key: SigningKey) -> None:
    """k=rsa (the default) with a non-RSA key in p= is an error."""
    spki = ed_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(RecordSyntaxError, match="k=rsa"):
        parse_key_record(b"p=" + base64.b64encode(spki))


def test_rsa_exponent_one_is_refused(rsa_key: SigningKey) -> None:
    """An RSA key with e=1 (which would verify forged signatures) is refused."""
    pub = rsa_key.public_key()
    assert isinstance(pub, rsa.RSAPublicKey)
    body = _der_int(pub.public_numbers().n) + _der_int(1)
    der = b"\x30" + _der_len(len(body)) + body
    with pytest.raises(RecordSyntaxError, match=r"exponent|not an RSA public key"):
        parse_key_record(b"k=rsa; p=" + base64.b64encode(der))


def test_oversized_rsa_key_is_refused() -> None:
    """An RSA modulus over 16384 bits (OpenSSL's limit) is refused at parse time."""
    n = (1 << 16399) | 1
    body = _der_int(n) + _der_int(65537)
    der = b"\x30" + _der_len(len(body)) + body
    with pytest.raises(RecordSyntaxError, match="larger than 16384"):
        parse_key_record(b"p=" + base64.b64encode(der))


def test_empty_p_means_revoked() -> None:
    """p= with no value (RFC 6376 §3.6.1) is a revoked key, not an error."""
    record = parse_key_record(b"v=DKIM1; k=rsa; p=")
    assert record.revoked
    assert record.public_key is None
    assert record.bits is None


def test_flags_hashes_services_and_notes() -> None:
    """t=, h=, s= and n= are read; unknown tags (and unknown flags) are ignored."""
    record = parse_key_record(
        b"v=DKIM1; h=sha1 : SHA256; s=email:*; t=y:s:z; n=hello world; zz=unknown; p="
    )
    assert ("sha1", "sha256") == record.hashes
    assert ("email", "*") == record.services
    assert record.testing
    assert record.strict
    assert "hello world" == record.notes
    assert record.allows_email


def test_service_type_other_than_email() -> None:
    """s= without '*' or 'email' says the key is not for email."""
    assert not parse_key_record(b"s=tlsrpt; p=").allows_email


@pytest.mark.parametrize(
    ("record", "match"),
    [
        (b"k=rsa; v=DKIM1; p=", "v= must be the first tag"),
        (b"v=DKIM2; p=", "unsupported version"),
        (b"v=dkim1; p=", "unsupported version"),
        (b"v=DKIM1; k=rsa", "p= tag is missing"),
        (b"v=DKIM1; p=!!!!", "not valid base64"),
        (b"v=DKIM1; p=QUJD", "not an RSA public key"),
        (b"v=DKIM1; p=abc; p=abc", "more than once"),
        (b"v=DKIM1; p=\xff", "0xff"),
    ],
)
def test_malformed_records(record: bytes, match: str) -> None:
    """Each malformation is a RecordSyntaxError that says what is wrong."""
    with pytest.raises(RecordSyntaxError, match=match):
        parse_key_record(record)


def test_dkimpy_bad_key_records() -> None:
    """dkimpy's badversion.txt is refused; badk.txt keeps its unknown key type."""
    keys = VECTORS / "dkimpy" / "keys"
    with pytest.raises(RecordSyntaxError, match="unsupported version"):
        parse_key_record((keys / "badversion.txt").read_bytes().strip())
    record = parse_key_record((keys / "badk.txt").read_bytes().strip())
    assert "ed25519-sha256" == record.key_type
    assert record.public_key is None
    assert not record.revoked
