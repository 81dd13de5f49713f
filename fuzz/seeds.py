"""
Seed inputs for the fuzz targets, taken from tests/vectors (and fuzz/corpus/<target>/).

``python fuzz/seeds.py TARGET DIR`` writes one file per seed into DIR. The runner calls
:func:`write_seeds` before each target; nothing here needs atheris.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors"
CORPUS = Path(__file__).resolve().parent / "corpus"
_MESSAGE_SUFFIXES = {".eml", ".msg", ".message", ".mbox"}


def messages() -> Iterator[bytes]:
    """Every message file among the vectors."""
    for path in sorted(VECTORS.rglob("*")):
        if path.suffix in _MESSAGE_SUFFIXES and path.is_file():
            yield path.read_bytes()


def txt_records() -> Iterator[bytes]:
    """The TXT values (strings joined) of the vectors' zone files and key record files."""
    for path in sorted(VECTORS.rglob("*")):
        if not path.is_file():
            continue
        if path.name.endswith("zone.txt"):
            for line in path.read_text(errors="replace").splitlines():
                match = re.search(r"\bTXT\s+(.*)$", line)
                if match:
                    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', match[1])
                    yield "".join(strings).encode()
        elif path.parent.name == "keys" and path.suffix in {".txt", ".dns"}:
            text = path.read_text(errors="replace")
            strings = re.findall(r'"((?:[^"\\]|\\.)*)"', text)
            yield ("".join(strings) if strings else text.split(None, 1)[-1]).encode()


def signature_values() -> Iterator[bytes]:
    """The values of every DKIM-Signature field in the vectors' messages (unfolded CRLF)."""
    for message in messages():
        text = message.replace(b"\r\n", b"\n")
        for match in re.finditer(rb"^DKIM-Signature:(.*(?:\n[ \t].*)*)", text, re.M | re.I):
            yield match.group(1).replace(b"\n", b"\r\n")


def dmarc_records() -> Iterator[bytes]:
    """DMARC records from the tree-walk cases, plus hand-written ones for every tag."""
    data = json.loads((VECTORS / "dmarc" / "treewalk_cases.json").read_text())
    for case in data["cases"]:
        for value in case.get("dmarc_records", {}).values():
            for record in value if isinstance(value, list) else [value]:
                yield record.encode()
    yield (
        b"v=DMARC1; p=reject; sp=quarantine; np=none; adkim=s; aspf=r; psd=n; t=y; "
        b"rua=mailto:a@example.com,mailto:b@example.com!10m; ruf=mailto:f@example.com; "
        b"fo=0:d:s; pct=50; rf=afrf; ri=86400"
    )
    yield b"v=DMARC1;p=none"
    yield b"v=DMARC1; p=bogus; rua=mailto:x@example.com"


def bodies() -> Iterator[bytes]:
    """Message bodies, and the canonicalization tables' inputs."""
    for message in messages():
        for separator in (b"\r\n\r\n", b"\n\n"):
            if separator in message:
                yield message.split(separator, 1)[1]
                break
    table = json.loads((VECTORS / "canonicalization" / "go-msgauth-canonical.json").read_text())
    for case in table["cases"]:
        yield case["input"].encode()


SEEDS = {
    "message": messages,
    "tags": lambda: (*signature_values(), *txt_records()),
    "keyrecord": txt_records,
    "dmarc": dmarc_records,
    "canon": bodies,
}


def write_seeds(target: str, directory: Path) -> int:
    """Write the target's seeds (and its committed corpus) into ``directory``; return how many."""
    directory.mkdir(parents=True, exist_ok=True)
    seeds = list(SEEDS[target]())
    committed = CORPUS / target
    if committed.is_dir():
        seeds += [path.read_bytes() for path in sorted(committed.iterdir()) if path.is_file()]
    for seed in seeds:
        (directory / hashlib.sha1(seed, usedforsecurity=False).hexdigest()).write_bytes(seed)
    return len(seeds)


if __name__ == "__main__":
    print(write_seeds(sys.argv[1], Path(sys.argv[2])), "seeds")
