"""
Hostile input, one test per case, end to end through the public API. A cross-cutting suite:
it does not mirror one source module, so it stays here (each module names the unit tests
of the parser it attacks).
"""
