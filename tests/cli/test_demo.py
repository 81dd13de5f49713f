"""`oxdkim demo` as an operator runs it: a subprocess, checked by what it reports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.fixture(scope="module", params=["rsa-sha256", "ed25519-sha256"])
def report(request: pytest.FixtureRequest) -> dict:  # type: ignore[type-arg]
    done = subprocess.run(
        [sys.executable, "-m", "oxdkim", "demo", "--json", "--algorithm", request.param],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert 0 == done.returncode, done.stderr.decode()
    assert b"" == done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_both_modes_verify(report: dict) -> None:  # type: ignore[type-arg]
    """Generic signatures pass everywhere; aligned ones pass where the CNAMEs are right."""
    assert ["pass", "pass", "pass"] == [row["dkim"] for row in report["generic"]]
    aligned = {row["domain"]: (row["dkim"], row["dkim_reason"]) for row in report["aligned"]}
    assert ("pass", None) == aligned["acme.example"]
    assert ("permerror", "no-key") == aligned["globex.example"]  # its CNAMEs are missing
    assert all(row["dkimpy_agrees"] for row in report["aligned"] if row["dkim"] == "pass")


def test_dmarc_verdicts_follow_the_mode(report: dict) -> None:  # type: ignore[type-arg]
    """Generic never aligns (fail where a policy exists); aligned passes where DKIM passed."""
    generic = {row["domain"]: (row["dmarc"], row["disposition"]) for row in report["generic"]}
    assert ("fail", "reject") == generic["acme.example"]
    assert ("fail", "quarantine") == generic["globex.example"]
    assert "none" == generic["initech.example"][0]
    aligned = {row["domain"]: row["dmarc"] for row in report["aligned"]}
    assert {"acme.example": "pass", "globex.example": "fail", "initech.example": "none"} == aligned


def test_the_rollover_keeps_mail_verifying(report: dict) -> None:  # type: ignore[type-arg]
    """Mail signed before the rollover verifies at every step until its key is revoked."""
    steps = [s for s in report["rollover"] if "old_mail" in s]
    assert ["pass"] * (len(steps) - 1) == [s["old_mail"] for s in steps[:-1]]
    assert "key-revoked" == steps[-1]["old_reason"]
    signed_after = next(s for s in report["rollover"] if "s" in s)
    assert "mail2" == signed_after["s"]


def test_tenant_isolation_and_records(report: dict) -> None:  # type: ignore[type-arg]
    """Another tenant's domain falls back to generic; the DNS to publish is listed."""
    assert "dkim.brandmail.example" == report["isolation"]["fallback"]["d"]
    assert "belongs to another tenant" in report["isolation"]["refused"]
    names = {(r["type"], r["name"]) for r in report["records"]}
    assert ("CNAME", "mail1._domainkey.acme.example") in names
    assert ("TXT", "mail2._domainkey.keys.brandmail.example") in names
    assert report["ok"]


def test_the_text_report_is_readable() -> None:
    """Without --json the demo prints its sections and a final verdict, exit 0."""
    done = subprocess.run(
        [sys.executable, "-m", "oxdkim", "demo", "--algorithm", "ed25519-sha256"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert 0 == done.returncode
    for heading in ("1. Generic mode", "2. Aligned mode", "3. Tenant isolation", "4. Key rollover"):
        assert heading in done.stdout
    assert "every expectation held" in done.stdout


def test_the_failure_line_says_why_when_dkimpy_cannot_check_ed25519() -> None:
    """Without PyNaCl, dkimpy's Ed25519 check fails; every FAILED line says why and how to fix."""
    code = (
        "import sys; sys.modules['nacl'] = None; sys.modules['nacl.signing'] = None\n"
        "from oxdkim.cli import main; sys.exit(main(['demo', '--algorithm', 'ed25519-sha256']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert 1 == done.returncode
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAILED ")]
    assert failed
    assert all("pip install pynacl" in line for line in failed)
    assert done.stdout.rstrip().endswith(f"12 checks: {len(failed)} FAILED (why: above)")


def test_the_records_include_the_cnames_that_would_fix_globex(report: dict) -> None:  # type: ignore[type-arg]
    """Section 5 lists every customer domain's CNAMEs, globex's missing ones included."""
    names = {(r["type"], r["name"]) for r in report["records"]}
    assert ("CNAME", "mail1._domainkey.globex.example") in names
    assert ("CNAME", "mail2._domainkey.globex.example") in names


def test_the_rollover_step_names_match_the_states(report: dict) -> None:  # type: ignore[type-arg]
    """A staged key is described as staged (in DNS, not yet confirmed), never as published."""
    staged = next(s for s in report["rollover"] if s["step"].startswith("staged"))
    assert "staged" == staged["states"]["mail2"]
    assert "published" not in staged["step"]
    confirmed = next(s for s in report["rollover"] if s["step"].startswith("confirmed"))
    assert "published" == confirmed["states"]["mail2"]
