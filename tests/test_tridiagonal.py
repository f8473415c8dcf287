"""Eigenvectors in factored form (Householder reflectors x tridiagonal eigenvectors) for the large nu = 0 block
of a generic chain (issue 13: the L = 16 sector), against numpy's eigh and against the dense route."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
from numpy.testing import assert_allclose

import davies_mb as dm
import davies_mb._davies_core as core
from davies_mb._tridiagonal import eigh_factored


def test_factored_eigenvectors_diagonalize_the_matrix():
    rng = np.random.default_rng(3)
    n = 300
    B = rng.normal(size=(n, n))
    M = -(B @ B.T) / n  # negative semidefinite, like a symmetrized Davies block
    ref_mu = np.linalg.eigvalsh(M)
    mu, V = eigh_factored(M.copy())
    assert_allclose(mu, ref_mu, atol=1e-12 * np.max(np.abs(ref_mu)))
    x = rng.normal(size=n)
    X = rng.normal(size=(4, n))
    # V diag(mu) V^T = M, applied to vectors; V^T V = 1; rows and columns agree with each other
    assert_allclose(V @ (mu * (V.T @ x)), M @ x, atol=1e-12 * np.linalg.norm(M @ x))
    assert_allclose(V.T @ (V @ x), x, atol=1e-12 * np.linalg.norm(x))
    cols = V[:, [0, 5, n - 1]]
    assert_allclose(cols.T @ cols, np.eye(3), atol=1e-12)
    assert_allclose(M @ cols, cols * mu[[0, 5, n - 1]], atol=1e-11)
    assert_allclose(X @ V, (V.T @ X.T).T, atol=1e-12)
    assert_allclose((X @ V)[:, [0, 5, n - 1]], X @ cols, atol=1e-12)
    with pytest.raises(IndexError):
        V[0]


def test_davies_scan_with_factored_eigenvectors_equals_the_dense_route(monkeypatch):
    chain = dm.xxz(10, 0.5, j2=0.3)
    spec = dm.diagonalize(chain, sector=dict(sz=0))
    A = chain.parse_operator("z0+z1")
    bath = dm.OhmicBath(beta=1.0)
    psi = dm.product_state(10, "neel")
    H = chain.hamiltonian()
    lams = [0.01, 0.1]
    t = [0.0, 3.0, 300.0]

    def run():
        gen = dm.DaviesGenerator(spec, A, bath, strength=0.1)
        res = dm.teq_scan(gen, None, None, lams, initial=psi, n_times=60, progress=False,
                          observables=dict(energy=H), secular_check=False)
        return gen, res, gen.expect([H, chain.op("z", 0)], psi, t), gen.stationary_state(psi, basis="eigen")

    gen_d, res_d, ex_d, st_d = run()
    monkeypatch.setattr(core, "_FACTORED_MIN", 50)
    monkeypatch.setattr(core, "_DENSE_W0", 100)
    monkeypatch.setattr(core, "_DENSE_COMPONENT", 100)  # the whole 252-element block takes the large route
    gen_f, res_f, ex_f, st_f = run()
    assert type(gen_f._core._w0[1]).__name__ == "FactoredEigvecs"
    assert_allclose(gen_f.gap(), gen_d.gap(), rtol=1e-10)
    assert_allclose(ex_f, ex_d, atol=1e-12)
    assert_allclose(st_f, st_d, atol=1e-12)
    assert_allclose(res_f.trajectories["energy"], res_d.trajectories["energy"], atol=1e-11)
    # the tail fit reaches deviations of 1e-9 of the initial one, where either route's modes carry errors of
    # ~1e-13 (measured against expm below): the fitted times agree to what that allows
    assert_allclose(res_f.t_fit["energy"], res_d.t_fit["energy"], rtol=1e-4)
    # both routes against an independent propagation of the physical nu = 0 block (lambda = 1)
    c = gen_f._core
    Mp = c.block(c.I0, c.J0, physical=True)
    p0 = np.real(np.diagonal(gen_f._to_eig_state(psi)))
    E = spec.energies
    for gen in (gen_d, gen_f):
        me = gen.with_strength(1.0).mode_expansion([H], psi, commuting=True)
        for tau in (5.0, 20.0, 40.0):
            ref = E @ (sla.expm(Mp * tau) @ p0)
            assert abs(me.evaluate([tau], 1.0)[0, 0] - ref) <= 1e-12
    assert_allclose(res_f.t_distance, res_d.t_distance, rtol=1e-7)
    assert_allclose(res_f.t_gap, res_d.t_gap, rtol=1e-10)
