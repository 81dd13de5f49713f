"""
Build the optional C accelerator (``oxdkim._speedups``).

Everything else is in pyproject.toml. The extension is optional: without a C compiler
the build goes on and oxdkim uses its pure-Python canonicalization (same results);
``oxdkim --version`` says which one runs.
"""

from setuptools import Extension, setup

# The C code uses only the stable ABI (Py_LIMITED_API, CPython 3.11+), so one wheel per
# platform serves every CPython from 3.11 on: cp311-abi3-<platform>.
LIMITED_API = [("Py_LIMITED_API", "0x030B0000")]

setup(
    ext_modules=[
        Extension(
            "oxdkim._speedups",
            ["src/oxdkim/_speedups.c"],
            optional=True,
            py_limited_api=True,
            define_macros=LIMITED_API,
        ),
    ],
    options={"bdist_wheel": {"py_limited_api": "cp311"}},
)
