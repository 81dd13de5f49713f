"""
Key text where a path, a name or a setting goes: whatever public key, ring or
configuration function it reaches, the error is an oxdkim error and nothing it carries
(str, repr, traceback, ``source``, cause, suppressed context, CLI stderr) holds a piece
of the key, searched as PEM, base64 DER and hex.
"""

from __future__ import annotations

import base64
import json
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxdkim import (
    Algorithm,
    DefaultGenericPolicy,
    FileKeyStore,
    KeyRing,
    LegacyBrandPolicy,
    OxDkimError,
    SignatureSpec,
    SigningKey,
    load_config,
    signer_from_config,
)
from oxdkim.cli import main

from .conftest import T0

WINDOW = 16
PIECE = 32
"""The shortest piece of a key handed in: a whole key, or what a careless copy leaves of
one. Shorter pieces of base64 letters cannot be told from names, so they may be shown."""
KEYS = [
    SigningKey.generate("ed25519-sha256"),
    SigningKey.generate("ed25519-sha256"),
    SigningKey.generate("rsa-sha256", bits=1024),
]


def encodings(key: SigningKey) -> dict[str, str]:
    """The key's private half in every form a careless caller may hand in."""
    private = serialization.load_pem_private_key(key.private_pem(), password=None)
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    forms = {
        "pem": key.private_pem().decode(),
        "pem-body": "".join(key.private_pem().decode().splitlines()[1:-1]),
        "b64-der": base64.b64encode(der).decode(),
        "hex-der": der.hex(),
        "HEX-der": der.hex().upper(),
    }
    if isinstance(private, ed25519.Ed25519PrivateKey):
        raw = private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        forms["b64-raw"] = base64.b64encode(raw).decode()
        forms["hex-raw"] = raw.hex()
    else:
        forms["pem-traditional"] = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
    return forms


def fragments(key: SigningKey) -> set[str]:
    """16-character windows of every private encoding, less what the public key shows."""
    found: set[str] = set()
    for name, form in encodings(key).items():
        lines = form.splitlines() if name.startswith("pem") else [form]
        text = "".join(line for line in lines if not line.startswith("-----"))
        found |= {text[i : i + WINDOW] for i in range(len(text) - WINDOW + 1)}
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public = base64.b64encode(spki).decode() + spki.hex() + spki.hex().upper()
    return {f for f in found if f not in public}


FRAGMENTS = {key.fingerprint: fragments(key) for key in KEYS}


def everything_in(exc: BaseException) -> str:
    """What an error can show: each of its chain's str, repr, args, attributes, traceback."""
    texts: list[str] = []
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args), repr(vars(current))]
        texts += traceback.format_exception(current)
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
    return "\n".join(texts)


def leaked(key: SigningKey, text: str) -> list[str]:
    return sorted(f for f in FRAGMENTS[key.fingerprint] if f in text)


# --- the functions a careless caller hands key text to --------------------------------

VALID_TOML = """
[brands.b]
mode = "generic"
generic_domain = "dkim.brand.example"
generic_selector = "gen1"
generic_key = "gen1.pem"
"""
SETTINGS = {
    "generic_key": 'generic_key = "gen1.pem"',
    "ring": None,
    "mode": 'mode = "generic"',
    "fallback": None,
    "key_host": None,
    "generic_domain": 'generic_domain = "dkim.brand.example"',
    "generic_selector": 'generic_selector = "gen1"',
    "passphrase_env": None,
    "mail_from": None,
    "spf_include": None,
    "canonicalization": None,
    "headers": None,
    "tenants": None,
    "domains": None,
}


def config_with(directory: Path, setting: str, value: str) -> Path:
    """A configuration file whose ``setting`` holds ``value`` (a brand or tenant name too)."""
    quoted = json.dumps(value)
    text = VALID_TOML
    if setting == "brand-name":
        text = text.replace("[brands.b]", f"[brands.{quoted}]")
    elif setting == "tenant-name":
        text += f'tenants.{quoted} = ["a.example"]\n'
    elif setting == "nameservers":
        text = f"[resolver]\nnameservers = [{quoted}]\n" + text
    elif setting == "zone_files":
        text = f"[resolver]\nzone_files = [{quoted}]\n" + text
    elif setting == "headers":
        text += f'headers = ["from", {quoted}]\n'
    elif setting == "tenants":
        text += f"tenants.t = [{quoted}]\n"
    elif setting == "domains":
        text += f'domains.{quoted} = "refuse"\n'
    else:
        old = SETTINGS[setting]
        text = text.replace(old, "") if old else text
        text += f"{setting} = {quoted}\n"
    path = directory / "oxdkim.toml"
    path.write_text(text)
    return path


def _ring(directory: Path) -> FileKeyStore:
    ring = KeyRing.generate("ed25519-sha256", key_host="keys.example", since=T0)
    return FileKeyStore.create(directory / "good-ring", ring.snapshot())


CALLS: dict[str, Callable[[str | bytes, Path], object]] = {
    "from_file": lambda v, d: SigningKey.from_file(v),  # type: ignore[arg-type]
    "from_file-Path": lambda v, d: SigningKey.from_file(Path(v) if isinstance(v, str) else v),  # type: ignore[arg-type]
    "from_pem": lambda v, d: SigningKey.from_pem(v),
    "from_pem-encrypted": lambda v, d: SigningKey.from_pem(v, password=b"pw"),
    "from_pem-source": lambda v, d: SigningKey.from_pem(b"junk", source=v),  # type: ignore[arg-type]
    "from_ed25519_seed": lambda v, d: SigningKey.from_ed25519_seed(v),  # type: ignore[arg-type]
    "generate": lambda v, d: SigningKey.generate(v),  # type: ignore[arg-type]
    "Algorithm.parse": lambda v, d: Algorithm.parse(v),  # type: ignore[arg-type]
    "store-load": lambda v, d: FileKeyStore(v).load(),  # type: ignore[arg-type]
    "store-create": lambda v, d: FileKeyStore.create(v, _ring(d).load()),  # type: ignore[arg-type]
    "KeyRing.open": lambda v, d: KeyRing.open(FileKeyStore(v)),  # type: ignore[arg-type]
    "from_keys-selector": lambda v, d: KeyRing.from_keys({v: KEYS[0], "b": KEYS[1]}, active="b"),  # type: ignore[dict-item]
    "from_keys-key_host": lambda v, d: KeyRing.from_keys(
        {"a": KEYS[0], "b": KEYS[1]},
        active="a",
        key_host=v,  # type: ignore[arg-type]
    ),
    "ring-activate": lambda v, d: KeyRing.open(_ring(d)).activate(v, now=T0),  # type: ignore[arg-type]
    "ring-stage-selector": lambda v, d: KeyRing.open(_ring(d)).stage(
        KEYS[0],
        selector=v,
        now=T0,  # type: ignore[arg-type]
    ),
    "ring-record_name": lambda v, d: KeyRing.open(_ring(d)).record_name("mail1", v),  # type: ignore[arg-type]
    "store-passphrase": lambda v, d: FileKeyStore(_ring(d).directory, passphrase=v).load(),  # type: ignore[arg-type]
    "generic-domain": lambda v, d: DefaultGenericPolicy(v, "s", KEYS[0]),  # type: ignore[arg-type]
    "generic-selector": lambda v, d: DefaultGenericPolicy("dkim.example", v, KEYS[0]),  # type: ignore[arg-type]
    "brand-tenant-domain": lambda v, d: LegacyBrandPolicy(
        KeyRing.from_keys({"a": KEYS[0], "b": KEYS[1]}, active="a"),
        {"t": [v]},  # type: ignore[list-item]
    ),
    "spec-domain": lambda v, d: SignatureSpec(v, "s", KEYS[0]),  # type: ignore[arg-type]
}


def _config_call(setting: str) -> Callable[[str | bytes, Path], object]:
    def call(value: str | bytes, directory: Path) -> object:
        text = value if isinstance(value, str) else value.decode("latin-1")
        return load_config(config_with(directory, setting, text))

    return call


for _setting in [*SETTINGS, "brand-name", "tenant-name", "nameservers", "zone_files"]:
    CALLS[f"config-{_setting}"] = _config_call(_setting)
CALLS["load_config-path"] = lambda v, d: load_config(v)  # type: ignore[arg-type]
CALLS["config-brand"] = lambda v, d: load_config(config_with(d, "mode", "generic")).brand(v)  # type: ignore[arg-type]
CALLS["signer_from_config"] = lambda v, d: signer_from_config(
    config_with(d, "generic_key", v if isinstance(v, str) else v.decode("latin-1"))
)

WRAPS = ["", "keys/", "/etc/oxdkim/", " ", "\n"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=st.sampled_from(KEYS),
    form=st.sampled_from(
        [
            "pem",
            "pem-body",
            "b64-der",
            "hex-der",
            "HEX-der",
            "b64-raw",
            "hex-raw",
            "pem-traditional",
        ]
    ),
    start=st.integers(min_value=0, max_value=400),
    length=st.one_of(st.none(), st.integers(min_value=PIECE, max_value=600)),
    prefix=st.sampled_from(WRAPS),
    suffix=st.sampled_from(["", ".pem", "\n", "/"]),
    as_bytes=st.booleans(),
    call=st.sampled_from(sorted(CALLS)),
)
def test_no_error_from_a_public_function_carries_the_key_handed_in(
    key: SigningKey,
    form: str,
    start: int,
    length: int | None,
    prefix: str,
    suffix: str,
    as_bytes: bool,
    call: str,
) -> None:
    """Any exception is an OxDkimError, and no window of the key occurs in anything it holds."""
    forms = encodings(key)
    text = forms.get(form, forms["pem"])
    if length is not None:
        start = min(start, max(len(text) - length, 0))
        text = text[start : start + length]
    value: str | bytes = prefix + text + suffix
    if as_bytes:
        value = value.encode()
    error: BaseException | None = None
    with tempfile.TemporaryDirectory() as directory:
        try:
            CALLS[call](value, Path(directory))
        except Exception as exc:
            error = exc
    if error is None:
        return
    assert isinstance(error, OxDkimError), f"{call}: untyped {everything_in(error)[:300]}"
    shown = everything_in(error) + repr(getattr(error, "source", None))
    assert [] == leaked(key, shown + repr(getattr(error, "problems", None))), call


def test_the_search_finds_the_key_when_it_is_there() -> None:
    """The check itself can fail: each form's text is found in itself."""
    for key in KEYS:
        for name, text in encodings(key).items():
            assert leaked(key, text), name


PEM = KEYS[0].private_pem().decode()


@pytest.mark.parametrize(
    "argv",
    [
        ["sign", "--key", PEM, "--domain", "d.example", "--selector", "s"],
        [
            "sign",
            "--key",
            encodings(KEYS[0])["b64-der"],
            "--domain",
            "d.example",
            "--selector",
            "s",
        ],
        ["ring", "status", PEM],
        ["ring", "init", PEM, "--key-host", "keys.example"],
        ["ring", "status", "--passphrase-env", PEM, "RING"],
        ["ring", "activate", "RING", PEM],
        ["ring", "stage", "RING", "--selector", PEM],
        ["keygen", "--out", PEM],
        ["keygen", "--out", encodings(KEYS[0])["b64-der"]],
    ],
    ids=[
        "sign-pem",
        "sign-b64",
        "ring-status",
        "ring-init",
        "passphrase-env",
        "activate",
        "stage",
        "keygen-pem",
        "keygen-b64",
    ],
)
def test_the_cli_never_prints_key_text_given_where_a_path_goes(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
) -> None:
    """`oxdkim sign --key "$(cat key.pem)"` and friends: exit 2, one line, no key."""
    message = tmp_path / "m.eml"
    message.write_bytes(b"From: a@d.example\r\n\r\nbody\r\n")
    ring = _ring(tmp_path).directory
    argv = [str(ring) if a == "RING" else a for a in argv]
    if argv[0] == "sign":
        argv.append(str(message))
    monkeypatch.chdir(tmp_path)
    code = main(argv)
    captured = capsys.readouterr()
    assert 2 == code, captured
    assert ["m.eml", "good-ring"] == sorted(p.name for p in tmp_path.iterdir())[::-1]
    assert [] == leaked(KEYS[0], captured.out + captured.err)
    assert "Traceback" not in captured.err
