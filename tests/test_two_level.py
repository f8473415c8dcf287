"""Two-level benchmark: p_e, T1, T2 and the Bloch equations against closed forms and a brute-force Lindbladian."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
from numpy.testing import assert_allclose

import davies_mb as dm
from davies_mb.applications import two_level as tl

SX = np.array([[0, 1], [1, 0]], dtype=complex)
SY = np.array([[0, -1j], [1j, 0]])
SZ = np.diag([1.0, -1.0]).astype(complex)
SM = np.array([[0, 0], [1, 0]], dtype=complex)  # |g><e| = |1><0|


@pytest.mark.parametrize("beta", [0.01, 0.5, 1.0, 5.0, 50.0, 300.0])
def test_stationary_excited_population(beta):
    w0 = 1.3
    bath = dm.OhmicBath(beta=beta, eta=0.5, cutoff=4.0)
    gen = tl.two_level_generator(w0, bath, "x", strength=0.1)
    rho = gen.stationary_state(np.eye(2) / 2)
    assert_allclose(rho[0, 0].real, 1 / (np.exp(beta * w0) + 1), rtol=1e-9, atol=1e-300)
    assert_allclose(tl.excited_population(w0, beta), 1 / (np.exp(beta * w0) + 1), rtol=1e-13, atol=1e-300)
    assert_allclose(tl.bloch_parameters(w0, bath, "x", 0.1).p_excited, 1 / (np.exp(beta * w0) + 1), rtol=1e-12)


def test_excited_population_extremes():
    assert tl.excited_population(1.0, np.inf) == 0.0
    assert tl.excited_population(1.0, 1e6) == 0.0
    assert_allclose(tl.excited_population(1.0, 1e-12), 0.5, rtol=1e-12)


def test_zero_temperature_generator():
    bath = dm.OhmicBath(beta=np.inf, eta=0.5, cutoff=4.0)
    gen = tl.two_level_generator(1.0, bath, "x", strength=0.1)
    assert_allclose(gen.stationary_state(np.eye(2) / 2), np.diag([0.0, 1.0]), atol=1e-14)
    p = tl.bloch_parameters(1.0, bath, "x", 0.1)
    assert p.gamma_up == 0.0 and p.p_excited == 0.0
    assert_allclose(1 / p.t1, 0.01 * 2 * np.pi * 0.5 * np.exp(-0.25), rtol=1e-13)


def _brute_lindbladian(w0, rates, A):
    """Column-stacked Lindbladian from explicit jump operators sqrt(rate) L (written independently)."""
    H = 0.5 * w0 * SZ
    I2 = np.eye(2)
    L = -1j * (np.kron(I2, H) - np.kron(H.T, I2))
    for r, J in rates:
        JdJ = J.conj().T @ J
        L += r * (np.kron(J.conj(), J) - 0.5 * np.kron(I2, JdJ) - 0.5 * np.kron(JdJ.T, I2))
    return L


def test_bloch_equations_against_davies_and_brute_force(rng):
    w0, beta, lam = 1.1, 0.8, 0.3
    a = np.array([0.7, -0.4, 0.5])  # A = a_x sx + a_y sy + a_z sz
    A = a[0] * SX + a[1] * SY + a[2] * SZ
    bath = dm.OhmicBath(beta=beta, eta=0.6, cutoff=3.0)
    p = tl.bloch_parameters(w0, bath, A, lam)
    # closed forms, written here from the bath's rates
    m = a[0] ** 2 + a[1] ** 2
    g_dn, g_up, g0 = lam**2 * bath.gamma(w0) * m, lam**2 * bath.gamma(-w0) * m, lam**2 * bath.gamma(0.0)
    assert_allclose(1 / p.t1, g_dn + g_up, rtol=1e-13)
    assert_allclose(1 / p.t2, 0.5 * (g_dn + g_up) + 0.5 * g0 * (2 * a[2]) ** 2, rtol=1e-13)
    # A(w0) = <g|A|e> |g><e|; A(0) = a_z sz
    Age = A[1, 0]
    Lb = _brute_lindbladian(w0, [(bath.gamma(w0) * lam**2, Age * SM), (bath.gamma(-w0) * lam**2, Age.conj() * SM.T),
                                 (bath.gamma(0.0) * lam**2, a[2] * SZ)], A)
    # a random pure initial state
    psi = rng.normal(size=2) + 1j * rng.normal(size=2)
    psi /= np.linalg.norm(psi)
    rho0 = np.outer(psi, psi.conj())
    times = np.array([0.0, 0.7, 3.0, 11.0, 40.0])
    r_closed = p.bloch_vector(tl.bloch_vector(rho0), times)
    gen = tl.two_level_generator(w0, bath, A, lam)
    r_davies = tl.bloch_vector(gen.evolve(rho0, times))
    r_brute = np.array([tl.bloch_vector((sla.expm(Lb * t) @ rho0.reshape(-1, order="F")).reshape(2, 2, order="F"))
                        for t in times])
    assert_allclose(r_davies, r_brute, atol=1e-12)
    assert_allclose(r_closed, r_brute, atol=1e-12)
    # the generator's relaxation rates are 1/T1 and 1/T2 (twice: rho_eg and rho_ge)
    assert_allclose(np.sort(gen.relaxation_rates(3)), np.sort([1 / p.t1, 1 / p.t2, 1 / p.t2]), rtol=1e-10)


def test_structured_bath_t1_follows_spectral_density():
    # T1 probes J at w0 only: a narrow peak gives fast relaxation on resonance, slow off it
    def J(w):
        return 0.01 * w + 0.5 * w * 0.05**2 / ((w - 1.0) ** 2 + 0.05**2)

    bath = dm.SpectralBath(J, 2.0, frequency_scale=0.05)
    on, off = tl.bloch_parameters(1.0, bath), tl.bloch_parameters(1.5, bath)
    for p, w0 in ((on, 1.0), (off, 1.5)):
        assert_allclose(1 / p.t1, 2 * np.pi * J(w0) * (1 / -np.expm1(-2 * w0) + 1 / np.expm1(2 * w0)), rtol=1e-12)
    assert on.t1 < off.t1 / 10


def test_bad_input():
    bath = dm.OhmicBath(beta=1.0)
    with pytest.raises(ValueError, match="w0"):
        tl.bloch_parameters(-1.0, bath)
    with pytest.raises(ValueError, match="conserved"):
        tl.bloch_parameters(1.0, bath, "z")
    with pytest.raises(ValueError, match="not Hermitian"):
        tl.bloch_parameters(1.0, bath, SM)
    with pytest.raises(TypeError, match="Bath"):
        tl.bloch_parameters(1.0, 1.0)
    with pytest.raises(ValueError, match="coupling"):
        tl.bloch_parameters(1.0, bath, "q")
    with pytest.raises(ValueError, match="beta"):
        tl.excited_population(1.0, -2.0)
