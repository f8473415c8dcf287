"""Baths at different temperatures (issue 10, item 4): the non-equilibrium steady state and its heat currents.

References are independent: the NESS is the null vector of the brute-force superoperator, and each current
J_alpha = tr[H D_alpha(rho)] uses the brute-force dissipator of bath alpha alone (tests/brute_force.py).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg as sla
from numpy.testing import assert_allclose

import brute_force as bf
import davies_mb as dm


def dense(op):
    return op.toarray() if hasattr(op, "toarray") else np.asarray(op)


@pytest.fixture(scope="module")
def chain_two_baths():
    chain = dm.xxz(4, 0.5, hz=0.3)
    H = dense(chain.hamiltonian(sparse=False))
    A = [dense(chain.parse_operator("x0")), dense(chain.parse_operator("x3"))]
    hot, cold = dm.OhmicBath(0.5, eta=0.8, cutoff=4.0), dm.OhmicBath(4.0, eta=0.8, cutoff=4.0)
    return chain, H, A, hot, cold


def _ness_brute_force(H, A, baths, lam):
    S = bf.davies_superoperator(H, A, [b.gamma for b in baths], lam=lam)
    v = sla.null_space(S, rcond=1e-10)
    assert v.shape[1] == 1
    rho = bf.unvec(v[:, 0], H.shape[0])
    return rho / np.trace(rho)


@pytest.mark.parametrize("betas", [(0.5, 4.0), (0.5, np.inf), (30.0, 200.0)])
def test_ness_and_currents_against_brute_force(chain_two_baths, betas):
    chain, H, A, _, _ = chain_two_baths
    baths = [dm.OhmicBath(b, eta=0.8, cutoff=4.0) for b in betas]
    lam = 0.3
    gen = dm.DaviesGenerator(dm.diagonalize(chain), A, baths, strength=lam)
    assert gen.beta is None and gen.kernel_dimension() == 1
    rho = gen.stationary_state(np.eye(16) / 16)
    ref = _ness_brute_force(H, A, baths, lam)
    assert_allclose(rho, ref, atol=1e-9)
    J = gen.heat_currents(rho)
    # independent: J_alpha = tr[H D_alpha(rho)] with the brute-force dissipator of bath alpha alone
    d = H.shape[0]
    J_bf = [np.real(np.trace(H @ bf.unvec(bf.dissipator(H, [a], [b.gamma], lam=lam) @ bf.vec(ref), d)))
            for a, b in zip(A, baths)]
    assert_allclose(J, J_bf, atol=1e-10 * np.max(np.abs(J_bf)))
    # steady state: the currents cancel, heat flows from hot (small beta) to cold, entropy production >= 0
    assert abs(J.sum()) <= 1e-10 * np.max(np.abs(J))
    assert J[0] > 0 > J[1]
    sigma = gen.entropy_production(rho)
    assert sigma > 0
    if np.isfinite(betas[1]):
        assert_allclose(sigma, -(betas[0] * J[0] + betas[1] * J[1]), rtol=1e-12)
    else:
        assert sigma == np.inf  # a zero-temperature bath that absorbs heat
    assert gen.check().ok(1e-9), gen.check().failures()


def test_heat_currents_of_a_thermal_state_vanish_and_scale_as_lambda2(chain_two_baths):
    chain, H, A, hot, cold = chain_two_baths
    spec = dm.diagonalize(chain)
    gen = dm.DaviesGenerator(spec, A, [hot, hot], strength=0.2)
    g = spec.gibbs(hot.beta)
    assert np.max(np.abs(gen.heat_currents(g))) < 1e-14  # detailed balance: no current per bath
    rho0 = np.zeros((16, 16))
    rho0[5, 5] = 1.0
    J1 = gen.heat_currents(rho0)
    assert_allclose(gen.with_strength(0.4).heat_currents(rho0), 4 * J1, rtol=1e-12)
    # a high-energy state cools: energy flows out, d<H>/dt = sum J at t = 0 (finite difference of evolve)
    times = np.array([0.0, 1e-4])
    e = gen.expect([H], rho0, times)[0]
    assert_allclose((e[1] - e[0]) / 1e-4, J1.sum(), rtol=1e-3)


def test_scans_report_a_ness(chain_two_baths):
    chain, H, A, hot, cold = chain_two_baths
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scan = dm.teq_scan(chain, A, [hot, cold], [0.02, 0.1], n_times=40)
    assert scan.steady_state == "ness" and not scan.thermalizes
    assert "non-equilibrium steady state" in scan.message
    J = np.array(scan.heat_currents)
    assert J[0] > 0 > J[1] and abs(J.sum()) < 1e-10 * np.abs(J).max()
    assert np.all(np.isnan(scan.final_distance_to_gibbs))
    with pytest.warns(UserWarning, match="non-equilibrium steady state"):
        two = dm.two_step_relaxation(chain, A, [hot, cold], [0.05], dense(chain.parse_operator("z1")), n_times=60)
    assert two.steady_state == "ness" and np.isnan(two.final_distance_to_gibbs)
    # the second plateau is the NESS value of the observable
    gen = dm.DaviesGenerator(dm.diagonalize(chain), A, [hot, cold])
    psi = dm.product_state(4, "neel")
    rho_n = gen.stationary_state(np.outer(psi, psi))
    assert_allclose(two.gibbs_value, np.trace(dense(chain.parse_operator("z1")) @ rho_n).real, atol=1e-10)
