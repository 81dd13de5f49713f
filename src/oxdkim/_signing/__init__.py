"""Signing: requests, decisions and results, and the Signer."""
