"""Shared fixtures. Area-specific fixtures live in each test folder's own conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_VECTORS = ROOT.parent / "shared" / "vectors"
LOCAL_VECTORS = Path(__file__).resolve().parent / "vectors"


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """The published test vectors (tests/vectors, a copy of ../shared/vectors)."""
    return LOCAL_VECTORS
