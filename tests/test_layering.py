"""
The house rules, read from the source: which package may import which, no import cycle
(type-checking imports included), and which modules alone import dnspython and dkimpy.

The table below is the architecture (docs/architecture.md draws it); a new import that
crosses it fails here first.

A cross-cutting test of the whole package: it stays at the top of tests/ (the
folders below mirror src/oxdkim, one per package).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import oxdkim

PACKAGE = Path(oxdkim.__file__).resolve().parent

FLOOR = "floor"
FACES = "faces"
CLI = "cli"
# Where each module lives: the packages per layer, the floor, the public faces, the CLI.
FLOOR_MODULES = {"oxdkim.exceptions", "oxdkim.typing", "oxdkim._version", "oxdkim._speedups"}
FACE_MODULES = {
    "oxdkim",
    "oxdkim.__main__",
    "oxdkim.audit",
    "oxdkim.dmarc",
    "oxdkim.policies",
    "oxdkim.postgres",
    "oxdkim.pytest_plugin",
    "oxdkim.resolvers",
    "oxdkim.testing",
}
LAYERS = (
    "_dkim",
    "_keys",
    "_signing",
    "_store",
    "_verify",
    "_dns",
    "_dmarc",
    "_audit",
    "_config",
    "_observe",
)
SIGNING_CORE = {FLOOR, "_dkim", "_keys", "_signing"}
ALLOWED: dict[str, set[str]] = {
    FLOOR: {FLOOR},
    "_dkim": {FLOOR},
    "_keys": {FLOOR, "_dkim"},
    "_signing": SIGNING_CORE,  # never DNS, verification, DMARC, the audit or the CLI
    "_store": SIGNING_CORE,  # the PostgreSQL store: rings, keys, domains for the policies
    "_dns": {FLOOR},
    "_verify": {FLOOR, "_dkim"},  # DNS only through typing.Resolver
    "_dmarc": {FLOOR},
    "_observe": {FLOOR},  # metrics adapters: the events, nothing of the signer
    "_audit": {FLOOR, "_dkim", "_keys", "_signing", "_dmarc"},
    "_config": {
        FLOOR,
        "_dkim",
        "_keys",
        "_signing",
        "_store",
        "_dns",
        "_verify",
        "_dmarc",
        "_audit",
    },
    "_readiness": {
        FLOOR,
        "_dkim",
        "_keys",
        "_signing",
        "_store",
        "_dns",
        "_verify",
        "_dmarc",
        "_audit",
        "_config",
    },
}
# Third-party libraries that only one corner of the house may import.
ONLY_IMPORTED_BY = {
    "dns": {"oxdkim._dns.dnspython", "oxdkim._dns.zonefile", "oxdkim._dns.memory"},
    "dkim": {"oxdkim._verify.dkimpy"},
    "prometheus_client": {"oxdkim._observe.prometheus"},
    "psycopg": {"oxdkim._store.postgres", "oxdkim._store.schema", "oxdkim._store.ring"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    if module in FLOOR_MODULES or module.startswith("oxdkim._base"):
        return FLOOR
    if module in FACE_MODULES:
        return FACES
    if module == "oxdkim.cli" or module.startswith("oxdkim.cli."):
        return CLI
    second = module.split(".")[1]
    if second in ALLOWED:
        return second
    raise AssertionError(f"{module} lives in no layer: add it to the table")


def imports_of(path: Path, module: str) -> tuple[set[str], set[str]]:
    """(run-time imports, type-checking-only imports), as absolute module names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    checking: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            checking.update(id(sub) for sub in ast.walk(node))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    runtime: set[str] = set()
    typing_only: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
                if node.module is None:
                    names = [f"{target}.{alias.name}" for alias in node.names]
                else:
                    names = [target]
            else:
                names = [node.module or ""]
        (typing_only if id(node) in checking else runtime).update(names)
    return runtime, typing_only


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
IMPORTS = {module: imports_of(path, module) for module, path in MODULES.items()}


def internal(name: str) -> str | None:
    """The oxdkim module ``name`` refers to (a module, or a package's __init__)."""
    while name.startswith("oxdkim"):
        if name in MODULES or name == "oxdkim._speedups":
            return name
        name = name.rpartition(".")[0]
    return None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_table(module: str) -> None:
    """A module imports only from the layers its own layer may import (faces and CLI: any)."""
    layer = layer_of(module)
    if layer in (FACES, CLI):
        return
    runtime, _ = IMPORTS[module]
    for name in runtime:
        target = internal(name)
        if target is None or target == module:
            continue
        allowed = ALLOWED[layer] | {layer}  # a layer's modules import each other
        assert layer_of(target) in allowed, f"{module} ({layer}) imports {target}"


def test_every_layer_is_in_the_table() -> None:
    """The table names every package of the source tree, and every module has a layer."""
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages - {"cli"} == {"_base", *LAYERS, "_readiness"}
    for module in MODULES:
        layer_of(module)


def test_no_import_cycle_even_through_type_checking() -> None:
    """No module reaches itself through imports, type-checking imports included."""
    graph = {
        module: {t for name in runtime | typing_only if (t := internal(name)) and t != module}
        for module, (runtime, typing_only) in IMPORTS.items()
    }
    # A package's __init__ holds a docstring only: importing "oxdkim._x.y" runs it, and
    # the face oxdkim/__init__ is reached by no internal module.
    done: set[str] = set()
    for start in sorted(graph):
        stack = [(start, [start])]
        seen: set[str] = set()
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    pytest.fail("import cycle: " + " -> ".join([*path, start]))
                if nxt not in seen and nxt not in done:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
        done.add(start)


def test_package_inits_are_docstrings_only() -> None:
    """A layer's __init__ says what the layer is and imports nothing."""
    for path in PACKAGE.glob("_*/__init__.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), path
        assert len(tree.body) == 1, f"{path} should hold only its docstring"


@pytest.mark.parametrize("library", sorted(ONLY_IMPORTED_BY))
def test_third_party_libraries_stay_in_their_corner(library: str) -> None:
    """dnspython only in the DNS resolvers, dkimpy only in its adapter."""
    importers = {
        module
        for module, (runtime, typing_only) in IMPORTS.items()
        if any(n == library or n.startswith(library + ".") for n in runtime | typing_only)
    }
    assert importers <= ONLY_IMPORTED_BY[library]


def test_top_level_is_small() -> None:
    """At most a dozen modules at the top of the package: the faces and the floor."""
    top = list(PACKAGE.glob("*.py"))
    assert len(top) <= 12, sorted(p.name for p in top)


def test_every_exception_derives_from_the_base() -> None:
    """One hierarchy: every exception class in oxdkim.exceptions is an OxDkimError."""
    from oxdkim import exceptions

    classes = [
        value
        for value in vars(exceptions).values()
        if isinstance(value, type) and issubclass(value, BaseException)
    ]
    assert len(classes) > 10
    for cls in classes:
        assert issubclass(cls, exceptions.OxDkimError), cls
