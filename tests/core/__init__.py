"""Tests of the signing core: messages, canonicalization, keys, signer, policies."""
