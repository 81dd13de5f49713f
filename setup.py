"""
Build the optional C accelerator (``oxdkim._speedups``).

Everything else is in pyproject.toml. The extension is optional: without a C compiler
the build goes on and oxdkim uses its pure-Python canonicalization (same results).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("oxdkim._speedups", ["src/oxdkim/_speedups.c"], optional=True),
    ]
)
