"""Free-fermion solutions (XX, TFIM) and XXZ charges against exact diagonalization and analytic formulas."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

import davies_mb as dm
from davies_mb import integrable as ig

SX = np.array([[0, 1], [1, 0]], dtype=float)
SZ = np.array([[1, 0], [0, -1]], dtype=float)


def _kron_all(mats):
    out = np.ones((1, 1))
    for m in mats:
        out = np.kron(out, m)
    return out


def _xx_parity_diag(L):
    """(-1)^(number of up spins), up = bit 0, by counting bits (independent of the module)."""
    idx = np.arange(2**L)
    n_down = np.array([bin(i).count("1") for i in idx])
    return (-1.0) ** (L - n_down)


def _sector_eigs(H, P, p):
    w, V = np.linalg.eigh(P)
    B = V[:, np.isclose(w, p)]
    return np.linalg.eigvalsh(B.T @ H @ B)


# -- many-body spectra -------------------------------------------------------------------------------
@pytest.mark.parametrize("bc", ["open", "periodic"])
@pytest.mark.parametrize("L", [3, 4, 5, 6, 7])
@pytest.mark.parametrize("j,hz", [(1.0, 0.0), (1.0, 0.37), (-0.7, 0.2)])
def test_xx_spectrum_equals_ed_both_parities(L, bc, j, hz):
    H = dm.xx(L, j=j, hz=hz, bc=bc).hamiltonian(sparse=False)
    assert_allclose(ig.xx_spectrum(L, bc, j=j, hz=hz), np.linalg.eigvalsh(H), atol=1e-10, rtol=0)
    P = _xx_parity_diag(L)
    for p in (1, -1):
        Hp = H[np.ix_(P == p, P == p)]
        assert_allclose(ig.xx_spectrum(L, bc, j=j, hz=hz, parity=p), np.linalg.eigvalsh(Hp), atol=1e-10, rtol=0)


@pytest.mark.parametrize("bc", ["open", "periodic"])
@pytest.mark.parametrize("L", [3, 4, 5, 6, 7])
@pytest.mark.parametrize("j,g", [(1.0, 0.5), (1.0, 2.0), (0.8, 1.0), (1.0, 0.0), (-1.0, 0.6)])
def test_tfim_spectrum_equals_ed_both_parities(L, bc, j, g):
    H = dm.tfim(L, g, j=j, bc=bc).hamiltonian(sparse=False)
    assert_allclose(ig.tfim_spectrum(L, bc, j=j, g=g), np.linalg.eigvalsh(H), atol=1e-10, rtol=0)
    P = _kron_all([SX] * L)
    for p in (1, -1):
        assert_allclose(ig.tfim_spectrum(L, bc, j=j, g=g, parity=p), _sector_eigs(H, P, p), atol=1e-10, rtol=0)


def test_parity_matters_on_the_ring():
    """Using the wrong boundary condition for a sector gives a wrong spectrum (the test can fail)."""
    L = 6
    H = dm.xx(L, bc="periodic").hamiltonian(sparse=False)
    P = _xx_parity_diag(L)
    even = np.linalg.eigvalsh(H[np.ix_(P == 1, P == 1)])
    wrong = ig.xx_spectrum(L, "periodic", parity=-1)
    assert np.max(np.abs(np.sort(even) - np.sort(wrong))) > 0.1


# -- single-particle modes ------------------------------------------------------------------------------
@pytest.mark.parametrize("bc,parity", [("open", None), ("periodic", 1), ("periodic", -1)])
def test_xx_modes_diagonalize_hopping_matrix(bc, parity):
    L, j, hz = 7, 0.9, 0.25
    h = hz * np.eye(L, dtype=complex)
    for s in range(L - 1):
        h[s, s + 1] = h[s + 1, s] = j / 2
    if bc == "periodic":  # boundary bond -P (J/2)(c+_{L-1} c_0 + h.c.)
        h[L - 1, 0] = h[0, L - 1] = -parity * j / 2
    m = ig.xx_modes(L, bc, j=j, hz=hz, parity=parity)
    assert_allclose(m.energies, np.linalg.eigvalsh(h), atol=1e-12)
    assert_allclose(h @ m.vectors, m.vectors * m.energies, atol=1e-12)
    assert_allclose(m.vectors.conj().T @ m.vectors, np.eye(L), atol=1e-12)
    assert_allclose(m.energies, np.sort(hz + j * np.cos(m.momenta)), atol=1e-12)


def test_xx_modes_required_signature():
    m = dm.integrable.xx_modes(6, "open")
    assert_allclose(np.sort(m.energies), np.sort(np.cos(np.pi * np.arange(1, 7) / 7)), atol=1e-14)
    ring = dm.integrable.xx_modes(6, "periodic")  # default: even sector, antiperiodic fermions
    assert_allclose(np.sort(ring.momenta), np.sort(2 * np.pi * (np.arange(6) + 0.5) / 6 - 2 * np.pi * (np.arange(6) >= 3)))


@pytest.mark.parametrize("parity", [1, -1])
@pytest.mark.parametrize("g", [0.4, 1.0, 2.5])
def test_tfim_ring_dispersion(parity, g):
    L = 8
    m = ig.tfim_modes(L, "periodic", g=g, parity=parity)
    k = 2 * np.pi * (np.arange(L) + (0.5 if parity == 1 else 0.0)) / L
    assert_allclose(m.energies, np.sort(2 * np.sqrt(1 + g**2 - 2 * g * np.cos(k))), atol=1e-12)
    R = m.vectors
    assert_allclose(R @ R.T, np.eye(2 * L), atol=1e-12)


# -- operators --------------------------------------------------------------------------------------
def test_jordan_wigner_algebra():
    L = 5
    c = ig.jw_fermions(L)
    chain = dm.xx(L)
    one = np.eye(2**L)
    for a in range(L):
        assert_allclose((c[a].conj().T @ c[a]).toarray(), chain.op("z", a).toarray() + one / 2, atol=1e-14)
        for b in range(L):
            acomm = (c[a] @ c[b].conj().T + c[b].conj().T @ c[a]).toarray()
            assert_allclose(acomm, one * (a == b), atol=1e-14)
            assert_allclose((c[a] @ c[b] + c[b] @ c[a]).toarray(), 0, atol=1e-14)
    gam = ig.tfim_majoranas(L)
    for m in range(2 * L):
        for n in range(2 * L):
            assert_allclose((gam[m] @ gam[n] + gam[n] @ gam[m]).toarray(), 2 * one * (m == n), atol=1e-14)
    for s in range(L):  # sigma^x_j = i gamma_2j gamma_2j+1
        assert_allclose((1j * gam[2 * s] @ gam[2 * s + 1]).toarray(), chain.pauli("x", s).toarray(), atol=1e-14)


@pytest.mark.parametrize("model,bc,params", [
    ("xx", "open", dict(j=1.0, hz=0.3)), ("xx", "periodic", dict(j=1.0, hz=0.3)),
    ("tfim", "open", dict(j=1.0, g=0.7)), ("tfim", "periodic", dict(j=1.0, g=1.3)),
])
def test_mode_occupation_operators(model, bc, params):
    L = 6
    chain = dm.xx(L, bc=bc, **params) if model == "xx" else dm.tfim(L, params["g"], j=params["j"], bc=bc)
    H = chain.hamiltonian(sparse=False)
    ops, modes = ig.mode_occupation_operators(model, L, bc, **params)
    dense = [o.toarray() for o in ops]
    for a, Na in enumerate(dense):
        assert_allclose(Na, Na.conj().T, atol=1e-13)
        assert_allclose(Na @ Na, Na, atol=1e-12)  # projectors
        assert np.max(np.abs(Na @ H - H @ Na)) < 1e-12
        for Nb in dense[a + 1:]:
            assert np.max(np.abs(Na @ Nb - Nb @ Na)) < 1e-12
    d = 2**L
    if bc == "open":
        assert_allclose(modes.constant * np.eye(d) + sum(e * N for e, N in zip(modes.energies, dense)), H, atol=1e-12)
    else:
        P = _kron_all([-SZ] * L) if model == "xx" else _kron_all([SX] * L)
        for p, m in zip((1, -1), modes):
            Pi = (np.eye(d) + p * P) / 2
            Hs = m.constant * Pi + sum(e * Pi @ N @ Pi for e, N in zip(m.energies, dense))
            assert_allclose(Hs, Pi @ H @ Pi, atol=1e-12)


def test_correlation_matrices_of_ground_states():
    L = 7
    # XX open chain ground state: a Slater determinant of the negative modes
    chain = dm.xx(L, hz=0.15)
    E, V = np.linalg.eigh(chain.hamiltonian(sparse=False))
    m = ig.xx_modes(L, "open", hz=0.15)
    C = ig.correlation_matrix("xx", V[:, 0], L)
    assert_allclose(ig.gaussian_correlations(m, ig.ground_state_occupations(m)), C, atol=1e-12)
    assert_allclose(np.diag(C).real, [np.vdot(V[:, 0], chain.op("z", s) @ V[:, 0]).real + 0.5 for s in range(L)],
                    atol=1e-12)
    # TFIM ring ground state (even sector): Majorana covariance, sigma^x_j = Gamma_{2j,2j+1}
    ch = dm.tfim(L + 1, 0.6, bc="periodic")
    E, V = np.linalg.eigh(ch.hamiltonian(sparse=False))
    m = ig.tfim_modes(L + 1, "periodic", g=0.6)
    G = ig.correlation_matrix("tfim", V[:, 0], L + 1)
    assert_allclose(ig.gaussian_correlations(m, ig.ground_state_occupations(m)), G, atol=1e-12)
    assert_allclose(G[0, 1], np.vdot(V[:, 0], ch.pauli("x", 0) @ V[:, 0]).real, atol=1e-12)
    # density-matrix input gives the same
    rho = np.outer(V[:, 0], V[:, 0])
    assert_allclose(ig.correlation_matrix("tfim", rho, L + 1), G, atol=1e-12)


# -- XXZ charges --------------------------------------------------------------------------------------
def _brute_q3(chain, L):
    def h(s):
        t = (s + 1) % L
        return sum(chain.op(a, s) @ chain.op(a, t) * (chain.params["delta"] if a == "z" else 1.0)
                   for a in "xyz")
    hs = [sp.csr_array(h(s)).toarray() for s in range(L)]
    return 1j * sum(hs[s] @ hs[(s + 1) % L] - hs[(s + 1) % L] @ hs[s] for s in range(L))


@pytest.mark.parametrize("delta", [0.0, 0.5, 1.0, -0.7, 2.0])
@pytest.mark.parametrize("L", [5, 6, 8])
def test_q3_conserved_and_independent(delta, L):
    chain = dm.xxz(L, delta, hz=0.3, bc="periodic")
    H = chain.hamiltonian(sparse=False)
    Q3 = ig.xxz_charge(L, 3, delta)
    Q3d = Q3.toarray()
    assert_allclose(Q3d, _brute_q3(dm.xxz(L, delta, bc="periodic"), L), atol=1e-14)
    assert_allclose(Q3d, Q3d.conj().T, atol=1e-15)
    scale = np.abs(Q3d).max() * np.abs(H).max()
    assert np.max(np.abs(Q3d @ H - H @ Q3d)) < 1e-14 * L * scale * 10
    Sz = chain.total("z").toarray()
    assert np.max(np.abs(Q3d @ Sz - Sz @ Q3d)) < 1e-14
    assert_allclose(ig.xxz_charge(L, 2, delta, hz=0.3).toarray(), H, atol=1e-14)
    # not a function of H and S^z: Q3 splits some joint (E, S^z) eigenspace
    spec = dm.diagonalize(chain)  # S^z blocks
    Qe = spec.to_eigenbasis(Q3)
    sz_of = np.real(np.diag(spec.to_eigenbasis(sp.csr_array(Sz))))
    spread = 0.0
    for lev in spec.levels:
        for s in np.unique(np.round(sz_of[lev], 6)):
            sub = lev[np.isclose(sz_of[lev], s)]
            if sub.size > 1:
                w = np.linalg.eigvalsh(Qe[np.ix_(sub, sub)])
                spread = max(spread, w[-1] - w[0])
    assert spread > 0.1


@pytest.mark.parametrize("delta", [0.5, -0.3, 1.0, 2.0])
def test_q4_conserved_commuting_and_new(delta):
    """Q4 (numerical null-space search on an 8-site ring) checked on other ring sizes, with a field."""
    for L in (7, 10):
        chain = dm.xxz(L, delta, hz=0.3, bc="periodic")
        H = chain.hamiltonian()
        Q3, Q4 = ig.xxz_charge(L, 3, delta), ig.xxz_charge(L, 4, delta)
        for A in (H, Q3, chain.total("z")):
            assert abs(Q4 @ A - A @ Q4).max() < 1e-12
        assert abs(Q4 - Q4.conj().T).max() == 0
        # a new charge: Hilbert-Schmidt orthogonal to 1, S^z, H (no field) and Q3, and not zero
        H0 = dm.xxz(L, delta, bc="periodic").hamiltonian()
        nQ = np.sqrt((abs(Q4).power(2)).sum())
        for A in (sp.identity(2**L, format="csr"), chain.total("z"), H0, Q3):
            overlap = abs((A.conj().multiply(Q4)).sum()) / (np.sqrt((abs(A).power(2)).sum()) * nQ)
            assert overlap < 1e-8
        assert nQ > 1


def test_q4_refused_at_the_free_fermion_point():
    with pytest.raises(ValueError, match="delta = 0"):
        ig.xxz_charge(8, 4, 0.0)


def test_q3_not_conserved_beyond_integrability():
    """With next-nearest exchange (chaotic) the same Q3 stops commuting: the commutation test can fail."""
    L = 8
    H = dm.xxz(L, 0.5, j2=0.4, bc="periodic").hamiltonian(sparse=False)
    Q3 = ig.xxz_charge(L, 3, 0.5).toarray()
    assert np.max(np.abs(Q3 @ H - H @ Q3)) > 0.01


def test_bad_input():
    with pytest.raises(ValueError, match="parity"):
        ig.xx_modes(4, "periodic", parity=2)
    with pytest.raises(ValueError, match="parity"):
        ig.tfim_modes(4, "open", parity=1)
    with pytest.raises(ValueError, match="bc"):
        ig.xx_modes(4, "ring")
    with pytest.raises(TypeError, match="L must be an integer"):
        ig.xx_modes(4.0)
    with pytest.raises(ValueError, match="L must be >= 2"):
        ig.tfim_modes(1)
    with pytest.raises(ValueError, match="periodic"):
        ig.xxz_charge(6, 3, 0.5, bc="open")
    with pytest.raises(ValueError, match="n must be"):
        ig.xxz_charge(6, 5, 0.5)
    with pytest.raises(ValueError, match="too short"):
        ig.xxz_charge(4, 4, 0.5)
    with pytest.raises(ValueError, match="dimension 8"):
        ig.correlation_matrix("xx", np.ones(7), 3)
    m = ig.xx_modes(4)
    with pytest.raises(ValueError, match="occupations must lie"):
        ig.gaussian_correlations(m, [0, 0.5, 1.2, 0])


@pytest.mark.parametrize("per_site", [False, True])
def test_tilted_state_correlations_formula(per_site, rng):
    L = 7
    th = rng.uniform(0, np.pi, L) if per_site else np.full(L, 1.1)
    psi = np.ones(1)
    for s in range(L):
        psi = np.kron(psi, [np.cos(th[s] / 2), np.sin(th[s] / 2)])
    arg = th if per_site else 1.1
    assert_allclose(ig.tilted_state_correlations(L, arg), ig.correlation_matrix("xx", psi, L), atol=1e-14)


@pytest.mark.parametrize("model", ["xx", "tfim"])
def test_evolve_correlations_matches_exact_evolution(model):
    L, t = 6, np.array([0.0, 0.7, 3.1])
    if model == "xx":
        chain, modes = dm.xx(L, hz=0.3), ig.xx_modes(L, "open", hz=0.3)
        psi = np.ones(1)
        for _ in range(L):
            psi = np.kron(psi, [np.cos(0.5), np.sin(0.5)])
    else:  # quench from the g=0.4 ring ground state (even sector) to g=1.7
        chain, modes = dm.tfim(L, 1.7, bc="periodic"), ig.tfim_modes(L, "periodic", g=1.7)
        psi = np.linalg.eigh(dm.tfim(L, 0.4, bc="periodic").hamiltonian(sparse=False))[1][:, 0]
    E, V = np.linalg.eigh(chain.hamiltonian(sparse=False))
    C0 = ig.correlation_matrix(model, psi, L)
    Ct = ig.evolve_correlations(modes, C0, t)
    for i, ti in enumerate(t):
        psit = V @ (np.exp(-1j * E * ti) * (V.conj().T @ psi))
        assert_allclose(Ct[i], ig.correlation_matrix(model, psit, L), atol=1e-12)
