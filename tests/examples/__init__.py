"""
The runnable examples in examples/, driven as a user runs them. Cross-cutting: they
use the public API as a whole, so they stay here.
"""
