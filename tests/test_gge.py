"""Generalized Gibbs ensembles: the maximum-entropy fit, free-fermion closed forms, quench references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.optimize as so
from numpy.testing import assert_allclose

import davies_mb as dm
from davies_mb import integrable as ig
from davies_mb.gge import GGEConvergenceError, dephased_correlations


def _tilted(L, theta, phi=0.0, twist=0.0):
    """prod_j (cos(theta/2)|up> + e^{i(phi + twist j)} sin(theta/2)|down>), site 0 most significant."""
    psi = np.ones(1, dtype=complex)
    for s in range(L):
        psi = np.kron(psi, [np.cos(theta / 2), np.exp(1j * (phi + twist * s)) * np.sin(theta / 2)])
    return psi


def _basis_state(bits):
    psi = np.zeros(2 ** len(bits))
    psi[int(bits, 2)] = 1.0
    return psi


def _de_numpy(H, psi, tol=1e-9):
    """Diagonal ensemble straight from numpy.linalg.eigh (independent of davies_mb.dynamics)."""
    E, V = np.linalg.eigh(H)
    idx = np.concatenate([[0], np.cumsum(np.diff(E) > tol)])
    rho = np.zeros((psi.size, psi.size), dtype=complex)
    for lev in np.unique(idx):
        B = V[:, idx == lev]
        v = B @ (B.conj().T @ psi)
        rho += np.outer(v, v.conj())
    return rho


# -- the maximum-entropy fit ---------------------------------------------------------------------------
def test_gge_of_h_alone_is_the_gibbs_state():
    L = 6
    chain = dm.xxz(L, 0.5, j2=0.3)
    H = chain.hamiltonian(sparse=False)
    psi = _tilted(L, 1.1)
    e0 = np.vdot(psi, H @ psi).real
    E = np.linalg.eigvalsh(H)

    def energy(b):
        w = np.exp(-b * (E - E[0]))
        return (E @ w) / w.sum() - e0

    beta = so.brentq(energy, -50, 50, xtol=1e-14)
    res = dm.gge([H], psi, hamiltonian=H)
    assert res.converged
    assert_allclose(res.multipliers[0], beta, rtol=1e-8)
    G = sla.expm(-beta * H)
    assert_allclose(res.rho, G / np.trace(G), atol=1e-10)
    assert abs(res.residuals[0]) < 1e-9
    assert_allclose(res.expect(H), e0, atol=1e-9)


def test_gge_two_charges_has_the_exponential_form():
    L = 6
    chain = dm.xxz(L, 0.7, hz=0.2, bc="periodic")
    H = chain.hamiltonian(sparse=False)
    Sz = chain.total("z")
    psi = _tilted(L, 1.2, twist=2 * np.pi / L)
    res = dm.gge([H, Sz], psi, hamiltonian=H)
    mu = res.multipliers
    G = sla.expm(-(mu[0] * H + mu[1] * Sz.toarray()))
    assert_allclose(res.rho, G / np.trace(G), atol=1e-10)
    for Q in (H, Sz):  # constraints, evaluated independently
        assert_allclose(np.trace(res.rho @ Q).real, np.vdot(psi, Q @ psi).real, atol=1e-9)
    ev = np.linalg.eigvalsh(res.rho)
    ev = ev[ev > 1e-300]
    assert_allclose(res.entropy, -(ev * np.log(ev)).sum(), atol=1e-10)


def test_truncated_xxz_gge_with_q3_is_closer_to_the_diagonal_ensemble():
    """Adding S^z, Q3, Q4 to H brings the max-entropy state closer to the diagonal ensemble.

    For a charge set fixed by the state, S(rho_DE || rho_GGE) = S(rho_GGE) - S(rho_DE) (max entropy), so
    the distance decreases strictly whenever the added charge is informative (its multiplier != 0).
    """
    L, delta = 8, 0.5
    chain = dm.xxz(L, delta, bc="periodic")
    H = chain.hamiltonian(sparse=False)
    Sz, Q3 = chain.total("z"), dm.integrable.xxz_charge(L, 3, delta)
    Q4 = dm.integrable.xxz_charge(L, 4, delta)
    psi = _tilted(L, np.pi / 3, twist=2 * 2 * np.pi / L)  # spin spiral: carries energy current
    assert abs(np.vdot(psi, Q3 @ psi)) > 0.1
    rde = dm.diagonal_ensemble(dm.diagonalize(chain), psi)
    assert_allclose(rde, _de_numpy(H, psi), atol=1e-10)
    dist, ent = [], []
    for charges in ([H], [H, Sz], [H, Sz, Q3], [H, Sz, Q3, Q4]):
        res = dm.gge(charges, psi, hamiltonian=H)
        dist.append(dm.relative_entropy(rde, res.rho))
        ent.append(res.entropy)
        assert_allclose(dist[-1], res.entropy - _vn(rde), atol=1e-8)
    assert dist[0] > dist[1] > dist[2] > dist[3] > 0
    assert dist[1] - dist[2] > 0.1  # Q3 is informative for this state (measured: 2.746 -> 2.505)
    assert dist[2] - dist[3] > 0.01  # and so is Q4 (2.505 -> 2.446)


def _vn(rho):
    ev = np.linalg.eigvalsh(rho)
    ev = ev[ev > 1e-14]
    return float(-(ev * np.log(ev)).sum())


# -- XX quench: mode occupations --------------------------------------------------------------------------
@pytest.mark.parametrize("hz", [0.0, 0.3])
def test_xx_gge_predicts_diagonal_ensemble_of_quadratic_observables(hz):
    """Open chain (non-degenerate single-particle spectrum): GGE of the n_k = DE for c+_i c_j, to 1e-10."""
    L = 8
    chain = dm.xx(L, hz=hz)
    psi = _tilted(L, np.pi / 3)
    rde = _de_numpy(chain.hamiltonian(sparse=False), psi)
    C_de = ig.correlation_matrix("xx", rde, L)
    modes = ig.xx_modes(L, "open", hz=hz)
    n = ig.mode_occupations(modes, ig.correlation_matrix("xx", psi, L))
    assert_allclose(ig.gaussian_correlations(modes, n), C_de, atol=1e-10)
    # the Gibbs state of the same energy and S^z predicts something else (integrability)
    H, Sz = chain.hamiltonian(sparse=False), chain.total("z")
    gib = dm.gge([H, Sz], psi, hamiltonian=H)
    C_gibbs = ig.correlation_matrix("xx", gib.rho, L)
    assert np.max(np.abs(C_gibbs - C_de)) > 0.02


def test_free_fermion_gge_closed_form_equals_the_fit():
    L = 6
    chain = dm.xx(L, hz=0.25)
    psi = _tilted(L, 1.0)
    ops, modes = ig.mode_occupation_operators("xx", L, "open", hz=0.25)
    n = np.array([np.vdot(psi, N @ psi).real for N in ops])
    closed = dm.free_fermion_gge(ops, n)
    fitted = dm.gge(ops, psi, hamiltonian=chain.hamiltonian())
    assert_allclose(closed.rho, fitted.rho, atol=1e-9)
    assert_allclose(closed.multipliers, np.log((1 - n) / n), atol=1e-12)
    assert_allclose(fitted.multipliers, closed.multipliers, atol=1e-6)
    # its correlation matrix is the Gaussian one of the mode occupations
    assert_allclose(ig.correlation_matrix("xx", closed.rho, L), ig.gaussian_correlations(modes, n), atol=1e-12)


def test_ring_degeneracy_explains_the_gge_deviation():
    """Periodic XX: eps(k) = eps(-k). A domain wall (not translation invariant) has <a+_k a_-k> != 0, which
    survives the time average: the GGE of the n_k misses it, the dephased correlations keep it."""
    L = 8
    chain = dm.xx(L, hz=0.3, bc="periodic")
    H = chain.hamiltonian(sparse=False)
    modes = ig.xx_modes(L, "periodic", hz=0.3, parity=1)  # 4 up spins: even sector
    for bits, expect_dev in (("00001111", True), ("01010101", False)):
        psi = _basis_state(bits)
        C0 = ig.correlation_matrix("xx", psi, L)
        C_de = ig.correlation_matrix("xx", _de_numpy(H, psi), L)
        dev = np.max(np.abs(ig.gaussian_correlations(modes, ig.mode_occupations(modes, C0)) - C_de))
        assert (dev > 0.05) == expect_dev, (bits, dev)
        assert_allclose(dephased_correlations(modes, C0), C_de, atol=1e-10)


# -- TFIM quench ------------------------------------------------------------------------------------------
def _tfim_quench(L, g0, g1):
    m0 = ig.tfim_modes(L, "periodic", g=g0)
    m1 = ig.tfim_modes(L, "periodic", g=g1)
    G0 = ig.gaussian_correlations(m0, ig.ground_state_occupations(m0))
    n = ig.mode_occupations(m1, G0)
    energy = m1.constant + m1.energies @ n
    return m1, n, energy


def test_tfim_quench_reference_values_calabrese_essler_fagotti():
    """g = 0.5 -> 2.0: m_x = 0.467108 (GGE) and 0.593421 (Gibbs, same energy), PRL 106, 227203 (2011)."""
    L = 200
    m1, n, energy = _tfim_quench(L, 0.5, 2.0)
    G = ig.gaussian_correlations(m1, n)
    mx_gge = np.mean(np.diag(G, 1)[::2])
    gib = dm.free_fermion_gibbs(m1, energy)
    Gt = ig.gaussian_correlations(m1, gib["occupations"])
    mx_gibbs = np.mean(np.diag(Gt, 1)[::2])
    assert abs(mx_gge - 0.467108) < 1e-4
    assert abs(mx_gibbs - 0.593421) < 1e-4
    assert gib["residual"] < 1e-10


def test_tfim_quench_diagonal_ensemble_equals_gge_at_finite_size():
    """ED ring, L = 10: the DE of sigma^x (translation invariant state, no +-k coherence) is the GGE."""
    L, g0, g1 = 10, 0.5, 2.0
    H0 = dm.tfim(L, g0, bc="periodic").hamiltonian(sparse=False)
    ch1 = dm.tfim(L, g1, bc="periodic")
    psi = np.linalg.eigh(H0)[1][:, 0]
    spec = dm.diagonalize(ch1)
    rde = dm.diagonal_ensemble(spec, psi)
    mx_de = np.trace(rde @ ch1.pauli("x", 0).toarray()).real
    m1, n, energy = _tfim_quench(L, g0, g1)
    G = ig.gaussian_correlations(m1, n)
    assert_allclose(mx_de, G[0, 1], atol=1e-10)
    assert_allclose(energy, np.vdot(psi, ch1.hamiltonian() @ psi).real, atol=1e-10)
    assert abs(mx_de - 0.467108) < 0.02  # finite size, approaching the reference


# -- bad input ---------------------------------------------------------------------------------------------
def test_bad_input_messages():
    L = 4
    chain = dm.xxz(L, 0.5)
    H = chain.hamiltonian()
    psi = _tilted(L, 0.7)
    with pytest.raises(ValueError, match=r"charges\[1\] is not conserved: \|\|\[Q_1, H\]\|\|_F = "):
        dm.gge([H, chain.op("x", 0)], psi, hamiltonian=H)
    with pytest.raises(ValueError, match="do not commute"):
        dm.gge([chain.op("x", 0), chain.op("z", 0)], psi)
    with pytest.raises(ValueError, match="not normalized"):
        dm.gge([H], 2 * psi)
    with pytest.raises(ValueError, match="length 8 but the system has dimension 16"):
        dm.gge([H], psi[:8])
    with pytest.raises(ValueError, match="trace"):
        dm.gge([H], 0.5 * np.outer(psi, psi.conj()))
    with pytest.raises(TypeError, match="list"):
        dm.gge(H, psi)
    with pytest.raises(ValueError, match="empty"):
        dm.gge([], psi)
    with pytest.raises(ValueError, match="not Hermitian"):
        dm.gge([chain.pauli("+", 0)], psi)


def test_unattainable_target_raises_with_partial_solution():
    L = 4
    H = dm.xxz(L, 0.5).hamiltonian(sparse=False)
    E, V = np.linalg.eigh(H)
    with pytest.raises(GGEConvergenceError, match="edge of its attainable range") as err:
        dm.gge([H], V[:, 0])  # the ground state: beta = +infinity
    part = err.value.result
    assert not part.converged
    assert part.rho.shape == (16, 16) and part.multipliers[0] > 5
    assert_allclose(np.trace(part.rho), 1, atol=1e-12)


def test_free_fermion_gibbs_matches_ed_gibbs():
    """(beta, mu) from the modes reproduce energy and number of exp(-beta (H - mu N))/Z built by ED."""
    L = 6
    chain = dm.xx(L, hz=0.2)
    H = chain.hamiltonian(sparse=False)
    N = chain.total("z").toarray() + L / 2 * np.eye(2**L)
    modes = ig.xx_modes(L, "open", hz=0.2)
    for theta in (np.pi / 3, 2.0):  # negative and positive temperature
        C0 = ig.tilted_state_correlations(L, theta)
        e0 = modes.constant + modes.energies @ ig.mode_occupations(modes, C0)
        n0 = np.trace(C0).real
        r = dm.free_fermion_gibbs(modes, e0, n0)
        G = sla.expm(-r["beta"] * (H - r["mu"] * N))
        G /= np.trace(G)
        assert_allclose([np.trace(G @ H), np.trace(G @ N)], [e0, n0], atol=1e-9)
        assert_allclose(ig.correlation_matrix("xx", G, L), ig.gaussian_correlations(modes, r["occupations"]),
                        atol=1e-10)


def test_cli_gge(capsys):
    import json

    from davies_mb.cli import main

    assert main(["gge", "--model", "tfim", "--g0", "0.5", "--g1", "2.0", "--L", "200", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert abs(out["gge"]["m_x"] - 0.467108) < 1e-4 and abs(out["gibbs"]["m_x"] - 0.593421) < 1e-4
    assert main(["gge", "--model", "xx", "--L", "60", "--ed-L", "6", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["beta"] < 0 and "diagonal_ensemble_ed" in out  # the tilted state is a negative-temperature one


def test_review_bad_input():
    """NaN states and occupations, dependent charges, dense projectors (review findings)."""
    import davies_mb.integrable as ig
    from davies_mb.gge import free_fermion_gge

    chain = dm.xxz(6, 0.5)
    psi = dm.product_state(6, "neel")
    with pytest.raises(ValueError, match="initial_state contains NaN"):
        dm.gge([chain.hamiltonian()], psi * np.nan)
    with pytest.raises(ValueError, match="linearly dependent"):
        dm.gge([chain.hamiltonian(), 2 * chain.hamiltonian()], psi)
    ops, modes = ig.mode_occupation_operators("xx", 4, "open")
    n = np.array([0.2, 0.4, 0.6, 0.9])
    dense = free_fermion_gge([o.toarray() for o in ops], n)
    sparse = free_fermion_gge(ops, n)
    np.testing.assert_allclose(dense.rho, sparse.rho, atol=1e-14)
    with pytest.raises(ValueError, match="NaN"):
        free_fermion_gge(ops, np.array([np.nan, 0.1, 0.1, 0.1]))
    with pytest.raises(ValueError, match="NaN"):
        ig.gaussian_correlations(modes, np.array([np.nan, 0.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="mu"):
        ig.thermal_occupations(modes, 1.0, mu=np.nan)
    with pytest.warns(UserWarning, match="parity sector"):
        ig.thermal_occupations(ig.xx_modes(4, "periodic"), 1.0)
    with pytest.raises(ValueError, match="j = 0"):
        ig.xxz_charge(6, 3, 0.5, j=0.0)
