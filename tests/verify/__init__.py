"""
Tests of oxdkim._verify: the verifier (sync and async), Authentication-Results, and
round trips with the Signer and dkimpy; test_vectors runs every published vector.
"""
