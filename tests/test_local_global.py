"""Local versus global master equations: hand-built Lindbladian, Gibbs / product states, heat currents,
Levy-Kosloff (local) and Hofer et al. (global) failures located against Redfield."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import davies_mb as dm
from davies_mb.applications import local_global as lg

BATH = dm.OhmicBath(beta=1.0, eta=1.0, cutoff=5.0)
BH = dm.OhmicBath(beta=0.5, eta=1.0, cutoff=5.0)
BC = dm.OhmicBath(beta=2.0, eta=1.0, cutoff=5.0)
SM = np.array([[0.0, 0.0], [1.0, 0.0]])  # |1><0| lowers sigma^z = +1 -> -1
I2 = np.eye(2)


def _gibbs(H, beta):
    e, U = np.linalg.eigh(H)
    p = np.exp(-beta * (e - e[0]))
    return (U * (p / p.sum())) @ U.conj().T


def test_local_generator_matches_hand_built_lindbladian():
    w1, w2, g, lam = 1.0, 1.3, 0.2, 0.3
    H, hs, As, _ = lg.two_qubits(w1, w2, g, "heisenberg")
    gen = lg.LocalGenerator(H, hs, As, [BH, BC], lam)
    d = 4
    L = -1j * (np.kron(np.eye(d), H) - np.kron(H.T, np.eye(d)))
    for b, w, J in ((BH, w1, np.kron(SM, I2)), (BC, w2, np.kron(I2, SM))):
        for r, K in ((b.gamma(w), J), (b.gamma(-w), J.T)):
            KdK = K.T @ K
            L += lam**2 * r * (np.kron(K, K) - 0.5 * np.kron(np.eye(d), KdK) - 0.5 * np.kron(KdK.T, np.eye(d)))
    assert_allclose(gen.superoperator(), L, atol=1e-14)


@pytest.mark.parametrize("coupling", ["xx", "heisenberg"])
def test_same_temperature_resonant(coupling):
    H, hs, As, Hint = lg.two_qubits(1.0, 1.0, 0.4, coupling)
    c = lg.compare_master_equations(H, hs, As, BATH, 0.1, Hint)
    gibbs = _gibbs(H, 1.0)
    assert_allclose(c.states["global"], gibbs, atol=1e-12)
    assert_allclose(c.interaction_energy["global"], np.trace(Hint @ gibbs), rtol=1e-10)
    assert abs(c.interaction_energy["global"]) > 1e-3
    local_gibbs = [np.diag([np.exp(-0.5), np.exp(0.5)]) / (2 * np.cosh(0.5))] * 2
    prod = np.kron(*local_gibbs)
    assert_allclose(c.states["local"], prod, atol=1e-12)
    if coupling == "xx":
        assert abs(c.interaction_energy["local"]) < 1e-14
    assert lg.mutual_information(c.states["global"]) > 1e-3
    assert lg.mutual_information(c.states["local"]) < 1e-12
    for k in ("global", "local", "redfield"):
        assert_allclose(c.heat_currents[k], 0.0, atol=1e-14)


def test_same_temperature_detuned_local_is_not_a_product():
    H, hs, As, Hint = lg.two_qubits(1.0, 1.3, 0.4, "xx")
    c = lg.compare_master_equations(H, hs, As, BATH, 0.1, Hint)
    prod = np.kron(*[np.diag([np.exp(-w / 2), np.exp(w / 2)]) / (2 * np.cosh(w / 2)) for w in (1.0, 1.3)])
    assert dm.trace_distance(c.states["local"], prod) > 1e-2
    # and it carries heat between two baths at one temperature (zero entropy production, a spurious current)
    assert abs(c.heat_currents["local"][0]) > 1e-4
    assert_allclose(c.states["global"], _gibbs(H, 1.0), atol=1e-12)


def test_two_temperatures_balance_and_second_law():
    for coupling in ("xx", "heisenberg"):
        H, hs, As, Hint = lg.two_qubits(1.0, 1.5, 0.3, coupling)
        c = lg.compare_master_equations(H, hs, As, [BH, BC], 0.1, Hint)
        for k in ("global", "local", "redfield"):
            assert_allclose(np.sum(c.heat_currents[k]), 0.0, atol=1e-14)
        assert c.entropy_production["global"] > 0 and c.entropy_production["redfield"] > 0
        assert c.heat_currents["global"][0] > 0  # heat from the hot bath into the system


def test_global_heat_currents_match_one_bath_generators():
    """DaviesGenerator.heat_currents against tr[H L_alpha(rho)] with L_alpha built from bath alpha alone."""
    H, hs, As, Hint = lg.two_qubits(1.0, 1.4, 0.3, "heisenberg")
    spec = dm.diagonalize(H)
    rho = dm.DaviesGenerator(spec, list(As), [BH, BC], strength=0.1).stationary_state(np.eye(4) / 4)
    ours = lg.heat_currents("global", H, As, [BH, BC], rho, 0.1)
    ref = []
    for A, b in zip(As, (BH, BC)):
        L = dm.DaviesGenerator(spec, [A], b, strength=0.1).superoperator()
        ref.append(np.trace(H @ (L @ rho.reshape(-1, order="F")).reshape(4, 4, order="F")).real)
    assert_allclose(ours, ref, rtol=1e-10, atol=1e-16)
    assert ours[0] > 0 and abs(ours.sum()) < 1e-15


def test_levy_kosloff_local_heat_flows_from_cold_to_hot():
    # beta_h w_1 = 1.5 > beta_c w_2 = 1: the local equation moves excitations from the cold qubit to the hot one
    H, hs, As, Hint = lg.two_qubits(3.0, 0.5, 0.2, "xx")
    c = lg.compare_master_equations(H, hs, As, [BH, BC], 0.1, Hint)
    assert c.heat_currents["local"][0] < 0 and c.entropy_production["local"] < 0
    assert c.heat_currents["redfield"][0] > 0
    assert_allclose(c.heat_currents["global"], c.heat_currents["redfield"], rtol=1e-2)


def test_hofer_global_fails_at_small_detuning_and_weak_exchange():
    # resonant qubits, exchange g = 0.01 comparable to the rates: Bohr frequencies 1 +- g are not resolved
    H, hs, As, Hint = lg.two_qubits(1.0, 1.0, 0.01, "xx")
    c = lg.compare_master_equations(H, hs, As, [BH, BC], 0.1, Hint)
    J_red = c.heat_currents["redfield"][0]
    assert c.heat_currents["global"][0] > 10 * J_red
    assert_allclose(c.heat_currents["local"][0], J_red, rtol=2e-2)
    assert c.trace_distance_to_redfield["global"] > 10 * c.trace_distance_to_redfield["local"]


def test_end_bath_chain():
    H, hs, As, Hb = lg.end_bath_chain(3, g=0.5, hz=1.0, delta=0.5)
    c = lg.compare_master_equations(H, hs, As, BATH, 0.1, Hb)
    assert_allclose(c.states["global"], _gibbs(H, 1.0), atol=1e-11)
    c2 = lg.compare_master_equations(H, hs, As, [BH, BC], 0.1, Hb)
    for k in ("global", "local", "redfield"):
        assert_allclose(np.sum(c2.heat_currents[k]), 0.0, atol=1e-13)
    assert c2.heat_currents["redfield"][0] > 0


def test_concurrence_and_mutual_information():
    bell = np.zeros(4)
    bell[[0, 3]] = 1 / np.sqrt(2)
    rho = np.outer(bell, bell)
    assert_allclose(lg.concurrence(rho), 1.0, atol=1e-12)
    assert_allclose(lg.mutual_information(rho), 2 * np.log(2), rtol=1e-12)
    assert lg.concurrence(np.eye(4) / 4) == 0.0
    # Werner state p |bell><bell| + (1 - p) I/4: C = max(0, (3p - 1)/2)
    for p in (0.2, 0.6, 0.9):
        w = p * rho + (1 - p) * np.eye(4) / 4
        assert_allclose(lg.concurrence(w), max(0.0, (3 * p - 1) / 2), atol=1e-12)


def test_concurrence_against_qutip(rng):
    import qutip  # a test dependency: a failing import must fail, not skip
    for _ in range(3):
        X = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
        rho = X @ X.conj().T
        rho /= np.trace(rho)
        q = qutip.Qobj(rho, dims=[[2, 2], [2, 2]])
        assert_allclose(lg.concurrence(rho), qutip.concurrence(q), atol=1e-10)


def test_bad_input():
    H, hs, As, _ = lg.two_qubits(1.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="H is not Hermitian"):
        lg.LocalGenerator(H + np.triu(np.ones((4, 4)), 1), hs, As, BATH)
    with pytest.raises(ValueError, match="equal length"):
        lg.LocalGenerator(H, hs[:1], As, BATH)
    with pytest.raises(ValueError, match="method"):
        lg.heat_currents("local", H, As, BATH, np.eye(4) / 4)
    with pytest.raises(ValueError, match="w1"):
        lg.two_qubits(-1.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="coupling"):
        lg.two_qubits(1.0, 1.0, 0.1, "ising")
    with pytest.raises(TypeError, match="baths"):
        lg.LocalGenerator(H, hs, As, [BATH, 3.0])
    # a local coupling that conserves sigma^z of both qubits: no unique stationary state
    Z = [np.kron(np.diag([1.0, -1.0]), I2), np.kron(I2, np.diag([1.0, -1.0]))]
    with pytest.raises(ValueError, match="more than one stationary state"):
        lg.LocalGenerator(H, hs, Z, BATH).stationary_state()
