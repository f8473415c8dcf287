"""teq_scan and two_step_relaxation (davies_mb.ergodicity), checked by independent means.

- The lambda^-2 law is a property of the Davies generator (every rate is lambda^2 times a constant); each
  method's exponent is fitted from times measured at each lambda.
- The trace-distance time of the scan is found at lambda = 1 and scaled (covariance); the test checks the
  covariance identity by direct evolution at several strengths, and that the distance at the reported time
  is epsilon.
- The diagonal-ensemble plateau is compared with projectors built independently (tests/brute_force.py), the
  final state with the Gibbs state built with numpy.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

import brute_force as bf
import davies_mb as dm
import reference_systems as rs
from davies_mb.ergodicity import fit_exponential_tail, fit_power_law

BATH = dm.OhmicBath(beta=1.0, eta=1.0, cutoff=5.0)


@pytest.fixture(scope="module")
def chain6():
    return dm.xxz(6, 0.5)


@pytest.fixture(scope="module")
def scan6(chain6):
    lams = np.logspace(-3, -1, 6)
    return dm.teq_scan(chain6, chain6.parse_operator("x0+z1"), BATH, lams, initial="neel", progress=False)


def test_scan_exponent_is_minus_two_for_every_method(scan6):
    """The gap and distance exponents are -2 BY CONSTRUCTION (teq_scan computes both at lambda = 1 and scales
    them by lambda^-2, exact for Davies): asserting them checks bookkeeping only, to rounding. The claim itself
    rests on the independent checks: the brute-force gap (test_scan_times_against_the_brute_force_superoperator)
    and direct evolution at each strength (test_distance_time_is_where_the_distance_reaches_epsilon,
    test_trajectories_match_direct_expectation_values).
    The energy's tail fit is a measurement on each lambda's own trajectory."""
    assert scan6.thermalizes and scan6.stationary_states == 1
    for key in ("gap", "distance"):  # by construction
        fit = scan6.fits[key]
        assert fit.n == 6
        assert abs(fit.exponent + 2) < 1e-9, (key, fit)
    fit = scan6.fits["fit:energy"]  # measured
    assert fit.n == 6
    assert abs(fit.exponent + 2) < 0.01, fit
    assert abs(scan6.exponent + 2) < 0.01
    assert "-2 by construction" in scan6.table()
    # the tail is refitted on an even grid between the exact window ends, so lambda^2 t_fit does not depend
    # on how each lambda's log grid samples the tail (on the log grid alone it varied by 10% at L=12)
    scaled = scan6.t_fit["energy"] * scan6.strengths**2
    assert_allclose(scaled, scaled[0], rtol=1e-8)


def _brute_force_modes(chain, lam):
    """Eigen-decomposition of the textbook superoperator (tests/brute_force.py) and the Neel state."""
    H = chain.hamiltonian(sparse=False)
    A = chain.parse_operator("x0+z1").toarray()
    Lb = bf.davies_superoperator(H, [A], [BATH.gamma], lam=lam)
    mu, R = np.linalg.eig(Lb)
    rho0 = np.outer(*(2 * [dm.product_state(chain.L, "neel")]))
    c = np.linalg.solve(R, bf.vec(rho0))
    return H, Lb, mu, R, c


def test_scan_times_against_the_brute_force_superoperator():
    """1/gap, and the energy's tail time = 1/(slowest rate among the modes the energy actually overlaps)."""
    chain = dm.xxz(4, 0.5)
    lams = np.array([0.01, 0.1])
    res = dm.teq_scan(chain, chain.parse_operator("x0+z1"), BATH, lams, progress=False)
    H, Lb, mu, R, c = _brute_force_modes(chain, lams[-1])
    assert_allclose(res.t_gap[-1], 1.0 / bf.gap(Lb), rtol=1e-8)
    # amplitude of each mode in <H>(t) = sum_m tr(H R_m) c_m exp(mu_m t)
    amp = np.array([np.trace(H @ bf.unvec(R[:, m], 16)) * c[m] for m in range(mu.size)])
    rate = -mu.real
    gap_modes = np.abs(rate - bf.gap(Lb)) < 1e-8
    # a selection rule: the energy from the Neel state misses the slowest mode, so its tail is faster
    assert np.max(np.abs(amp[gap_modes])) < 1e-12 * np.max(np.abs(amp))
    # the scan's trajectory and tail fit equal those of the brute-force modes on the same grid
    t = res.times[-1]
    traj = np.real(np.exp(np.outer(t, mu)) @ amp)
    assert_allclose(res.trajectories["energy"][-1], traj, atol=1e-10)
    final = np.trace(H @ rs.gibbs_state(H, 1.0)).real
    tau, _ = fit_exponential_tail(t, traj - final,
                                  resample=lambda tt: np.real(np.exp(np.outer(tt, mu)) @ amp) - final)
    # the two trajectories differ by ~1e-11 (eig of the brute force), which moves the fit of the tail down
    # to 1e-9 of the initial deviation by ~1e-5
    assert_allclose(res.t_fit["energy"][-1], tau, rtol=1e-4)
    assert np.all(res.t_fit["energy"] < res.t_gap)


def test_distance_time_is_where_the_distance_reaches_epsilon(chain6, scan6):
    """Direct evolution at two strengths: d(t_dist) = epsilon, and d is a function of lambda^2 t."""
    spec = dm.diagonalize(chain6)
    rho0 = np.outer(*(2 * [dm.product_state(6, "neel")]))
    g = spec.gibbs(1.0)
    for i in (0, 4):
        gen = dm.DaviesGenerator(spec, chain6.parse_operator("x0+z1"), BATH, strength=scan6.strengths[i])
        d = dm.distance_trajectory(gen, rho0, g, [scan6.t_distance[i]])[0]
        assert_allclose(d, scan6.epsilon, rtol=1e-4)
    # covariance: the distance depends on lambda^2 t only (unitary part leaves it unchanged)
    gen_a = dm.DaviesGenerator(spec, chain6.parse_operator("x0+z1"), BATH, strength=0.3)
    gen_b = gen_a.with_strength(0.05)
    t = np.array([0.7, 4.0, 31.0])
    assert_allclose(dm.distance_trajectory(gen_a, rho0, g, t),
                    dm.distance_trajectory(gen_b, rho0, g, t * (0.3 / 0.05) ** 2), atol=1e-12)
    # the distance time exceeds 1/gap by about ln(c/epsilon): between 1 and 3 ln(1/epsilon) gap times
    ratio = scan6.t_distance / scan6.t_gap
    assert np.all(ratio > 1) and np.all(ratio < 3 * np.log(1 / scan6.epsilon))


def test_no_tail_is_slower_than_the_gap(scan6):
    assert np.all(scan6.t_fit["energy"] <= scan6.t_gap * (1 + 1e-6))
    assert np.all(scan6.t_fit_err["energy"] < 0.01 * scan6.t_fit["energy"])


def test_exponential_tail_fit_recovers_the_slow_rate():
    t = np.linspace(0, 60, 400)
    dev = 0.3 * np.exp(-t / 7.0) - 2.0 * np.exp(-t / 0.8)  # sign change, then a slow tail
    tau, err = fit_exponential_tail(t, dev)
    assert_allclose(tau, 7.0, rtol=1e-3)
    assert np.isnan(fit_exponential_tail(t, np.zeros_like(t))[0])  # nothing relaxes: no time


def test_trajectories_match_direct_expectation_values(chain6, scan6):
    spec = dm.diagonalize(chain6)
    gen = dm.DaviesGenerator(spec, chain6.parse_operator("x0+z1"), BATH, strength=scan6.strengths[2])
    rho0 = np.outer(*(2 * [dm.product_state(6, "neel")]))
    H = chain6.hamiltonian(sparse=False)
    t = scan6.times[2][::40]
    assert_allclose(scan6.trajectories["energy"][2][::40], gen.expect([H], rho0, t)[0], atol=1e-11)
    # the final energy is the Gibbs energy
    g = rs.gibbs_state(H, 1.0)
    assert_allclose(scan6.final_values["energy"], np.trace(H @ g).real, atol=1e-10)


def test_final_state_is_gibbs_to_1e8(chain6):
    spec = dm.diagonalize(chain6)
    gen = dm.DaviesGenerator(spec, chain6.parse_operator("x0+z1"), BATH, strength=0.1)
    rho0 = np.outer(*(2 * [dm.product_state(6, "neel")]))
    rho_T = gen.evolve(rho0, [60.0 / gen.gap()])[0]
    g = rs.gibbs_state(chain6.hamiltonian(sparse=False), 1.0)
    assert rs.trace_distance(rho_T, g) < 1e-8


def test_scan_says_when_a_charge_survives(chain6):
    """sigma^z_0 conserves total S^z: L + 1 stationary states, the Neel state stays in S^z = 0."""
    lams = [0.01, 0.1]
    with pytest.warns(UserWarning, match="stationary states"):
        res = dm.teq_scan(chain6, chain6.pauli("z", 0), BATH, lams, progress=False)
    assert not res.thermalizes
    assert res.stationary_states == 7
    assert "does not thermalize" in res.message
    # the distance to Gibbs is that of the restricted equilibrium, computed by conserved.py
    gen = dm.DaviesGenerator(dm.diagonalize(chain6), chain6.pauli("z", 0), BATH, strength=0.1)
    rho0 = np.outer(*(2 * [dm.product_state(6, "neel")]))
    req = dm.restricted_equilibrium(gen, rho0)
    assert_allclose(res.final_distance_to_gibbs, req.trace_distance_to_gibbs, rtol=1e-8)
    assert req.trace_distance_to_gibbs > 0.1
    assert "Sz" not in res.t_fit  # total S^z is conserved by the bath: no time scale to fit


def test_scan_accepts_a_spectrum_and_custom_observables(chain6):
    spec = dm.diagonalize(chain6)
    rho0 = np.outer(*(2 * [dm.product_state(6, "domain")]))
    Sz0 = chain6.op("z", 0)
    res = dm.teq_scan(spec, chain6.parse_operator("x0+z1"), BATH, [0.02, 0.2], initial=rho0,
                      observables={"Sz0": Sz0}, progress=False)
    assert list(res.t_fit) == ["Sz0"]
    assert res.trajectories["Sz0"].shape == (2, 200)
    assert abs(res.fits["gap"].exponent + 2) < 1e-6
    d = res.to_dict()
    assert d["method"] == "davies" and "fits" in d


def test_two_step_relaxation(chain6):
    """Dephasing to the diagonal ensemble on t ~ 1/J (lambda independent), then the bath (lambda^-2)."""
    O = (chain6.op("z", 2) @ chain6.op("z", 3)).toarray()
    lams = np.array([0.003, 0.01, 0.03, 0.1])
    res = dm.two_step_relaxation(chain6, chain6.parse_operator("x0+z1"), BATH, lams, O, progress=False)
    H = chain6.hamiltonian(sparse=False)
    psi = dm.product_state(6, "neel")
    # plateaus computed independently: projectors from numpy eigh, Gibbs from numpy
    eps, P = bf.eigenprojectors(H, 1e-9)
    rho0 = np.outer(psi, psi)
    de = sum(p @ rho0 @ p for p in P)
    assert_allclose(res.de_value, np.trace(O @ de).real, atol=1e-12)
    assert_allclose(res.gibbs_value, np.trace(O @ rs.gibbs_state(H, 1.0)).real, atol=1e-12)
    assert abs(res.de_value - res.gibbs_value) > 0.03  # integrable: the plateau is not thermal
    # dephasing time independent of lambda (10%), and equal to the isolated chain's
    assert np.ptp(res.t_dephasing) < 0.1 * np.min(res.t_dephasing)
    assert abs(res.t_dephasing[0] - res.t_dephasing_isolated) < 0.02 * res.t_dephasing_isolated
    assert 0.1 < res.t_dephasing_isolated < 5.0  # 1/J
    # bath time ~ lambda^-2
    fit = fit_power_law(lams, res.t_bath)
    assert abs(fit.exponent + 2) < 0.05
    # the plateau: for the weakest bath, between 10 t_deph and t_bath/100 the Davies curve stays near O_DE
    # (finite-size temporal fluctuations) and the late values reach Gibbs
    t = res.times
    win = (t > 10 * res.t_dephasing[0]) & (t < res.t_bath[0] / 100)
    assert win.sum() > 20
    assert abs(np.mean(res.davies[0][win]) - res.de_value) < 0.2 * abs(res.de_value - res.gibbs_value)
    assert abs(res.davies[0][-1] - res.gibbs_value) < 1e-6
    assert res.final_distance_to_gibbs < 1e-10


def test_redfield_scan_departs_from_lambda_minus_two():
    """Redfield (non-secular) agrees with Davies at weak coupling and departs at strong coupling."""
    chain = dm.xxz(3, 0.5, hz=0.3)
    A = chain.parse_operator("x0+z1")
    lams = np.logspace(-2.5, 0.5, 7)
    dav = dm.teq_scan(chain, A, BATH, lams, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        red = dm.teq_scan(chain, A, BATH, lams, method="redfield", progress=False)
    assert_allclose(red.t_gap[:2], dav.t_gap[:2], rtol=1e-2)
    lam_x = dm.secular_crossover(dav, red, rel=0.1)
    assert np.isfinite(lam_x) and lam_x > lams[1]


def test_bad_input(chain6):
    A = chain6.parse_operator("x0+z1")
    with pytest.raises(ValueError, match="strengths"):
        dm.teq_scan(chain6, A, BATH, [0.1, -0.1])
    with pytest.raises(ValueError, match="epsilon"):
        dm.teq_scan(chain6, A, BATH, [0.1], epsilon=2.0)
    with pytest.raises(ValueError, match="method"):
        dm.teq_scan(chain6, A, BATH, [0.1], method="lindblad")
    with pytest.raises(ValueError, match="SpinChain"):
        dm.teq_scan(dm.diagonalize(chain6), A, BATH, [0.1], initial="neel")
    with pytest.raises(TypeError, match="SpinChain"):
        dm.teq_scan(np.eye(4), A, BATH, [0.1])
    with pytest.raises(ValueError, match="normalized"):
        dm.teq_scan(chain6, A, BATH, [0.1], initial=np.ones(64))


def test_cli_teq_json(capsys, tmp_path):
    import json

    from davies_mb.cli import main as cli_main

    rc = cli_main(["teq", "--L", "4", "--delta", "0.5", "--coupling", "x0+z1", "--lambdas", "0.01:0.1:3",
                   "--out", str(tmp_path / "teq"), "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["thermalizes"] and out["stationary_states"] == 1
    assert abs(out["exponents"]["gap"] + 2) < 1e-9
    assert len(out["t_gap"]) == 3 and out["two_step"]["observable"] == "mean_j x_j x_j+1"
    saved = json.loads((tmp_path / "teq" / "teq.json").read_text())
    assert saved["params"]["couplings"] == ["x0+z1"] and "provenance" in saved
    assert (tmp_path / "teq" / "teq_scaling.png").stat().st_size > 0
    # a coupling that conserves S^z: the scan says the chain does not thermalize
    with pytest.warns(UserWarning, match="stationary states"):
        rc = cli_main(["teq", "--L", "4", "--delta", "0.5", "--coupling", "z0", "--lambdas", "0.01,0.1",
                       "--no-save", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert not out["thermalizes"] and out["stationary_states"] == 5 and out["two_step"] is None


def test_periodic_integrable_chain_scans_the_local_charge_q4():
    """Periodic XXZ: the default observables include Q4 (real; Q3 is imaginary and vanishes in real states).
    Its trajectory starts at <Neel|Q4|Neel> and ends at the Gibbs value, both computed here with numpy."""
    from davies_mb.integrable import xxz_charge

    chain = dm.xxz(6, 0.5, bc="periodic")
    res = dm.teq_scan(chain, chain.parse_operator("x0+z1"), BATH, [0.01, 0.1], progress=False)
    assert "Q4" in res.t_fit and abs(res.fits["fit:Q4"].exponent + 2) < 1e-6
    Q4 = xxz_charge(6, 4, 0.5).toarray()
    psi = dm.product_state(6, "neel")
    g = rs.gibbs_state(chain.hamiltonian(sparse=False), 1.0)
    assert_allclose(res.trajectories["Q4"][:, 0], psi @ Q4 @ psi, atol=1e-12)
    assert_allclose(res.final_values["Q4"], np.trace(Q4 @ g).real, atol=1e-10)
    assert_allclose(res.trajectories["Q4"][:, -1], res.final_values["Q4"], atol=1e-8)
    assert np.all(res.t_fit["Q4"] <= res.t_gap * (1 + 1e-6))


def test_more_bad_input(chain6):
    A = chain6.parse_operator("x0+z1")
    with pytest.raises(ValueError, match="n_times"):
        dm.teq_scan(chain6, A, BATH, [0.1], n_times=2.5)
    with pytest.raises(TypeError, match="strengths"):  # a string is the wrong kind ("0.1" parsed as 0.1 before)
        dm.teq_scan(chain6, A, BATH, "abc")
    with pytest.raises(ValueError, match="not Hermitian"):  # trajectories are reported as real numbers
        dm.teq_scan(chain6, A, BATH, [0.1], observables={"x": np.triu(np.ones((64, 64)))})
    with pytest.raises(ValueError, match="strengths"):
        dm.two_step_relaxation(chain6, A, BATH, [float("nan")], chain6.pauli("z", 0))
    with pytest.raises(ValueError, match="same length"):
        fit_power_law([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.warns(UserWarning, match="stationary states"):  # sigma^z_0 conserves S^z
        dm.two_step_relaxation(chain6, chain6.pauli("z", 0), BATH, [0.1], chain6.pauli("x", 1), n_times=50)
    me = dm.DaviesGenerator(dm.diagonalize(chain6), A, BATH).mode_expansion([A], np.eye(64) / 64)
    with pytest.raises(ValueError, match="strength"):
        me.evaluate([1.0], -0.1)
