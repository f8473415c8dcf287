r"""Equilibration time versus system size: :math:`t_{eq}\lambda^2` against L for an edge bath.

Two routes, both exact inside the Davies generator (where :math:`t_{eq}\propto\lambda^{-2}` exactly, so
:math:`t_{eq}\lambda^2` is the size-dependent number):

* :func:`free_fermion_size_scan`: open XX or transverse-field Ising chains through
  :class:`~davies_mb.free_fermion_davies.FreeFermionDavies`, any L (hundreds to thousands of sites).
* :func:`exact_size_scan`: interacting XXZ chains (integrable, or chaotic with :math:`J_2`) through the
  many-body :class:`~davies_mb.DaviesGenerator` and :func:`~davies_mb.teq_scan` (L up to 12-16).

Each gives :math:`t_{gap}\lambda^2 = \lambda^2/\Delta` and :math:`t_E\lambda^2`, the decay time of the energy's
slow tail :math:`\langle H\rangle(t) - \langle H\rangle_\infty` (:func:`davies_mb.ergodicity.fit_exponential_tail`),
and power laws :math:`t\lambda^2 = c L^p` fitted on log-log axes with the standard error of :math:`p`.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from .dynamics import log_times
from .ergodicity import fit_exponential_tail, fit_power_law, teq_scan
from .free_fermion_davies import FreeFermionDavies
from .models import xxz

__all__ = ["SizeScan", "free_fermion_size_scan", "exact_size_scan"]


@dataclasses.dataclass(frozen=True)
class SizeScan:
    r""":math:`t_{eq}\lambda^2` versus L for one chain family.

    Attributes
    ----------
    label : str
        Family in words (e.g. ``"XX hz=0.3, x0"``).
    sizes : ndarray of int
    t_gap : ndarray
        :math:`\lambda^2/\Delta`.
    t_energy, t_energy_err : ndarray
        :math:`\lambda^2\tau_E` of the energy tail and its standard error (``nan`` when not resolved).
    fits : dict name -> PowerLawFit
        ``"gap"`` and ``"energy"``: :math:`t\lambda^2 = cL^p` over the sizes ``>= fit_min_L``.
    seconds : ndarray
        Wall time of each size.
    params : dict
    """

    label: str
    sizes: np.ndarray
    t_gap: np.ndarray
    t_energy: np.ndarray
    t_energy_err: np.ndarray
    fits: dict
    seconds: np.ndarray
    params: dict

    def table(self) -> str:
        lines = [f"{self.label}", f"{'L':>6} {'lam^2/gap':>14} {'lam^2 tau_E':>14} {'+-':>10} {'s':>8}"]
        for i, L in enumerate(self.sizes):
            lines.append(f"{L:>6d} {self.t_gap[i]:>14.6g} {self.t_energy[i]:>14.6g} {self.t_energy_err[i]:>10.2g} "
                         f"{self.seconds[i]:>8.2f}")
        for k, f in self.fits.items():
            lines.append(f"  {k:<7} t lam^2 = {f.prefactor:.4g} L^({f.exponent:.4f} +- {f.stderr:.2g})  ({f.n} sizes)")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return dict(label=self.label, sizes=self.sizes, t_gap=self.t_gap, t_energy=self.t_energy,
                    t_energy_err=self.t_energy_err, seconds=self.seconds, params=self.params,
                    fits={k: dataclasses.asdict(v) for k, v in self.fits.items()})


def _check_sizes(sizes, lo=2) -> np.ndarray:
    try:
        L = np.asarray(sizes)
    except Exception:  # pragma: no cover
        L = None
    if L is None or L.ndim != 1 or L.size == 0 or L.dtype.kind not in "iu" or np.any(L < lo):
        raise ValueError(f"sizes must be a non-empty list of integers >= {lo}, got {sizes!r}")
    return np.sort(L.astype(int))


def _fits(sizes, t_gap, t_energy, fit_min_L) -> dict:
    sel = sizes >= fit_min_L
    if sel.sum() < 2:
        return {}
    return {"gap": fit_power_law(sizes[sel].astype(float), t_gap[sel]),
            "energy": fit_power_law(sizes[sel].astype(float), t_energy[sel])}


def free_fermion_size_scan(model: str, sizes, bath, *, strength: float = 0.1, g: float = 1.5, hz: float = 0.3,
                           j: float = 1.0, n_times: int = 400, fit_min_L: int = 32) -> SizeScan:
    r""":math:`t_{eq}\lambda^2` versus L of an open free-fermion chain with an edge bath.

    ``model="xx"``: :math:`H = J\sum(S^xS^x + S^yS^y) + h_z\sum S^z`, coupling :math:`\sigma^x_0`, initial
    Neel state (:math:`\langle\sigma^z_j\rangle = (-1)^j`). ``model="tfim"``:
    :math:`H = -J\sum\sigma^z\sigma^z - g\sum\sigma^x`, coupling :math:`\sigma^z_0`, initial state with every
    :math:`\langle\sigma^x_j\rangle = -1` (against the field). The energy tail is fitted on a log grid of
    ``n_times`` points up to :math:`40/\Delta` and refined there (``resample``).
    """
    if model not in ("xx", "tfim"):
        raise ValueError(f"model must be 'xx' or 'tfim', got {model!r}")
    Ls = _check_sizes(sizes)
    t_gap, t_e, t_err, secs = (np.full(Ls.size, np.nan) for _ in range(4))
    lam2 = strength**2
    for i, L in enumerate(Ls):
        t0 = time.perf_counter()
        if model == "xx":
            ff = FreeFermionDavies.xx(int(L), "x0", bath, strength, j=j, hz=hz)
            G0 = ff.local_product_covariance(np.where(np.arange(L) % 2 == 0, 1.0, -1.0))
        else:
            ff = FreeFermionDavies.tfim(int(L), g, "z0", bath, strength, j=j)
            G0 = ff.local_product_covariance(-np.ones(L))
        if ff.dark_modes():
            raise ValueError(f"L={L}: {ff.dark_modes()} dark modes (a Bohr frequency shared by two modes, or an "
                             "edge zero mode): the chain does not thermalize; change hz or g")
        gap = ff.gap()
        e_inf = float(np.sum(ff.mode_energies * (1 / (np.exp(np.minimum(bath.beta * ff.mode_energies, 700)) + 1)
                                                  - 0.5)))
        times = log_times(0.05 / max(1.0, abs(j) + abs(hz) + abs(g)), 40.0 / gap, n_times)

        def dev(t, ff=ff, G0=G0, e_inf=e_inf):
            return ff.trajectory(G0, np.atleast_1d(t), local=False).energy - e_inf

        tau, err = fit_exponential_tail(times, dev(times), resample=dev)
        t_gap[i], t_e[i], t_err[i] = lam2 / gap, lam2 * tau, lam2 * err
        secs[i] = time.perf_counter() - t0
    label = f"XX hz={hz:g}, sigma^x_0" if model == "xx" else f"TFIM g={g:g}, sigma^z_0"
    params = dict(model=model, sizes=Ls, strength=strength, j=j, hz=hz if model == "xx" else None,
                  g=g if model == "tfim" else None, beta=bath.beta, bath=repr(bath), n_times=n_times,
                  fit_min_L=fit_min_L)
    return SizeScan(label, Ls, t_gap, t_e, t_err, _fits(Ls, t_gap, t_e, fit_min_L), secs, params)


def exact_size_scan(sizes, bath, *, delta: float = 0.5, j2: float = 0.0, coupling: str = "z0",
                    sector: dict | None = None, strength: float = 0.1, n_times: int = 200,
                    fit_min_L: int = 8) -> SizeScan:
    r""":math:`t_{eq}\lambda^2` versus L of an open XXZ chain (:math:`J_2 = 0` integrable, else chaotic) with
    the exact many-body Davies generator, Neel initial state, through :func:`davies_mb.teq_scan`.

    ``sector`` defaults to ``dict(sz=0)`` when the coupling conserves total :math:`S^z` (the Neel state lives
    there and the bath never leaves it), else the full space.
    """
    Ls = _check_sizes(sizes, lo=4)
    t_gap, t_e, t_err, secs = (np.full(Ls.size, np.nan) for _ in range(4))
    lam2 = strength**2
    for i, L in enumerate(Ls):
        t0 = time.perf_counter()
        chain = xxz(int(L), delta, j2=j2)
        A = chain.parse_operator(coupling)
        sec = sector
        if sec is None:
            Sz = chain.total("z")
            sec = dict(sz=0) if abs(A @ Sz - Sz @ A).max() <= 1e-12 else None
        res = teq_scan(chain, A, bath, [strength], initial="neel", sector=sec, n_times=n_times, progress=False)
        t_gap[i] = lam2 * res.t_gap[0]
        t_e[i] = lam2 * res.t_fit["energy"][0]
        t_err[i] = lam2 * res.t_fit_err["energy"][0]
        secs[i] = time.perf_counter() - t0
    kind = "integrable" if j2 == 0 else "chaotic"
    label = f"XXZ {kind} (Delta={delta:g}, J2={j2:g}), {coupling}"
    params = dict(model="xxz", sizes=Ls, delta=delta, j2=j2, coupling=coupling, sector=sector, strength=strength,
                  beta=bath.beta, bath=repr(bath), n_times=n_times, fit_min_L=fit_min_L)
    return SizeScan(label, Ls, t_gap, t_e, t_err, _fits(Ls, t_gap, t_e, fit_min_L), secs, params)


