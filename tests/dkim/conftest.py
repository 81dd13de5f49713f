"""
Fixtures for the tests of ``oxdkim._dkim`` (the wire format and key crypto): the key
fixtures of tests/keyfiles.py (real keys, loaded or generated once per session).

This folder has no ``__init__.py`` on purpose: as a package it would be named ``dkim``
and hide dkimpy (``import dkim``) from every test. Its modules are imported by their
own names, so keep them unique across the rootless folders (tests/, tests/dns/).
"""

from __future__ import annotations

from keyfiles import any_key, ed_key, ed_key2, rsa2048_key, rsa_key

__all__ = ["any_key", "ed_key", "ed_key2", "rsa2048_key", "rsa_key"]
