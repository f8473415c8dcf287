"""Shared pytest fixtures for the davies_mb test suite.

BLAS threads: the tests diagonalize many small dense matrices (d <= 1024), for which BLAS threading brings
nothing, while on a loaded machine OpenBLAS worker threads spin and slow the suite down several-fold
(measured here: 4 min instead of 30 s on 2 busy cores). So, unless the caller set it, the test process uses
one BLAS thread. This must happen before numpy is first imported, hence at the top of this conftest.
"""

from __future__ import annotations

import os
import sys

if "numpy" not in sys.modules:
    for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

SEED = 20261128


@pytest.fixture
def rng():
    """A freshly seeded numpy Generator (same stream in every test: reproducible, order independent)."""
    return np.random.default_rng(SEED)
