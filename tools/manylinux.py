"""
Give a built ``linux_<arch>`` wheel its manylinux tag when its extension allows it.

PyPI takes Linux wheels only with a manylinux tag, which promises that the compiled code
runs on every distribution with glibc of at least some version. auditwheel checks that
by the glibc symbol versions an extension needs, but gives up on one that links no C
library at all, as ``oxdkim._speedups`` does (it calls only the Python C API, from the
stable ABI). This script makes the same check for that case: no ``DT_NEEDED`` library
outside glibc, and no glibc symbol version above the tag's, then retags the wheel with
``wheel tags``. It refuses anything else; use cibuildwheel (manylinux containers) then.

Usage: ``python tools/manylinux.py dist/oxdkim-*-linux_x86_64.whl`` (needs pyelftools
and wheel).
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

GLIBC = (2, 17)  # manylinux2014
ALLOWED_LIBRARIES = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2"}


def problems(name: str, data: bytes) -> list[str]:
    """Why the shared object ``data`` does not fit manylinux at :data:`GLIBC` (empty: fits)."""
    found = []
    elf = ELFFile(io.BytesIO(data))
    for section in elf.iter_sections():
        if isinstance(section, DynamicSection):
            for tag in section.iter_tags():
                needed = getattr(tag, "needed", None)  # set on DT_NEEDED entries only
                if tag.entry.d_tag == "DT_NEEDED" and needed not in ALLOWED_LIBRARIES:
                    found.append(f"{name} links {needed}")
        if isinstance(section, GNUVerNeedSection):
            for _, versions in section.iter_versions():
                for version in versions:
                    match = re.fullmatch(r"GLIBC_(\d+)\.(\d+)(?:\.\d+)?", version.name)
                    if match and (int(match[1]), int(match[2])) > GLIBC:
                        found.append(f"{name} needs {version.name}")
    return found


def main(wheel: Path) -> int:
    """Check every shared object of ``wheel``; retag it in place when all fit."""
    if "-linux_" not in wheel.name:
        print(f"{wheel.name}: not a plain linux wheel", file=sys.stderr)
        return 2
    arch = wheel.name.rsplit("-linux_", 1)[1].removesuffix(".whl")
    with zipfile.ZipFile(wheel) as archive:
        found = [
            problem
            for name in archive.namelist()
            if name.endswith(".so")
            for problem in problems(name, archive.read(name))
        ]
    if found:
        print("\n".join(found), file=sys.stderr)
        return 1
    tag = f"manylinux_{GLIBC[0]}_{GLIBC[1]}_{arch}.manylinux2014_{arch}"
    retag = [sys.executable, "-m", "wheel", "tags", "--remove", "--platform-tag", tag, str(wheel)]
    subprocess.run(retag, check=True)  # noqa: S603 - our own interpreter and arguments
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
