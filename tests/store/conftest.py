"""
The store tests run against a real PostgreSQL server: ``pg_server`` and ``pg_database``
come from tests/conftest.py (the milter tests use them too).
"""

import importlib.util
import os

import pytest

if importlib.util.find_spec("psycopg") is None:
    if os.environ.get("OXDKIM_REQUIRE_POSTGRES") == "1":
        raise RuntimeError("OXDKIM_REQUIRE_POSTGRES is set but psycopg is not installed")
    pytest.skip("psycopg is not installed", allow_module_level=True)
