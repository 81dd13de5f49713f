"""
Write ``rsa-512.private.pem`` and ``rsa-1016.private.pem``: RSA keys below the RFC 8301
floor of 1024 bits, for tests that check they are refused. ``cryptography`` will not
generate keys this small, so the primes are found here (deterministic: seeded Miller-Rabin
search), and the key is serialized with ``cryptography``. Re-running gives the same files.

Usage: python tests/vectors/generate/make_weak_rsa.py
"""

from __future__ import annotations

import random
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

HERE = Path(__file__).resolve().parent
E = 65537


def is_probable_prime(n: int, rng: random.Random, rounds: int = 40) -> bool:
    """Miller-Rabin with ``rounds`` random bases."""
    if n < 4:
        return n in (2, 3)
    if n % 2 == 0:
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def prime(bits: int, rng: random.Random) -> int:
    """A prime of exactly ``bits`` bits (top two bits set) with gcd(p - 1, E) = 1."""
    while True:
        candidate = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if (candidate - 1) % E and is_probable_prime(candidate, rng):
            return candidate


def weak_key(bits: int, seed: int) -> rsa.RSAPrivateKey:
    """A ``bits``-bit RSA key from a seeded search."""
    rng = random.Random(seed)
    while True:
        p, q = prime(bits // 2, rng), prime(bits - bits // 2, rng)
        if p != q and (p * q).bit_length() == bits:
            break
    d = pow(E, -1, (p - 1) * (q - 1))
    public = rsa.RSAPublicNumbers(E, p * q)
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), public
    )
    return numbers.private_key()


def main() -> None:
    for bits, seed in ((512, 8301), (1016, 8302)):
        pem = weak_key(bits, seed).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        (HERE / f"rsa-{bits}.private.pem").write_bytes(pem)


if __name__ == "__main__":
    main()
