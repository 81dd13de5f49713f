"""oxdkim_milter is a front-end: it imports oxdkim's public faces only, never oxdkim._*."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import oxdkim_milter

PUBLIC = {
    "oxdkim",
    "oxdkim.policies",
    "oxdkim.resolvers",
    "oxdkim.dmarc",
    "oxdkim.typing",
    "oxdkim.exceptions",
}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_only_public_oxdkim_modules_are_imported():
    """Every oxdkim import of the milter package names a public module."""
    package = Path(oxdkim_milter.__file__).parent
    for path in package.glob("*.py"):
        for name in imported(path):
            if name.split(".")[0] == "oxdkim":
                assert name in PUBLIC, f"{path.name} imports {name}"


def test_the_core_does_not_import_the_milter():
    """`import oxdkim` and `oxdkim.cli` leave the milter (and kilter) unloaded."""
    code = (
        "import sys, oxdkim, oxdkim.cli\n"
        "assert 'oxdkim_milter' not in sys.modules and 'kilter' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert 0 == done.returncode, done.stderr


def test_without_the_extra_the_command_says_what_to_install():
    """With oxdkim_milter missing, `oxdkim milter` exits 2 naming the extra to install."""
    code = (
        "import sys\n"
        "sys.modules['oxdkim_milter'] = None\n"  # as if the extra were not installed
        "from oxdkim.cli import main\n"
        "sys.exit(main(['milter', '--config', 'x.toml', '--socket', 'inet:127.0.0.1:1']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert 2 == done.returncode
    assert "pip install 'oxdkim[milter]'" in done.stderr


def test_the_docs_milter_table_is_valid():
    """The [milter] sample of docs/milter.md is accepted as written."""
    import re
    import tomllib

    from oxdkim_milter import parse_milter_table

    text = (Path(__file__).parents[2] / "docs" / "milter.md").read_text()
    [sample] = [
        body
        for body in re.findall(r"^```toml\n(.*?)^```$", text, re.S | re.M)
        if "[milter]" in body
    ]
    parsed = parse_milter_table(tomllib.loads(sample)["milter"])
    assert "acme" == parsed.logins["alice@acme.example"]
    assert "unsigned" == parsed.on_refusal
