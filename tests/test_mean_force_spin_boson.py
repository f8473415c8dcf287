"""Closed-form spin-boson mean-force state (Cresser-Anders weak and ultrastrong limits): against the general
second-order routine (an independent construction: divided differences on a frequency grid), analytic bath
integrals, and explicit oscillator modes by exact diagonalization at growing coupling."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import integrate
from scipy.linalg import expm

import davies_mb as dm
from davies_mb.applications import mean_force as mf
from davies_mb.applications import mean_force_spin_boson as sb

SZ = np.diag([1.0, -1.0])
SX = np.array([[0.0, 1.0], [1.0, 0.0]])


def _hx(omega, theta):
    return 0.5 * omega * SZ, np.cos(theta) * SZ - np.sin(theta) * SX


def _linear_coefficient(H, X, bath):
    """d rho_MF / d(lambda^2) at 0 from the general routine, exactly: its state is (G + l^2 A)/(1 + l^2 a),
    so its `correction` is C/(1 + l^2 a); two strengths fix the scalar a."""
    l1, l2 = 0.1, 0.2
    c1 = mf.mean_force_state(H, X, bath, l1).correction
    c2 = mf.mean_force_state(H, X, bath, l2).correction
    u = l1**2 * c1 - l2**2 * c2
    a = float(np.sum((c2 - c1) * u) / np.sum(u * u))
    return c1 * (1.0 + l1**2 * a)


def _closed_coefficient(r):
    return (r.rho - 0.5 * (np.eye(2) + r.gibbs_bloch[2] * SZ)) / r.strength**2


def _super_ohmic():
    # s = 3 with a Gaussian cutoff: J = 0.2 w^3 exp(-(w/2)^2)
    return dm.SpectralBath(lambda w: 0.2 * w**3 * np.exp(-((w / 2.0) ** 2)), 1.5)


@pytest.mark.parametrize("bath", [
    dm.OhmicBath(beta=2.0, eta=0.5, cutoff=3.0),
    dm.DrudeLorentzBath(beta=0.7, eta=0.3, cutoff=1.0),
    _super_ohmic(),
    mf.DiscreteModes((1.0, 1.7), (1.0, 0.6), 2.0),
], ids=["ohmic", "drude", "super-ohmic", "modes"])
def test_weak_limit_equals_general_second_order(bath):
    for omega, theta in [(1.2, 0.7), (0.3, 1.3), (4.0, np.pi / 2), (2.5, -2.2)]:
        r = sb.spin_boson_mean_force(omega, theta, bath, 0.1)
        H, X = _hx(omega, theta)
        C = _linear_coefficient(H, X, bath)
        assert np.max(np.abs(C)) > 1e-3  # a real correction, not two zeros
        assert_allclose(_closed_coefficient(r), C, atol=1e-10, rtol=0)
        assert r.bloch[1] == 0.0
        assert_allclose(r.rho, 0.5 * (np.eye(2) + r.bloch[0] * SX + r.bloch[2] * SZ), atol=1e-15)


def test_integrals_against_analytic_drude_lorentz():
    # J = eta w a^2/(w^2 + a^2): Q = pi eta a / 2, Sigma = pi eta a^3/(a^2 + w^2), Sigma' = dSigma/dw, and at
    # beta = inf Delta = 2 w eta a^2 ln(a/w)/(a^2 + w^2), Delta' = dDelta/dw (partial fractions, written here)
    eta, a = 0.3, 1.3
    bath = dm.DrudeLorentzBath(beta=np.inf, eta=eta, cutoff=a)
    for w in (0.4, 1.3, 5.0):
        I = sb.spin_boson_integrals(w, bath)
        assert_allclose(I.Q, np.pi * eta * a / 2, rtol=1e-12)
        assert_allclose(I.sigma, np.pi * eta * a**3 / (a * a + w * w), rtol=1e-11)
        assert_allclose(I.sigma_prime, -2 * np.pi * eta * a**3 * w / (a * a + w * w) ** 2, rtol=1e-10)
        D = 2 * w * eta * a * a * np.log(a / w) / (a * a + w * w)
        dD = 2 * eta * a * a * (np.log(a / w) * (a * a - w * w) / (a * a + w * w) ** 2 - 1 / (a * a + w * w))
        assert_allclose(I.delta, D, rtol=1e-10, atol=1e-13)
        assert_allclose(I.delta_prime, dD, rtol=1e-10, atol=1e-13)


def test_zero_temperature_weak_limit():
    # beta = inf (the general routine refuses it): r_z bracket = Delta' - Sigma' = 2 int J/(w + omega)^2 > 0
    bath = dm.OhmicBath(beta=np.inf, eta=0.5, cutoff=3.0)
    omega, theta, lam = 1.2, 0.9, 0.1
    r = sb.spin_boson_mean_force(omega, theta, bath, lam)
    ref = 2 * integrate.quad(lambda w: bath.spectral_density(w) / (w + omega) ** 2, 0, np.inf, epsrel=1e-13)[0]
    assert_allclose((r.bloch[2] + 1.0) / (lam**2 * np.sin(theta) ** 2), ref, rtol=1e-10)
    # and it is the beta -> inf limit of the finite-temperature closed form; Ohmic modes below 1/beta stay
    # thermally occupied, so the approach is algebraic, ~ 1/beta^2
    d = [np.max(np.abs(sb.spin_boson_mean_force(omega, theta, dm.OhmicBath(beta=b, eta=0.5, cutoff=3.0),
                                                lam).bloch - r.bloch)) for b in (100.0, 200.0)]
    assert 3.6 < d[0] / d[1] < 4.4


def test_pure_dephasing_is_gibbs_at_every_coupling():
    # theta = 0: X = sigma_z commutes with H_S, rho_MF = Gibbs exactly (displaced modes, equal for both spins)
    omega, beta = 1.0, 2.0
    gibbs = expm(-beta * 0.5 * omega * SZ)
    gibbs /= np.trace(gibbs)
    modes = mf.DiscreteModes((1.0,), (1.0,), beta)
    for lam in (0.3, 3.0):
        exact = mf.exact_reduced_state(0.5 * omega * SZ, SZ, modes, lam, n_max=4 * int(lam**2) + 40)
        assert_allclose(exact, gibbs, atol=1e-12)
    w = sb.spin_boson_mean_force(omega, 0.0, mf.DiscreteModes((1.3,), (1.0,), beta), 0.3)
    assert_allclose(w.bloch, [0.0, 0.0, -np.tanh(beta * omega / 2)], atol=1e-15)
    u = sb.spin_boson_mean_force(omega, 0.0, modes, limit="ultrastrong")
    assert_allclose(u.rho, gibbs, atol=1e-15)


def test_ultrastrong_limit_against_explicit_modes():
    # one mode w_b = 1, c = 1: the exact reduced state approaches exp(-beta sum_n P_n H_S P_n)/Z as 1/lambda^2;
    # the "projected Gibbs state" sum_n P_n exp(-beta H_S) P_n / Z is not the limit (its distance levels off)
    omega, theta, beta = 1.0, np.pi / 3, 2.0
    H, X = _hx(omega, theta)
    modes = mf.DiscreteModes((1.0,), (1.0,), beta)
    us = sb.spin_boson_mean_force(omega, theta, modes, limit="ultrastrong")
    assert_allclose(us.bloch, -np.tanh(beta * omega * np.cos(theta) / 2) * np.array([-np.sin(theta), 0, np.cos(theta)]),
                    atol=1e-15)
    x, U = np.linalg.eigh(X)
    G = expm(-beta * H)
    proj = sum(np.outer(U[:, k], U[:, k]) * (U[:, k] @ G @ U[:, k]) for k in range(2))
    proj /= np.trace(proj)
    d_us, d_proj = [], []
    for lam in (2.0, 4.0, 6.0):
        n_max = int(4 * lam**2 + 12 * lam + 30)
        exact = mf.exact_reduced_state(H, X, modes, lam, n_max=n_max)
        d_us.append(dm.trace_distance(exact, us.rho))
        d_proj.append(dm.trace_distance(exact, proj))
    assert d_us[0] > d_us[1] > d_us[2]
    assert d_us[2] < 4e-3  # measured 3.0e-3 at lambda = 6
    assert 1.8 < d_us[1] / d_us[2] < 2.8  # ~ (6/4)^2 = 2.25
    assert min(d_proj) > 0.02


def test_ultrastrong_state_general_three_level():
    # a qutrit with a degenerate coupling X = diag(1, 1, -1) in a rotated basis: the limit keeps the coherent
    # 2x2 block P_1 H P_1 (not its diagonal); against ED with one mode at growing coupling
    rng = np.random.default_rng(7)
    A = rng.normal(size=(3, 3))
    H = 0.5 * (A + A.T)
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    X = Q @ np.diag([1.0, 1.0, -1.0]) @ Q.T
    beta = 1.0
    us = sb.ultrastrong_state(H, X, beta)
    P = Q[:, :2] @ Q[:, :2].T
    Hd = P @ H @ P + (np.eye(3) - P) @ H @ (np.eye(3) - P)
    ref = expm(-beta * Hd)
    assert_allclose(us, ref / np.trace(ref), atol=1e-13)
    modes = mf.DiscreteModes((1.0,), (1.0,), beta)
    d = [dm.trace_distance(mf.exact_reduced_state(H, X, modes, lam, n_max=int(4 * lam**2 + 12 * lam + 30)), us)
         for lam in (2.0, 4.0)]
    assert d[1] < d[0] / 2.5 and d[1] < 0.02
    # zero temperature: the ground state of the dephased Hamiltonian
    e, V = np.linalg.eigh(Hd)
    assert_allclose(sb.ultrastrong_state(H, X, np.inf), np.outer(V[:, 0], V[:, 0]), atol=1e-12)


def test_weak_limit_against_explicit_modes():
    # the closed form misses the exact (ED) state at lambda^4
    omega, theta = 1.2, 0.8
    H, X = _hx(omega, theta)
    modes = mf.DiscreteModes((1.0, 1.7), (1.0, 0.6), 2.0)
    err = [np.max(np.abs(sb.spin_boson_mean_force(omega, theta, modes, lam).rho
                         - mf.exact_reduced_state(H, X, modes, lam, n_max=14))) for lam in (0.05, 0.1)]
    assert 12 < err[1] / err[0] < 20


def test_bad_input():
    bath = dm.OhmicBath(beta=1.0)
    with pytest.raises(ValueError, match="omega must be > 0"):
        sb.spin_boson_mean_force(-1.0, 0.3, bath, 0.1)
    with pytest.raises(TypeError, match="theta must be a real number"):
        sb.spin_boson_mean_force(1.0, "x", bath, 0.1)
    with pytest.raises(ValueError, match="limit must be 'weak' or 'ultrastrong'"):
        sb.spin_boson_mean_force(1.0, 0.3, bath, 0.1, limit="strong")
    with pytest.raises(ValueError, match="strength .* is required"):
        sb.spin_boson_mean_force(1.0, 0.3, bath)
    with pytest.raises(ValueError, match="strength must be None for limit='ultrastrong'"):
        sb.spin_boson_mean_force(1.0, 0.3, bath, 0.1, limit="ultrastrong")
    with pytest.raises(TypeError, match="bath must be a davies_mb Bath"):
        sb.spin_boson_mean_force(1.0, 0.3, "ohmic", 0.1)
    with pytest.raises(ValueError, match="a mode of the bath sits at the Bohr frequency"):
        sb.spin_boson_integrals(1.0, mf.DiscreteModes((1.0,), (0.5,), 1.0))
    with pytest.raises(ValueError, match="X has shape"):
        sb.ultrastrong_state(np.eye(2), np.eye(3), 1.0)
    with pytest.warns(UserWarning) as rec:
        sb.spin_boson_mean_force(1.0, 0.8, bath, 1.5)
    msgs = " | ".join(str(w.message) for w in rec)
    assert "correction to the Bloch vector is large" in msgs and "length 1.531 > 1" in msgs
