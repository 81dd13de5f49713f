"""Tests of oxdkim._signing: the signer, its results and the signing policies."""
