"""
No private key material in any repr, log line, exception text or CLI output.

Every key built during these tests is recorded (``SigningKey.from_private_key`` is the
one door every key passes, including those the CLI and the demo generate). The tests
then sign, fail in every way (bad key, bad message, refused policy, key store errors),
log at DEBUG with capture on, run the CLI commands, and search everything that came out
for fragments of each key: its PEM body (PKCS#8 and traditional), its raw private bytes
in base64 and hex, and the RSA private numbers in hex and decimal. The key generator's
TXT record (the public key) is expected output.
"""

from __future__ import annotations

import base64
import logging
import traceback
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from oxdkim import (
    Algorithm,
    DefaultGenericPolicy,
    FileKeyStore,
    KeyRing,
    LegacyBrandPolicy,
    OxDkimError,
    PerDomainPolicy,
    RefusePolicy,
    Signer,
    SigningKey,
)
from oxdkim.cli import main
from oxdkim.policies import TenantGuard

from .support import ALICE, ALICE_DOMAIN, BOB, BOB_DOMAIN, NOW, TENANTS, brand_zone, clock, verifier

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
WINDOW = 16  # characters of a fragment; long enough never to occur by chance


def _windows(text: str, step: int = 4) -> set[str]:
    return {text[i : i + WINDOW] for i in range(0, max(len(text) - WINDOW, 0) + 1, step)}


def secret_fragments(pem: bytes) -> set[str]:
    """Fragments of the private key in ``pem`` in every encoding searched for."""
    private = serialization.load_pem_private_key(pem, password=None)
    pem_bodies = [
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    ]
    raw: list[bytes] = []
    numbers: list[int] = []
    if isinstance(private, rsa.RSAPrivateKey):
        pem_bodies.append(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
        n = private.private_numbers()
        numbers = [n.d, n.p, n.q, n.dmp1, n.dmq1, n.iqmp]
    else:
        assert isinstance(private, ed25519.Ed25519PrivateKey)
        raw.append(
            private.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        )
    found: set[str] = set()
    for pem in pem_bodies:
        lines = pem.decode("ascii").splitlines()
        found |= _windows("".join(line for line in lines if not line.startswith("-----")))
    for secret in raw:
        for text in (
            base64.b64encode(secret).decode(),
            base64.urlsafe_b64encode(secret).decode(),
            secret.hex(),
            secret.hex().upper(),
        ):
            found |= _windows(text, step=1)
    for number in numbers:
        found |= _windows(f"{number:x}") | _windows(f"{number:X}") | _windows(str(number))
    # Drop what is public anyway: fragments that also occur in the public key's encodings.
    spki = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public = base64.b64encode(spki).decode() + spki.hex()
    return {fragment for fragment in found if fragment not in public}


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> list[SigningKey]:
    """Every SigningKey built while the test runs (CLI and demo keys included)."""
    built: list[SigningKey] = []
    original = SigningKey.from_private_key.__func__  # type: ignore[attr-defined]

    def recording(cls: type[SigningKey], *args: object, **kwargs: object) -> SigningKey:
        key = original(cls, *args, **kwargs)
        built.append(key)
        return key

    monkeypatch.setattr(SigningKey, "from_private_key", classmethod(recording))
    return built


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every logger at DEBUG (oxdkim's, cryptography's, dnspython's, asyncio's)."""
    caplog.set_level(logging.DEBUG)
    return caplog


def exception_texts(exc: BaseException) -> list[str]:
    """The error's str and repr, its traceback, and those of every cause and context."""
    texts = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), *traceback.format_exception(current)]
        current = current.__cause__ or current.__context__
    return texts


def assert_no_key_material(
    keys: list[SigningKey], texts: list[str], extra_pems: tuple[bytes, ...] = ()
) -> None:
    """No fragment of any key (recorded, or given as PEM) occurs in any text."""
    assert keys, "no key was recorded: the search would prove nothing"
    pems = [key.private_pem() for key in keys] + list(extra_pems)
    fragments = set().union(*(secret_fragments(pem) for pem in pems))
    blob = "\n".join(texts)
    leaked = sorted(f for f in fragments if f in blob)
    assert [] == leaked


def test_the_search_finds_material_when_it_is_there(keys: list[SigningKey]):
    """The search is able to fail: PEM text, seed hex and RSA numbers are all found."""
    ed = SigningKey.generate(Algorithm.ED25519_SHA256)
    rsa_key = SigningKey.generate(Algorithm.RSA_SHA256, bits=2048)
    private = serialization.load_pem_private_key(rsa_key.private_pem(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    seed = serialization.load_pem_private_key(ed.private_pem(), password=None)
    assert isinstance(seed, ed25519.Ed25519PrivateKey)
    raw_seed = seed.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    for text in (
        ed.private_pem().decode(),
        rsa_key.private_pem().decode().splitlines()[5],
        raw_seed.hex()[3:40],
        base64.b64encode(raw_seed).decode()[2:30],
        f"{private.private_numbers().d:x}"[100:140],
        str(private.private_numbers().p)[10:60],
    ):
        with pytest.raises(AssertionError):
            assert_no_key_material(keys, [text])
    assert_no_key_material(keys, [rsa_key.txt_record(), ed.txt_record(), rsa_key.fingerprint])


def test_signing_and_verifying_reveal_nothing(
    keys: list[SigningKey], debug_logs: pytest.LogCaptureFixture
):
    """Reprs of keys, rings, policies, signers, specs, decisions and results; debug logs."""
    ring = KeyRing.from_keys(
        {
            "mail1": SigningKey.generate("ed25519-sha256"),
            "mail2": SigningKey.generate("ed25519-sha256"),
        },
        active="mail1",
    )
    rsa_key = SigningKey.generate("rsa-sha256", bits=2048)
    generic = DefaultGenericPolicy("dkim.brand.example", "gen1", rsa_key)
    brand = LegacyBrandPolicy(ring, TENANTS, fallback=generic)
    policies = [
        generic,
        brand,
        PerDomainPolicy(generic, {BOB_DOMAIN: brand}),
        TenantGuard(PerDomainPolicy(generic, {BOB_DOMAIN: brand}), TENANTS),
    ]
    texts: list[str] = []
    message = f"From: a@{ALICE_DOMAIN}\r\nSubject: s\r\n\r\nbody\r\n".encode()
    for policy in policies:
        signer = Signer(policy, clock=clock)
        for tenant in (ALICE, BOB, None):
            decision = signer.decide(message, tenant=tenant)
            texts += [repr(decision), str(decision), repr(decision.signatures)]
            if decision.signs:
                results = signer.sign(message, tenant=tenant)
                texts += [repr(results), str(results), *(r.header.decode() for r in results)]
                verdicts = verifier(brand_zone()).verify(results[0].header + message)
                texts += [repr(verdicts)]
        texts += [repr(policy), str(policy), repr(signer)]
    texts += [repr(ring), repr(ring.snapshot()), repr(ring.snapshot().slots), repr(rsa_key)]
    texts += [str(ring.txt_records()), repr(ring.status(now=NOW))]
    texts += [record.getMessage() for record in debug_logs.records] + [debug_logs.text]
    assert_no_key_material(keys, texts)


def test_failures_reveal_nothing(
    keys: list[SigningKey], debug_logs: pytest.LogCaptureFixture, tmp_path: Path
):
    """
    Errors from bad keys (truncated, corrupted, wrong or missing passphrase, too small),
    bad messages, refusals and key-store problems carry no key material, not even in
    their tracebacks, causes or contexts.
    """
    rsa_key = SigningKey.generate("rsa-sha256", bits=2048)
    ed = SigningKey.generate("ed25519-sha256")
    pem = rsa_key.private_pem()
    encrypted = rsa_key.private_pem(password=b"secret")
    weak = (VECTORS / "generate" / "rsa-1016.private.pem").read_bytes()
    bad_inputs = [
        pem[: len(pem) // 2],
        pem.replace(b"\nM", b"\n!", 1),
        pem[:-40] + b"AAAA" + pem[-40:],
        pem.replace(b"PRIVATE KEY", b"PUBLIC KEY"),
        pem.replace(b"-----END", b"-----XEND"),
        encrypted,
        ed.private_pem()[:-30],
    ]
    errors: list[BaseException] = []
    for data in bad_inputs:
        for password in (None, b"wrong"):
            with pytest.raises(OxDkimError) as caught:
                SigningKey.from_pem(data, password=password)
            errors.append(caught.value)
    with pytest.raises(OxDkimError) as caught:
        SigningKey.from_pem(weak)
    errors.append(caught.value)
    key_file = tmp_path / "truncated.pem"
    key_file.write_bytes(pem[:300])
    with pytest.raises(OxDkimError) as caught:
        SigningKey.from_file(key_file)
    errors.append(caught.value)

    signer = Signer(
        LegacyBrandPolicy(KeyRing.from_keys({"a": ed, "b": ed_key()}, active="a"), TENANTS),
        clock=clock,
    )
    for message, tenant in [
        (b"From: a@alice.example\r\nX\r\n\r\n", ALICE),
        (b"From: a@bob.example\r\n\r\n", ALICE),
        (b"From: a@alice.example, b@bob.example\r\n\r\n", ALICE),
        (b"\0", ALICE),
        (b"From: a@alice.example\r\n\r\n", None),
    ]:
        with pytest.raises(OxDkimError) as caught:
            signer.sign(message, tenant=tenant)
        errors.append(caught.value)
    with pytest.raises(OxDkimError) as caught:
        Signer(RefusePolicy(), clock=clock).sign(b"From: a@alice.example\r\n\r\n")
    errors.append(caught.value)

    ring_dir = tmp_path / "ring"
    store = FileKeyStore.create(
        ring_dir, KeyRing.from_keys({"a": ed, "b": ed_key()}, active="a").snapshot()
    )
    key_path = next((ring_dir / "keys").glob("*.pem"))
    key_path.chmod(0o644)
    with pytest.raises(OxDkimError) as caught:
        store.load()
    errors.append(caught.value)
    key_path.chmod(0o600)
    key_path.write_bytes(key_path.read_bytes()[:-50])
    with pytest.raises(OxDkimError) as caught:
        store.load()
    errors.append(caught.value)
    with pytest.raises(OxDkimError) as caught:
        FileKeyStore(ring_dir, passphrase=b"not used").load()
    errors.append(caught.value)

    texts = [text for error in errors for text in exception_texts(error)]
    texts += [debug_logs.text, *(r.getMessage() for r in debug_logs.records)]
    assert_no_key_material(keys, texts, extra_pems=(weak,))


def ed_key() -> SigningKey:
    """A fresh Ed25519 key (built through the recorded door)."""
    return SigningKey.generate("ed25519-sha256")


def run_cli(
    argv: list[str], capsys: pytest.CaptureFixture[str], expect: int | None = None
) -> list[str]:
    """Run the CLI in-process; return its exit code, stdout and stderr as texts."""
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse usage errors
        code = exit_.code  # type: ignore[assignment]
    out, err = capsys.readouterr()
    assert expect is None or expect == code, (argv, err)
    return [str(code), out, err]


def test_cli_output_reveals_nothing(
    keys: list[SigningKey],
    debug_logs: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    """
    keygen, sign, verify, ring init/status/stage/confirm/activate, records, demo and
    their failures print records, signatures and reasons, never key material (keygen's
    TXT record is the public key; the PEM goes only to the 0600 file).
    """
    monkeypatch.setenv("OXDKIM_TEST_PASSPHRASE", "correct horse")
    ed_file, rsa_file = tmp_path / "ed.pem", tmp_path / "rsa.pem"
    message = tmp_path / "m.eml"
    message.write_bytes(f"From: a@{ALICE_DOMAIN}\r\nSubject: s\r\n\r\nbody\r\n".encode())
    broken = tmp_path / "broken.pem"
    ring_dir = tmp_path / "ring"
    texts: list[str] = []
    texts += run_cli(["keygen", "--algorithm", "ed25519-sha256", "--out", str(ed_file)], capsys, 0)
    texts += run_cli(["keygen", "--out", str(rsa_file), "--domain", ALICE_DOMAIN], capsys, 0)
    assert (ed_file.stat().st_mode & 0o777) == 0o600
    broken.write_bytes(rsa_file.read_bytes()[:500])
    signed = tmp_path / "signed.eml"
    for key_file in (ed_file, rsa_file, broken):
        result = run_cli(
            [
                "sign",
                str(message),
                "--key",
                str(key_file),
                "--domain",
                ALICE_DOMAIN,
                "--selector",
                "s",
            ],
            capsys,
        )
        texts += result
        if result[0] == "0":
            signed.write_text(result[1])
    zone = tmp_path / "zone"
    zone.write_text(f'$ORIGIN .\ns._domainkey.{ALICE_DOMAIN} 300 IN TXT "v=DKIM1; p="\n')
    texts += run_cli(["verify", str(signed), "--zone", str(zone)], capsys)
    texts += run_cli(
        ["sign", str(message), "--key", str(message), "--domain", ALICE_DOMAIN, "--selector", "s"],
        capsys,
    )
    encrypted = ["--passphrase-env", "OXDKIM_TEST_PASSPHRASE"]
    texts += run_cli(
        ["ring", "init", str(tmp_path / "locked"), "--key-host", "keys.brand.example", *encrypted],
        capsys,
    )
    texts += run_cli(["ring", "status", str(tmp_path / "locked"), *encrypted], capsys)
    texts += run_cli(["ring", "stage", str(tmp_path / "locked"), *encrypted], capsys)
    texts += run_cli(["ring", "status", str(tmp_path / "locked")], capsys)  # no passphrase
    at = ["--now", "2026-03-01T12:00:00+00:00"]
    later = ["--now", "2026-03-09T12:00:00+00:00"]
    ring = ["--key-host", "keys.brand.example", "--algorithm", "ed25519-sha256"]
    texts += run_cli(["ring", "init", str(ring_dir), *ring, *at], capsys, 0)
    records = run_cli(["records", "--ring", str(ring_dir), "--domain", ALICE_DOMAIN], capsys)
    texts += records
    published = tmp_path / "published.zone"
    published.write_text("$ORIGIN .\n$TTL 300\n" + records[1])
    texts += run_cli(
        ["ring", "confirm", str(ring_dir), "mail1", "--zone", str(published), *at], capsys
    )
    texts += run_cli(["ring", "activate", str(ring_dir), "mail1", *later], capsys)
    texts += run_cli(["ring", "stage", str(ring_dir), *later], capsys)
    texts += run_cli(
        ["ring", "confirm", str(ring_dir), "mail2", "--zone", str(zone), *later], capsys
    )
    texts += run_cli(["ring", "status", str(ring_dir), *later], capsys)
    texts += run_cli(
        ["records", "--ring", str(ring_dir), "--json", "--generic", f"g.example:s:{ed_file}"],
        capsys,
    )
    texts += run_cli(["demo", "--algorithm", "ed25519-sha256"], capsys, 0)
    texts += run_cli(["demo", "--json"], capsys, 0)
    texts += [debug_logs.text, *(r.getMessage() for r in debug_logs.records)]
    assert len(keys) >= 6
    assert_no_key_material(keys, texts)
    # The PEM is on disk (mode 0600), and only there.
    assert b"PRIVATE KEY" in ed_file.read_bytes()
    assert not any("PRIVATE KEY" in text for text in texts)


def test_key_files_are_private(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Key files the CLI and the key store write are mode 0600 in 0700 directories."""
    run_cli(["keygen", "--algorithm", "ed25519-sha256", "--out", str(tmp_path / "k.pem")], capsys)
    assert 0o600 == (tmp_path / "k.pem").stat().st_mode & 0o777
    ring_dir = tmp_path / "ring"
    ring = KeyRing.from_keys({"a": ed_key(), "b": ed_key()}, active="a")
    FileKeyStore.create(ring_dir, ring.snapshot())
    assert 0o700 == ring_dir.stat().st_mode & 0o777
    for path in (ring_dir / "keys").iterdir():
        assert 0o600 == path.stat().st_mode & 0o777
    assert 0o600 == (ring_dir / "ring.json").stat().st_mode & 0o777
