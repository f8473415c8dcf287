r"""Dicke cooperative thermalization: N two-level atoms coupled collectively to one bath.

Model (:math:`\hbar = k_B = 1`): :math:`H = \omega_0 J_z`, coupling :math:`A = 2J_x = J_+ + J_-` to one
bath at strength :math:`\lambda` (so that N = 1 is the two-level benchmark with :math:`A = \sigma^x`).
Both conserve :math:`\mathbf{J}^2`: the Davies generator is block diagonal over the total spin
:math:`J \in \{N/2, N/2 - 1, \dots\}`, and acts identically on the
:math:`d_J = \binom{N}{N/2-J} - \binom{N}{N/2-J-1}` copies of each block. Inside a block the Bohr
frequencies are :math:`\pm\omega_0` (and 0), :math:`A(\omega_0) = J_-`, and the populations of
:math:`|J, M\rangle` follow the birth-death rate equation

.. math::

    \Gamma_{M\to M-1} = \lambda^2\gamma(\omega_0)\,(J+M)(J-M+1),\qquad
    \Gamma_{M\to M+1} = \lambda^2\gamma(-\omega_0)\,(J-M)(J+M+1),

so the ratio of up and down rates is :math:`e^{-\beta\omega_0}` whatever :math:`N` (KMS) and the final state
is the Gibbs state inside each block, weighted by the initial block populations: a restricted
equilibrium (:math:`\mathbf{J}^2` conserved), with :math:`\sum_J d_J^2` independent stationary states in
the full :math:`2^N` space. The rates grow like :math:`N^2` in the middle of the ladder: relaxation is
faster than that of N independent atoms (cooperative thermalization), and from the fully excited state at
:math:`\beta = \infty` the emitted intensity is a superradiant burst. In units of the single-atom emission
rate :math:`\Gamma_0 = 1`: :math:`\Gamma_{M\to M-1} = (1 + \bar n)(J+M)(J-M+1)`,
:math:`\Gamma_{M\to M+1} = \bar n(J-M)(J+M+1)`, :math:`\bar n = 1/(e^{\beta\omega_0} - 1)`.

Basis: :math:`M = J, J-1, \dots, -J` (index :math:`k = J - M`), the fully excited state first, as in the
two-level module (:math:`|0\rangle = |e\rangle`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import davies_mb as dm

from . import _validate as v

__all__ = ["spin_values", "multiplicity", "collective_operators", "ladder_rates", "rate_matrix",
           "block_populations", "collective_gap", "SuperradianceResult", "superradiance",
           "stationary_dimension", "full_space_operators", "block_gibbs"]

_MAX_N = 100_000


def _check_N(N) -> int:
    return v.integer("N", N, minimum=1)


def spin_values(N: int) -> np.ndarray:
    """Total spins J = N/2, N/2 - 1, ..., down to 0 or 1/2 (floats)."""
    N = _check_N(N)
    return N / 2.0 - np.arange(N // 2 + 1)


def multiplicity(N: int, J: float) -> int:
    r"""Number of copies of the spin-J multiplet in :math:`(\mathbb{C}^2)^{\otimes N}`:
    :math:`\binom{N}{N/2-J} - \binom{N}{N/2-J-1}` (exact integer)."""
    N = _check_N(N)
    k = N / 2.0 - float(J)
    if k < 0 or abs(k - round(k)) > 1e-12 or float(J) < 0:
        raise ValueError(f"J must be one of N/2, N/2 - 1, ..., >= 0 for N = {N}, got {J!r}")
    k = int(round(k))
    return math.comb(N, k) - (math.comb(N, k - 1) if k >= 1 else 0)


def stationary_dimension(N: int) -> int:
    r""":math:`\sum_J d_J^2`: the number of independent stationary states of the collective Davies generator
    in the full space (one per pair of copies of a multiplet; PHYSICS.md section 4: 2, 5, 14 for N = 2, 3, 4)."""
    return int(sum(multiplicity(N, J) ** 2 for J in spin_values(N)))


def collective_operators(J: float) -> tuple[np.ndarray, np.ndarray]:
    r"""``(J_z, J_-)`` of spin J in the basis :math:`M = J, \dots, -J` (dense, real)."""
    J = v.real("J", J, nonnegative=True)
    if abs(2 * J - round(2 * J)) > 1e-12:
        raise ValueError(f"J must be a multiple of 1/2, got {J!r}")
    M = J - np.arange(int(round(2 * J)) + 1)
    Jm = np.diag(np.sqrt((J + M[:-1]) * (J - M[:-1] + 1)), k=-1)  # <M-1|J_-|M>
    return np.diag(M), Jm


def ladder_rates(J: float, down: float, up: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Down and up rates out of each :math:`M = J, \dots, -J`: ``down * (J+M)(J-M+1)`` and
    ``up * (J-M)(J+M+1)``."""
    M = J - np.arange(int(round(2 * J)) + 1)
    return down * (J + M) * (J - M + 1), up * (J - M) * (J + M + 1)


def rate_matrix(J: float, down: float, up: float) -> sp.csr_array:
    r"""Generator :math:`W` of the populations in block J, :math:`\dot p = W p` (columns: from)."""
    d, u = ladder_rates(J, down, up)
    n = d.size
    # p_k, k = J - M: down moves k -> k+1, up moves k -> k-1
    W = sp.diags([d[:-1], -(d + u), u[1:]], [-1, 0, 1], shape=(n, n), format="csr")
    return sp.csr_array(W)


def _bath_rates(bath, w0: float, strength: float) -> tuple[float, float]:
    bath = v.bath("bath", bath)
    w0 = v.real("w0", w0, positive=True)
    lam2 = v.real("strength", strength, positive=True) ** 2
    dn, upr = bath.rate_pair(w0)
    return lam2 * float(dn), lam2 * float(upr)


def block_gibbs(J: float, w0: float, beta: float) -> np.ndarray:
    r"""Gibbs populations :math:`\propto e^{-\beta\omega_0 M}` in block J (order M = J..-J); beta may be inf."""
    beta = v.real("beta", beta, positive=True, allow_inf=True)
    M = J - np.arange(int(round(2 * J)) + 1)
    if np.isinf(beta):
        p = np.zeros(M.size)
        p[-1] = 1.0
        return p
    x = -beta * w0 * (M - M[-1])  # shifted by the ground level: no overflow
    p = np.exp(x)
    return p / p.sum()


def block_populations(N: int, w0: float, bath, strength: float, times, *, J: float | None = None,
                      p0=None) -> np.ndarray:
    r"""Populations :math:`p_M(t)` inside block ``J`` (default N/2) from ``p0`` (default fully excited).

    Exact (``scipy.sparse.linalg.expm_multiply`` of the tridiagonal rate matrix); shape ``(len(times), 2J+1)``.
    """
    N = _check_N(N)
    J = N / 2.0 if J is None else float(J)
    multiplicity(N, J)  # validates J
    dn, up = _bath_rates(bath, w0, strength)
    return _evolve(rate_matrix(J, dn, up), J, times, p0)


def _evolve(W, J, times, p0):
    n = int(round(2 * J)) + 1
    if p0 is None:
        p0 = np.zeros(n)
        p0[0] = 1.0
    p0 = np.asarray(p0, dtype=float)
    if p0.shape != (n,) or np.any(p0 < 0) or not np.isclose(p0.sum(), 1.0):
        raise ValueError(f"p0 must be {n} non-negative populations summing to 1")
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size == 0 or np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("times must be a non-empty 1-d array of finite times >= 0")
    out = np.empty((t.size, n))
    if t.size >= 3 and t[0] == 0.0 and np.allclose(np.diff(t), t[1] - t[0], rtol=1e-12, atol=0.0):
        # an even grid from 0: one call of expm_multiply's interval form (far cheaper than one per time)
        out[:] = spla.expm_multiply(W, p0, start=0.0, stop=float(t[-1]), num=t.size, endpoint=True)
        np.maximum(out, 0.0, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out
    order = np.argsort(t)
    ts = t[order]
    # evaluate on the sorted times step by step (expm_multiply's interval form needs an even grid)
    p = p0.copy()
    prev = 0.0
    for k, tk in zip(order, ts):
        if tk > prev:
            p = spla.expm_multiply(W * (tk - prev), p)
            p = np.maximum(p, 0.0)
            p /= p.sum()
            prev = tk
        out[k] = p
    return out


def collective_gap(N: int, w0: float, bath, strength: float = 1.0, *, J: float | None = None) -> float:
    r"""Slowest population relaxation rate inside block J (default N/2): the gap of the birth-death
    chain, from the symmetric tridiagonal matrix :math:`\pi^{-1/2}W\pi^{1/2}` (KMS: it is symmetric)."""
    N = _check_N(N)
    J = N / 2.0 if J is None else float(J)
    multiplicity(N, J)
    dn, up = _bath_rates(bath, w0, strength)
    if up <= 0.0:
        raise ValueError("collective_gap needs a finite temperature (the zero-temperature chain is not reversible)")
    d, u = ladder_rates(J, dn, up)
    # symmetrized off-diagonal: sqrt(down_k * up_{k+1}) between k and k+1
    off = np.sqrt(d[:-1] * u[1:])
    ev = sla.eigh_tridiagonal(-(d + u), off, eigvals_only=True)
    ev = np.sort(-ev)
    return float(ev[1])


@dataclasses.dataclass(frozen=True)
class SuperradianceResult:
    """Emitted intensity of N atoms starting fully excited (units: Gamma_0 = 1).

    Attributes
    ----------
    times, intensity : ndarray
        Photons per unit time, net (emission minus absorption).
    peak_time, peak_intensity : float
        Maximum of the intensity: the largest grid value, refined by a parabola through it and its two
        neighbours (relative accuracy ~ (grid step / burst width)^2).
    N : int
    beta, w0 : float
    """

    times: np.ndarray
    intensity: np.ndarray
    peak_time: float
    peak_intensity: float
    N: int
    beta: float
    w0: float


def superradiance(N: int, beta: float = np.inf, *, w0: float = 1.0, times=None,
                  n_times: int = 401) -> SuperradianceResult:
    r"""Superradiant burst of N atoms prepared in :math:`|J = N/2, M = N/2\rangle`.

    .. math::

        I(t) = \sum_M \big[(1+\bar n)(J+M)(J-M+1) - \bar n(J-M)(J+M+1)\big]\,p_M(t),
        \qquad \Gamma_0 = 1,\ \bar n = 1/(e^{\beta\omega_0} - 1).

    Parameters
    ----------
    N : int
        Number of atoms, >= 1 (the symmetric block has N + 1 levels; N up to 100000).
    beta : float
        Inverse temperature of the bath (``np.inf``: spontaneous emission only).
    w0 : float, keyword-only
        Transition frequency (enters only through :math:`\bar n`).
    times : array_like, optional
        Default: ``n_times`` points on :math:`[0, 6(\ln N + 1)/N]` (the burst comes at
        :math:`t_D \approx \ln N / N`).
    """
    N = _check_N(N)
    if N > _MAX_N:
        raise ValueError(f"N must be <= {_MAX_N}, got {N}")
    beta = v.real("beta", beta, positive=True, allow_inf=True)
    w0 = v.real("w0", w0, positive=True)
    nbar = 0.0 if np.isinf(beta) else 1.0 / np.expm1(beta * w0)
    if times is None:
        n_times = v.integer("n_times", n_times, minimum=3)
        times = np.linspace(0.0, 6.0 * (np.log(N) + 1.0) / N, n_times)
    J = N / 2.0
    W = rate_matrix(J, 1.0 + nbar, nbar)
    p = _evolve(W, J, times, None)
    d, u = ladder_rates(J, 1.0 + nbar, nbar)
    I = p @ (d - u)
    k = int(np.argmax(I))
    t = np.asarray(times, dtype=float)
    tp, Ip = float(t[k]), float(I[k])
    if 0 < k < t.size - 1 and np.isclose(t[k + 1] - t[k], t[k] - t[k - 1]):
        # parabola through the three grid points around the maximum (the grid is even there)
        h = t[k + 1] - t[k]
        a, b, c = I[k - 1], I[k], I[k + 1]
        den = a - 2 * b + c
        if den < 0:
            s = 0.5 * (a - c) / den
            tp, Ip = float(t[k] + s * h), float(b - 0.25 * (a - c) * s)
    return SuperradianceResult(times=t, intensity=I, peak_time=tp, peak_intensity=Ip, N=N, beta=beta, w0=w0)


def full_space_operators(N: int) -> tuple[np.ndarray, np.ndarray]:
    r"""``(J_z, 2 J_x)`` in the full :math:`2^N` computational basis (dense; for cross-checks, N <= 10)."""
    N = _check_N(N)
    if N > 10:
        raise ValueError(f"N must be <= 10 for full-space operators (2^N x 2^N dense), got {N}")
    Jz = np.zeros((2**N, 2**N))
    X = np.zeros((2**N, 2**N))
    for j in range(N):
        Jz += 0.5 * dm.site_operator(dm.pauli("z").real, j, N).toarray().real
        X += dm.site_operator(dm.pauli("x").real, j, N).toarray().real
    return Jz, X
