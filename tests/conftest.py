"""Shared pytest fixtures for the davies_mb test suite."""

from __future__ import annotations

import numpy as np
import pytest

SEED = 20261128


@pytest.fixture
def rng():
    """A freshly seeded numpy Generator (same stream in every test: reproducible, order independent)."""
    return np.random.default_rng(SEED)
