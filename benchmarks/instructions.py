"""
Instructions per message, counted by callgrind: oxdkim's own work beside the raw floor,
repeatable whatever else the machine is doing (a shared CI runner, a busy laptop).

    python benchmarks/instructions.py [--sizes 10KB,1MB] [--json FILE]

For each path (sign, verify; RSA-2048, Ed25519) it runs a driver under
``valgrind --tool=callgrind`` twice, with 0 and with N messages, and divides the
difference by N, so start-up and imports cancel out. The floor is SHA-256 of the message
plus one signature operation with a parsed key (cryptography, OpenSSL), as in run.py.
Instructions are not seconds (memory traffic and SHA extensions weigh differently), but
they do not move with load: use them to compare two versions of oxdkim on one machine,
and run.py for the time ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

HERE = Path(__file__).resolve().parent
PATHS = ("sign", "verify", "floor-sign", "floor-verify")
ALGORITHMS = ("rsa-sha256", "ed25519-sha256")

DRIVER = r"""
import sys
sys.path.insert(0, {here!r})
import run as b
import hashlib
from cryptography.hazmat.primitives.asymmetric import padding, utils
from cryptography.hazmat.primitives import hashes
path, algorithm, size, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
# The same keys in every run: generating an RSA key takes a random number of instructions.
from cryptography.hazmat.primitives import serialization
rsa_key = serialization.load_pem_private_key(open({rsa!r}, "rb").read(), None)
ed_key = serialization.load_pem_private_key(open({ed!r}, "rb").read(), None)
b.rsa.generate_private_key = lambda **_: rsa_key
b.ed25519.Ed25519PrivateKey.generate = staticmethod(lambda: ed_key)
keys = b.Keys()
message = b.build_message(size)
sign = b.signers(keys, algorithm)
signed = sign["oxdkim"](message) + message
floor_signature = sign["floor"](message)
ok, _ = b.load_oxdkim_verifier(keys.txt_records())
assert ok(signed)
public = (keys.rsa if algorithm == "rsa-sha256" else keys.ed).public_key()
if algorithm == "rsa-sha256":
    pkcs1, prehashed = padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
    def floor_verify(m):
        public.verify(floor_signature, hashlib.sha256(m).digest(), pkcs1, prehashed)
else:
    def floor_verify(m):
        public.verify(floor_signature, hashlib.sha256(m).digest())
work = {{
    "sign": lambda: sign["oxdkim"](message),
    "verify": lambda: ok(signed),
    "floor-sign": lambda: sign["floor"](message),
    "floor-verify": lambda: floor_verify(message),
}}[path]
for _ in range(count):
    work()
"""


def parse_size(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)\s*(KB|MB|B)?", text.strip(), re.I).groups()  # type: ignore[union-attr]
    return int(number) * {"KB": 1024, "MB": 1 << 20}.get((unit or "B").upper(), 1)


def instructions(driver: Path, args: list[str]) -> int:
    env = dict(os.environ, PYTHONHASHSEED="0")  # the same dict layouts in every run
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         str(driver), *args],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(done.stderr[-2000:])
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10KB,1MB")
    parser.add_argument("--count", type=int, default=10, help="messages per measurement")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian package valgrind): nothing measured")
        return 1
    work = Path(tempfile.mkdtemp(prefix="oxdkim-instructions-"))
    pem = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    none = serialization.NoEncryption()
    rsa_file, ed_file = work / "rsa.pem", work / "ed.pem"
    rsa_file.write_bytes(rsa.generate_private_key(65537, 2048).private_bytes(*pem, none))
    ed_file.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(*pem, none))
    driver = work / "driver.py"
    driver.write_text(DRIVER.format(here=str(HERE), rsa=str(rsa_file), ed=str(ed_file)))
    rows = []
    for size_text in args.sizes.split(","):
        size = parse_size(size_text)
        count = max(2, args.count if size <= 100 * 1024 else args.count // 10)
        for algorithm in ALGORITHMS:
            row = {"size": size_text, "algorithm": algorithm}
            for path in PATHS:
                base = instructions(driver, [path, algorithm, str(size), "0"])
                full = instructions(driver, [path, algorithm, str(size), str(count)])
                row[path] = (full - base) // count
            row["sign/floor"] = round(row["floor-sign"] / row["sign"], 3)
            row["verify/floor"] = round(row["floor-verify"] / row["verify"], 3)
            row["own sign"] = row["sign"] - row["floor-sign"]
            row["own verify"] = row["verify"] - row["floor-verify"]
            rows.append(row)
            print(
                f"{size_text:>6} {algorithm:15} sign {row['sign']:>11,} (floor share "
                f"{row['sign/floor']:.2f}, own {row['own sign']:>10,})  verify "
                f"{row['verify']:>11,} (floor share {row['verify/floor']:.2f}, own "
                f"{row['own verify']:>10,})",
                flush=True,
            )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
