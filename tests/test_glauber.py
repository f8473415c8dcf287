"""Glauber's kinetic Ising model from the Davies generator (massively degenerate spectrum)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.linalg as sla
from numpy.testing import assert_allclose

import davies_mb as dm
from davies_mb.applications import glauber as gl

Z = np.diag([1.0, -1.0])


def _zs(L):
    return [dm.site_operator(Z, j, L) for j in range(L)]


def test_glauber_bath_rate_function():
    bath = gl.glauber_bath(0.7, 1.3)
    w = np.array([-5.0, -1.0, 0.0, 0.4, 3.0])
    assert_allclose(bath.gamma(w), 0.7 / (1 + np.exp(-1.3 * w)), rtol=1e-13)


@pytest.mark.parametrize("L, beta", [(4, 0.4), (5, 0.4), (5, 1.5)])
def test_uniform_magnetization_decay(L, beta):
    J, lam = 1.0, 0.5
    gen = gl.glauber_generator(L, J, beta, alpha=1.0, strength=lam)
    d = 2**L
    rho0 = np.zeros((d, d))
    rho0[0, 0] = 1.0  # all up
    t = np.array([0.0, 0.5, 2.0, 7.0, 20.0])
    mz = gen.expect(_zs(L), rho0, t)
    # Glauber (1963): m(t) = exp(-alpha_G (1 - tanh 2 beta J) t), alpha_G = lambda^2 alpha
    expected = np.exp(-(lam**2) * (1 - np.tanh(2 * beta * J)) * t)
    assert_allclose(mz, np.tile(expected, (L, 1)), atol=1e-12)


def test_single_spin_spreads_as_glauber_ring_modes():
    L, J, beta, lam = 5, 1.0, 0.6, 0.5
    gen = gl.glauber_generator(L, J, beta, strength=lam)
    d = 2**L
    rho0 = np.kron(np.diag([1.0, 0.0]), np.eye(d // 2) / (d // 2))  # spin 0 up, the rest at infinite T
    t = np.linspace(0.0, 10.0, 6)
    mz = gen.expect(_zs(L), rho0, t)
    # ring modes written out here: <s_k>(t) = (1/L) sum_q cos(q k) exp(-a (1 - g cos q) t)
    g, a = np.tanh(2 * beta * J), lam**2
    q = 2 * np.pi * np.arange(L) / L
    k = np.arange(L)
    ref = np.array([[np.mean(np.cos(q * kk) * np.exp(-a * (1 - g * np.cos(q)) * tt)) for kk in k] for tt in t]).T
    assert_allclose(mz, ref, atol=1e-12)
    assert_allclose(gl.glauber_magnetization(np.eye(L)[0], t, J=J, beta=beta, alpha_g=a).T, ref, atol=1e-14)


def test_populations_follow_the_glauber_master_equation(rng):
    """All populations (correlations included) against the classical master equation with Glauber's rates."""
    L, J, beta, lam = 4, 0.8, 0.7, 0.6
    gen = gl.glauber_generator(L, J, beta, alpha=1.3, strength=lam)
    configs = list(itertools.product([1, -1], repeat=L))  # site 0 most significant, |0> = up
    d = 2**L
    W = np.zeros((d, d))
    for i, s in enumerate(configs):
        for j in range(L):
            rate = gl.glauber_rate(lam**2 * 1.3, beta, J, s[j], s[j - 1] + s[(j + 1) % L])
            f = list(s)
            f[j] = -f[j]
            W[configs.index(tuple(f)), i] += rate
            W[i, i] -= rate
    p0 = rng.random(d)
    p0 /= p0.sum()
    t = [0.3, 2.0]
    rho_t = gen.evolve(np.diag(p0), t)
    for k, tt in enumerate(t):
        assert_allclose(rho_t[k], np.diag(sla.expm(W * tt) @ p0), atol=1e-12)


def test_degenerate_spectrum_and_symmetry():
    gen = gl.glauber_generator(5, 1.0, 0.5, strength=0.5)
    deg = gen.spectrum.degeneracies
    assert sorted(deg.tolist()) == [2, 10, 20]  # 0, 2 or 4 domain walls on a ring of 5
    # H and every sigma^x_j commute with prod_j sigma^x_j: two stationary states (even and odd under the flip)
    assert gen.kernel_dimension() == 2
    # the slowest mode is Glauber's uniform magnetization, alpha_G (1 - tanh 2 beta J), for every L (seen L = 3..6)
    assert_allclose(gen.gap(), 0.25 * (1 - np.tanh(1.0)), rtol=1e-12)


@pytest.mark.slow
def test_uniform_decay_L6():
    L, beta, lam = 6, 0.4, 0.5
    gen = gl.glauber_generator(L, 1.0, beta, strength=lam)
    rho0 = np.zeros((2**L, 2**L))
    rho0[0, 0] = 1.0
    t = np.array([0.0, 1.0, 5.0])
    assert_allclose(gen.expect(_zs(L), rho0, t)[0], np.exp(-(lam**2) * (1 - np.tanh(0.8)) * t), atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="L must be >= 3"):
        gl.ising_ring(2)
    with pytest.raises(ValueError, match="alpha"):
        gl.glauber_bath(-1.0, 1.0)
    with pytest.raises(ValueError, match="m0"):
        gl.glauber_magnetization([2.0, 0.0, 0.0], [0.0], J=1.0, beta=1.0, alpha_g=1.0)
