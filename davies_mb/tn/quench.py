r"""Quench dynamics of long chains: TEBD from a product state (or an MPS) with quimb tensor networks.

.. math::

    |\psi(t)\rangle = e^{-iHt}|\psi_0\rangle, \qquad O(t) = \langle\psi(t)|O|\psi(t)\rangle ,

:math:`\hbar = 1`, H the chain's Hamiltonian with its own convention (spin operators :math:`S = \sigma/2`
for the XXZ family, Pauli matrices for the Ising family, PHYSICS.md section 1). Observables are Pauli
strings (``"z32"``, ``"x10*x11"``, :math:`\sigma`, not :math:`S`) as in :meth:`SpinChain.parse_operator`.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings

import numpy as np

from .. import _checks
from ..models import SpinChain
from ._engine import Evolver, product_mps
from ._local import Grouping, group_chain, parse_observable, product_spinors

__all__ = ["QuenchResult", "quench", "initial_mps"]


@dataclasses.dataclass(frozen=True)
class QuenchResult:
    r"""Expectation values along a TEBD quench (from :func:`quench`).

    Attributes
    ----------
    times : ndarray (n,)
    values : dict name -> ndarray (n,)
        :math:`\langle O\rangle(t)` of every observable (real part; Pauli strings are Hermitian).
    error : dict name -> ndarray (n,)
        Error estimate: :math:`|O(t) - O_{\rm ref}(t)|` with the reference run at half the bond dimension
        (``error_run="bond"``) or twice the time step (``"dt"``); NaN when no reference was run (``error_run=None``).
    bond_dim : ndarray (n,) of int
        Largest MPS bond dimension at each time.
    discarded : ndarray (n,)
        Accumulated discarded weight :math:`\sum\epsilon` (sum over all splits of the discarded fraction
        of the squared norm) up to each time; the fidelity with the untruncated evolution is at least
        about :math:`1 - \sum\epsilon`.
    entropy : ndarray (n,)
        Von Neumann entanglement entropy (natural log) across the cut after ``entropy_cut`` spins.
    entropy_cut : int
        Spins left of the entanglement cut (L/2, or the supersite boundary nearest to it).
    params : dict
        Every parameter of the run (chain, initial state, max_bond, cutoff, dt, order, tol, groups).
    within_tolerance : bool
        False when the final discarded weight exceeds ``tol`` (a warning said so).
    """

    times: np.ndarray
    values: dict
    error: dict
    bond_dim: np.ndarray
    discarded: np.ndarray
    entropy: np.ndarray
    entropy_cut: int
    params: dict
    within_tolerance: bool

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return {
            "times": self.times.tolist(),
            "values": {k: v.tolist() for k, v in self.values.items()},
            "error": {k: v.tolist() for k, v in self.error.items()},
            "bond_dim": self.bond_dim.tolist(),
            "discarded": self.discarded.tolist(),
            "entropy": self.entropy.tolist(),
            "entropy_cut": self.entropy_cut,
            "within_tolerance": self.within_tolerance,
            "params": self.params,
        }


def initial_mps(initial, grouping: Grouping):
    """The initial state as a quimb MPS on the supersites of ``grouping`` (see :func:`quench`)."""
    import quimb.tensor as qtn

    L = grouping.L
    if isinstance(initial, qtn.MatrixProductState):
        return _regroup_mps(initial, grouping)
    if isinstance(initial, qtn.TensorNetwork):
        raise TypeError(f"initial must be a MatrixProductState (open), got {type(initial).__name__}")
    spin = product_spinors(initial, L)
    vecs = []
    for sites in grouping.groups:
        v = np.ones(1, dtype=complex)
        for s in sites:
            v = np.kron(v, spin[s])
        vecs.append(v)
    return product_mps(vecs)


def _regroup_mps(psi, grouping: Grouping):
    """An L-site spin-1/2 MPS as an MPS on supersites (contract and fuse neighbouring sites)."""
    import quimb.tensor as qtn

    L = grouping.L
    if psi.L != L or any(psi.phys_dim(i) != 2 for i in range(L)) or psi.cyclic:
        raise ValueError(
            f"initial MPS must be open with {L} sites of dimension 2, got L={psi.L}, "
            f"cyclic={psi.cyclic}, dims {sorted({psi.phys_dim(i) for i in range(psi.L)})}"
        )
    if all(len(g) == 1 for g in grouping.groups):
        out = psi.copy()
        out.normalize()
        return out
    arrays = []
    for g, sites in enumerate(grouping.groups):
        ts = [psi[s] for s in sites]
        t = qtn.tensor_contract(*ts) if len(ts) > 1 else ts[0].copy()
        left = [psi.bond(sites[0] - 1, sites[0])] if sites[0] > 0 else []
        right = [psi.bond(sites[-1], sites[-1] + 1)] if sites[-1] < L - 1 else []
        phys = [psi.site_ind(s) for s in sites]
        t = t.transpose(*left, *right, *phys)
        sh = t.shape
        nb = len(left) + len(right)
        arrays.append(t.data.reshape(*sh[:nb], int(np.prod(sh[nb:]))))
    out = qtn.MatrixProductState(arrays, shape="lrp")
    out.normalize()
    return out


def _check_times(times) -> np.ndarray:
    t = np.atleast_1d(np.asarray(times, dtype=float))
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)):
        raise ValueError(f"times must be a non-empty 1D list of finite numbers, got {times!r}")
    if np.any(t < 0) or np.any(np.diff(t) < 0):
        raise ValueError("times must be >= 0 and non-decreasing (TEBD evolves forward from t = 0)")
    return t


def _check_int(name, v, lo=1):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)


def _check_run_options(max_bond, cutoff, step_name, step, tol, order, error_run):
    """Validate the options quench and thermal_state share; returns (max_bond, cutoff, step, tol)."""
    max_bond = _check_int("max_bond", max_bond)
    cutoff = _checks.check_positive("cutoff", cutoff, allow_zero=True)
    step = _checks.check_positive(step_name, step)
    tol = _checks.check_positive("tol", tol)
    if order not in (1, 2, 4):
        raise ValueError(f"order must be 1, 2 or 4, got {order!r}")
    _checks.check_choice("error_run", error_run, ("bond", "dt", None))
    return max_bond, cutoff, step, tol


def _reference_options(opts: dict, error_run: str, step_key: str) -> dict:
    """Options of the reference run for the error estimate: half the bond dimension or twice the step."""
    ref = dict(opts)
    if error_run == "bond":
        ref["max_bond"] = max(1, opts["max_bond"] // 2)
    else:
        ref[step_key] = 2 * opts[step_key]
    return ref


def _check_truncation(who, disc, tol, xs, xname, max_bond, cutoff, extra, advice) -> bool:
    """Whether the final discarded weight is within ``tol``; warns (caller's caller level) when not."""
    ok = bool(disc[-1] <= tol)
    if not ok:
        warnings.warn(
            f"{who}: accumulated discarded weight {disc[-1]:.3g} exceeds tol={tol:g} (max_bond={max_bond}, "
            f"cutoff={cutoff:g}{extra}); results after {xname} ~ {xs[np.argmax(disc > tol)]:.3g} are not "
            f"converged: {advice}",
            stacklevel=3,
        )
    return ok


def _observables(observables, L):
    if isinstance(observables, str):
        observables = [observables]
    if not observables:
        raise ValueError("observables must name at least one Pauli string, e.g. ['z32', 'x10*x11']")
    return {str(o): parse_observable(o, L) for o in observables}


def _progress(total, enabled, desc):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=(None if enabled is None else not enabled), delay=2.0,
                leave=False)


def _run(chain, grouping, initial, times, obs, *, max_bond, cutoff, dt, order, progress, desc):
    ev = Evolver(initial_mps(initial, grouping), grouping, max_bond=max_bond, cutoff=cutoff)
    n = len(times)
    vals = {k: np.empty(n) for k in obs}
    bond, disc, ent = np.empty(n, dtype=int), np.empty(n), np.empty(n)
    cut_g = grouping.n // 2
    t_now = 0.0
    with _progress(n, progress, desc) as bar:
        for i, t in enumerate(times):
            ev.evolve(t - t_now, dt, order)
            t_now = t
            cache = {}
            for k, terms in obs.items():
                vals[k][i] = sum(c * ev.expect_term(f, cache) for c, f in terms).real
            bond[i] = ev.psi.max_bond()
            disc[i] = ev.discarded
            ent[i] = ev.entropy(cut_g)
            bar.update(1)
    cut = sum(len(g) for g in grouping.groups[:cut_g])
    return vals, bond, disc, ent, cut


def quench(
    chain: SpinChain,
    initial,
    times,
    observables,
    *,
    max_bond: int = 128,
    cutoff: float = 1e-12,
    dt: float = 0.05,
    order: int = 4,
    tol: float = 1e-6,
    error_run: str | None = "bond",
    progress: bool | None = None,
) -> QuenchResult:
    r"""Evolve a product state (or an MPS) with the chain's Hamiltonian by TEBD and record observables.

    Parameters
    ----------
    chain : SpinChain
        Open chain with nearest (and optionally next-nearest, :math:`J_2`) couplings. Chains with
        :math:`J_2` are grouped into supersites of two spins (local dimension 4).
    initial : str, dict, array or quimb MatrixProductState
        ``"neel"`` (:math:`\uparrow\downarrow\uparrow\ldots`), ``"domain"`` (left half up), ``"up"``,
        ``"down"``, ``"+x"``, ``"-x"``, a bit string of length L (0 = up, site 0 first),
        ``dict(theta=..., phi=...)`` for the tilted state
        :math:`\bigotimes_j(\cos\frac\theta2|\uparrow\rangle + e^{i\phi}\sin\frac\theta2|\downarrow\rangle)`,
        an ``(L, 2)`` array of spinors, or an open L-site MPS of spins.
    times : sequence of float
        Output times (>= 0, non-decreasing). Between them the state advances in equal steps no longer
        than ``dt``.
    observables : str or sequence of str
        Pauli strings, e.g. ``["z32", "x10*x11", "0.5*z0 - z1"]``.
    max_bond : int
        Largest bond dimension kept.
    cutoff : float
        Relative discarded weight allowed per split (singular values dropped while their squared sum is
        below ``cutoff`` times the total).
    dt : float
        Largest time step.
    order : {1, 2, 4}
        Order of the product formula (4: Suzuki's :math:`S_4`, error :math:`O(dt^4)` at fixed t).
    tol : float
        Accepted accumulated discarded weight; a run above it warns and sets ``within_tolerance=False``.
    error_run : {"bond", "dt", None}
        Reference run for the error estimate: half the bond dimension, twice the time step, or none.
    progress : bool, optional
        Progress bar over the output times (None: shown when the run takes longer than 2 s).

    Returns
    -------
    QuenchResult
    """
    if not isinstance(chain, SpinChain):
        raise TypeError(f"chain must be a SpinChain (dm.xxz, dm.tfim, ...), got {type(chain).__name__}")
    t = _check_times(times)
    max_bond, cutoff, dt, tol = _check_run_options(max_bond, cutoff, "dt", dt, tol, order, error_run)
    obs = _observables(observables, chain.L)
    grouping = group_chain(chain)
    opts = dict(max_bond=max_bond, cutoff=cutoff, dt=dt, order=order)
    vals, bond, disc, ent, cut = _run(chain, grouping, initial, t, obs, progress=progress, desc="tn.quench", **opts)
    err = {k: np.full(t.size, np.nan) for k in obs}
    if error_run is not None:
        ref = _reference_options(opts, error_run, "dt")
        rvals = _run(chain, grouping, initial, t, obs, progress=progress, desc="tn.quench (error run)", **ref)[0]
        err = {k: np.abs(vals[k] - rvals[k]) for k in obs}
    ok = _check_truncation("tn.quench", disc, tol, t, "t", max_bond, cutoff,
                           f", largest bond reached {bond.max()}", "raise max_bond or shorten the times")
    params = dict(chain=chain.params, model=chain.name, initial=_describe_initial(initial), max_bond=max_bond,
                  cutoff=cutoff, dt=dt, order=order, tol=tol, error_run=error_run,
                  groups=[list(g) for g in grouping.groups])
    return QuenchResult(t, vals, err, bond, disc, ent, cut, params, ok)


def _describe_initial(initial):
    if isinstance(initial, (str, dict)):
        return initial if isinstance(initial, str) else {k: np.asarray(v).tolist() for k, v in initial.items()}
    return type(initial).__name__
