"""Tests for davies_mb.baths: KMS rates, limits, Lamb shift, validation."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.special import expi

from davies_mb.baths import Bath, DrudeLorentzBath, OhmicBath

TWO_PI = 2.0 * math.pi

ALL_BATHS = [
    OhmicBath(beta=1.0),
    OhmicBath(beta=2.5, eta=0.3, cutoff=3.0),
    OhmicBath(beta=0.7, eta=1.2, cutoff=2.0, s=3.0),
    OhmicBath(beta=1.3, eta=0.8, cutoff=4.0, s=2.5),
    DrudeLorentzBath(beta=1.0),
    DrudeLorentzBath(beta=0.4, eta=0.5, cutoff=3.0),
]
BATH_IDS = [repr(b) for b in ALL_BATHS]


def ohmic_hand(w, beta, eta, wc, s=1.0):
    """gamma(w) = 2 pi J(w) / (1 - exp(-beta w)), J odd, straight from the formula."""
    w = np.asarray(w, dtype=float)
    j = eta * np.sign(w) * np.abs(w) ** s * wc ** (1 - s) * np.exp(-np.abs(w) / wc)
    return TWO_PI * j / (1.0 - np.exp(-beta * w))


def drude_hand(w, beta, eta, wc):
    w = np.asarray(w, dtype=float)
    j = eta * w * wc**2 / (w**2 + wc**2)
    return TWO_PI * j / (1.0 - np.exp(-beta * w))


# --------------------------------------------------------------------------- #
# KMS
# --------------------------------------------------------------------------- #
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    beta=st.floats(1e-3, 1e3),
    w=st.floats(1e-9, 1e4),
    which=st.sampled_from(["ohmic", "ohmic_s3", "drude"]),
)
def test_kms_ratio_hypothesis(beta, w, which):
    bath = {
        "ohmic": OhmicBath(beta=beta, eta=0.7, cutoff=5.0),
        "ohmic_s3": OhmicBath(beta=beta, eta=0.7, cutoff=5.0, s=3.0),
        "drude": DrudeLorentzBath(beta=beta, eta=0.7, cutoff=2.0),
    }[which]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        down, up = bath.gamma(w), bath.gamma(-w)
        pair = bath.rate_pair(w)
    assert math.isfinite(down) and math.isfinite(up)
    assert down >= 0.0 and up >= 0.0 and up <= down
    assert pair == (down, up)
    tiny = 1e-290  # stay clear of subnormals, whose relative precision is lost
    if down > tiny and up > tiny:
        x = beta * w
        if x <= 700.0:
            assert_allclose(down / up, math.exp(x), rtol=1e-12)
        assert_allclose(math.log(down) - math.log(up), x, rtol=1e-12, atol=1e-12)
    else:
        # the exact absorption rate is (nearly) below the float range
        assert up <= max(down, 1e-300) * math.exp(-min(beta * w, 700.0)) * (1 + 1e-9)


def test_kms_ratio_grid_large_beta_w():
    bath = OhmicBath(beta=1e3, eta=1.0, cutoff=5.0)
    w = np.geomspace(1e-8, 0.7, 400)  # beta*w from 1e-5 to 700
    down, up = bath.gamma(w), bath.gamma(-w)
    assert_allclose(down / up, np.exp(bath.beta * w), rtol=1e-12)
    down2, up2 = bath.rate_pair(w)
    assert_allclose(down2, down, rtol=1e-15, atol=0)
    assert_allclose(up2, up, rtol=1e-15, atol=0)


# --------------------------------------------------------------------------- #
# zero-frequency limit and continuity
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("beta", [1e-3, 0.5, 1.0, 7.0, 1e3])
@pytest.mark.parametrize("eta", [0.2, 1.0])
def test_gamma_zero_ohmic_and_continuity(beta, eta):
    bath = OhmicBath(beta=beta, eta=eta, cutoff=5.0)
    g0 = TWO_PI * eta / beta
    assert_allclose(bath.gamma(0.0), g0, rtol=1e-15)
    assert_allclose(bath.gamma_zero, g0, rtol=1e-15)
    assert isinstance(bath.gamma(0), float)
    for w in (1e-12, -1e-12, 1e-8, -1e-8):
        # expansion: gamma(w) = g0 (1 + x/2 + x^2/12 + O(x^4)) exp(-|w|/wc), x = beta w
        # (J is odd, so exp(-|w|/wc) has a kink at 0 while gamma stays continuous)
        x = beta * w
        expected = g0 * (1 + x / 2 + x * x / 12) * math.exp(-abs(w) / bath.cutoff)
        assert_allclose(bath.gamma(w), expected, rtol=1e-14)


def test_gamma_continuous_across_series_switch():
    """The Taylor branch (|beta w| < 1e-3) and the expm1 branch must agree."""
    bath = OhmicBath(beta=1.0, eta=1.0, cutoff=5.0)
    eps = np.array([-1e-12, 0.0, 1e-12]) * 1e-3
    for x0 in (1e-3, -1e-3):
        g = bath.gamma(x0 + eps)
        assert_allclose(g, g[1], rtol=1e-14)
        assert_allclose(g[1], ohmic_hand(x0, 1.0, 1.0, 5.0), rtol=1e-12)


def test_gamma_zero_superohmic_is_zero():
    bath = OhmicBath(beta=1.0, eta=1.0, cutoff=5.0, s=3.0)
    assert bath.gamma(0.0) == 0.0
    assert bath.gamma_zero == 0.0
    # gamma(w) ~ (2 pi eta / beta) (w / wc)^2 near 0
    for w in (1e-12, 1e-8, -1e-8):
        assert_allclose(bath.gamma(w), TWO_PI * (w / 5.0) ** 2, rtol=1e-7)


def test_gamma_zero_drude_matches_ohmic():
    for beta in (0.1, 1.0, 30.0):
        dl = DrudeLorentzBath(beta=beta, eta=0.6, cutoff=2.0)
        oh = OhmicBath(beta=beta, eta=0.6, cutoff=2.0)
        assert_allclose(dl.gamma(0.0), oh.gamma(0.0), rtol=1e-15)
        assert_allclose(dl.gamma_zero, TWO_PI * 0.6 / beta, rtol=1e-15)
        w = np.array([-1e-7, -1e-9, 1e-9, 1e-7])
        # J_DL / J_Ohm = 1 + w/wc + O(w^2): relative difference <= 1e-7 / 2
        assert_allclose(dl.gamma(w), oh.gamma(w), rtol=1e-7)


# --------------------------------------------------------------------------- #
# formulas, shapes, types
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("beta,eta,wc", [(1.0, 1.0, 5.0), (0.3, 0.25, 2.0), (20.0, 3.0, 1.0)])
def test_ohmic_against_hand_formula(beta, eta, wc):
    bath = OhmicBath(beta=beta, eta=eta, cutoff=wc)
    w = np.concatenate([np.linspace(-30 / beta, -1e-2, 101), np.linspace(1e-2, 60.0, 101)])
    assert_allclose(bath.gamma(w), ohmic_hand(w, beta, eta, wc), rtol=1e-12, atol=0)
    for wi in (0.37, -2.1, 4.0):
        expected = TWO_PI * eta * wi * math.exp(-abs(wi) / wc) / (1 - math.exp(-beta * wi))
        assert_allclose(bath.gamma(wi), expected, rtol=1e-13)


@pytest.mark.parametrize("s", [2.0, 2.5, 3.0])
def test_superohmic_against_hand_formula(s):
    bath = OhmicBath(beta=0.8, eta=0.4, cutoff=3.0, s=s)
    w = np.concatenate([np.linspace(-40.0, -1e-2, 57), np.linspace(1e-2, 3000.0, 301)])
    # includes w / wc > 600, where the implementation switches to log form
    w = np.append(w, [1799.0, 1800.0, 1801.0, 2500.0])
    # atol: far on the absorption side both are subnormal (no relative precision)
    assert_allclose(bath.gamma(w), ohmic_hand(w, 0.8, 0.4, 3.0, s), rtol=1e-12, atol=1e-300)


def test_drude_against_hand_formula():
    bath = DrudeLorentzBath(beta=0.9, eta=0.7, cutoff=2.0)
    w = np.concatenate([np.linspace(-50.0, -1e-2, 77), np.linspace(1e-2, 1e3, 77)])
    assert_allclose(bath.gamma(w), drude_hand(w, 0.9, 0.7, 2.0), rtol=1e-13, atol=0)
    # large frequencies: gamma(w) -> 2 pi eta wc^2 / w, no overflow in w^2
    assert_allclose(bath.gamma(1e100), TWO_PI * 0.7 * 4.0 / 1e100, rtol=1e-13)


@pytest.mark.parametrize("bath", ALL_BATHS, ids=BATH_IDS)
def test_spectral_density(bath):
    w = np.linspace(-3.0, 3.0, 61)
    J = bath.spectral_density(w)
    assert np.all(J[w <= 0] == 0.0)
    pos = w > 0
    # gamma(w) - gamma(-w) = 2 pi J(w) for w > 0
    assert_allclose(TWO_PI * J[pos], bath.gamma(w[pos]) - bath.gamma(-w[pos]), rtol=1e-12)
    assert isinstance(bath.spectral_density(1.0), float)
    assert bath.spectral_density(0) == 0.0


@pytest.mark.parametrize("bath", ALL_BATHS, ids=BATH_IDS)
def test_scalar_in_float_out_and_shapes(bath):
    for x in (1.5, -2, 0, np.float32(0.5), np.float64(-0.25), np.array(0.3), np.int64(2)):
        assert type(bath.gamma(x)) is float
    w = np.linspace(-4, 4, 24).reshape(2, 3, 4)
    g = bath.gamma(w)
    assert g.shape == (2, 3, 4) and g.dtype == np.float64
    assert_allclose(g.ravel(), bath.gamma(w.ravel()), rtol=0, atol=0)
    assert bath.gamma([0.5, -0.5]).shape == (2,)
    assert bath.gamma(np.empty((0, 3))).shape == (0, 3)
    assert bath.gamma(np.arange(-3, 4)).dtype == np.float64  # integer input
    down, up = bath.rate_pair(w)
    assert down.shape == up.shape == (2, 3, 4)
    assert_allclose(up, bath.gamma(-w), rtol=1e-15, atol=0)
    assert all(type(v) is float for v in bath.rate_pair(1.0))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("beta", [1e-3, 1.0, 1e3])
@pytest.mark.parametrize("kind", ["ohmic", "ohmic_s3", "ohmic_s1.5", "drude"])
def test_no_floating_point_warnings(beta, kind):
    bath = {
        "ohmic": OhmicBath(beta=beta),
        "ohmic_s3": OhmicBath(beta=beta, s=3.0),
        "ohmic_s1.5": OhmicBath(beta=beta, s=1.5),
        "drude": DrudeLorentzBath(beta=beta),
    }[kind]
    w = np.concatenate(
        [
            -np.geomspace(1e4, 1e-300, 300),
            [-5e-324, 0.0, 5e-324],
            np.geomspace(1e-300, 1e4, 300),
            [1e300, -1e300],
        ]
    )
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        g = bath.gamma(w)
        down, up = bath.rate_pair(w)
        J = bath.spectral_density(w)
    for arr in (g, down, up, J):
        assert np.all(np.isfinite(arr)) and np.all(arr >= 0.0)
    assert_allclose(down, g, rtol=1e-15, atol=0)


def test_large_arrays_are_vectorized():
    """gamma is called on all Bohr frequencies of big spectra at once: one array in, one array out, equal to
    the scalar path. (Its speed is measured in benchmarks/, not asserted here: no wall-clock limits in tests.)"""
    bath = OhmicBath(beta=1.0)
    w = np.random.default_rng(1).uniform(-20.0, 20.0, 10**6)
    g = bath.gamma(w)
    assert g.shape == w.shape and np.all(np.isfinite(g))
    for i in (0, 1, 12345, 10**6 - 1):
        np.testing.assert_allclose(g[i], bath.gamma(float(w[i])), rtol=1e-13)


@pytest.mark.parametrize("bath", ALL_BATHS, ids=BATH_IDS)
def test_scalar_path_matches_array_path(bath):
    """The Lamb-shift quadrature uses a math-module twin of gamma: same numbers."""
    w = np.concatenate([-np.geomspace(1e4, 1e-300, 120), [0.0], np.geomspace(1e-300, 1e4, 120)])
    w = np.append(w, [1e-3 / bath.beta, -1e-3 / bath.beta, 700.0 / bath.beta, -700.5 / bath.beta])
    scalar = np.array([bath._gamma_scalar(float(v)) for v in w])
    assert_allclose(scalar, bath.gamma(w), rtol=1e-14, atol=1e-300)


@dataclasses.dataclass(frozen=True)
class GaussianBath(Bath):
    """A user-defined bath: J(w) = eta w exp(-(w/wc)^2), only the two hooks."""

    beta: float
    eta: float = 1.0
    cutoff: float = 1.0

    def __post_init__(self):
        self._check_common()

    def _reduced_spectral_density(self, a):
        return self.eta * np.exp(-((a / self.cutoff) ** 2))

    def _frequency_scale(self):
        return self.cutoff


def test_custom_subclass_gets_everything():
    bath = GaussianBath(beta=2.0, eta=0.5, cutoff=1.5)
    w = np.linspace(-3, 3, 13)
    with np.errstate(invalid="ignore"):  # 0/0 at w = 0, replaced below
        expected = TWO_PI * 0.5 * w * np.exp(-((w / 1.5) ** 2)) / (1 - np.exp(-2.0 * w))
    expected[6] = TWO_PI * 0.5 / 2.0  # w = 0
    assert_allclose(bath.gamma(w), expected, rtol=1e-13)
    # default scalar hook; S(0) = -int_0^inf J(u)/u du = -eta wc sqrt(pi) / 2
    assert_allclose(bath.lamb_shift(0.0), -0.5 * 1.5 * math.sqrt(math.pi) / 2, rtol=1e-9)
    assert_allclose(bath.lamb_shift(0.7), lamb_shift_reference(bath, 0.7), rtol=1e-6)
    with pytest.raises(ValueError, match="beta"):
        GaussianBath(beta=-1.0)


# --------------------------------------------------------------------------- #
# Lamb shift
# --------------------------------------------------------------------------- #
def lamb_shift_reference(bath, w, n=150_000, c=None):
    """Independent evaluation of S(w) = (1/2pi) PV int gamma(v) / (w - v) dv.

    Uses the symmetrized, regular form
        S(w) = -(1/2pi) int_0^inf [gamma(w + u) - gamma(w - u)] / u du,
    mapped to t in (0, 1) by u = c t / (1 - t) and summed with the midpoint rule
    on a uniform grid (no adaptive quadrature, no Cauchy weight). The kink of
    gamma at 0 is put on a grid node by splitting at t0 = |w| / (c + |w|).
    """
    c = max(bath.cutoff, abs(w)) if c is None else c
    t0 = abs(w) / (c + abs(w))
    total = 0.0
    for lo, hi in ((0.0, t0), (t0, 1.0)):
        if hi <= lo:
            continue
        m = max(int(n * (hi - lo)), 2000)
        t = lo + (hi - lo) * (np.arange(m) + 0.5) / m
        u = c * t / (1.0 - t)
        du = c / (1.0 - t) ** 2
        f = (bath.gamma(w + u) - bath.gamma(w - u)) / u * du
        total += f.sum() * (hi - lo) / m
    return -total / TWO_PI


def lamb_shift_reference_log(bath, w, n=200_000):
    """Second independent evaluation, for |w| far below every bath scale.

    Same symmetrized integrand, but on a logarithmic grid u = exp(s) from 1e-30
    to 1e12 (trapezoid rule in s, du/u = ds), split at u = |w|: it resolves the
    structure of the integrand on the scale |w| (e.g. |w|^(s-1) cusps) that a
    uniform grid misses.
    """
    edges = [1e-30, abs(w), 1e12] if w != 0.0 else [1e-30, 1e12]
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        s = np.linspace(math.log(lo), math.log(hi), n)
        u = np.exp(s)
        total += np.trapezoid(bath.gamma(w + u) - bath.gamma(w - u), s)
    return -total / TWO_PI


@pytest.mark.parametrize(
    "bath",
    [
        OhmicBath(beta=1.0, eta=1.0, cutoff=5.0),
        OhmicBath(beta=1e3, eta=1.0, cutoff=5.0),
        OhmicBath(beta=3.0, eta=0.4, cutoff=2.0, s=3.0),
        DrudeLorentzBath(beta=0.5, eta=0.7, cutoff=2.0),
        DrudeLorentzBath(beta=0.2, eta=1.0, cutoff=0.1),
    ],
    ids=repr,
)
def test_lamb_shift_against_independent_quadrature(bath):
    w = np.array([-4.0, -0.8, -0.05, 0.0, 0.05, 0.8, 2.5, 12.0, 300.0])
    S = bath.lamb_shift(w)
    ref = np.array([lamb_shift_reference(bath, wi) for wi in w])
    assert_allclose(S, ref, rtol=1e-6, atol=0)


@pytest.mark.parametrize(
    "bath,n",
    [
        (OhmicBath(beta=1.0, eta=1.0, cutoff=5.0), 50_000),
        (OhmicBath(beta=1e-3, eta=1.0, cutoff=0.2, s=1.5), 200_000),  # sqrt cusp: slower
        (DrudeLorentzBath(beta=2.0, eta=0.5, cutoff=1.0), 50_000),
    ],
    ids=repr,
)
def test_lamb_shift_small_frequencies(bath, n):
    """|w| << 1/beta, wc: S(w) - S(0) ~ w log|w| (s = 1) or |w|^(s-1) (s > 1)."""
    w = np.array([-1e-8, -1e-12, 1e-12, 1e-8, 1e-5])
    S = bath.lamb_shift(w)
    ref = np.array([lamb_shift_reference_log(bath, wi, n=n) for wi in w])
    assert_allclose(S, ref, rtol=1e-6, atol=0)


@pytest.mark.parametrize(
    "bath,expected",
    [
        (OhmicBath(beta=1.0, eta=0.8, cutoff=5.0), -0.8 * 5.0),
        (OhmicBath(beta=30.0, eta=0.8, cutoff=5.0), -0.8 * 5.0),
        (OhmicBath(beta=0.5, eta=1.0, cutoff=2.0, s=3.0), -1.0 * 2.0 * math.gamma(3.0)),
        (DrudeLorentzBath(beta=2.0, eta=0.7, cutoff=2.0), -0.7 * 2.0 * math.pi / 2),
    ],
    ids=repr,
)
def test_lamb_shift_at_zero_closed_form(bath, expected):
    """S(0) = -int_0^inf J(u)/u du at every temperature (gamma(u) - gamma(-u) = 2 pi J(u))."""
    assert_allclose(bath.lamb_shift(0.0), expected, rtol=1e-9)
    # continuity through w = 0
    assert_allclose(bath.lamb_shift([-1e-9, 1e-9]), expected, rtol=1e-7)


@pytest.mark.parametrize(
    "bath", [OhmicBath(beta=1.0), OhmicBath(beta=0.05, s=1.5, cutoff=0.5)], ids=repr
)
def test_lamb_shift_continuous_across_method_switch(bath):
    """The pole window switches from a symmetric form to quad(weight='cauchy')."""
    d = 0.5 * min(1.0 / bath.beta, bath._frequency_scale())
    for sign in (1.0, -1.0):
        w = sign * d * np.array([1 - 1e-9, 1.0, 1 + 1e-9])
        S = bath.lamb_shift(w)
        assert_allclose(S[0] - S[1], S[1] - S[2], rtol=1e-3, atol=1e-12)
        assert abs(S[2] - S[0]) < 1e-7 * abs(S[1])


def test_lamb_shift_low_temperature_closed_forms():
    """T -> 0 closed forms; the finite-beta correction is ~ eta pi^2 / (3 beta^2 w)."""
    beta, eta, wc = 1e3, 0.9, 5.0
    w = np.array([-7.0, -1.0, -0.3, 0.3, 1.0, 4.0, 15.0])
    # Ohmic: S(w) = eta [w exp(-w/wc) Ei(w/wc) - wc]
    ohm = eta * (w * np.exp(-w / wc) * expi(w / wc) - wc)
    assert_allclose(OhmicBath(beta, eta, wc).lamb_shift(w), ohm, rtol=0, atol=1e-4)
    # Drude-Lorentz: S(w) = eta wc^2 / (w^2 + wc^2) [w ln(|w|/wc) - pi wc / 2]
    wc = 2.0
    dl = eta * wc**2 / (w**2 + wc**2) * (w * np.log(np.abs(w) / wc) - math.pi * wc / 2)
    assert_allclose(DrudeLorentzBath(beta, eta, wc).lamb_shift(w), dl, rtol=0, atol=1e-4)
    # sign convention: far above the cutoff S(w) ~ +eta wc^2 / w > 0, S(0) < 0
    assert OhmicBath(beta, eta, 5.0).lamb_shift(100.0) > 0 > OhmicBath(beta, eta, 5.0).lamb_shift(0.0)


def test_lamb_shift_shapes_and_duplicates():
    bath = OhmicBath(beta=1.0)
    assert type(bath.lamb_shift(0.5)) is float
    w = np.array([[0.5, -0.5, 0.5], [1.0, 0.5, -0.5]])
    S = bath.lamb_shift(w)
    assert S.shape == (2, 3)
    assert S[0, 0] == S[0, 2] == S[1, 1] and S[0, 1] == S[1, 2]
    assert_allclose(S[0, 0], bath.lamb_shift(0.5), rtol=0, atol=0)
    # linear in eta
    assert_allclose(OhmicBath(beta=1.0, eta=0.25).lamb_shift(0.5), 0.25 * S[0, 0], rtol=1e-9)


# --------------------------------------------------------------------------- #
# objects and validation
# --------------------------------------------------------------------------- #
def test_repr_frozen_hashable():
    bath = OhmicBath(beta=2, eta=0.5, cutoff=3, s=1)
    assert repr(bath) == "OhmicBath(beta=2.0, eta=0.5, cutoff=3.0, s=1.0)"
    assert repr(DrudeLorentzBath(1.0)) == "DrudeLorentzBath(beta=1.0, eta=1.0, cutoff=1.0)"
    assert isinstance(bath.beta, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        bath.beta = 3.0
    assert bath == OhmicBath(2.0, 0.5, 3.0) and hash(bath) == hash(OhmicBath(2.0, 0.5, 3.0))
    hot = dataclasses.replace(bath, beta=0.5)
    assert hot.beta == 0.5 and hot.eta == 0.5
    assert isinstance(bath, Bath)
    with pytest.raises(TypeError):
        Bath()  # abstract


@pytest.mark.parametrize("beta", [0.0, -1.0])
def test_bad_beta_nonpositive(beta):
    with pytest.raises(ValueError, match=r"beta .*must be > 0"):
        OhmicBath(beta=beta)


def test_bad_beta_nan():
    with pytest.raises(ValueError, match="beta .*is NaN"):
        DrudeLorentzBath(beta=math.nan)


@pytest.mark.parametrize("beta", [1e-301, 5e-324])
def test_beta_below_double_range_refused(beta):
    with pytest.raises(ValueError, match=r"below 1e-300"):
        OhmicBath(beta=beta)


def test_bad_eta():
    with pytest.raises(ValueError, match=r"eta .*must be > 0, got -0.1"):
        OhmicBath(beta=1.0, eta=-0.1)


@pytest.mark.parametrize("cls", [OhmicBath, DrudeLorentzBath])
def test_zero_eta_refused(cls):
    with pytest.raises(ValueError, match=r"eta = 0 .*no transitions"):
        cls(beta=1.0, eta=0.0)


@pytest.mark.parametrize("bath", [OhmicBath(beta=math.inf, eta=0.7, cutoff=3.0),
                                  OhmicBath(beta=math.inf, eta=0.5, cutoff=2.0, s=3.0),
                                  DrudeLorentzBath(beta=math.inf, eta=0.6, cutoff=2.0)])
def test_zero_temperature_rates(bath):
    """beta = inf: gamma(w) = 2 pi J(w) for w > 0 (no Bose factor), gamma(-w) = 0, gamma(0) = 0, and the
    finite-beta rates converge to it."""
    w = np.array([0.1, 0.5, 1.0, 3.0])
    assert_allclose(bath.gamma(w), 2 * math.pi * bath.spectral_density(w), rtol=1e-14)
    assert np.all(bath.gamma(-w) == 0.0)
    assert bath.gamma(0.0) == 0.0 and bath.gamma_zero == 0.0
    down, up = bath.rate_pair(w)
    assert_allclose(down, bath.gamma(w), rtol=0) and np.all(up == 0.0)
    cold = dataclasses.replace(bath, beta=200.0)
    assert_allclose(cold.gamma(w), bath.gamma(w), rtol=1e-8)
    assert np.all(cold.gamma(-w) <= np.exp(-200 * 0.1) * cold.gamma(w) * (1 + 1e-12))
    # the scalar path used by the Lamb-shift quadrature agrees
    assert_allclose([bath._gamma_scalar(float(x)) for x in w], bath.gamma(w), rtol=1e-14)
    assert bath._gamma_scalar(-0.5) == 0.0


def test_zero_temperature_lamb_shift_is_the_limit():
    """S(w) at beta = inf is the beta -> inf limit (the thermal part vanishes as 1/beta)."""
    cold = [OhmicBath(beta=b, eta=0.8, cutoff=4.0).lamb_shift(0.7) for b in (1e3, 1e4)]
    zero = OhmicBath(beta=math.inf, eta=0.8, cutoff=4.0).lamb_shift(0.7)
    assert np.isfinite(zero)
    assert abs(cold[1] - zero) < abs(cold[0] - zero) and abs(cold[1] - zero) < 1e-6


@pytest.mark.parametrize("cls", [OhmicBath, DrudeLorentzBath])
def test_bad_cutoff(cls):
    with pytest.raises(ValueError, match=r"cutoff .*must be > 0, got 0.0"):
        cls(beta=1.0, cutoff=0.0)


def test_subohmic_refused():
    with pytest.raises(ValueError, match=r"s \(the Ohmicity\) must be >= 1, got 0.5.*diverges"):
        OhmicBath(beta=1.0, s=0.5)


@pytest.mark.parametrize("value", ["1.0", None, 1j, True, [1.0]])
def test_bad_parameter_type(value):
    with pytest.raises(TypeError, match="beta must be a real number"):
        OhmicBath(beta=value)


@pytest.mark.parametrize("w", ["0.5", np.array(["a"]), 1 + 0j, np.array([1.0 + 2j]), {"w": 1}, None])
def test_gamma_rejects_non_numeric(w):
    with pytest.raises(TypeError, match="w must"):
        OhmicBath(beta=1.0).gamma(w)


@pytest.mark.parametrize("w", [math.nan, [0.5, math.inf]])
def test_gamma_rejects_nonfinite(w):
    with pytest.raises(ValueError, match="w must be finite"):
        OhmicBath(beta=1.0).gamma(w)
