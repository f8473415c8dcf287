r"""Thermal states of long chains by purification, the thermal value at a quench energy, and DMRG ground states.

Purification (Verstraete, Garcia-Ripoll and Cirac, PRL 93, 207204 (2004)): every spin gets an ancilla,
the infinite-temperature state is the product of maximally entangled pairs
:math:`|I\rangle = \bigotimes_j (|\uparrow\uparrow\rangle + |\downarrow\downarrow\rangle)/\sqrt2`, and

.. math::

    |\psi(\beta)\rangle = e^{-\beta H/2}\,|I\rangle, \qquad
    \langle O\rangle_\beta = \frac{\mathrm{tr}(O e^{-\beta H})}{\mathrm{tr}\,e^{-\beta H}}
    = \frac{\langle\psi(\beta)|O\otimes 1|\psi(\beta)\rangle}{\langle\psi(\beta)|\psi(\beta)\rangle},
    \qquad \ln Z(\beta) = L\ln 2 + \ln\langle\psi(\beta)|\psi(\beta)\rangle ,

with H acting on the spins only. One imaginary-time TEBD run (:math:`\tau = \beta/2`, same product
formulas as the quench) passes through every requested :math:`\beta`. Units :math:`\hbar = k_B = 1`.

Canonical ensemble at fixed magnetization (``sz=M``, :math:`S^z = \sum_j\sigma^z_j/2`): the start is the
projected infinite-temperature state

.. math::

    |I_M\rangle = \binom{L}{N_\uparrow}^{-1/2}\sum_{s:\,S^z(s) = M} |s\rangle_{\rm spins}|s\rangle_{\rm anc},
    \qquad N_\uparrow = L/2 + M,

an exact MPS whose bond index counts the up spins to its left (bond dimension at most
:math:`\min(N_\uparrow, L - N_\uparrow) + 1`). When :math:`[H, S^z] = 0` the evolution never leaves the
sector, so :math:`\langle O\rangle = \mathrm{tr}(P_M O e^{-\beta H})/Z_M` and
:math:`\ln Z_M = \ln\binom{L}{N_\uparrow} + \ln\langle\psi(\beta)|\psi(\beta)\rangle`. A chain that does
not conserve :math:`S^z` is refused (each bond term must commute with its local :math:`S^z`).
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings

import numpy as np

from .. import _checks
from ..models import SpinChain
from ..sectors import _check_sz
from ._engine import Evolver, product_mps
from ._local import Grouping, group_chain, parse_observable
from .quench import (_check_int, _check_run_options, _check_truncation, _observables, _progress, _reference_options,
                     _regroup_mps, initial_mps)

__all__ = ["ThermalResult", "ThermalValue", "GroundState", "thermal_state", "thermal_value", "ground_state",
           "initial_energy"]


@dataclasses.dataclass(frozen=True)
class ThermalResult:
    r"""Thermal expectation values along one imaginary-time purification run (from :func:`thermal_state`).

    Attributes
    ----------
    betas : ndarray (n,)
        Inverse temperatures, ascending.
    energy : ndarray (n,)
        :math:`\langle H\rangle_\beta`.
    energy_per_site : ndarray (n,)
        Bulk energy per site: the bond energies :math:`\langle h_{g,g+1}\rangle` summed over the central half
        of the bonds, divided by the number of spins they cover (one-site terms split between bonds).
    values : dict name -> ndarray (n,)
        :math:`\langle O\rangle_\beta` of the requested Pauli strings.
    log_z : ndarray (n,)
        :math:`\ln Z(\beta)` (free energy :math:`F = -\ln Z/\beta`).
    truncation_error : ndarray (n,)
        Accumulated discarded weight :math:`\sum\epsilon` up to each beta.
    energy_error, energy_per_site_error : ndarray (n,)
        :math:`|x - x_{\rm ref}|` against a reference run (half the bond dimension or twice ``dtau``);
        NaN without one.
    value_errors : dict name -> ndarray (n,)
        The same for every observable.
    bond_dim : ndarray (n,) of int
    params : dict
    within_tolerance : bool
        False when the discarded weight exceeds ``tol`` (a warning said so).
    """

    betas: np.ndarray
    energy: np.ndarray
    energy_per_site: np.ndarray
    values: dict
    log_z: np.ndarray
    truncation_error: np.ndarray
    energy_error: np.ndarray
    energy_per_site_error: np.ndarray
    value_errors: dict
    bond_dim: np.ndarray
    params: dict
    within_tolerance: bool

    def to_dict(self) -> dict:
        return {
            "betas": self.betas.tolist(),
            "energy": self.energy.tolist(),
            "energy_per_site": self.energy_per_site.tolist(),
            "values": {k: v.tolist() for k, v in self.values.items()},
            "log_z": self.log_z.tolist(),
            "truncation_error": self.truncation_error.tolist(),
            "energy_error": self.energy_error.tolist(),
            "energy_per_site_error": self.energy_per_site_error.tolist(),
            "value_errors": {k: v.tolist() for k, v in self.value_errors.items()},
            "bond_dim": self.bond_dim.tolist(),
            "within_tolerance": self.within_tolerance,
            "params": self.params,
        }


def _check_betas(betas) -> np.ndarray:
    b = np.atleast_1d(np.asarray(betas, dtype=float))
    if b.ndim != 1 or b.size == 0 or not np.all(np.isfinite(b)):
        raise ValueError(f"betas must be a non-empty list of finite inverse temperatures, got {betas!r}")
    if np.any(b < 0):
        raise ValueError(
            f"beta must be >= 0, got {b[b < 0].tolist()}; negative temperatures are not thermal states here "
            "(beta = 0 is infinite temperature)"
        )
    return np.sort(b)


def _bulk_per_site(grouping: Grouping, bond_e: np.ndarray) -> float:
    nb = bond_e.size
    lo, hi = nb // 4, nb - nb // 4
    if hi <= lo:
        lo, hi = 0, nb
    sizes = np.array([len(g) for g in grouping.groups], dtype=float)
    spins = 0.5 * (sizes[:-1] + sizes[1:])
    # edge bonds also carry the whole one-site terms of the edge supersites; central bonds never do
    return float(bond_e[lo:hi].sum() / spins[lo:hi].sum())


def _check_conserves_sz(grouping: Grouping, sz) -> None:
    """Raise unless every bond Hamiltonian commutes with the S^z of its spins (then [H, S^z_tot] = 0)."""
    for (g, h), hb in sorted(grouping.bonds.items()):
        n = len(grouping.groups[g]) + len(grouping.groups[h])
        # S^z of the bond's spins, diagonal: basis state bit 0 = up (+1/2), lower spin index more significant
        bits = (np.arange(2**n)[:, None] >> np.arange(n)[None, ::-1]) & 1
        szb = (0.5 * (n - 2 * bits.sum(axis=1))).astype(float)
        comm = hb * szb[None, :] - szb[:, None] * hb
        if np.abs(comm).max() > 1e-12 * max(1.0, np.abs(hb).max()):
            spins = grouping.groups[g] + grouping.groups[h]
            raise ValueError(
                f"sz={sz!r} needs a Hamiltonian that conserves total S^z, but the terms on spins {list(spins)} "
                "do not commute with S^z (a transverse field or an anisotropy in the xy plane?); use sz=None "
                "for the grand-canonical Gibbs state"
            )


def sector_infinite_temperature_mps(grouping: Grouping, n_up: int):
    r"""The normalized purification :math:`|I_M\rangle` of :math:`P_M/\mathrm{tr}P_M` on a purified grouping.

    Bond index = number of up spins on the supersites to the left (only counts that can still reach
    ``n_up``); local index of a supersite with spin configuration c is ``c * d + c`` (spins, then ancillas).
    """
    import quimb.tensor as qtn
    from math import comb

    if not grouping.purified:
        raise ValueError("sector_infinite_temperature_mps needs a purified grouping (group_chain(..., purified=True))")
    L, n = grouping.L, grouping.n
    sizes = [len(gr) for gr in grouping.groups]
    # feasible up-counts on every bond: after supersites 0..g
    done = np.cumsum(sizes)
    allowed = [list(range(max(0, n_up - (L - done[g])), min(n_up, done[g]) + 1)) for g in range(n - 1)]
    arrays = []
    for g in range(n):
        d = 2 ** sizes[g]
        ups = [sizes[g] - bin(c).count("1") for c in range(d)]  # bit 1 = down
        left = [0] if g == 0 else allowed[g - 1]
        right = [n_up] if g == n - 1 else allowed[g]
        A = np.zeros((len(left), len(right), d * d))
        ridx = {r: j for j, r in enumerate(right)}
        for i, lcount in enumerate(left):
            for c in range(d):
                j = ridx.get(lcount + ups[c])
                if j is not None:
                    A[i, j, c * d + c] = 1.0
        if g == 0:
            A = A[0]
        elif g == n - 1:
            A = A[:, 0]
        arrays.append(A)
    psi = qtn.MatrixProductState(arrays, shape="lrp")
    psi /= np.sqrt(comb(L, n_up))  # the C(L, n_up) configurations are orthonormal
    return psi


def _purified_run(chain, grouping, betas, obs, *, max_bond, cutoff, dtau, order, progress, desc, n_up=None):
    from math import comb, log

    if n_up is None:
        d = [grouping.spin_dim(g) for g in range(grouping.n)]
        psi0 = product_mps([np.eye(k).reshape(-1) for k in d])
        log_dim = grouping.L * np.log(2.0)
    else:
        psi0 = sector_infinite_temperature_mps(grouping, n_up)
        log_dim = log(comb(grouping.L, n_up))
    ev = Evolver(psi0, grouping, max_bond=max_bond, cutoff=cutoff, imag=True)
    n = betas.size
    out = dict(energy=np.empty(n), eps=np.empty(n), logz=np.empty(n), disc=np.empty(n),
               bond=np.empty(n, dtype=int), vals={k: np.empty(n) for k in obs})
    tau = 0.0
    with _progress(n, progress, desc) as bar:
        for i, b in enumerate(betas):
            ev.evolve(b / 2 - tau, dtau, order)
            tau = b / 2
            be = ev.bond_energies()
            out["energy"][i] = be.sum()
            out["eps"][i] = _bulk_per_site(grouping, be)
            out["logz"][i] = log_dim + 2 * ev.log_norm
            out["disc"][i] = ev.discarded
            out["bond"][i] = ev.psi.max_bond()
            cache = {}
            for k, terms in obs.items():
                out["vals"][k][i] = sum(c * ev.expect_term(f, cache) for c, f in terms).real
            bar.update(1)
    return out


def thermal_state(
    chain: SpinChain,
    betas,
    *,
    observables=(),
    max_bond: int = 64,
    cutoff: float = 1e-12,
    dtau: float = 0.05,
    order: int = 4,
    tol: float = 1e-6,
    error_run: str | None = "bond",
    sz=None,
    progress: bool | None = None,
) -> ThermalResult:
    r"""Gibbs-state expectation values :math:`\mathrm{tr}(O e^{-\beta H})/Z` at every beta, by purification.

    Parameters
    ----------
    chain : SpinChain
        Open chain with nearest (and optionally next-nearest) couplings.
    betas : float or sequence of float
        Inverse temperatures (>= 0); one imaginary-time run reaches all of them (sorted ascending).
    observables : str or sequence of str
        Pauli strings (:math:`\sigma`) whose thermal values to record, e.g. ``["z10", "x3*x4"]``.
    max_bond, cutoff : int, float
        Truncation of the purified MPS (bond dimension, relative discarded weight per split).
    dtau : float
        Largest imaginary-time step; :math:`\tau = \beta/2`.
    order : {1, 2, 4}
        Product-formula order.
    tol : float
        Accepted accumulated discarded weight; above it a warning gives the weight reached.
    error_run : {"bond", "dt", None}
        Reference run for the error estimates (half the bond dimension, twice ``dtau``, or none).
    sz : int or half-integer, optional
        Canonical ensemble at fixed total magnetization :math:`S^z = \sum_j \sigma^z_j/2 = ` ``sz``
        (:math:`\mathrm{tr}(P_{sz} O e^{-\beta H})/Z_{sz}`, the ensemble of ``dm.diagonalize(chain,
        sector=dict(sz=...))``); the chain must conserve :math:`S^z`. Default None: all sectors.
    progress : bool, optional
        Progress bar over the betas.

    Returns
    -------
    ThermalResult
        ``params["sz"]`` records the sector.
    """
    if not isinstance(chain, SpinChain):
        raise TypeError(f"chain must be a SpinChain (dm.xxz, dm.tfim, ...), got {type(chain).__name__}")
    b = _check_betas(betas)
    max_bond, cutoff, dtau, tol = _check_run_options(max_bond, cutoff, "dtau", dtau, tol, order, error_run)
    obs = _observables(observables, chain.L) if (observables is not None and len(observables)) else {}
    grouping = group_chain(chain, purified=True)
    n_up = None
    if sz is not None:
        n_up = chain.L - _check_sz(chain.L, sz)
        _check_conserves_sz(grouping, sz)
    opts = dict(max_bond=max_bond, cutoff=cutoff, dtau=dtau, order=order, n_up=n_up)
    r = _purified_run(chain, grouping, b, obs, progress=progress, desc="tn.thermal_state", **opts)
    nan = np.full(b.size, np.nan)
    e_err, eps_err, v_err = nan, nan.copy(), {k: nan.copy() for k in obs}
    if error_run is not None:
        ref = _reference_options(opts, error_run, "dtau")
        rr = _purified_run(chain, grouping, b, obs, progress=progress, desc="tn.thermal_state (error run)", **ref)
        e_err = np.abs(r["energy"] - rr["energy"])
        eps_err = np.abs(r["eps"] - rr["eps"])
        v_err = {k: np.abs(r["vals"][k] - rr["vals"][k]) for k in obs}
    ok = _check_truncation("tn.thermal_state", r["disc"], tol, b, "beta", max_bond, cutoff, "", "raise max_bond")
    params = dict(chain=chain.params, model=chain.name, max_bond=max_bond, cutoff=cutoff, dtau=dtau, order=order,
                  tol=tol, error_run=error_run, sz=sz, groups=[list(g) for g in grouping.groups])
    return ThermalResult(b, r["energy"], r["eps"], r["vals"], r["logz"], r["disc"], e_err, eps_err, v_err,
                         r["bond"], params, ok)


# -- thermal value at a given energy ---------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ThermalValue:
    r"""The canonical prediction for an observable at a given energy (from :func:`thermal_value`).

    Attributes
    ----------
    beta : float
        The inverse temperature with :math:`\langle H\rangle_\beta = E`.
    value : float
        :math:`\langle O\rangle_\beta` there.
    energy : float
        The target energy E.
    error : float
        Estimated error of ``value``: the thermal run's reference-run difference, interpolated.
    thermal : ThermalResult
        The run the numbers were interpolated from.
    """

    beta: float
    value: float
    energy: float
    error: float
    thermal: ThermalResult


def thermal_value(
    chain: SpinChain,
    observable: str,
    energy: float,
    *,
    betas=None,
    max_bond: int = 64,
    cutoff: float = 1e-12,
    dtau: float = 0.05,
    thermal: ThermalResult | None = None,
    sz=None,
    progress: bool | None = None,
) -> ThermalValue:
    r"""The thermal value :math:`\langle O\rangle_{\beta^*}` with :math:`\langle H\rangle_{\beta^*} = E`.

    This is the canonical prediction for the late-time value of a quench from a state of energy
    :math:`E = \langle\psi_0|H|\psi_0\rangle` (:func:`initial_energy`). :math:`\beta^*` is found by
    monotone (PCHIP) interpolation of :math:`\beta(E)` on the grid ``betas``, and the observable by the
    same interpolation in :math:`\beta`.

    Parameters
    ----------
    chain : SpinChain
    observable : str
        Pauli string.
    energy : float
        Total energy E, between the energies at the largest and smallest beta of the grid.
    betas : sequence of float, optional
        Grid (default ``0, 0.1, ..., 6``). Ignored when ``thermal`` is given.
    thermal : ThermalResult, optional
        Reuse a run that recorded ``observable`` (saves the imaginary-time evolution).
    sz : int or half-integer, optional
        The canonical prediction at fixed magnetization (the sector of the initial state, e.g. ``sz=0``
        for a Neel quench; see :func:`thermal_state`). With ``thermal`` given it must match that run's.
    """
    from scipy.interpolate import PchipInterpolator

    if not isinstance(observable, str):
        raise TypeError(f"observable must be one Pauli string like 'z10', got {type(observable).__name__}")
    if isinstance(energy, bool) or not isinstance(energy, numbers.Real) or not np.isfinite(energy):
        raise TypeError(f"energy must be a finite real number, got {energy!r}")
    if thermal is None:
        grid = np.round(np.arange(0, 6.0 + 1e-9, 0.1), 12) if betas is None else betas
        thermal = thermal_state(chain, grid, observables=[observable], max_bond=max_bond, cutoff=cutoff,
                                dtau=dtau, sz=sz, progress=progress)
    elif thermal.params.get("sz") != sz:
        raise ValueError(f"thermal run was made with sz={thermal.params.get('sz')!r} but sz={sz!r} was asked; "
                         "pass the same sz (or leave thermal=None to run it)")
    elif observable not in thermal.values:
        raise ValueError(f"thermal run has no values for {observable!r} (it has {sorted(thermal.values)}); "
                         f"run thermal_state(..., observables=[{observable!r}])")
    b, E = thermal.betas, thermal.energy
    if b.size < 2:
        raise ValueError("thermal_value needs a grid of at least two betas")
    lo, hi = E.min(), E.max()
    if not lo <= energy <= hi:
        side = ("above the infinite-temperature energy (a negative temperature)" if energy > hi
                else f"below the energy at the largest beta={b.max():g}; extend betas")
        raise ValueError(f"energy={energy:.6g} is {side}: the grid covers [{lo:.6g}, {hi:.6g}]")
    order = np.argsort(E)
    bstar = float(PchipInterpolator(E[order], b[order])(energy))
    val = float(PchipInterpolator(b, thermal.values[observable])(bstar))
    errs = thermal.value_errors.get(observable)
    err = float(np.interp(bstar, b, errs)) if errs is not None else float("nan")
    return ThermalValue(bstar, val, float(energy), err, thermal)


def initial_energy(chain: SpinChain, initial) -> float:
    r""":math:`\langle\psi_0|H|\psi_0\rangle` of an initial state as accepted by :func:`quench`."""
    grouping = group_chain(chain)
    ev = Evolver(initial_mps(initial, grouping), grouping, max_bond=2**30, cutoff=0.0)
    return float(ev.bond_energies().sum())


# -- ground state ----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class GroundState:
    r"""DMRG ground state (from :func:`ground_state`): the :math:`\beta\to\infty` end.

    Attributes
    ----------
    energy : float
        Ground-state energy from quimb's ``DMRG2``.
    energy_per_site : float
        Bulk energy per site (as in :class:`ThermalResult`).
    mps : quimb MatrixProductState
        The ground state, one spin per site.
    bond_dim : int
    converged : bool
        Whether the sweeps met ``tol``.
    params : dict
    """

    energy: float
    energy_per_site: float
    mps: object
    bond_dim: int
    converged: bool
    params: dict


def ground_state(
    chain: SpinChain,
    *,
    max_bond: int = 64,
    cutoff: float = 1e-12,
    tol: float = 1e-10,
    max_sweeps: int = 20,
    seed: int = 0,
) -> GroundState:
    r"""Ground state of the chain's MPO by two-site DMRG (``quimb.tensor.DMRG2``).

    Bond dimensions ramp as ``8, 16, ..., max_bond``; sweeps stop when the energy changes by less than
    ``tol`` (quimb's criterion) or after ``max_sweeps`` (then ``converged`` is False and a warning says so).
    """
    import quimb.tensor as qtn

    if not isinstance(chain, SpinChain):
        raise TypeError(f"chain must be a SpinChain (dm.xxz, dm.tfim, ...), got {type(chain).__name__}")
    max_bond = _check_int("max_bond", max_bond)
    cutoff = _checks.check_positive("cutoff", cutoff, allow_zero=True)
    tol = _checks.check_positive("tol", tol)
    max_sweeps = _check_int("max_sweeps", max_sweeps)
    if chain.bc != "open":
        raise ValueError(f"chain has bc={chain.bc!r}: ground_state works with open MPS; build it with bc='open'")
    H = chain.mpo()
    dims = [d for d in (8, 16, 32, 64, 128, 256, 512, 1024) if d < max_bond] + [max_bond]
    p0 = qtn.MPS_rand_state(chain.L, bond_dim=min(8, max_bond), seed=seed, dtype=float)
    dmrg = qtn.DMRG2(H, bond_dims=dims, cutoffs=cutoff, p0=p0)
    converged = bool(dmrg.solve(tol=tol, max_sweeps=max_sweeps, verbosity=0))
    if not converged:
        warnings.warn(f"tn.ground_state: DMRG2 did not reach tol={tol:g} in {max_sweeps} sweeps "
                      f"(max_bond={max_bond}); raise max_sweeps or max_bond", stacklevel=2)
    psi = dmrg.state
    grouping = group_chain(chain)
    ev = Evolver(_regroup_mps(psi, grouping), grouping, max_bond=2**30, cutoff=0.0, imag=True)
    eps = _bulk_per_site(grouping, ev.bond_energies())
    params = dict(chain=chain.params, model=chain.name, max_bond=max_bond, cutoff=cutoff, tol=tol,
                  max_sweeps=max_sweeps, seed=seed)
    return GroundState(float(np.real(dmrg.energy)), eps, psi, int(psi.max_bond()), converged, params)
