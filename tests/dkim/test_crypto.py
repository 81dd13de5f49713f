"""Signing keys: loading, size floors, passphrases, errors and reprs free of key material."""

from __future__ import annotations

import base64
import hashlib
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from keyfiles import RFC8463, VECTORS, read_zone
from oxdkim import (
    Algorithm,
    ConfigurationError,
    DefaultGenericPolicy,
    KeyLoadError,
    KeyRing,
    LegacyBrandPolicy,
    PerDomainPolicy,
    SignatureSpec,
    SigningKey,
    WeakKeyError,
)

WEAK = VECTORS / "generate"


def pem_fragments(pem: bytes, size: int = 12) -> list[str]:
    """Base64 pieces of a PEM body: any of them in a message would be a leak."""
    body = "".join(
        line for line in pem.decode("ascii").splitlines() if line and not line.startswith("-----")
    )
    return [body[i : i + size] for i in range(0, len(body) - size, size)]


def assert_no_key_material(text: str, pem: bytes) -> None:
    """None of the PEM's base64 fragments occurs in ``text``."""
    leaked = [fragment for fragment in pem_fragments(pem) if fragment in text]
    assert [] == leaked


def everything_said(exc: BaseException) -> str:
    """The message, repr and full traceback (with chained exceptions) of ``exc``."""
    return "\n".join([str(exc), repr(exc), "".join(traceback.format_exception(exc))])


# -- sizes ----------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [512, 1016])
@pytest.mark.parametrize("min_rsa_bits", [1024, 2048])
def test_rsa_below_1024_always_refused(bits: int, min_rsa_bits: int):
    """RSA keys under 1024 bits are a WeakKeyError, whatever the caller opts into."""
    pem = (WEAK / f"rsa-{bits}.private.pem").read_bytes()
    with pytest.raises(WeakKeyError) as info:
        SigningKey.from_pem(pem, min_rsa_bits=min_rsa_bits)
    assert (bits, min_rsa_bits) == (info.value.bits, info.value.minimum)


def test_min_rsa_bits_below_floor_is_configuration_error():
    """Asking for a minimum below 1024 is itself refused (RFC 8301)."""
    pem = (WEAK / "rsa-512.private.pem").read_bytes()
    with pytest.raises(ConfigurationError):
        SigningKey.from_pem(pem, min_rsa_bits=512)


@pytest.mark.parametrize("bits", [512, 1000])
def test_generate_below_1024_refused(bits: int):
    """generate() refuses RSA sizes under 1024 bits with WeakKeyError."""
    with pytest.raises(WeakKeyError):
        SigningKey.generate(Algorithm.RSA_SHA256, bits=bits)


@pytest.mark.parametrize(
    ("pem", "bits"),
    [
        # The RFC 8463 key: 1024 bits.
        pytest.param(lambda: (RFC8463 / "rsa.private.pem").read_bytes(), 1024, id="1024"),
        # Between 1024 and 2048 bits the opt-in is needed too.
        pytest.param(
            lambda: SigningKey.generate(Algorithm.RSA_SHA256, bits=1536).private_pem(),
            1536,
            id="1536",
        ),
    ],
)
def test_rsa_below_2048_needs_opt_in(pem: Callable[[], bytes], bits: int):
    """A key under 2048 bits is refused by default and accepted with min_rsa_bits=1024."""
    text = pem()
    with pytest.raises(WeakKeyError) as info:
        SigningKey.from_pem(text)
    assert (bits, 2048) == (info.value.bits, info.value.minimum)
    assert bits == SigningKey.from_pem(text, min_rsa_bits=1024).bits


def test_rsa_2048_by_default(rsa2048_key: SigningKey):
    """A 2048-bit key loads without any option, from its own PEM."""
    loaded = SigningKey.from_pem(rsa2048_key.private_pem())
    assert 2048 == loaded.bits
    assert loaded.same_key_as(rsa2048_key)


# -- loading --------------------------------------------------------------------------


def test_ed25519_pem_equals_seed(ed_key: SigningKey):
    """The RFC 8463 Ed25519 PKCS#8 PEM and its raw seed give the same key."""
    loaded = SigningKey.from_pem((RFC8463 / "ed25519.private.pem").read_bytes())
    assert loaded.same_key_as(ed_key)
    assert Algorithm.ED25519_SHA256 == loaded.algorithm


def test_txt_records_match_published_zone(ed_key: SigningKey, rsa_key: SigningKey):
    """txt_record() renders exactly the RFC 8463 published key records."""
    zone = read_zone(RFC8463 / "zone.txt")
    assert zone["brisbane._domainkey.football.example.com"] == ed_key.txt_record()
    assert zone["test._domainkey.football.example.com"] == rsa_key.txt_record()


def test_ed25519_public_key_is_raw_32_bytes(ed_key: SigningKey):
    """For Ed25519, p= is the raw 32-byte public key (RFC 8463 §4)."""
    assert 32 == len(base64.b64decode(ed_key.public_key_b64))


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_encrypted_pem_with_passphrase(algorithm: Algorithm, rsa2048_key: SigningKey):
    """An encrypted PEM loads with its passphrase, as the same key."""
    key = rsa2048_key if algorithm is Algorithm.RSA_SHA256 else SigningKey.generate(algorithm)
    pem = key.private_pem(password=b"correct horse")
    assert b"ENCRYPTED" in pem
    assert SigningKey.from_pem(pem, password=b"correct horse").same_key_as(key)


@pytest.mark.parametrize("password", [None, b"wrong", b""], ids=["missing", "wrong", "empty"])
def test_encrypted_pem_bad_passphrase(rsa2048_key: SigningKey, password: bytes | None):
    """A missing or wrong passphrase is a KeyLoadError that leaks nothing."""
    pem = rsa2048_key.private_pem(password=b"correct horse")
    with pytest.raises(KeyLoadError) as info:
        SigningKey.from_pem(pem, password=password)
    said = everything_said(info.value)
    assert_no_key_material(said, pem)
    assert "correct horse" not in said


def test_passphrase_for_plain_pem(rsa2048_key: SigningKey):
    """A passphrase given for an unencrypted PEM is a KeyLoadError."""
    with pytest.raises(KeyLoadError):
        SigningKey.from_pem(rsa2048_key.private_pem(), password=b"secret")


def corruptions(pem: bytes) -> dict[str, bytes]:
    """Broken variants of a PEM private key."""
    lines = pem.splitlines(keepends=True)
    middle = len(lines) // 2
    return {
        "truncated": pem[: len(pem) // 2],
        "truncated-at-line": b"".join(lines[:middle]),
        "no-footer": b"".join(lines[:-1]),
        "body-removed-line": b"".join(lines[:middle] + lines[middle + 1 :]),
        "body-flipped": pem[:100] + bytes([pem[100] ^ 0x01]) + pem[101:],
        "garbage": b"-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n-----END PRIVATE KEY-----\n",
        "not-pem": b"just some bytes",
        "empty": b"",
        "public-key": b"-----BEGIN PUBLIC KEY-----\n"
        + b"".join(lines[1:-1])
        + b"-----END PUBLIC KEY-----\n",
    }


@pytest.mark.parametrize(
    "case",
    [
        "truncated",
        "truncated-at-line",
        "no-footer",
        "body-removed-line",
        "body-flipped",
        "garbage",
        "not-pem",
        "empty",
        "public-key",
    ],
)
def test_broken_pem_is_key_load_error_without_material(rsa2048_key: SigningKey, case: str):
    """A truncated or garbled PEM is a KeyLoadError; message, repr, traceback leak nothing."""
    pem = rsa2048_key.private_pem()
    with pytest.raises(KeyLoadError) as info:
        SigningKey.from_pem(corruptions(pem)[case])
    assert type(info.value) is KeyLoadError
    assert isinstance(info.value, ValueError)
    assert_no_key_material(everything_said(info.value), pem)


def test_from_file_errors_name_the_file(tmp_path: Path, rsa2048_key: SigningKey):
    """from_file errors name the path, never the content; a missing file is KeyLoadError."""
    missing = tmp_path / "missing.pem"
    with pytest.raises(KeyLoadError) as info:
        SigningKey.from_file(missing)
    assert str(missing) == info.value.source
    broken = tmp_path / "broken.pem"
    pem = rsa2048_key.private_pem()
    broken.write_bytes(pem[:-80])
    with pytest.raises(KeyLoadError) as info:
        SigningKey.from_file(broken)
    assert str(broken) in str(info.value)
    assert_no_key_material(everything_said(info.value), pem)


def test_from_file_loads(tmp_path: Path):
    """from_file reads a PEM from disk (with the 1024-bit opt-in passed through)."""
    path = tmp_path / "k.pem"
    path.write_bytes((RFC8463 / "rsa.private.pem").read_bytes())
    assert 1024 == SigningKey.from_file(path, min_rsa_bits=1024).bits
    with pytest.raises(WeakKeyError):
        SigningKey.from_file(path)


def test_unsupported_key_type():
    """An EC key is a KeyLoadError: DKIM signs with RSA or Ed25519 only."""
    from cryptography.hazmat.primitives import serialization

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(KeyLoadError):
        SigningKey.from_pem(pem)


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_bad_seed_length(size: int):
    """An Ed25519 seed that is not 32 bytes is a KeyLoadError."""
    with pytest.raises(KeyLoadError):
        SigningKey.from_ed25519_seed(b"\x01" * size)


def test_signatures_are_deterministic(any_key: SigningKey):
    """Both algorithms sign the same digest to the same bytes, and the signature checks."""
    digest = hashlib.sha256(b"header hash input").digest()
    signature = any_key.sign_digest(digest)
    assert signature == any_key.sign_digest(digest)
    public = any_key.public_key()
    if isinstance(public, ed25519.Ed25519PublicKey):
        public.verify(signature, digest)
    else:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, utils

        assert isinstance(public, rsa.RSAPublicKey)
        public.verify(signature, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))


# -- reprs ----------------------------------------------------------------------------


def test_reprs_hold_no_key_material(
    rsa2048_key: SigningKey, ed_key: SigningKey, ed_key2: SigningKey
):
    """repr/str of keys, specs, rings and policies never contain private key material."""
    ring = KeyRing.from_keys({"mail1": ed_key, "mail2": ed_key2}, active="mail1")
    generic = DefaultGenericPolicy("dkim.brand.example", "gen1", rsa2048_key)
    legacy = LegacyBrandPolicy(ring, {"t1": ["a.example"]}, fallback=generic)
    objects = [
        rsa2048_key,
        ed_key,
        SignatureSpec("a.example", "s", rsa2048_key),
        ring,
        ring.snapshot(),
        generic,
        legacy,
        PerDomainPolicy(generic, {"a.example": legacy}),
    ]
    text = "\n".join(repr(o) + str(o) for o in objects)
    for key in (rsa2048_key, ed_key, ed_key2):
        assert_no_key_material(text, key.private_pem())
    seed = base64.b64decode((RFC8463 / "ed25519.seed.b64").read_text())
    assert base64.b64encode(seed).decode() not in text
    assert seed.hex() not in text
    private = rsa2048_key._private
    assert isinstance(private, rsa.RSAPrivateKey)
    numbers = private.private_numbers()
    for secret in (numbers.d, numbers.p, numbers.q):
        assert str(secret) not in text
        assert hex(secret)[2:20] not in text


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_ed25519_signs_as_cryptography_does(digest: bytes) -> None:
    """Ed25519 is signed by libsodium (it lets other threads run); Ed25519 is deterministic,
    so the signature is exactly cryptography's, which verifies it too."""

    private = ed25519.Ed25519PrivateKey.generate()
    key = SigningKey.from_private_key(private)
    signature = key.sign_digest(digest)
    assert signature == private.sign(digest)
    private.public_key().verify(signature, digest)
