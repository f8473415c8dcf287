"""Second-order mean-force state: divided differences, explicit modes by ED (error ~ strength^4), continuous
baths against a fine discretization, H_MF, and the orders at which Davies and Redfield miss rho_MF."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import davies_mb as dm
from davies_mb.applications import mean_force as mf

SX = np.array([[0.0, 1.0], [1.0, 0.0]])
SZ = np.diag([1.0, -1.0])
H2 = 0.6 * SZ
X2 = SX + 0.5 * SZ
MODES = mf.DiscreteModes((1.0, 1.7), (1.0, 0.6), 2.0)


def test_divided_difference():
    b = 1.3

    def f(x):
        return np.exp(-b * x)

    x1, x2, x3 = 0.2, 1.1, 2.5
    ref = ((f(x1) - f(x2)) / (x1 - x2) - (f(x2) - f(x3)) / (x2 - x3)) / (x1 - x3)
    assert_allclose(mf._divided_difference(x1, x2, x3, b), ref, rtol=1e-13)
    assert_allclose(mf._divided_difference(x3, x1, x2, b), ref, rtol=1e-13)  # symmetric
    # coincident limit f''(x)/2 and continuity through it
    assert_allclose(mf._divided_difference(1.0, 1.0, 1.0, b), b * b * np.exp(-b) / 2, rtol=1e-14)
    assert_allclose(mf._divided_difference(1.0, 1.0 + 1e-7, 1.0 - 1e-7, b), b * b * np.exp(-b) / 2, rtol=1e-12)
    # f[x, x, y] = (f'(x) (x - y) - (f(x) - f(y))) / (x - y)^2
    x, y = 0.4, 0.9
    ref = (-b * f(x) * (x - y) - (f(x) - f(y))) / (x - y) ** 2
    assert_allclose(mf._divided_difference(x, x, y, b), ref, rtol=1e-12)


def test_against_exact_diagonalization_of_explicit_modes():
    errs, gerrs = [], []
    for lam in (0.05, 0.1):
        exact = mf.exact_reduced_state(H2, X2, MODES, lam, n_max=14)
        r = mf.mean_force_state(H2, X2, MODES, lam)
        errs.append(np.max(np.abs(r.rho - exact)))
        gerrs.append(np.max(np.abs(r.gibbs - exact)))
    assert errs[0] < 1e-5
    assert 12 < errs[1] / errs[0] < 20  # strength^4
    assert 3.5 < gerrs[1] / gerrs[0] < 4.5  # the Gibbs state of H_S misses it at strength^2


def test_three_level_system(rng):
    A = rng.normal(size=(3, 3))
    H = A + A.T
    B = rng.normal(size=(3, 3))
    X = 0.5 * (B + B.T)
    modes = mf.DiscreteModes((1.3,), (0.8,), 1.5)
    errs = []
    for lam in (0.04, 0.08):
        exact = mf.exact_reduced_state(H, X, modes, lam, n_max=16)
        errs.append(np.max(np.abs(mf.mean_force_state(H, X, modes, lam).rho - exact)))
    assert 12 < errs[1] / errs[0] < 20


def test_continuous_bath_against_fine_discretization():
    bath = dm.OhmicBath(beta=2.0, eta=0.5, cutoff=3.0)
    r = mf.mean_force_state(H2, X2, bath, 0.1)
    n, wmax = 40000, 60.0
    w = (np.arange(n) + 0.5) * (wmax / n)  # midpoint rule, J(w) dw per mode
    modes = mf.DiscreteModes(tuple(w), tuple(np.sqrt(bath.spectral_density(w) * (wmax / n))), 2.0)
    assert_allclose(r.correction, mf.mean_force_state(H2, X2, modes, 0.1).correction, atol=1e-6)
    assert_allclose(np.trace(r.rho), 1.0, rtol=1e-14)
    # H_MF: exp(-beta H_MF) = rho_MF, and H_MF -> H_S + const as strength -> 0, at strength^2
    w_, V = np.linalg.eigh(r.h_mf)
    assert_allclose((V * np.exp(-2.0 * w_)) @ V.T, r.rho, atol=1e-13)
    d = []
    for lam in (0.05, 0.1):
        h = mf.mean_force_state(H2, X2, bath, lam).h_mf
        D = h - H2
        D -= np.trace(D) / 2 * np.eye(2)
        d.append(np.max(np.abs(D)))
    assert 3.5 < d[1] / d[0] < 4.5


def test_davies_and_redfield_orders():
    # Davies (and Redfield without Lamb shift) relax to exp(-beta H_S)/Z: off by strength^2. Redfield with the
    # Lamb shift gets the coherences of rho_MF right to strength^4, its populations only to strength^2.
    bath = dm.OhmicBath(beta=2.0, eta=0.5, cutoff=3.0)
    spec = dm.diagonalize(H2)
    pop, coh, dav = [], [], []
    for lam in (0.05, 0.1):
        r = mf.mean_force_state(H2, X2, bath, lam)
        red = dm.RedfieldGenerator(spec, [X2], bath, strength=lam, lamb_shift=True).stationary_state()
        davies = dm.DaviesGenerator(spec, [X2], bath, strength=lam).stationary_state(np.eye(2) / 2)
        pop.append(abs(red[0, 0] - r.rho[0, 0]))
        coh.append(abs(red[0, 1] - r.rho[0, 1]))
        dav.append(dm.trace_distance(davies, r.rho))
    assert 3.5 < pop[1] / pop[0] < 4.5
    assert 12 < coh[1] / coh[0] < 20
    assert 3.5 < dav[1] / dav[0] < 4.5


def test_bad_input():
    with pytest.raises(ValueError, match="H_S is not Hermitian"):
        mf.mean_force_state(np.array([[0.0, 1.0], [0.0, 0.0]]), SX, MODES, 0.1)
    with pytest.raises(ValueError, match="X has shape"):
        mf.mean_force_state(H2, np.eye(3), MODES, 0.1)
    with pytest.raises(ValueError, match="strength"):
        mf.mean_force_state(H2, SX, MODES, -0.1)
    with pytest.raises(ValueError, match="equal length"):
        mf.DiscreteModes((1.0, 2.0), (1.0,), 1.0)
    with pytest.warns(UserWarning, match="correction is large"):
        mf.mean_force_state(H2, SX, MODES, 0.8)
