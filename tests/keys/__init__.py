"""
Tests of oxdkim._keys: the key ring and its rollover steps, the file key store and the
records a brand publishes; test_key_text and test_concurrency follow key material and
threads through every layer the ring reaches.
"""
