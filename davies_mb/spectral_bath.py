r"""A bath from any spectral density :math:`J(\omega)` given as a Python callable.

Conventions (PHYSICS.md, section 2; :math:`\hbar = k_B = 1`): the rates are the KMS rates of
:class:`davies_mb.Bath`,

.. math::

    \gamma(\omega) = 2\pi J(\omega)\,[1 + n(\omega)] \quad (\omega > 0), \qquad
    \gamma(-\omega) = e^{-\beta\omega}\gamma(\omega), \qquad
    \gamma(0) = \frac{2\pi}{\beta}\lim_{\omega\to 0^+}\frac{J(\omega)}{\omega},

so a measured or model spectral density (structured, with peaks, gaps or a hard cutoff) gives a
detailed-balance bath with one line. A *rate function* :math:`\gamma(\omega)` is turned into a spectral
density by inverting the first formula, :math:`J(\omega) = \gamma(\omega)(1 - e^{-\beta\omega})/(2\pi)`;
for example Glauber's rate :math:`\gamma(\omega) = \alpha/(1 + e^{-\beta\omega})` is
:math:`J(\omega) = \alpha\tanh(\beta\omega/2)/(2\pi)`.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any, Callable

import numpy as np

from .baths import Bath

__all__ = ["SpectralBath"]

# J(w)/w at w -> 0+ is estimated from two points this far below the frequency scale (Richardson
# extrapolation removes the linear term, so a smooth J gives the limit to ~1e-15 relative).
_ZERO_PROBE = 1e-8
# J is probed on this grid (times the frequency scale) when the bath is built, to refuse bad
# spectral densities at once rather than in the middle of a generator construction.
_PROBE_GRID = np.geomspace(1e-6, 1e3, 64)


def _check_positive_real(name: str, value: Any, *, allow_zero: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0.0 or (value == 0.0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return value


@dataclasses.dataclass(frozen=True)
class SpectralBath(Bath):
    r"""Bosonic bath with a user-supplied spectral density :math:`J(\omega)` (:math:`\omega > 0`).

    .. math::

        \gamma(\omega) = \frac{2\pi J(\omega)}{1 - e^{-\beta\omega}}\quad(\omega > 0),\qquad
        \gamma(-\omega) = e^{-\beta\omega}\gamma(\omega),\qquad
        \gamma(0) = \frac{2\pi}{\beta}\,\lim_{\omega\to0^+}\frac{J(\omega)}{\omega}.

    Parameters
    ----------
    J : callable
        The spectral density ``J(w)`` for ``w > 0`` (the field is named ``J`` because
        :meth:`spectral_density` is the bath's method that evaluates it, zero for ``w <= 0``). It is
        called with a float64 array of positive frequencies (or, if it does not accept arrays, with one
        float at a time) and must return finite values ``>= 0``. It is never
        called at ``w = 0`` or below.
    beta : float
        Inverse temperature, > 0 (``np.inf``, zero temperature, once :class:`davies_mb.Bath` accepts it).
    frequency_scale : float, default 1.0
        The frequency on which :math:`J` varies (a cutoff, a peak width): sets where the zero-frequency
        limit is probed and how the Lamb-shift integrals are split.
    zero_limit : float, optional
        :math:`\lim_{\omega\to0^+} J(\omega)/\omega`. Estimated from ``J`` at
        :math:`\omega = 10^{-8}\,\omega_s, 2\times10^{-8}\,\omega_s` (Richardson) when not given; pass it
        when ``J`` is not smooth near 0.

    Raises
    ------
    TypeError
        If ``J`` is not callable.
    ValueError
        If ``J`` returns a negative or non-finite value (at construction, on a probe grid from
        :math:`10^{-6}\omega_s` to :math:`10^{3}\omega_s`, or later at a Bohr frequency), or if
        :math:`J(\omega)/\omega` diverges at 0 (sub-Ohmic: :math:`\gamma(0) = \infty`).

    Examples
    --------
    >>> import numpy as np
    >>> bath = SpectralBath(lambda w: 0.5 * w * np.exp(-w / 4.0), beta=2.0, frequency_scale=4.0)
    >>> round(bath.gamma(1.0) / bath.gamma(-1.0), 10) == round(np.exp(2.0), 10)
    True
    """

    J: Callable[[np.ndarray], Any]
    beta: float
    frequency_scale: float = 1.0
    zero_limit: float | None = None

    def __post_init__(self) -> None:
        if not callable(self.J):
            raise TypeError(
                f"J (the spectral density) must be a callable J(w) (w > 0), got {type(self.J).__name__}; "
                "pass e.g. lambda w: eta * w * np.exp(-w / wc)"
            )
        self._check_common()
        object.__setattr__(self, "frequency_scale", _check_positive_real("frequency_scale", self.frequency_scale))
        # does J accept arrays? (frozen dataclass: private flag set through object.__setattr__)
        probe = self.frequency_scale * _PROBE_GRID
        object.__setattr__(self, "_vectorized", True)
        try:
            out = np.asarray(self.J(probe.copy()))
            ok = out.shape == probe.shape
        except Exception:  # noqa: BLE001 - a scalar-only callable: fall back to one call per frequency
            ok = False
        if not ok:
            object.__setattr__(self, "_vectorized", False)
        self._evaluate(probe)  # validates sign and finiteness on the probe grid
        if self.zero_limit is None:
            h = _ZERO_PROBE * self.frequency_scale
            j1, j2 = self._evaluate(np.array([h, 2.0 * h])) / np.array([h, 2.0 * h])
            jfar = float(self._evaluate(np.array([1e-6 * self.frequency_scale]))[0]) / (1e-6 * self.frequency_scale)
            if j1 > 1.05 * jfar and j1 > 1e-300:
                raise ValueError(
                    f"the spectral density J: J(w)/w grows without bound as w -> 0 (J(w)/w = {jfar:.3g} at "
                    f"w = {1e-6 * self.frequency_scale:.3g}, {j1:.3g} at w = {h:.3g}): a sub-Ohmic bath has an "
                    "infinite zero-frequency rate gamma(0). Use a spectral density with J(w) = O(w), or pass "
                    "zero_limit=... if the growth is an artefact of the formula"
                )
            zl = max(2.0 * j1 - j2, 0.0)
        else:
            zl = _check_positive_real("zero_limit", self.zero_limit, allow_zero=True)
        object.__setattr__(self, "zero_limit", float(zl))

    def _evaluate(self, w: np.ndarray) -> np.ndarray:
        """J(w) for a float64 array of positive frequencies, validated (new float64 array)."""
        f = self.J
        if self._vectorized:
            out = np.asarray(f(w.copy()))
            if out.shape != w.shape:
                out = np.broadcast_to(out, w.shape)
        else:
            out = np.array([f(float(x)) for x in w.ravel()]).reshape(w.shape)
        if out.dtype.kind == "c":
            if np.any(out.imag != 0):
                raise ValueError("the spectral density J returned complex values; J(w) must be real and >= 0")
            out = out.real
        out = np.array(out, dtype=np.float64)
        bad = ~np.isfinite(out) | (out < 0.0)
        if bad.any():
            k = int(np.flatnonzero(bad.ravel())[0])
            raise ValueError(
                f"the spectral density J must return finite values >= 0 for w > 0, got J({float(w.ravel()[k])!r}) = "
                f"{float(out.ravel()[k])!r}: a negative J gives negative (unphysical) rates and a non-finite one no "
                "rate at all. Fix the formula (clip round-off below 0 with np.maximum(..., 0))"
            )
        return out

    def _reduced_spectral_density(self, a: np.ndarray) -> np.ndarray:
        # j(a) = J(a)/a, the limit at a = 0; J is never called at 0 (0/0 in most formulas)
        out = np.full(a.shape, self.zero_limit, dtype=np.float64)
        pos = a > 0.0
        if pos.any():
            ap = a[pos]
            out[pos] = self._evaluate(ap) / ap
        return out

    def _reduced_spectral_density_scalar(self, a: float) -> float:
        if a <= 0.0:
            return self.zero_limit
        return float(self._evaluate(np.array([a]))[0]) / a

    def _frequency_scale(self) -> float:
        return self.frequency_scale
