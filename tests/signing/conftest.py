"""
Fixtures for the signing tests: the key fixtures of tests/keyfiles.py (real keys,
loaded or generated once per session).
"""

from __future__ import annotations

from keyfiles import any_key, ed_key, ed_key2, rsa2048_key, rsa_key

__all__ = ["any_key", "ed_key", "ed_key2", "rsa2048_key", "rsa_key"]
