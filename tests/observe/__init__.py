"""Tests of oxdkim._base.events and oxdkim._observe: the signer's events, their logging, metrics."""
