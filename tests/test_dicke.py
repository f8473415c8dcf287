"""Dicke cooperative thermalization: multiplicities, superradiance vs a brute-force collective Lindbladian
and QuTiP's piqs, full-space Davies cross-checks (restricted equilibrium), cooperative speed-up."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg as sla
from numpy.testing import assert_allclose

import davies_mb as dm
from davies_mb.applications import dicke as dk


def test_multiplicities_fill_the_hilbert_space():
    for N in range(1, 13):
        assert sum(dk.multiplicity(N, J) * (2 * J + 1) for J in dk.spin_values(N)) == 2**N
    assert [dk.stationary_dimension(N) for N in (2, 3, 4)] == [2, 5, 14]  # PHYSICS.md section 4
    assert dk.multiplicity(4, 1.0) == 3 and dk.multiplicity(4, 0.0) == 2


def test_single_atom_is_the_two_level_benchmark():
    t = np.linspace(0.0, 5.0, 51)
    r = dk.superradiance(1, np.inf, times=t)
    assert_allclose(r.intensity, np.exp(-t), rtol=1e-10)
    assert r.peak_time == 0.0 and r.peak_intensity == pytest.approx(1.0)
    # finite temperature: p_e relaxes at (1 + 2 n) to n / (1 + 2 n); I = (1 + n) p_e - n p_g
    beta, w0 = 1.5, 1.0
    n = 1 / np.expm1(beta * w0)
    pe = n / (1 + 2 * n) + (1 - n / (1 + 2 * n)) * np.exp(-(1 + 2 * n) * t)
    r = dk.superradiance(1, beta, w0=w0, times=t)
    assert_allclose(r.intensity, (1 + n) * pe - n * (1 - pe), rtol=1e-9, atol=1e-12)


def _collective_lindblad_intensity(N, times):
    """Full 2^N space, jump operator J_- at rate 1, from the fully excited state (written independently)."""
    sm = np.array([[0.0, 0.0], [1.0, 0.0]])
    Jm = sum(np.kron(np.kron(np.eye(2**j), sm), np.eye(2 ** (N - j - 1))) for j in range(N))
    d = 2**N
    I = np.eye(d)
    JdJ = Jm.T @ Jm
    L = np.kron(Jm, Jm) - 0.5 * np.kron(I, JdJ) - 0.5 * np.kron(JdJ.T, I)  # H drops out: it commutes
    rho0 = np.zeros((d, d))
    rho0[0, 0] = 1.0
    out = []
    for t in times:
        rho = (sla.expm(t * L) @ rho0.reshape(-1, order="F")).reshape(d, d, order="F")
        out.append(np.trace(JdJ @ rho))
    return np.array(out)


def test_superradiance_against_brute_force_collective_lindbladian():
    N = 4
    t = np.linspace(0.0, 2.0, 9)
    r = dk.superradiance(N, np.inf, times=t)
    assert_allclose(r.intensity, _collective_lindblad_intensity(N, t), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("N", [10, 20])
def test_superradiance_against_qutip_piqs(N):
    import qutip  # a test dependency: a failing import must fail, not skip
    import qutip.piqs as piqs
    system = piqs.Dicke(N=N, collective_emission=1.0)
    L = system.liouvillian()
    jp = piqs.jspin(N, "+")
    jm = piqs.jspin(N, "-")
    t = np.linspace(0.0, 3.0 * np.log(N) / N * 2, 41)
    res = qutip.mesolve(L, piqs.excited(N), t, e_ops=[jp * jm], options={"atol": 1e-12, "rtol": 1e-10})
    r = dk.superradiance(N, np.inf, times=t)
    assert_allclose(r.intensity, np.real(res.expect[0]), rtol=1e-6, atol=1e-6 * N**2)


def test_burst_scaling_large_N():
    r = dk.superradiance(400, np.inf)
    # mean field: delay ~ ln N / N, peak ~ N^2 / 4; quantum fluctuations lower the peak by ~20% here
    assert 0.9 < r.peak_time / (np.log(400) / 400) < 1.2
    assert 0.7 < r.peak_intensity / (400**2 / 4) < 0.9
    # total emitted energy = N photons
    assert_allclose(np.trapezoid(r.intensity, r.times), 400, rtol=1e-3)


@pytest.mark.parametrize("N", [3, 4])
def test_full_space_davies_cross_check(N):
    w0, beta, lam = 1.0, 0.7, 0.2
    bath = dm.OhmicBath(beta=beta, eta=1.0, cutoff=5.0)
    Jz, A = dk.full_space_operators(N)
    gen = dm.DaviesGenerator(dm.diagonalize(w0 * Jz), [A], bath, strength=lam)
    assert gen.kernel_dimension() == dk.stationary_dimension(N)
    # from the fully excited (symmetric) state: <J_z>(t) from the J = N/2 birth-death chain
    rho0 = np.zeros((2**N, 2**N))
    rho0[0, 0] = 1.0
    t = np.array([0.0, 0.3, 1.0, 4.0])
    jz_full = gen.expect([Jz], rho0, t)[0]
    M = N / 2 - np.arange(N + 1)
    jz_block = dk.block_populations(N, w0, bath, lam, t) @ M
    assert_allclose(jz_full, jz_block, atol=1e-10)
    # restricted equilibrium from a product state |e g g ...>: <J_z> = sum_J tr(P_J rho0) <J_z>_Gibbs,J
    psi = np.zeros(2**N)
    psi[int("0" + "1" * (N - 1), 2)] = 1.0
    rho0 = np.outer(psi, psi)
    rho_inf = gen.stationary_state(rho0)
    Sx, Sy = (sum(dm.site_operator(dm.spin_operator(a), j, N).toarray() for j in range(N)) for a in "xy")
    J2 = Sx @ Sx + Sy @ Sy + Jz @ Jz
    e, U = np.linalg.eigh(J2)
    expected = 0.0
    for J in dk.spin_values(N):
        cols = np.abs(e - J * (J + 1)) < 1e-8
        PJ = U[:, cols] @ U[:, cols].conj().T
        MJ = J - np.arange(int(2 * J) + 1)
        pg = np.exp(-beta * w0 * MJ)
        expected += np.real(np.trace(PJ @ rho0)) * (pg @ MJ) / pg.sum()
    assert_allclose(np.trace(Jz @ rho_inf).real, expected, atol=1e-10)
    assert abs(np.trace(Jz @ rho_inf).real - np.trace(Jz @ dm.diagonalize(w0 * Jz).gibbs(beta)).real) > 1e-2


def test_cooperative_speed_up():
    bath = dm.OhmicBath(beta=2.0, eta=1.0, cutoff=5.0)
    g1 = dk.collective_gap(1, 1.0, bath, 0.1)
    # N = 1 is the two-level T1
    T1 = dm.applications.bloch_parameters(1.0, bath, "x", 0.1).t1
    assert_allclose(g1, 1 / T1, rtol=1e-12)
    r100, r200 = dk.collective_gap(100, 1.0, bath, 0.1) / g1, dk.collective_gap(200, 1.0, bath, 0.1) / g1
    assert r100 > 50 and 1.9 < r200 / r100 < 2.1  # ~ N (independent atoms: 1, whatever N)
    # KMS inside the block: the Gibbs populations are stationary for every N
    for N in (5, 60):
        W = dk.rate_matrix(N / 2, *bath.rate_pair(1.0))
        assert_allclose(W @ dk.block_gibbs(N / 2, 1.0, 2.0), 0.0, atol=1e-12 * N**2)


def test_bad_input():
    with pytest.raises(ValueError, match="N must be >= 1"):
        dk.superradiance(0)
    with pytest.raises(TypeError, match="N must be an integer"):
        dk.superradiance(2.5)
    with pytest.raises(ValueError, match="J must be"):
        dk.multiplicity(4, 1.5)
    with pytest.raises(ValueError, match="beta"):
        dk.superradiance(4, beta=-1.0)
    with pytest.raises(ValueError, match="p0"):
        dk.block_populations(2, 1.0, dm.OhmicBath(beta=1.0), 0.1, [0.0, 1.0], p0=[1.0, 0.0])
    assert math.isfinite(dk.superradiance(3).peak_intensity)


def test_superradiance_against_full_space_davies_at_zero_temperature():
    N, lam = 4, 0.3
    bath = dm.OhmicBath(beta=np.inf, eta=1.0, cutoff=5.0)
    Jz, A = dk.full_space_operators(N)
    gen = dm.DaviesGenerator(dm.diagonalize(Jz), [A], bath, strength=lam)
    g0 = lam**2 * bath.gamma(1.0)  # single-atom emission rate: A(w0) = J_-, |<g|sigma^x|e>|^2 = 1
    Jm = A.copy()
    Jm[np.triu_indices(2**N)] = 0.0  # the lowering half of 2 J_x = J_+ + J_- (site 0 most significant)
    rho0 = np.zeros((2**N, 2**N))
    rho0[0, 0] = 1.0
    t = np.linspace(0.0, 2.0, 9)
    intensity = gen.expect([Jm.T @ Jm], rho0, t / g0)[0]  # photons per unit time in units of g0
    assert_allclose(dk.superradiance(N, np.inf, times=t).intensity, intensity, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("N", [6, 8])  # N = 8: a zero-frequency block of 12870, sparse and propagated (seconds)
def test_full_space_davies_large_N(N):
    w0, beta, lam = 1.0, 0.7, 0.2
    bath = dm.OhmicBath(beta=beta, eta=1.0, cutoff=5.0)
    Jz, A = dk.full_space_operators(N)
    gen = dm.DaviesGenerator(dm.diagonalize(w0 * Jz), [A], bath, strength=lam)
    rho0 = np.zeros((2**N, 2**N))
    rho0[0, 0] = 1.0
    t = np.array([0.0, 0.3, 1.0, 4.0])
    M = N / 2 - np.arange(N + 1)
    assert_allclose(gen.expect([Jz], rho0, t)[0], dk.block_populations(N, w0, bath, lam, t) @ M, atol=1e-9)
