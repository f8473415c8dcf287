"""Tests for davies_mb.spectrum: exact diagonalization by blocks and sectors, levels, Gibbs states,
basis changes.

References: numpy.linalg.eigvalsh / scipy.linalg.expm of the dense Hamiltonian, total-spin operators
and eigenvector checks built here (H V = V E, V^dag V = 1), never the library's own block data.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp
from numpy.testing import assert_allclose

import davies_mb as dm
from davies_mb.spectrum import default_level_tol, group_levels

TOL = 1e-10


def dense(H):
    return H.toarray() if sp.issparse(H) else np.asarray(H)


def check_eigensystem(spec, H, atol=TOL):
    """Energies sorted, V orthonormal, H V = V E (full computational basis)."""
    H = dense(H)
    E = spec.energies
    V = spec.vectors
    assert V.shape == (H.shape[0], spec.n)
    assert np.all(np.diff(E) >= 0)
    assert_allclose(V.conj().T @ V, np.eye(spec.n), atol=atol)
    assert_allclose(H @ V, V * E, atol=atol)


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(12345)


FULL_CASES = [
    ("xxz L6 j2 hz", lambda: dm.xxz(6, 0.5, j2=0.3, hz=0.2)),
    ("xxz L8 j2 hz pbc", lambda: dm.xxz(8, 0.7, j2=0.4, hz=0.15, bc="periodic")),
    ("xxz L8 j2 hx", lambda: dm.xxz(8, 0.7, j2=0.4, hx=0.3)),  # no S^z: one dense eigh
    ("xxz L6 disorder", lambda: dm.xxz(6, 1.0, disorder=1.0, seed=4, bc="periodic")),
    ("heisenberg L8 pbc", lambda: dm.heisenberg(8, bc="periodic")),
    ("tfim L6 h", lambda: dm.tfim(6, 0.9, h=0.2)),
    ("tfim L8 pbc", lambda: dm.tfim(8, 1.0, bc="periodic")),
]


@pytest.mark.parametrize("name,make", FULL_CASES, ids=[c[0] for c in FULL_CASES])
@pytest.mark.parametrize("blocks", ["auto", None])
def test_full_space_matches_numpy(name, make, blocks):
    chain = make()
    H = dense(chain.hamiltonian())
    spec = dm.diagonalize(chain, blocks=blocks)
    assert isinstance(spec, dm.Spectrum)
    assert spec.n == spec.dim == 2**chain.L
    assert spec.sector is None
    assert_allclose(spec.energies, np.linalg.eigvalsh(H), atol=TOL)
    check_eigensystem(spec, H)
    if blocks == "auto" and "sz" in chain.symmetries:
        assert len(spec.blocks) == chain.L + 1
        assert sorted(b.label["sz"] for b in spec.blocks) == [(chain.L - 2 * n) / 2 for n in range(chain.L, -1, -1)]
    else:
        assert len(spec.blocks) == 1


@pytest.mark.parametrize("blocks", [("sz",), ("k",), ("sz", "k"), ("parity", "flip"), ("sz", "k", "parity", "flip")])
def test_explicit_blocks_match_numpy(blocks):
    chain = dm.xxz(6, 0.6, j2=0.25, bc="periodic")
    H = dense(chain.hamiltonian())
    spec = dm.diagonalize(chain, blocks=blocks)
    assert_allclose(spec.energies, np.linalg.eigvalsh(H), atol=TOL)
    check_eigensystem(spec, H)
    assert sum(b.vecs.shape[1] for b in spec.blocks) == 2**6
    # the columns of the blocks partition 0..n-1
    cols = np.sort(np.concatenate([b.cols for b in spec.blocks]))
    assert_allclose(cols, np.arange(spec.n), atol=0)


def test_bare_matrix_dense_and_sparse(rng):
    A = rng.normal(size=(20, 20)) + 1j * rng.normal(size=(20, 20))
    H = (A + A.conj().T) / 2
    for M in (H, sp.csr_array(H), sp.csr_matrix(H)):
        spec = dm.diagonalize(M)
        assert_allclose(spec.energies, np.linalg.eigvalsh(H), atol=TOL)
        check_eigensystem(spec, H)
        assert not spec.is_real
    spec = dm.diagonalize(H.real + H.real.T)
    assert spec.is_real


def test_bare_matrix_nested_list_is_array_like():
    spec = dm.diagonalize([[1.0, 0.0], [0.0, -1.0]])
    assert_allclose(spec.energies, [-1.0, 1.0], atol=TOL)


# ----------------------------------------------------------------------------------------------
# sectors
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: dm.xxz(6, 0.7, j2=0.3, bc="periodic"),
    lambda: dm.heisenberg(8, bc="periodic"),
    lambda: dm.xxz(7, 0.4, j2=0.2, delta2=0.9, bc="periodic"),
])
def test_union_of_sector_spectra_is_full_spectrum(make):
    chain = make()
    L = chain.L
    H = dense(chain.hamiltonian())
    allE, dims = [], 0
    for lab in dm.sector_labels(L, ("sz", "k", "parity", "flip")):
        spec = dm.diagonalize(chain, sector=lab)
        assert spec.sector == lab
        assert spec.dim == 2**L
        assert spec.n == dm.sector_dimension(L, lab)
        check_eigensystem(spec, H)
        allE.append(spec.energies)
        dims += spec.n
    assert dims == 2**L
    assert_allclose(np.sort(np.concatenate(allE)), np.linalg.eigvalsh(H), atol=TOL)


def test_sector_spectrum_of_tfim():
    chain = dm.tfim(7, 0.8, bc="periodic")
    H = dense(chain.hamiltonian())
    allE = [dm.diagonalize(chain, sector=lab).energies for lab in dm.sector_labels(7, ("k", "parity", "flip"))]
    assert_allclose(np.sort(np.concatenate(allE)), np.linalg.eigvalsh(H), atol=TOL)


def test_sz_sector_spectrum_vectors_are_computational_subset():
    chain = dm.xxz(6, 0.5, j2=0.3, hz=0.1)
    spec = dm.diagonalize(chain, sector=dict(sz=1))
    V = spec.vectors
    idx = [b for b in range(64) if bin(b).count("1") == 2]  # n_down = 2
    outside = np.setdiff1d(np.arange(64), idx)
    assert_allclose(V[outside], 0, atol=0)
    Hs = dense(chain.hamiltonian())[np.ix_(idx, idx)]
    assert_allclose(spec.energies, np.linalg.eigvalsh(Hs), atol=TOL)


# ----------------------------------------------------------------------------------------------
# levels
# ----------------------------------------------------------------------------------------------
def total_spin_squared(L):
    S = {a: sum(dm.site_operator(dm.spin_operator(a), j, L) for j in range(L)).toarray() for a in "xyz"}
    return (S["x"] @ S["x"] + S["y"] @ S["y"] + S["z"] @ S["z"]).real


@pytest.mark.parametrize("level_tol", [None, 1e-8])
def test_heisenberg_su2_multiplets(level_tol):
    L = 4
    chain = dm.heisenberg(L)  # open: no accidental degeneracies between different S
    spec = dm.diagonalize(chain, level_tol=level_tol)
    S2 = total_spin_squared(L)
    V = spec.vectors
    # L = 4: S = 0 (x2), S = 1 (x3), S = 2 (x1) -> levels of degeneracy 1, 3, 5
    assert sorted(spec.degeneracies.tolist()) == [1, 1, 3, 3, 3, 5]
    assert spec.degeneracies.sum() == 16
    assert len(spec.levels) == len(spec.level_energies) == 6
    for lvl, idx in enumerate(spec.levels):
        s2 = np.real(np.diag(V[:, idx].conj().T @ S2 @ V[:, idx]))
        S = (-1 + np.sqrt(1 + 4 * s2.mean())) / 2
        assert_allclose(s2, s2[0], atol=1e-10)
        assert_allclose(S, round(S), atol=1e-10)
        assert len(idx) == 2 * round(S) + 1
        assert_allclose(spec.energies[idx], spec.level_energies[lvl], atol=1e-12)
        assert np.all(spec.level_index[idx] == lvl)
    assert np.all(np.diff(spec.level_energies) > 1e-3)


def test_level_tol_controls_grouping():
    chain = dm.heisenberg(4)
    E = np.linalg.eigvalsh(dense(chain.hamiltonian()))
    gaps = np.diff(np.unique(np.round(E, 9)))
    # a tolerance larger than the smallest level gap merges levels
    big = dm.diagonalize(chain, level_tol=gaps.min() * 1.01)
    assert len(big.level_energies) < 6
    # a tiny (but above round-off) tolerance keeps the 6 SU(2) levels
    assert len(dm.diagonalize(chain, level_tol=1e-11).level_energies) == 6
    assert dm.diagonalize(chain, level_tol=1e-8).level_tol == 1e-8


def test_default_level_tol_and_group_levels():
    E = np.array([-2.0, -1.0, 3.0])
    assert_allclose(default_level_tol(E), 1e4 * np.finfo(float).eps * 5.0, rtol=1e-14)
    assert_allclose(default_level_tol(np.array([0.1, 0.2])), 1e4 * np.finfo(float).eps, rtol=1e-14)
    idx, centers = group_levels(np.array([0.0, 1e-13, 1.0, 1.0 + 5e-13, 1.0 + 1e-12, 2.0]), 1e-12)
    assert idx.tolist() == [0, 0, 1, 1, 1, 2]
    assert_allclose(centers, [5e-14, 1.0 + 5e-13, 2.0], atol=1e-15)
    spec = dm.diagonalize(np.diag([1.0, 1.0 + 1e-14, 2.0]))
    assert spec.degeneracies.tolist() == [2, 1]


@pytest.mark.parametrize("bad", [0.0, -1e-9, np.nan])
def test_bad_level_tol(bad):
    with pytest.raises(ValueError, match="level_tol"):
        dm.diagonalize(np.eye(2), level_tol=bad)


# ----------------------------------------------------------------------------------------------
# Gibbs state
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make,kw", [
    (lambda: dm.xxz(6, 0.5, j2=0.3, hz=0.2), {}),
    (lambda: dm.xxz(6, 0.5, j2=0.3, hz=0.2), dict(blocks=None)),
    (lambda: dm.xxz(6, 0.5, j2=0.3, bc="periodic"), dict(blocks=("sz", "k"))),
    (lambda: dm.tfim(6, 0.8, h=0.3), {}),
])
@pytest.mark.parametrize("beta", [0.1, 1.0, 3.7])
def test_gibbs_equals_expm(make, kw, beta):
    chain = make()
    H = dense(chain.hamiltonian())
    spec = dm.diagonalize(chain, **kw)
    rho = spec.gibbs(beta)
    ref = sla.expm(-beta * H)
    ref /= np.trace(ref)
    assert rho.shape == H.shape
    assert_allclose(rho, ref, atol=1e-12)
    assert_allclose(np.trace(rho), 1.0, atol=1e-12)
    p = spec.gibbs_weights(beta)
    assert_allclose(p, np.exp(-beta * spec.energies) / np.exp(-beta * spec.energies).sum(), rtol=1e-12)


def test_gibbs_large_beta_stable():
    spec = dm.diagonalize(dm.heisenberg(6))
    rho = spec.gibbs(1e4)
    assert np.all(np.isfinite(rho))
    assert_allclose(np.trace(rho), 1.0, atol=1e-12)


def test_gibbs_in_a_sector():
    chain = dm.xxz(6, 0.5, j2=0.3, bc="periodic")
    lab = dict(sz=0, k=0)
    spec = dm.diagonalize(chain, sector=lab)
    P = dense(dm.sector_basis(6, **lab))
    Hs = P.conj().T @ dense(chain.hamiltonian()) @ P
    ref = P @ sla.expm(-1.3 * Hs) @ P.conj().T
    assert_allclose(spec.gibbs(1.3), ref / np.trace(ref), atol=1e-12)


def test_gibbs_zero_temperature_is_the_ground_level():
    """beta = inf: the ground-level projector over its degeneracy, with states of one level weighted exactly
    equally even when round-off splits their energies (level energies are used)."""
    spec = dm.diagonalize(np.diag([0.3, 0.0, 1e-15, 1.0]))
    assert_allclose(spec.gibbs_weights(np.inf), [0.5, 0.5, 0.0, 0.0], atol=0)
    assert_allclose(spec.gibbs(np.inf), np.diag([0.0, 0.5, 0.5, 0.0]), atol=0)
    assert_allclose(spec.gibbs_weights(1e4), [0.5, 0.5, 0.0, 0.0], atol=1e-300)


@pytest.mark.parametrize("beta,exc", [(0, ValueError), (-1.0, ValueError), (1e-301, ValueError),
                                      (np.nan, ValueError), ("1", TypeError), (1j, TypeError)])
def test_gibbs_bad_beta(beta, exc):
    spec = dm.diagonalize(np.diag([0.0, 1.0]))
    with pytest.raises(exc, match="beta"):
        spec.gibbs(beta)
    with pytest.raises(exc, match="beta"):
        spec.gibbs_weights(beta)


# ----------------------------------------------------------------------------------------------
# basis changes
# ----------------------------------------------------------------------------------------------
def make_ops(chain, rng, few=False):
    L = chain.L
    d = 2**L
    M = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    if few:  # many sector blocks: to_eigenbasis loops over block pairs (slow), keep it to two ops
        return {"sx0 sparse": chain.pauli("x", 0), "random dense complex": M}
    return {
        "sx0 sparse": chain.pauli("x", 0),
        "sx0+sz1 dense": (chain.pauli("x", 0) + chain.pauli("z", 1)).toarray(),
        "s+2 (non-Hermitian)": chain.op("+", 2),
        "random dense complex": M,
        "random sparse": sp.csr_array(sp.random(d, d, density=0.05, random_state=3)),
    }


@pytest.mark.parametrize("make,kw", [
    (lambda: dm.xxz(6, 0.5, j2=0.3, hz=0.2), {}),                       # S^z rows blocks
    (lambda: dm.xxz(6, 0.5, j2=0.3, hz=0.2), dict(blocks=None)),        # one dense block
    (lambda: dm.xxz(6, 0.5, j2=0.3, bc="periodic"), dict(blocks=("sz", "k"))),   # complex blocks
    (lambda: dm.xxz(6, 0.5, j2=0.3, bc="periodic"), dict(blocks=("sz", "k", "parity", "flip"))),
    (lambda: dm.tfim(6, 0.7, h=0.2), {}),
])
def test_to_eigenbasis_equals_VdagOV(make, kw, rng):
    chain = make()
    H = dense(chain.hamiltonian())
    spec = dm.diagonalize(chain, **kw)
    check_eigensystem(spec, H)
    V = spec.vectors
    for name, op in make_ops(chain, rng, few=len(spec.blocks) > 10).items():
        got = spec.to_eigenbasis(op)
        assert isinstance(got, np.ndarray) and got.shape == (spec.n, spec.n)
        assert_allclose(got, V.conj().T @ dense(op) @ V, atol=TOL, err_msg=name)
        # and back
        assert_allclose(spec.from_eigenbasis(got), dense(op), atol=TOL, err_msg=name)
    # H itself is diagonal in its eigenbasis
    assert_allclose(spec.to_eigenbasis(chain.hamiltonian()), np.diag(spec.energies), atol=TOL)


@pytest.mark.parametrize("lab", [dict(k=1), dict(sz=0, k=2), dict(sz=0, k=0, parity=-1), dict(sz=0, flip=-1)])
def test_to_eigenbasis_in_a_sector(lab):
    L = 6
    chain = dm.xxz(L, 0.5, j2=0.3, bc="periodic")
    spec = dm.diagonalize(chain, sector=lab)
    V = spec.vectors
    if "k" in lab and lab["k"] not in (0, L // 2):
        assert not spec.is_real and np.iscomplexobj(V)
    # operators that commute with every symmetry: they leave the sector invariant
    ops = {
        "Sz total": chain.total("z"),
        "zz nn": sum(chain.pauli("z", j) @ chain.pauli("z", (j + 1) % L) for j in range(L)),
        "xx+yy nnn dense": sum((chain.pauli("x", j) @ chain.pauli("x", (j + 2) % L)
                                + chain.pauli("y", j) @ chain.pauli("y", (j + 2) % L)) for j in range(L)).toarray(),
    }
    for name, op in ops.items():
        if "flip" in lab and name == "Sz total":
            continue  # S^z is odd under the flip: it leaves the flip sector
        got = spec.to_eigenbasis(op)
        assert_allclose(got, V.conj().T @ dense(op) @ V, atol=TOL, err_msg=name)


@pytest.mark.parametrize("lab,opname", [
    (dict(sz=0), "x0"),
    (dict(k=1), "z0"),
    (dict(flip=1), "z0"),
    (dict(sz=0, flip=-1), "z0"),  # conserves S^z, odd under the flip
    (dict(parity=1), "z0"),
])
def test_to_eigenbasis_rejects_operator_leaving_the_sector(lab, opname):
    chain = dm.xxz(6, 0.5, bc="periodic")
    spec = dm.diagonalize(chain, sector=lab)
    op = {"x0": chain.pauli("x", 0), "z0": chain.pauli("z", 0)}[opname]
    with pytest.raises(ValueError, match="sector"):
        spec.to_eigenbasis(op)
    # the check can be switched off: then it is the plain projection V^dag O V
    V = spec.vectors
    assert_allclose(spec.to_eigenbasis(op, check_sector=False), V.conj().T @ dense(op) @ V, atol=TOL)


def test_to_eigenbasis_bad_operator():
    spec = dm.diagonalize(dm.xxz(4, 0.5))
    with pytest.raises(ValueError, match="dimension"):
        spec.to_eigenbasis(np.eye(8))
    with pytest.raises(ValueError, match="square"):
        spec.to_eigenbasis(np.eye(16)[:, :8])
    with pytest.raises(ValueError, match="NaN"):
        spec.to_eigenbasis(np.full((16, 16), np.nan))
    with pytest.raises(ValueError, match="shape"):
        spec.from_eigenbasis(np.eye(4))


def test_expect_thermal():
    chain = dm.xxz(6, 0.5, hz=0.3)
    spec = dm.diagonalize(chain)
    beta = 0.8
    Sz = chain.total("z")
    got = spec.expect(Sz, spec.gibbs_weights(beta))
    assert_allclose(got, np.trace(spec.gibbs(beta) @ dense(Sz)).real, atol=1e-12)


def test_spectrum_is_frozen():
    spec = dm.diagonalize(np.diag([0.0, 1.0]))
    with pytest.raises(Exception):
        spec.energies = np.zeros(2)


# ----------------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------------
def test_non_hermitian_matrix():
    with pytest.raises(ValueError, match="Hermitian"):
        dm.diagonalize(np.array([[1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(ValueError, match="Hermitian"):
        dm.diagonalize(sp.csr_array(np.array([[0.0, 1j], [1j, 0.0]])))


@pytest.mark.parametrize("M", [np.zeros((2, 3)), np.zeros(4), np.zeros((2, 2, 2)), sp.csr_array((3, 4))])
def test_non_square_matrix(M):
    with pytest.raises(ValueError, match="square"):
        dm.diagonalize(M)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_matrix(bad):
    M = np.eye(3)
    M[1, 1] = bad
    with pytest.raises(ValueError, match="NaN"):
        dm.diagonalize(M)
    with pytest.raises(ValueError, match="NaN"):
        dm.diagonalize(sp.csr_array(M))


@pytest.mark.parametrize("bad", ["H", None, 3.0, np.array([["a", "b"], ["c", "d"]])])
def test_wrong_kind(bad):
    with pytest.raises(TypeError, match="H"):
        dm.diagonalize(bad)


def test_sector_with_bare_matrix():
    with pytest.raises(ValueError, match="SpinChain"):
        dm.diagonalize(np.eye(4), sector=dict(sz=0))


def test_huge_dense_matrix_memory_error():
    big = sp.identity(2**20, format="csr")  # sparse: nothing dense is allocated
    with pytest.raises(MemoryError) as err:
        dm.diagonalize(big)
    msg = str(err.value)
    assert "GiB" in msg
    # the peak: the dense matrix, LAPACK's copy, the eigenvectors (2^40 float64 entries, 8192 GiB each)
    # and the divide-and-conquer workspace (2 * 2^40 + 6 * 2^20 + 1 floats)
    assert f"{(5 * 2**40 + 6 * 2**20 + 1) * 8 / 2**30:.2f} GiB" in msg
    assert "the largest 16384.05 GiB" in msg
    assert "1048576 x 1048576" in msg


def test_chain_memory_error_estimate(monkeypatch):
    from davies_mb import _checks

    monkeypatch.setattr(_checks, "MEMORY_LIMIT_BYTES", 2**20)  # 1 MiB: a 512x512 float64 is 2 MiB
    with pytest.raises(MemoryError, match="GiB"):
        dm.diagonalize(dm.xxz(9, 0.5, hx=0.1))  # no S^z: one dense 512x512


def test_chain_sector_errors():
    chain = dm.xxz(6, 0.5, hz=0.2, bc="periodic")
    with pytest.raises(ValueError, match="flip"):
        dm.diagonalize(chain, sector=dict(sz=0, flip=1))
    with pytest.raises(ValueError, match="unknown sector label"):
        dm.diagonalize(chain, sector=dict(spin=0))
    with pytest.raises(ValueError, match="blocks"):
        dm.diagonalize(dm.xxz(6, 0.5), blocks=("k",))
    with pytest.raises(ValueError, match="sz"):
        dm.diagonalize(dm.xxz(6, 0.5, hx=0.2), blocks=("sz",))


def test_sector_split_by_its_own_symmetries():
    """diagonalize(chain, sector) refines the sector by reflection and spin flip (issue 13: four ~3200 blocks instead
    of one eigh of 12870 at L = 16); the spectrum, eigenprojections and sector are those of one eigh of the sector."""
    chain = dm.xxz(8, 0.5, j2=0.3)
    one = dm.diagonalize(chain, sector=dict(sz=0), blocks=None)
    split = dm.diagonalize(chain, sector=dict(sz=0))
    assert len(one.blocks) == 1 and len(split.blocks) == 4
    assert split.sector == one.sector == {"sz": 0}
    assert {frozenset(b.label.items()) for b in split.blocks} == {
        frozenset(dict(sz=0, parity=p, flip=f).items()) for p in (1, -1) for f in (1, -1)}
    np.testing.assert_allclose(split.energies, one.energies, atol=1e-12)
    H = chain.hamiltonian()
    np.testing.assert_allclose(split.to_eigenbasis(H), np.diag(split.energies), atol=1e-12)
    only_parity = dm.diagonalize(chain, sector=dict(sz=1))  # flip is no symmetry at S^z = 1
    assert {tuple(sorted(b.label)) for b in only_parity.blocks} == {("parity", "sz")}
    with pytest.raises(ValueError, match="flip needs"):
        dm.diagonalize(chain, sector=dict(sz=1), blocks=("flip",))
    with pytest.raises(ValueError, match="parity"):
        dm.diagonalize(dm.xxz(8, 0.5, j2=0.3, bc="periodic"), sector=dict(sz=0, k=1), blocks=("parity",))
