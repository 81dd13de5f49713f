"""The DKIM wire format and key crypto: messages, From, canonicalization, tags, keys."""
