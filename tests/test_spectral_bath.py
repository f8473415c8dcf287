"""SpectralBath: KMS rates from a user spectral density, against the built-in baths and closed forms."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import davies_mb as dm

W = np.array([-7.0, -2.0, -0.3, -1e-6, 0.0, 1e-6, 0.3, 1.0, 2.0, 7.0, 40.0])


@pytest.mark.parametrize("beta", [0.2, 1.0, 7.0])
def test_matches_ohmic_bath(beta):
    eta, wc = 0.7, 3.0
    ours = dm.SpectralBath(lambda w: eta * w * np.exp(-w / wc), beta, frequency_scale=wc)
    ref = dm.OhmicBath(beta=beta, eta=eta, cutoff=wc)
    assert_allclose(ours.gamma(W), ref.gamma(W), rtol=1e-13, atol=1e-300)
    assert_allclose(ours.gamma_zero, 2 * np.pi * eta / beta, rtol=1e-12)
    assert_allclose(ours.spectral_density(W), ref.spectral_density(W), rtol=1e-14)


def test_lamb_shift_matches_drude_lorentz():
    eta, wc, beta = 0.4, 2.0, 1.5
    ours = dm.SpectralBath(lambda w: eta * w * wc**2 / (w**2 + wc**2), beta, frequency_scale=wc)
    ref = dm.DrudeLorentzBath(beta=beta, eta=eta, cutoff=wc)
    w = np.array([-1.3, 0.0, 0.7, 2.5])
    assert_allclose(ours.gamma(w), ref.gamma(w), rtol=1e-13)
    assert_allclose(ours.lamb_shift(w), ref.lamb_shift(w), rtol=1e-7, atol=1e-10)


def test_structured_density_kms_and_closed_form():
    # a Lorentzian peak at w_p on an Ohmic background: rates from the defining formula, written here
    beta, wp, width = 2.0, 1.5, 0.1

    def J(w):
        return 0.05 * w * np.exp(-w / 5.0) + 0.3 * width**2 / ((w - wp) ** 2 + width**2) * np.tanh(w)

    bath = dm.SpectralBath(J, beta, frequency_scale=width)
    w = np.array([0.2, 1.4, 1.5, 1.6, 4.0])
    expected_down = 2 * np.pi * J(w) / -np.expm1(-beta * w)
    assert_allclose(bath.gamma(w), expected_down, rtol=1e-13)
    assert_allclose(bath.gamma(w) / bath.gamma(-w), np.exp(beta * w), rtol=1e-13)
    # J(w)/w -> 0.05 + 0.3 width^2/(wp^2 + width^2) at 0, gamma(0) = 2 pi / beta times that
    assert_allclose(bath.gamma(0.0), 2 * np.pi / beta * (0.05 + 0.3 * width**2 / (wp**2 + width**2)), rtol=1e-7)


@pytest.mark.parametrize("beta", [0.3, 1.0, 4.0])
def test_glauber_rate_function(beta):
    # gamma(w) = alpha / (1 + exp(-beta w)) is the spectral density alpha tanh(beta w / 2) / (2 pi)
    alpha = 0.8
    bath = dm.SpectralBath(lambda w: alpha * np.tanh(beta * w / 2) / (2 * np.pi), beta)
    assert_allclose(bath.gamma(W), alpha / (1 + np.exp(-beta * W)), rtol=1e-12)
    assert_allclose(bath.gamma_zero, alpha / 2, rtol=1e-12)


def test_scalar_only_callable():
    bath = dm.SpectralBath(lambda w: 0.5 * w * math.exp(-w), 1.0)
    ref = dm.OhmicBath(beta=1.0, eta=0.5, cutoff=1.0)
    assert_allclose(bath.gamma(W), ref.gamma(W), rtol=1e-13)
    assert_allclose(bath.gamma(0.5), ref.gamma(0.5), rtol=1e-13)


def test_frozen_and_replace():
    bath = dm.SpectralBath(lambda w: w * np.exp(-w), 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        bath.beta = 2.0
    hot = dataclasses.replace(bath, beta=0.5, zero_limit=None)
    assert_allclose(hot.gamma(1.0), dm.OhmicBath(beta=0.5, eta=1.0, cutoff=1.0).gamma(1.0), rtol=1e-13)


def test_davies_with_structured_bath_relaxes_to_gibbs():
    chain = dm.xxz(L=3, delta=0.5, hz=0.3)
    spec = dm.diagonalize(chain, blocks=None)
    bath = dm.SpectralBath(lambda w: 0.2 * w / (1 + (w - 1.0) ** 2), 1.3)
    gen = dm.DaviesGenerator(spec, [chain.pauli("x", 0) + chain.pauli("z", 2)], bath, strength=0.2)
    rho0 = np.eye(spec.dim) / spec.dim
    H = chain.hamiltonian(sparse=False)
    w, V = np.linalg.eigh(H)
    p = np.exp(-1.3 * (w - w[0]))
    gibbs = (V * (p / p.sum())) @ V.conj().T
    assert_allclose(gen.stationary_state(rho0), gibbs, atol=1e-10)


@pytest.mark.parametrize(
    "J, match",
    [
        (lambda w: -w * np.exp(-w), "finite values >= 0"),
        (lambda w: w * np.exp(-w) - 0.01, "finite values >= 0"),
        (lambda w: np.where(w > 2, np.nan, w), "finite values >= 0"),
        (lambda w: np.sqrt(w), "grows without bound"),
    ],
)
def test_bad_spectral_density(J, match):
    with pytest.raises(ValueError, match=match):
        dm.SpectralBath(J, 1.0)


def test_bad_value_at_a_bohr_frequency_outside_the_probe_grid():
    bath = dm.SpectralBath(lambda w: np.where(w < 1e4, w * np.exp(-w), -1.0), 1.0)
    with pytest.raises(ValueError, match="J\\(20000.0\\) = -1.0"):
        bath.gamma(-2e4)


def test_bad_arguments():
    with pytest.raises(TypeError, match="callable"):
        dm.SpectralBath(3.0, 1.0)
    with pytest.raises(ValueError, match="beta"):
        dm.SpectralBath(lambda w: w, -1.0)
    with pytest.raises(ValueError, match="frequency_scale"):
        dm.SpectralBath(lambda w: w, 1.0, frequency_scale=0.0)
    with pytest.raises(ValueError, match="zero_limit"):
        dm.SpectralBath(lambda w: w, 1.0, zero_limit=-1.0)


def test_zero_limit_override():
    bath = dm.SpectralBath(lambda w: np.sqrt(w), 1.0, zero_limit=0.0)
    assert bath.gamma(0.0) == 0.0
    assert_allclose(bath.gamma(4.0), 2 * np.pi * 2.0 / -np.expm1(-4.0), rtol=1e-13)


def test_zero_temperature():
    bath = dm.SpectralBath(lambda w: w * np.exp(-w / 2), np.inf, frequency_scale=2.0)
    w = np.array([0.5, 1.0, 3.0])
    assert_allclose(bath.gamma(w), 2 * np.pi * w * np.exp(-w / 2), rtol=1e-14)
    assert np.all(bath.gamma(-w) == 0.0)
