r"""Where the Davies (secular) generator holds: a cheap estimate of :math:`\lambda^*` and its measurement.

The Davies generator drops the couplings between the populations and the coherences
:math:`|a\rangle\langle b|` with Bohr frequency :math:`\omega_{ab} = E_a - E_b \ne 0`. Beyond it (ULE,
Redfield) the slow population mode :math:`r` (right) / :math:`l` (left) of the Pauli block, eigenvalue
:math:`\lambda^2\mu_1 = -\lambda^2\Delta_1`, feeds each coherence at the amplitude :math:`\lambda^2 m_{ab}`,
which rotates and decays at :math:`\mu_{ab} = -i\omega_{ab} + \lambda^2\nu_{ab}` and feeds back with
:math:`\lambda^2 n_{ab}`. Second-order perturbation theory in these couplings gives the relative change of the
gap

.. math::

    \delta(\lambda) = \frac{\lambda^2}{\Delta_1}\,\Big|\mathrm{Re}\sum_{a\ne b,\ |\omega_{ab}|>\delta_E}
        \frac{n_{ab}\,m_{ab}}{i\omega_{ab} + \lambda^2(\mu_1 - \nu_{ab})}\Big|
    \;\approx\; \frac{\lambda^4}{\Delta_1}\Big|\sum_{ab}\frac{n_{ab}m_{ab}\,\mathrm{Re}(\nu_{ab}-\mu_1)}
        {\omega_{ab}^2}\Big| \quad(\lambda^2|\nu| \ll |\omega_{ab}|),

with, for the ULE jump operators at :math:`\lambda = 1`, :math:`(L_\alpha)_{mn} = \sqrt{\gamma_\alpha(E_n - E_m)}
(A_\alpha)_{mn}`, :math:`K = \sum_\alpha L_\alpha^\dagger L_\alpha`,

.. math::

    m = \sum_\alpha L_\alpha\,\mathrm{diag}(r)\,L_\alpha^\dagger - \tfrac12\{K, \mathrm{diag}(r)\},\qquad
    n_{ab} = \Big(\sum_\alpha L_\alpha^\dagger\,\mathrm{diag}(l)\,L_\alpha\Big)_{ba} - \tfrac12 K_{ba}(l_a + l_b),

:math:`\nu_{ab}` the diagonal of the generator on the coherence (:math:`-\tfrac12(K_{aa}+K_{bb}) +
\sum_\alpha (L_\alpha)_{aa}\overline{(L_\alpha)_{bb}}`) and :math:`\delta_E` the level tolerance (exact
degeneracies are kept by Davies). Because the leading real shift is of order :math:`\lambda^4/\omega^2`, the
crossover obeys :math:`\lambda_*^2 \simeq \sqrt{\mathrm{rel}\,\Delta_1/\Sigma}`, with
:math:`\Sigma = |\sum_{ab} n_{ab}m_{ab}\mathrm{Re}(\nu_{ab}-\mu_1)/\omega_{ab}^2|`: :math:`\lambda_*^2` is a
weighted Bohr spacing, where the weight :math:`n_{ab}m_{ab}` is the overlap of the coherence with the slow mode
through the coupling's matrix elements. A small spacing between levels that the coupling does not connect
to the slow mode does not count. :func:`secular_regime` solves :math:`\delta(\lambda_*) = \mathrm{rel}` with the
full denominator. The cost is four :math:`d\times d` products per coupling and one partial eigenproblem of
the :math:`d\times d` Pauli block: usable wherever the spectrum is. It is second order: near and beyond
:math:`\lambda_*` the measured deviation (:func:`ule_crossover`) is the reference; docs/studies.md,
"Secular validity", compares the two for L = 4 to 10.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import scipy.linalg as sla
import scipy.optimize as so

from . import _checks
from ._ule_lamb import sqrt_rates
from .davies import couplings_in_eigenbasis
from .spectrum import Spectrum

__all__ = ["SecularRegime", "secular_regime", "CrossoverResult", "ule_crossover"]

@dataclasses.dataclass(frozen=True)
class SecularRegime:
    r"""Estimated limit of the secular (Davies) regime, from :func:`secular_regime`.

    Attributes
    ----------
    strength_max : float
        :math:`\lambda_*^{est}`, where the estimated relative change of the gap reaches ``rel / safety``:
        strengths below it are inside the estimated secular regime (``inf``: no coherence couples to the slow
        mode).
    rel : float
        The tolerated relative change of :math:`t_{eq} = 1/\Delta`.
    gap1 : float
        The Pauli-block gap at :math:`\lambda = 1` (:math:`\Delta_1`).
    spacing : float
        :math:`|\omega_{ab}|` of the coherence that contributes most at :math:`\lambda_*`.
    share : float
        Its share of the sum at :math:`\lambda_*`.
    weighted_spacing : float
        :math:`\omega_w = (\Delta_1/\Sigma)^{1/2}` (module docstring): in the small-:math:`\lambda` form
        :math:`\delta = (\lambda^2/\omega_w)^2`, so :math:`\lambda_*^2 \approx \sqrt{\mathrm{rel}}\,\omega_w`.
    """

    strength_max: float
    rel: float
    gap1: float
    spacing: float
    share: float
    weighted_spacing: float
    _terms: tuple = dataclasses.field(default=(), repr=False, compare=False)
    gap_strength_max: float = float("nan")
    tail_strength_max: float = float("nan")
    _tail: object = dataclasses.field(default=None, repr=False, compare=False)

    def inside(self, strengths) -> np.ndarray:
        """Boolean array: which strengths lie inside the estimated secular regime (gap and, when an initial
        state was given, energy tail)."""
        lams = np.atleast_1d(np.asarray(strengths, dtype=float))
        return lams < self.strength_max

    def deviation_tail(self, strengths) -> np.ndarray:
        r"""The estimated :math:`|t_{tail}/t_{tail}^{Davies} - 1|` of the energy tail (``nan`` without an
        initial state; :func:`secular_regime`, "Energy tail")."""
        lams = np.atleast_1d(np.asarray(strengths, dtype=float))
        if self._tail is None:
            return np.full(lams.size, np.nan)
        return np.array([self._tail.deviation(lam) for lam in lams])

    def deviation(self, strengths) -> np.ndarray:
        r"""The second-order estimate :math:`\delta(\lambda)` of :math:`|t_{eq}/t_{eq}^{Davies} - 1|`."""
        lams = np.atleast_1d(np.asarray(strengths, dtype=float))
        if not self._terms:
            return np.zeros(lams.size)
        cr, ci, om, ar, ai, mu1 = self._real_terms
        out = np.empty(lams.size)
        for i, lam in enumerate(lams):
            l2 = lam * lam
            # Re[c / (i om + l2 a)] in real arithmetic (about 3x faster than complex division on n^2 terms)
            dr = l2 * ar
            di = om + l2 * ai
            out[i] = l2 * abs(float(np.sum((cr * dr + ci * di) / (dr * dr + di * di)))) / abs(mu1)
        return out

    @functools.cached_property
    def _real_terms(self):
        c, om, nu, mu1 = self._terms
        a = mu1 - nu
        return (np.ascontiguousarray(c.real), np.ascontiguousarray(c.imag), np.asarray(om, dtype=float),
                np.ascontiguousarray(a.real), np.ascontiguousarray(a.imag), mu1)

    def describe(self, strength: float) -> str:
        """One sentence for a warning or a table note."""
        tail = (f"; the energy tail limits it to {self.tail_strength_max:.3g}, the gap to {self.gap_strength_max:.3g}"
                if np.isfinite(self.tail_strength_max) and self.tail_strength_max < self.gap_strength_max else "")
        return (f"strength {strength:g} is outside the estimated secular regime lambda < {self.strength_max:.3g}{tail} "
                f"(weighted Bohr spacing {self.weighted_spacing:.3g}; largest contribution from a spacing "
                f"{self.spacing:.3g}): the Davies t_eq may differ from the non-secular one (ULE) by more than "
                f"{100 * self.rel:g}%; check with dm.ULEGenerator or dm.ule_crossover")


def _check_window(window) -> tuple:
    """``(hi, lo)`` with 0 < lo < hi < 1: the tail fit window, as fractions of the maximum deviation."""
    try:
        hi, lo = (float(x) for x in window)
    except (TypeError, ValueError):
        raise TypeError(f"tail_window must be a pair (hi, lo) of fractions, e.g. (1e-3, 1e-6), got {window!r}") from None
    if not (0.0 < lo < hi < 1.0):
        raise ValueError(f"tail_window must satisfy 0 < lo < hi < 1 (fractions of the initial deviation), got {window!r}")
    return hi, lo


def _jump_ops(spectrum: Spectrum, A_eig: list, baths: list) -> list:
    E = spectrum.energies
    Wb = E[None, :] - E[:, None]
    return [sqrt_rates(b, Wb) * A for A, b in zip(A_eig, baths)]


def _slow_mode(W: np.ndarray, p: np.ndarray | None):
    """(mu1, r, l): the slowest nonzero mode of the Pauli block W (right and left eigenvectors, l.r = 1)."""
    n = W.shape[0]
    if p is not None and np.all(p > 1e-250):
        q = np.sqrt(p)
        Sym = W * (1.0 / q)[:, None] * q[None, :]
        if np.allclose(Sym, Sym.T, rtol=1e-8, atol=1e-12 * max(float(np.max(np.abs(Sym))), 1e-300)):
            ev, ec = sla.eigh(0.5 * (Sym + Sym.T), subset_by_index=[max(n - 2, 0), n - 1])
            phi = ec[:, 0]
            return float(ev[0]), q * phi, phi / q
    ev, vl, vr = sla.eig(W, left=True, right=True)
    order = np.argsort(-ev.real)
    j = order[1]
    r, l_ = vr[:, j], vl[:, j].conj()
    return complex(ev[j]), r, l_ / (l_ @ r)


class _TailModel:
    r"""The energy tail of the populations beyond the secular limit, to the order of :func:`secular_regime`.

    Davies: :math:`\delta(u) = \sum_k c_k h_k e^{\mu_k u}` (:math:`u = \lambda^2 t`, modes of the Pauli
    block, :math:`c_k = l_k\cdot p_0`, :math:`h_k = h\cdot r_k`). Beyond it, for the ``K`` slowest modes,
    each coherence :math:`\rho_{ab}` of the initial state feeds mode :math:`k` while it rotates (the initial
    slip) and each mode's rate moves through the dropped coherences:

    .. math::

        c_k \to c_k + \lambda^2\sum_{ab}\frac{n^{(k)}_{ab}\rho_{ab}(0)}{i\omega_{ab} + \lambda^2(\mu_k - \nu_{ab})},
        \qquad \mu_k \to \mu_k + \lambda^2\sum_{ab}\frac{n^{(k)}_{ab}m^{(k)}_{ab}}
        {i\omega_{ab} + \lambda^2(\mu_k - \nu_{ab})}

    (:math:`n^{(k)}, m^{(k)}` as in the module docstring with the mode's left and right vectors). The tail
    time is the fit of :func:`davies_mb.ergodicity.fit_exponential_tail` on the same grid as
    :func:`ule_crossover` (in :math:`u`), ends located exactly.
    """

    def __init__(self, E, W, p, Ls, K, X0, h, level_tol, n_modes, t_max_factor, n_times, window):
        n = E.size
        if p is not None and np.all(p > 1e-250):
            q = np.sqrt(p)
            Sym = W * (1.0 / q)[:, None] * q[None, :]
            ev, ec = sla.eigh(0.5 * (Sym + Sym.T))
            R, Lf = ec * q[:, None], ec / q[:, None]  # W = R diag(ev) Lf^T, Lf^T R = 1
        else:
            ev, R = sla.eig(W)
            Lf = np.linalg.inv(R).T
        order = np.argsort(-ev.real)
        ev, R, Lf = ev[order], R[:, order], Lf[:, order]
        p0 = np.real(np.diagonal(X0))
        self.mu = ev[1:]
        self.amp = (Lf[:, 1:].T @ p0) * (h @ R[:, 1:])  # c_k h_k (the stationary mode carries no deviation)
        # two complex n x n arrays per mode are kept (slip and shift weights): at most ~1 GiB in all
        Kk = min(int(n_modes), n - 1, max(2, int(2**30 // (32 * n * n))))
        om = E[:, None] - E[None, :]
        sel = np.abs(om) > level_tol
        nu = -0.5 * (K.diagonal().real[:, None] + K.diagonal().real[None, :]) + sum(
            np.diag(L_)[:, None] * np.conj(np.diag(L_))[None, :] for L_ in Ls)
        x0 = X0[sel]
        keep = np.abs(x0) > 0
        self.om, self.nu = om[sel], nu[sel]
        self.slip_terms, self.shift_terms = [], []
        for k in range(1, Kk + 1):
            l_, r = Lf[:, k], R[:, k]
            nT = sum(L_.conj().T @ (l_[:, None] * L_) for L_ in Ls)
            nmat = (nT.T - 0.5 * K.T * (l_[:, None] + l_[None, :]))[sel]
            m = (sum(L_ @ (r[:, None] * L_.conj().T) for L_ in Ls) - 0.5 * (K * r[None, :] + r[:, None] * K))[sel]
            self.slip_terms.append(np.where(keep, nmat * x0, 0.0))
            self.shift_terms.append(nmat * m)
        self.hk = (h @ R[:, 1:Kk + 1])
        self.Kk = Kk
        self.gap1 = float(-ev[1].real) if n > 1 else 0.0
        self.u = np.linspace(0.0, t_max_factor / self.gap1, n_times) if self.gap1 > 0 else None
        self.window = window
        self.tau0 = self._tau(0.0)

    def _values(self, u, lam):
        u = np.atleast_1d(np.asarray(u, dtype=float))
        out = np.real(self.amp @ np.exp(np.outer(self.mu, u)))
        if lam > 0:
            mu = self.mu[:self.Kk]
            ck = self.amp[:self.Kk] / np.where(self.hk != 0, self.hk, 1.0)
            slip, shift = self._corrections(lam)
            new = ((ck + slip) * self.hk) @ np.exp(np.outer(mu + shift, u))
            out = out + np.real(new - self.amp[:self.Kk] @ np.exp(np.outer(mu, u)))
        return out

    def _corrections(self, lam):
        """(slip, shift) of the K slowest modes at ``lam`` (cached: the fit resamples many times)."""
        if getattr(self, "_last", (None,))[0] != lam:
            l2 = lam * lam
            mu = self.mu[:self.Kk]
            den = [1j * self.om + l2 * (mu[j] - self.nu) for j in range(self.Kk)]
            slip = np.array([l2 * np.sum(t / den[j]) for j, t in enumerate(self.slip_terms)])
            shift = np.array([l2 * np.sum(t / den[j]) for j, t in enumerate(self.shift_terms)])
            self._last = (lam, slip, shift)
        return self._last[1], self._last[2]

    def _tau(self, lam):
        from .ergodicity import fit_exponential_tail

        if self.u is None:
            return float("nan")
        return fit_exponential_tail(self.u, self._values(self.u, lam), window=self.window,
                                    resample=lambda t: self._values(t, lam))[0]

    def deviation(self, lam) -> float:
        return abs(self._tau(lam) / self.tau0 - 1.0)


def secular_regime(system, couplings=None, bath=None, *, rel: float = 0.1, safety: float = 2.0, initial=None,
                   observable=None, n_modes: int = 30, tail_window=(1e-3, 1e-6), t_max_factor: float = 30.0,
                   n_times: int = 400) -> SecularRegime:
    r"""Cheap estimate of the largest :math:`\lambda` for which the Davies :math:`t_{eq}` is accurate to ``rel``.

    Second-order perturbation theory of the slow population mode in its coupling to the coherences the
    secular approximation drops (module docstring).

    Parameters
    ----------
    system : Spectrum, DaviesGenerator, RedfieldGenerator or ULEGenerator
        A spectrum (then ``couplings`` and ``bath`` are required) or a generator, whose couplings and baths
        are used.
    couplings, bath
        As for :class:`~davies_mb.DaviesGenerator` (only with a spectrum).
    rel : float
        Tolerated relative change of :math:`1/\Delta` (default 10 %).
    safety : float
        ``strength_max`` is where the second-order estimate reaches ``rel / safety``: near
        :math:`\lambda_*` the higher orders add to the deviation (measured: the estimate is 0.7-0.8 of the
        ULE-Davies deviation there, L = 4 to 7), so a factor 2 keeps the estimate conservative.

    initial : state vector or density matrix, optional
        With an initial state (computational basis), the energy tail is estimated too (``tail_strength_max``)
        and ``strength_max`` is the smaller of the two. The tail of :math:`\langle O\rangle(t)`, fitted as in
        :func:`davies_mb.teq_scan`, depends on the amplitudes of the slow modes, not only on the slowest rate:
        when the observable overlaps little with the slowest mode the fit window straddles a cancellation
        between the two slowest modes, and the small non-secular changes of the amplitudes (initial slip,
        :math:`\lambda^2 n\rho_0/\omega`) and of the rates of *every* slow mode move it far more than they
        move the gap (:class:`_TailModel`). Measured: at L = 5 the energy tail departs by 10 % at a strength
        three times smaller than the gap (docs/studies.md, "Secular validity").
    observable : operator, optional
        Whose tail (default: the Hamiltonian, i.e. the energy). Only its diagonal in the eigenbasis enters.
    n_modes : int
        Slow population modes given non-secular corrections in the tail estimate (the others decay before
        the fit window). Capped so that their weights (two complex :math:`n\times n` arrays per mode) stay
        under about 1 GiB: 30 up to :math:`n = 1024`, 2 at :math:`n = 4096`.
    tail_window, t_max_factor, n_times
        The tail fit, as in :func:`ule_crossover`.

    Returns
    -------
    SecularRegime
        ``strength_max = inf`` when no coherence couples to the slow mode.
    """
    rel = _checks.check_positive("rel", rel)
    safety = _checks.check_positive("safety", safety)
    if isinstance(n_modes, bool) or not isinstance(n_modes, (int, np.integer)) or n_modes < 1:
        raise ValueError(f"n_modes must be a positive integer, got {n_modes!r}")
    tail_window = _check_window(tail_window)
    t_max_factor = _checks.check_positive("t_max_factor", t_max_factor)
    if safety < 1:
        raise ValueError(f"safety must be >= 1 (the estimate is second order and optimistic near lambda*), got {safety!r}")
    if isinstance(system, Spectrum):
        if couplings is None or bath is None:
            raise ValueError("secular_regime(spectrum, couplings, bath): with a Spectrum, pass couplings and bath")
        spec = system
        A_eig, baths = couplings_in_eigenbasis(spec, couplings, bath)
    elif hasattr(system, "_core") and hasattr(system, "spectrum"):
        if couplings is not None or bath is not None:
            raise ValueError("secular_regime(generator): the generator's couplings and bath are used; "
                             "pass a Spectrum to give others")
        spec = system.spectrum
        A_eig, baths = list(system._core.A), list(system._core.baths)
    else:
        raise TypeError("system must be a davies_mb Spectrum or a Davies/Redfield/ULE generator, got "
                        f"{type(system).__name__}")
    Ls = _jump_ops(spec, A_eig, baths)
    E = spec.energies
    n = E.size
    K = sum(L_.conj().T @ L_ for L_ in Ls)
    Kd = np.real(np.diag(K))
    W = sum(np.abs(L_) ** 2 for L_ in Ls) - np.diag(Kd)
    betas = {b.beta for b in baths}
    beta = betas.pop() if len(betas) == 1 else None
    p = spec.gibbs_weights(beta) if (beta is not None and np.isfinite(beta)) else None
    if n < 2:
        return SecularRegime(np.inf, rel, 0.0, np.inf, 0.0, np.inf)
    def _with_tail(reg):
        """Add the energy-tail estimate (when an initial state is given) and take the smaller strength."""
        if initial is None:
            return reg
        rho0 = _checks.check_density_matrix("initial", initial, spec.dim)
        if rho0.ndim == 1:
            rho0 = np.outer(rho0, rho0.conj())
        X0 = np.asarray(spec.to_eigenbasis(rho0, check_sector=False))
        if observable is None:
            h = np.asarray(E, dtype=float)
        else:
            h = np.real(np.diagonal(spec.to_eigenbasis(_checks.as_operator("observable", observable, spec.dim))))
        model = _TailModel(E, W, p, Ls, K, X0, h, spec.level_tol, n_modes, t_max_factor, n_times, tail_window)
        if not np.isfinite(model.tau0):
            return dataclasses.replace(reg, _tail=model)
        tgrid = np.geomspace(1e-4, 3.0, 97)
        lam_t = np.inf
        for k, lam in enumerate(tgrid):
            if model.deviation(lam) >= target:
                lam_t = float(lam)
                if k > 0:
                    try:
                        lam_t = float(so.brentq(lambda x: model.deviation(x) - target, tgrid[k - 1], lam,
                                                xtol=1e-6 * lam))
                    except ValueError:  # a fit that fails in between: keep the grid point
                        pass
                break
        return dataclasses.replace(reg, strength_max=min(reg.strength_max, lam_t), tail_strength_max=lam_t,
                                   _tail=model)

    target = rel / safety
    mu1, r, l_ = _slow_mode(W, p)
    m = sum(L_ @ (r[:, None] * L_.conj().T) for L_ in Ls) - 0.5 * (K * r[None, :] + r[:, None] * K)
    nT = sum(L_.conj().T @ (l_[:, None] * L_) for L_ in Ls)  # nT[b, a] -> n_ab = nT[b, a] - K_ba (l_a + l_b)/2
    nmat = nT.T - 0.5 * K.T * (l_[:, None] + l_[None, :])
    nu = -0.5 * (Kd[:, None] + Kd[None, :]) + sum(np.diag(L_)[:, None] * np.conj(np.diag(L_))[None, :] for L_ in Ls)
    om = E[:, None] - E[None, :]
    sel = np.abs(om) > spec.level_tol
    c = (nmat * m)[sel]
    keep = np.abs(c) > 0
    c, omv, nuv = c[keep], om[sel][keep], nu[sel][keep]
    gap1 = abs(float(np.real(mu1)))
    coh_rates = -np.real(nu[sel])
    if coh_rates.size and gap1 > 0 and float(np.min(coh_rates)) < gap1 * (1 - 1e-9):
        # e.g. zero temperature: the ground-excited coherence decays at K_11 / 2, half the excited level's rate
        _checks.warn(
            f"a coherence decays slower ({float(np.min(coh_rates)):.3g} lambda^2) than the slowest population mode "
            f"({gap1:.3g} lambda^2): the Davies gap is then a coherence mode, whose non-secular shift (through "
            "nearly equal Bohr frequencies) this estimate does not cover; measure it with dm.ule_crossover")
    if c.size == 0 or gap1 == 0.0:
        return _with_tail(SecularRegime(np.inf, rel, gap1, np.inf, 0.0, np.inf, gap_strength_max=np.inf))
    sig = abs(float(np.sum(np.real(c * (nuv - mu1)) / omv**2)))
    w_sp = float(np.sqrt(gap1 / sig)) if sig > 0 else np.inf
    reg = SecularRegime(np.inf, rel, gap1, np.inf, 0.0, w_sp, _terms=(c, omv, nuv, complex(mu1)),
                        gap_strength_max=np.inf)
    grid = np.geomspace(1e-5, 10.0, 121)
    target = rel / safety
    # the first grid point at or above the target: scanned upwards and stopped there (each point costs O(n^2))
    k = next((i for i, lam in enumerate(grid) if reg.deviation([lam])[0] >= target), None)
    if k is None:
        return _with_tail(reg)
    if k == 0:
        lam = float(grid[0])
    else:
        lam = float(so.brentq(lambda x: reg.deviation([x])[0] - target, grid[k - 1], grid[k], xtol=1e-10 * grid[k]))
    l2 = lam * lam
    contrib = np.abs(np.real(c / (1j * omv + l2 * (mu1 - nuv))))
    j = int(np.argmax(contrib))
    reg = dataclasses.replace(reg, strength_max=lam, gap_strength_max=lam, spacing=float(abs(omv[j])),
                              share=float(contrib[j] / max(np.sum(contrib), 1e-300)))
    return _with_tail(reg)


@dataclasses.dataclass(frozen=True)
class CrossoverResult:
    r"""Davies against a non-secular generator over strengths (from :func:`ule_crossover`).

    Two definitions of :math:`t_{eq}`, compared at each strength:

    * from the gap: ``t_davies``, ``t_other`` (:math:`1/\Delta`), ``deviation = |t_other/t_davies - 1|``,
      ``crossover``;
    * from the energy tail (only when an initial state was given; else ``nan``): ``t_tail_davies``,
      ``t_tail_other``, the decay time of the slow tail of :math:`\langle O\rangle(t) -
      \langle O\rangle_\infty` (:math:`O = H` by default) fitted by :func:`davies_mb.fit_exponential_tail`
      (the fit of :func:`davies_mb.teq_scan`), ``deviation_tail``, ``crossover_tail``.

    ``crossover`` / ``crossover_tail``: the strength where the deviation reaches ``rel`` (log-log interpolation
    between grid points; ``nan`` if it never does, the smallest strength if it already does there);
    ``estimate``: the :class:`SecularRegime` of the same system.
    """

    strengths: np.ndarray
    t_davies: np.ndarray
    t_other: np.ndarray
    deviation: np.ndarray
    rel: float
    crossover: float
    estimate: SecularRegime
    method: str
    t_tail_davies: np.ndarray | None = None
    t_tail_other: np.ndarray | None = None
    deviation_tail: np.ndarray | None = None
    crossover_tail: float = float("nan")

    @property
    def crossover_both(self) -> float:
        """The smaller of the two crossovers (gap and energy tail): below it both definitions agree to ``rel``."""
        vals = [v for v in (self.crossover, self.crossover_tail) if np.isfinite(v)]
        return float(min(vals)) if vals else float("nan")

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("strengths", "t_davies", "t_other", "deviation", "rel", "crossover",
                                            "method", "t_tail_davies", "t_tail_other", "deviation_tail",
                                            "crossover_tail")}
        d["estimate"] = dataclasses.asdict(self.estimate)
        return d


def crossing(strengths, deviation, rel) -> float:
    """First strength where ``deviation`` reaches ``rel``, interpolated linearly in log-log."""
    lams = np.asarray(strengths, dtype=float)
    dev = np.asarray(deviation, dtype=float)
    above = np.flatnonzero(dev >= rel)
    if above.size == 0:
        return float("nan")
    k = int(above[0])
    if k == 0 or not np.isfinite(dev[k - 1]):
        return float(lams[k])
    x0, x1 = np.log(lams[k - 1]), np.log(lams[k])
    y0, y1 = np.log(max(dev[k - 1], 1e-300)), np.log(dev[k])
    f = (np.log(rel) - y0) / (y1 - y0) if y1 != y0 else 1.0
    return float(np.exp(x0 + f * (x1 - x0)))


def _tail_time(gen, rho0, O, t_end, num, t_final, window) -> float:
    """Decay time of the slow tail of tr(O rho(t)) - tr(O rho(t_final)) on the uniform grid to ``t_end`` (the
    fit of dm.teq_scan, ends located exactly). The final value is the trajectory's own at ``t_final`` (tens of
    relaxation times, where the slowest mode is down by ``exp(-t_final / t_gap)``): the stationary state solved
    apart carries a round-off of order eps times the condition number of the generator
    (``W / (lambda^2 gap)``), about 1e-12 at small ``lambda``, the size of the deviation at the end of the fit
    window (1e-9 of its maximum)."""
    from .ergodicity import fit_exponential_tail

    if hasattr(gen, "_tail_trajectory"):  # the ULE: one propagation over the grid, resampling from it
        times, vals, res, final = gen._tail_trajectory(rho0, O, t_end, num, t_final)
    else:
        times = np.linspace(0.0, t_end, num)
        vals = np.real(gen.expect([O], rho0, times)[0])
        final = float(np.real(gen.expect([O], rho0, [t_final])[0][0]))

        def res(t):
            return np.real(gen.expect([O], rho0, np.atleast_1d(t))[0])

    return fit_exponential_tail(times, vals - final, window=window, resample=lambda t: res(t) - final)[0]


def ule_crossover(spectrum: Spectrum, couplings, bath, strengths, *, rel: float = 0.1, method: str = "ule",
                  lamb_shift: bool = False, initial=None, observable=None, n_times: int = 400,
                  t_max_factor: float = 30.0, tail_window=(1e-3, 1e-6)) -> CrossoverResult:
    r"""Measure :math:`\lambda^*`: where the Davies :math:`t_{eq}` departs from the ULE (or Redfield) one by ``rel``.

    One generator of each kind, reused over the strengths (``with_strength``). ``method="redfield"`` needs
    :math:`d \le 128` (and is slow there); the ULE gap runs at any size the spectrum has (matrix free).

    With ``initial`` the energy-tail :math:`t_{eq}` is compared too: each generator evolves ``initial`` on the
    uniform grid of ``n_times`` times from 0 to ``t_max_factor`` times the Davies :math:`1/\Delta` (the same
    grid for both, so the fit windows are comparable), :math:`\langle O\rangle(t) - \langle O\rangle_\infty`
    (:math:`\langle O\rangle_\infty` from each generator's stationary state) is fitted by
    :func:`davies_mb.fit_exponential_tail`. Davies: its mode expansion; Redfield: its eigen-decomposition; the
    ULE: one ``expm_multiply`` over the grid (dense eigen-decomposition for :math:`d \le 16`). The ULE
    trajectory costs about :math:`3\,W t_{max}` generator applications (:math:`W` the bandwidth): with
    :math:`t_{max}\propto\lambda^{-2}` this is what limits the tail comparison to small chains (about a minute
    per strength at :math:`d = 64`, :math:`\lambda = 0.05`).

    Parameters
    ----------
    spectrum, couplings, bath
        As for :class:`~davies_mb.DaviesGenerator`.
    strengths : sequence of float
        The couplings :math:`\lambda > 0`.
    rel : float
        The tolerated relative difference (default 10 %).
    method : {"ule", "redfield"}
        The non-secular reference.
    lamb_shift : bool
        Include the Lamb shift in both generators.
    initial : state vector or density matrix, optional
        Initial state (computational basis) of the energy-tail comparison, e.g.
        ``dm.product_state(L, "neel")`` as in :func:`davies_mb.teq_scan`; ``None`` (default): gaps only.
    observable : operator, optional
        Whose tail is fitted (computational basis); default the Hamiltonian (the energy).
    n_times, t_max_factor
        The time grid of the tail comparison.
    """
    from .davies import DaviesGenerator
    from .ergodicity import _check_n_times, _check_strengths, fit_exponential_tail

    _checks.check_choice("method", method, ("ule", "redfield"))
    lams = np.sort(_check_strengths(strengths))
    rel = _checks.check_positive("rel", rel)
    n_times = _check_n_times(n_times)
    t_max_factor = _checks.check_positive("t_max_factor", t_max_factor)
    if n_times < 20:
        raise ValueError(f"n_times must be at least 20 (the tail fit needs points in its window), got {n_times!r}")
    tail_window = _check_window(tail_window)
    D = DaviesGenerator(spectrum, couplings, bath, strength=1.0, lamb_shift=lamb_shift)
    if method == "ule":
        from .ule import ULEGenerator

        G = ULEGenerator(spectrum, couplings, bath, strength=1.0, lamb_shift=lamb_shift)
    else:
        from .redfield import RedfieldGenerator

        G = RedfieldGenerator(spectrum, couplings, bath, strength=1.0, lamb_shift=lamb_shift)
    g1 = D.gap()
    td = np.array([1.0 / (g1 * lam**2) if g1 > 0 else np.inf for lam in lams])
    to = np.array([1.0 / G.with_strength(lam).gap() for lam in lams])
    dev = np.abs(to / td - 1.0)
    tail = {}
    if initial is not None:
        rho0 = _checks.check_density_matrix("initial", initial, spectrum.dim)
        if rho0.ndim == 1:
            rho0 = np.outer(rho0, rho0.conj())
        if observable is None:
            O = spectrum.from_eigenbasis(np.diag(spectrum.energies))
        else:
            O = _checks.as_operator("observable", observable, spectrum.dim)
        O = np.asarray(O.toarray() if hasattr(O, "toarray") else O)
        me = D.mode_expansion([O], rho0, commuting=observable is None)
        final_d = float(np.real(np.sum(O.T * D.stationary_state(rho0))))
        ttd, tto = np.full(lams.size, np.nan), np.full(lams.size, np.nan)
        for i, lam in enumerate(lams):
            if not np.isfinite(td[i]):
                continue
            # one grid for both, scaled with the Davies time (the Davies fit is then exactly c / lambda^2)
            times = np.linspace(0.0, t_max_factor * td[i], n_times)
            ttd[i] = fit_exponential_tail(
                times, np.real(me.evaluate(times, lam)[0]) - final_d,
                window=tail_window,
                resample=lambda t, lam=lam: np.real(me.evaluate(np.atleast_1d(t), lam)[0]) - final_d)[0]
            tto[i] = _tail_time(G.with_strength(lam), rho0, O, times[-1], n_times,
                                t_max_factor * max(td[i], to[i]), tail_window)
        tail = dict(t_tail_davies=ttd, t_tail_other=tto, deviation_tail=np.abs(tto / ttd - 1.0),
                    crossover_tail=crossing(lams, np.abs(tto / ttd - 1.0), rel))
    return CrossoverResult(strengths=lams, t_davies=td, t_other=to, deviation=dev, rel=rel,
                           crossover=crossing(lams, dev, rel), method=method,
                           estimate=secular_regime(G, rel=rel, initial=initial, observable=observable,
                                                   tail_window=tail_window, t_max_factor=t_max_factor), **tail)
