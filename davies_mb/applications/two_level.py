r"""The two-level benchmark: Davies relaxation of :math:`H = \omega_0\sigma^z/2` in Bloch-equation form.

Conventions (PHYSICS.md sections 2-4, :math:`\hbar = k_B = 1`): the computational basis is
:math:`|0\rangle = |e\rangle` (energy :math:`+\omega_0/2`) and :math:`|1\rangle = |g\rangle`
(:math:`\sigma^z = \mathrm{diag}(1, -1)`). A Hermitian coupling :math:`A` to one bath at strength
:math:`\lambda` gives the Davies rates

.. math::

    \Gamma_\downarrow = \lambda^2\gamma(\omega_0)|A_{ge}|^2, \qquad
    \Gamma_\uparrow = \lambda^2\gamma(-\omega_0)|A_{ge}|^2 = e^{-\beta\omega_0}\Gamma_\downarrow, \qquad
    \Gamma_\varphi = \tfrac{\lambda^2}{2}\gamma(0)(A_{ee} - A_{gg})^2,

and the Bloch equations

.. math::

    \dot{r}_z = -\frac{r_z - r_z^{\rm eq}}{T_1}, \qquad
    \frac{d}{dt}\rho_{eg} = \Big(-i\omega_0 - \frac{1}{T_2}\Big)\rho_{eg},\qquad
    \frac{1}{T_1} = \Gamma_\downarrow + \Gamma_\uparrow,\quad
    \frac{1}{T_2} = \frac{1}{2T_1} + \Gamma_\varphi,

with :math:`r_z^{\rm eq} = -\tanh(\beta\omega_0/2)`, i.e. the excited population
:math:`p_e = 1/(e^{\beta\omega_0} + 1)` at every :math:`\beta`, including :math:`\beta = \infty`
(:math:`p_e = 0`). :math:`x = 2\,\mathrm{Re}\,\rho_{eg}`, :math:`y = -2\,\mathrm{Im}\,\rho_{eg}`
(Lamb shift left out: it only shifts :math:`\omega_0`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.special import expit

import davies_mb as dm

from . import _validate as v

__all__ = ["excited_population", "BlochParameters", "bloch_parameters", "two_level_generator", "bloch_vector",
           "two_level_hamiltonian"]


def excited_population(w0: float, beta: float) -> float:
    r"""Thermal excited-state population :math:`p_e = 1/(e^{\beta\omega_0} + 1)`.

    Evaluated as the logistic function :math:`\mathrm{expit}(-\beta\omega_0)`: no overflow at any
    :math:`\beta`, and 0 at :math:`\beta = \infty`.
    """
    w0 = v.real("w0", w0, positive=True)
    beta = v.real("beta", beta, positive=True, allow_inf=True)
    return float(expit(-beta * w0))


def two_level_hamiltonian(w0: float) -> np.ndarray:
    r""":math:`H = \omega_0\sigma^z/2` as a 2x2 array (``|0> = |e>``)."""
    w0 = v.real("w0", w0, positive=True)
    return 0.5 * w0 * dm.pauli("z")


def bloch_vector(rho) -> np.ndarray:
    r"""Bloch vector :math:`(\langle\sigma^x\rangle, \langle\sigma^y\rangle, \langle\sigma^z\rangle)` of
    a 2x2 density matrix (or a stack ``(..., 2, 2)``)."""
    r = np.asarray(rho)
    if r.shape[-2:] != (2, 2):
        raise ValueError(f"rho must have shape (..., 2, 2), got {r.shape}")
    return np.stack([np.real(np.einsum("...ij,ji->...", r, dm.pauli(a))) for a in "xyz"], axis=-1)


@dataclasses.dataclass(frozen=True)
class BlochParameters:
    r"""Bloch-equation parameters of a two-level system under the Davies generator (module docstring).

    Attributes
    ----------
    w0, beta : float
        Level splitting and inverse temperature.
    gamma_down, gamma_up, gamma_phi : float
        :math:`\Gamma_\downarrow`, :math:`\Gamma_\uparrow`, pure dephasing :math:`\Gamma_\varphi`.
    t1, t2 : float
        :math:`T_1 = 1/(\Gamma_\downarrow + \Gamma_\uparrow)`, :math:`1/T_2 = 1/(2T_1) + \Gamma_\varphi`
        (``inf`` when the rate is 0).
    p_excited : float
        Stationary excited population :math:`\Gamma_\uparrow/(\Gamma_\downarrow + \Gamma_\uparrow)`,
        equal to :math:`1/(e^{\beta\omega_0} + 1)` by KMS.
    """

    w0: float
    beta: float
    gamma_down: float
    gamma_up: float
    gamma_phi: float
    t1: float
    t2: float
    p_excited: float

    @property
    def sz_eq(self) -> float:
        r""":math:`r_z^{\rm eq} = 2p_e - 1 = -\tanh(\beta\omega_0/2)`."""
        return 2.0 * self.p_excited - 1.0

    def bloch_vector(self, r0, times) -> np.ndarray:
        r"""Closed-form solution of the Bloch equations from ``r0 = (x, y, z)``; shape ``(len(times), 3)``.

        :math:`r_z(t) = r_z^{\rm eq} + (r_z(0) - r_z^{\rm eq})e^{-t/T_1}`, and
        :math:`\rho_{eg}(t) = \rho_{eg}(0)e^{(-i\omega_0 - 1/T_2)t}` with
        :math:`\rho_{eg} = (x - iy)/2`.
        """
        r0 = np.asarray(r0, dtype=float)
        if r0.shape != (3,) or not np.all(np.isfinite(r0)) or np.linalg.norm(r0) > 1 + 1e-12:
            raise ValueError(f"r0 must be a Bloch vector (3 finite numbers, length <= 1), got {r0!r}")
        t = np.asarray(times, dtype=float)
        if t.ndim != 1 or np.any(t < 0) or not np.all(np.isfinite(t)):
            raise ValueError("times must be a 1-d array of finite times >= 0")
        rate1 = 1.0 / self.t1
        rate2 = 1.0 / self.t2
        z = self.sz_eq + (r0[2] - self.sz_eq) * np.exp(-rate1 * t)
        c = 0.5 * (r0[0] - 1j * r0[1]) * np.exp((-1j * self.w0 - rate2) * t)
        return np.stack([2.0 * c.real, -2.0 * c.imag, z], axis=-1)


def _coupling(coupling) -> np.ndarray:
    if coupling is None:
        return dm.pauli("x").astype(float)
    if isinstance(coupling, str):
        if coupling not in ("x", "y", "z"):
            raise ValueError(f"coupling must be 'x', 'y', 'z' or a 2x2 Hermitian matrix, got {coupling!r}")
        return dm.pauli(coupling)
    return v.hermitian("coupling", coupling, 2)


def bloch_parameters(w0: float, bath, coupling=None, strength: float = 1.0) -> BlochParameters:
    r"""Bloch-equation rates of :math:`H = \omega_0\sigma^z/2` coupled through ``coupling`` to ``bath``.

    Parameters
    ----------
    w0 : float
        Level splitting, > 0.
    bath : davies_mb.Bath
        Any bath (its ``beta`` is the temperature).
    coupling : {'x', 'y', 'z'} or (2, 2) array, optional
        Hermitian coupling operator :math:`A` (default :math:`\sigma^x`). A coupling without a
        transverse part (:math:`A_{ge} = 0`) conserves :math:`\sigma^z`: refused, since the system then
        never thermalizes.
    strength : float
        :math:`\lambda`; every rate scales as :math:`\lambda^2`.

    Returns
    -------
    BlochParameters
        From the closed forms of the module docstring (the bath's rates only, no generator).
    """
    w0 = v.real("w0", w0, positive=True)
    bath = v.bath("bath", bath)
    lam2 = v.real("strength", strength, positive=True) ** 2
    A = _coupling(coupling)
    m = float(abs(A[1, 0]) ** 2)
    if m == 0.0:
        raise ValueError(
            "coupling has no transverse part (<g|A|e> = 0): it commutes with sigma^z, which is then conserved, "
            "and the populations never relax. Use a coupling with a sigma^x or sigma^y component"
        )
    dz = float(np.real(A[0, 0] - A[1, 1]))
    down, up = bath.rate_pair(w0)
    g_dn = lam2 * float(down) * m
    g_up = lam2 * float(up) * m
    g_phi = 0.5 * lam2 * float(bath.gamma(0.0)) * dz * dz if dz != 0.0 else 0.0
    r1 = g_dn + g_up
    r2 = 0.5 * r1 + g_phi
    # stationary p_e = up / (up + down) = 1 / (exp(beta w0) + 1) by KMS; computed from the rates
    p_e = g_up / r1 if r1 > 0 else float("nan")
    return BlochParameters(
        w0=w0, beta=float(bath.beta), gamma_down=g_dn, gamma_up=g_up, gamma_phi=g_phi,
        t1=1.0 / r1 if r1 > 0 else np.inf, t2=1.0 / r2 if r2 > 0 else np.inf, p_excited=p_e,
    )


def two_level_generator(w0: float, bath, coupling=None, strength: float = 1.0) -> "dm.DaviesGenerator":
    r"""The :class:`davies_mb.DaviesGenerator` of :math:`H = \omega_0\sigma^z/2` with one bath."""
    H = two_level_hamiltonian(w0)
    A = _coupling(coupling)
    return dm.DaviesGenerator(dm.diagonalize(H), couplings=[A], bath=v.bath("bath", bath),
                              strength=v.real("strength", strength, positive=True))
