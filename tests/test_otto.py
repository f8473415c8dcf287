"""Finite-time quantum Otto engine: two-level closed forms (PHYSICS.md section 4), fixed point vs iteration,
quantum friction for a chain medium, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
from numpy.testing import assert_allclose

import davies_mb as dm
from davies_mb.applications import otto

SZ = np.diag([1.0, -1.0])
SX = np.array([[0.0, 1.0], [1.0, 0.0]])
BH = dm.OhmicBath(beta=0.5, eta=1.0, cutoff=5.0)
BC = dm.OhmicBath(beta=2.0, eta=1.0, cutoff=5.0)
WH, WC, LAM = 2.0, 1.0, 0.3


def _closed_form(th, tc, ts=0.0):
    """PHYSICS.md section 4, written out here from the bath rates (coupling sigma^x: |A_ge|^2 = 1)."""
    Gh = LAM**2 * (BH.gamma(WH) + BH.gamma(-WH))
    Gc = LAM**2 * (BC.gamma(WC) + BC.gamma(-WC))
    ph, pc = 1 / (np.exp(0.5 * WH) + 1), 1 / (np.exp(2.0 * WC) + 1)
    xh, xc = np.exp(-Gh * th), np.exp(-Gc * tc)
    dp = (ph - pc) * (1 - xh) * (1 - xc) / (1 - xh * xc)
    return dict(work=(WH - WC) * dp, heat_hot=WH * dp, heat_cold=-WC * dp, power=(WH - WC) * dp / (th + tc + 2 * ts),
                Gh=Gh, Gc=Gc, ph=ph, pc=pc)


@pytest.mark.parametrize("th, tc", [(0.01, 0.02), (1.3, 0.7), (5.0, 40.0), (300.0, 300.0)])
def test_two_level_limit_cycle_closed_form(th, tc):
    c = otto.otto_cycle(WH * SZ / 2, WC * SZ / 2, SX, BH, BC, th, tc, LAM)
    ref = _closed_form(th, tc)
    for key in ("work", "heat_hot", "heat_cold", "power"):
        assert_allclose(getattr(c, key), ref[key], rtol=1e-9, err_msg=key)
    assert_allclose(c.efficiency, 1 - WC / WH, rtol=1e-9)
    assert c.mode == "engine" and c.entropy_production > 0
    # the limit-cycle states are diagonal with the closed-form excited populations
    assert_allclose(c.state_cold_start[0, 0] - c.state_hot_start[0, 0], ref["heat_hot"] / WH, rtol=1e-9)
    closed = otto.two_level_otto(WH, WC, BH, BC, th, tc, LAM)
    assert_allclose(closed["work"], ref["work"], rtol=1e-12)


def test_power_limits_and_optimum():
    # tau -> infinity: P ~ W_quasistatic / (2 tau) -> 0
    ref = _closed_form(1.0, 1.0)
    wq = (WH - WC) * (ref["ph"] - ref["pc"])
    c = otto.otto_cycle(WH * SZ / 2, WC * SZ / 2, SX, BH, BC, 1e4, 1e4, LAM)
    assert_allclose(c.power, wq / 2e4, rtol=1e-8)
    # instantaneous adiabats: P stays finite as tau -> 0 (tau_h = tau_c = tau):
    # P -> (p_h - p_c)(w_h - w_c) G_h G_c / (2 (G_h + G_c))
    p0 = (ref["ph"] - ref["pc"]) * (WH - WC) * ref["Gh"] * ref["Gc"] / (2 * (ref["Gh"] + ref["Gc"]))
    c = otto.otto_cycle(WH * SZ / 2, WC * SZ / 2, SX, BH, BC, 1e-5, 1e-5, LAM)
    assert_allclose(c.power, p0, rtol=1e-4)
    # with a switch time the power vanishes at tau -> 0 too, and has an interior maximum
    c = otto.otto_cycle(WH * SZ / 2, WC * SZ / 2, SX, BH, BC, 1e-6, 1e-6, LAM, tau_switch=1.0)
    assert c.power < 1e-5 * p0
    taus = np.geomspace(0.05, 200.0, 25)
    m = otto.otto_power_map(WH * SZ / 2, WC * SZ / 2, SX, BH, BC, taus, taus, LAM, tau_switch=1.0)
    i, j = np.unravel_index(np.argmax(m.power), m.power.shape)
    assert 0 < i < taus.size - 1 and 0 < j < taus.size - 1
    assert m.best.power == m.power[i, j]
    assert_allclose(m.efficiency, 1 - WC / WH, rtol=1e-9)
    ref = np.array([[_closed_form(a, b, 1.0)["power"] for b in taus] for a in taus])
    assert_allclose(m.power, ref, rtol=1e-8)


def _chain_medium(theta):
    L = 3
    ch = dm.xxz(L=L, delta=0.5, hz=0.7)
    K = np.asarray(ch.hamiltonian(sparse=False))
    Sy = sum(ch.op("y", j).toarray() for j in range(L))
    U = sla.expm(-1j * theta * Sy)
    A = [ch.pauli("x", 0).toarray(), ch.pauli("x", L - 1).toarray() + ch.pauli("z", 1).toarray()]
    return WH * K, WC * U @ K @ U.conj().T, A


def test_fixed_point_matches_iterated_davies_evolution():
    hh, hc, A = _chain_medium(0.3)
    th, tc = 2.0, 1.5
    c = otto.otto_cycle(hh, hc, A, BH, BC, th, tc, LAM)
    gh = dm.DaviesGenerator(dm.diagonalize(hh), A, BH, strength=LAM)
    gc = dm.DaviesGenerator(dm.diagonalize(hc), A, BC, strength=LAM)
    rho = np.eye(8) / 8
    for _ in range(400):  # iterate the cycle with the generators' own evolve (an independent code path)
        rho = gc.evolve(gh.evolve(rho, [th])[0], [tc])[0]
    assert_allclose(c.state_hot_start, rho, atol=1e-10)
    rb = gh.evolve(rho, [th])[0]
    assert_allclose(c.heat_hot, np.trace(hh @ (rb - rho)).real, rtol=1e-8)
    assert_allclose(c.work, -np.trace((hc - hh) @ rb).real - np.trace((hh - hc) @ rho).real, rtol=1e-8)


def test_quantum_friction_chain_medium():
    # isospectral media: h_cold = (w_c/w_h) U h_hot U^dag. Without rotation the Otto efficiency is exact;
    # a rotation makes [h_hot, h_cold] != 0 and the sudden switches cost work, quadratically in theta
    eff = {}
    for theta in (0.0, 0.05, 0.1, 0.3):
        hh, hc, A = _chain_medium(theta)
        c = otto.otto_cycle(hh, hc, A, BH, BC, 3.0, 3.0, LAM)
        assert c.entropy_production > 0
        eff[theta] = c.efficiency
    assert_allclose(eff[0.0], 1 - WC / WH, rtol=1e-10)
    deficit = {t: 1 - WC / WH - e for t, e in eff.items() if t > 0}
    assert all(dv > 0 for dv in deficit.values())
    assert 3.5 < deficit[0.1] / deficit[0.05] < 4.5
    assert deficit[0.3] > deficit[0.1]


def test_bad_input():
    h = WH * SZ / 2
    with pytest.raises(ValueError, match="tau_hot"):
        otto.otto_cycle(h, h, SX, BH, BC, -1.0, 1.0)
    with pytest.raises(ValueError, match="tau_cold"):
        otto.otto_cycle(h, h, SX, BH, BC, 1.0, 0.0)
    with pytest.raises(ValueError, match="h_hot is not Hermitian"):
        otto.otto_cycle(np.array([[0, 1], [0, 0]]), h, SX, BH, BC, 1.0, 1.0)
    with pytest.raises(ValueError, match="h_cold has shape"):
        otto.otto_cycle(h, np.eye(3), SX, BH, BC, 1.0, 1.0)
    with pytest.raises(TypeError, match="bath_cold"):
        otto.otto_cycle(h, h, SX, BH, 2.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="not ergodic"):
        otto.otto_cycle(h, h, SZ, BH, BC, 1.0, 1.0)
    ch = dm.xxz(L=3, delta=0.5)
    H = np.asarray(ch.hamiltonian(sparse=False))
    with pytest.raises(ValueError, match="not ergodic.*conserved"):
        otto.otto_cycle(H, 0.5 * H, [ch.pauli("z", 0).toarray()], BH, BC, 1.0, 1.0)


def test_reversed_baths_warn_and_say_what_it_runs_as():
    with pytest.warns(UserWarning, match="runs as a (refrigerator|heater|accelerator)"):
        c = otto.otto_cycle(WH * SZ / 2, WC * SZ / 2, SX, BC, BH, 1.0, 1.0, LAM)
    assert c.work < 0


def test_cli_otto_json(capsys):
    import json

    from davies_mb.cli import main

    assert main(["otto", "--json", "--tau-hot", "1.3", "--tau-cold", "0.7", "--strength", "0.3"]) == 0
    out = json.loads(capsys.readouterr().out)
    ref = _closed_form(1.3, 0.7)
    assert_allclose(out["work"], ref["work"], rtol=1e-9)
    assert_allclose(out["efficiency"], 0.5, rtol=1e-9)
    assert out["mode"] == "engine"
    assert main(["otto", "--tau-cold", "-2"]) == 2
    assert "tau_cold" in capsys.readouterr().err


def test_otto_medium_chain_is_isospectral():
    hh, hc, A = otto.otto_medium("chain", 2.0, 1.0, L=3, theta=0.4)
    assert_allclose(np.linalg.eigvalsh(hc), 0.5 * np.linalg.eigvalsh(hh), atol=1e-12)
    assert np.linalg.norm(hh @ hc - hc @ hh) > 0.1
    with pytest.raises(ValueError, match="kind"):
        otto.otto_medium("ladder")
