"""oxdkim_milter is a front-end: it imports oxdkim's public faces only, never oxdkim._*."""

from __future__ import annotations

import ast
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


def test_the_core_does_not_import_the_milter_at_import_time():
    """`import oxdkim` and the CLI work without the extra: the milter is imported lazily."""
    core = Path(oxdkim_milter.__file__).parent.parent / "oxdkim"
    for path in core.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only; the CLI imports it inside a function
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = (
                    [node.module]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                )
                assert not any((n or "").startswith("oxdkim_milter") for n in names), path


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
