"""The brand configuration file: validation with places, and a Signer in one call."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from oxdkim import (
    ConfigFileError,
    KeyRing,
    SigningKey,
    SigningRefusedError,
    load_config,
    signer_from_config,
)
from oxdkim._keys.keystore import FileKeyStore
from oxdkim.cli import main
from oxdkim.exceptions import ConfigurationError

MESSAGE = b"From: a@{domain}\r\nTo: b@example.net\r\nSubject: s\r\n\r\nbody\r\n"


def msg(domain: str) -> bytes:
    return MESSAGE.replace(b"{domain}", domain.encode())


@pytest.fixture
def brand_dir(tmp_path: Path) -> Path:
    """A brand on disk: generic key file, ring directory, configuration file."""
    generic = SigningKey.generate("ed25519-sha256")
    (tmp_path / "gen1.pem").write_bytes(generic.private_pem())
    (tmp_path / "gen1.pem").chmod(0o600)
    ring = KeyRing.generate("ed25519-sha256", key_host="keys.brandmail.example")
    FileKeyStore.create(tmp_path / "ring", ring.snapshot())
    (tmp_path / "oxdkim.toml").write_text(
        textwrap.dedent(
            """
            [brands.brandmail]
            mode = "legacy"
            generic_domain = "dkim.brandmail.example"
            generic_selector = "gen1"
            generic_key = "gen1.pem"
            key_host = "keys.brandmail.example"
            ring = "ring"
            fallback = "generic"

            [brands.brandmail.tenants]
            acme = ["acme.example", "acme-news.example"]
            globex = ["globex.example"]

            [brands.brandmail.domains]
            "acme-news.example" = "generic"
            "globex.example" = "refuse"
            """
        )
    )
    return tmp_path


def test_a_signer_from_the_file_in_one_call(brand_dir: Path) -> None:
    """Legacy default, generic override, refuse override, tenant fallback: all as configured."""
    signer = signer_from_config(brand_dir / "oxdkim.toml")
    [aligned] = signer.sign(msg("acme.example"), tenant="acme")
    assert ("acme.example", "mail1") == (aligned.domain, aligned.selector)
    [override] = signer.sign(msg("acme-news.example"), tenant="acme")
    assert "dkim.brandmail.example" == override.domain
    [fallback] = signer.sign(msg("acme.example"), tenant="globex")
    assert "dkim.brandmail.example" == fallback.domain
    assert "belongs to another tenant" in fallback.reason
    with pytest.raises(SigningRefusedError):
        signer.sign(msg("globex.example"), tenant="globex")


def test_every_problem_is_reported_with_its_place(tmp_path: Path) -> None:
    """Missing keys, a doubly owned domain, a bad selector, an unknown mode: all at once."""
    path = tmp_path / "bad.toml"
    path.write_text(
        textwrap.dedent(
            """
            [brands.one]
            mode = "aligned-ish"
            generic_domain = "dkim.one.example"
            generic_selector = "gen;1"
            tenants = { a = ["shared.example"], b = ["shared.example"] }

            [brands.two]
            mode = "legacy"
            """
        )
    )
    with pytest.raises(ConfigFileError) as info:
        load_config(path)
    places = {problem.place for problem in info.value.problems}
    assert {
        "brands.one.mode",
        "brands.one.generic_selector",
        "brands.one.generic_key",
        "brands.one.tenants.b[0]",
        "brands.two.key_host",
        "brands.two.ring",
    } <= places
    assert "shared.example is also owned by tenant 'a'" in str(info.value)


def test_toml_syntax_errors_and_unknown_settings(tmp_path: Path) -> None:
    """A syntax error names its line; a misspelt setting is not silently ignored."""
    path = tmp_path / "c.toml"
    path.write_text("[brands.x\nmode = 1\n")
    with pytest.raises(ConfigFileError, match="line 1"):
        load_config(path)
    path.write_text('[brands.x]\nmode = "generic"\ngeneric_dommain = "a.example"\n')
    with pytest.raises(ConfigFileError) as info:
        load_config(path)
    assert "brands.x.generic_dommain" in {p.place for p in info.value.problems}


def test_a_key_that_does_not_load_names_the_setting(brand_dir: Path) -> None:
    """Building the signer reports the setting and the file that failed."""
    (brand_dir / "gen1.pem").write_text("not a key")
    with pytest.raises(ConfigurationError) as info:
        signer_from_config(brand_dir / "oxdkim.toml")
    assert "brands.brandmail.generic_key" in str(info.value)
    assert "gen1.pem" in str(info.value)


def test_the_command_line_reports_all_problems_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`oxdkim sign --config bad.toml` exits 2 with every problem on stderr."""
    path = tmp_path / "bad.toml"
    path.write_text('[brands.x]\nmode = "weird"\n')
    code = main(["sign", "--config", str(path), str(tmp_path / "m.eml")])
    err = capsys.readouterr().err
    assert 2 == code
    assert "brands.x.mode: unknown mode 'weird'" in err
    assert "Traceback" not in err


def test_commands_take_the_brand_from_the_file(
    brand_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """records, ring status and sign all work from --config alone."""
    config = str(brand_dir / "oxdkim.toml")
    assert 0 == main(["records", "--config", config])
    zone = capsys.readouterr().out
    assert "mail1._domainkey.acme.example.\t3600\tIN\tCNAME" in zone
    assert "acme-news.example" not in zone  # signs generic: needs no CNAMEs
    assert "gen1._domainkey.dkim.brandmail.example." in zone
    assert 0 == main(["ring", "status", "--config", config])
    assert "mail1    active" in capsys.readouterr().out
    message = tmp_path / "m.eml"
    message.write_bytes(msg("acme.example"))
    assert 0 == main(["sign", "--config", config, "--tenant", "acme", str(message)])
    assert "d=acme.example;" in capsys.readouterr().out


def test_check_takes_ring_domains_and_dns_from_the_file(
    brand_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`oxdkim check --config` audits every aligned domain of the brand, DNS from the file."""
    from oxdkim._keys.records import brand_records, render_zone

    ring = FileKeyStore(brand_dir / "ring").load()
    zone = brand_dir / "brand.zone"
    # acme.example publishes its CNAMEs; globex.example (refused) and acme-news (generic)
    # are not aligned domains, so they are not audited.
    zone.write_text(render_zone(brand_records(ring=ring, legacy_domains=["acme.example"])))
    config = brand_dir / "oxdkim.toml"
    config.write_text(
        config.read_text().replace(
            "[brands.brandmail]", f'[resolver]\nzone_files = ["{zone}"]\n\n[brands.brandmail]'
        )
    )
    code = main(["check", "--config", str(config), "--no-progress"])
    out = capsys.readouterr().out
    assert 0 == code, out
    assert "audited 1 domain against keys.brandmail.example (mail1, mail2)" in out
    assert "ok 1" in out
