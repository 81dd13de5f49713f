"""
Development sessions: ``nox`` runs lint, typecheck and tests; ``nox -s docs``, ``bench``
and ``fuzz`` on demand.
"""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_external_run = True

LINTED = ["src", "tests", "benchmarks", "examples", "fuzz", "tools", "noxfile.py", "setup.py"]


@nox.session
def tests(session: nox.Session) -> None:
    """
    The test suite. The DNS-server tests need Knot DNS (``apt-get install knot``);
    without it they are skipped, except in CI (OXDKIM_REQUIRE_DNS_SERVER=1).
    """
    session.install("-e", ".[tests]")
    session.run("python", "-m", "pytest", "-n", "auto", *session.posargs)


@nox.session
def tests_pure_python(session: nox.Session) -> None:
    """The suite again with the C accelerator disabled (the pure-Python reference)."""
    session.install("-e", ".[tests]")
    session.run(
        "python", "-m", "pytest", "-n", "auto", *session.posargs,
        env={"OXDKIM_PURE_PYTHON": "1"},
    )  # fmt: skip


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", *LINTED)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install("-e", ".[typing]")
    session.run("mypy", "--strict", "src")


@nox.session
def typecompleteness(session: nox.Session) -> None:
    """pyright --verifytypes on the installed (not editable) package: 100 % expected."""
    session.install(".", "pyright")
    session.run("pyright", "--verifytypes", "oxdkim", "--ignoreexternal")


@nox.session
def wheels(session: nox.Session) -> None:
    """
    The sdist and the stable-ABI wheel (cp311-abi3) into dist/. Per-platform wheels for
    PyPI need cibuildwheel (manylinux containers, macOS and Windows runners); the Linux
    wheel of this machine gets its manylinux tag from tools/manylinux.py when it fits.
    """
    session.install("build", "wheel", "pyelftools")
    session.run("python", "-m", "build", "--outdir", "dist", ".")
    for wheel in Path("dist").glob("*-linux_*.whl"):
        session.run("python", "tools/manylinux.py", str(wheel))


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation with warnings as errors, then run every code sample in it."""
    session.install("-e", ".[docs,tests]")
    session.run(
        "sphinx-build", "-n", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html"
    )
    session.run("python", "-m", "pytest", "docs", "README.md", "-p", "no:randomly")


@nox.session
def bench(session: nox.Session) -> None:
    """
    Speed against dkimpy, OpenDKIM and the raw OpenSSL floor: a table, JSON and a plot, which
    the docs' benchmark page shows (docs/_static/bench.json, bench.png). OpenDKIM needs a C
    compiler and ``apt-get install libopendkim-dev``; without them it is reported missing.
    """
    session.install("-e", ".[bench]")
    args = session.posargs or [
        "--json",
        "docs/_static/bench.json",
        "--plot",
        "docs/_static/bench.png",
    ]
    session.run("python", "benchmarks/run.py", *args)


@nox.session
def fuzz(session: nox.Session) -> None:
    """Run each atheris fuzz target for a while (``nox -s fuzz -- --seconds 300``)."""
    session.install("-e", ".[tests]", "atheris")
    session.run("python", "fuzz/run.py", *(session.posargs or ["--seconds", "60"]))
