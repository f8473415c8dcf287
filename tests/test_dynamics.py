"""davies_mb.dynamics and DaviesGenerator.mode_expansion against independent constructions.

References: scipy.linalg.expm of H (isolated chains), the textbook Davies superoperator of
tests/brute_force.py exponentiated with expm (bath), eigenprojectors from numpy.linalg.eigh with their own
level grouping (diagonal ensemble), and closed forms for qubit distances.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
from numpy.testing import assert_allclose

import brute_force as bf
import davies_mb as dm
import reference_systems as rs


def _rand_state(rng, d):
    X = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = X @ X.conj().T
    return rho / np.trace(rho)


# -- isolated evolution ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["generic", "degenerate", "degenerate_ladder"])
def test_unitary_expect_and_evolve_match_expm(kind, rng):
    d = 6
    H = rs.hamiltonian_with_spectrum(rng, rs.energies_of_kind(rng, d, kind))
    spec = dm.diagonalize(H)
    rho0 = _rand_state(rng, d)
    O1 = rs.random_hermitian(rng, d)
    O2 = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    times = np.array([0.0, 0.3, 1.7, 12.0])
    vals = dm.unitary_expect(spec, [O1, O2], rho0, times)
    states = dm.unitary_evolve(spec, rho0, times)
    for k, t in enumerate(times):
        U = sla.expm(-1j * H * t)
        ref = U @ rho0 @ U.conj().T
        assert_allclose(states[k], ref, atol=1e-12)
        assert_allclose(vals[:, k], [np.trace(O1 @ ref), np.trace(O2 @ ref)], atol=1e-12)
    assert np.isrealobj(dm.unitary_expect(spec, [O1], rho0, times))  # Hermitian ops give real values


def test_unitary_expect_state_vector_in_sector_spectrum():
    """A Neel state evolved in the S^z = 0 sector spectrum equals the full-space expm result."""
    chain = dm.xxz(6, 0.55, j2=0.3)
    H = chain.hamiltonian(sparse=False)
    psi = dm.product_state(6, "neel")
    O = (chain.op("z", 2) @ chain.op("z", 3)).toarray()
    times = np.array([0.0, 0.5, 3.0])
    spec_sec = dm.diagonalize(chain, sector=dict(sz=0))
    vals = dm.unitary_expect(spec_sec, [O], psi, times)[0]
    for v, t in zip(vals, times):
        phi = sla.expm(-1j * H * t) @ psi
        assert_allclose(v, np.vdot(phi, O @ phi).real, atol=1e-12)
    # the domain wall has weight in the same sector, the all-up state does not
    with pytest.raises(ValueError, match="outside the sector"):
        dm.unitary_expect(spec_sec, [O], dm.product_state(6, "up"), times)


def test_diagonal_ensemble_matches_eigenprojectors(rng):
    """rho_DE = sum Pi rho0 Pi, with the projectors built independently (XXZ: degenerate levels)."""
    chain = dm.xxz(5, 0.5)
    H = chain.hamiltonian(sparse=False)
    rho0 = _rand_state(rng, 32)
    eps, P = bf.eigenprojectors(H, 1e-9)
    assert len(eps) < 32  # the test needs degenerate levels
    ref = sum(p @ rho0 @ p for p in P)
    de = dm.diagonal_ensemble(dm.diagonalize(chain), rho0)
    assert_allclose(de, ref, atol=1e-12)
    assert_allclose(de @ H, H @ de, atol=1e-12)


def test_diagonal_ensemble_is_the_long_time_average(rng):
    """The time average of <O>(t) over a long window approaches tr(O rho_DE) (non-degenerate gaps)."""
    d = 5
    H = rs.hamiltonian_with_spectrum(rng, np.array([-2.0, -0.7, 0.1, 1.3, 2.9]))
    spec = dm.diagonalize(H)
    psi = rng.normal(size=d) + 1j * rng.normal(size=d)
    psi /= np.linalg.norm(psi)
    O = rs.random_hermitian(rng, d)
    T = 4000.0
    times = np.linspace(0, T, 40001)
    avg = np.mean(dm.unitary_expect(spec, [O], psi, times)[0])
    de = np.trace(O @ dm.diagonal_ensemble(spec, np.outer(psi, psi.conj()))).real
    # finite-time error ~ sum |O_ab rho_ab| / (|E_a - E_b| T) < 1e-3 here
    assert abs(avg - de) < 2e-3


# -- distances --------------------------------------------------------------------------------------------
def test_trace_distance_of_qubits_is_half_the_bloch_distance(rng):
    for _ in range(5):
        r1, r2 = rng.normal(size=3), rng.normal(size=3)
        r1 *= rng.uniform(0, 1) / np.linalg.norm(r1)
        r2 *= rng.uniform(0, 1) / np.linalg.norm(r2)
        rho = lambda r: 0.5 * (rs.I2 + r[0] * rs.SX + r[1] * rs.SY + r[2] * rs.SZ)  # noqa: E731
        assert_allclose(dm.trace_distance(rho(r1), rho(r2)), 0.5 * np.linalg.norm(r1 - r2), atol=1e-14)


def test_relative_entropy_closed_forms(rng):
    U = rs.random_unitary(rng, 4)
    p = np.array([0.5, 0.3, 0.2, 0.0])
    q = np.array([0.1, 0.2, 0.3, 0.4])
    rho, sigma = (U * p) @ U.conj().T, (U * q) @ U.conj().T
    kl = sum(pi * np.log(pi / qi) for pi, qi in zip(p, q) if pi > 0)
    assert_allclose(dm.relative_entropy(rho, sigma), kl, atol=1e-12)
    assert abs(dm.relative_entropy(sigma, sigma)) < 1e-12
    assert dm.relative_entropy(sigma, rho) == np.inf  # sigma has weight where rho has none
    # relative entropy to a Gibbs state = beta (F(rho) - F_eq)
    H = rs.random_hermitian(rng, 4)
    beta = 0.8
    g = rs.gibbs_state(H, beta)
    w = np.linalg.eigvalsh(rho)
    S = -sum(x * np.log(x) for x in w if x > 1e-15)
    F = np.trace(H @ rho).real - S / beta
    Feq = -np.log(np.sum(np.exp(-beta * np.linalg.eigvalsh(H)))) / beta
    assert_allclose(dm.relative_entropy(rho, g), beta * (F - Feq), atol=1e-12)


def test_distance_trajectory_matches_evolve(rng):
    chain = dm.xxz(4, 0.5)
    spec = dm.diagonalize(chain)
    gen = dm.DaviesGenerator(spec, chain.parse_operator("x0+z1"), dm.OhmicBath(1.0), strength=0.3)
    rho0 = _rand_state(rng, 16)
    g = spec.gibbs(1.0)
    times = np.array([0.0, 0.5, 5.0, 50.0])
    got = dm.distance_trajectory(gen, rho0, g, times)
    ref = [rs.trace_distance(r, g) for r in gen.evolve(rho0, times)]
    assert_allclose(got, ref, atol=1e-12)


# -- mode expansion ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("lam", [0.05, 0.4, 1.3])
def test_mode_expansion_at_any_strength_matches_brute_force(lam, rng):
    """One expansion (built at the generator's strength) evaluated at other strengths == expm(t L_lam)."""
    H = rs.hamiltonian_with_spectrum(rng, rs.energies_of_kind(rng, 5, "degenerate_ladder"))
    A = rs.random_hermitian(rng, 5)
    bath = dm.OhmicBath(1.1, eta=0.8, cutoff=3.0)
    gen = dm.DaviesGenerator(dm.diagonalize(H), A, bath, strength=0.7)
    rho0 = _rand_state(rng, 5)
    O = rs.random_hermitian(rng, 5)
    me = gen.mode_expansion([O, H], rho0)
    Lb = bf.davies_superoperator(H, [A], [bath.gamma], lam=lam)
    times = np.array([0.0, 0.2, 3.0, 40.0])
    got = me.evaluate(times, lam)
    for k, t in enumerate(times):
        rho = rs.expm_evolve(Lb, rho0, t)
        assert_allclose(got[:, k], [np.trace(O @ rho).real, np.trace(H @ rho).real], atol=1e-10)


def test_mode_expansion_commuting_charges(rng):
    chain = dm.xxz(5, 0.5)
    spec = dm.diagonalize(chain)
    gen = dm.DaviesGenerator(spec, chain.parse_operator("x0+z1"), dm.OhmicBath(1.0), strength=1.0)
    rho0 = _rand_state(rng, 32)
    charges = [chain.hamiltonian(sparse=False), chain.total("z").toarray()]
    full = gen.mode_expansion(charges, rho0)
    small = gen.mode_expansion(charges, rho0, commuting=True)
    assert small.amplitudes.shape[1] < full.amplitudes.shape[1] / 4
    times = np.geomspace(0.01, 100, 7)
    assert_allclose(small.evaluate(times, 0.2), full.evaluate(times, 0.2), atol=1e-12)
    with pytest.raises(ValueError, match="does not commute with H"):
        gen.mode_expansion([chain.op("z", 2)], rho0, commuting=True)


# -- bad input --------------------------------------------------------------------------------------------
def test_bad_input_messages():
    spec = dm.diagonalize(dm.xxz(3, 0.5))
    with pytest.raises(ValueError, match="normalized"):
        dm.unitary_expect(spec, [np.eye(8)], np.ones(8), [0.0])
    with pytest.raises(ValueError, match="length 8"):
        dm.unitary_expect(spec, [np.eye(8)], np.ones(4) / 2, [0.0])
    with pytest.raises(ValueError, match="unit trace"):
        dm.diagonal_ensemble(spec, np.eye(8))
    with pytest.raises(ValueError, match="times"):
        dm.unitary_expect(spec, [np.eye(8)], np.eye(8) / 8, [-1.0])
    with pytest.raises(ValueError, match="t_min < t_max"):
        dm.log_times(1.0, 0.5)
    with pytest.raises(TypeError, match="Spectrum"):
        dm.time_grid(np.eye(2))
    with pytest.raises(ValueError, match="same shape"):
        dm.trace_distance(np.eye(2) / 2, np.eye(3) / 3)
    with pytest.raises(ValueError, match="neel"):
        dm.product_state(4, "sideways")


def test_diagonal_ensemble_in_the_eigenbasis_of_a_sector(rng):
    """basis="eigen" gives the (n, n) matrix: V X V^dag is the computational-basis result."""
    chain = dm.xxz(6, 0.5)
    spec = dm.diagonalize(chain, sector=dict(sz=0))
    psi = dm.product_state(6, "neel")
    X = dm.diagonal_ensemble(spec, psi, basis="eigen")
    assert X.shape == (spec.n, spec.n)
    V = spec.vectors
    assert_allclose(V @ X @ V.conj().T, dm.diagonal_ensemble(spec, psi), atol=1e-13)
    with pytest.raises(ValueError, match="basis"):
        dm.diagonal_ensemble(spec, psi, basis="fourier")
