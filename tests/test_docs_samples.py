"""
Every code sample in the docs runs. `pycon` sessions run as doctests (pytest's
--doctest-glob over docs/*.md); this file runs the Python, TOML and shell samples.

A cross-cutting test of the whole package: it stays at the top of tests/ (the
folders below mirror src/oxdkim, one per package).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from oxdkim import FileKeyStore, KeyRing, SigningKey, load_config
from oxdkim.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def samples(document: str, language: str) -> list[str]:
    text = (ROOT / document).read_text(encoding="utf-8")
    return [body for lang, body in FENCE.findall(text) if lang == language]


def test_readme_example_signs_aligned() -> None:
    """The README's Python sample signs d=acme.example for tenant acme."""
    [code] = samples("README.md", "python")
    namespace: dict[str, object] = {
        "message_bytes": b"From: Ann <ann@acme.example>\r\nSubject: hi\r\n\r\nbody\r\n"
    }
    exec(compile(code, "README.md", "exec"), namespace)
    assert "acme.example" == namespace["result"].domain  # type: ignore[attr-defined]
    assert namespace["outgoing"].startswith(b"DKIM-Signature: v=1; a=rsa-sha256;")  # type: ignore[attr-defined]


@pytest.fixture
def configured(tmp_path: Path) -> Path:
    """The configuration page's complete file, with its key file and ring made for real."""
    # the complete file; the page's other samples are fragments ([store])
    [toml] = [s for s in samples("docs/configuration.md", "toml") if "[brands." in s]
    (tmp_path / "keys").mkdir()
    key = tmp_path / "keys" / "gen1.pem"
    key.write_bytes(SigningKey.generate("rsa-sha256").private_pem())
    key.chmod(0o600)
    (tmp_path / "rings").mkdir()
    ring = KeyRing.generate("rsa-sha256", key_host="keys.brandmail.example")
    FileKeyStore.create(tmp_path / "rings" / "brandmail", ring.snapshot())
    path = tmp_path / "oxdkim.toml"
    path.write_text(toml)
    return path


def test_the_complete_configuration_file_is_valid(configured: Path) -> None:
    """The TOML sample validates, and the Python sample builds a signer from it."""
    config = load_config(configured)
    brand = config.brand("brandmail")
    assert ("legacy", "generic") == (brand.mode, brand.domains["acme-news.example"])
    assert ("192.0.2.53", "[2001:db8::53]:5353") == config.resolver.nameservers
    [code] = samples("docs/configuration.md", "python")
    namespace: dict[str, object] = {}
    exec(
        compile(
            code.replace("/etc/oxdkim/oxdkim.toml", str(configured)), "configuration.md", "exec"
        ),
        namespace,
    )
    message = b"From: a@acme.example\r\nSubject: s\r\n\r\nbody\r\n"
    [result] = namespace["signer"].sign(message, tenant="acme")  # type: ignore[attr-defined]
    assert ("acme.example", "mail1") == (result.domain, result.selector)


def test_the_fixture_sample_passes_under_pytest(tmp_path: Path) -> None:
    """The testing page's test function passes with the plugin's fixtures (a real pytest run)."""
    [code] = samples("docs/testing.md", "python")
    (tmp_path / "test_sample.py").write_text(code)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         str(tmp_path / "test_sample.py")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert 0 == done.returncode, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_the_command_line_page_signs_from_the_shell(tmp_path: Path) -> None:
    """keygen then sign, as written; the signed message then verifies against the record."""
    [script] = samples("docs/cli.md", "sh")
    (tmp_path / "message.eml").write_bytes(b"From: a@acme.example\r\nSubject: s\r\n\r\nbody\r\n")
    oxdkim = f"{shlex.quote(sys.executable)} -m oxdkim"
    outputs = []
    for line in script.strip().splitlines():
        command = re.sub(r"^oxdkim ", oxdkim + " ", line)
        done = subprocess.run(
            command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert 0 == done.returncode, done.stderr
        outputs.append(done.stdout)
    record = next(line for line in outputs[0].splitlines() if "TXT" in line)
    (tmp_path / "key.zone").write_text(record + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "oxdkim", "verify", "--zone", "key.zone", "signed.eml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.stdout.startswith("pass\td=dkim.brandmail.example\ts=gen1"), done.stdout


@pytest.mark.parametrize("document", ["docs/audit.md"])
def test_shell_samples_that_need_a_network_are_valid_commands(document: str) -> None:
    """Samples that need live DNS are parsed by the real argument parser."""
    for script in samples(document, "sh"):
        argv = shlex.split(textwrap.dedent(script).replace("\\\n", " "))
        assert "oxdkim" == argv[0]
        args = build_parser().parse_args(argv[1:])
        assert callable(args.func)
