"""
Every bad value in a configuration file is reported at its setting's place, and no
empty or zero value silently means "default".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oxdkim import ConfigFileError, SigningKey, load_config
from oxdkim.cli import main

VALID = """
[resolver]
nameservers = ["192.0.2.53"]

[brands.b]
mode = "generic"
generic_domain = "dkim.brand.example"
generic_selector = "gen1"
generic_key = "gen1.pem"
"""

# (setting as TOML, the place every problem must name)
BAD = [
    ('mode = ""', "brands.b.mode"),
    ('mode = "   "', "brands.b.mode"),
    ('mode = "aligned"', "brands.b.mode"),
    ("mode = 1", "brands.b.mode"),
    ('fallback = ""', "brands.b.fallback"),
    ('fallback = "legacy"', "brands.b.fallback"),
    ("expire = 0", "brands.b.expire"),
    ("expire = -1", "brands.b.expire"),
    ("expire = 99999999999999", "brands.b.expire"),
    ("expire = 1.5", "brands.b.expire"),
    ("expire = true", "brands.b.expire"),
    ('expire = "7d"', "brands.b.expire"),
    ("min_rsa_bits = 0", "brands.b.min_rsa_bits"),
    ("min_rsa_bits = 512", "brands.b.min_rsa_bits"),
    ("min_rsa_bits = -2048", "brands.b.min_rsa_bits"),
    ("min_rsa_bits = 1000000", "brands.b.min_rsa_bits"),
    ('min_rsa_bits = "2048"', "brands.b.min_rsa_bits"),
    ('generic_key = ""', "brands.b.generic_key"),
    ('ring = ""', "brands.b.ring"),
    ('key_host = ""', "brands.b.key_host"),
    ('mail_from = ""', "brands.b.mail_from"),
    ('spf_include = ""', "brands.b.spf_include"),
    ('canonicalization = ""', "brands.b.canonicalization"),
    ('canonicalization = "loose"', "brands.b.canonicalization"),
    ('passphrase_env = ""', "brands.b.passphrase_env"),
    ('passphrase_env = "correct horse battery"', "brands.b.passphrase_env"),
    ('generic_domain = ""', "brands.b.generic_domain"),
    ('generic_selector = ""', "brands.b.generic_selector"),
    ("headers = []", "brands.b.headers"),
    ('headers = ["to"]', "brands.b.headers"),
    ('headers = ["from", 7]', "brands.b.headers[1]"),
    ('headers = ["from", ""]', "brands.b.headers[1]"),
    ('headers = "from"', "brands.b.headers"),
    ('oversign = "yes"', "brands.b.oversign"),
    ("tenants = []", "brands.b.tenants"),
    ('tenants.t = "a.example"', "brands.b.tenants.t"),
    ('tenants.t = ["a.example", ""]', "brands.b.tenants.t[1]"),
    ("tenants.t = [1]", "brands.b.tenants.t[0]"),
    ('domains."a.example" = ""', 'brands.b.domains."a.example"'),
    ('domains."a.example" = "sign"', 'brands.b.domains."a.example"'),
    ('domains."" = "refuse"', 'brands.b.domains.""'),
    ('[resolver]\nnameservers = ["not-an-ip"]', "resolver.nameservers[0]"),
    ('[resolver]\nnameservers = ["192.0.2.1", "192.0.2.2:99999"]', "resolver.nameservers[1]"),
    ('[resolver]\nnameservers = [""]', "resolver.nameservers[0]"),
    ("[resolver]\nnameservers = [53]", "resolver.nameservers[0]"),
    ("[resolver]\nnameservers = []", "resolver.nameservers"),
    ('[resolver]\nnameservers = "192.0.2.53"', "resolver.nameservers"),
    ("[resolver]\nzone_files = [1]", "resolver.zone_files[0]"),
    ('[resolver]\nzone_files = ["a.zone", ""]', "resolver.zone_files[1]"),
    ("[resolver]\ntimeout = 0", "resolver.timeout"),
    ("[resolver]\ntimeout = -1.0", "resolver.timeout"),
    ("[resolver]\ntimeout = nan", "resolver.timeout"),
    ("[resolver]\ntimeout = inf", "resolver.timeout"),
    ("[resolver]\ntimeout = 1e9", "resolver.timeout"),
    ("[resolver]\ntimeout = true", "resolver.timeout"),
]


def write(tmp_path: Path, setting: str) -> Path:
    """VALID with one setting added to brand b (or a [resolver] table replaced)."""
    if setting.startswith("[resolver]"):
        text = VALID.replace('[resolver]\nnameservers = ["192.0.2.53"]\n', setting + "\n")
    else:
        key = setting.split(" = ", maxsplit=1)[0] + " = "
        kept = [line for line in VALID.splitlines() if not line.startswith(key)]
        text = "\n".join(kept) + "\n" + setting + "\n"
    path = tmp_path / "oxdkim.toml"
    path.write_text(text)
    return path


def test_the_valid_file_loads(tmp_path: Path) -> None:
    """The base of the cases below is itself accepted, so each case tests one setting."""
    config = load_config(write(tmp_path, ""))
    assert ("192.0.2.53",) == config.resolver.nameservers


@pytest.mark.parametrize(("setting", "place"), BAD, ids=[s for s, _ in BAD])
def test_a_bad_value_is_reported_at_its_place(tmp_path: Path, setting: str, place: str) -> None:
    """Every problem the bad value causes names the setting that holds it, and only it."""
    with pytest.raises(ConfigFileError) as info:
        load_config(write(tmp_path, setting))
    places = [problem.place for problem in info.value.problems]
    assert [place] == places, info.value


@pytest.mark.parametrize(
    ("setting", "place"),
    [BAD[0], BAD[6], BAD[12], BAD[-13]],
    ids=["mode", "expire", "min_rsa_bits", "nameservers"],
)
def test_the_cli_reports_the_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, place: str
) -> None:
    """`oxdkim ring status --config`: exit 2, the place on stderr, no traceback."""
    path = write(tmp_path, setting)
    assert 2 == main(["ring", "status", "--config", str(path)])
    err = capsys.readouterr().err
    assert f"  {place}: " in err
    assert "Traceback" not in err


def test_a_generic_key_given_as_key_text_is_refused_unseen(tmp_path: Path) -> None:
    """`generic_key = \"\"\"-----BEGIN ...\"\"\"`: refused at its place, nothing of it shown."""
    pem = SigningKey.generate("ed25519-sha256").private_pem().decode()
    path = write(tmp_path, "").with_name("k.toml")
    path.write_text(VALID.replace('"gen1.pem"', f'"""{pem}"""'))
    with pytest.raises(ConfigFileError) as info:
        load_config(path)
    assert ["brands.b.generic_key"] == [p.place for p in info.value.problems]
    body = "".join(pem.splitlines()[1:-1])
    text = str(info.value) + repr(info.value) + repr(info.value.problems)
    assert all(body[i : i + 16] not in text for i in range(len(body) - 16))
