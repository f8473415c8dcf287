"""Tests for davies_mb.models: chains built with quimb against hand-built Kronecker products.

Every reference Hamiltonian here is written from the formulas of PHYSICS.md section 1 with numpy
only: S = sigma / 2 for the XXZ family, Pauli matrices for the Ising family, site 0 the leftmost
(most significant) Kronecker factor, basis index 0 = spin up. Symmetry operators (translation T,
reflection R, spin flip F) are built here as explicit permutation matrices.
"""

from __future__ import annotations


import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

import davies_mb as dm

ATOL = 1e-12

X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
Z = np.array([[1, 0], [0, -1]], dtype=complex)
PAULI = {"x": X, "y": Y, "z": Z}


# ----------------------------------------------------------------------------------------------
# independent references
# ----------------------------------------------------------------------------------------------
def site(op, j, L):
    return np.kron(np.kron(np.eye(2**j), op), np.eye(2 ** (L - j - 1)))


def bonds(L, r, bc):
    if bc == "open":
        return [(j, j + r) for j in range(L - r)]
    return [(j, (j + r) % L) for j in range(L)]


def xxz_ref(L, delta, *, j=1.0, j2=0.0, delta2=None, hz_sites=None, hx=0.0, bc="open"):
    """PHYSICS.md 1: S = sigma/2, sum over bonds (indices mod L when periodic)."""
    delta2 = delta if delta2 is None else delta2
    S = [[site(P / 2, s, L) for s in range(L)] for P in (X, Y, Z)]
    H = np.zeros((2**L, 2**L), dtype=complex)
    for J, D, r in ((j, delta, 1), (j2, delta2, 2)):
        for a, b in bonds(L, r, bc):
            H += J * (S[0][a] @ S[0][b] + S[1][a] @ S[1][b] + D * S[2][a] @ S[2][b])
    hz_sites = np.zeros(L) if hz_sites is None else np.asarray(hz_sites, dtype=float)
    for s in range(L):
        H += hz_sites[s] * S[2][s] + hx * S[0][s]
    assert_allclose(H.imag, 0, atol=1e-15)
    return H.real


def tfim_ref(L, g, *, j=1.0, h=0.0, bc="open"):
    H = np.zeros((2**L, 2**L), dtype=complex)
    for a, b in bonds(L, 1, bc):
        H -= j * site(Z, a, L) @ site(Z, b, L)
    for s in range(L):
        H -= g * site(X, s, L) + h * site(Z, s, L)
    return H.real


def bit_list(b, L):
    return [(b >> (L - 1 - s)) & 1 for s in range(L)]


def from_bits(bits):
    return int("".join(map(str, bits)), 2)


def perm(L, fn):
    M = np.zeros((2**L, 2**L))
    for b in range(2**L):
        M[from_bits(fn(bit_list(b, L))), b] = 1
    return M


def T_op(L):  # spin on site j moves to j+1 mod L
    return perm(L, lambda c: [c[-1]] + c[:-1])


def R_op(L):  # j -> L-1-j
    return perm(L, lambda c: c[::-1])


def F_op(L):  # prod sigma^x
    return perm(L, lambda c: [1 - x for x in c])


def Sz_tot(L):
    return sum(site(Z / 2, s, L) for s in range(L)).real


def dense(H):
    return H.toarray() if sp.issparse(H) else np.asarray(H)


def embed_local(term, sites, L):
    """A k-site term on arbitrary (possibly non-adjacent, unordered) sites, full space."""
    k = len(sites)
    rest = [s for s in range(L) if s not in sites]
    full = np.kron(term, np.eye(2 ** (L - k)))  # order: sites..., rest...
    order = list(sites) + rest
    t = full.reshape([2] * (2 * L))
    inv = np.argsort(order)
    t = t.transpose(list(inv) + [L + i for i in inv])
    return t.reshape(2**L, 2**L)


# ----------------------------------------------------------------------------------------------
# Hamiltonians against the formulas
# ----------------------------------------------------------------------------------------------
XXZ_CASES = [
    dict(L=4, delta=0.5),
    dict(L=5, delta=-0.7, j=1.3),
    dict(L=5, delta=0.5, j2=0.4),
    dict(L=6, delta=1.2, j2=0.35, delta2=-0.6),
    dict(L=4, delta=0.9, hz=0.3),
    dict(L=4, delta=0.9, hx=0.45),
    dict(L=5, delta=0.3, j2=0.2, hz=-0.25, hx=0.6),
    dict(L=6, delta=1.0, staggered=0.8),
    dict(L=5, delta=1.0, staggered=0.8, hz=0.1),
    dict(L=6, delta=0.4, disorder=1.5, seed=11),
    dict(L=5, delta=0.4, j2=0.2, hz=0.2, staggered=0.3, disorder=0.7, seed=3, hx=0.1),
    dict(L=3, delta=0.6, j2=0.5),
    dict(L=2, delta=0.8, hz=0.3),
]


def expected_hz_sites(L, hz=0.0, staggered=0.0, disorder=0.0, seed=None, **_):
    h = hz + staggered * (-1.0) ** np.arange(L)
    if disorder:
        h = h + np.random.default_rng(seed).uniform(-disorder, disorder, size=L)
    return h


@pytest.mark.parametrize("bc", ["open", "periodic"])
@pytest.mark.parametrize("kw", XXZ_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_xxz_matches_kron_reference(kw, bc):
    chain = dm.xxz(bc=bc, **kw)
    hs = expected_hz_sites(**kw)
    assert_allclose(chain.params["hz_sites"], hs, atol=1e-15)
    ref = xxz_ref(kw["L"], kw["delta"], j=kw.get("j", 1.0), j2=kw.get("j2", 0.0),
                  delta2=kw.get("delta2"), hz_sites=hs, hx=kw.get("hx", 0.0), bc=bc)
    H = chain.hamiltonian()
    assert sp.issparse(H)
    assert H.shape == (2 ** kw["L"],) * 2
    assert_allclose(dense(H), ref, atol=ATOL)
    Hd = chain.hamiltonian(sparse=False)
    assert isinstance(Hd, np.ndarray)
    assert_allclose(Hd, ref, atol=ATOL)
    assert chain.dim == 2 ** kw["L"] and chain.L == kw["L"] and chain.bc == bc


def test_disorder_is_reproducible_and_seed_dependent():
    a = dm.xxz(6, 0.5, disorder=1.0, seed=5).hamiltonian(sparse=False)
    b = dm.xxz(6, 0.5, disorder=1.0, seed=5).hamiltonian(sparse=False)
    c = dm.xxz(6, 0.5, disorder=1.0, seed=6).hamiltonian(sparse=False)
    assert_allclose(a, b, atol=0)
    assert np.max(np.abs(a - c)) > 1e-3


@pytest.mark.parametrize("bc", ["open", "periodic"])
def test_named_families(bc):
    L = 5
    assert_allclose(dense(dm.xx(L, hz=0.2, bc=bc).hamiltonian()),
                    xxz_ref(L, 0.0, hz_sites=np.full(L, 0.2), bc=bc), atol=ATOL)
    assert_allclose(dense(dm.heisenberg(L, j2=0.3, bc=bc).hamiltonian()),
                    xxz_ref(L, 1.0, j2=0.3, bc=bc), atol=ATOL)
    assert_allclose(dense(dm.j1j2(L, 0.45, bc=bc).hamiltonian()),
                    xxz_ref(L, 1.0, j2=0.45, bc=bc), atol=ATOL)
    assert_allclose(dense(dm.j1j2(L, 0.45, delta=0.3, bc=bc).hamiltonian()),
                    xxz_ref(L, 0.3, j2=0.45, bc=bc), atol=ATOL)
    assert dm.ising is dm.tfim


def test_named_families_fix_delta():
    with pytest.raises(TypeError, match="delta"):
        dm.xx(4, delta=0.5)
    with pytest.raises(TypeError, match="delta"):
        dm.heisenberg(4, delta=0.5)


TFIM_CASES = [
    dict(L=4, g=1.0),
    dict(L=5, g=0.7, j=1.3),
    dict(L=5, g=0.4, h=0.25),
    dict(L=6, g=1.5, j=-0.8, h=-0.1),
    dict(L=4, g=0.0, h=0.3),
    dict(L=2, g=0.6),
]


@pytest.mark.parametrize("bc", ["open", "periodic"])
@pytest.mark.parametrize("kw", TFIM_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_tfim_matches_kron_reference(kw, bc):
    chain = dm.tfim(bc=bc, **kw)
    ref = tfim_ref(kw["L"], kw["g"], j=kw.get("j", 1.0), h=kw.get("h", 0.0), bc=bc)
    assert_allclose(dense(chain.hamiltonian()), ref, atol=ATOL)


def test_two_site_heisenberg_singlet_triplet():
    E = np.linalg.eigvalsh(dm.heisenberg(2).hamiltonian(sparse=False))
    assert_allclose(E, [-0.75, 0.25, 0.25, 0.25], atol=1e-13)
    # singlet (|ud> - |du>)/sqrt 2 is the ground state
    H = dm.heisenberg(2).hamiltonian(sparse=False)
    singlet = np.array([0, 1, -1, 0]) / np.sqrt(2)
    assert_allclose(H @ singlet, -0.75 * singlet, atol=1e-13)


def test_tfim_classical_limit():
    # g = 0, h = 0: ferromagnetic ground states all-up / all-down with E = -J (L-1) (open)
    chain = dm.tfim(5, 0.0, j=1.0)
    Hd = chain.hamiltonian(sparse=False)
    assert_allclose(np.diag(Hd)[[0, 31]], [-4.0, -4.0], atol=1e-13)
    assert_allclose(np.linalg.eigvalsh(Hd)[0], -4.0, atol=1e-13)


# ----------------------------------------------------------------------------------------------
# site operators of a chain
# ----------------------------------------------------------------------------------------------
def test_chain_op_and_pauli():
    L = 4
    chain = dm.xxz(L, 0.5)
    for s in range(L):
        for a in "xyz":
            op = chain.op(a, s)
            pa = chain.pauli(a, s)
            assert sp.issparse(op) and sp.issparse(pa)
            assert_allclose(op.toarray(), site(PAULI[a] / 2, s, L), atol=1e-15)
            assert_allclose(pa.toarray(), 2 * op.toarray(), atol=1e-15)
        # S^+ = S^x + i S^y = sigma^+ = |up><down|
        assert_allclose(chain.op("+", s).toarray(),
                        (chain.op("x", s) + 1j * chain.op("y", s)).toarray(), atol=1e-15)
        assert_allclose(chain.pauli("-", s).toarray(), site(np.array([[0, 0], [1, 0]]), s, L),
                        atol=1e-15)
    assert_allclose(chain.total("z").toarray(), Sz_tot(L), atol=1e-15)


def test_chain_hamiltonian_in_terms_of_ops():
    # cross-check the convention with the chain's own operators
    L = 4
    chain = dm.xxz(L, 0.3, hz=0.7, bc="periodic")
    H = sum(chain.op(a, s) @ chain.op(a, (s + 1) % L) * (0.3 if a == "z" else 1.0)
            for s in range(L) for a in "xyz") + 0.7 * chain.total("z")
    assert_allclose(dense(H), dense(chain.hamiltonian()), atol=ATOL)


# ----------------------------------------------------------------------------------------------
# sectors
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("L,bc", [(5, "open"), (6, "periodic"), (5, "periodic")])
def test_sz_sector_hamiltonian(L, bc):
    chain = dm.xxz(L, 0.6, j2=0.3, hz=0.2, bc=bc)
    Hfull = xxz_ref(L, 0.6, j2=0.3, hz_sites=np.full(L, 0.2), bc=bc)
    sz_values = [(L - 2 * n) / 2 for n in range(L + 1)]
    for sz in sz_values:
        P = dm.sector_basis(L, sz=sz)
        Hs = chain.hamiltonian(sector=dict(sz=sz))
        assert sp.issparse(Hs)
        assert_allclose(dense(Hs), dense(P.conj().T @ Hfull @ P), atol=ATOL)
        # independent: ascending computational indices with (L - 2 n_down)/2 = sz
        idx = [b for b in range(2**L) if (L - 2 * bin(b).count("1")) / 2 == sz]
        assert_allclose(dense(Hs), Hfull[np.ix_(idx, idx)], atol=ATOL)
        Hd = chain.hamiltonian(sparse=False, sector=dict(sz=sz))
        assert isinstance(Hd, np.ndarray)
        assert_allclose(Hd, Hfull[np.ix_(idx, idx)], atol=ATOL)


@pytest.mark.parametrize("L", [4, 6])
def test_symmetry_sector_hamiltonians_periodic(L):
    chain = dm.xxz(L, 0.7, j2=0.4, delta2=0.2, bc="periodic")
    Hfull = xxz_ref(L, 0.7, j2=0.4, delta2=0.2, bc="periodic")
    total = 0
    for lab in dm.sector_labels(L, ("sz", "k", "parity", "flip")):
        P = dm.sector_basis(L, **lab)
        Hs = dense(chain.hamiltonian(sector=lab))
        assert_allclose(Hs, P.conj().T @ Hfull @ P, atol=ATOL, err_msg=str(lab))
        assert_allclose(Hs, Hs.conj().T, atol=ATOL)
        # the sector is invariant: H P = P (P^dag H P)
        assert_allclose(Hfull @ P, P @ Hs, atol=1e-11, err_msg=str(lab))
        total += Hs.shape[0]
    assert total == 2**L
    for lab in (dict(k=1), dict(k=0, parity=-1), dict(flip=-1), dict(sz=0, flip=1), dict(parity=1)):
        P = dm.sector_basis(L, **lab)
        assert_allclose(dense(chain.hamiltonian(sector=lab)), P.conj().T @ Hfull @ P, atol=ATOL)


def test_tfim_sector_hamiltonians():
    L = 6
    chain = dm.tfim(L, 0.8, bc="periodic")
    Hfull = tfim_ref(L, 0.8, bc="periodic")
    for lab in dm.sector_labels(L, ("k", "parity", "flip")):
        P = dm.sector_basis(L, **lab)
        assert_allclose(dense(chain.hamiltonian(sector=lab)), P.conj().T @ Hfull @ P, atol=ATOL)
        assert_allclose(Hfull @ P, P @ dense(chain.hamiltonian(sector=lab)), atol=1e-11)


# ----------------------------------------------------------------------------------------------
# symmetry flags: each flag must be exactly the set of symmetry operators that commute with H
# ----------------------------------------------------------------------------------------------
FLAG_CASES = [
    ("xxz pbc uniform", lambda: dm.xxz(6, 0.5, j2=0.3, bc="periodic"), {"sz", "k", "parity", "flip"}),
    ("xxz pbc hz", lambda: dm.xxz(6, 0.5, hz=0.4, bc="periodic"), {"sz", "k", "parity"}),
    ("xxz pbc hx", lambda: dm.xxz(6, 0.5, hx=0.3, bc="periodic"), {"k", "parity", "flip"}),
    ("xxz pbc hx hz", lambda: dm.xxz(6, 0.5, hx=0.3, hz=0.2, bc="periodic"), {"k", "parity"}),
    ("xxz pbc staggered even L", lambda: dm.xxz(6, 0.5, staggered=0.5, bc="periodic"), {"sz"}),
    ("xxz pbc staggered odd L", lambda: dm.xxz(5, 0.5, staggered=0.5, bc="periodic"), {"sz", "parity"}),
    ("xxz obc uniform", lambda: dm.xxz(5, 0.5, j2=0.2), {"sz", "parity", "flip"}),
    ("xxz obc hz", lambda: dm.xxz(5, 0.5, hz=0.3), {"sz", "parity"}),
    ("xxz disorder", lambda: dm.xxz(6, 0.5, disorder=1.0, seed=2, bc="periodic"), {"sz"}),
    ("heisenberg pbc", lambda: dm.heisenberg(6, bc="periodic"), {"sz", "k", "parity", "flip"}),
    ("tfim pbc", lambda: dm.tfim(6, 0.7, bc="periodic"), {"k", "parity", "flip"}),
    ("tfim pbc h", lambda: dm.tfim(6, 0.7, h=0.3, bc="periodic"), {"k", "parity"}),
    ("tfim obc", lambda: dm.tfim(5, 0.7), {"parity", "flip"}),
    ("tfim obc g=0 h", lambda: dm.tfim(5, 0.0, h=0.2), {"sz", "parity"}),
]


@pytest.mark.parametrize("name,make,expected", FLAG_CASES, ids=[c[0] for c in FLAG_CASES])
def test_symmetry_flags_match_commutators(name, make, expected):
    chain = make()
    L = chain.L
    H = dense(chain.hamiltonian())
    ops = {"sz": Sz_tot(L), "k": T_op(L), "parity": R_op(L), "flip": F_op(L)}
    commutes = {key: bool(np.max(np.abs(H @ G - G @ H)) < 1e-12) for key, G in ops.items()}
    assert set(chain.symmetries) == expected, (name, sorted(chain.symmetries))
    for key in ops:
        assert commutes[key] == (key in chain.symmetries), (name, key, commutes[key])
    assert chain.conserves_sz == ("sz" in chain.symmetries)


# ----------------------------------------------------------------------------------------------
# MPO and local terms from the same term list
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bc", ["open", "periodic"])
@pytest.mark.parametrize("make", [
    lambda bc: dm.xxz(5, 0.6, j2=0.35, delta2=0.1, hz=0.2, hx=0.15, bc=bc),
    lambda bc: dm.tfim(5, 0.8, h=0.2, bc=bc),
])
def test_mpo_to_dense_equals_hamiltonian(make, bc):
    chain = make(bc)
    mpo = chain.mpo()
    assert mpo.L == 5
    assert_allclose(np.asarray(mpo.to_dense()), dense(chain.hamiltonian()), atol=ATOL)


@pytest.mark.parametrize("bc", ["open", "periodic"])
@pytest.mark.parametrize("make", [
    lambda bc: dm.xxz(5, 0.6, hz=0.2, hx=0.15, bc=bc),
    lambda bc: dm.xxz(6, 1.0, staggered=0.4, disorder=0.3, seed=1, bc=bc),
    lambda bc: dm.tfim(5, 0.8, h=0.2, bc=bc),
    lambda bc: dm.xxz(5, 0.6, j2=0.3, bc=bc),
])
def test_local_terms_sum_to_hamiltonian(make, bc):
    chain = make(bc)
    L = chain.L
    total = np.zeros((2**L, 2**L), dtype=complex)
    for sites, term in chain.local_terms().items():
        sites = (sites,) if np.isscalar(sites) else tuple(sites)
        term = np.asarray(term)
        assert term.shape == (2 ** len(sites),) * 2
        total += embed_local(term, sites, L)
    assert_allclose(total, dense(chain.hamiltonian()), atol=ATOL)


def test_local_terms_open_nearest_neighbour_adjacent():
    chain = dm.xxz(5, 0.6, hz=0.2)
    for sites in chain.local_terms():
        sites = (sites,) if np.isscalar(sites) else tuple(sites)
        assert len(sites) == 1 or (len(sites) == 2 and abs(sites[1] - sites[0]) == 1)


# ----------------------------------------------------------------------------------------------
# parse_operator
# ----------------------------------------------------------------------------------------------
def test_parse_operator_example():
    L = 4
    chain = dm.xxz(L, 0.5)
    got = chain.parse_operator("x0+0.5*z1 - x2*x3")
    ref = site(X, 0, L) + 0.5 * site(Z, 1, L) - site(X, 2, L) @ site(X, 3, L)
    assert sp.issparse(got)
    assert_allclose(got.toarray(), ref, atol=1e-15)


@pytest.mark.parametrize("text,build", [
    ("z3", lambda L: site(Z, 3, L)),
    ("-2*y1", lambda L: -2 * site(Y, 1, L)),
    ("1.5e-1*x0*z2 + y1*y2", lambda L: 0.15 * site(X, 0, L) @ site(Z, 2, L) + site(Y, 1, L) @ site(Y, 2, L)),
    (".5*z1-z0", lambda L: 0.5 * site(Z, 1, L) - site(Z, 0, L)),
    ("x0*x1+y0*y1+z0*z1", lambda L: sum(site(P, 0, L) @ site(P, 1, L) for P in (X, Y, Z))),
])
def test_parse_operator_more(text, build):
    chain = dm.tfim(4)
    assert_allclose(chain.parse_operator(text).toarray(), build(4), atol=1e-15)


@pytest.mark.parametrize("text", ["", "   ", "x4", "a0", "x0+", "x0--z1", "2*", "x", "q1+x0"])
def test_parse_operator_bad_strings(text):
    chain = dm.xxz(4, 0.5)
    with pytest.raises(ValueError):
        chain.parse_operator(text)


def test_parse_operator_site_out_of_range_message():
    with pytest.raises(ValueError, match=r"site 4.*0\.\.3"):
        dm.xxz(4, 0.5).parse_operator("x0 + z4")


def test_parse_operator_non_hermitian_product_rejected():
    with pytest.raises(ValueError):
        dm.xxz(3, 0.5).parse_operator("x0*y0")


# ----------------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("factory", [dm.xxz, dm.tfim, dm.xx, dm.heisenberg])
def test_bad_L(factory):
    for L in (1, 0, -3):
        with pytest.raises(ValueError, match="L"):
            factory(L)
    for L in (4.0, "4", None, True):
        with pytest.raises(TypeError, match="L"):
            factory(L)


@pytest.mark.parametrize("factory", [dm.xxz, dm.tfim])
def test_bad_bc_lists_valid_ones(factory):
    with pytest.raises(ValueError) as err:
        factory(4, bc="closed")
    msg = str(err.value)
    assert "bc" in msg and "open" in msg and "periodic" in msg and "closed" in msg


@pytest.mark.parametrize("name,value", [
    ("delta", 1j), ("j", "1"), ("j2", None), ("delta2", 0.5 + 0.1j), ("hz", np.nan), ("hx", np.inf),
    ("staggered", [0.1]), ("disorder", 1j), ("delta", True),
])
def test_xxz_non_real_parameter(name, value):
    with pytest.raises((TypeError, ValueError), match=name):
        dm.xxz(4, **{name: value}) if name != "delta" else dm.xxz(4, value)


@pytest.mark.parametrize("name,value", [("g", 1j), ("j", None), ("h", np.nan)])
def test_tfim_non_real_parameter(name, value):
    with pytest.raises((TypeError, ValueError), match=name):
        dm.tfim(4, **{name: value})


def test_disorder_needs_seed():
    with pytest.raises(ValueError, match="seed"):
        dm.xxz(4, 0.5, disorder=0.3)
    with pytest.raises(ValueError, match="disorder"):
        dm.xxz(4, 0.5, disorder=-0.3, seed=1)


def test_sector_errors():
    chain = dm.xxz(4, 0.5, hz=0.2, bc="periodic")
    with pytest.raises(ValueError) as err:
        chain.hamiltonian(sector=dict(momentum=0))
    msg = str(err.value)
    assert "momentum" in msg and all(k in msg for k in ("sz", "k", "parity", "flip"))
    # the chain has no flip symmetry (hz != 0)
    with pytest.raises(ValueError, match="flip"):
        chain.hamiltonian(sector=dict(sz=0, flip=1))
    # hx breaks S^z
    with pytest.raises(ValueError, match="sz"):
        dm.xxz(4, 0.5, hx=0.2).hamiltonian(sector=dict(sz=0))
    # open chain: no translation
    with pytest.raises(ValueError, match="k"):
        dm.xxz(4, 0.5).hamiltonian(sector=dict(k=0))
    with pytest.raises(TypeError, match="sector"):
        chain.hamiltonian(sector=[("sz", 0)])
    # value errors from the sector itself
    with pytest.raises(ValueError, match="sz"):
        chain.hamiltonian(sector=dict(sz=0.5))
    with pytest.raises(ValueError, match="k"):
        chain.hamiltonian(sector=dict(k=4))


def test_dense_hamiltonian_memory_guard(monkeypatch):
    from davies_mb import _checks

    # sparse build of L = 6: 64 rows x (10 flip terms + 1) x 56 bytes = 39.4 KB; dense adds 64^2 x 8 = 32 KB
    monkeypatch.setattr(_checks, "MEMORY_LIMIT_BYTES", 40 * 1024)
    chain = dm.xxz(6, 0.5)
    assert sp.issparse(chain.hamiltonian())  # sparse is fine
    with pytest.raises(MemoryError, match="GiB"):
        chain.hamiltonian(sparse=False)


def test_chain_is_immutable():
    chain = dm.xxz(4, 0.5)
    with pytest.raises(Exception):
        chain.L = 5
    assert "S = sigma/2" in chain.formula
    assert "Pauli" in dm.tfim(4).formula
