"""Tests for davies_mb.sectors: isometries onto S^z / momentum / reflection / spin-flip sectors.

Everything here is checked against objects built independently in this file: Hamiltonians from
numpy Kronecker products (S = sigma / 2, site 0 = leftmost factor = most significant bit) and
symmetry operators / group projectors from explicit per-state site lists (small L only).
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from math import comb

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from davies_mb.sectors import (
    SECTOR_KEYS,
    sector_basis,
    sector_dimension,
    sector_labels,
    validate_sector,
)

ATOL = 1e-10
ALL_SYMMETRY_SETS = [
    combo for r in range(1, 5) for combo in itertools.combinations(SECTOR_KEYS, r)
]


# ----------------------------------------------------------------------------------------------
# independent reference constructions
# ----------------------------------------------------------------------------------------------
SX = np.array([[0, 1], [1, 0]], dtype=complex) / 2
SY = np.array([[0, -1j], [1j, 0]], dtype=complex) / 2
SZ = np.array([[1, 0], [0, -1]], dtype=complex) / 2


def site_op(op, j, L):
    return np.kron(np.kron(np.eye(2**j), op), np.eye(2 ** (L - j - 1)))


def xxz_j2(L, delta=0.7, j2=0.45, delta2=0.3):
    """Periodic H = sum_j S_j.S_{j+1} (Delta on zz) + J2 sum_j S_j.S_{j+2} (Delta2 on zz), dense."""
    ops = [[site_op(o, j, L) for j in range(L)] for o in (SX, SY, SZ)]
    H = np.zeros((2**L, 2**L), dtype=complex)
    for dist, (J, dz) in ((1, (1.0, delta)), (2, (j2, delta2))):
        for j in range(L):
            m = (j + dist) % L
            H += J * (ops[0][j] @ ops[0][m] + ops[1][j] @ ops[1][m] + dz * ops[2][j] @ ops[2][m])
    assert_allclose(H.imag, 0, atol=1e-14)
    return H.real


def bits(b, L):
    """Site list of basis index b: site 0 is the most significant bit."""
    return [(b >> (L - 1 - j)) & 1 for j in range(L)]


def index(config):
    return int("".join(map(str, config)), 2)


def act(config, n, a, f):
    """T^n R^a F^f on a site list: F flips, R: j -> L-1-j, T: site j -> site j+1 mod L."""
    L = len(config)
    c = [1 - x for x in config] if f else list(config)
    if a:
        c = c[::-1]
    for _ in range(n):
        c = [c[-1]] + c[:-1]  # new site j+1 holds old site j
    return c


def perm_matrix(L, n=0, a=0, f=0):
    M = np.zeros((2**L, 2**L))
    for b in range(2**L):
        M[index(act(bits(b, L), n, a, f)), b] = 1
    return M


def brute_projector(L, states, k=None, parity=None, flip=None):
    """Group projector (1/|G|) sum_g chi(g)^* g restricted to `states` (must be G-invariant)."""
    pos = {s: i for i, s in enumerate(states)}
    G = [
        (n, a, f)
        for n in (range(L) if k is not None else [0])
        for a in ((0, 1) if parity is not None else (0,))
        for f in ((0, 1) if flip is not None else (0,))
    ]
    Pi = np.zeros((len(states), len(states)), dtype=complex)
    for n, a, f in G:
        chi = np.exp(2j * np.pi * (k or 0) * n / L) * (parity**a if a else 1) * (flip**f if f else 1)
        for s in states:
            Pi[pos[index(act(bits(s, L), n, a, f))], pos[s]] += np.conj(chi)
    return Pi / len(G)


def sz_states(L, sz):
    n_down = round(L / 2 - sz)
    return [b for b in range(2**L) if bin(b).count("1") == n_down]


def dag(P):
    return P.conj().T


# ----------------------------------------------------------------------------------------------
# isometry and dimension bookkeeping
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("L", [1, 2, 3, 4, 5, 6, 7, 8])
@pytest.mark.parametrize("symmetries", ALL_SYMMETRY_SETS, ids=lambda s: "+".join(s))
def test_isometry_and_dimension_agree(L, symmetries):
    for label in sector_labels(L, symmetries):
        P = sector_basis(L, **label)
        assert isinstance(P, sp.csr_array)
        D = sector_dimension(L, label)
        assert P.shape == (2**L, D)
        assert_allclose((dag(P) @ P).toarray(), np.eye(D), atol=1e-13)
        # one nonzero per basis state of the sector, every column normalized over its orbit
        assert P.nnz == np.count_nonzero(abs(P).sum(axis=1))


@pytest.mark.parametrize("L", range(2, 11))
@pytest.mark.parametrize("symmetries", ALL_SYMMETRY_SETS, ids=lambda s: "+".join(s))
def test_dimensions_add_up(L, symmetries):
    labels = sector_labels(L, symmetries)
    dims = [sector_dimension(L, lab) for lab in labels]
    assert all(d > 0 for d in dims)
    assert sum(dims) == 2**L
    assert len({tuple(sorted(lab.items())) for lab in labels}) == len(labels)


@pytest.mark.parametrize("L", [6, 7, 8, 9, 10])
def test_dimensions_add_up_with_fixed_sz(L):
    for sz in [L / 2, L / 2 - 1, L / 2 - 2] + ([0] if L % 2 == 0 else [0.5, -0.5]):
        n_down = round(L / 2 - sz)
        for symmetries in ALL_SYMMETRY_SETS:
            labels = sector_labels(L, symmetries, sz=sz)
            assert all("sz" in lab for lab in labels)
            assert sum(sector_dimension(L, lab) for lab in labels) == comb(L, n_down)
            if L <= 8:
                assert sum(sector_basis(L, **lab).shape[1] for lab in labels) == comb(L, n_down)


def test_sector_labels_layout():
    assert sector_labels(3, ("sz",)) == [{"sz": 1.5}, {"sz": 0.5}, {"sz": -0.5}, {"sz": -1.5}]
    assert sector_labels(2, "sz") == [{"sz": 1}, {"sz": 0}, {"sz": -1}]
    labels = sector_labels(8, ("sz", "k", "parity", "flip"))
    for lab in labels:
        assert ("parity" in lab) == (lab["k"] in (0, 4))
        assert ("flip" in lab) == (lab["sz"] == 0)
    assert [lab["sz"] for lab in labels] == sorted((lab["sz"] for lab in labels), reverse=True)
    labels = sector_labels(8, ("sz", "k", "parity", "flip"), sz=0)
    assert {lab["sz"] for lab in labels} == {0}
    # at most (k = 0, 4) x parity x flip + 6 other k x flip; empty blocks are left out
    assert len(labels) <= 2 * 2 * 2 + 6 * 2
    assert {lab["k"] for lab in labels} == set(range(8))
    assert {"sz": 0, "k": 0, "parity": -1, "flip": 1} not in labels  # empty at L = 8
    assert sector_dimension(8, {"sz": 0, "k": 0, "parity": -1, "flip": 1}) == 0
    # with k, parity only at k = 0 for odd L
    assert all(("parity" in lab) == (lab["k"] == 0) for lab in sector_labels(7, ("k", "parity")))


@pytest.mark.parametrize(
    ("L", "sector", "dtype"),
    [
        (6, {}, np.float64),
        (6, {"sz": 0}, np.float64),
        (6, {"k": 0}, np.float64),
        (6, {"k": 3}, np.float64),
        (6, {"k": 1}, np.complex128),
        (7, {"k": 2, "sz": 0.5}, np.complex128),
        (6, {"parity": -1, "flip": -1}, np.float64),
    ],
)
def test_dtype(L, sector, dtype):
    assert sector_basis(L, **sector).dtype == dtype


# ----------------------------------------------------------------------------------------------
# symmetry eigenvalues and Hamiltonian blocks
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("L", [4, 5, 6])
def test_columns_are_symmetry_eigenvectors(L):
    T, R, F = perm_matrix(L, n=1), perm_matrix(L, a=1), perm_matrix(L, f=1)
    Sz = sum(np.diag([1.0 - 2 * x for x in [bits(b, L)[j] for b in range(2**L)]]) for j in range(L)) / 2
    for label in sector_labels(L, SECTOR_KEYS):
        P = sector_basis(L, **label).toarray()
        assert_allclose(Sz @ P, label["sz"] * P, atol=1e-13)
        assert_allclose(T @ P, np.exp(2j * np.pi * label["k"] / L) * P, atol=1e-13)
        if "parity" in label:
            assert_allclose(R @ P, label["parity"] * P, atol=1e-13)
        if "flip" in label:
            assert_allclose(F @ P, label["flip"] * P, atol=1e-13)
    for label in sector_labels(L, ("parity", "flip")):  # open-chain sectors
        P = sector_basis(L, **label).toarray()
        assert_allclose(R @ P, label["parity"] * P, atol=1e-13)
        assert_allclose(F @ P, label["flip"] * P, atol=1e-13)


def test_momentum_state_formula():
    """|k, r> = N^{-1/2} sum_n e^{-2 pi i k n / L} T^n |r> for the representative r."""
    L = 6
    T = perm_matrix(L, n=1)
    for label in sector_labels(L, ("sz", "k")):
        P = sector_basis(L, **label).toarray()
        for col in range(P.shape[1]):
            r = np.flatnonzero(abs(P[:, col]) > 0)[0]  # smallest index = representative
            v = np.zeros(2**L, dtype=complex)
            e = np.zeros(2**L)
            e[r] = 1
            for n in range(L):
                v += np.exp(-2j * np.pi * label["k"] * n / L) * e
                e = T @ e
            v /= np.linalg.norm(v)
            assert_allclose(P[:, col], v * np.exp(-1j * np.angle(v[r])) * abs(P[r, col]) / abs(v[r]),
                            atol=1e-13)
            assert P[r, col].real > 0 and abs(P[r, col].imag) < 1e-15


@pytest.mark.parametrize(
    ("L", "symmetries"),
    [
        (6, ("sz", "k", "parity", "flip")),
        (6, ("k", "parity")),
        (6, ("parity", "flip")),
        (7, ("sz", "k", "parity")),
        (7, ("k", "flip")),
        (7, ("k",)),
        (8, ("sz", "k", "parity", "flip")),
        (8, ("sz", "parity", "flip")),
        (8, ("k",)),
    ],
)
def test_blocks_reproduce_full_spectrum(L, symmetries):
    H = xxz_j2(L)
    full = np.linalg.eigvalsh(H)
    pooled = []
    for label in sector_labels(L, symmetries):
        P = sector_basis(L, **label)
        HP = H @ P.toarray()
        block = dag(P) @ HP
        assert_allclose(block, dag(block), atol=1e-13)
        # the sector is invariant: (1 - P P^dag) H P = 0
        assert np.abs(HP - P @ block).max() < 1e-12
        pooled.append(np.linalg.eigvalsh(block))
    pooled = np.sort(np.concatenate(pooled))
    assert pooled.shape == full.shape
    assert_allclose(pooled, full, atol=ATOL, rtol=0)


# ----------------------------------------------------------------------------------------------
# agreement with quimb's U(1) sectors
# ----------------------------------------------------------------------------------------------
def quimb_xxz_j2(L, hilbert_space, delta=0.7, j2=0.45, delta2=0.3):
    from quimb.operator import SparseOperatorBuilder

    b = SparseOperatorBuilder(hilbert_space=hilbert_space)
    for dist, (J, dz) in ((1, (1.0, delta)), (2, (j2, delta2))):
        for j in range(L):
            m = (j + dist) % L
            # S.S in Pauli strings: (J/2)(s+ s- + s- s+) + (J dz / 4) sz sz
            b.add_term(J / 2, ("+", j), ("-", m))
            b.add_term(J / 2, ("-", j), ("+", m))
            b.add_term(J * dz / 4, ("z", j), ("z", m))
    return b.build_sparse_matrix()


@pytest.mark.parametrize("L", [6, 7, 8])
def test_u1_sector_matches_quimb(L):
    from quimb.operator import HilbertSpace

    H = xxz_j2(L)
    assert_allclose(quimb_xxz_j2(L, HilbertSpace(L)).toarray(), H, atol=1e-14)
    for n_down in range(L + 1):
        sz = (L - 2 * n_down) / 2
        hs = HilbertSpace(L, sector=n_down)
        P = sector_basis(L, sz=sz)
        # quimb's sector basis: ascending computational index, bit 1 = down
        configs = np.array([hs.rank_to_flatconfig(r) for r in range(hs.size)])
        idx = configs @ (1 << np.arange(L - 1, -1, -1))
        assert np.all(np.diff(idx) > 0)
        assert np.all(configs.sum(axis=1) == n_down)
        assert_allclose(P.indices, np.arange(P.shape[1]))
        assert_allclose(np.flatnonzero(np.diff(P.indptr)), idx)
        Hq = quimb_xxz_j2(L, hs).toarray()
        assert_allclose(Hq, (dag(P) @ H @ P), atol=1e-13)
        # further reduction starting from quimb's sector Hamiltonian (space="sz")
        for label in sector_labels(L, SECTOR_KEYS, sz=sz):
            Pf = sector_basis(L, **label)
            Ps = sector_basis(L, **label, space="sz")
            assert Ps.shape == (hs.size, Pf.shape[1])
            assert_allclose(dag(Ps) @ Hq @ Ps, dag(Pf) @ (H @ Pf), atol=1e-13)


def test_sz_z_convention_matches_quimb():
    from quimb.operator import HilbertSpace, SparseOperatorBuilder

    L = 3
    b = SparseOperatorBuilder(hilbert_space=HilbertSpace(L))
    b.add_term(0.5, ("z", 0))  # S^z on site 0
    diag = b.build_sparse_matrix().diagonal()
    assert_allclose(diag, [0.5] * 4 + [-0.5] * 4)  # site 0 = most significant bit, bit 0 = up
    for sz in (1.5, 0.5, -0.5, -1.5):
        Sz_total = np.diag([sum(0.5 - x for x in bits(b_, L)) for b_ in range(2**L)])
        P = sector_basis(L, sz=sz).toarray()
        assert_allclose(Sz_total @ P, sz * P, atol=1e-14)


# ----------------------------------------------------------------------------------------------
# dimensions against brute-force group projectors and reference values
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("L", [2, 4, 6, 8, 10, 12])
def test_fully_resolved_dimensions_brute_force(L):
    states = sz_states(L, 0)
    for k in sorted({0, L // 2}):
        for parity, flip in itertools.product((1, -1), repeat=2):
            label = {"sz": 0, "k": k, "parity": parity, "flip": flip}
            Pi = brute_projector(L, states, k=k, parity=parity, flip=flip)
            if L <= 8:
                assert_allclose(Pi @ Pi, Pi, atol=1e-12)
            dim = round(np.trace(Pi).real)
            assert abs(np.trace(Pi) - dim) < 1e-9
            if L == 12 and (k, parity, flip) == (0, 1, 1):
                assert np.linalg.matrix_rank(Pi, tol=1e-8) == dim
            assert sector_dimension(L, label) == dim
            assert sector_basis(L, **label).shape[1] == dim


@pytest.mark.parametrize("L", [5, 7, 9])
def test_momentum_dimensions_brute_force_odd(L):
    for sz in (0.5, 1.5):
        states = sz_states(L, sz)
        for k in range(L):
            Pi = brute_projector(L, states, k=k)
            dim = round(np.trace(Pi).real)
            assert sector_dimension(L, {"sz": sz, "k": k}) == dim
            assert sector_basis(L, sz=sz, k=k).shape[1] == dim
        Pi = brute_projector(L, states, k=0, parity=-1)
        assert sector_dimension(L, {"sz": sz, "k": 0, "parity": -1}) == round(np.trace(Pi).real)


@pytest.mark.parametrize("L", [3, 4, 5, 6])
def test_open_chain_and_flip_dimensions_brute_force(L):
    states = list(range(2**L))
    for parity, flip in itertools.product((1, -1, None), repeat=2):
        if parity is None and flip is None:
            continue
        Pi = brute_projector(L, states, parity=parity, flip=flip)
        label = {key: v for key, v in (("parity", parity), ("flip", flip)) if v is not None}
        assert sector_dimension(L, label) == round(np.trace(Pi).real)
        assert sector_basis(L, **label).shape[1] == round(np.trace(Pi).real)


def test_known_dimensions():
    # small cases counted by hand: L = 4, S^z = 0 has the orbits of 0011 (size 4) and 0101 (size 2)
    assert sector_dimension(4, {"sz": 0, "k": 0, "parity": 1, "flip": 1}) == 2
    assert sector_dimension(4, {"sz": 0, "k": 0, "parity": -1}) == 0
    assert sector_dimension(4, {"sz": 0, "k": 2}) == 2
    assert sector_dimension(16, {"sz": 0, "k": 0}) == 810
    # Fully resolved blocks (sz = 0, k = 0, parity = +1, flip = +1). These values come from this
    # module, cross-checked between its two independent algorithms (orbit enumeration in
    # sector_basis, character-weighted cycle counting in sector_dimension) and against brute-force
    # group projectors up to L = 12 above. The brief quoted QuSpin values 429 (L = 16) and 1387
    # (L = 18) for this block; they do not agree: 1387 is the L = 18 block sz=0, k=0, parity=+1
    # WITHOUT spin flip (asserted below), and 429 matches no L = 16 block with k = 0.
    expected = {16: 257, 18: 765}
    for L, dim in expected.items():
        label = {"sz": 0, "k": 0, "parity": 1, "flip": 1}
        assert sector_dimension(L, label) == dim
        assert sector_basis(L, **label).shape[1] == dim
    assert sector_dimension(18, {"sz": 0, "k": 0, "parity": 1}) == 1387


def test_large_fully_resolved_block():
    """L = 18 block (its build time is a benchmark's business, not a test's: no wall-clock limits here)."""
    L = 18
    P = sector_basis(L, sz=0, k=0, parity=1, flip=1)
    assert P.shape == (2**L, 765)
    assert P.nnz <= comb(L, L // 2)
    assert_allclose((dag(P) @ P).diagonal(), 1.0, atol=1e-13)


@pytest.mark.slow
def test_l20_fully_resolved_block():
    P = sector_basis(20, sz=0, k=0, parity=1, flip=1)
    assert P.shape[1] == sector_dimension(20, {"sz": 0, "k": 0, "parity": 1, "flip": 1})
    PtP = dag(P) @ P
    assert_allclose(PtP.diagonal(), 1.0, atol=1e-13)
    assert PtP.nnz == P.shape[1]


# ----------------------------------------------------------------------------------------------
# input validation
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"L": 0}, ValueError, "L must satisfy"),
        ({"L": 31}, ValueError, "L must satisfy"),
        ({"L": 4.0}, TypeError, "L must be an integer"),
        ({"L": True}, TypeError, "L must be an integer"),
        ({"L": 4, "sz": 0.5}, ValueError, r"valid values are \[2, 1, 0, -1, -2\]"),
        ({"L": 4, "sz": 3}, ValueError, "sz=3 is not an eigenvalue"),
        ({"L": 5, "sz": 0}, ValueError, "valid values are"),
        ({"L": 4, "sz": 0.1}, ValueError, "not an eigenvalue"),
        ({"L": 4, "sz": float("nan")}, ValueError, "not an eigenvalue"),
        ({"L": 4, "sz": "0"}, TypeError, "sz must be a real number"),
        ({"L": 4, "k": 4}, ValueError, r"k must be a momentum index in 0\.\.3"),
        ({"L": 4, "k": -1}, ValueError, "k % L"),
        ({"L": 4, "k": 1.0}, TypeError, "k must be an integer"),
        ({"L": 4, "parity": 0}, ValueError, "parity must be \\+1 or -1"),
        ({"L": 4, "parity": 1.0}, TypeError, "parity must be the integer"),
        ({"L": 4, "flip": 2}, ValueError, "flip must be \\+1 or -1"),
        ({"L": 4, "flip": "1"}, TypeError, "flip must be the integer"),
        ({"L": 6, "k": 1, "parity": 1}, ValueError, r"k = 0 or k = L/2.*k in \[0, 3\]"),
        ({"L": 5, "k": 2, "parity": -1}, ValueError, r"k in \[0\]"),
        ({"L": 4, "sz": 1, "flip": 1}, ValueError, "flip can be combined with sz only at sz = 0"),
        ({"L": 4, "space": "sector"}, ValueError, "space must be"),
        ({"L": 4, "space": "sz"}, ValueError, "space='sz' needs sz"),
    ],
)
def test_bad_input_sector_basis(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        sector_basis(**kwargs)


def test_bad_input_dimension_and_labels():
    with pytest.raises(ValueError, match=r"unknown sector key\(s\) \['momentum'\].*'sz', 'k', 'parity', 'flip'"):
        sector_dimension(4, {"momentum": 0})
    with pytest.raises(TypeError, match="sector must be a dict"):
        sector_dimension(4, [("sz", 0)])
    with pytest.raises(ValueError, match="parity must be"):
        sector_dimension(4, {"parity": 3})
    with pytest.raises(ValueError, match="unknown symmetry name"):
        sector_labels(4, ("sz", "spin"))
    with pytest.raises(TypeError, match="symmetries must"):
        sector_labels(4, 3)
    with pytest.raises(TypeError, match="symmetries must contain strings"):
        sector_labels(4, ("sz", 1))
    with pytest.raises(ValueError, match="not an eigenvalue"):
        sector_labels(4, ("sz",), sz=0.5)


def test_value_types_accepted():
    ref = sector_basis(6, sz=1, k=0).toarray()
    for sz in (1, 1.0, Fraction(1), np.int64(1), np.float64(1.0)):
        assert_allclose(sector_basis(np.int32(6), sz=sz, k=np.int64(0)).toarray(), ref)
    assert sector_dimension(5, {"sz": Fraction(-1, 2)}) == comb(5, 3)
    assert validate_sector(5, {"sz": Fraction(-1, 2), "k": np.int64(2), "parity": None}) == {"sz": -0.5, "k": 2}
    assert validate_sector(4, None) == {}
    assert sector_dimension(4, {}) == 16
    assert sector_basis(3).shape == (8, 8)


def test_hypothesis_random_sectors():
    import hypothesis  # a test dependency (pyproject [test])
    st = hypothesis.strategies

    @hypothesis.settings(max_examples=40, deadline=None, derandomize=True)
    @hypothesis.given(L=st.integers(1, 9), data=st.data())
    def check(L, data):
        syms = data.draw(st.sets(st.sampled_from(SECTOR_KEYS)))
        labels = sector_labels(L, tuple(syms))
        assert sum(sector_dimension(L, lab) for lab in labels) == 2**L
        label = data.draw(st.sampled_from(labels))
        P = sector_basis(L, **label)
        assert P.shape[1] == sector_dimension(L, label)
        assert_allclose((dag(P) @ P).toarray(), np.eye(P.shape[1]), atol=1e-13)

    check()
