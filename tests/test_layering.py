"""Import fences and the public surface, checked by reading the source (trio's spirit)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import oxdkim

PACKAGE = Path(oxdkim.__file__).resolve().parent
SIGNING_CORE = {
    "_address",
    "_canon",
    "_clock",
    "_crypto",
    "_domains",
    "_keyring",
    "_message",
    "_results",
    "_ringstate",
    "_rollover",
    "_signer",
    "_speedups",
    "_files",
    "exceptions",
    "typing",
    "_dnsanswers",
    "policies",
    # Pure parsers: the key ring's confirm step reads DNS answers as a verifier would.
    "_keyrecord",
    "_tags",
    # Values of the domain audit, read by the verified-delegation policy (no DNS code).
    "_delegation_policy",
    "_audit_values",
    "_audit_report",
}
DNS_MODULES = {"_dnsmemory", "_dnspython", "_dnszonefile"}  # the only importers of dnspython


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).with_suffix("")
        found[".".join(relative.parts).removesuffix(".__init__")] = path
    return found


def imports_of(path: Path, name: str) -> set[str]:
    """Absolute names a module imports at run time (not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    package = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
    result = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            result.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                module = ".".join(["oxdkim", *base, *([node.module] if node.module else [])])
                module = module.replace("oxdkim.oxdkim", "oxdkim")
                if node.module is None:
                    result.update(
                        f"{module}.{alias.name}".replace("..", ".") for alias in node.names
                    )
                else:
                    result.add(module)
            else:
                result.add(node.module or "")
    return {r.replace("oxdkim..", "oxdkim.") for r in result}


def internal(name: str) -> str | None:
    """`oxdkim._canon` -> `_canon`; None for third-party modules."""
    if name == "oxdkim":
        return "__init__"
    return name.removeprefix("oxdkim.") if name.startswith("oxdkim.") else None


ALL = modules()


@pytest.mark.parametrize("module", sorted(SIGNING_CORE & ALL.keys()))
def test_the_signing_core_imports_only_the_signing_core(module: str) -> None:
    """Core modules never reach DNS, verification, DMARC, audit, CLI or dnspython."""
    for name in imports_of(ALL[module], module):
        target = internal(name)
        if target is None:
            assert not name.startswith(("dns", "dkim", "publicsuffixlist")), (module, name)
        else:
            assert target in SIGNING_CORE, f"{module} imports {name}"


def test_dnspython_is_imported_only_by_the_resolvers() -> None:
    """`import dns` appears only in the resolver modules."""
    offenders = {
        module
        for module, path in ALL.items()
        if any(n == "dns" or n.startswith("dns.") for n in imports_of(path, module))
    }
    assert DNS_MODULES >= offenders


def test_dkimpy_is_imported_only_by_its_adapter() -> None:
    """`import dkim` appears only in _dkimpy.py."""
    offenders = {
        module
        for module, path in ALL.items()
        if any(n == "dkim" or n.startswith("dkim.") for n in imports_of(path, module))
    }
    assert {"_dkimpy"} >= offenders


def test_all_is_sorted_complete_and_documented() -> None:
    """__all__ is sorted, every name imports, and every public object has a docstring."""
    names = list(oxdkim.__all__)
    assert len(names) == len(set(names))
    for name in names:
        obj = getattr(oxdkim, name)
        if name.startswith("__") or isinstance(obj, (tuple, str, frozenset, int)):
            continue
        assert (obj.__doc__ or "").strip(), f"{name} has no docstring"
    public_modules = ["oxdkim.policies", "oxdkim.resolvers", "oxdkim.typing", "oxdkim.exceptions"]
    for module in public_modules:
        imported = importlib.import_module(module)
        for name in getattr(imported, "__all__", []):
            assert hasattr(imported, name), (module, name)


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
