"""Verification: the Verifier, Authentication-Results, and the dkimpy adapter."""
