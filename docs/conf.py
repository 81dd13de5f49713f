"""Sphinx configuration: MyST Markdown pages, API reference from the docstrings."""

from __future__ import annotations

import importlib.metadata
import importlib.util

project = "oxdkim"
author = "The oxdkim developers"
copyright = "2026, The oxdkim developers"  # noqa: A001
release = importlib.metadata.version("oxdkim")
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(pathlib\.Path|os\.PathLike|MonotonicClock|RecordStore|StoreBuilder)"),
    (r"py:.*", r"CollectorRegistry"),  # prometheus_client's, an optional extra
    (r"py:.*", r"psycopg\..*"),  # psycopg's, an optional extra
    (r"py:.*", r"(FinderMode|Policy|TextIO)"),
    (r"py:.*", r"(attrs|attr|cryptography|dns|datetime|collections|typing|contextlib|enum)\..*"),
    (r"py:.*", r"(Path|PathLike|Hashable|Iterable|Iterator|Mapping|Sequence|Callable|Any)"),
    (r"py:.*", r"(PublicKey|PrivateKey|TxtValue|_R|_R_co|_SR_co|_AR_co|T|datetime|timedelta|Counter)"),
    (r"py:.*", r"oxdkim\._.*"),
]

html_theme = "furo" if importlib.util.find_spec("furo") else "alabaster"
html_title = f"oxdkim {release}"
