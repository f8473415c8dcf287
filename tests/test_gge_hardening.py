"""GGE hardening (issue 10, item 6): infinite-temperature free-fermion targets at any filling, and complex
dtypes whose imaginary part is zero handled without casting warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg as sla
from numpy.testing import assert_allclose

import davies_mb as dm
from davies_mb import integrable as ig

L = 6


@pytest.fixture(scope="module")
def xx_ed():
    chain = dm.xx(L, hz=0.2)
    H = chain.hamiltonian(sparse=False)
    N = chain.total("z").toarray() + L / 2 * np.eye(2**L)  # number of up spins (JW fermions)
    return H, N, ig.xx_modes(L, "open", hz=0.2)


@pytest.mark.parametrize("beta", [0.0, 1e-7, -1e-7, 0.3, -0.5, 2.0])
@pytest.mark.parametrize("a", [np.log(1.5 / 4.5), 0.0, 1.3, -3.0])
def test_free_fermion_gibbs_reaches_every_filling_and_temperature(xx_ed, beta, a):
    """Targets made by ED from exp(-beta H + a N)/Z (a = beta mu, the log-fugacity): the solver returns
    (beta, a) and the occupations of that state, including beta = 0 at a filling != 1/2, where mu diverges."""
    H, N, modes = xx_ed
    G = sla.expm(-beta * H + a * N)
    G /= np.trace(G)
    E, n = float(np.trace(G @ H)), float(np.trace(G @ N))
    r = dm.free_fermion_gibbs(modes, E, n)
    assert abs(r["beta"] - beta) < 1e-8, r["beta"]
    assert abs(r["beta_mu"] - a) < 1e-7, (r["beta_mu"], a)
    assert_allclose([modes.constant + modes.energies @ r["occupations"], r["occupations"].sum()], [E, n], atol=1e-9)
    # the occupations are those of the ED state (open chain: the grand-canonical Gibbs state is Gaussian)
    assert_allclose(ig.gaussian_correlations(modes, r["occupations"]), ig.correlation_matrix("xx", G, L), atol=1e-8)
    if r["beta"] != 0:
        assert_allclose(r["mu"] * r["beta"], r["beta_mu"], rtol=1e-9, atol=1e-12)


def test_free_fermion_gibbs_infinite_temperature_exactly(xx_ed):
    """At the beta = 0 energy of a filling (to rounding): beta = 0 exactly, mu = +-inf, n_k = N / L."""
    _, _, modes = xx_ed
    for n in (0.5, 1.5, 3.0, 5.25):
        E = modes.constant + modes.energies.sum() * n / L
        r = dm.free_fermion_gibbs(modes, E, n)
        assert r["beta"] == 0.0
        assert_allclose(r["occupations"], n / L, rtol=1e-12)
        assert_allclose(r["beta_mu"], np.log(n / (L - n)), atol=1e-12)
        assert r["mu"] == (0.0 if n == L / 2 else np.copysign(np.inf, n - L / 2))


def test_free_fermion_gibbs_bad_input(xx_ed):
    _, _, modes = xx_ed
    with pytest.raises(ValueError, match="number"):
        dm.free_fermion_gibbs(modes, 0.0, L)
    with pytest.raises(ValueError, match="energy"):
        dm.free_fermion_gibbs(modes, np.nan, 2.0)
    with pytest.raises(TypeError, match="energy"):
        dm.free_fermion_gibbs(modes, "low", 2.0)
    with pytest.raises(TypeError, match="number"):
        dm.free_fermion_gibbs(modes, 0.0, "two")
    with pytest.raises(TypeError, match="modes"):
        dm.free_fermion_gibbs("xx", 0.0, 2.0)


def test_complex_dtype_charges_with_zero_imaginary_part_give_no_warning():
    chain = dm.xxz(6, 0.5)
    H, Sz = chain.hamiltonian(), chain.total("z")
    psi = dm.product_state(6, "neel")
    ref = dm.gge([H, Sz], psi)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ComplexWarning (discarding the imaginary part) would fail here
        res = dm.gge([H.astype(complex), Sz.toarray().astype(complex)], psi.astype(complex),
                     hamiltonian=H.toarray().astype(complex))
    assert np.isrealobj(res.rho)
    assert_allclose(res.rho, ref.rho, atol=1e-10)
    assert_allclose(res.multipliers, ref.multipliers, rtol=1e-8)
