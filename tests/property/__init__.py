"""
Hypothesis properties and differential tests against dkimpy over arbitrary bytes. A
cross-cutting suite (canonicalization, signer and verifier together), so it stays here
rather than under one package's folder.
"""
