"""Every default path estimates its total peak memory and refuses BEFORE allocating (issue 10, item 5).

The ceiling comes from ``DAVIES_MB_MEMORY_LIMIT`` (read at call time); the tests lower it with
``monkeypatch.setenv`` and check that (a) the refusal names the estimate, the limit and the way out,
(b) nothing was built before it (spies on the Hamiltonian builder, the sector bases and LAPACK make the
call fail loudly if it were), and (c) the same call passes under a limit just above the estimate, so the
estimate is the one that matters. No wall-clock limits: "at once" is checked by what was not called.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp

import davies_mb as dm
import davies_mb.integrable as ig
from davies_mb import _checks
from davies_mb.models import SpinChain


def _gib(msg):
    """The peak estimate (GiB) quoted in a refusal."""
    m = re.search(r"would need about ([0-9.]+) GiB at its peak", msg)
    assert m, msg
    return float(m.group(1))


@pytest.fixture
def nothing_built(monkeypatch):
    """Make any Hamiltonian build, sector basis or dense eigh an error: a refusal must come first."""
    import davies_mb.sectors as sectors
    import davies_mb.spectrum as spectrum

    def boom(*a, **k):
        raise AssertionError("allocated before refusing")

    monkeypatch.setattr(SpinChain, "builder", boom)
    monkeypatch.setattr(sectors, "sector_basis", boom)
    monkeypatch.setattr(spectrum, "_eigh", boom)


def test_xxz20_is_refused_before_anything_is_built(nothing_built):
    with pytest.raises(MemoryError) as err:
        dm.diagonalize(dm.xxz(20))
    msg = str(err.value)
    # the largest S^z block (sz = 0, C(20, 10) = 184756 states) alone needs 184756^2 x 8 bytes per array
    assert "184756" in msg and "sz" in msg
    assert _gib(msg) > 4 * 184756**2 * 8 / 2**30
    assert "DAVIES_MB_MEMORY_LIMIT" in msg and "sector" in msg and "smaller L" in msg


def test_matrix_estimate_is_the_total_peak(monkeypatch):
    """For a bare d x d matrix: the matrix, LAPACK's copy, the eigenvectors and the dsyevd workspace."""
    d = 300
    need = (3 * d * d + 2 * d * d + 6 * d + 1) * 8  # bytes, written out independently of the package
    H = sp.identity(d, format="csr")
    monkeypatch.setenv("DAVIES_MB_MEMORY_LIMIT", str(need - 1))
    with pytest.raises(MemoryError) as err:
        dm.diagonalize(H)
    assert f"{need / 2**30:.2f} GiB" in str(err.value)
    monkeypatch.setenv("DAVIES_MB_MEMORY_LIMIT", str(need))
    assert dm.diagonalize(H).n == d


def test_chain_diagonalization_refuses_and_the_sector_fits(monkeypatch):
    chain = dm.xxz(12, 0.5)
    monkeypatch.setenv("DAVIES_MB_MEMORY_LIMIT", "16MiB")
    with pytest.raises(MemoryError) as err:
        dm.diagonalize(chain)  # S^z blocks: the eigenvectors of all of them, 252^2 for sz = 0, ...
    msg = str(err.value)
    assert "above the limit of 0.02 GiB" in msg and "sector" in msg  # 16 MiB
    est = _gib(msg) * 2**30
    # independent lower bound: every block's eigenvectors are kept (sum of C(10, n)^2 doubles)
    from math import comb

    assert est >= round(8 * sum(comb(12, n) ** 2 for n in range(13)) / 2**30, 2) * 2**30 > 0
    # one small sector fits under the same limit (C(12, 3) = 220 states)
    spec = dm.diagonalize(chain, sector=dict(sz=3))
    assert spec.n == 220


def test_sector_path_refuses_before_building_the_basis(monkeypatch, nothing_built):
    chain = dm.xxz(14, 0.5, bc="periodic")
    monkeypatch.setenv("DAVIES_MB_MEMORY_LIMIT", "1MiB")
    with pytest.raises(MemoryError, match=r"sector \{'sz': 0, 'k': 0\}.*smaller L"):
        dm.diagonalize(chain, sector=dict(sz=0, k=0))


def test_hamiltonian_build_refuses(monkeypatch, nothing_built):
    chain = dm.xxz(12, 0.5)
    monkeypatch.setenv("DAVIES_MB_MEMORY_LIMIT", "100KB")
    with pytest.raises(MemoryError, match="building the sparse Hamiltonian of the L=12 xxz chain"):
        chain.hamiltonian()
    with pytest.raises(MemoryError, match="dense Hamiltonian"):
        chain.hamiltonian(sparse=False)


def test_every_module_refuses_under_a_low_limit(monkeypatch):
    chain = dm.xxz(6, 0.5, bc="periodic")
    spec = dm.diagonalize(chain)
    A = chain.parse_operator("x0+z1")
    psi = dm.product_state(6, "neel")
    H = chain.hamiltonian()
    red = dm.RedfieldGenerator(spec, A, dm.OhmicBath(beta=1.0), strength=0.1)
    monkeypatch.setenv("DAVIES_MB_MEMORY_LIMIT", "20KB")
    # Redfield: the n^2 x n^2 tensor (64^4 entries) and the eigenvectors
    with pytest.raises(MemoryError, match="Redfield"):
        red.gap()
    # ETH: the dense eigh of each fully resolved sector (L = 10: blocks of about 12 states, 4 x 12^2 doubles)
    monkeypatch.setenv("DAVIES_MB_MEMORY_LIMIT", "2KB")
    with pytest.raises(MemoryError, match="diagonalizing the sector"):
        dm.eth.sector_level_statistics(dm.xxz(10, 0.5, bc="periodic"), 0)
    # GGE: the charges densified, the joint basis and one refinement step
    monkeypatch.setenv("DAVIES_MB_MEMORY_LIMIT", "100KB")
    with pytest.raises(MemoryError, match="joint eigenbasis of 2 charges of dimension 64"):
        dm.gge([H, chain.total("z")], psi)
    # unitary_evolve: the output (times x d x d complex) and the work arrays
    with pytest.raises(MemoryError, match="unitary_expect"):
        dm.unitary_evolve(spec, psi, np.linspace(0, 1, 50))
    # free-fermion many-body spectra: 2^L energies and occupation patterns
    with pytest.raises(MemoryError, match="many-body energies"):
        ig.xx_spectrum(16)


def test_limit_is_read_at_call_time_and_checked(monkeypatch):
    monkeypatch.setenv("DAVIES_MB_MEMORY_LIMIT", "2GiB")
    assert _checks.memory_limit() == 2 * 2**30
    monkeypatch.setenv("DAVIES_MB_MEMORY_LIMIT", "1.5e3")
    assert _checks.memory_limit() == 1500
    monkeypatch.delenv("DAVIES_MB_MEMORY_LIMIT")
    assert _checks.memory_limit() == _checks.MEMORY_LIMIT_BYTES
    for bad in ("lots", "8 parsecs", "-1", "0"):
        monkeypatch.setenv("DAVIES_MB_MEMORY_LIMIT", bad)
        with pytest.raises(ValueError, match="DAVIES_MB_MEMORY_LIMIT"):
            _checks.memory_limit()


def test_peak_helper_counts_every_array():
    """check_memory_total adds shapes and byte counts; eigh_peak_arrays is ~4 D^2 entries + O(D)."""
    from davies_mb.spectrum import eigh_peak_arrays

    need = _checks.check_memory_total("x", [((10, 10), np.complex128), 1000, ((3,), np.float64)])
    assert need == 10 * 10 * 16 + 1000 + 24
    D = 50
    need = _checks.check_memory_total("x", eigh_peak_arrays(D))
    assert need == (3 * D * D + 2 * D * D + 6 * D + 1) * 8
    # the estimate covers LAPACK's own request: the workspace query of dsyevd asks for 1 + 6D + 2D^2
    lwork = sla.lapack.dsyevd_lwork(D)[0] if hasattr(sla.lapack, "dsyevd_lwork") else 1 + 6 * D + 2 * D * D
    assert lwork <= 2 * D * D + 6 * D + 1
