"""The universal Lindblad equation (dm.ULEGenerator) and the secular-validity estimate (dm.secular_regime).

References are independent: the dense ULE is built here from its definition (Nathan & Rudner 2020) with
scalar rates, Kronecker products and, for the Lamb shift, scipy's Cauchy-weight quadrature of the
principal-value integral; the Davies generator is the secular limit; the Redfield generator is the
non-positive comparison.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.integrate import quad

import davies_mb as dm
from davies_mb import _ule_lamb

BATH = dm.OhmicBath(beta=1.0, eta=1.0, cutoff=5.0)


def _random_system(rng, d, n_ops=2):
    H = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    H = 0.5 * (H + H.conj().T)
    ops = []
    for _ in range(n_ops):
        A = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
        ops.append(0.5 * (A + A.conj().T) / np.sqrt(d))
    return H, ops


def _F_quad(bath, a, b):
    """F(a, b) = -(1/2pi) P int g(a+nu) g(b+nu) / nu dnu with scipy's Cauchy weight (independent of the code)."""
    def g(x):
        return np.sqrt(max(float(bath.gamma(x)), 0.0))

    hi = 60.0 * bath.cutoff + abs(a) + abs(b)
    v, _ = quad(lambda nu: g(a + nu) * g(b + nu), -hi, hi, weight="cauchy", wvar=0.0, limit=4000,
                epsabs=1e-14, epsrel=1e-13)
    return -v / (2 * np.pi)


def _dense_ule(H, ops, bath, lam, lamb_shift):
    """The ULE superoperator (column stacking) from its definition, in the computational basis."""
    d = H.shape[0]
    E, V = np.linalg.eigh(H)
    Heff = np.diag(E).astype(complex)
    Ls = []
    for A in ops:
        Ae = V.conj().T @ A @ V
        L = np.zeros((d, d), dtype=complex)
        for m in range(d):
            for n in range(d):
                L[m, n] = np.sqrt(bath.gamma(E[n] - E[m])) * Ae[m, n]
        Ls.append(lam * L)
        if lamb_shift:
            Lam = np.zeros((d, d), dtype=complex)
            F = {}
            for m in range(d):
                for n in range(d):
                    for k in range(d):
                        key = tuple(sorted((E[m] - E[k], E[n] - E[k])))  # F(a, b) = F(b, a)
                        if key not in F:
                            F[key] = _F_quad(bath, *key)
                        Lam[m, n] += Ae[m, k] * Ae[k, n] * F[key]
            Heff = Heff + lam**2 * Lam
    K = sum(L.conj().T @ L for L in Ls)
    Heff = Heff - 0.5j * K
    Id = np.eye(d)
    M = -1j * np.kron(Id, Heff) + 1j * np.kron(Heff.conj(), Id)
    for L in Ls:
        M += np.kron(L.conj(), L)
    R = np.kron(V.conj(), V)  # vec(V X V^dag) = (conj(V) (x) V) vec(X)
    return R @ M @ R.conj().T


@pytest.mark.parametrize("lamb_shift", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_ule_equals_dense_construction(rng, lamb_shift):
    d = 3 if lamb_shift else 8  # the reference Lamb shift costs d^3 principal-value quadratures
    H, ops = _random_system(rng, d)
    spec = dm.diagonalize(H)
    gen = dm.ULEGenerator(spec, ops, BATH, strength=0.3, lamb_shift=lamb_shift)
    ref = _dense_ule(H, ops, BATH, 0.3, lamb_shift)
    M = gen.superoperator()
    assert_allclose(M, ref, atol=1e-10 * np.max(np.abs(ref)), rtol=0)


def test_lamb_kernel_diagonal_is_the_lamb_shift_function():
    w = np.array([-4.0, -0.7, 0.0, 0.3, 2.5])
    assert_allclose(_ule_lamb.kernel(BATH, w, w), BATH.lamb_shift(w), rtol=1e-11, atol=1e-12)
    for a, b in [(1.0, -2.0), (0.3, 0.35), (-1.0, -4.0), (0.0, 2.5)]:
        assert_allclose(_ule_lamb.kernel(BATH, a, b), _F_quad(BATH, a, b), rtol=1e-11)


@pytest.mark.slow
def test_lamb_low_rank_table_matches_direct_sum(rng):
    d = 10
    H, ops = _random_system(rng, d, 1)
    E, V = np.linalg.eigh(H)
    X = V.conj().T @ ops[0] @ V
    ref = _ule_lamb.lamb_matrix_direct(BATH, E, X)
    kern = _ule_lamb.LowRankKernel(BATH, float(E[-1] - E[0]))
    got = kern.lamb_matrix(E, X)
    # the documented accuracy of the table: ~1e-6 relative
    assert kern.error < 1e-5
    assert np.max(np.abs(got - ref)) < 1e-5 * np.max(np.abs(ref))


def test_matrix_free_matches_dense_construction(rng):
    """d = 20 > dense_max: apply(), gap and stationary state from the Krylov paths against dense algebra."""
    d = 20
    H, ops = _random_system(rng, d, 1)
    spec = dm.diagonalize(H)
    gen = dm.ULEGenerator(spec, ops, BATH, strength=0.2)
    ref = _dense_ule(H, ops, BATH, 0.2, False)
    X = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    V = spec.vectors
    got = V @ gen.apply(V.conj().T @ X @ V) @ V.conj().T
    want = (ref @ X.reshape(-1, order="F")).reshape(d, d, order="F")
    assert_allclose(got, want, atol=1e-10 * np.max(np.abs(want)), rtol=0)
    mu = np.linalg.eigvals(ref)
    rates = np.sort(-mu.real[np.abs(mu) > 1e-9])
    assert_allclose(gen.gap(), rates[0], rtol=1e-8)
    w, vr = np.linalg.eig(ref)
    ss = vr[:, np.argmin(np.abs(w))].reshape(d, d, order="F")
    ss = ss / np.trace(ss)
    assert_allclose(gen.stationary_state(), ss, atol=1e-9)


def _chain_case(L):
    chain = dm.xxz(L=L, delta=0.5, j2=0.3, hz=0.1)
    return chain, dm.diagonalize(chain), chain.pauli("x", 0) + chain.pauli("z", 1)


def test_ule_tends_to_davies():
    chain, spec, A = _chain_case(4)
    ule = dm.ULEGenerator(spec, A, BATH, strength=1.0)
    dav = dm.DaviesGenerator(spec, A, BATH, strength=1.0)
    devs = []
    for lam in (0.1, 0.03, 0.01, 0.003):
        devs.append(abs(ule.with_strength(lam).gap() / dav.with_strength(lam).gap() - 1))
    assert all(b < a for a, b in zip(devs, devs[1:]))
    # the relative deviation is second order in lambda^2 (docs/theory.md): lambda / 3.33 -> /123
    assert devs[-1] < 1e-5
    assert 60 < devs[-2] / devs[-1] < 200


def test_ule_stays_positive_where_redfield_does_not():
    """Two-site XXZ, beta = 2, lambda = 0.3, from the ground state: Redfield leaves the positive cone."""
    chain = dm.xxz(L=2, delta=0.5, hz=0.3)
    spec = dm.diagonalize(chain)
    A = chain.pauli("x", 0) + chain.pauli("z", 1)
    bath = dm.OhmicBath(beta=2.0, eta=1.0, cutoff=5.0)
    rho0 = np.outer(spec.vectors[:, 0], spec.vectors[:, 0].conj())
    ts = np.linspace(0.0, 5.0, 26)
    red = dm.RedfieldGenerator(spec, A, bath, strength=0.3).evolve(rho0, ts)
    ule = dm.ULEGenerator(spec, A, bath, strength=0.3).evolve(rho0, ts)
    min_red = min(np.linalg.eigvalsh(0.5 * (r + r.conj().T)).min() for r in red)
    min_ule = min(np.linalg.eigvalsh(0.5 * (r + r.conj().T)).min() for r in ule)
    assert min_red < -1e-3
    assert min_ule > -1e-12
    assert_allclose([np.trace(r).real for r in ule], 1.0, atol=1e-12)


def test_stationary_state_differs_from_gibbs_at_order_lambda_squared():
    chain, spec, A = _chain_case(4)
    gibbs = spec.gibbs(1.0)
    gen = dm.ULEGenerator(spec, A, BATH, strength=1.0)
    # asymptotic once lambda^2 * rate << the smallest weighted Bohr spacing (~0.008 here)
    lams = np.array([0.002, 0.004, 0.008])
    dist = np.array([dm.trace_distance(gen.with_strength(l).stationary_state(), gibbs) for l in lams])
    slope = np.polyfit(np.log(lams), np.log(dist), 1)[0]
    assert abs(slope - 2.0) < 0.01  # the coherences: order lambda^2
    # the populations (eigenbasis diagonal) move only at order lambda^4
    pops = [np.real(np.diag(gen.with_strength(l).stationary_state(basis="eigen"))) for l in lams]
    dp = np.array([np.max(np.abs(p - spec.gibbs_weights(1.0))) for p in pops])
    assert abs(np.polyfit(np.log(lams), np.log(dp), 1)[0] - 4.0) < 0.01


@pytest.mark.parametrize("L", [4, 5])
def test_validity_estimate_flags_the_strengths_beyond_ten_percent(L):
    chain, spec, A = _chain_case(L)
    lams = np.geomspace(0.01, 0.3, 8)
    res = dm.ule_crossover(spec, A, BATH, lams)
    bad = res.deviation > 0.1
    assert bad.any() and not bad.all()
    est = res.estimate
    assert not np.any(est.inside(lams) & bad)  # every strength with > 10 % deviation is flagged
    assert est.strength_max > 0.3 * res.crossover  # and the estimate is not uselessly conservative
    # the second-order estimate follows the measured deviation where both are small
    small = res.deviation < 0.01
    assert_allclose(est.deviation(lams[small]), res.deviation[small], rtol=0.2)


def test_scan_reports_secular_column():
    chain, spec, A = _chain_case(4)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        scan = dm.teq_scan(chain, A, BATH, [0.01, 0.3], n_times=40)
    assert list(scan.in_secular_regime) == [True, False]
    assert any("secular regime" in str(x.message) for x in w)
    assert "secular" in scan.table()


def test_bad_input():
    chain, spec, A = _chain_case(3)
    with pytest.raises(TypeError, match="spectrum"):
        dm.ULEGenerator(np.eye(8), A, BATH)
    with pytest.raises(ValueError, match="strength"):
        dm.ULEGenerator(spec, A, BATH, strength=-1.0)
    with pytest.raises(TypeError, match="lamb_shift"):
        dm.ULEGenerator(spec, A, BATH, lamb_shift="yes")
    with pytest.raises(ValueError, match="safety"):
        dm.secular_regime(spec, A, BATH, safety=0.5)
    with pytest.raises(ValueError, match="couplings and bath"):
        dm.secular_regime(spec)


def test_teq_scan_with_the_ule():
    chain = dm.xxz(L=3, delta=0.5, j2=0.3, hz=0.1)
    A = chain.pauli("x", 0) + chain.pauli("z", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ule = dm.teq_scan(chain, A, BATH, [0.01, 0.3], method="ule", n_times=40)
        dav = dm.teq_scan(chain, A, BATH, [0.01, 0.3], n_times=40)
    assert_allclose(ule.t_gap[0], dav.t_gap[0], rtol=1e-4)
    assert abs(ule.t_gap[1] / dav.t_gap[1] - 1) > 0.1
    assert dm.secular_crossover(dav, ule) == 0.3
    assert ule.final_distance_to_gibbs[0] < 1e-3


def test_secular_regime_from_any_generator():
    chain, spec, A = _chain_case(3)
    ref = dm.secular_regime(spec, A, BATH)
    for gen in (dm.DaviesGenerator(spec, A, BATH, 0.1), dm.RedfieldGenerator(spec, A, BATH, 0.1),
                dm.ULEGenerator(spec, A, BATH, 0.1)):
        assert dm.secular_regime(gen).strength_max == ref.strength_max
    assert 0 < ref.strength_max < np.inf
    # small-lambda form: delta = (lambda^2 / omega_w)^2
    lam = 1e-3
    assert_allclose(ref.deviation([lam])[0], (lam**2 / ref.weighted_spacing) ** 2, rtol=1e-3)
