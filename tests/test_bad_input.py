"""Property-based bad-input suite over the public API (issue 10, item 6).

Every bad argument (NaN, inf, wrong shapes and dtypes, non-Hermitian, empty, wrong kinds) must be answered
with a ValueError or TypeError that names the argument, raised by davies_mb itself (never a numpy or
scipy internal traceback) and never with a result. Hypothesis draws the bad values; ``max_examples`` is
kept modest so the whole file runs in well under a minute.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import davies_mb as dm
from davies_mb import _checks
from davies_mb import integrable as ig

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

PKG = os.path.dirname(dm.__file__)


def rejected(fn, *names):
    """``fn()`` must raise ValueError/TypeError from davies_mb code, naming one of ``names``."""
    with pytest.raises((ValueError, TypeError)) as err:
        out = fn()
        pytest.fail(f"returned {type(out).__name__} instead of refusing")  # pragma: no cover
    msg = str(err.value)
    assert any(n in msg for n in names), f"message does not name {names}: {msg!r}"
    # raised by the package (the innermost frame is ours), not by numpy / scipy internals
    frames = [e for e in err.traceback if not str(e.path).startswith(os.path.dirname(__file__))]
    assert frames and str(frames[-1].path).startswith(PKG), f"raised outside davies_mb: {frames[-1].path}"
    return msg


# -- strategies ---------------------------------------------------------------------------------------
nonfinite = st.sampled_from([math.nan, math.inf, -math.inf, np.float64("nan")])
not_a_number = st.one_of(st.text(max_size=4), st.none(), st.just([1.0]), st.just({"a": 1}), st.just(1j),
                         st.just(object()))
bad_real = st.one_of(nonfinite, not_a_number)
bad_positive = st.one_of(bad_real, st.floats(max_value=0.0, allow_nan=False, allow_infinity=False),
                         st.just(0), st.just(-1))
bad_small_L = st.one_of(st.integers(max_value=1), st.floats(2.5, 9.5), st.text(max_size=3), st.none(), st.just(True),
                        st.just(4.0))
bad_L = st.one_of(bad_small_L, st.integers(min_value=41, max_value=10**6))  # ED chains stop at 40 sites


def _matrix(n):
    rng = np.random.default_rng(n)
    M = rng.normal(size=(n, n))
    return M + M.T


@st.composite
def bad_operator(draw, n, sized=True):
    """A matrix that is not a Hermitian n x n numeric operator (the way it fails is drawn); ``sized=False``
    when any square size would do (a bare Hamiltonian)."""
    kinds = ["nan", "inf", "nonherm", "rect", "empty", "vector", "object", "string", "none", "3d", "sparse-nan"]
    kind = draw(st.sampled_from(kinds + (["shape"] if sized else [])))
    M = _matrix(n).astype(float)
    i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
    if kind == "nan":
        M[i, j] = np.nan
    elif kind == "inf":
        M[i, j] = draw(st.sampled_from([np.inf, -np.inf]))
    elif kind == "nonherm":
        M = M.astype(complex)
        M[0, n - 1] += draw(st.sampled_from([1.0, 1j, 0.5 + 0.5j]))
    elif kind == "shape":
        M = _matrix(n + draw(st.integers(1, 3)))
    elif kind == "rect":
        M = np.ones((n, n + 1))
    elif kind == "empty":
        M = np.zeros((0, 0))
    elif kind == "vector":
        M = np.ones(n)
    elif kind == "object":
        M = np.array([[None] * n] * n, dtype=object)
    elif kind == "string":
        M = "x0+z1"
    elif kind == "none":
        M = None
    elif kind == "3d":
        M = np.ones((n, n, 2))
    else:
        M = sp.csr_array(M)
        M.data[0] = np.nan
    return M


@st.composite
def bad_state(draw, d):
    """Not a state of dimension d: NaN, unnormalized, non-Hermitian, trace != 1, negative, wrong shape..."""
    kind = draw(st.sampled_from(["nan", "inf", "norm", "trace", "nonherm", "negative", "shape", "vshape",
                                 "empty", "string", "object", "bool", "3d"]))
    psi = np.zeros(d)
    psi[0] = 1.0
    rho = np.outer(psi, psi)
    if kind == "nan":
        rho[0, 0] = np.nan
        return rho if draw(st.booleans()) else psi * np.nan
    if kind == "inf":
        rho[-1, 0] = rho[0, -1] = np.inf
        return rho
    if kind == "norm":
        return psi * draw(st.sampled_from([0.0, 0.5, 2.0, 1.1]))
    if kind == "trace":
        return rho * draw(st.sampled_from([0.0, 0.5, 2.0]))
    if kind == "nonherm":
        rho = rho.astype(complex)
        rho[0, 1] = 0.3j
        return rho
    if kind == "negative":
        return np.diag(np.r_[1.5, -0.5, np.zeros(d - 2)])
    if kind == "shape":
        return np.eye(d + 1) / (d + 1)
    if kind == "vshape":
        v = np.zeros(d + 2)
        v[0] = 1
        return v
    if kind == "empty":
        return np.zeros(0)
    if kind == "string":
        return "neel"
    if kind == "object":
        return np.array([None] * d, dtype=object)
    if kind == "bool":
        return np.eye(d, dtype=bool)
    return np.ones((d, d, 1))


# -- fixtures: one small chain and its generator, built once ------------------------------------------
@pytest.fixture(scope="module")
def system():
    chain = dm.xxz(4, 0.5)
    spec = dm.diagonalize(chain)
    A = chain.parse_operator("x0+z1")
    bath = dm.OhmicBath(beta=1.0)
    gen = dm.DaviesGenerator(spec, A, bath, strength=0.1)
    return chain, spec, A, bath, gen


# -- models, sectors, diagonalize ---------------------------------------------------------------------
@SETTINGS
@given(L=bad_L, factory=st.sampled_from([dm.xxz, dm.xx, dm.heisenberg, dm.tfim]))
def test_models_reject_bad_L(L, factory):
    rejected(lambda: factory(L), "L")


@SETTINGS
@given(value=bad_real, name=st.sampled_from(["delta", "j2", "hz", "hx", "j", "staggered", "disorder"]))
def test_xxz_rejects_bad_parameters(value, name):
    kwargs = {name: value}
    if name == "delta":
        rejected(lambda: dm.xxz(4, value), "delta")
    else:
        rejected(lambda: dm.xxz(4, 0.5, **kwargs), name)


@SETTINGS
@given(value=bad_real, name=st.sampled_from(["g", "j", "h"]))
def test_tfim_rejects_bad_parameters(value, name):
    rejected(lambda: dm.tfim(4, **{name: value}), name)


@SETTINGS
@given(bc=st.one_of(st.text(max_size=5).filter(lambda s: s not in ("open", "periodic")), st.none(), st.just(1)))
def test_models_reject_bad_bc(bc):
    rejected(lambda: dm.xxz(4, 0.5, bc=bc), "bc")


@SETTINGS
@given(H=bad_operator(4, sized=False))
def test_diagonalize_rejects_bad_matrices(H):
    rejected(lambda: dm.diagonalize(H), "H", "system")


@SETTINGS
@given(sector=st.one_of(
    st.dictionaries(st.sampled_from(["sz", "k", "parity", "flip", "spin", "q"]),
                    st.one_of(nonfinite, st.text(max_size=2), st.sampled_from([7, -9, 0.25, 3, 2])), min_size=1),
    st.text(max_size=4), st.just([("sz", 0)]), st.just(3)))
def test_diagonalize_rejects_bad_sectors(sector):
    chain = dm.xxz(4, 0.5, bc="periodic")
    ok = isinstance(sector, dict) and all(
        (k == "sz" and v in (2, 0)) or (k == "k" and v in (2, 3, 0)) or (k in ("parity", "flip") and v in (1, -1))
        for k, v in sector.items())
    if ok:  # a valid sector slipped through the strategy
        return
    rejected(lambda: dm.diagonalize(chain, sector=sector), "sector", "sz", "k", "parity", "flip", "spin", "q")


@SETTINGS
@given(L=bad_L)
def test_sector_functions_reject_bad_L(L):
    rejected(lambda: dm.sector_dimension(L, {"sz": 0}) if hasattr(dm, "sector_dimension")
             else __import__("davies_mb.sectors").sectors.sector_dimension(L, {"sz": 0}), "L")


# -- baths ----------------------------------------------------------------------------------------------
@SETTINGS
@given(beta=st.one_of(st.sampled_from([math.nan, -math.inf, -1.0, 0.0, -0.0]), not_a_number))
def test_baths_reject_bad_beta(beta):
    rejected(lambda: dm.OhmicBath(beta=beta), "beta")
    rejected(lambda: dm.DrudeLorentzBath(beta=beta), "beta")


@SETTINGS
@given(eta=st.one_of(st.sampled_from([math.nan, math.inf, -1.0]), not_a_number),
       cutoff=st.one_of(st.sampled_from([math.nan, math.inf, -1.0, 0.0]), not_a_number))
def test_baths_reject_bad_eta_and_cutoff(eta, cutoff):
    rejected(lambda: dm.OhmicBath(beta=1.0, eta=eta), "eta")
    rejected(lambda: dm.OhmicBath(beta=1.0, cutoff=cutoff), "cutoff")
    rejected(lambda: dm.DrudeLorentzBath(beta=1.0, eta=eta), "eta")
    rejected(lambda: dm.DrudeLorentzBath(beta=1.0, cutoff=cutoff), "cutoff")


@pytest.mark.parametrize("cls", [dm.OhmicBath, dm.DrudeLorentzBath])
def test_baths_reject_zero_eta(cls):
    rejected(lambda: cls(beta=1.0, eta=0.0), "eta")


def test_baths_reject_subnormal_beta():
    rejected(lambda: dm.OhmicBath(beta=1e-310), "beta")


# -- generators ------------------------------------------------------------------------------------------
@SETTINGS
@given(A=bad_operator(16), which=st.sampled_from(["davies", "redfield"]))
def test_generators_reject_bad_couplings(system, A, which):
    _, spec, _, bath, _ = system
    cls = dm.DaviesGenerator if which == "davies" else dm.RedfieldGenerator
    rejected(lambda: cls(spec, A, bath, strength=0.1), "couplings", "coupling")


@SETTINGS
@given(strength=bad_positive, which=st.sampled_from(["davies", "redfield"]))
def test_generators_reject_bad_strength(system, strength, which):
    _, spec, A, bath, _ = system
    cls = dm.DaviesGenerator if which == "davies" else dm.RedfieldGenerator
    rejected(lambda: cls(spec, A, bath, strength=strength), "strength")


@SETTINGS
@given(thing=st.one_of(st.none(), st.text(max_size=3), st.just(np.eye(16)), st.just(1.0)))
def test_generators_reject_bad_spectrum_and_bath(system, thing):
    _, spec, A, bath, _ = system
    rejected(lambda: dm.DaviesGenerator(spec, A, thing), "bath")
    rejected(lambda: dm.DaviesGenerator(thing, A, bath), "spectrum", "Spectrum")


def test_generators_reject_empty_and_zero_couplings(system):
    _, spec, _, bath, _ = system
    rejected(lambda: dm.DaviesGenerator(spec, [], bath), "couplings")
    rejected(lambda: dm.DaviesGenerator(spec, np.zeros((16, 16)), bath), "couplings")
    rejected(lambda: dm.DaviesGenerator(spec, [np.eye(16)] * 2, [bath] * 3), "baths", "couplings")


# -- states: dynamics, gge, eth, conserved, integrable ----------------------------------------------------
@SETTINGS
@given(rho=bad_state(16))
def test_dynamics_reject_bad_states(system, rho):
    chain, spec, _, _, gen = system
    O = chain.op("z", 0)
    rejected(lambda: dm.unitary_expect(spec, [O], rho, [0.0, 1.0]), "state")
    rejected(lambda: dm.diagonal_ensemble(spec, rho), "state")
    rejected(lambda: dm.distance_trajectory(gen, rho, np.eye(16) / 16, [0.0, 1.0]), "rho0")
    red = dm.RedfieldGenerator(spec, system[2], system[3], strength=0.1)
    rejected(lambda: red.evolve(rho, [0.0, 1.0]), "rho0")
    rejected(lambda: red.stationary_state(rho), "rho0")


@SETTINGS
@given(rho=bad_state(16))
def test_gge_eth_conserved_integrable_reject_bad_states(system, rho):
    chain, spec, A, bath, gen = system
    rejected(lambda: dm.gge([chain.hamiltonian()], rho), "initial_state")
    rejected(lambda: dm.restricted_equilibrium(gen, rho), "rho0")
    rejected(lambda: ig.correlation_matrix("xx", rho, 4), "state")
    if not (isinstance(rho, np.ndarray) and rho.ndim == 2 and rho.shape == (16, 16)):
        rejected(lambda: dm.eth.quench(chain, rho, [chain.pauli("z", 0)], [0.0, 1.0], sz=0), "state")


@SETTINGS
@given(rho=bad_state(16))
def test_check_density_matrix_names_the_argument(rho):
    rejected(lambda: _checks.check_density_matrix("rho_in", rho, 16), "rho_in")


def test_check_density_matrix_accepts_states():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(8, 8)) + 1j * rng.normal(size=(8, 8))
    rho = X @ X.conj().T
    rho /= np.trace(rho)
    assert _checks.check_density_matrix("rho", rho, 8) is not None
    assert _checks.check_density_matrix("rho", sp.csr_array(rho), 8).shape == (8, 8)
    psi = X[:, 0] / np.linalg.norm(X[:, 0])
    assert _checks.check_density_matrix("psi", psi, 8).ndim == 1
    assert _checks.check_density_matrix("psi", psi[:, None], 8).ndim == 1  # a column is a vector
    rejected(lambda: _checks.check_density_matrix("psi", psi, 8, vector=False), "psi")
    # a large state: positivity through the cheap necessary conditions (2x2 minors), no O(d^3) work
    d = _checks.FULL_POSITIVITY_MAX_DIM + 8
    big = np.eye(d) / d
    big[0, 1] = big[1, 0] = 2.0 / d  # |rho_01|^2 > rho_00 rho_11: not positive
    msg = rejected(lambda: _checks.check_density_matrix("rho", big, d), "rho")
    assert "2x2 principal minor" in msg
    assert _checks.check_density_matrix("rho", np.eye(d) / d, d).shape == (d, d)


# -- gge, eth, integrable, conserved: other arguments ------------------------------------------------------
@SETTINGS
@given(Q=bad_operator(16))
def test_gge_rejects_bad_charges(system, Q):
    chain = system[0]
    rejected(lambda: dm.gge([chain.hamiltonian(), Q], dm.product_state(4, "neel")), "charges")


def test_gge_rejects_empty_charges():
    rejected(lambda: dm.gge([], np.ones(4) / 2), "charges")


@SETTINGS
@given(bad=st.one_of(nonfinite, st.text(max_size=2)), pos=st.integers(0, 9))
def test_eth_rejects_bad_energies(bad, pos):
    e = np.arange(10.0).astype(object if isinstance(bad, str) else float)
    e[pos] = bad
    rejected(lambda: dm.eth.gap_ratios(e), "energies", "source")
    rejected(lambda: dm.eth.level_statistics(e), "energies", "source")


@SETTINGS
@given(discard=st.one_of(bad_real, st.floats(0.5, 10), st.floats(-10, -1e-9)))
def test_eth_rejects_bad_discard(discard):
    rejected(lambda: dm.eth.gap_ratios(np.arange(10.0), discard=discard), "discard")


@SETTINGS
@given(value=bad_real, name=st.sampled_from(["j", "hz"]), L=st.just(6))
def test_integrable_rejects_bad_parameters(value, name, L):
    rejected(lambda: ig.xx_modes(L, **{name: value}), name)


@SETTINGS
@given(beta=bad_real)
def test_integrable_and_conserved_reject_bad_beta(system, beta):
    _, spec, _, _, _ = system
    modes = ig.xx_modes(6)
    rejected(lambda: ig.thermal_occupations(modes, beta), "beta")
    rejected(lambda: dm.charge_gibbs(spec, beta, system[0].total("z"), 0.5), "beta")


@SETTINGS
@given(L=bad_small_L)
def test_integrable_rejects_bad_L(L):
    rejected(lambda: ig.xx_modes(L), "L")


# -- teq_scan / two_step ------------------------------------------------------------------------------------
@SETTINGS
@given(strengths=st.one_of(st.just([]), st.lists(bad_positive, min_size=1, max_size=3), st.just("0.1"),
                           st.just(np.ones((2, 2)) * 0.1), st.none()))
def test_teq_scan_rejects_bad_strengths(system, strengths):
    chain, spec, A, bath, _ = system
    rejected(lambda: dm.teq_scan(chain, A, bath, strengths, progress=False), "strengths", "strength")


@SETTINGS
@given(kw=st.one_of(
    st.fixed_dictionaries({"epsilon": st.one_of(bad_positive, st.floats(1.0, 10.0))}),
    st.fixed_dictionaries({"n_times": st.one_of(st.integers(-5, 2), st.just(2.5), st.text(max_size=2), st.just(True))}),
    st.fixed_dictionaries({"t_max_factor": bad_positive}),
    st.fixed_dictionaries({"method": st.text(max_size=6).filter(lambda s: s not in ("davies", "redfield"))}),
    st.fixed_dictionaries({"initial": st.one_of(st.text(max_size=3).filter(lambda s: s not in ("up",)),
                                                bad_state(16))}),
))
def test_teq_scan_rejects_bad_options(system, kw):
    chain, spec, A, bath, _ = system
    name = next(iter(kw))
    rejected(lambda: dm.teq_scan(chain, A, bath, [0.1], progress=False, **kw), name, "initial state", "state",
             "rho0")
