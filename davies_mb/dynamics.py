r"""Time evolution of isolated and bath-coupled chains, and distances between states.

Isolated chain (the reference for dephasing), through the eigenbasis of :math:`H`:

.. math:: \langle O\rangle(t) = \sum_{ab} O_{ba}\, X_{ab}\, e^{-i(E_a - E_b)t},
   \qquad X = V^\dagger \rho_0 V ,

and its infinite-time average, the diagonal ensemble
:math:`\rho_{DE} = \sum_\epsilon \Pi(\epsilon)\rho_0\Pi(\epsilon)` (PHYSICS.md section 4; degenerate levels
keep their internal coherences, which do not dephase). The Davies evolution itself lives in
:class:`davies_mb.DaviesGenerator` (``evolve``, ``expect``, ``mode_expansion``); :func:`distance_trajectory`
follows the distance of either kind of evolution to a target state without storing the trajectory.

States are state vectors ``(d,)`` or density matrices ``(d, d)`` in the computational basis (site 0 is the
most significant qubit); operators may be dense, scipy sparse or quimb.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from . import _checks
from .davies import _check_times, ops_in_eigenbasis
from .spectrum import Spectrum

__all__ = [
    "log_times",
    "time_grid",
    "unitary_expect",
    "unitary_evolve",
    "diagonal_ensemble",
    "trace_distance",
    "relative_entropy",
    "distance_trajectory",
]


def log_times(t_min: float, t_max: float, n: int = 200) -> np.ndarray:
    r"""``0`` followed by ``n - 1`` logarithmically spaced times from ``t_min`` to ``t_max``.

    Relaxation in a weakly coupled chain spans many decades (dephasing at :math:`t\sim 1/J`, the bath at
    :math:`t\sim 1/(\lambda^2\gamma)`): a log grid resolves both with a few hundred points.
    """
    t_min, t_max = float(t_min), float(t_max)
    if not (np.isfinite(t_min) and np.isfinite(t_max) and 0 < t_min < t_max):
        raise ValueError(f"need 0 < t_min < t_max (finite), got t_min={t_min!r}, t_max={t_max!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    return np.concatenate([[0.0], np.geomspace(t_min, t_max, int(n) - 1)])


def time_grid(spectrum: Spectrum, t_max: float | None = None, n: int = 200) -> np.ndarray:
    r"""Log grid from :math:`0.1/W` to ``t_max`` (default :math:`100/W`), :math:`W` the bandwidth of H.

    For a bath-coupled chain pass ``t_max`` a multiple of the relaxation time, e.g. ``20 / gen.gap()``.
    """
    if not isinstance(spectrum, Spectrum):
        raise TypeError(f"spectrum must be a Spectrum (from diagonalize), got {type(spectrum).__name__}")
    width = float(spectrum.energies[-1] - spectrum.energies[0])
    if width <= 0:
        raise ValueError("the spectrum has zero bandwidth (H is proportional to the identity): no time scale")
    return log_times(0.1 / width, 100.0 / width if t_max is None else t_max, n)


def _state_eig(spectrum: Spectrum, state) -> np.ndarray:
    """A state (vector or density matrix, computational basis) in the eigenbasis, as a density matrix."""
    if not isinstance(spectrum, Spectrum):
        raise TypeError(f"spectrum must be a Spectrum (from diagonalize), got {type(spectrum).__name__}")
    d = spectrum.dim
    # finite, right shape, normalized or Hermitian with unit trace and positive (a sparse state stays sparse)
    state = _checks.check_density_matrix("state", state, d)
    if state.ndim == 1:
        c = spectrum.vectors.conj().T @ state
        lost = 1.0 - float(np.vdot(c, c).real)
        if lost > 1e-8:
            raise ValueError(f"the state has weight {lost:.3g} outside the sector {spectrum.sector} that the "
                             "spectrum covers; diagonalize the full space or project the state first")
        return np.outer(c, c.conj())
    rho = state
    tr = complex(rho.trace() if sp.issparse(rho) else np.trace(rho))
    X = spectrum.to_eigenbasis(rho, check_sector=False)
    if spectrum.n < d and abs(np.trace(X) - tr) > 1e-8:
        raise ValueError(f"the state has weight outside the sector {spectrum.sector} that the spectrum covers; "
                         "diagonalize the full space or project the state first")
    return X


def unitary_expect(spectrum: Spectrum, ops, state, times) -> np.ndarray:
    r"""Expectation values :math:`\mathrm{tr}(O\,e^{-iHt}\rho_0 e^{iHt})` of an isolated chain.

    .. math:: \langle O\rangle(t) = u(t)^T (O_e^T\circ X)\, \overline{u(t)},\qquad u_a(t) = e^{-iE_a t},

    with :math:`O_e, X` in the eigenbasis (exact for any degeneracy; :math:`O(n^2)` per time).

    Returns
    -------
    ndarray, shape ``(len(ops), len(times))``; real when every operator is Hermitian.
    """
    t = _check_times(times)
    X = _state_eig(spectrum, state)
    Oe = ops_in_eigenbasis(spectrum, ops)
    E = spectrum.energies - spectrum.energies[0]  # a global phase shift changes nothing, keeps phases small
    out = np.empty((len(Oe), t.size), dtype=complex)
    step = max(1, 2**22 // max(1, spectrum.n))  # times per chunk: bounds the (n, times) temporary
    for t0 in range(0, t.size, step):
        ts = t[t0:t0 + step]
        U = np.exp(-1j * np.outer(E, ts))
        for k, O in enumerate(Oe):
            M = O.T * X
            out[k, t0:t0 + step] = np.sum(U * (M @ U.conj()), axis=0)
    herm = all(np.allclose(O, O.conj().T) for O in Oe)
    return out.real if herm else out


def unitary_evolve(spectrum: Spectrum, state, times) -> np.ndarray:
    r""":math:`\rho(t) = e^{-iHt}\rho_0 e^{iHt}` at each time, shape ``(len(times), d, d)`` (computational basis)."""
    t = _check_times(times)
    X = _state_eig(spectrum, state)
    d = spectrum.dim
    # the output, the state in the eigenbasis, and from_eigenbasis's product and result at one time
    _checks.check_memory_total(f"{t.size} evolved {d} x {d} density matrices",
                               [((t.size, d, d), np.complex128)] + [((d, d), np.complex128)] * 3,
                               hint="Use unitary_expect(spectrum, ops, state, times), which stores only "
                                    "expectation values.")
    E = spectrum.energies - spectrum.energies[0]
    out = np.empty((t.size, spectrum.dim, spectrum.dim), dtype=complex)
    for k, tk in enumerate(t):
        u = np.exp(-1j * E * tk)
        out[k] = spectrum.from_eigenbasis(u[:, None] * X * u.conj()[None, :])
    return out


def diagonal_ensemble(spectrum: Spectrum, rho0, *, basis: str = "computational") -> np.ndarray:
    r"""Diagonal ensemble :math:`\rho_{DE} = \sum_\epsilon \Pi(\epsilon)\,\rho_0\,\Pi(\epsilon)`.

    The infinite-time average of the isolated evolution: coherences between different levels dephase,
    those inside a degenerate level (same energy) do not, so they are kept. Levels are the spectrum's
    (``spectrum.level_index``, grouped with its ``level_tol``). ``basis="computational"`` returns the
    ``(d, d)`` matrix, ``basis="eigen"`` the ``(n, n)`` matrix in the eigenbasis (block diagonal over levels;
    no ``d x d`` array when the spectrum is one sector).
    """
    _checks.check_choice("basis", basis, ("computational", "eigen"))
    X = _state_eig(spectrum, rho0)
    li = spectrum.level_index
    X = np.where(li[:, None] == li[None, :], X, 0.0)
    X = 0.5 * (X + X.conj().T)
    return X if basis == "eigen" else spectrum.from_eigenbasis(X)


def trace_distance(rho, sigma) -> float:
    r"""Trace distance :math:`\tfrac12\|\rho - \sigma\|_1 = \tfrac12\sum_k |\lambda_k(\rho - \sigma)|` (Hermitian inputs)."""
    r = _square("rho", rho)
    s = _square("sigma", sigma)
    if r.shape != s.shape:
        raise ValueError(f"rho and sigma must have the same shape, got {r.shape} and {s.shape}")
    D = r - s
    if not np.allclose(D, D.conj().T, atol=1e-10):
        raise ValueError("rho - sigma is not Hermitian: pass density matrices")
    return 0.5 * float(np.sum(np.abs(sla.eigvalsh(0.5 * (D + D.conj().T), check_finite=False))))


def relative_entropy(rho, sigma) -> float:
    r"""Quantum relative entropy :math:`S(\rho\|\sigma) = \mathrm{tr}\,\rho(\ln\rho - \ln\sigma)` (nats).

    Computed from the eigen-decompositions of both states, with :math:`0\ln 0 = 0`; ``inf`` when
    :math:`\rho` has weight where :math:`\sigma` has none. For a Gibbs state :math:`\sigma`,
    :math:`S(\rho\|\sigma) = \beta(F(\rho) - F_{eq})`: the free energy still to be dissipated.
    """
    r = _square("rho", rho)
    s = _square("sigma", sigma)
    if r.shape != s.shape:
        raise ValueError(f"rho and sigma must have the same shape, got {r.shape} and {s.shape}")
    p, U = sla.eigh(0.5 * (r + r.conj().T), check_finite=False)
    q, W = sla.eigh(0.5 * (s + s.conj().T), check_finite=False)
    tol = 1e-14 * max(1.0, float(np.max(np.abs(q))))
    if np.min(p) < -1e-10 or np.min(q) < -1e-10:
        raise ValueError("rho and sigma must be positive semidefinite density matrices")
    p = np.clip(p, 0.0, None)
    overlap = np.abs(U.conj().T @ W) ** 2  # |<p_i|q_j>|^2
    flow = overlap.T @ p  # weight of rho on each eigenvector of sigma
    pos = q > tol
    if np.any(flow[~pos] > 1e-12):
        return float("inf")
    plogp = float(np.sum(p[p > 0] * np.log(p[p > 0])))
    return plogp - float(np.sum(flow[pos] * np.log(q[pos])))


def distance_trajectory(gen, rho0, target, times) -> np.ndarray:
    r"""Trace distance :math:`\tfrac12\|\rho(t) - \sigma\|_1` along a dissipative evolution, one time at a time.

    Only one density matrix is held at a time. For a :class:`~davies_mb.DaviesGenerator` the states are
    taken in the eigenbasis (the trace norm is unitarily invariant), otherwise through ``gen.evolve``.
    """
    t = _check_times(times)
    out = np.empty(t.size)
    if not hasattr(gen, "evolve") or not hasattr(gen, "spectrum"):
        raise TypeError(f"gen must be a DaviesGenerator or a RedfieldGenerator, got {type(gen).__name__}")
    rho0 = _checks.check_density_matrix("rho0", rho0, gen.spectrum.dim)
    if rho0.ndim == 1:
        rho0 = np.outer(rho0, rho0.conj())
    if hasattr(gen, "_evolve_eig"):
        spec = gen.spectrum
        T = spec.to_eigenbasis(_checks.as_operator("target", target, spec.dim, hermitian=True), check_sector=False)
        X0 = gen._to_eig_state(rho0)
        for k, X in enumerate(gen._evolve_eig(X0, t)):
            D = X - T
            out[k] = 0.5 * float(np.sum(np.abs(sla.eigvalsh(0.5 * (D + D.conj().T), check_finite=False))))
        return out
    for k, tk in enumerate(t):
        out[k] = trace_distance(gen.evolve(rho0, [tk])[0], target)
    return out


def _square(name, x) -> np.ndarray:
    a = x.toarray() if hasattr(x, "toarray") else np.asarray(x)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {a.shape}")
    return a
