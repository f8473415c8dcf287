"""The ULE beyond the gap: matrix-free trajectories, the energy-tail validity map (dm.ule_crossover with an
initial state) and zero temperature.

References are independent of the code under test: the dense ULE superoperator is built from its definition
in tests/test_ule.py (``_dense_ule``) and propagated with scipy's dense ``expm``; the tail is fitted with the
same fit (``davies_mb.ergodicity.fit_exponential_tail``) that ``dm.teq_scan`` uses; at zero temperature the ground state
is a dark state of every jump operator (analytic).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
from numpy.testing import assert_allclose

import davies_mb as dm
from davies_mb.ergodicity import fit_exponential_tail
from test_ule import BATH, _dense_ule, _random_system

ZERO_T = dm.OhmicBath(beta=np.inf, eta=1.0, cutoff=5.0)


def _chain(L):
    chain = dm.xxz(L=L, delta=0.5, j2=0.3, hz=0.1)
    return chain, dm.diagonalize(chain), chain.pauli("x", 0) + chain.pauli("z", 1)


def _dense_expect(M, O, rho0, times):
    """tr(O rho(t)) with rho(t) = expm(M t) vec(rho0) (column stacking), one expm per time."""
    r0 = rho0.reshape(-1, order="F")
    return np.array([np.real(np.sum(O.T * (sla.expm(M * t) @ r0).reshape(O.shape, order="F"))) for t in times])


def test_matrix_free_evolution_matches_dense_expm(rng):
    """d = 20 > dense_max: expm_multiply on the operator (it needs the adjoint for its norm estimates)."""
    d = 20
    H, ops = _random_system(rng, d, 1)
    spec = dm.diagonalize(H)
    gen = dm.ULEGenerator(spec, ops, BATH, strength=0.3)
    M = _dense_ule(H, ops, BATH, 0.3, False)
    psi = rng.normal(size=d) + 1j * rng.normal(size=d)
    psi /= np.linalg.norm(psi)
    rho0 = np.outer(psi, psi.conj())
    O = ops[0]
    for times in (np.linspace(0.0, 6.0, 7), np.array([0.3, 2.0, 0.7])):  # one grid call; sorted steps
        assert_allclose(gen.expect([O], rho0, times)[0], _dense_expect(M, O, rho0, times), atol=1e-10)
    rho_t = gen.evolve(rho0, [1.5])[0]
    want = (sla.expm(1.5 * M) @ rho0.reshape(-1, order="F")).reshape(d, d, order="F")
    assert_allclose(rho_t, want, atol=1e-10)


@pytest.mark.parametrize("cplx", [False, True])
def test_adjoint_is_the_transpose_in_hermitian_coordinates(rng, cplx):
    """rmatvec (the Heisenberg picture L^dagger) is the transpose of matvec in the real coordinates."""
    d = 6
    H, ops = _random_system(rng, d, 1)
    if not cplx:
        H, ops = H.real, [o.real for o in ops]
    gen = dm.ULEGenerator(dm.diagonalize(H), ops, BATH, strength=0.4)
    op = gen._op_real()
    Id = np.eye(d * d)
    M = op.matmat(Id)
    MT = np.column_stack([op.rmatvec(e) for e in Id])
    assert_allclose(MT, M.T, atol=1e-13 * np.max(np.abs(M)))


def test_tail_time_against_dense_propagation():
    """The ULE energy-tail time of ule_crossover equals the fit of a trajectory propagated with dense expm."""
    chain, spec, A = _chain(4)
    psi = dm.product_state(4, "neel")
    lam = 0.1
    res = dm.ule_crossover(spec, A, BATH, [lam], initial=psi, n_times=200)
    H = chain.hamiltonian(sparse=True).toarray()
    M = _dense_ule(H, [np.asarray(A.toarray() if hasattr(A, "toarray") else A)], BATH, lam, False)
    t_end = 30.0 * res.t_davies[0]
    times = np.linspace(0.0, t_end, 200)
    rho0 = np.outer(psi, psi)
    h = times[1] - times[0]
    P = sla.expm(M * h)
    states = [rho0.reshape(-1, order="F").astype(complex)]
    for _ in times[1:]:
        states.append(P @ states[-1])

    def value(r):
        return np.real(np.sum(H.T * r.reshape(16, 16, order="F")))

    vals = np.array([value(r) for r in states])
    # the final value: the trajectory's own, tens of relaxation times later
    final = value(sla.expm(M * (30.0 * max(res.t_davies[0], res.t_other[0]) - t_end)) @ states[-1])

    def resample(t):  # from the grid state before t: short dense expm steps (long ones lose digits)
        t = np.atleast_1d(t)
        k = int(t[0] // h)
        r = sla.expm(M * (t[0] - times[k])) @ states[k]
        out = [value(r)]
        if t.size > 1:
            Pt = sla.expm(M * (t[1] - t[0]))
            for _ in t[1:]:
                r = Pt @ r
                out.append(value(r))
        return np.array(out) - final

    tau, _ = fit_exponential_tail(times, vals - final, window=(1e-3, 1e-6), resample=resample)
    # the two propagations differ by ~3e-14 (round-off of 200 steps on an energy of 0.4); the window ends at
    # 1e-6 of the maximum deviation (0.13), so that is 2e-7 relative there, amplified ~10x by the fit
    assert_allclose(res.t_tail_other[0], tau, rtol=2e-5)
    # Davies: the tail time scales exactly as lambda^-2 (the same grid in lambda^2 t)
    res2 = dm.ule_crossover(spec, A, BATH, [lam, 2 * lam], initial=psi, n_times=200)
    assert_allclose(res2.t_tail_davies[1] * 4, res2.t_tail_davies[0], rtol=1e-9)


@pytest.mark.parametrize("L, lams", [(4, np.geomspace(0.05, 0.3, 5)),
                                     pytest.param(5, np.array([0.025, 0.05, 0.1]), marks=pytest.mark.slow)])
def test_estimate_flags_the_strengths_where_the_energy_tail_differs(L, lams):
    """With the initial state the cheap estimate covers the energy-tail t_eq too (Neel start, as dm.teq_scan):
    every strength where the gap or the tail t_eq of the ULE differs from Davies by more than 10 % is flagged.
    At L = 5 the tail departs at a third of the gap's crossover, below the gap-only estimate."""
    chain, spec, A = _chain(L)
    psi = dm.product_state(L, "neel")
    res = dm.ule_crossover(spec, A, BATH, lams, initial=psi, n_times=200)
    bad = (res.deviation_tail > 0.1) | (res.deviation > 0.1)
    assert bad.any() and not bad.all()
    est = res.estimate
    assert not np.any(est.inside(lams) & bad)
    assert est.strength_max == min(est.gap_strength_max, est.tail_strength_max)
    assert np.isfinite(res.crossover_tail) and est.strength_max < res.crossover_tail
    assert res.crossover_both == min(res.crossover, res.crossover_tail)
    if L == 5:  # the gap-only estimate is not conservative for the tail here; the tail estimate is
        assert res.crossover_tail < dm.secular_regime(spec, A, BATH).strength_max
        assert est.tail_strength_max < res.crossover_tail


def test_tail_deviation_small_lambda_matches_the_estimate():
    """As lambda -> 0 the ULE energy tail tends to the Davies one like lambda^4 (the slow modes' rates move
    through the dropped coherences), and the cheap tail estimate follows the measured deviation."""
    chain, spec, A = _chain(4)
    lams = np.array([0.005, 0.01, 0.02])
    res = dm.ule_crossover(spec, A, BATH, lams, initial=dm.product_state(4, "neel"), n_times=200)
    dev = res.deviation_tail
    assert np.all(np.diff(dev) > 0) and dev[-1] < 3e-3
    assert 3.6 < np.polyfit(np.log(lams), np.log(dev), 1)[0] < 4.4
    # (at 0.005 the deviation, 5e-6, is near the resolution of the fit: the estimate is 14 % off there)
    assert_allclose(res.estimate.deviation_tail(lams[1:]), dev[1:], rtol=0.1)


def test_zero_temperature_ground_state_is_dark():
    """beta = inf: every jump lowers the energy, so the ground state is a dark state of the ULE (no Lamb
    shift): stationary at every strength; the gap tends to the Davies one."""
    chain, spec, A = _chain(4)
    P0 = np.outer(spec.vectors[:, 0], spec.vectors[:, 0].conj())
    ule = dm.ULEGenerator(spec, A, ZERO_T, strength=1.0)
    dav = dm.DaviesGenerator(spec, A, ZERO_T, strength=1.0)
    for lam in (0.3, 0.03):
        assert dm.trace_distance(ule.with_strength(lam).stationary_state(), P0) < 1e-10
    devs = [abs(ule.with_strength(lam).gap() / dav.with_strength(lam).gap() - 1) for lam in (0.03, 0.01)]
    assert devs[1] < devs[0] < 1e-3
    assert 40 < devs[0] / devs[1] < 160  # lambda^4: 81


def test_zero_temperature_lamb_shift_dresses_the_ground_state():
    """With the Lamb shift the ground state is no longer an eigenstate of H + lambda^2 Lambda: the
    stationary state tends to the ground-level projector as lambda^2."""
    chain, spec, A = _chain(3)
    P0 = np.outer(spec.vectors[:, 0], spec.vectors[:, 0].conj())
    ule = dm.ULEGenerator(spec, A, ZERO_T, strength=1.0, lamb_shift=True)
    lams = np.array([0.02, 0.01, 0.005])
    dist = np.array([dm.trace_distance(ule.with_strength(l).stationary_state(), P0) for l in lams])
    assert dist[-1] < 1e-3
    assert abs(np.polyfit(np.log(lams), np.log(dist), 1)[0] - 2.0) < 0.05


def test_zero_temperature_against_dense_construction(rng):
    """beta = inf (gamma(omega < 0) = 0): superoperator (d = 8) and the matrix-free gap and stationary state
    (d = 20) against the dense construction of tests/test_ule.py."""
    H, ops = _random_system(rng, 8)
    gen = dm.ULEGenerator(dm.diagonalize(H), ops, ZERO_T, strength=0.3)
    ref = _dense_ule(H, ops, ZERO_T, 0.3, False)
    assert_allclose(gen.superoperator(), ref, atol=1e-10 * np.max(np.abs(ref)), rtol=0)
    H, ops = _random_system(rng, 20, 1)
    spec = dm.diagonalize(H)
    gen = dm.ULEGenerator(spec, ops, ZERO_T, strength=0.2)
    ref = _dense_ule(H, ops, ZERO_T, 0.2, False)
    mu, vr = np.linalg.eig(ref)
    rates = np.sort(-mu.real[np.abs(mu) > 1e-9])
    # the Davidson residual is 1e-8 of the rate scale (lambda^2 max K_aa), 30x the gap here
    assert_allclose(gen.gap(), rates[0], rtol=0, atol=1e-8 * 0.04 * np.max(np.abs(gen._core.K)))
    ss = vr[:, np.argmin(np.abs(mu))].reshape(20, 20, order="F")
    ss = ss / np.trace(ss)
    assert_allclose(gen.stationary_state(), ss, atol=1e-9)
    P0 = np.outer(spec.vectors[:, 0], spec.vectors[:, 0].conj())
    assert_allclose(ss, P0, atol=1e-9)  # the dark ground state


def test_bad_input_tail():
    chain, spec, A = _chain(3)
    psi = dm.product_state(3, "neel")
    with pytest.raises(ValueError, match="tail_window"):
        dm.ule_crossover(spec, A, BATH, [0.1], initial=psi, tail_window=(1e-6, 1e-3))
    with pytest.raises(TypeError, match="tail_window"):
        dm.secular_regime(spec, A, BATH, initial=psi, tail_window=1e-3)
    with pytest.raises(ValueError, match="n_times"):
        dm.ule_crossover(spec, A, BATH, [0.1], initial=psi, n_times=12)
    with pytest.raises(ValueError, match="n_modes"):
        dm.secular_regime(spec, A, BATH, initial=psi, n_modes=0)
    with pytest.raises(ValueError, match="initial"):
        dm.secular_regime(spec, A, BATH, initial=np.ones(8))  # not normalized


def test_zero_temperature_estimate_warns_that_the_gap_is_a_coherence():
    """beta = inf: the ground-excited coherence decays at K_11 / 2, half the slowest population rate, so the
    Davies gap is a coherence mode (a complex pair at the Bohr frequency E_1 - E_0), which the population-mode
    estimate does not cover: it warns. (Measured: the ULE gap departs by 21 % at lambda = 0.1 where the
    population estimate allows 0.22.)"""
    chain, spec, A = _chain(4)
    dav = dm.DaviesGenerator(spec, A, ZERO_T, strength=1.0)
    E, V = spec.energies, spec.vectors
    Ae = V.conj().T @ (A.toarray() if hasattr(A, "toarray") else np.asarray(A)) @ V
    escape_1 = sum(ZERO_T.gamma(E[1] - E[m]) * abs(Ae[m, 1]) ** 2 for m in range(E.size) if m != 1)
    assert_allclose(dav.gap(), 0.5 * escape_1, rtol=1e-9)  # the gap is the 0-1 coherence (the ground is stable)
    with pytest.warns(UserWarning, match="coherence decays slower"):
        est = dm.secular_regime(spec, A, ZERO_T)
    ule = dm.ULEGenerator(spec, A, ZERO_T, strength=1.0)
    lam = 0.1
    assert abs(ule.with_strength(lam).gap() / dav.with_strength(lam).gap() - 1) > 0.1
    assert est.inside([lam])[0]  # hence the warning
