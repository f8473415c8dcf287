r"""Bosonic baths: spectral densities, KMS transition rates and Lamb shifts.

This module knows no system: a bath maps Bohr frequencies to numbers.

Conventions (PHYSICS.md, section 2; :math:`\hbar = k_B = 1`)
-------------------------------------------------------------
A Bohr frequency :math:`\omega > 0` means that the system *loses* the energy
:math:`\omega` to the bath (emission, the larger rate); :math:`\omega < 0` means
that it absorbs :math:`|\omega|`. The rates are the Fourier transform of the bath
correlation function and obey the KMS condition by construction,

.. math::

    \gamma(\omega) = 2\pi J(\omega)\,[1 + n(\omega)] \quad (\omega > 0), \qquad
    \gamma(-\omega) = e^{-\beta\omega}\,\gamma(\omega), \qquad
    n(\omega) = \frac{1}{e^{\beta\omega} - 1},

so that :math:`\gamma(\omega)/\gamma(-\omega) = e^{\beta\omega}`. At
:math:`\omega = 0` the rate is the limit
:math:`\gamma(0) = (2\pi/\beta)\lim_{\omega\to 0^+} J(\omega)/\omega`.

Design
------
The KMS condition is enforced in one place, :meth:`Bath.gamma`. A concrete bath
implements a single hook, :meth:`Bath._reduced_spectral_density`, the reduced
spectral density :math:`j(\omega) = J(\omega)/\omega` for :math:`\omega \ge 0`
including its finite limit at :math:`\omega = 0`. With
:math:`B(x) = x / (1 - e^{-x})` (:math:`B(0) = 1`, :math:`B(x) = e^{x} B(-x)`) one
has, for every real :math:`\omega`,

.. math::

    \gamma(\omega) = \frac{2\pi\, j(|\omega|)\,|\omega|}{|1 - e^{-\beta\omega}|}
                   = \frac{2\pi}{\beta}\, j(|\omega|)\, B(\beta\omega),

i.e. :math:`2\pi J(\omega)/(1 - e^{-\beta\omega})` with :math:`J` extended as an
odd function. The denominator is evaluated with ``expm1`` (exact KMS ratio to a few
ulps), the series of :math:`B` is used for :math:`|\beta\omega| < 10^{-3}` (smooth
through :math:`\omega = 0`, no :math:`0/0`), and for :math:`\beta|\omega| > 709` on
the absorption side the rate is 0 (the exact value is below the smallest float)
without a floating-point warning.

Baths are small immutable (frozen, hashable) dataclasses; use
:func:`dataclasses.replace` to change a parameter, e.g.
``dataclasses.replace(bath, beta=2.0)``.
"""

from __future__ import annotations

import abc
import dataclasses
import math
import numbers
from typing import Any

import numpy as np
from scipy import integrate

__all__ = ["Bath", "OhmicBath", "DrudeLorentzBath"]

_TWO_PI = 2.0 * math.pi

# Below this value of x = beta*|w| the factor x / (1 - exp(-x)) is evaluated
# from its Taylor series 1 + x/2 + x^2/12 - x^4/720 (next term x^6/30240: the
# truncation error is < 1e-22 relative here).
_SERIES_CUTOFF = 1e-3


# --------------------------------------------------------------------------- #
# validation helpers (kept local: this module knows no system)
# --------------------------------------------------------------------------- #
def _real_parameter(name: str, value: Any) -> float:
    """Return ``value`` as a finite Python float or raise a clear error."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number, got {value!r} of type "
            f"{type(value).__name__}; pass an int or a float."
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}; pass a finite real number.")
    return value


#: Smallest accepted inverse temperature: below it the rates (~ 1/beta) overflow double precision.
BETA_MIN = 1e-300


def _check_beta(beta: Any) -> float:
    """Inverse temperature: a real number > 0, ``np.inf`` (zero temperature) allowed."""
    if isinstance(beta, (bool, np.bool_)) or not isinstance(beta, numbers.Real):
        raise TypeError(
            f"beta must be a real number, got {beta!r} of type {type(beta).__name__}; "
            "pass beta = 1/T as an int or a float (np.inf for zero temperature)."
        )
    beta = float(beta)
    if math.isnan(beta):
        raise ValueError("beta (the inverse temperature) is NaN; pass beta = 1/T with T >= 0 (np.inf for T = 0).")
    if beta <= 0.0:
        raise ValueError(
            f"beta (the inverse temperature) must be > 0, got {beta!r}; pass "
            "beta = 1/T with T > 0, or beta = np.inf for zero temperature."
        )
    if beta < BETA_MIN:
        raise ValueError(
            f"beta = {beta!r} is below {BETA_MIN:g}: the rates gamma ~ 2 pi J(w) / (beta w) overflow. "
            "Such a bath is at effectively infinite temperature; pass beta >= 1e-300."
        )
    return beta


def _as_frequencies(w: Any, name: str = "w") -> np.ndarray:
    """Convert frequencies to a finite float64 array (no copy for float64 input)."""
    if isinstance(w, (str, bytes)):
        raise TypeError(
            f"{name} must be a real number or an array of real numbers, got a "
            f"{type(w).__name__}: {w!r}."
        )
    try:
        arr = np.asarray(w)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise TypeError(
            f"{name} must be a real number or an array of real numbers, got "
            f"{type(w).__name__}."
        ) from exc
    if arr.dtype.kind not in "iuf":
        what = "complex" if arr.dtype.kind == "c" else f"dtype {arr.dtype}"
        raise TypeError(
            f"{name} must hold real numbers (int or float), got {what} "
            f"({type(w).__name__}); pass real frequencies, e.g. np.real(w) if the "
            "imaginary part is round-off."
        )
    arr = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        bad = arr[~np.isfinite(arr)].ravel()[0]
        raise ValueError(
            f"{name} must be finite, got a non-finite value ({bad!r}); Bohr "
            "frequencies are differences of finite energies."
        )
    return arr


def _bose_ratio(w: np.ndarray, a: np.ndarray, beta: float) -> np.ndarray:
    r"""Return :math:`|\omega| / |1 - e^{-\beta\omega}|` (value ``1/beta`` at 0).

    ``w`` is a float64 array and ``a = |w|``; the result is a new array. For
    :math:`\omega > 0` this is :math:`\omega[1 + n(\omega)]`, for
    :math:`\omega < 0` it is :math:`|\omega| n(|\omega|)`. Uses ``expm1`` of the
    signed argument (accurate to ~1 ulp at any size; it overflows to ``inf`` for
    :math:`\beta|\omega| > 709` on the absorption side, where the exact result
    is below the smallest float and the quotient is 0) and the Taylor series of
    :math:`x/(1-e^{-x}) = 1 + x/2 + x^2/12 - x^4/720 + O(x^6)` for
    :math:`|x| = \beta|\omega| < 10^{-3}`, so it is continuous and exact at 0.
    """
    if math.isinf(beta):
        # zero temperature: 1 + n(w) = 1 for w > 0, n(|w|) = 0 for w < 0, and 1/beta = 0 at w = 0
        return np.where(w > 0, a, 0.0)
    with np.errstate(over="ignore"):
        x = w * beta
        den = np.expm1(np.negative(x))
    np.abs(den, out=den)
    small = np.abs(x) < _SERIES_CUTOFF
    if small.any():
        den[small] = 1.0  # placeholder, avoids 0/0; overwritten below
        out = np.divide(a, den, out=den)
        xs = x[small]
        x2 = xs * xs
        out[small] = (1.0 + xs * 0.5 + x2 * (1.0 / 12.0) - x2 * x2 * (1.0 / 720.0)) / beta
    else:
        out = np.divide(a, den, out=den)
    return out


# --------------------------------------------------------------------------- #
# base class
# --------------------------------------------------------------------------- #
class Bath(abc.ABC):
    r"""Abstract bosonic bath at inverse temperature ``beta``.

    Subclasses are frozen dataclasses with a field ``beta`` (validated with
    :func:`_check_beta`) and implement

    * :meth:`_reduced_spectral_density` -- :math:`j(\omega) = J(\omega)/\omega`
      for :math:`\omega \ge 0`, vectorized, finite at :math:`\omega = 0`
      (its value there is the limit);
    * :meth:`_frequency_scale` -- the frequency on which :math:`J` decays
      (e.g. the cutoff), used to split the Lamb-shift integrals.

    Everything else -- the KMS rates :meth:`gamma`, :meth:`rate_pair`,
    :meth:`spectral_density`, :attr:`gamma_zero` and :meth:`lamb_shift` -- is
    implemented here, once.

    Examples
    --------
    A new bath is a frozen dataclass with two small methods::

        @dataclasses.dataclass(frozen=True)
        class GaussianBath(Bath):
            beta: float
            eta: float = 1.0
            cutoff: float = 1.0

            def __post_init__(self):
                self._check_common()  # validates beta

            def _reduced_spectral_density(self, a):  # J(a)/a, a >= 0
                return self.eta * np.exp(-((a / self.cutoff) ** 2))

            def _frequency_scale(self):
                return self.cutoff

    Notes
    -----
    Sign convention: :math:`\omega > 0` is emission (the system loses
    :math:`\omega`), :math:`\gamma(\omega)/\gamma(-\omega) = e^{\beta\omega}`.
    """

    beta: float

    # ----------------------------------------------------------------- hooks
    @abc.abstractmethod
    def _reduced_spectral_density(self, a: np.ndarray) -> np.ndarray:
        r"""Return :math:`j(a) = J(a)/a` for a float64 array ``a >= 0``.

        Must be finite (the limit) at ``a = 0``, vectorized, free of floating
        point warnings for any finite ``a >= 0``, and return a new array.
        """

    @abc.abstractmethod
    def _frequency_scale(self) -> float:
        """Return the frequency scale on which the spectral density decays."""

    def _reduced_spectral_density_scalar(self, a: float) -> float:
        """Scalar version of :meth:`_reduced_spectral_density` (for quadrature).

        Subclasses may override it with ``math`` functions for speed: the Lamb
        shift calls it a few thousand times per frequency.
        """
        return float(self._reduced_spectral_density(np.array([a]))[0])

    def _gamma_scalar(self, v: float) -> float:
        """Scalar twin of :meth:`_gamma_array` (same formula, ``math`` module)."""
        beta = self.beta
        a = abs(v)
        if math.isinf(beta):  # zero temperature: emission only
            return self._reduced_spectral_density_scalar(a) * a * _TWO_PI if v > 0 else 0.0
        x = beta * v
        if abs(x) < _SERIES_CUTOFF:
            x2 = x * x
            ratio = (1.0 + x * 0.5 + x2 * (1.0 / 12.0) - x2 * x2 * (1.0 / 720.0)) / beta
        elif x < -700.0:  # |expm1(-x)| = e^{-x} (1 - e^{x}) = e^{-x} to machine precision
            ratio = a * math.exp(x)
        else:
            ratio = a / abs(math.expm1(-x))
        return self._reduced_spectral_density_scalar(a) * ratio * _TWO_PI

    # ------------------------------------------------------------- rates
    def _gamma_array(self, w: np.ndarray) -> np.ndarray:
        """KMS rates for a validated float64 array (any shape); new array."""
        a = np.abs(w)
        with np.errstate(under="ignore"):
            g = self._reduced_spectral_density(a)
            g *= _bose_ratio(w, a, self.beta)
            g *= _TWO_PI
        return g

    def gamma(self, w: Any) -> float | np.ndarray:
        r"""Transition rate :math:`\gamma(\omega)` at Bohr frequency ``w``.

        .. math::

            \gamma(\omega) = \begin{cases}
                2\pi J(\omega)\,[1 + n(\omega)] & \omega > 0 \\
                (2\pi/\beta) \lim_{\omega\to 0^+} J(\omega)/\omega & \omega = 0 \\
                e^{-\beta|\omega|}\,\gamma(|\omega|) & \omega < 0
            \end{cases},
            \qquad n(\omega) = \frac{1}{e^{\beta\omega} - 1}.

        Parameters
        ----------
        w : float or array_like of float
            Bohr frequency (or frequencies), any shape. ``w > 0``: the system
            loses energy ``w`` (emission); ``w < 0``: it absorbs ``|w|``.

        Returns
        -------
        float or numpy.ndarray
            A Python float for scalar (or 0-d) input, otherwise a float64 array
            of the same shape. Always ``>= 0``; values below the smallest float
            (very large ``beta*|w|`` on the absorption side) are 0.

        Raises
        ------
        TypeError
            If ``w`` is not real-valued numeric data.
        ValueError
            If ``w`` contains ``inf`` or ``nan``.

        Notes
        -----
        KMS detailed balance holds by construction:
        :math:`\gamma(\omega) = e^{\beta\omega}\gamma(-\omega)`. Plain vectorized
        numpy; no overflow for any finite input, and continuous through
        :math:`\omega = 0` (the factor :math:`x/(1-e^{-x})` is evaluated from its
        Taylor series for :math:`x < 10^{-3}`).
        """
        arr = _as_frequencies(w)
        g = self._gamma_array(arr.reshape(-1)).reshape(arr.shape)
        return float(g) if g.ndim == 0 else g

    def rate_pair(self, w: Any) -> tuple[float | np.ndarray, float | np.ndarray]:
        r"""Return ``(gamma(w), gamma(-w))``, the down and up rates of a gap ``w``.

        Computed together (one evaluation of :math:`J`), with
        :math:`\gamma(\omega)/\gamma(-\omega) = e^{\beta\omega}` exactly as in
        :meth:`gamma`. Same input and output conventions as :meth:`gamma`.
        """
        arr = _as_frequencies(w)
        flat = arr.reshape(-1)
        a = np.abs(flat)
        with np.errstate(under="ignore"):
            j = self._reduced_spectral_density(a)
            # same operation order as _gamma_array: bit-identical to gamma(+-w)
            down = _bose_ratio(flat, a, self.beta)
            down *= j
            down *= _TWO_PI
            up = _bose_ratio(np.negative(flat), a, self.beta)
            up *= j
            up *= _TWO_PI
        down = down.reshape(arr.shape)
        up = up.reshape(arr.shape)
        if arr.ndim == 0:
            return float(down), float(up)
        return down, up

    @property
    def gamma_zero(self) -> float:
        r""":math:`\gamma(0) = (2\pi/\beta)\lim_{\omega\to0^+} J(\omega)/\omega`.

        The dephasing rate of the zero-frequency (population) block: Ohmic
        (:math:`s = 1`) and Drude-Lorentz give :math:`2\pi\eta/\beta`,
        super-Ohmic (:math:`s > 1`) gives 0.
        """
        return self.gamma(0.0)

    def spectral_density(self, w: Any) -> float | np.ndarray:
        r"""Spectral density :math:`J(\omega)`, zero for :math:`\omega \le 0`.

        Same input and output conventions as :meth:`gamma`. (The rates use the
        odd extension :math:`J(-\omega) = -J(\omega)` implicitly through KMS.)
        """
        arr = _as_frequencies(w)
        flat = arr.reshape(-1)
        pos = np.maximum(flat, 0.0)
        with np.errstate(under="ignore"):
            out = self._reduced_spectral_density(pos)
            out *= pos  # exactly 0 for w <= 0
        out = out.reshape(arr.shape)
        return float(out) if out.ndim == 0 else out

    # -------------------------------------------------------- Lamb shift
    def lamb_shift(self, w: Any, *, epsrel: float = 1e-10) -> float | np.ndarray:
        r"""Lamb-shift function :math:`S(\omega)`.

        .. math::

            S(\omega) = \frac{1}{2\pi}\,\mathrm{P}\!\!\int_{-\infty}^{\infty}
                \frac{\gamma(\omega')}{\omega - \omega'}\,d\omega',

        so that :math:`\Gamma(\omega) = \int_0^\infty ds\, e^{i\omega s}
        \langle B(s)B(0)\rangle = \gamma(\omega)/2 + i S(\omega)` and
        :math:`H_{LS} = \sum_\omega S(\omega) A(\omega)^\dagger A(\omega)`
        (PHYSICS.md; Breuer & Petruccione, eq. 3.137-3.142). Same sign convention
        of ``w`` as :meth:`gamma`.

        Parameters
        ----------
        w : float or array_like of float
            Bohr frequencies, any shape. Evaluated once per unique value with
            adaptive quadrature (about 1-20 ms each): meant for the Bohr
            frequencies of small systems, not for millions of values.
        epsrel : float, optional
            Relative tolerance passed to :func:`scipy.integrate.quad`.

        Returns
        -------
        float or numpy.ndarray
            A Python float for scalar input, else an array of ``w``'s shape.

        Notes
        -----
        The principal value is taken on a window :math:`[\omega-D, \omega+D]`
        around the pole with ``quad(weight='cauchy')`` (or, when the window would
        contain the kink of :math:`\gamma` at :math:`\omega' = 0`, as the regular
        integral :math:`\int_0^D [\gamma(\omega+u) - \gamma(\omega-u)]/u\,du`);
        the tails are regular integrals split at 0, at multiples of the decay
        scales (cutoff and :math:`1/\beta`) and geometrically away from the pole,
        and closed with an infinite-range quadrature.
        """
        arr = _as_frequencies(w)
        epsrel = _real_parameter("epsrel", epsrel)
        if not 0.0 < epsrel < 1.0:
            raise ValueError(f"epsrel must be in (0, 1), got {epsrel!r}.")
        uniq, inverse = np.unique(arr.reshape(-1), return_inverse=True)
        vals = np.array([self._lamb_shift_one(float(u), epsrel) for u in uniq], dtype=float)
        out = vals[inverse.reshape(-1)].reshape(arr.shape)
        return float(out) if out.ndim == 0 else out

    def _lamb_shift_one(self, w: float, epsrel: float) -> float:
        beta = self.beta
        wc = self._frequency_scale()
        thermal = 1.0 / beta  # 0 at zero temperature: then the cutoff is the only scale
        scales = sorted({wc, thermal} - {0.0})
        g = self._gamma_scalar

        probe = np.array([0.0, -thermal, thermal, -wc, wc, 2.0 * wc, 4.0 * wc])
        g_ref = float(np.max(self._gamma_array(probe)))
        if g_ref == 0.0:
            return 0.0
        opts = dict(epsabs=1e-13 * g_ref, epsrel=epsrel, limit=500)

        def quad(*args, **kwargs):
            return integrate.quad(*args, **{**opts, **kwargs})[0]

        # ---- window around the pole: PV int_{w-D}^{w+D} gamma(v)/(v - w) dv
        d = 0.5 * scales[0]
        if abs(w) > d:
            near = quad(g, w - d, w + d, weight="cauchy", wvar=w)
        else:  # the kink of gamma at v = 0 lies in the window: symmetric form
            # the integrand is singular-ish (kink, or |v|^(s-1) for s > 1) at
            # u = |w| and decays from there on the scale |w|: split geometrically
            pts = abs(w) * 4.0 ** np.arange(0, 60)
            pts = pts[(pts > 0.0) & (pts < d)]
            near = quad(
                lambda u: (g(w + u) - g(w - u)) / u,
                0.0,
                d,
                points=pts if pts.size else None,
            )

        def f(v: float) -> float:  # regular tail integrand gamma(v)/(w - v)
            return g(v) / (w - v)

        # candidate breakpoints: 0, multiples of both scales, geometric from pole
        mult = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
        cand = [0.0]
        for sc in scales:
            cand.extend(sc * mult)
            cand.extend(-sc * mult)
        cand.extend(w + d * 4.0 ** np.arange(1, 40))
        cand.extend(w - d * 4.0 ** np.arange(1, 40))
        cand = np.unique(np.asarray(cand))

        def finite_piece(lo: float, hi: float) -> float:
            pts = cand[(cand > lo) & (cand < hi)]
            # quad's `points` must be few compared with `limit`
            return quad(f, lo, hi, points=pts if pts.size else None)

        # right tail [w + d, inf): gamma decays on the scale of the cutoff
        lo = w + d
        hi = max(lo, 0.0) + 64.0 * max(wc, thermal)
        right = finite_piece(lo, hi) + quad(f, hi, np.inf)
        # left tail (-inf, w - d]: gamma(-x) = exp(-beta x) gamma(x) decays faster
        hi_l = w - d
        lo_l = min(hi_l, 0.0) - 64.0 * max(wc, thermal)
        left = finite_piece(lo_l, hi_l) + quad(f, -np.inf, lo_l)

        # S = (1/2pi) PV int gamma(v)/(w - v) dv; the window integral had 1/(v - w)
        return (right + left - near) / _TWO_PI

    # --------------------------------------------------------- misc
    def _check_common(self) -> None:
        """Validate ``beta`` (used by subclasses' ``__post_init__``)."""
        object.__setattr__(self, "beta", _check_beta(self.beta))


def _check_cutoff(cutoff: Any) -> float:
    cutoff = _real_parameter("cutoff", cutoff)
    if cutoff <= 0.0:
        raise ValueError(
            f"cutoff (the bath frequency scale w_c) must be > 0, got {cutoff!r}; "
            "pass a positive frequency, typically larger than the system's Bohr "
            "frequencies."
        )
    return cutoff


def _check_eta(eta: Any) -> float:
    eta = _real_parameter("eta", eta)
    if eta < 0.0:
        raise ValueError(
            f"eta (the coupling strength in J(w)) must be > 0, got {eta!r}; a "
            "negative spectral density would give negative rates. Pass eta > 0 "
            "(the system-bath strength lambda enters separately, squared)."
        )
    if eta == 0.0:
        raise ValueError(
            "eta = 0 gives a bath with J(w) = 0: it induces no transitions and no dephasing, so nothing "
            "relaxes. Pass eta > 0, or leave the bath out (an isolated chain: dm.unitary_evolve)."
        )
    return eta


# --------------------------------------------------------------------------- #
# concrete baths
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class OhmicBath(Bath):
    r"""Ohmic-family bath with an exponential cutoff (PHYSICS.md, section 2).

    .. math::

        J(\omega) = \eta\, \omega^{s}\, \omega_c^{1-s}\, e^{-\omega/\omega_c}
        \quad (\omega > 0),

    with rates :math:`\gamma(\omega) = 2\pi J(\omega)[1 + n(\omega)]`,
    :math:`\gamma(-\omega) = e^{-\beta\omega}\gamma(\omega)` (see
    :meth:`Bath.gamma`; :math:`\omega > 0` is emission). The zero-frequency limit
    is :math:`\gamma(0) = 2\pi\eta/\beta` for :math:`s = 1` and 0 for
    :math:`s > 1`.

    Parameters
    ----------
    beta : float
        Inverse temperature, > 0; ``np.inf`` is zero temperature (:math:`\gamma(-\omega) = 0` for
        :math:`\omega > 0`, :math:`\gamma(0) = 0`).
    eta : float, default 1.0
        Dimensionless coupling prefactor of :math:`J`, > 0.
    cutoff : float, default 5.0
        Cutoff frequency :math:`\omega_c` > 0.
    s : float, default 1.0
        Ohmicity, finite and >= 1 (1 Ohmic, > 1 super-Ohmic). Sub-Ohmic
        :math:`s < 1` is refused: :math:`\gamma(0)` diverges.

    Examples
    --------
    >>> bath = OhmicBath(beta=1.0, eta=1.0, cutoff=5.0)
    >>> round(bath.gamma(0.0), 12) == round(2 * 3.141592653589793, 12)
    True
    """

    beta: float
    eta: float = 1.0
    cutoff: float = 5.0
    s: float = 1.0

    def __post_init__(self) -> None:
        self._check_common()
        object.__setattr__(self, "eta", _check_eta(self.eta))
        object.__setattr__(self, "cutoff", _check_cutoff(self.cutoff))
        s = _real_parameter("s", self.s)
        if s < 1.0:
            raise ValueError(
                f"s (the Ohmicity) must be >= 1, got {s!r}: for a sub-Ohmic bath "
                "J(w)/w diverges as w -> 0, so gamma(0) = (2 pi / beta) lim J(w)/w "
                "is infinite and the Davies rates of the zero-frequency block are "
                "undefined. Use s = 1 (Ohmic) or s > 1 (super-Ohmic)."
            )
        object.__setattr__(self, "s", s)

    def _reduced_spectral_density(self, a: np.ndarray) -> np.ndarray:
        # j(a) = eta (a/wc)^(s-1) exp(-a/wc)
        r = a / self.cutoff
        if self.s == 1.0:
            out = np.negative(r)
            np.exp(out, out=out)
        else:
            p = self.s - 1.0
            with np.errstate(divide="ignore"):
                # direct form where r^p cannot overflow, log form beyond
                r_max = min(600.0, math.exp(min(600.0 / p, 700.0)))
                big = r > r_max
                rd = np.where(big, 0.0, r)
                out = np.power(rd, p)
                out *= np.exp(-rd)
                if big.any():
                    rb = r[big]
                    out[big] = np.exp(p * np.log(rb) - rb)
        if self.eta != 1.0:
            out *= self.eta
        return out

    def _reduced_spectral_density_scalar(self, a: float) -> float:
        r = a / self.cutoff
        if self.s == 1.0:
            return self.eta * math.exp(-r)
        p = self.s - 1.0
        if r == 0.0:
            return 0.0
        if r > min(600.0, math.exp(min(600.0 / p, 700.0))):
            return self.eta * math.exp(p * math.log(r) - r)
        return self.eta * (r**p * math.exp(-r))

    def _frequency_scale(self) -> float:
        return self.cutoff * max(1.0, self.s)


@dataclasses.dataclass(frozen=True)
class DrudeLorentzBath(Bath):
    r"""Drude-Lorentz (Debye) bath, normalized to be Ohmic at low frequency.

    .. math::

        J(\omega) = \eta\, \omega\, \frac{\omega_c^2}{\omega^2 + \omega_c^2}
        \quad (\omega > 0),

    so that :math:`J(\omega) \simeq \eta\omega` for :math:`\omega \ll \omega_c`
    and :math:`\gamma(0) = 2\pi\eta/\beta`, exactly as for :class:`OhmicBath`
    with :math:`s = 1`. (In the reorganization-energy form
    :math:`J = (2\lambda_r/\pi)\,\omega\omega_c/(\omega^2 + \omega_c^2)` this is
    :math:`\eta = 2\lambda_r/(\pi\omega_c)`.) Rates follow :meth:`Bath.gamma`
    (:math:`\omega > 0` is emission); at large :math:`\omega` they decay only
    algebraically, :math:`\gamma(\omega) \to 2\pi\eta\omega_c^2/\omega`.

    Parameters
    ----------
    beta : float
        Inverse temperature, > 0; ``np.inf`` is zero temperature.
    eta : float, default 1.0
        Low-frequency slope of :math:`J`, > 0.
    cutoff : float, default 1.0
        Drude cutoff :math:`\omega_c` > 0.
    """

    beta: float
    eta: float = 1.0
    cutoff: float = 1.0

    def __post_init__(self) -> None:
        self._check_common()
        object.__setattr__(self, "eta", _check_eta(self.eta))
        object.__setattr__(self, "cutoff", _check_cutoff(self.cutoff))

    def _reduced_spectral_density(self, a: np.ndarray) -> np.ndarray:
        # j(a) = eta wc^2 / (a^2 + wc^2) = eta (wc / hypot(a, wc))^2, no overflow
        wc = self.cutoff
        out = np.hypot(a, wc)
        np.divide(wc, out, out=out)
        np.square(out, out=out)
        if self.eta != 1.0:
            out *= self.eta
        return out

    def _reduced_spectral_density_scalar(self, a: float) -> float:
        q = self.cutoff / math.hypot(a, self.cutoff)
        return self.eta * (q * q)

    def _frequency_scale(self) -> float:
        return self.cutoff
