"""
The package as a newcomer gets it: the README's commands in a fresh virtual environment
made by ``pip install .`` alone, the demo for both algorithms, the wheel (stable ABI, with
the C accelerator) and an sdist that carries the test suite and runs it.

Slow (fresh environments, a real build); pip reaches the package index, nothing else.

A cross-cutting test of the whole package: it stays at the top of tests/ (the
folders below mirror src/oxdkim, one per package).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
LEFT_OUT = shutil.ignore_patterns(
    ".git", ".venv", ".nox", "build", "dist", "__pycache__", "*.egg-info", "*.so", "_build",
    ".hypothesis", ".pytest_cache", ".mypy_cache", ".ruff_cache", "results",
)  # fmt: skip
NEEDS_ACCELERATOR = bool(os.environ.get("OXDKIM_REQUIRE_SPEEDUPS")) or bool(shutil.which("cc"))


def sh_samples(document: Path) -> list[str]:
    fences = re.findall(r"^```sh\n(.*?)^```$", document.read_text(encoding="utf-8"), re.S | re.M)
    return [body.strip() for body in fences]


def shell(command: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Run ``command`` as an operator would type it; the test venv's variables removed."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix)
    )
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The source tree as a fresh clone has it (no venv, no build products)."""
    target = tmp_path_factory.mktemp("clone") / "oxdkim"
    shutil.copytree(ROOT, target, ignore=LEFT_OUT)
    return target


@pytest.fixture(scope="module")
def quick_start(checkout: Path) -> Path:
    """The README's first command, exactly as written: venv, `pip install .`, the demo."""
    [install_and_demo, _] = sh_samples(checkout / "README.md")
    assert install_and_demo.endswith("pip install . && .venv/bin/oxdkim demo")
    done = shell(install_and_demo, checkout)
    assert 0 == done.returncode, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.rstrip().endswith("12 checks: every expectation held"), done.stdout
    venv = checkout / ".venv"
    # What the plain install holds, read now: a later test of this module installs
    # '.[tests]' into the same venv, and pytest-randomly may run it first.
    listed = subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "list", "--format=freeze"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    version = subprocess.run(
        [venv / "bin" / "oxdkim", "--version"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    (checkout.parent / "plain-pip-list.txt").write_text(listed)
    (checkout.parent / "plain-version.txt").write_text(version)
    return venv


def test_the_demo_passes_for_both_algorithms_from_a_plain_install(quick_start: Path) -> None:
    """rsa-sha256 and ed25519-sha256: every expectation (dkimpy's second opinion included)."""
    for algorithm in ("rsa-sha256", "ed25519-sha256"):
        done = subprocess.run(
            [quick_start / "bin" / "oxdkim", "demo", "--algorithm", algorithm, "--json"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert 0 == done.returncode, done.stdout[-3000:]
        assert '"ok": true' in done.stdout


def test_a_plain_install_is_lean(quick_start: Path) -> None:
    """No test tools come with `pip install .`; the accelerator is reported by --version."""
    checkout = quick_start.parent
    listed = (checkout.parent / "plain-pip-list.txt").read_text().lower()
    for tool in ("pytest", "hypothesis", "aiosmtpd", "mypy"):
        assert f"\n{tool}==" not in f"\n{listed}"
    assert "\npynacl==" in f"\n{listed}"  # dkimpy's Ed25519, for the demo's second opinion
    version = (checkout.parent / "plain-version.txt").read_text()
    expected = "active" if NEEDS_ACCELERATOR else "not built"
    assert f"C accelerator: {expected}" in version


def test_the_readme_test_command_installs_and_runs_tests(quick_start: Path) -> None:
    """
    The README's second command, with a narrow test selection appended (CI's `.ci/run`
    runs it whole): `pip install -e '.[tests]'` then pytest.
    """
    checkout = quick_start.parent
    [_, install_and_test] = sh_samples(checkout / "README.md")
    assert install_and_test.endswith(".venv/bin/python -m pytest")
    done = shell(
        f"{install_and_test} -q -p no:randomly tests/cli/test_consistency.py "
        "tests/test_layering.py",
        checkout,
    )
    assert 0 == done.returncode, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


@pytest.fixture(scope="module")
def built(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """`python -m build`: the sdist and the wheel."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(checkout)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert 0 == done.returncode, done.stdout[-3000:] + done.stderr[-3000:]
    [sdist] = out.glob("*.tar.gz")
    [wheel] = out.glob("*.whl")
    return sdist, wheel


def test_the_wheel_is_stable_abi_and_carries_the_accelerator(built: tuple[Path, Path]) -> None:
    """One wheel for every CPython >= 3.11 (cp311-abi3), with _speedups.abi3.so and LICENSE."""
    _, wheel = built
    assert re.fullmatch(r"oxdkim-[^-]+-cp311-abi3-[a-z0-9_]+\.whl", wheel.name), wheel.name
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [license_file] = [n for n in names if n.endswith("/LICENSE")]
        license_text = archive.read(license_file).decode()
    if NEEDS_ACCELERATOR:
        assert "oxdkim/_speedups.abi3.so" in names
    assert "oxdkim/py.typed" in names
    assert "Copyright (c) 2026 The oxdkim developers" in license_text
    assert "Permission is hereby granted, free of charge" in license_text


def test_the_sdist_carries_tests_docs_and_examples(
    built: tuple[Path, Path], checkout: Path
) -> None:
    """Every file under tests/, docs/, examples/ (conftest files and vectors included)."""
    sdist, _ = built
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        inside = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for folder in ("tests", "docs", "examples", "benchmarks"):
        expected = {
            str(path.relative_to(checkout))
            for path in (checkout / folder).rglob("*")
            if path.is_file()
        }
        assert expected <= inside, sorted(expected - inside)[:10]
    assert {"LICENSE", "README.md", "CHANGELOG.md", "tests/conftest.py"} <= inside
    assert top.startswith("oxdkim-")


def test_the_sdist_runs_the_test_suite(
    built: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """
    Unpacked and installed with [tests]: the whole suite collects (every conftest and
    helper is there) and a cross-section of it passes (CI runs all of it from the tree).
    """
    sdist, _ = built
    where = tmp_path_factory.mktemp("sdist")
    with tarfile.open(sdist) as archive:
        archive.extractall(where, filter="data")
    [tree] = where.iterdir()
    done = shell(
        "python3 -m venv .venv && .venv/bin/pip install -q '.[tests]' && "
        ".venv/bin/python -m pytest -q -p no:randomly --collect-only && "
        ".venv/bin/python -m pytest -q -p no:randomly tests/signing/test_golden.py "
        "tests/cli/test_consistency.py tests/test_layering.py tests/test_docs_samples.py",
        tree,
    )
    assert 0 == done.returncode, done.stdout[-3000:] + done.stderr[-2000:]
    collected = re.search(r"(\d+) tests collected", done.stdout)
    assert collected is not None, done.stdout[-2000:]
    assert int(collected[1]) > 2000
    assert " passed" in done.stdout.rsplit("tests collected", 1)[1]


def test_pyright_finds_the_public_api_completely_typed(quick_start: Path) -> None:
    """
    `pyright --verifytypes oxdkim` on the installed package: 100 %. The only classes it
    lists without a docstring are the descriptors it makes up for attrs converters.
    """
    pyright = shutil.which("pyright", path=str(Path(sys.executable).parent))
    if pyright is None:
        pytest.skip("pyright is not installed (pip install pyright)")
    env = dict(os.environ, VIRTUAL_ENV=str(quick_start))
    env["PATH"] = f"{quick_start / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        [pyright, "--verifytypes", "oxdkim", "--ignoreexternal", "--verbose"],
        cwd=quick_start.parent.parent, env=env, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    assert "Type completeness score: 100%" in done.stdout, done.stdout[-3000:]
    undocumented = re.findall(r'No docstring found for class "([^"]+)"', done.stdout)
    assert [] == [name for name in undocumented if "__converterDescriptor_" not in name]


def test_the_wheel_gets_a_manylinux_tag_only_when_it_fits(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    """tools/manylinux.py retags our wheel (no glibc needs), and refuses one that links more."""
    _, wheel = built
    copy = tmp_path / wheel.name
    shutil.copy(wheel, copy)
    tool = [sys.executable, str(ROOT / "tools" / "manylinux.py")]
    done = subprocess.run([*tool, str(copy)], capture_output=True, text=True, check=False)
    assert 0 == done.returncode, done.stderr
    [retagged] = tmp_path.glob("*.whl")
    assert retagged.name.endswith("-cp311-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl")
    ssl = next(Path(sys.base_prefix, "lib").glob("python3*/lib-dynload/_ssl*.so"), None)
    if ssl is None:
        pytest.skip("no _ssl extension to try the refusal with")
    other = tmp_path / "other" / "x-1-cp311-abi3-linux_x86_64.whl"
    other.parent.mkdir()
    with zipfile.ZipFile(other, "w") as archive:
        archive.write(ssl, "x/_ssl.so")
    done = subprocess.run([*tool, str(other)], capture_output=True, text=True, check=False)
    assert 1 == done.returncode
    assert "x/_ssl.so links libssl" in done.stderr
