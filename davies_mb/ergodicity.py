r"""Bath-induced ergodicity restoration: relaxation times versus the coupling :math:`\lambda`.

An integrable chain alone relaxes (dephases) to a generalized Gibbs / diagonal ensemble that remembers its
conserved charges. A weak bath breaks them, and the chain reaches the Gibbs state of the bath temperature
on the time scale :math:`t_{eq}`. Inside the Davies generator every dissipative rate is
:math:`\lambda^2` times a fixed number (PHYSICS.md section 4), so :math:`t_{eq} = c/\lambda^2` exactly;
deviations appear only beyond it (:class:`davies_mb.redfield.RedfieldGenerator`).

Three measures of :math:`t_{eq}` (they answer different questions and differ by factors of order one):

``gap``
    :math:`1/\Delta`, the slowest rate of the generator: the asymptotic decay of *generic* observables.
``distance``
    The time when the trace distance :math:`\tfrac12\|\rho(t)-\rho_\infty\|_1` falls below ``epsilon``:
    :math:`\approx \ln(c_0/\epsilon)/\Delta`, longer than :math:`1/\Delta` by the logarithm of the initial
    overlap with the slow modes over :math:`\epsilon`.
``fit:<name>``
    :math:`1/\kappa` from an exponential fit of the slow tail of :math:`\langle Q\rangle(t) -
    \langle Q\rangle_\infty` for a chosen observable, by default the integrable chain's charges (energy,
    total :math:`S^z` when the bath breaks it). An observable orthogonal to the slowest mode (a symmetry
    selection rule) relaxes faster than :math:`1/\Delta`: the fit then gives a *shorter* time.

For the Davies generator the trace distance is a function of :math:`\lambda^2 t` only: the generator is
covariant, :math:`e^{t\mathcal{L}} = \mathcal{U}_t\circ e^{\lambda^2 t\mathcal{D}}` with
:math:`\mathcal{U}_t` the unitary evolution, which commutes with the dissipator (secular approximation) and
leaves both the trace norm and every stationary state invariant. So the distance crossing is found once, at
:math:`\lambda = 1`, and scaled; the expectation values are evaluated at every :math:`\lambda` from one
:class:`~davies_mb.ModeExpansion`.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping

import numpy as np
import scipy.linalg as sla
import scipy.optimize as so
import scipy.sparse as sp
import scipy.stats as st

from . import _checks
from .davies import DaviesGenerator, _as_list, op_in_eigenbasis
from .dynamics import diagonal_ensemble, log_times, trace_distance, unitary_expect
from .models import SpinChain
from .spectrum import Spectrum, diagonalize

__all__ = [
    "PowerLawFit",
    "ScanResult",
    "TwoStepResult",
    "teq_scan",
    "two_step_relaxation",
    "fit_power_law",
    "fit_exponential_tail",
    "product_state",
    "secular_crossover",
]

_METHODS = ("davies", "redfield", "ule")


# -- small pieces ------------------------------------------------------------------------------------------
def product_state(L: int, pattern: str = "neel") -> np.ndarray:
    """State vector of a z-basis product state: ``"neel"`` (0101...), ``"domain"`` (0..01..1), ``"up"``
    or an explicit bit string of length ``L`` (bit 0 = spin up, site 0 first = most significant)."""
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or L < 1:
        raise ValueError(f"L must be a positive integer, got {L!r}")
    L = int(L)
    named = {"neel": "01" * (L // 2) + "0" * (L % 2), "domain": "0" * (L // 2) + "1" * (L - L // 2), "up": "0" * L}
    bits = named.get(pattern, pattern)
    if not isinstance(bits, str) or len(bits) != L or set(bits) - {"0", "1"}:
        raise ValueError(f"initial state must be 'neel', 'domain', 'up' or a bit string of length {L} "
                         f"(0 = up), got {pattern!r}")
    psi = np.zeros(2**L)
    psi[int(bits, 2)] = 1.0
    return psi


@dataclasses.dataclass(frozen=True)
class PowerLawFit:
    r"""Least-squares fit :math:`t = c\,\lambda^{p}` on log-log axes.

    ``exponent`` :math:`p` with its standard error ``stderr`` (from the regression; 0 for exact power
    laws), ``prefactor`` :math:`c`, and ``n`` points used (finite, positive times only).
    """

    exponent: float
    stderr: float
    prefactor: float
    n: int

    def __str__(self) -> str:
        return f"t = {self.prefactor:.4g} * lambda^({self.exponent:.6f} +- {self.stderr:.1e})"


def _check_strengths(strengths) -> np.ndarray:
    if isinstance(strengths, (str, bytes)):
        raise TypeError(f"strengths must be a sequence of positive numbers, got the string {strengths!r}")
    try:
        lams = np.atleast_1d(np.asarray(strengths, dtype=float))
    except (TypeError, ValueError):
        lams = None
    if lams is None or lams.ndim != 1 or lams.size == 0 or not np.all(np.isfinite(lams)) or np.any(lams <= 0):
        raise ValueError(f"strengths must be a non-empty 1-d sequence of positive numbers, got {strengths!r}")
    return lams


def _check_n_times(n_times) -> int:
    if isinstance(n_times, bool) or not isinstance(n_times, (int, np.integer)) or n_times < 10:
        raise ValueError(f"n_times must be an integer >= 10 (points per trajectory), got {n_times!r}")
    return int(n_times)


def fit_power_law(strengths, times) -> PowerLawFit:
    r"""Fit :math:`\ln t = \ln c + p\ln\lambda` (``scipy.stats.linregress``) over the finite positive times."""
    x = np.asarray(strengths, dtype=float)
    y = np.asarray(times, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"strengths and times must be 1-d arrays of the same length, got shapes {x.shape} and {y.shape}")
    ok = np.isfinite(y) & (y > 0) & (x > 0)
    if ok.sum() < 2:
        return PowerLawFit(np.nan, np.nan, np.nan, int(ok.sum()))
    if ok.sum() == 2:
        p = np.diff(np.log(y[ok]))[0] / np.diff(np.log(x[ok]))[0]
        return PowerLawFit(float(p), np.nan, float(y[ok][0] / x[ok][0] ** p), 2)
    r = st.linregress(np.log(x[ok]), np.log(y[ok]))
    return PowerLawFit(float(r.slope), float(r.stderr), float(np.exp(r.intercept)), int(ok.sum()))


def _tail_window(t, d, window):
    """``(ia, ib)``: the tail runs from between t[ia], t[ia+1] (last time |d| >= window[0] max|d|) to between
    t[ib], t[ib+1] (last time |d| >= window[1] max|d|), after the last sign change above the round-off floor."""
    a = np.abs(d)
    dmax = float(np.max(a)) if a.size else 0.0
    if dmax == 0.0 or not np.isfinite(dmax):
        return None
    above_hi = np.flatnonzero(a >= window[0] * dmax)
    above_lo = np.flatnonzero(a >= window[1] * dmax)
    ia, ib = int(above_hi[-1]), int(above_lo[-1])
    sgn = np.sign(d[above_lo])
    change = np.flatnonzero(sgn[1:] != sgn[:-1])
    if change.size:  # a sign change inside the tail: start after it
        ia = max(ia, int(above_lo[change[-1] + 1]))
    if ib - ia < 3:
        return None  # the tail is not resolved (too few points)
    return ia, ib


def _level_crossing(f, a, b, level):
    """Time in [a, b] where |f| crosses ``level`` (brentq on log|f|), or ``a`` if not bracketed."""
    def g(x):
        v = abs(float(np.real(np.asarray(f(np.array([x])), dtype=complex)[0])))
        return np.log(max(v, 1e-300)) - np.log(level)

    ga, gb = g(a), g(b)
    if ga * gb > 0:
        return float(a)
    return float(so.brentq(g, a, b, xtol=1e-12 * max(b, 1.0)))


def fit_exponential_tail(times, deviation, *, window=(1e-3, 1e-9), resample=None) -> tuple[float, float]:
    r"""Decay time of the slow tail of ``deviation(t)`` (:math:`\approx a e^{-t/\tau}`) and its standard error.

    The tail runs from the last time :math:`|\delta|` exceeds ``window[0]`` times its maximum to the last
    time it exceeds ``window[1]`` times it (above round-off; or the end of the data), after the last sign change; :math:`\ln|\delta|`
    is fitted linearly in :math:`t` there. When ``resample`` (a callable ``t -> deviation``) is given, the
    two ends are located exactly (``brentq``) and the tail is evaluated again on 100 evenly spaced times,
    so the result does not depend on how the original grid samples it (a log grid puts few points in the
    last decade). Returns ``(tau, stderr)``; ``(nan, nan)`` when the tail is not resolved (an observable
    that does not relax, or a grid that ends too early).
    """
    t = np.asarray(times, dtype=float)
    d = np.asarray(deviation, dtype=float)
    win = _tail_window(t, d, window)
    if win is None:
        return float("nan"), float("nan")
    ia, ib = win
    if resample is not None:
        dmax = float(np.max(np.abs(d)))
        ta = _level_crossing(resample, t[ia], t[ia + 1], window[0] * dmax)
        # the data may end before the tail reaches the floor: then the tail ends with the data
        tb = _level_crossing(resample, t[ib], t[ib + 1], window[1] * dmax) if ib + 1 < t.size else float(t[-1])
        t = np.linspace(ta, tb, 100)
        d = np.real(np.asarray(resample(t), dtype=complex))
        sel = np.abs(d) > 0
    else:
        sel = np.zeros(t.size, dtype=bool)
        sel[ia + 1:ib + 1] = True
    r = st.linregress(t[sel], np.log(np.abs(d[sel])))
    if r.slope >= 0:
        return float("nan"), float("nan")
    tau = -1.0 / r.slope
    return float(tau), float(r.stderr / r.slope**2)


def _progress(iterable, enabled, desc, total=None):
    """A tqdm progress bar that appears only when the loop takes more than two seconds."""
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, disable=(None if enabled is None else not enabled), delay=2.0,
                leave=False)


# -- the scan --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ScanResult:
    r"""Relaxation times of one chain + bath over coupling strengths (from :func:`teq_scan`).

    Attributes
    ----------
    strengths : ndarray (n,)
        The couplings :math:`\lambda`.
    t_gap, t_distance : ndarray (n,)
        :math:`1/\Delta` and the trace-distance time (see the module docstring).
    t_fit, t_fit_err : mapping name -> ndarray (n,)
        Exponential-tail decay time of each observable and its standard error (``nan`` when the observable
        does not relax, e.g. a charge the bath conserves).
    fits : mapping method -> PowerLawFit
        Power law fitted to each column (``"gap"``, ``"distance"``, ``"fit:<name>"``).
    final_distance_to_gibbs : ndarray (n,)
        Trace distance of the final state :math:`\rho_\infty` (from the initial state) to the Gibbs state.
    stationary_states : int
        Dimension of the stationary manifold (largest over the strengths); 1 means unique thermalization.
    thermalizes : bool
        True when the final state is the Gibbs state (unique stationary state, finite gap).
    message : str
        What the scan found, in words (says so when a conserved quantity survives the bath).
    times : ndarray (n, n_times); trajectories : mapping name -> ndarray (n, n_times)
        The time grid of each strength and the observables along it.
    final_values : mapping name -> ndarray (n,)
    method : str
        ``"davies"`` or ``"redfield"``.
    epsilon : float
        Threshold of the trace-distance time.
    params : dict
        Everything needed to rerun the scan.
    steady_state : str
        What the chain relaxes to: ``"gibbs"`` (unique stationary state at one temperature), ``"restricted"``
        (a conserved quantity survives), ``"ness"`` (baths at several temperatures: a non-equilibrium steady
        state carrying heat), or ``"oscillating"`` (undamped coherences).
    heat_currents : tuple of float or None
        For a NESS: the heat current from each bath into the chain at :math:`\lambda = 1` (scale as
        :math:`\lambda^2`), summing to zero.
    secular_strength : float
        :math:`\lambda_*^{est}` from :func:`davies_mb.secular_regime`: the estimated largest strength at
        which the Davies :math:`t_{eq}` is within 10 % of the non-secular (ULE) one.
    in_secular_regime : ndarray of bool (n,)
        Per strength: inside the estimated secular regime (``strengths < secular_strength``).
    """

    strengths: np.ndarray
    t_gap: np.ndarray
    t_distance: np.ndarray
    t_fit: Mapping
    t_fit_err: Mapping
    fits: Mapping
    final_distance_to_gibbs: np.ndarray
    stationary_states: int
    thermalizes: bool
    message: str
    times: np.ndarray
    trajectories: Mapping
    final_values: Mapping
    method: str
    epsilon: float
    params: dict
    steady_state: str = "gibbs"
    heat_currents: tuple | None = None
    secular_strength: float = float("nan")
    in_secular_regime: np.ndarray | None = None

    @property
    def exponent(self) -> float:
        """Exponent of the power law of the gap time (``fits["gap"].exponent``)."""
        return self.fits["gap"].exponent

    def table(self) -> str:
        """A text table: lambda, t_eq by each method, final distance to Gibbs, then the fitted exponents."""
        names = list(self.t_fit)
        head = f"{'lambda':>10} {'1/gap':>12} {'t(dist<' + format(self.epsilon, 'g') + ')':>14}"
        last = "|rho_inf-Gibbs|" if self.steady_state != "ness" else "|rho_inf-Gibbs*|"
        head += "".join(f" {'fit:' + n:>14}" for n in names) + f" {last:>16}"
        sec = self.in_secular_regime is not None
        if sec:
            head += f" {'secular':>8}"
        lines = [head]
        for i, lam in enumerate(self.strengths):
            row = f"{lam:>10.4g} {self.t_gap[i]:>12.5g} {self.t_distance[i]:>14.5g}"
            row += "".join(f" {self.t_fit[n][i]:>14.5g}" for n in names)
            row += f" {self.final_distance_to_gibbs[i]:>16.3e}"
            if sec:
                row += f" {'yes' if self.in_secular_regime[i] else 'NO':>8}"
            lines.append(row)
        lines.append("power laws t = c lambda^p:")
        for k, f in self.fits.items():
            # the Davies gap and distance times are computed at lambda = 1 and scaled: p = -2 is not a measurement
            note = ("   (-2 by construction: Davies rates are lambda^2 x const)"
                    if self.method == "davies" and k in ("gap", "distance") else "")
            lines.append(f"  {k:<16} p = {f.exponent:.6f} +- {f.stderr:.1e}   c = {f.prefactor:.5g}{note}")
        lines.append(self.message)
        if sec:
            lines.append(f"secular regime (dm.secular_regime, Davies t_eq within 10% of the ULE): lambda < "
                         f"{self.secular_strength:.3g}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Plain data for JSON (io.save_json)."""
        return {
            "method": self.method, "strengths": self.strengths, "t_gap": self.t_gap,
            "t_distance": self.t_distance, "epsilon": self.epsilon,
            "t_fit": dict(self.t_fit), "t_fit_err": dict(self.t_fit_err),
            "fits": {k: dataclasses.asdict(v) for k, v in self.fits.items()},
            "final_distance_to_gibbs": self.final_distance_to_gibbs,
            "stationary_states": self.stationary_states, "thermalizes": self.thermalizes,
            "message": self.message, "times": self.times, "trajectories": dict(self.trajectories),
            "final_values": dict(self.final_values), "steady_state": self.steady_state,
            "heat_currents": None if self.heat_currents is None else list(self.heat_currents),
            "secular_strength": self.secular_strength, "in_secular_regime": self.in_secular_regime,
        }


def _spectrum_of(system, sector=None) -> tuple[Spectrum, SpinChain | None]:
    if isinstance(system, SpinChain):
        return diagonalize(system, sector=sector), system
    if isinstance(system, Spectrum):
        return system, None
    raise TypeError(f"system must be a SpinChain (dm.xxz, ...) or a Spectrum, got {type(system).__name__}")


def _initial_density(initial, spec: Spectrum, chain, vector_ok: bool = False) -> np.ndarray:
    if isinstance(initial, str):
        if chain is None:
            raise ValueError("a named initial state needs a SpinChain; pass a state vector or density matrix")
        i = int(np.flatnonzero(product_state(chain.L, initial))[0])
        d = spec.dim  # a basis state: one sparse entry, never a dense d x d matrix
        return sp.csr_array(([1.0], ([i], [i])), shape=(d, d))
    # finite, right shape, normalized or Hermitian with unit trace, positive (the shared validator)
    st = _checks.check_density_matrix("initial", initial, spec.dim)
    if st.ndim == 1 and not vector_ok:
        return np.outer(st, st.conj())
    return st  # a state vector stays one (the Davies paths take vectors: no d x d matrix)


def _default_observables(spec: Spectrum, chain, couplings) -> dict:
    """The chain's charges: energy, total S^z (XXZ family, when the bath does not conserve it)."""
    H = chain.hamiltonian(sparse=True) if chain is not None else spec.from_eigenbasis(np.diag(spec.energies))
    obs = {"energy": H}
    if chain is not None and "sz" in chain.symmetries:
        Sz = chain.total("z")
        # conserved by the bath too? then it does not relax and carries no time scale
        ops = [sp.csr_array(_checks.as_operator("couplings", A, spec.dim)) for A in _as_list(couplings)]
        conserved = all(abs(A @ Sz - Sz @ A).max() <= 1e-12 if (A @ Sz - Sz @ A).nnz else True for A in ops)
        if not conserved:
            obs["Sz"] = Sz
    pr = chain.params if chain is not None else {}
    integrable_ring = (chain is not None and chain.name == "xxz" and chain.bc == "periodic" and pr.get("j2", 0) == 0
                       and pr.get("hx", 0) == 0 and pr.get("staggered", 0) == 0 and pr.get("disorder", 0) == 0)
    if integrable_ring and 5 <= chain.L <= 16:
        # the next local charge that a real state can carry: Q3 (the energy current) is purely imaginary, so
        # it vanishes in every real state; Q4 is real
        from .integrable import xxz_charge

        try:
            obs["Q4"] = xxz_charge(chain.L, 4, pr["delta"], j=pr.get("j", 1.0))
        except ValueError:  # e.g. the free-fermion point, where Q4 is not unique
            pass
    return obs


_SECULAR_MAX_N = 2000  # teq_scan estimates the secular regime by default up to this many eigenstates


def _make_generator(method, spec, couplings, bath, lamb_shift):
    if method == "davies":
        return DaviesGenerator(spec, couplings, bath, strength=1.0, lamb_shift=lamb_shift)
    if method == "ule":
        from .ule import ULEGenerator

        return ULEGenerator(spec, couplings, bath, strength=1.0, lamb_shift=lamb_shift)
    from .redfield import RedfieldGenerator

    if lamb_shift:
        return RedfieldGenerator(spec, couplings, bath, strength=1.0, lamb_shift=True)
    return RedfieldGenerator(spec, couplings, bath, strength=1.0)


def _distance_at(gen, X0, T, t, rotating, w0_at=None):
    if rotating:  # Davies, interaction picture: the same trace distance (covariance), real arithmetic
        c = gen._core
        if T.ndim == 1 and c.all_single and w0_at is not None:
            d = _distance_split(gen, X0, T, t, w0_at)
            if d is not None:
                return d
        X = next(gen._evolve_eig(X0, np.array([t]), rotating=True))
        if T.ndim == 1:  # the target's nu = 0 elements (a stationary state lives inside the levels)
            X[c.I0, c.J0] -= T
        else:
            X -= T
        return _trace_norm_levels(c, X, overwrite=True)
    D = gen.evolve(X0, [t])[0] - T
    return _trace_norm(D)


_SPLIT_REL = 1e-10  # the coherences left out of _distance_split change the trace norm by at most this fraction
_SPLIT_MAX = 0.6  # ... and the split is used while the kept states are at most this fraction of all


def _distance_split(gen, X0, T0, t, w0_at):
    r"""Half the trace norm of :math:`X(t) - T` from the coherences of the slow states only, with a rigorous
    bound on the rest (rotating frame, non-degenerate spectrum, ``T`` inside the levels); None when the slow
    states are too many for this to save work.

    Coherences evolve in closed form, :math:`X_{ab}(t) = X_{ab}(0)\,e^{-\tau r_{ab}}` (:math:`\tau = \lambda^2 t`;
    pairs of degenerate Bohr classes aside), and :math:`e^{-\tau r_{ab}} = e^{-\tau K_a/2}e^{-\tau K_b/2}
    e^{\tau G_{ab}}` with :math:`G = \sum_\alpha\gamma_\alpha(0)\,d_\alpha d_\alpha^T \succeq 0`
    (:math:`d_\alpha` the diagonal of :math:`A_\alpha`). So :math:`Y = X(0)\circ e^{-\tau r}`, with diagonal
    :math:`y_a = X_{aa}(0)e^{-\tau\Gamma_a}` (:math:`\Gamma_a` the rate out of state a), is positive
    semidefinite (Schur product theorem). Split the states into S (kept) and F; :math:`D = X(t) - T` differs
    from :math:`D_{SS} \oplus P_F` (the S block with its coherences, F's populations alone) by
    :math:`R = \begin{pmatrix}0 & Y_{SF}\\ Y_{FS} & Y_{FF} - \mathrm{diag}\,Y_{FF}\end{pmatrix}`, and
    :math:`\|R\|_1 \le 2\sqrt{\mathrm{tr}Y_{SS}\,\mathrm{tr}Y_{FF}} + 2\,\mathrm{tr}Y_{FF}` (for :math:`Y \succeq 0`, :math:`\|Y_{SF}\|_1 \le \|Y_{SS}^{1/2}\|_2
    \|Y_{FF}^{1/2}\|_2`). F is the largest set of states, smallest :math:`y_a` first, for which that bound is
    below half of ``_SPLIT_REL`` times :math:`\|P\|_1 \le \|D\|_1`. Pairs of degenerate Bohr classes do not
    follow the closed form; where they touch F, the difference between their true and closed-form values (at most
    twice its sum in trace norm) takes the other half, the pairs with the largest differences moved to S.
    One ``eigvalsh`` of the S block then gives the distance to that relative accuracy. Late in a relaxation most
    states' coherences have decayed by :math:`e^{-\tau\Gamma_a}` and S is a fraction of the states (measured at
    the epsilon = 1e-3 crossing: 10-16 % at L = 10-12; an eigvalsh of n/2 would already cost 1/8 of n).
    """
    c = gen._core
    if any(c.rate_l[k][0, 0] < 0 for k in range(len(c.A))):  # gamma(0) < 0 would break G >= 0
        return None
    x = np.real(np.diagonal(X0))
    if np.any(x < -1e-14):
        return None
    tau = gen._lam2 * t
    y = np.clip(x, 0.0, None) * np.exp(-tau * np.clip(c.out_rates(), 0.0, None))
    P = np.real(w0_at(t) - T0)  # the populations (all levels non-degenerate: the nu = 0 block is the diagonal)
    norm_p = float(np.sum(np.abs(P)))
    if not norm_p > 0:
        return None
    budget = _SPLIT_REL * norm_p  # on ||D||_1 - ||D_SS (+) P_F||_1, half for R_Y, half for the classes below
    order = np.argsort(y, kind="stable")  # ascending: the first ones go to F
    tail = np.cumsum(y[order])  # tr Y_FF when the first k+1 of `order` are in F (smallest summed first)
    total = float(np.sum(y))
    err = 2.0 * np.sqrt(total * tail) + 2.0 * tail  # >= the bound of the docstring (tr Y_SS <= total)
    in_f = np.zeros(c.n, dtype=bool)
    in_f[order[:int(np.searchsorted(err, 0.5 * budget, side="right"))]] = True
    # pairs of degenerate Bohr classes evolve through their small blocks, not the closed form Y: where they
    # touch F, R differs from its PSD part by Delta (their true minus closed-form values), ||Delta||_1 <=
    # 2 sum |Y_true - Y|; the pairs with the largest differences go to S until the rest fits the budget
    ma, mb = c.multi_pairs()
    touch = in_f[ma] | in_f[mb]
    if np.any(touch):
        a, b = ma[touch], mb[touch]
        U = np.unique(np.concatenate([a, b]))
        pos = np.full(c.n, -1, dtype=np.int64)
        pos[U] = np.arange(U.size)
        true = next(gen._evolve_eig(X0, np.array([t]), rotating=True, subset=U))[pos[a], pos[b]]
        closed = X0[a, b] * np.exp(-tau * c.pair_rates(a, b) - 1j * tau * c.pair_shifts(a, b))
        delta = 2.0 * np.abs(true - closed)
        big = np.argsort(-delta, kind="stable")
        rest = np.cumsum(delta[big][::-1])[::-1]  # rest[k] = sum of delta[big[k:]]
        move = int(np.searchsorted(-rest, -0.5 * budget, side="left"))  # first k with rest[k] <= budget / 2
        in_f[a[big[:move]]] = False
        in_f[b[big[:move]]] = False
    S, F = np.flatnonzero(~in_f), np.flatnonzero(in_f)
    if S.size > _SPLIT_MAX * c.n:
        return None
    Y = next(gen._evolve_eig(X0, np.array([t]), rotating=True, subset=S))
    Y[np.arange(S.size), np.arange(S.size)] -= T0[S]
    Y = _hermitian_part_inplace(Y)
    w = sla.eigh(Y.T, eigvals_only=True, overwrite_a=True, check_finite=False, driver="evd")
    return _checked_distance(0.5 * (float(np.sum(np.abs(w))) + float(np.sum(np.abs(P[F])))))


def _pinched_distance(c, D, v=None) -> float:
    r"""Half the trace norm of the level blocks of the eigenbasis matrix ``D`` (its pinching to the energy
    levels; ``v`` its nu = 0 elements if already extracted): a lower bound of half :math:`\|D\|_1`, O(n^2)."""
    if v is None:
        v = D[c.I0, c.J0]
        v = 0.5 * (v + np.conj(v[c.tpos]))
    off = np.concatenate([[0], np.cumsum(c.g**2)[:-1]])
    d0 = 0.0
    for g, (levs, _) in c.members.items():
        B = v[off[levs][:, None] + np.arange(g * g)[None, :]].reshape(-1, g, g)
        d0 += float(np.sum(np.abs(B[:, 0, 0] if g == 1 else np.linalg.eigvalsh(B))))
    return 0.5 * d0


def _hermitian_part_inplace(D, block: int = 512):
    """``D <- (D + D^dag)/2`` in place, by blocks of rows (temporaries of ``block x n``, not ``n x n``)."""
    n = D.shape[0]
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        # the diagonal block and the strip to its left; the strip above is its mirror
        diag = 0.5 * (D[r0:r1, r0:r1] + D[r0:r1, r0:r1].conj().T)
        D[r0:r1, r0:r1] = diag
        if r0:
            left = 0.5 * (D[r0:r1, :r0] + D[:r0, r0:r1].conj().T)
            D[r0:r1, :r0] = left
            D[:r0, r0:r1] = left.conj().T
    return D


def _trace_norm_levels(c, D, rel: float = 1e-10, overwrite: bool = False) -> float:
    r"""Half the trace norm of a Hermitian eigenbasis matrix ``D``, from its level blocks when that is exact
    to ``rel``.

    Pinching to the energy levels (``D_0``: the blocks inside degenerate levels) never increases the trace
    norm, and the rest ``C = D - D_0`` adds at most :math:`\|C\|_1 \le \sqrt{n}\|C\|_F`:
    :math:`\|D_0\|_1 \le \|D\|_1 \le \|D_0\|_1 + \sqrt{n}\|C\|_F`. Late in a Davies evolution the coherences
    between levels have decayed (their rates are not the slow ones), so the bound is usually below ``rel``
    times the value and the O(n^2) level-block norm is returned; otherwise one ``eigvalsh`` of ``D``.
    ``overwrite=True``: ``D`` is a temporary of the caller's and is used as the work array (no n x n copy).
    """
    D = _hermitian_part_inplace(D if overwrite else np.array(D, copy=True))
    v = D[c.I0, c.J0]
    d0 = 2.0 * _pinched_distance(c, None, v)
    frob2 = c.norm2_split(D)[1]  # exactly 0 for a matrix inside the levels
    bound = np.sqrt(c.n * frob2)
    if bound <= rel * d0:
        return _checked_distance(0.5 * d0)
    # LAPACK works in Fortran order: the transpose of a C-ordered Hermitian matrix is its complex conjugate,
    # which has the same eigenvalues, so it is passed as is and overwritten (no copy of n x n)
    return _checked_distance(0.5 * float(np.sum(np.abs(
        sla.eigh(D.T, eigvals_only=True, overwrite_a=True, check_finite=False, driver="evd")))))


def _decreasing_root(fun, lt, t_guess, xtol_rel):
    r"""Time where the decreasing function ``fun(ln t)`` (``ln d - ln eps``) crosses zero, from ``t = e^lt``.

    Bracket by Newton steps on :math:`\ln d(t)` (slope of the exponential model :math:`-1/t_{guess}`, then the
    measured secant: :math:`\ln d` is not linear in t before the slowest mode dominates), each stepping a
    relative margin beyond the predicted crossing so that the next point lands just across it (at most
    :math:`e^3` per step); then ``brentq`` in t (close to linear there) to ``xtol_rel``. ``inf`` when no
    bracket is found.
    """
    f = fun(lt)
    lo = hi = None
    margin = 1e-3
    path = [(np.exp(lt), f)]
    for _ in range(60):
        if f > 0:
            lo = lt
        else:
            hi = lt
        if lo is not None and hi is not None:
            break
        if f <= 0 and lt < np.log(1e-6 * t_guess):
            return float(np.exp(hi))  # already below epsilon at (almost) t = 0
        t = np.exp(lt)
        slope = -1.0 / t_guess
        if len(path) > 1 and path[-2][1] != f:
            (t0_, f0_) = path[-2]
            sec = (f - f0_) / (t - t0_)
            if sec < 0:
                slope = sec
        t_new = t - f / slope * (1.0 + margin) + np.sign(f) * margin * t
        lt = lt + float(np.clip(np.log(max(t_new, t * np.exp(-3.0))) - lt, -3.0, 3.0))
        f = fun(lt)
        path.append((np.exp(lt), f))
    if lo is None or hi is None:
        return float("inf")
    return _bracketed_root(fun, lo, hi, xtol_rel)


def _bracketed_root(fun, lo, hi, xtol_rel):
    """``brentq`` in t on the bracket ``[e^lo, e^hi]`` of the decreasing ``fun(ln t)`` (its ends already known)."""
    t_lo, t_hi = float(np.exp(lo)), float(np.exp(hi))
    return float(so.brentq(lambda t: fun(np.log(t)) if t not in (t_lo, t_hi) else fun(lo if t == t_lo else hi),
                           t_lo, t_hi, xtol=xtol_rel * min(t_lo, t_hi)))


def _offset_root(f_exact, f_low, lt_low, t_guess, xtol_rel, max_exact: int = 6):
    r"""Root of the decreasing ``f_exact(ln t)`` from the root ``lt_low`` of a cheap lower model ``f_low``.

    ``f_low <= f_exact`` everywhere and both decrease, so the root lies at or after ``lt_low``. The difference
    :math:`\delta = f_{exact} - f_{low}` (the coherences' share of the distance) changes slowly: each exact
    evaluation fixes :math:`\delta` there, the next point solves :math:`f_{low}(t) + \delta = 0` (cheap), and the
    iteration stops when a step is below ``xtol_rel`` (it contracts by :math:`|\delta'|/|f_{low}'|` per step,
    typically 1e-4: two exact evaluations). Falls back to a bracketed ``brentq`` on ``f_exact`` otherwise.
    """
    lo, hi = lt_low, None  # f_exact(lo) >= f_low(lo) = 0: a lower bracket end without an evaluation
    lt = lt_low
    for _ in range(max_exact):
        fe = f_exact(lt)
        if fe == 0.0:
            return float(np.exp(lt))
        if fe > 0:
            lo = max(lo, lt)
        else:
            hi = lt if hi is None else min(hi, lt)
        delta = fe - f_low(lt)
        lt_new = np.log(_decreasing_root(lambda x: f_low(x) + delta, lt, t_guess, 0.01 * xtol_rel))
        if not np.isfinite(lt_new):
            break
        if hi is not None:
            lt_new = min(max(lt_new, lo), hi)
        if abs(np.exp(lt_new) - np.exp(lt)) <= xtol_rel * np.exp(lt_new):
            return float(np.exp(lt_new))
        lt = lt_new
    if hi is None:
        return _decreasing_root(f_exact, lo, t_guess, xtol_rel)
    return _bracketed_root(f_exact, lo, hi, xtol_rel)


def _distance_crossing(gen, rho0, target, epsilon, t_guess, *, target_basis="computational",
                       state_basis="computational") -> float:
    r"""The time the trace distance to ``target`` falls to ``epsilon`` (relative accuracy 1e-7).

    Under a CPTP semigroup the trace distance to a stationary state never increases, so the crossing is
    unique: :func:`_decreasing_root` on :math:`\ln d - \ln\epsilon`. Each exact evaluation is an ``eigvalsh`` of
    the whole state. For the Davies generator the *pinched* distance (the level blocks alone: an O(n^2) lower
    bound that also decreases) crosses ``epsilon`` first, and the exact crossing lies just after it:
    :func:`_offset_root` finds it with two exact evaluations as a rule. ``target_basis="w0"``: ``target`` is
    the nu = 0 vector of a state inside the levels (no n x n matrix); ``state_basis="eigen"``: ``rho0`` is
    already the eigenbasis matrix.
    """
    davies = hasattr(gen, "_evolve_eig")
    if davies:
        spec = gen.spectrum
        c = gen._core
        X0 = np.asarray(rho0) if state_basis == "eigen" else gen._to_eig_state(rho0)
        if target_basis == "w0":
            T = np.asarray(target)
        else:
            T = (np.asarray(target) if target_basis == "eigen" else
                 spec.to_eigenbasis(_checks.as_operator("target", target, spec.dim), check_sector=False))
            T = T[c.I0, c.J0] if _inside_levels(c, T) else T
        if np.iscomplexobj(X0) and not np.any(X0.imag):
            X0 = X0.real
        if np.iscomplexobj(T) and not np.any(T.imag):
            T = T.real
    else:
        X0, T = rho0, target
    cache = {}
    w0_at = gen._w0_evaluator(X0) if davies else None

    def logd(lt):
        if lt not in cache:
            d = _distance_at(gen, X0, T, np.exp(lt), davies, w0_at)
            cache[lt] = np.log(max(d, 1e-300)) - np.log(epsilon)
        return cache[lt]

    lt = np.log(t_guess * max(np.log(1 / epsilon), 1.0))
    if not davies:
        return _decreasing_root(logd, lt, t_guess, 1e-7)
    T0 = T if T.ndim == 1 else T[c.I0, c.J0]
    pcache = {}

    def log_pinched(lt_):  # the nu = 0 block alone: no n x n matrix, no coherences between levels
        if lt_ not in pcache:
            v = w0_at(np.exp(lt_)) - T0
            v = 0.5 * (v + np.conj(v[c.tpos]))
            pcache[lt_] = np.log(max(_pinched_distance(c, None, v), 1e-300)) - np.log(epsilon)
        return pcache[lt_]

    t_low = _decreasing_root(log_pinched, lt, t_guess, 1e-10)
    if not (np.isfinite(t_low) and t_low > 0):
        return _decreasing_root(logd, lt, t_guess, 1e-7)
    return _offset_root(logd, log_pinched, np.log(t_low), t_guess, 1e-7)


def _inside_levels(c, T) -> bool:
    """True when the eigenbasis matrix ``T`` vanishes exactly between different levels (a stationary state does)."""
    return int(np.count_nonzero(T)) == int(np.count_nonzero(T[c.I0, c.J0]))


def teq_scan(system, couplings, bath, strengths, *, initial="neel", method: str = "davies",
             observables: Mapping | None = None, epsilon: float = 1e-3, n_times: int = 200,
             t_max_factor: float = 30.0, sector: dict | None = None, lamb_shift: bool = False,
             progress: bool | None = None, secular_check: bool | None = None) -> ScanResult:
    r"""Relaxation time :math:`t_{eq}` versus coupling :math:`\lambda`, with power-law fits.

    One diagonalization and one generator (built at :math:`\lambda = 1`) serve the whole scan; each
    strength reuses its eigen-data (:meth:`DaviesGenerator.with_strength`). Per strength: :math:`1/\Delta`,
    the trace-distance time, and exponential fits of the observables' slow tails on a log time grid of
    ``n_times`` points from :math:`0.1/W` to ``t_max_factor`` :math:`/\Delta` (:math:`W` the bandwidth).

    Parameters
    ----------
    system : SpinChain, Spectrum or DaviesGenerator
        The chain (diagonalized once, by S^z blocks where it conserves S^z) or its spectrum; or a Davies
        generator already built (then ``couplings = bath = None``): the scan reuses its eigen-data (gap,
        kernel, slow modes) instead of building a second generator.
    couplings, bath
        As for :class:`~davies_mb.DaviesGenerator` (None with a generator).
    strengths : sequence of float
        The couplings :math:`\lambda > 0`.
    initial : str or array
        ``"neel"``, ``"domain"``, ``"up"``, a bit string, a state vector or a density matrix.
    method : {"davies", "redfield", "ule"}
        The secular Davies generator, the Bloch-Redfield generator (small systems; where
        :math:`t\propto\lambda^{-2}` stops holding), or the universal Lindblad equation
        (:class:`~davies_mb.ULEGenerator`: non-secular and completely positive; its trajectories cost many
        matrix products, so keep it to small chains here and use :func:`davies_mb.ule_crossover` for gaps).
    observables : mapping name -> operator, optional
        Observables whose slow tails are fitted; default: the integrable chain's charges, i.e. the energy,
        total :math:`S^z` (when the bath breaks it) and, for a periodic integrable XXZ chain, the local charge
        :math:`Q_4` (:func:`davies_mb.integrable.xxz_charge`; :math:`Q_3`, the energy current, is purely
        imaginary and vanishes in every real state, so it carries no time scale from a real initial state).
    epsilon : float
        Threshold of the trace-distance time.
    secular_check : bool, "tail" or None
        Estimate the secular regime (:func:`davies_mb.secular_regime`: ``secular_strength`` and
        ``in_secular_regime`` of the result, with a warning for strengths outside it). ``None`` (default):
        only up to ``n = 2000`` eigenstates, since the estimate costs :math:`O(n^2)` per point of its
        strength grid (at L = 16 in the S^z = 0 sector longer than the whole scan); the message says when it
        was skipped. ``"tail"``: also the energy tail's limit from ``initial`` (``secular_regime(...,
        initial=...)``), which can be several times stricter than the gap's (measured at L = 5,
        docs/studies.md) but costs about as much as a scan at L = 8 and a third of one at L = 10.

    Returns
    -------
    ScanResult
        If the bath leaves a conserved quantity (several stationary states), ``thermalizes`` is False, the
        times refer to the restricted equilibrium the chain actually reaches, ``final_distance_to_gibbs``
        says how far it stays from Gibbs, and a warning is issued.
    """
    _checks.check_choice("method", method, _METHODS)
    lams = _check_strengths(strengths)
    n_times = _check_n_times(n_times)
    t_max_factor = _checks.check_positive("t_max_factor", t_max_factor)
    if not (0 < _checks.check_positive("epsilon", epsilon) < 1):
        raise ValueError(f"epsilon must lie in (0, 1), got {epsilon!r}")
    if secular_check not in (None, True, False, "tail"):
        raise ValueError(f"secular_check must be None, True, False or 'tail', got {secular_check!r}")
    if isinstance(system, DaviesGenerator):
        if couplings is not None or bath is not None or method != "davies" or sector is not None:
            raise ValueError("teq_scan(generator, None, None, strengths): a DaviesGenerator brings its spectrum, "
                             "couplings and baths; pass couplings=None, bath=None, method='davies' and no sector")
        gen1 = system.with_strength(1.0)  # shares the generator's eigen-data (gap, kernel) already computed
        spec, chain = system.spectrum, None
        bath = gen1.baths
        lamb_shift = gen1._core.lamb_shift
        couplings = []
    else:
        spec, chain = _spectrum_of(system, sector)
        gen1 = _make_generator(method, spec, couplings, bath, lamb_shift)
    rho0 = _initial_density(initial, spec, chain, vector_ok=method == "davies")
    betas = {b.beta for b in _as_list(bath)}
    beta = betas.pop() if len(betas) == 1 else None  # several temperatures: no Gibbs state to compare with
    if method in ("redfield", "ule"):
        rho0 = _dense(rho0)  # small systems only (d <= 128)
    gibbs = spec.gibbs(beta) if (beta is not None and method in ("redfield", "ule")) else None
    if observables is None:
        observables = _default_observables(spec, chain, couplings)
    names = list(observables)
    # Hermitian observables only: the trajectories, fits and final values are real numbers
    ops = [_checks.as_operator(f"observables[{n!r}]", observables[n], spec.dim) for n in names]
    width = float(spec.energies[-1] - spec.energies[0]) or 1.0

    n = lams.size
    t_gap, t_dist, dist_g = np.empty(n), np.empty(n), np.empty(n)
    t_fit = {k: np.empty(n) for k in names}
    t_err = {k: np.empty(n) for k in names}
    finals = {k: np.empty(n) for k in names}
    traj = {k: np.empty((n, n_times)) for k in names}
    times = np.empty((n, n_times))
    kdims = []

    if method == "davies":
        # lambda-independent pieces: kernel, final state, mode expansions, distance crossing at lambda = 1
        expansions = []
        X0e = gen1._to_eig_state(rho0)  # basis changes once: (n, n) matrices in the eigenbasis of H
        # the nu = 0 block's decomposition first, before the observables' n x n matrices exist (memory peak)
        gen1._w0_evaluator(X0e)
        ops_e = [op_in_eigenbasis(spec, op, f"observables[{name!r}]") for name, op in zip(names, ops)]
        for Oe in ops_e:
            try:
                expansions.append(gen1.mode_expansion([Oe], X0e, commuting=True, basis="eigen"))
            except ValueError:  # not a charge of H: all Bohr blocks contribute
                expansions.append(gen1.mode_expansion([Oe], X0e, basis="eigen"))
        gap1 = gen1.gap()
        kdim = gen1.kernel_dimension()
        # everything in the eigenbasis of H: (n, n) matrices, never d x d when the spectrum is one sector
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # undamped coherences are reported through the message below
            X_inf = gen1.stationary_state(rho0, basis="eigen")
        c1 = gen1._core
        inside = _inside_levels(c1, X_inf)  # always, for a stationary state: tr(O X) from the nu = 0 elements
        finals_e = {name: float(np.real(np.sum(Oe[c1.J0, c1.I0] * X_inf[c1.I0, c1.J0]) if inside
                                        else np.sum(Oe.T * X_inf))) for name, Oe in zip(names, ops_e)}
        ops_e = Oe = None  # the expansions hold what the scan needs: n x n arrays fewer from here on
        if beta is None and kdim == 1:
            currents_inf = gen1.heat_currents(X_inf, basis="eigen")
        # both states live inside the levels: the level-block norm is exact (no eigvalsh of n x n)
        dg = (_trace_norm_levels(c1, X_inf - np.diag(spec.gibbs_weights(beta)), overwrite=True)
              if beta is not None else np.nan)  # NESS: no Gibbs state
        T_inf = X_inf[c1.I0, c1.J0] if inside else X_inf
        del X_inf
        tau_eps = (_distance_crossing(gen1, X0e, T_inf, epsilon, 1.0 / gap1, state_basis="eigen",
                                      target_basis="w0" if T_inf.ndim == 1 else "eigen")
                   if gap1 > 0 else np.inf)
        for i, lam in enumerate(_progress(lams, progress, "lambda scan")):
            g = gen1.with_strength(lam)
            gap = g.gap()
            kdims.append(kdim)
            t_gap[i] = 1.0 / gap if gap > 0 else np.inf
            t_dist[i] = tau_eps / lam**2
            dist_g[i] = dg
            times[i] = log_times(0.1 / width, t_max_factor * (t_gap[i] if np.isfinite(t_gap[i]) else 1e3 / width),
                                 n_times)
            for name, op, me in zip(names, ops, expansions):
                vals = me.evaluate(times[i], lam)[0]
                final = finals_e[name]
                traj[name][i], finals[name][i] = np.real(vals), final
                t_fit[name][i], t_err[name][i] = fit_exponential_tail(
                    times[i], np.real(vals) - final,
                    resample=lambda t, me=me, lam=lam, final=final: me.evaluate(t, lam)[0] - final)
    else:
        for i, lam in enumerate(_progress(lams, progress, f"lambda scan ({method})")):
            g = gen1.with_strength(lam)
            gap = g.gap()
            kdim = g.kernel_dimension()
            kdims.append(kdim)
            rho_inf = g.stationary_state(rho0)
            t_gap[i] = 1.0 / gap if gap > 0 else np.inf
            dist_g[i] = trace_distance(rho_inf, gibbs) if gibbs is not None else np.nan
            t_dist[i] = (_distance_crossing(g, rho0, rho_inf, epsilon, t_gap[i])
                         if np.isfinite(t_gap[i]) else np.inf)
            times[i] = log_times(0.1 / width, t_max_factor * (t_gap[i] if np.isfinite(t_gap[i]) else 1e3 / width),
                                 n_times)
            vals = np.real(g.expect(ops, rho0, times[i]))
            for j, name in enumerate(names):
                final = float(np.real(np.trace(_dense(ops[j]) @ rho_inf)))
                traj[name][i], finals[name][i] = vals[j], final
                t_fit[name][i], t_err[name][i] = fit_exponential_tail(
                    times[i], vals[j] - final,
                    resample=lambda t, g=g, j=j, final=final: np.real(g.expect([ops[j]], rho0, t)[0]) - final)

    kmax = int(max(kdims))
    thermal = kmax == 1 and bool(np.all(np.isfinite(t_gap))) and beta is not None
    currents = None
    steady = "gibbs"
    if not np.all(np.isfinite(t_gap)):
        steady = "oscillating"
    elif kmax > 1:
        steady = "restricted"
    elif beta is None:
        steady = "ness"
    if beta is None and method == "davies" and kmax == 1:
        currents = tuple(float(j) for j in currents_inf)
    if kmax > 1:
        message = (f"the bath leaves {kmax} stationary states: a conserved quantity survives (see "
                   "dm.recognize). The times above are to the restricted equilibrium the chain reaches, at "
                   f"trace distance {np.nanmax(dist_g):.3g} from the Gibbs state; the chain does not thermalize.")
        _checks.warn(message)
    elif not np.all(np.isfinite(t_gap)):
        message = ("the generator has undamped coherences (gap = 0): rho(t) keeps oscillating and has no "
                   "relaxation time; the final state is a long-time average.")
        _checks.warn(message)
    elif beta is None:
        betas_all = [b.beta for b in _as_list(bath)]
        cur = ("" if currents is None else " Heat currents into the chain at lambda = 1 (scale as lambda^2): "
               + ", ".join(f"{j:+.4g}" for j in currents) + f" (sum {sum(currents):.1e}).")
        message = (f"unique stationary state, but the baths have different temperatures (betas {betas_all}): the "
                   "chain relaxes to a non-equilibrium steady state (NESS) that carries heat, not to a Gibbs "
                   "state; the times above are to the NESS." + cur)
    else:
        where = f" of the sector {spec.sector}" if spec.n < spec.dim else ""
        message = (f"unique stationary state: the chain thermalizes (final distance to the Gibbs state{where} "
                   f"{np.nanmax(dist_g):.2e}).")
    for name in names:
        if np.all(np.isnan(t_fit[name])) and np.max(np.abs(traj[name] - finals[name][:, None])) < 1e-12:
            # the observable never leaves its final value (e.g. total S^z from an S^z = 0 state): no time scale
            del t_fit[name], t_err[name]
            message += f" {name}: stays at its final value (nothing to fit)."
    if secular_check is None:
        secular_check = spec.n <= _SECULAR_MAX_N
    if secular_check:
        tail0 = rho0 if secular_check == "tail" else None
        # the Davies generator already holds the couplings in the eigenbasis: no second basis change
        regime = (_secular_check(gen1, None, None, lams, tail0) if method == "davies"
                  else _secular_check(spec, couplings, bath, lams, tail0))
        sec_strength, sec_inside = regime.strength_max, regime.inside(lams)
    else:
        sec_strength, sec_inside = float("nan"), None
        message += (f" Secular-regime estimate skipped (n = {spec.n} > {_SECULAR_MAX_N}; pass secular_check=True "
                    "or call dm.secular_regime(generator)).")
    fits = {"gap": fit_power_law(lams, t_gap), "distance": fit_power_law(lams, t_dist)}
    for name in t_fit:
        fits[f"fit:{name}"] = fit_power_law(lams, t_fit[name])
    params = dict(method=method, strengths=lams, epsilon=epsilon, n_times=n_times, t_max_factor=t_max_factor,
                  initial=initial if isinstance(initial, str) else "array", observables=names,
                  lamb_shift=lamb_shift, sector=sector, beta=beta,
                  chain=(dict(name=chain.name, L=chain.L, bc=chain.bc, params=chain.params) if chain else None))
    return ScanResult(strengths=lams, t_gap=t_gap, t_distance=t_dist, t_fit=t_fit, t_fit_err=t_err, fits=fits,
                      final_distance_to_gibbs=dist_g, stationary_states=kmax, thermalizes=thermal,
                      message=message, times=times, trajectories=traj, final_values=finals, method=method,
                      epsilon=float(epsilon), params=params, steady_state=steady, heat_currents=currents,
                      secular_strength=sec_strength, in_secular_regime=sec_inside)


def _secular_check(spec, couplings, bath, lams, initial=None):
    """The estimated secular regime (dm.secular_regime of a spectrum and couplings, or of a generator with
    ``couplings = bath = None``; with ``initial``, the energy tail's limit too); warns for the strengths outside it."""
    from .validity import secular_regime

    regime = (secular_regime(spec, initial=initial) if couplings is None
              else secular_regime(spec, couplings, bath, initial=initial))
    outside = lams[~regime.inside(lams)]
    if outside.size:
        _checks.warn(f"{outside.size} of {lams.size} strengths (from {outside.min():g}) lie outside the estimated "
                     f"secular regime: " + regime.describe(float(outside.min())))
    return regime


def secular_crossover(davies: ScanResult, other: ScanResult, rel: float = 0.1) -> float:
    r"""The smallest :math:`\lambda` where ``other``'s :math:`1/\Delta` departs from the Davies value by more
    than ``rel`` (relative), or ``nan`` if it never does on the common strengths."""
    if not np.array_equal(davies.strengths, other.strengths):
        raise ValueError("the two scans must use the same strengths")
    dev = np.abs(other.t_gap / davies.t_gap - 1.0)
    bad = np.flatnonzero(dev > rel)
    return float(davies.strengths[bad[0]]) if bad.size else float("nan")


def _dense(op):
    return op.toarray() if hasattr(op, "toarray") else np.asarray(op)


def _trace_norm(D) -> float:
    """Half the trace norm of a Hermitian matrix (the trace distance when D is a difference of states);
    a value outside [0, 1] (or NaN) means one of the states is not a density matrix: it raises."""
    d = 0.5 * float(np.sum(np.abs(sla.eigvalsh(0.5 * (D + D.conj().T), check_finite=False))))
    return _checked_distance(d)


def _checked_distance(d: float) -> float:
    if not (np.isfinite(d) and -1e-12 <= d <= 1.0 + 1e-9):
        raise _checks.SelfCheckError(f"a trace distance came out as {d!r}, outside [0, 1]: a state is not a "
                                     "density matrix (please report this with the parameters)")
    return min(max(d, 0.0), 1.0)


# -- two-step relaxation -------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TwoStepResult:
    r"""A local observable of an integrable chain: dephasing to the diagonal ensemble, then the bath.

    Attributes
    ----------
    times : ndarray
        Common log time grid.
    isolated : ndarray
        :math:`\langle O\rangle(t)` without the bath (unitary evolution).
    strengths : ndarray; davies : ndarray (n_strengths, n_times)
        With the bath at each :math:`\lambda`.
    initial_value, de_value, gibbs_value : float
        :math:`\langle O\rangle` at :math:`t = 0`, in the diagonal ensemble
        :math:`\sum_\epsilon\Pi(\epsilon)\rho_0\Pi(\epsilon)` (the first plateau; from
        :func:`~davies_mb.diagonal_ensemble` in the eigenbasis, not from the trajectories) and in the Gibbs state
        (the second).
    t_dephasing : ndarray (n_strengths,); t_dephasing_isolated : float
        First time :math:`|\langle O\rangle - O_{DE}|` falls to :math:`1/e` of its initial value.
    t_bath : ndarray (n_strengths,)
        Last time :math:`|\langle O\rangle - O_{G}|` exceeds :math:`1/e` of :math:`|O_{DE} - O_G|` (the bath
        time, :math:`\propto\lambda^{-2}`).
    final_distance_to_gibbs : float
        Trace distance of the Davies stationary state (from the initial state) to the Gibbs state (``nan``
        for baths at several temperatures).
    steady_state : str
        ``"gibbs"``, or ``"ness"`` for baths at several temperatures (then ``gibbs_value`` is the value in the
        non-equilibrium steady state), or ``"restricted"``.
    heat_currents : tuple of float or None
        NESS only: heat current from each bath into the chain at :math:`\lambda = 1`.
    secular_strength : float; in_secular_regime : ndarray of bool
        As in :class:`ScanResult` (:func:`davies_mb.secular_regime`).
    """

    times: np.ndarray
    isolated: np.ndarray
    strengths: np.ndarray
    davies: np.ndarray
    initial_value: float
    de_value: float
    gibbs_value: float
    t_dephasing: np.ndarray
    t_dephasing_isolated: float
    t_bath: np.ndarray
    final_distance_to_gibbs: float
    params: dict
    steady_state: str = "gibbs"
    heat_currents: tuple | None = None
    secular_strength: float = float("nan")
    in_secular_regime: np.ndarray | None = None

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("times", "isolated", "strengths", "davies", "initial_value",
                                               "de_value", "gibbs_value", "t_dephasing", "t_dephasing_isolated",
                                               "t_bath", "final_distance_to_gibbs", "steady_state",
                                               "heat_currents", "secular_strength", "in_secular_regime")}


def _first_below(times, dev, level) -> float:
    """First time ``dev`` drops to ``level`` (linear interpolation in log t between grid points)."""
    below = np.flatnonzero(dev <= level)
    if below.size == 0:
        return float("inf")
    k = below[0]
    if k == 0:
        return float(times[0])
    t0, t1, d0, d1 = times[k - 1], times[k], dev[k - 1], dev[k]
    if t0 <= 0:
        return float(t1)
    f = (d0 - level) / (d0 - d1)
    return float(np.exp(np.log(t0) + f * (np.log(t1) - np.log(t0))))


def _last_above(times, dev, level) -> float:
    """Last time ``dev`` exceeds ``level`` (interpolated in log t); ``inf`` if it never settles below."""
    above = np.flatnonzero(dev > level)
    if above.size == 0:
        return float(times[0])
    k = above[-1]
    if k == times.size - 1:
        return float("inf")
    t0, t1, d0, d1 = times[k], times[k + 1], dev[k], dev[k + 1]
    if t0 <= 0:
        return float(t1)
    f = (d0 - level) / (d0 - d1)
    return float(np.exp(np.log(t0) + f * (np.log(t1) - np.log(t0))))


def two_step_relaxation(system, couplings, bath, strengths, observable, *, initial="neel", n_times: int = 400,
                        t_min: float = 1e-2, t_max_factor: float = 20.0, sector: dict | None = None,
                        progress: bool | None = None) -> TwoStepResult:
    r"""Follow a local observable through both relaxation steps for several couplings.

    Isolated chain: :math:`\langle O\rangle(t)` dephases on :math:`t\sim 1/J` to the diagonal-ensemble value
    :math:`\mathrm{tr}(O\rho_{DE})`, which for an integrable chain differs from the thermal one. With the
    bath: the same dephasing (independent of :math:`\lambda`), a plateau at :math:`O_{DE}`, then relaxation
    to :math:`\mathrm{tr}(O e^{-\beta H})/Z` on :math:`t_{eq}\propto\lambda^{-2}`.
    """
    lams = _check_strengths(strengths)
    n_times = _check_n_times(n_times)
    t_max_factor = _checks.check_positive("t_max_factor", t_max_factor)
    t_min = _checks.check_positive("t_min", t_min)
    spec, chain = _spectrum_of(system, sector)
    rho0 = _initial_density(initial, spec, chain)
    O = _checks.as_operator("observable", observable, spec.dim)
    gen1 = DaviesGenerator(spec, couplings, bath, strength=1.0)
    gap1 = gen1.gap()
    if gap1 <= 0:
        raise ValueError("the generator has no relaxation (gap = 0): choose couplings that thermalize the chain")
    kdim = gen1.kernel_dimension()
    if kdim > 1:
        _checks.warn(f"the bath leaves {kdim} stationary states (a conserved quantity survives, see dm.recognize): "
                     "the observable ends at the restricted equilibrium, not at the Gibbs value; t_bath measures "
                     "the approach to the Gibbs value and may be infinite")
    times = log_times(t_min, t_max_factor / (gap1 * lams.min() ** 2), n_times)
    iso = unitary_expect(spec, [O], rho0, times)[0]
    me = gen1.mode_expansion([O], rho0)
    dav = np.array([np.real(me.evaluate(times, lam)[0]) for lam in _progress(lams, progress, "two-step")])
    # plateaus in the eigenbasis ((n, n) matrices only): the diagonal ensemble, and the (diagonal) Gibbs state
    X0 = gen1._to_eig_state(rho0)
    Oe = spec.to_eigenbasis(O)
    o0 = float(np.real(np.sum(Oe.T * X0)))
    ode = float(np.real(np.sum(Oe.T * diagonal_ensemble(spec, rho0, basis="eigen"))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X_inf = gen1.stationary_state(rho0, basis="eigen")
    if gen1.beta is not None:
        p = spec.gibbs_weights(gen1.beta)
        og = float(np.real(np.diagonal(Oe)) @ p)
        dist_g = _trace_norm(X_inf - np.diag(p))
        steady, currents = "gibbs", None
    else:
        # baths at several temperatures: the bath step ends at the non-equilibrium steady state
        og = float(np.real(np.sum(Oe.T * X_inf)))
        dist_g = float("nan")
        steady = "ness" if kdim == 1 else "restricted"
        currents = tuple(float(j) for j in gen1.heat_currents(X_inf, basis="eigen"))
        _checks.warn("the baths have different temperatures: the chain relaxes to a non-equilibrium steady state "
                     f"(heat currents at lambda = 1: {', '.join(f'{j:+.4g}' for j in currents)}); gibbs_value is "
                     "the NESS value of the observable")
    level = abs(o0 - ode) / np.e
    t_deph = np.array([_first_below(times, np.abs(d - ode), level) for d in dav])
    t_iso = _first_below(times, np.abs(iso - ode), level)
    # the bath time: the last time |<O> - O_G| exceeds |O_DE - O_G|/e (dephasing oscillations may cross the
    # Gibbs value early; what matters is when the observable settles near it for good)
    t_bath = np.array([_last_above(times, np.abs(d - og), abs(ode - og) / np.e) for d in dav])
    regime = _secular_check(gen1, None, None, lams)  # the generator holds the couplings in the eigenbasis
    params = dict(strengths=lams, initial=initial if isinstance(initial, str) else "array", n_times=n_times,
                  beta=gen1.beta, chain=(dict(name=chain.name, L=chain.L, bc=chain.bc, params=chain.params)
                                         if chain else None))
    return TwoStepResult(times=times, isolated=iso, strengths=lams, davies=dav, initial_value=o0, de_value=ode,
                         gibbs_value=og, t_dephasing=t_deph, t_dephasing_isolated=t_iso, t_bath=t_bath,
                         final_distance_to_gibbs=dist_g, params=params, steady_state=steady, heat_currents=currents,
                         secular_strength=regime.strength_max, in_secular_regime=regime.inside(lams))
