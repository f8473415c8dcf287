"""Diagonal and off-diagonal ETH: eigenstate expectation values and matrix elements, sector by sector.

The ansatz and conventions are in the docstring of :mod:`davies_mb.eth`.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import scipy.sparse as sp

from .. import _checks
from .resolved import _check_chain, sector_eigensystems


# --------------------------------------------------------------------------------------------------
# diagonal and off-diagonal ETH
# --------------------------------------------------------------------------------------------------
def _restricted_op(op, rows, dim):
    op = _checks.as_operator("op", op, dim)
    op = sp.csr_array(op) if not sp.issparse(op) else op
    if rows is not None:
        band = op[rows]
        inside = band[:, rows]
        total = float(abs(band).sum())
        if total - float(abs(inside).sum()) > 1e-12 * max(total, 1e-300):
            raise ValueError("op does not conserve total S^z (it connects the S^z sector to others): its "
                             "eigenstate matrix elements inside the sector would be incomplete; use an operator "
                             "that commutes with S^z, e.g. z0*z1 or x0*x1+y0*y1")
        op = inside
    return op


def _check_window(name, value, upper=0.5):
    v = _checks.check_positive(name, value)
    if v > upper:
        raise ValueError(f"{name} must be in (0, {upper}], got {value}")
    return v


@dataclasses.dataclass(frozen=True, eq=False)
class DiagonalETH:
    r"""Eigenstate expectation values :math:`O_{nn}` of a chain, pooled over fully resolved sectors.

    Attributes
    ----------
    energies, values : ndarray
        :math:`E_n` and :math:`O_{nn} = \langle n|O|n\rangle` of every eigenstate, sector after sector.
    sector_index : ndarray of int
        The sector (position in ``sectors``) of each eigenstate.
    sectors : tuple of dict
    energy_density : ndarray
        :math:`\epsilon_n = (E_n - E_\text{min}) / (E_\text{max} - E_\text{min})` over all pooled states.
    center : float
        Energy density of the window center (default: the infinite-temperature energy
        :math:`\operatorname{tr} H / D`, the mean of all pooled :math:`E_n`).
    window : float
        Half-width of the energy-density window :math:`|\epsilon_n - \epsilon_c| \le w`.
    neighbour_differences : ndarray
        :math:`|O_{n+1,n+1} - O_{nn}|` for consecutive eigenstates of one sector, both inside the window.
    mc_deviations : ndarray
        :math:`O_{nn} - \overline{O}_\text{mc}(E_n)` for the states in the window, with the microcanonical
        average :math:`\overline O_\text{mc}(E) = \mathrm{mean}\{O_{mm} : |E_m - E| \le \delta E\}` over all
        pooled states, :math:`\delta E` = ``mc_width`` times the spectral width.
    mc_width : float
    """

    energies: np.ndarray
    values: np.ndarray
    sector_index: np.ndarray
    sectors: tuple
    energy_density: np.ndarray
    center: float
    window: float
    neighbour_differences: np.ndarray
    mc_deviations: np.ndarray
    mc_width: float

    @property
    def fluctuation(self) -> float:
        r"""Mean neighbour difference :math:`\langle |O_{n+1,n+1} - O_{nn}| \rangle` in the window (``nan`` if none)."""
        d = self.neighbour_differences
        return float(np.mean(d)) if d.size else float("nan")

    @property
    def mc_deviation(self) -> float:
        r"""Mean :math:`|O_{nn} - \overline O_\text{mc}(E_n)|` in the window."""
        return float(np.mean(np.abs(self.mc_deviations)))

    @property
    def in_window(self) -> np.ndarray:
        """Mask of the eigenstates inside the energy-density window."""
        return np.abs(self.energy_density - self.center) <= self.window

    def to_dict(self) -> dict:
        return dict(fluctuation=self.fluctuation, mc_deviation=self.mc_deviation, center=self.center,
                    window=self.window, mc_width=self.mc_width, n_states=int(self.values.size),
                    n_in_window=int(self.in_window.sum()), n_sectors=len(self.sectors))


def diagonal_eth(chain, op, sz=0, *, window: float = 0.05, center: float | None = None,
                 mc_width: float = 0.01) -> DiagonalETH:
    r"""Diagonal ETH: eigenstate expectation values against energy density, pooled over fully resolved sectors.

    ETH predicts :math:`O_{nn} = O(E_n) + O(e^{-S/2})`: the neighbour differences
    :math:`|O_{n+1,n+1} - O_{nn}|` (consecutive eigenstates of one sector) and the deviations from the
    microcanonical average shrink exponentially with :math:`L` (:math:`\propto D^{-1/2}`) in a chaotic
    chain; in an integrable chain they decay only slowly (the :math:`O_{nn}` scatter with the values of
    the extra conserved quantities).

    Parameters
    ----------
    chain : SpinChain
    op : array_like or sparse matrix
        Hermitian observable in the full computational basis (``2**L``), e.g. ``chain.op("z", 0) @ chain.op("z", 1)``.
        Inside a sector only its symmetrized part matters (see the module notes).
    sz : float or None
        Total :math:`S^z` of the sectors (``None`` for chains without it).
    window : float, keyword-only
        Half-width of the energy-density window around ``center`` (default 0.05).
    center : float, keyword-only, optional
        Energy density of the window center (default: the infinite-temperature energy).
    mc_width : float, keyword-only
        Half-width of the microcanonical energy shell, as a fraction of the spectral width (default 0.01).

    Returns
    -------
    DiagonalETH
    """
    chain = _check_chain(chain)
    window = _check_window("window", window)
    mc_width = _check_window("mc_width", mc_width)
    Es, Os, idx, labels = [], [], [], []
    op_s = None
    for i, (label, E, U, P, rows) in enumerate(sector_eigensystems(chain, sz, vectors=True)):
        if op_s is None:
            op_s = _restricted_op(op, rows, chain.dim)
        Oc = P.conj().T @ (op_s @ P)
        vals = np.einsum("an,an->n", U.conj(), Oc @ U).real
        Es.append(E)
        Os.append(vals)
        idx.append(np.full(E.size, i))
        labels.append(label)
    E = np.concatenate(Es)
    O = np.concatenate(Os)
    sec = np.concatenate(idx)
    emin, emax = float(E.min()), float(E.max())
    eps = (E - emin) / (emax - emin)
    c = float(np.mean(eps)) if center is None else float(center)
    inside = np.abs(eps - c) <= window
    diffs = []
    start = 0
    for Ei, Oi in zip(Es, Os):
        m = inside[start:start + Ei.size]
        both = m[1:] & m[:-1]
        diffs.append(np.abs(np.diff(Oi))[both])
        start += Ei.size
    diffs = np.concatenate(diffs)
    if diffs.size == 0:
        warnings.warn(f"no two consecutive eigenstates of one sector lie in the window |eps - {c:.3f}| <= {window}; "
                      "the fluctuation is nan: widen the window or use a longer chain", stacklevel=2)
    # microcanonical average over all pooled states within +-mc_width of the spectral width
    order = np.argsort(E)
    Es_sorted, Os_sorted = E[order], O[order]
    csum = np.concatenate([[0.0], np.cumsum(Os_sorted)])
    dE = mc_width * (emax - emin)
    lo = np.searchsorted(Es_sorted, E[inside] - dE, side="left")
    hi = np.searchsorted(Es_sorted, E[inside] + dE, side="right")
    mc = (csum[hi] - csum[lo]) / (hi - lo)
    return DiagonalETH(energies=E, values=O, sector_index=sec, sectors=tuple(labels), energy_density=eps,
                       center=c, window=window, neighbour_differences=diffs, mc_deviations=O[inside] - mc,
                       mc_width=mc_width)


@dataclasses.dataclass(frozen=True, eq=False)
class OffDiagonalETH:
    r"""Off-diagonal matrix elements :math:`|O_{mn}|^2` (:math:`m \ne n`, same sector) in an energy window.

    Attributes
    ----------
    omega : ndarray
        :math:`\omega = E_m - E_n` of every pair (both orders, :math:`m \ne n`).
    abs2 : ndarray
        :math:`|O_{mn}|^2`.
    mean_energy_density : float
        Center of the window in energy density.
    window : float
        Half-width of the window on :math:`\bar\epsilon = (\epsilon_m + \epsilon_n)/2`.
    bandwidth : float
        :math:`E_\text{max} - E_\text{min}` of the pooled sectors.
    n_sectors : int
    """

    omega: np.ndarray
    abs2: np.ndarray
    mean_energy_density: float
    window: float
    bandwidth: float
    n_sectors: int

    def gaussianity(self, omega_max: float = 0.1) -> float:
        r"""Gaussianity ratio :math:`\Gamma = \langle |O_{mn}|^2\rangle / \langle |O_{mn}|\rangle^2` for :math:`|\omega| \le` ``omega_max``.

        For real Gaussian elements (GOE-like chains) :math:`\Gamma = \pi/2`; complex Gaussian elements
        give :math:`4/\pi`. ``omega_max`` must be small against the scale on which :math:`f_O(\omega)`
        varies, or the mixture of variances raises :math:`\Gamma`.
        """
        omega_max = _checks.check_positive("omega_max", omega_max)
        sel = np.abs(self.omega) <= omega_max
        if not np.any(sel):
            raise ValueError(f"no pairs with |omega| <= omega_max={omega_max}; increase omega_max or the window")
        a2 = self.abs2[sel]
        return float(np.mean(a2) / np.mean(np.sqrt(a2)) ** 2)

    def spectral_function(self, bins: int = 40, omega_max: float | None = None):
        r"""Binned :math:`\overline{|O_{mn}|^2}(\omega)` (proportional to :math:`e^{-S} |f_O(\omega)|^2`).

        Returns ``(bin centers, mean |O_mn|^2 per bin)`` on :math:`[0, \omega_\text{max}]` in :math:`|\omega|`
        (``nan`` for empty bins).
        """
        w = np.abs(self.omega)
        top = float(w.max()) if omega_max is None else float(omega_max)
        edges = np.linspace(0.0, top, int(bins) + 1)
        which = np.clip(np.digitize(w, edges) - 1, 0, int(bins) - 1)
        keep = w <= top
        sums = np.bincount(which[keep], weights=self.abs2[keep], minlength=int(bins))
        counts = np.bincount(which[keep], minlength=int(bins))
        with np.errstate(invalid="ignore", divide="ignore"):
            return 0.5 * (edges[1:] + edges[:-1]), sums / counts


def offdiagonal_eth(chain, op, sz=0, *, window: float = 0.05, center: float | None = None,
                    omega_max: float | None = None) -> OffDiagonalETH:
    r"""Off-diagonal ETH: :math:`|O_{mn}|^2` against :math:`\omega = E_m - E_n` in a narrow energy window.

    Pairs :math:`m \ne n` inside one fully resolved sector with
    :math:`|(\epsilon_m + \epsilon_n)/2 - \epsilon_c| \le w` are collected from all sectors at total
    :math:`S^z` = ``sz``. ETH: :math:`|O_{mn}|^2 = e^{-S(\bar E)} |f_O(\bar E,\omega)|^2 |R_{mn}|^2`, with
    Gaussian :math:`R_{mn}`; see :meth:`OffDiagonalETH.gaussianity`.

    Parameters
    ----------
    chain : SpinChain
    op : array_like or sparse matrix
        Hermitian observable in the full computational basis.
    sz : float or None
    window : float, keyword-only
        Half-width of the window on the mean energy density (default 0.05).
    center : float, keyword-only, optional
        Window center in energy density (default: infinite temperature).
    omega_max : float, keyword-only, optional
        Keep only pairs with :math:`|\omega| \le` ``omega_max`` (saves memory for large chains).

    Returns
    -------
    OffDiagonalETH
    """
    chain = _check_chain(chain)
    window = _check_window("window", window)
    data = []
    op_s = None
    E_all = []
    for label, E, U, P, rows in sector_eigensystems(chain, sz, vectors=True):
        if op_s is None:
            op_s = _restricted_op(op, rows, chain.dim)
        data.append((E, U, P))
        E_all.append(E)
    E_all = np.concatenate(E_all)
    emin, emax = float(E_all.min()), float(E_all.max())
    width = emax - emin
    c = float(np.mean((E_all - emin) / width)) if center is None else float(center)
    omegas, abs2 = [], []
    for E, U, P in data:
        eps = (E - emin) / width
        # states that can be in a pair with mean density in the window
        Oc = P.conj().T @ (op_s @ P)
        M = U.conj().T @ (Oc @ U)
        mean_eps = 0.5 * (eps[:, None] + eps[None, :])
        om = E[:, None] - E[None, :]
        sel = np.abs(mean_eps - c) <= window
        np.fill_diagonal(sel, False)
        if omega_max is not None:
            sel &= np.abs(om) <= omega_max
        omegas.append(om[sel])
        abs2.append(np.abs(M[sel]) ** 2)
    return OffDiagonalETH(omega=np.concatenate(omegas), abs2=np.concatenate(abs2), mean_energy_density=c,
                          window=window, bandwidth=width, n_sectors=len(data))


def exponential_rate(sizes, values) -> tuple:
    r"""Least-squares fit :math:`y(L) = A e^{-\gamma L}` (a straight line in :math:`\ln y`).

    Returns
    -------
    (gamma, A, residual)
        ``gamma`` the decay rate per site (positive for decay), ``A`` the prefactor and ``residual`` the
        root-mean-square deviation of :math:`\ln y` from the line.
    """
    L = np.asarray(sizes, dtype=float)
    y = np.asarray(values, dtype=float)
    if L.shape != y.shape or L.ndim != 1 or L.size < 2:
        raise ValueError(f"sizes and values must be 1-D of equal length >= 2, got {L.shape} and {y.shape}")
    if np.any(y <= 0):
        raise ValueError("values must be > 0 for an exponential fit")
    slope, intercept = np.polyfit(L, np.log(y), 1)
    resid = float(np.sqrt(np.mean((np.log(y) - (slope * L + intercept)) ** 2)))
    return float(-slope), float(np.exp(intercept)), resid
