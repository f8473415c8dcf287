r"""Closed forms of the spin-boson mean-force state: weak and ultrastrong limits (Cresser and Anders).

J. D. Cresser and J. Anders, PRL **127**, 250601 (2021), "Weak and ultrastrong coupling limits of the quantum
mean force Gibbs state". The paper's text was not available to us: the weak-coupling closed form below is
*derived here* from the general second-order formula of :mod:`davies_mb.applications.mean_force` (derivation
in :func:`spin_boson_mean_force`); its bath integrals have the definitions and names of Cresser and Anders as
implemented in the Exeter group's public code (``SpectralDensities.jl``: ``weak_coupling_Δ``, ``Δ′``, ``Σ``,
``Σ′``). Tests check it against the independent general routine (1e-10) and explicit modes (ED).

Conventions (ours; PHYSICS.md sections 2 and 4)
------------------------------------------------
* :math:`H_S = \tfrac{\omega}{2}\sigma_z`, :math:`\omega > 0`; computational basis index 0 is the excited
  state :math:`|e\rangle` (:math:`\sigma_z = +1`), so the Gibbs Bloch vector is
  :math:`r_z = -\tanh(\beta\omega/2)`.
* :math:`H_{tot} = H_S + H_B + \lambda X\otimes B`, :math:`X = \cos\theta\,\sigma_z - \sin\theta\,\sigma_x`,
  :math:`B = \sum_k c_k(b_k + b_k^\dagger)`, :math:`J(w) = \sum_k c_k^2\delta(w - w_k)` (the package's
  :math:`J`, :math:`\gamma(w) = 2\pi J(w)(1 + n(w))`). :math:`\theta = 0` is pure dephasing
  (:math:`\rho_{MF}` = Gibbs at every coupling); :math:`\theta = \pi/2` is transverse coupling.
* :math:`\rho = (\mathbb 1 + \vec r\cdot\vec\sigma)/2`.

Bath integrals (P: principal value, FP: Hadamard finite part at :math:`w = \omega`)

.. math::

    Q = \int_0^\infty\frac{J(w)}{w}dw,\quad
    \Sigma = 2\,\mathrm{P}\!\!\int_0^\infty\frac{wJ(w)}{w^2-\omega^2}dw,\quad
    \Delta = 2\omega\,\mathrm{P}\!\!\int_0^\infty\frac{J(w)\coth(\beta w/2)}{w^2-\omega^2}dw,

.. math::

    \Sigma' = 4\omega\,\mathrm{FP}\!\!\int_0^\infty\frac{wJ(w)}{(w^2-\omega^2)^2}dw = \partial_\omega\Sigma,\quad
    \Delta' = 2\,\mathrm{FP}\!\!\int_0^\infty\frac{(w^2+\omega^2)J(w)\coth(\beta w/2)}{(w^2-\omega^2)^2}dw
    = \partial_\omega\Delta.

Weak coupling (to :math:`O(\lambda^2)`):

.. math::

    r_z = -\tanh\tfrac{\beta\omega}{2} + \lambda^2\sin^2\theta\Big[\frac{\beta\Delta}{2\cosh^2(\beta\omega/2)}
      + \tanh\tfrac{\beta\omega}{2}\,\Delta' - \Sigma'\Big],\qquad
    r_x = \frac{\lambda^2\sin 2\theta}{\omega}\Big[\tanh\tfrac{\beta\omega}{2}\,\Delta - \Sigma + 2Q\Big],
    \qquad r_y = 0.

At :math:`\beta = \infty` the bracket of :math:`r_z` is :math:`\Delta' - \Sigma' = 2\int_0^\infty
J(w)/(w+\omega)^2\,dw > 0`: the ground state is depolarized at :math:`O(\lambda^2)`.

Ultrastrong coupling (:math:`\lambda\to\infty`): the state becomes diagonal in the eigenbasis
:math:`\{|x_n\rangle\}` of :math:`X`, with the weights of the *dephased* Hamiltonian,

.. math:: \rho_{US} = e^{-\beta\sum_n P_n H_S P_n}/Z,\qquad \text{qubit: } \vec r_{US} =
    -\tanh\!\big(\tfrac{\beta\omega}{2}\cos\theta\big)\,(-\sin\theta, 0, \cos\theta),

i.e. weights :math:`e^{-\beta\langle x_n|H_S|x_n\rangle}` (:math:`P_n` the eigenprojectors of :math:`X`).
Physically: after the polaron shift the inter-sector matrix elements of :math:`H_S` carry Franck-Condon
factors that vanish as the coupling grows, so only :math:`P_nH_SP_n` survives (the distance falls as
:math:`1/\lambda^2`, measured against ED). The "projected Gibbs state"
:math:`\sum_n P_n e^{-\beta H_S}P_n/Z` (weights :math:`\langle x_n|e^{-\beta H_S}|x_n\rangle`) is *not* the
limit: ED at growing coupling levels off at a trace distance 0.03 from it (tests, docs/applications.md).
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
from scipy import integrate

from . import _validate as v
from .mean_force import DiscreteModes

__all__ = ["SpinBosonIntegrals", "SpinBosonMeanForce", "spin_boson_integrals", "spin_boson_mean_force",
           "ultrastrong_state"]

_SZ = np.diag([1.0, -1.0])
_SX = np.array([[0.0, 1.0], [1.0, 0.0]])


@dataclasses.dataclass(frozen=True)
class SpinBosonIntegrals:
    r"""The bath integrals :math:`Q, \Sigma, \Sigma', \Delta, \Delta'` at Bohr frequency ``omega`` (module
    docstring for the definitions; ``sigma_prime`` and ``delta_prime`` are the finite parts)."""

    omega: float
    beta: float
    Q: float
    sigma: float
    sigma_prime: float
    delta: float
    delta_prime: float


@dataclasses.dataclass(frozen=True)
class SpinBosonMeanForce:
    r"""A closed-form spin-boson mean-force state.

    Attributes
    ----------
    rho : (2, 2) ndarray
        :math:`\rho_{MF}` in the computational basis (index 0: excited state, :math:`\sigma_z = +1`).
    bloch : (3,) ndarray
        :math:`(r_x, r_y, r_z)` with :math:`\rho = (\mathbb 1 + \vec r\cdot\vec\sigma)/2`.
    gibbs_bloch : (3,) ndarray
        The Gibbs state's :math:`(0, 0, -\tanh(\beta\omega/2))`.
    limit : str
        ``"weak"`` or ``"ultrastrong"``.
    omega, theta, beta : float
    strength : float or None
        :math:`\lambda` (weak limit); None for the ultrastrong limit, which does not depend on it.
    integrals : SpinBosonIntegrals or None
        The bath integrals used (weak limit).
    """

    rho: np.ndarray
    bloch: np.ndarray
    gibbs_bloch: np.ndarray
    limit: str
    omega: float
    theta: float
    beta: float
    strength: float | None
    integrals: SpinBosonIntegrals | None


def _coth(x):
    return 1.0 / np.tanh(x)


def _quad(f, a, b):
    # QUADPACK warns about round-off when asked for 1e-13 on tails that are ~1e-20 of the total; the
    # results are still good to ~1e-13 of the integral (checked against the general routine), so quiet.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        val, _ = integrate.quad(f, a, b, epsabs=0.0, epsrel=1e-13, limit=400)
    return val


def _singular_integral(h, omega: float, k: int) -> float:
    r"""P/FP :math:`\int_0^\infty h(w)/(w - \omega)^k\,dw` for :math:`h` smooth near :math:`\omega`, k = 1, 2.

    On :math:`[\omega/2, 3\omega/2]` the integrand is folded about :math:`\omega` so that the singular parts
    cancel exactly: k = 1: :math:`\int_0^a (h(\omega+u) - h(\omega-u))/u\,du`; k = 2:
    :math:`\int_0^a (h(\omega+u) + h(\omega-u) - 2h(\omega))/u^2\,du - 2h(\omega)/a`, no derivative of
    :math:`J` needed. Outside, ordinary adaptive quadrature.
    """
    a = 0.5 * omega
    h0 = h(omega)
    if k == 1:
        mid = _quad(lambda u: (h(omega + u) - h(omega - u)) / u, 0.0, a)
    else:
        mid = _quad(lambda u: (h(omega + u) + h(omega - u) - 2.0 * h0) / (u * u), 0.0, a) - 2.0 * h0 / a
    left = _quad(lambda w: h(w) / (w - omega) ** k, 0.0, omega - a)
    right = _quad(lambda w: h(w) / (w - omega) ** k, omega + a, omega + a + 50.0 * omega)
    right += _quad(lambda w: h(w) / (w - omega) ** k, omega + a + 50.0 * omega, np.inf)
    return left + mid + right


def spin_boson_integrals(omega: float, bath) -> SpinBosonIntegrals:
    r"""The bath integrals :math:`Q, \Sigma, \Sigma', \Delta, \Delta'` of the module docstring.

    Parameters
    ----------
    omega : float
        The qubit's Bohr frequency :math:`\omega > 0`.
    bath : davies_mb.Bath or DiscreteModes
        A continuous bath (its :meth:`~davies_mb.Bath.spectral_density`; :math:`\beta = \infty` allowed) or
        explicit modes (sums; a mode at :math:`w_k = \omega` is refused: the integrals diverge there).

    Principal values and finite parts are folded about :math:`w = \omega` (no derivative of :math:`J`), then
    adaptive Gauss-Kronrod quadrature to relative 1e-13.
    """
    om = v.real("omega", omega, positive=True)
    if isinstance(bath, DiscreteModes):
        beta = bath.beta
        w = np.array(bath.frequencies)
        c2 = np.array(bath.couplings) ** 2
        if np.any(np.abs(w - om) <= 1e-8 * om):
            raise ValueError(f"a mode of the bath sits at the Bohr frequency omega = {om} (frequencies "
                             f"{bath.frequencies}): the weak-coupling integrals diverge there; detune the mode")
        ct = _coth(0.5 * beta * w)
        d = w * w - om * om
        return SpinBosonIntegrals(
            omega=om, beta=beta, Q=float(np.sum(c2 / w)), sigma=float(2 * np.sum(c2 * w / d)),
            sigma_prime=float(4 * om * np.sum(c2 * w / d**2)), delta=float(2 * om * np.sum(c2 * ct / d)),
            delta_prime=float(2 * np.sum(c2 * ct * (w * w + om * om) / d**2)))
    bath = v.bath("bath", bath)
    beta = float(bath.beta)
    finite = np.isfinite(beta)

    def J(w):
        return float(bath.spectral_density(float(w)))

    def cth(w):
        return float(_coth(0.5 * beta * w)) if finite else 1.0

    Q = _quad(lambda w: J(w) / w, 0.0, om) + _quad(lambda w: J(w) / w, om, np.inf)
    sigma = _singular_integral(lambda w: 2.0 * w * J(w) / (w + om), om, 1)
    delta = _singular_integral(lambda w: 2.0 * om * J(w) * cth(w) / (w + om), om, 1)
    sigma_p = _singular_integral(lambda w: 4.0 * om * w * J(w) / (w + om) ** 2, om, 2)
    delta_p = _singular_integral(lambda w: 2.0 * (w * w + om * om) * J(w) * cth(w) / (w + om) ** 2, om, 2)
    return SpinBosonIntegrals(omega=om, beta=beta, Q=Q, sigma=sigma, sigma_prime=sigma_p, delta=delta,
                              delta_prime=delta_p)


def _rho_from_bloch(r) -> np.ndarray:
    rx, ry, rz = r
    return 0.5 * np.array([[1.0 + rz, rx - 1j * ry], [rx + 1j * ry, 1.0 - rz]]).real


def ultrastrong_state(H_S, X, beta: float) -> np.ndarray:
    r"""The ultrastrong-coupling limit of the mean-force state, :math:`e^{-\beta\sum_n P_nH_SP_n}/Z`.

    :math:`P_n` are the eigenprojectors of :math:`X` (degenerate eigenvalues grouped to 1e-10 of its norm),
    so the state is diagonal in the eigenbasis of :math:`X` with weights :math:`e^{-\beta h}` of the blocks
    :math:`h = P_nH_SP_n` (module docstring: this, not :math:`\sum_nP_ne^{-\beta H_S}P_n`, is the limit).

    Parameters
    ----------
    H_S, X : (d, d) array_like
        Hermitian system Hamiltonian and coupling operator.
    beta : float
        Inverse temperature, ``np.inf`` allowed (projector onto the ground level of the dephased Hamiltonian,
        divided by its degeneracy).
    """
    H = v.hermitian("H_S", H_S)
    d = H.shape[0]
    Xc = v.hermitian("X", X, d)
    b = v.real("beta", beta, positive=True, allow_inf=True)
    x, U = np.linalg.eigh(Xc)
    tol = 1e-10 * max(1.0, float(np.max(np.abs(x))))
    labels = np.concatenate([[0], np.cumsum(np.diff(x) > tol)])
    Hx = U.conj().T @ H @ U
    Hx = np.where(labels[:, None] == labels[None, :], Hx, 0.0)  # sum_n P_n H_S P_n in the X eigenbasis
    e, V = np.linalg.eigh(Hx)
    e = e - e[0]
    if np.isfinite(b):
        p = np.exp(-b * e)
    else:
        p = (e <= 1e-12 * max(1.0, float(np.max(np.abs(H))))).astype(float)
    p /= p.sum()
    W = U @ V
    rho = (W * p) @ W.conj().T
    rho = 0.5 * (rho + rho.conj().T)
    return rho.real if not np.any(np.abs(rho.imag) > 1e-15) else rho


def spin_boson_mean_force(omega: float, theta: float, bath, strength: float | None = None, *,
                          limit: str = "weak") -> SpinBosonMeanForce:
    r"""The spin-boson mean-force state in closed form: weak (:math:`O(\lambda^2)`) or ultrastrong limit.

    Parameters
    ----------
    omega : float
        :math:`H_S = (\omega/2)\sigma_z`, :math:`\omega > 0`.
    theta : float
        Coupling angle: :math:`X = \cos\theta\,\sigma_z - \sin\theta\,\sigma_x`.
    bath : davies_mb.Bath or DiscreteModes
        The bath (:math:`J(w)` and :math:`\beta`; :math:`\beta = \infty` allowed for a ``Bath``).
    strength : float
        :math:`\lambda`; required for ``limit="weak"``, not used (and must be None) for ``"ultrastrong"``.
    limit : {"weak", "ultrastrong"}

    Notes
    -----
    Derivation of the weak limit (module docstring for the result). With :math:`E_g = 0`, :math:`E_e = \omega`,
    :math:`f(x) = e^{-\beta x}`, :math:`e \equiv e^{-\beta\omega}`, the general second-order state
    (:mod:`.mean_force`) has unnormalized elements :math:`\tilde\rho^{(2)}_{nm} = \int dw\,J(w)(1 + n(w))
    \sum_k X_{nk}X_{km}(f[E_n, E_k + w, E_m] + f[E_n + w, E_k, E_m + w])`. The :math:`\cos^2\theta` terms are
    :math:`e^{-\beta H_S}` times a constant (X's diagonal part commutes with :math:`H_S`) and drop out on
    normalization. With :math:`p = e/(1 + e)` the excited population moves by
    :math:`\lambda^2\sin^2\theta\int J(1+n)(P_e - eP_g)/(1+e)^2` where, writing each divided difference with
    repeated arguments explicitly and :math:`(1+n)(1 + e^{-\beta w}) = \coth(\beta w/2)`,

    .. math::

        (1+n)(P_e - eP_g) = \beta e\coth\tfrac{\beta w}{2}\frac{2\omega}{w^2-\omega^2}
          + (1+e)\Big[(1-e)\coth\tfrac{\beta w}{2}\frac{w^2+\omega^2}{(w^2-\omega^2)^2}
          - (1+e)\frac{2w\omega}{(w^2-\omega^2)^2}\Big],

    whose integral is :math:`\beta e\Delta + \tfrac{1+e}{2}((1-e)\Delta' - (1+e)\Sigma')`. The coherence is
    :math:`\lambda^2\sin\theta\cos\theta\int J(1+n)(f[\omega,w,0] + f[\omega+w,0,w] - f[\omega,\omega+w,0]
    - f[\omega+w,\omega,w])/(1+e)` and the bracket times :math:`(1+n)` is
    :math:`\tfrac{2(1-e)}{w^2-\omega^2}\coth\tfrac{\beta w}{2} - \tfrac{2(1+e)}{\omega}
    (\tfrac{w}{w^2-\omega^2} - \tfrac1w)`, integrating to :math:`((1-e)\Delta - (1+e)(\Sigma - 2Q))/\omega`.
    Each piece is singular at :math:`w = \omega` but their sum is not, so splitting it into principal values
    and finite parts is exact.
    """
    om = v.real("omega", omega, positive=True)
    th = v.real("theta", theta)
    if limit not in ("weak", "ultrastrong"):
        raise ValueError(f"limit must be 'weak' or 'ultrastrong', got {limit!r}")
    if not isinstance(bath, DiscreteModes):
        bath = v.bath("bath", bath)
    beta = float(bath.beta)
    s, c = math.sin(th), math.cos(th)
    t = math.tanh(0.5 * beta * om) if np.isfinite(beta) else 1.0
    gibbs = np.array([0.0, 0.0, -t])
    if limit == "ultrastrong":
        if strength is not None:
            raise ValueError(f"strength must be None for limit='ultrastrong' (the limit lambda -> inf does not "
                             f"depend on it), got {strength!r}")
        X = c * _SZ - s * _SX
        rho = ultrastrong_state(0.5 * om * _SZ, X, beta)
        r = np.array([2.0 * rho[0, 1].real, -2.0 * rho[0, 1].imag if np.iscomplexobj(rho) else 0.0,
                      float(np.real(rho[0, 0] - rho[1, 1]))])
        return SpinBosonMeanForce(rho=_rho_from_bloch(r), bloch=r, gibbs_bloch=gibbs, limit=limit, omega=om,
                                  theta=th, beta=beta, strength=None, integrals=None)
    if strength is None:
        raise ValueError("strength (lambda > 0) is required for limit='weak'")
    lam = v.real("strength", strength, positive=True)
    I = spin_boson_integrals(om, bath)
    # beta / cosh^2(beta w / 2) = 4 beta e / (1 + e)^2, written so that it is 0 (not nan) at beta = inf
    bsech2 = 4.0 * beta * math.exp(-beta * om) / (1.0 + math.exp(-beta * om)) ** 2 if np.isfinite(beta) else 0.0
    dz = s * s * (0.5 * bsech2 * I.delta + t * I.delta_prime - I.sigma_prime)
    dx = math.sin(2 * th) / om * (t * I.delta - I.sigma + 2.0 * I.Q)
    r = np.array([lam**2 * dx, 0.0, -t + lam**2 * dz])
    if lam**2 * max(abs(dx), abs(dz)) > 0.2:
        v.warn(f"the O(lambda^2) correction to the Bloch vector is large at strength {lam} "
               f"({lam**2 * max(abs(dx), abs(dz)):.3g} > 0.2): the weak-coupling form is unreliable here")
    if np.linalg.norm(r) > 1.0:
        v.warn(f"the weak-coupling Bloch vector has length {np.linalg.norm(r):.4g} > 1 at strength {lam}: "
               "not a state; the coupling is too strong for the expansion")
    return SpinBosonMeanForce(rho=_rho_from_bloch(r), bloch=r, gibbs_bloch=gibbs, limit=limit, omega=om, theta=th,
                              beta=beta, strength=lam, integrals=I)
