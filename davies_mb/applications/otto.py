r"""The finite-time quantum Otto engine with Davies isochores; its limit cycle solved as a fixed point.

The cycle (:math:`\hbar = k_B = 1`; PHYSICS.md section 4):

1. hot isochore: the medium, with Hamiltonian :math:`h_h`, evolves for :math:`\tau_h` under the Davies
   generator :math:`\mathcal{L}_h` of :math:`h_h`, the couplings :math:`A_\alpha` and the hot bath,
   :math:`\rho_B = e^{\tau_h\mathcal{L}_h}\rho_A`;
2. sudden switch :math:`h_h \to h_c` (the state does not change; the work
   :math:`\mathrm{tr}[(h_c - h_h)\rho_B]` is done on the medium);
3. cold isochore, :math:`\rho_A = e^{\tau_c\mathcal{L}_c}\rho_B`;
4. sudden switch back :math:`h_c \to h_h` (work :math:`\mathrm{tr}[(h_h - h_c)\rho_A]`).

The limit cycle is the fixed point of the cycle map :math:`\Phi = e^{\tau_c\mathcal{L}_c}e^{\tau_h\mathcal{L}_h}`,
:math:`\Phi(\rho_A) = \rho_A`, found directly as the null vector of :math:`\Phi - 1` with unit trace (not by
iterating). Heats into the medium and work output per cycle:

.. math::

    Q_h = \mathrm{tr}[h_h(\rho_B - \rho_A)], \quad Q_c = \mathrm{tr}[h_c(\rho_A - \rho_B)], \quad
    W = Q_h + Q_c, \quad \eta = W/Q_h, \quad P = \frac{W}{\tau_h + \tau_c + 2\tau_s},

with :math:`\tau_s` an optional time charged to each switch (0: instantaneous adiabats). Spohn's inequality
per cycle: :math:`\Sigma = -\beta_h Q_h - \beta_c Q_c \ge 0`.

For a two-level medium, :math:`h_x = \omega_x\sigma^z/2`, with :math:`\Gamma_x = \lambda^2|A_{ge}|^2
[\gamma_x(\omega_x) + \gamma_x(-\omega_x)]`, :math:`x_x = e^{-\Gamma_x\tau_x}` and
:math:`p_x = 1/(e^{\beta_x\omega_x} + 1)`, the limit cycle has
:math:`\Delta p = (p_h - p_c)(1 - x_h)(1 - x_c)/(1 - x_h x_c)`, :math:`W = (\omega_h - \omega_c)\Delta p`,
:math:`Q_h = \omega_h\Delta p` and :math:`\eta = 1 - \omega_c/\omega_h` at every stroke time. When
:math:`[h_h, h_c] \ne 0` the sudden switches leave coherences and excite the medium (quantum friction) and
the efficiency falls below the Otto value.

Matrices are small and dense here: the generators are used through their :math:`d^2\times d^2`
superoperators (chains up to :math:`d = 32`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.linalg as sla

import davies_mb as dm

from . import _validate as v

__all__ = ["OttoCycle", "OttoPowerMap", "otto_cycle", "otto_medium", "otto_power_map", "two_level_otto"]

_MAX_DIM = 32  # d^2 x d^2 superoperators and their exponentials: 1024^2 complex = 16 MiB each


@dataclasses.dataclass(frozen=True)
class OttoCycle:
    r"""Limit cycle of a finite-time Otto engine (module docstring for the formulas).

    Attributes
    ----------
    work : float
        Work output per cycle :math:`W = Q_h + Q_c` (positive for an engine).
    heat_hot, heat_cold : float
        Heats from the hot and cold baths into the medium per cycle.
    efficiency : float
        :math:`W/Q_h` (nan unless :math:`Q_h > 0`).
    power : float
        :math:`W/(\tau_h + \tau_c + 2\tau_s)`.
    entropy_production : float
        :math:`-\beta_h Q_h - \beta_c Q_c \ge 0` per cycle.
    mode : str
        ``"engine"`` (W > 0), ``"refrigerator"`` (W < 0, heat drawn from the cold bath), ``"accelerator"``
        (W < 0, heat carried from the hot bath to the cold one) or ``"heater"`` (W < 0, heat into both).
    state_hot_start, state_cold_start : ndarray
        :math:`\rho_A` (start of the hot isochore) and :math:`\rho_B` (start of the cold one),
        computational basis.
    tau_hot, tau_cold, tau_switch, strength, beta_hot, beta_cold : float
        The parameters that made it.
    """

    work: float
    heat_hot: float
    heat_cold: float
    efficiency: float
    power: float
    entropy_production: float
    mode: str
    state_hot_start: np.ndarray = dataclasses.field(repr=False)
    state_cold_start: np.ndarray = dataclasses.field(repr=False)
    tau_hot: float = 0.0
    tau_cold: float = 0.0
    tau_switch: float = 0.0
    strength: float = 1.0
    beta_hot: float = float("nan")
    beta_cold: float = float("nan")

    def to_dict(self) -> dict:
        """The scalars (JSON-ready)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if not f.name.startswith("state_")}


@dataclasses.dataclass(frozen=True)
class OttoPowerMap:
    """Power, work and efficiency of the limit cycle over a grid of stroke times (axis 0: ``taus_hot``).

    ``best`` is the limit cycle at the grid's largest power.
    """

    taus_hot: np.ndarray
    taus_cold: np.ndarray
    power: np.ndarray
    work: np.ndarray
    efficiency: np.ndarray
    heat_hot: np.ndarray
    best: OttoCycle


def _mode(W: float, Qh: float, Qc: float, scale: float) -> str:
    tol = 1e-12 * scale
    if W > tol:
        return "engine"
    if Qc > tol:
        return "refrigerator"
    if Qh > tol:
        return "accelerator"
    return "heater"


class _Setup:
    """Validated input, the two superoperators and the observables; reused across stroke times."""

    def __init__(self, h_hot, h_cold, couplings, bath_hot, bath_cold, strength, tau_switch):
        self.hh = v.hermitian("h_hot", h_hot)
        d = self.hh.shape[0]
        if d > _MAX_DIM:
            raise ValueError(
                f"h_hot has dimension {d} > {_MAX_DIM}: the Otto cycle is solved with d^2 x d^2 superoperators "
                "and their exponentials; use a medium of at most 5 spins"
            )
        self.hc = v.hermitian("h_cold", h_cold, d)
        ops = [couplings] if (hasattr(couplings, "shape") and np.ndim(couplings) == 2) else list(couplings)
        if not ops:
            raise ValueError("couplings is empty: pass at least one Hermitian coupling operator")
        self.A = [v.hermitian(f"couplings[{k}]", A, d) for k, A in enumerate(ops)]
        self.bh = v.bath("bath_hot", bath_hot)
        self.bc = v.bath("bath_cold", bath_cold)
        self.strength = v.real("strength", strength, positive=True)
        self.tau_switch = v.real("tau_switch", tau_switch, nonnegative=True)
        self.d = d
        self.L = {}
        for name, h, b in (("hot", self.hh, self.bh), ("cold", self.hc, self.bc)):
            gen = dm.DaviesGenerator(dm.diagonalize(h), couplings=self.A, bath=b, strength=self.strength)
            self._check_ergodic(name, gen)
            self.L[name] = gen.superoperator()
        self.scale = float(np.max(np.abs(np.linalg.eigvalsh(self.hh))) + np.max(np.abs(np.linalg.eigvalsh(self.hc))))

    def _check_ergodic(self, name: str, gen) -> None:
        k = gen.kernel_dimension()
        if k == 1 and gen.gap() > 0.0:
            return
        what = ""
        L = int(round(np.log2(self.d)))
        if 2**L == self.d and k > 1:
            try:
                names = [n for n in dm.recognize(gen, L).recognized if n.lower() not in ("identity", "1", "i")]
                if names:
                    what = f" (conserved: {', '.join(names)})"
            except Exception:  # noqa: BLE001 - naming is a courtesy; the error below stands anyway
                what = ""
        reason = (f"{k} stationary states{what}" if k > 1 else
                  "undamped coherences (gap 0: a Bohr frequency no coupling connects)")
        raise ValueError(
            f"the {name} isochore is not ergodic: its Davies generator has {reason}, so the limit cycle is not "
            "unique. Add a coupling that breaks the conserved quantity (e.g. a sigma^x and a sigma^z term)"
        )

    def propagator(self, name: str, tau: float) -> np.ndarray:
        return sla.expm(tau * self.L[name])

    def cycle(self, Ph: np.ndarray, Pc: np.ndarray, tau_h: float, tau_c: float) -> OttoCycle:
        d = self.d
        M = Pc @ Ph
        n = d * d
        tr = np.zeros(n)
        tr[np.arange(d) * (d + 1)] = 1.0  # tr X = sum of the diagonal of vec(X) (column stacking)
        # fixed point of M with unit trace: (M - 1) x = 0 and tr x = 1, least squares on the stacked system
        S = np.vstack([M - np.eye(n), tr[None, :]])
        rhs = np.zeros(n + 1)
        rhs[-1] = 1.0
        x = np.linalg.lstsq(S, rhs, rcond=None)[0]
        rA = x.reshape(d, d, order="F")
        rA = 0.5 * (rA + rA.conj().T)
        rB = (Ph @ rA.reshape(-1, order="F")).reshape(d, d, order="F")
        rB = 0.5 * (rB + rB.conj().T)
        Qh = float(np.real(np.trace(self.hh @ (rB - rA))))
        Qc = float(np.real(np.trace(self.hc @ (rA - rB))))
        W = Qh + Qc
        eff = W / Qh if Qh > 1e-14 * self.scale else float("nan")
        bh, bc = float(self.bh.beta), float(self.bc.beta)
        sigma = -(bh * Qh if Qh != 0 else 0.0) - (bc * Qc if Qc != 0 else 0.0)
        real = lambda X: X.real if not np.any(np.abs(X.imag) > 1e-14) else X  # noqa: E731
        return OttoCycle(
            work=W, heat_hot=Qh, heat_cold=Qc, efficiency=eff, power=float(W / (tau_h + tau_c + 2 * self.tau_switch)),
            entropy_production=sigma, mode=_mode(W, Qh, Qc, self.scale), state_hot_start=real(rA),
            state_cold_start=real(rB), tau_hot=float(tau_h), tau_cold=float(tau_c), tau_switch=self.tau_switch,
            strength=self.strength, beta_hot=bh, beta_cold=bc,
        )

    def warn_reversed(self, cyc: OttoCycle) -> None:
        if float(self.bh.beta) > float(self.bc.beta):
            v.warn(
                f"bath_hot is colder than bath_cold (beta_hot = {self.bh.beta} > beta_cold = {self.bc.beta}): "
                f"the cycle cannot produce work and runs as a {cyc.mode} here (W = {cyc.work:.3g}, "
                f"Q_hot = {cyc.heat_hot:.3g}, Q_cold = {cyc.heat_cold:.3g}); swap the baths for an engine"
            )


def _tau(name: str, tau) -> float:
    t = v.real(name, tau)
    if t <= 0.0:
        raise ValueError(f"{name} (a stroke time) must be > 0, got {tau!r}")
    return t


def otto_cycle(h_hot, h_cold, couplings, bath_hot, bath_cold, tau_hot: float, tau_cold: float,
               strength: float = 1.0, *, tau_switch: float = 0.0) -> OttoCycle:
    r"""Limit cycle of the finite-time quantum Otto engine (module docstring).

    Parameters
    ----------
    h_hot, h_cold : (d, d) array_like
        Hermitian Hamiltonians of the medium during the hot and cold isochores (``d <= 32``).
    couplings : operator or sequence of operators
        Hermitian coupling operators, each to its own copy of the stroke's bath (both strokes).
    bath_hot, bath_cold : davies_mb.Bath
        The baths; ``bath_hot.beta > bath_cold.beta`` warns (the cycle cannot be an engine; the warning
        says what it runs as).
    tau_hot, tau_cold : float
        Stroke times, > 0.
    strength : float
        System-bath coupling :math:`\lambda` (rates scale as :math:`\lambda^2`).
    tau_switch : float, keyword-only
        Time charged to each sudden switch in the power (default 0).

    Returns
    -------
    OttoCycle

    Raises
    ------
    ValueError
        Non-Hermitian or mismatched matrices, non-positive stroke times, or an isochore that is not
        ergodic (the message names the conserved quantity when it is a known one).
    """
    s = _Setup(h_hot, h_cold, couplings, bath_hot, bath_cold, strength, tau_switch)
    th, tc = _tau("tau_hot", tau_hot), _tau("tau_cold", tau_cold)
    cyc = s.cycle(s.propagator("hot", th), s.propagator("cold", tc), th, tc)
    s.warn_reversed(cyc)
    return cyc


def otto_power_map(h_hot, h_cold, couplings, bath_hot, bath_cold, taus_hot, taus_cold, strength: float = 1.0,
                   *, tau_switch: float = 0.0) -> OttoPowerMap:
    """:func:`otto_cycle` over the grid ``taus_hot x taus_cold`` (one propagator per stroke time)."""
    s = _Setup(h_hot, h_cold, couplings, bath_hot, bath_cold, strength, tau_switch)
    th = np.array([_tau("taus_hot", t) for t in np.atleast_1d(taus_hot)])
    tc = np.array([_tau("taus_cold", t) for t in np.atleast_1d(taus_cold)])
    Ph = [s.propagator("hot", t) for t in th]
    Pc = [s.propagator("cold", t) for t in tc]
    shape = (th.size, tc.size)
    P, W, E, Q = (np.empty(shape) for _ in range(4))
    best = None
    for i in range(th.size):
        for j in range(tc.size):
            c = s.cycle(Ph[i], Pc[j], th[i], tc[j])
            P[i, j], W[i, j], E[i, j], Q[i, j] = c.power, c.work, c.efficiency, c.heat_hot
            if best is None or c.power > best.power:
                best = c
    s.warn_reversed(best)
    return OttoPowerMap(taus_hot=th, taus_cold=tc, power=P, work=W, efficiency=E, heat_hot=Q, best=best)


def two_level_otto(w_hot: float, w_cold: float, bath_hot, bath_cold, tau_hot: float, tau_cold: float,
                   strength: float = 1.0, *, coupling=None, tau_switch: float = 0.0) -> dict:
    r"""Closed-form limit cycle of the two-level Otto engine, :math:`h_x = \omega_x\sigma^z/2`.

    PHYSICS.md section 4: :math:`\Delta p = (p_h - p_c)(1 - x_h)(1 - x_c)/(1 - x_h x_c)`,
    :math:`W = (\omega_h - \omega_c)\Delta p`, :math:`Q_h = \omega_h\Delta p`, :math:`Q_c = -\omega_c\Delta p`,
    :math:`\eta = 1 - \omega_c/\omega_h`, :math:`P = W/(\tau_h + \tau_c + 2\tau_s)`. The relaxation rates
    :math:`\Gamma_x = 1/T_1` come from :func:`davies_mb.applications.two_level.bloch_parameters`.
    Returns a dict with ``dp``, ``work``, ``heat_hot``, ``heat_cold``, ``efficiency``, ``power``.
    """
    from .two_level import bloch_parameters

    th, tc = _tau("tau_hot", tau_hot), _tau("tau_cold", tau_cold)
    ts = v.real("tau_switch", tau_switch, nonnegative=True)
    ph = bloch_parameters(w_hot, bath_hot, coupling, strength)
    pc = bloch_parameters(w_cold, bath_cold, coupling, strength)
    xh, xc = np.exp(-th / ph.t1), np.exp(-tc / pc.t1)
    dp = (ph.p_excited - pc.p_excited) * (1 - xh) * (1 - xc) / (1 - xh * xc)
    W = (ph.w0 - pc.w0) * dp
    return dict(dp=dp, work=W, heat_hot=ph.w0 * dp, heat_cold=-pc.w0 * dp, efficiency=1 - pc.w0 / ph.w0,
                power=W / (th + tc + 2 * ts))


def otto_medium(kind: str = "qubit", w_hot: float = 2.0, w_cold: float = 1.0, *, L: int = 3, theta: float = 0.0,
                delta: float = 0.5, hz: float = 0.7) -> tuple[np.ndarray, np.ndarray, list]:
    r"""Ready-made working media ``(h_hot, h_cold, couplings)`` for the studies and the CLI.

    ``kind="qubit"``: :math:`h_x = \omega_x\sigma^z/2`, coupling :math:`\sigma^x`.
    ``kind="chain"``: an open XXZ chain :math:`K` (``L`` sites, anisotropy ``delta``, field ``hz``;
    PHYSICS.md section 1) with :math:`h_h = \omega_h K` and the isospectral
    :math:`h_c = \omega_c U K U^\dagger`, :math:`U = e^{-i\theta S^y_{\rm tot}}`: for :math:`\theta = 0`
    the media commute and :math:`\eta = 1 - \omega_c/\omega_h` exactly; :math:`\theta \ne 0` adds quantum
    friction. Couplings :math:`\sigma^x_0` and :math:`\sigma^x_{L-1} + \sigma^z_1` (ergodic).
    """
    if kind not in ("qubit", "chain"):
        raise ValueError(f"kind must be 'qubit' or 'chain', got {kind!r}")
    w_hot = v.real("w_hot", w_hot, positive=True)
    w_cold = v.real("w_cold", w_cold, positive=True)
    if kind == "qubit":
        sz = dm.pauli("z").real
        return 0.5 * w_hot * sz, 0.5 * w_cold * sz, [dm.pauli("x").real]
    L = v.integer("L", L, minimum=2)
    if L > 5:
        raise ValueError(f"L must be <= 5 for the Otto cycle (d^2 x d^2 superoperators), got {L}")
    theta = v.real("theta", theta)
    ch = dm.xxz(L=L, delta=v.real("delta", delta), hz=v.real("hz", hz))
    K = np.asarray(ch.hamiltonian(sparse=False))
    Sy = sum(ch.op("y", j).toarray() for j in range(L))
    U = sla.expm(-1j * theta * Sy)
    hc = U @ K @ U.conj().T
    hc = 0.5 * (hc + hc.conj().T)
    A = [ch.pauli("x", 0).toarray(), ch.pauli("x", L - 1).toarray() + ch.pauli("z", 1).toarray()]
    return w_hot * K, w_cold * (hc.real if not np.any(np.abs(hc.imag) > 1e-15) else hc), A
