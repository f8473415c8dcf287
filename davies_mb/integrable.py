r"""Integrable chains: free-fermion solutions of the XX and transverse-field Ising chains, XXZ charges.

Jordan-Wigner conventions (site 0 is the most significant qubit, basis bit 0 is spin up)
------------------------------------------------------------------------------------------
**XX chain** (:func:`davies_mb.xx`, spin operators :math:`S = \sigma/2`)

.. math::

    H = J\sum_j (S^x_j S^x_{j+1} + S^y_j S^y_{j+1}) + h_z \sum_j S^z_j .

An up spin is an occupied fermion, :math:`c_j = \prod_{l<j}(-\sigma^z_l)\,\sigma^-_j`, so
:math:`n_j = c^\dagger_j c_j = S^z_j + 1/2` and

.. math::

    H = \frac{J}{2}\sum_j (c^\dagger_j c_{j+1} + \mathrm{h.c.}) + h_z\sum_j n_j - \frac{h_z L}{2}
      = \sum_k \varepsilon_k a^\dagger_k a_k - \frac{h_z L}{2},
    \qquad \varepsilon_k = h_z + J\cos k .

Open chains: :math:`k = \pi m/(L+1)`, :math:`m = 1..L`, modes
:math:`\phi_k(j) = \sqrt{2/(L+1)}\sin(k(j+1))`. Periodic chains: the boundary bond becomes
:math:`-P\,(J/2)(c^\dagger_{L-1}c_0 + \mathrm{h.c.})` with the fermion parity
:math:`P = \prod_l(-\sigma^z_l) = (-1)^{N_\uparrow}`, so the even sector (:math:`P=+1`) has antiperiodic
fermions, :math:`k = 2\pi(m+1/2)/L` (Neveu-Schwarz), and the odd sector (:math:`P=-1`) periodic ones,
:math:`k = 2\pi m/L` (Ramond); :math:`\phi_k(j) = e^{ikj}/\sqrt{L}`. The many-body spectrum of sector
:math:`P` is :math:`-h_zL/2 + \sum_{k\in S}\varepsilon_k` over the subsets :math:`S` of that sector's
momenta with :math:`(-1)^{|S|} = P`.

**Transverse-field Ising chain** (:func:`davies_mb.tfim`, Pauli matrices)

.. math::

    H = -J\sum_j \sigma^z_j\sigma^z_{j+1} - g\sum_j \sigma^x_j .

Majorana operators :math:`\gamma_{2j} = (\prod_{l<j}\sigma^x_l)\,\sigma^z_j`,
:math:`\gamma_{2j+1} = (\prod_{l<j}\sigma^x_l)\,\sigma^y_j` give :math:`\sigma^x_j = i\gamma_{2j}\gamma_{2j+1}`
and :math:`\sigma^z_j\sigma^z_{j+1} = i\gamma_{2j+1}\gamma_{2j+2}`, hence
:math:`H = \frac{i}{4}\sum_{mn} A_{mn}\gamma_m\gamma_n` with :math:`A_{2j,2j+1} = -2g`,
:math:`A_{2j+1,2j+2} = -2J` and, on a periodic chain, :math:`A_{2L-1,0} = +2JP` where
:math:`P = \prod_j \sigma^x_j` (even sector antiperiodic, odd sector periodic). A real orthogonal :math:`R`
brings :math:`A` to :math:`\oplus_k \begin{pmatrix}0&\varepsilon_k\\-\varepsilon_k&0\end{pmatrix}`; the
new Majoranas :math:`\gamma' = R\gamma` pair into :math:`b_k = (\gamma'_{2k} + i\gamma'_{2k+1})/2` and
:math:`H = \sum_k \varepsilon_k (b^\dagger_k b_k - 1/2)`, :math:`\varepsilon_k \ge 0`; for the periodic chain
:math:`\varepsilon_k = 2\sqrt{J^2 + g^2 - 2Jg\cos k}`. Parity: :math:`P = \det(R)\,(-1)^L\,(-1)^{N_b}`.

Correlation matrices: :math:`C_{ij} = \langle c^\dagger_i c_j\rangle` (XX) and the real antisymmetric
Majorana covariance :math:`\Gamma_{mn} = i\langle\gamma_m\gamma_n\rangle` for :math:`m \ne n`,
:math:`\Gamma_{mm} = 0` (TFIM), so :math:`\langle\sigma^x_j\rangle = \Gamma_{2j,2j+1}`.

**XXZ local charges** (periodic chains): :math:`Q_2 = H` and the energy current
:math:`Q_3 = i\sum_j [h_{j,j+1}, h_{j+1,j+2}]`, :math:`h_{j,j+1} = J(S^xS^x + S^yS^y + \Delta S^zS^z)`
(Grabowski & Mathieu, Ann. Phys. 243, 299 (1995); the boost :math:`B = \sum_j j\,h_{j,j+1}` gives
:math:`i[B, H] = Q_3` up to a factor).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import numbers
import warnings

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from . import _checks
from .operators import pauli, site_operator, spin_operator

__all__ = [
    "FreeFermionModes",
    "xx_modes",
    "tfim_modes",
    "xx_spectrum",
    "tfim_spectrum",
    "jw_fermions",
    "tfim_majoranas",
    "fermion_parity",
    "mode_occupation_operators",
    "correlation_matrix",
    "mode_occupations",
    "gaussian_correlations",
    "thermal_occupations",
    "ground_state_occupations",
    "evolve_correlations",
    "tilted_state_correlations",
    "xxz_charge",
    "xxz_charges",
]

_BCS = ("open", "periodic")
_MAX_MANYBODY_L = 22  # 2^22 many-body energies (32 MiB)
_MAX_OPERATOR_L = 16  # spin-basis operators (sparse, 2^16)


# -- input checks ----------------------------------------------------------------------------------
def _check_L(L, name="L", lmax=None) -> int:
    if isinstance(L, bool) or not isinstance(L, numbers.Integral):
        raise TypeError(f"{name} must be an integer number of sites, got {L!r}")
    if L < 2:
        raise ValueError(f"{name} must be >= 2 sites, got {L}")
    if lmax is not None and L > lmax:
        raise ValueError(f"{name}={L} is too large here (at most {lmax}): the result has 2^{name} entries")
    return int(L)


def _check_real(name, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a finite real number, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def _check_modes(modes) -> None:
    if not isinstance(modes, FreeFermionModes):
        raise TypeError(f"modes must be a FreeFermionModes (from xx_modes or tfim_modes), got {type(modes).__name__}")


def _check_parity(parity, bc):
    if bc == "open":
        if parity is not None:
            raise ValueError(f"parity={parity!r} only applies to periodic chains (open chains have one set of "
                             "modes for both parities); leave parity=None")
        return None
    if parity is None:
        return 1
    if isinstance(parity, bool) or parity not in (1, -1):
        raise ValueError(f"parity must be +1 (even fermion number) or -1 (odd), got {parity!r}")
    return int(parity)


# -- single-particle modes -------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class FreeFermionModes:
    r"""Single-particle solution of a free-fermion chain in one fermion-parity sector.

    Attributes
    ----------
    model : {"xx", "tfim"}
    L : int
    bc : {"open", "periodic"}
    parity : int or None
        Fermion-parity sector (periodic chains): +1 even (antiperiodic fermions), -1 odd (periodic).
        ``None`` for open chains (one set of modes serves both parities).
    params : dict
        ``j``, ``hz`` (XX) or ``j``, ``g`` (TFIM).
    energies : ndarray, shape (L,)
        Single-particle energies in ascending order: :math:`\varepsilon_k = h_z + J\cos k` (XX, any sign)
        or :math:`\varepsilon_k \ge 0` (TFIM).
    vectors : ndarray
        XX: ``(L, L)`` unitary, column ``k`` is :math:`\phi_k(j)`, :math:`c_j = \sum_k \phi_k(j) a_k`.
        TFIM: ``(2L, 2L)`` real orthogonal :math:`R`, rows ``2k, 2k+1`` are the Majoranas of mode ``k``.
    momenta : ndarray or None
        Quasi-momenta in :math:`(-\pi, \pi]` (periodic) or :math:`\pi m/(L+1)` (open XX); ``None`` for the
        open TFIM (no closed form for the momenta of the open Ising chain).
    constant : float
        Energy offset: :math:`E = \mathrm{constant} + \sum_{k\,\mathrm{occupied}} \varepsilon_k`
        (:math:`-h_z L/2` for XX, :math:`-\sum_k\varepsilon_k/2` for TFIM).
    vacuum_parity : int
        Spin parity (:math:`\prod(-\sigma^z)` for XX, :math:`\prod\sigma^x` for TFIM) of the mode vacuum;
        a state with occupations ``N`` has parity ``vacuum_parity * (-1)**N``.
    """

    model: str
    L: int
    bc: str
    parity: int | None
    params: dict
    energies: np.ndarray
    vectors: np.ndarray
    momenta: np.ndarray | None
    constant: float
    vacuum_parity: int

    def allowed(self, occupations) -> np.ndarray:
        """True for occupation patterns (rows of 0/1) that belong to this parity sector (all if open)."""
        occ = np.atleast_2d(np.asarray(occupations))
        if self.parity is None:
            return np.ones(occ.shape[0], dtype=bool)
        par = self.vacuum_parity * (1 - 2 * (occ.sum(axis=1) % 2))
        return par == self.parity


def xx_modes(L, bc: str = "open", *, j: float = 1.0, hz: float = 0.0, parity=None) -> FreeFermionModes:
    r"""Single-particle modes of the XX chain, :math:`\varepsilon_k = h_z + J\cos k` (module docstring).

    Parameters
    ----------
    L : int
        Number of sites.
    bc : {"open", "periodic"}
    j, hz : float
        Exchange :math:`J` and uniform field :math:`h_z` as in :func:`davies_mb.xx` (spin operators).
    parity : {+1, -1}, optional
        Periodic chains only: fermion parity :math:`(-1)^{N_\uparrow}` of the sector (default +1, even,
        antiperiodic fermions :math:`k = 2\pi(m + 1/2)/L`; -1: :math:`k = 2\pi m/L`).

    Returns
    -------
    FreeFermionModes
        Open chains: :math:`k = \pi m/(L+1)`, :math:`\phi_k(j) = \sqrt{2/(L+1)}\sin(k(j+1))`;
        periodic: :math:`\phi_k(j) = e^{ikj}/\sqrt L`. Sorted by energy (ties by momentum).
    """
    L = _check_L(L)
    _checks.check_choice("bc", bc, _BCS)
    j, hz = _check_real("j", j), _check_real("hz", hz)
    parity = _check_parity(parity, bc)
    sites = np.arange(L)
    if bc == "open":
        k = np.pi * np.arange(1, L + 1) / (L + 1)
        vecs = np.sqrt(2.0 / (L + 1)) * np.sin(np.outer(sites + 1, k))
    else:
        m = np.arange(L) + (0.5 if parity == 1 else 0.0)
        k = 2 * np.pi * m / L
        k = np.where(k > np.pi + 1e-12, k - 2 * np.pi, k)
        vecs = np.exp(1j * np.outer(sites, k)) / np.sqrt(L)
    eps = hz + j * np.cos(k)
    order = np.lexsort((k, np.round(eps, 12)))
    return FreeFermionModes("xx", L, bc, parity, dict(j=j, hz=hz), eps[order], vecs[:, order], k[order],
                            -hz * L / 2, 1)


def _tfim_majorana_matrix(L, j, g, bc, parity):
    A = np.zeros((2 * L, 2 * L))
    for s in range(L):
        A[2 * s, 2 * s + 1] = -2 * g
    for s in range(L - 1):
        A[2 * s + 1, 2 * s + 2] = -2 * j
    if bc == "periodic":
        A[2 * L - 1, 0] += 2 * j * parity
    return A - A.T


def _canonical_form(A, tol=1e-10):
    r"""Real orthogonal R and eps >= 0 with R A R^T = (+) [[0, eps_k], [-eps_k, 0]] (A real antisymmetric)."""
    n = A.shape[0] // 2
    lam, V = np.linalg.eigh(1j * A)  # ascending: -eps ... +eps
    scale = max(1.0, float(np.max(np.abs(lam))) if lam.size else 1.0)
    zero = np.abs(lam) <= tol * scale
    pos = (lam > tol * scale)
    rows, eps = [], []
    for idx in np.flatnonzero(pos):
        v = V[:, idx]
        rows.append(np.sqrt(2) * v.real)
        rows.append(-np.sqrt(2) * v.imag)
        eps.append(lam[idx])
    nz = int(zero.sum())
    if nz:
        K = V[:, zero]
        # kernel of iA = kernel of the real A: a real orthonormal basis, paired arbitrarily
        Kr = sla.orth(np.hstack([K.real, K.imag]), rcond=1e-8)
        if Kr.shape[1] != nz or nz % 2:
            raise np.linalg.LinAlgError(f"could not pair the {nz} zero modes of the Majorana matrix")
        for a in range(0, nz, 2):
            rows.append(Kr[:, a])
            rows.append(Kr[:, a + 1])
            eps.append(0.0)
    R = np.array(rows)
    eps = np.array(eps)
    order = np.argsort(eps, kind="stable")
    perm = np.ravel(np.column_stack([2 * order, 2 * order + 1]))
    R, eps = R[perm], eps[order]
    # exact zero modes: fix the orientation so that R A R^T has the canonical form (sign 0 either way)
    Ap = R @ A @ R.T
    target = np.zeros_like(Ap)
    for k in range(n):
        target[2 * k, 2 * k + 1], target[2 * k + 1, 2 * k] = eps[k], -eps[k]
    err = np.max(np.abs(Ap - target)) if Ap.size else 0.0
    if err > 1e-8 * scale:
        raise np.linalg.LinAlgError(f"canonical form failed (residual {err:.2e})")
    return R, eps


def tfim_modes(L, bc: str = "open", *, j: float = 1.0, g: float = 1.0, parity=None) -> FreeFermionModes:
    r"""Bogoliubov modes of the transverse-field Ising chain (module docstring for the conventions).

    Parameters
    ----------
    L : int
    bc : {"open", "periodic"}
    j, g : float
        :math:`H = -J\sum\sigma^z\sigma^z - g\sum\sigma^x` as in :func:`davies_mb.tfim` (``h = 0``).
    parity : {+1, -1}, optional
        Periodic chains only: eigenvalue of :math:`\prod_j\sigma^x_j` (default +1, antiperiodic fermions).

    Returns
    -------
    FreeFermionModes
        ``vectors`` is the real orthogonal :math:`R` (rows ``2k, 2k+1`` = Majoranas of mode ``k``),
        ``energies`` the :math:`\varepsilon_k \ge 0` ascending; periodic chains also carry the momenta
        (:math:`\varepsilon_k = 2\sqrt{J^2+g^2-2Jg\cos k}`, assigned by matching energies).
    """
    L = _check_L(L)
    _checks.check_choice("bc", bc, _BCS)
    j, g = _check_real("j", j), _check_real("g", g)
    parity = _check_parity(parity, bc)
    A = _tfim_majorana_matrix(L, j, g, bc, parity)
    R, eps = _canonical_form(A)
    momenta = None
    if bc == "periodic":
        m = np.arange(L) + (0.5 if parity == 1 else 0.0)
        k = 2 * np.pi * m / L
        k = np.where(k > np.pi + 1e-12, k - 2 * np.pi, k)
        ek = 2 * np.sqrt(np.maximum(j**2 + g**2 - 2 * j * g * np.cos(k), 0.0))
        o = np.lexsort((k, np.round(ek, 10)))
        if np.allclose(ek[o], eps, atol=1e-8 * max(1.0, abs(j) + abs(g))):
            momenta = k[o]
    det = int(np.sign(np.linalg.slogdet(R)[0]))
    vac = det * (-1) ** L
    return FreeFermionModes("tfim", L, bc, parity, dict(j=j, g=g), eps, R, momenta, -0.5 * float(eps.sum()),
                            vac)


# -- many-body spectra -----------------------------------------------------------------------------
def _occupation_patterns(L):
    idx = np.arange(2**L, dtype=np.int64)
    return ((idx[:, None] >> np.arange(L)[None, :]) & 1).astype(np.int8)


def _sector_energies(modes: FreeFermionModes) -> np.ndarray:
    occ = _occupation_patterns(modes.L)
    E = modes.constant + occ @ modes.energies
    return E[modes.allowed(occ)]


def _spectrum(factory, L, bc, parity, **kw):
    L = _check_L(L, lmax=_MAX_MANYBODY_L)
    _checks.check_choice("bc", bc, _BCS)
    # the occupation patterns (2^L x L int8), the energies, the parity mask and the sorted copy
    _checks.check_memory_total(f"the 2^{L} many-body energies", [((2**L, L), np.int8)] + [((2**L,), np.float64)] * 4,
                               hint="Use a smaller L, or work with the single-particle modes.")
    if bc == "open":
        if parity is None:
            return np.sort(_sector_energies(factory(L, bc, **kw)))
        if isinstance(parity, bool) or parity not in (1, -1):
            raise ValueError(f"parity must be None, +1 or -1, got {parity!r}")
        modes = factory(L, bc, **kw)
        occ = _occupation_patterns(L)
        E = modes.constant + occ @ modes.energies
        par = modes.vacuum_parity * (1 - 2 * (occ.sum(axis=1) % 2))
        return np.sort(E[par == parity])
    parities = (1, -1) if parity is None else (_check_parity(parity, bc),)
    return np.sort(np.concatenate([_sector_energies(factory(L, bc, parity=p, **kw)) for p in parities]))


def xx_spectrum(L, bc: str = "open", *, j: float = 1.0, hz: float = 0.0, parity=None) -> np.ndarray:
    r"""Many-body spectrum of the XX chain from its modes, ascending (all :math:`2^L` levels or one parity).

    :math:`E = -h_zL/2 + \sum_{k\in S}\varepsilon_k`; periodic chains take the subsets :math:`S` of the
    sector's momenta with :math:`(-1)^{|S|} = P`. ``parity`` (+1/-1) restricts to
    :math:`(-1)^{N_\uparrow} = P`.
    """
    return _spectrum(xx_modes, L, bc, parity, j=j, hz=hz)


def tfim_spectrum(L, bc: str = "open", *, j: float = 1.0, g: float = 1.0, parity=None) -> np.ndarray:
    r"""Many-body spectrum of the transverse-field Ising chain, ascending.

    :math:`E = -\frac12\sum_k\varepsilon_k + \sum_{k\in S}\varepsilon_k` over the occupation patterns of
    the right parity :math:`\prod_j\sigma^x_j = \det(R)(-1)^L(-1)^{|S|}`; ``parity`` restricts to one sector.
    """
    return _spectrum(tfim_modes, L, bc, parity, j=j, g=g)


# -- operators in the spin basis -------------------------------------------------------------------
def _prod_string(L, label_string, label_site, site):
    """prod_{l<site} string_l  x  op_site  (sparse, site 0 most significant)."""
    mats = [sp.csr_array(label_string)] * site + [sp.csr_array(label_site)] \
        + [sp.identity(2, format="csr")] * (L - site - 1)
    out = mats[0]
    for m in mats[1:]:
        out = sp.kron(out, m, format="csr")
    return sp.csr_array(out)


def jw_fermions(L) -> list:
    r"""Jordan-Wigner annihilators :math:`c_j = \prod_{l<j}(-\sigma^z_l)\,\sigma^-_j` (sparse, spin basis).

    An up spin is an occupied site: :math:`c^\dagger_j c_j = S^z_j + 1/2`. These are the fermions of
    :func:`xx_modes`.
    """
    L = _check_L(L, lmax=_MAX_OPERATOR_L)
    return [_prod_string(L, -pauli("z"), pauli("-"), s) for s in range(L)]


def tfim_majoranas(L) -> list:
    r"""Majoranas :math:`\gamma_{2j} = (\prod_{l<j}\sigma^x_l)\sigma^z_j`, :math:`\gamma_{2j+1} = (\prod_{l<j}\sigma^x_l)\sigma^y_j`.

    Sparse, spin basis, Hermitian, :math:`\{\gamma_m,\gamma_n\} = 2\delta_{mn}`; the fermions of
    :func:`tfim_modes`.
    """
    L = _check_L(L, lmax=_MAX_OPERATOR_L)
    out = []
    for s in range(L):
        out.append(_prod_string(L, pauli("x"), pauli("z"), s))
        out.append(_prod_string(L, pauli("x"), pauli("y"), s))
    return out


def fermion_parity(model: str, L) -> sp.csr_array:
    r"""Fermion parity in the spin basis: :math:`\prod_j(-\sigma^z_j)` (``"xx"``) or :math:`\prod_j\sigma^x_j` (``"tfim"``)."""
    _checks.check_choice("model", model, ("xx", "tfim"))
    L = _check_L(L, lmax=_MAX_OPERATOR_L)
    one = -pauli("z") if model == "xx" else pauli("x")
    out = sp.csr_array(one)
    for _ in range(L - 1):
        out = sp.kron(out, sp.csr_array(one), format="csr")
    return sp.csr_array(out)


def _sector_mode_operators(modes: FreeFermionModes, ops) -> list:
    if modes.model == "xx":
        c = ops
        out = []
        for k in range(modes.L):
            phi = modes.vectors[:, k]
            a = sum(np.conj(phi[s]) * c[s] for s in range(modes.L))
            a = sp.csr_array(a)
            out.append(sp.csr_array(a.conj().T @ a))
        return out
    gam = ops
    R = modes.vectors
    d = gam[0].shape[0]
    out = []
    for k in range(modes.L):
        gu = sum(R[2 * k, m] * gam[m] for m in range(2 * modes.L) if R[2 * k, m] != 0)
        gw = sum(R[2 * k + 1, m] * gam[m] for m in range(2 * modes.L) if R[2 * k + 1, m] != 0)
        out.append(sp.csr_array(0.5 * (sp.identity(d, format="csr") + 1j * (gu @ gw))))
    return out


def mode_occupation_operators(model: str, L, bc: str = "open", **params) -> tuple:
    r"""Mode occupations :math:`\hat n_k` as sparse operators in the spin basis, with their energies.

    Open chains: :math:`\hat n_k = a^\dagger_k a_k` (XX) or :math:`b^\dagger_k b_k` (TFIM) of the modes of
    :func:`xx_modes` / :func:`tfim_modes`. Periodic chains: the modes depend on the parity sector, and
    the conserved operator is :math:`\hat n_k = \Pi_+ \hat n^{(+)}_k \Pi_+ + \Pi_- \hat n^{(-)}_k \Pi_-`,
    :math:`\Pi_\pm = (1 \pm P)/2`, pairing the ``k``-th mode (in energy order) of each sector.
    All :math:`\hat n_k` commute with each other and with :math:`H`, and
    :math:`H = E_0 + \sum_k \varepsilon_k \hat n_k` sector by sector.

    Parameters
    ----------
    model : {"xx", "tfim"}
    L : int
        At most 16 (operators on :math:`2^L` states).
    bc : {"open", "periodic"}
    **params
        ``j``, ``hz`` (XX) or ``j``, ``g`` (TFIM).

    Returns
    -------
    (ops, modes)
        ``ops`` the list of L sparse operators; ``modes`` the :class:`FreeFermionModes` (open) or the pair
        ``(even, odd)`` of sector modes (periodic).
    """
    _checks.check_choice("model", model, ("xx", "tfim"))
    L = _check_L(L, lmax=_MAX_OPERATOR_L)
    _checks.check_choice("bc", bc, _BCS)
    factory = xx_modes if model == "xx" else tfim_modes
    ops = jw_fermions(L) if model == "xx" else tfim_majoranas(L)
    if bc == "open":
        modes = factory(L, bc, **params)
        return _sector_mode_operators(modes, ops), modes
    P = fermion_parity(model, L)
    one = sp.identity(2**L, format="csr")
    proj = {1: sp.csr_array((one + P) / 2), -1: sp.csr_array((one - P) / 2)}
    both = {p: factory(L, bc, parity=p, **params) for p in (1, -1)}
    sec = {p: _sector_mode_operators(both[p], ops) for p in (1, -1)}
    out = [sp.csr_array(proj[1] @ sec[1][k] @ proj[1] + proj[-1] @ sec[-1][k] @ proj[-1]) for k in range(L)]
    return out, (both[1], both[-1])


def _as_state(state, d):
    s = _checks.check_density_matrix("state", state, d)
    if sp.issparse(s):
        s = s.toarray()
    return s, s.ndim == 1


def _expect(op, s, is_vec):
    if is_vec:
        return np.vdot(s, op @ s)
    return np.sum(op.T.multiply(s)) if sp.issparse(op) else np.sum(op.T * s)


def correlation_matrix(model: str, state, L) -> np.ndarray:
    r"""Fermion correlations of a spin-basis state (vector or density matrix), by brute force.

    ``"xx"``: :math:`C_{ij} = \langle c^\dagger_i c_j\rangle` (complex Hermitian, ``(L, L)``).
    ``"tfim"``: :math:`\Gamma_{mn} = i\langle\gamma_m\gamma_n\rangle` for :math:`m\ne n`, 0 on the diagonal
    (real antisymmetric, ``(2L, 2L)``), so :math:`\langle\sigma^x_j\rangle = \Gamma_{2j,2j+1}`.
    """
    _checks.check_choice("model", model, ("xx", "tfim"))
    L = _check_L(L, lmax=_MAX_OPERATOR_L)
    s, is_vec = _as_state(state, 2**L)
    if model == "xx":
        c = jw_fermions(L)
        cs = [ci @ s for ci in c] if is_vec else None
        C = np.zeros((L, L), dtype=complex)
        for a in range(L):
            for b in range(L):
                if is_vec:
                    C[a, b] = np.vdot(cs[a], cs[b])
                else:
                    C[a, b] = _expect(sp.csr_array(c[a].conj().T @ c[b]), s, False)
        return C
    gam = tfim_majoranas(L)
    G = np.zeros((2 * L, 2 * L))
    gs = [gm @ s for gm in gam] if is_vec else None
    for m in range(2 * L):
        for n in range(m + 1, 2 * L):
            val = np.vdot(gs[m], gs[n]) if is_vec else _expect(sp.csr_array(gam[m] @ gam[n]), s, False)
            G[m, n] = np.real(1j * val)
            G[n, m] = -G[m, n]
    return G


# -- Gaussian states from mode occupations ---------------------------------------------------------
def mode_occupations(modes: FreeFermionModes, correlations) -> np.ndarray:
    r"""Mode occupations :math:`n_k = \langle\hat n_k\rangle` from a correlation matrix.

    XX: :math:`n_k = (\Phi^T C\,\Phi^*)_{kk}`; TFIM: :math:`n_k = (1 + (R\Gamma R^T)_{2k,2k+1})/2`.
    """
    M = np.asarray(correlations)
    if modes.model == "xx":
        if M.shape != (modes.L, modes.L):
            raise ValueError(f"correlations must be the ({modes.L}, {modes.L}) matrix C_ij = <c+_i c_j>, "
                             f"got shape {M.shape}")
        Phi = modes.vectors
        return np.real(np.einsum("ik,ij,jk->k", Phi, M, Phi.conj()))
    if M.shape != (2 * modes.L, 2 * modes.L):
        raise ValueError(f"correlations must be the ({2 * modes.L}, {2 * modes.L}) Majorana covariance, "
                         f"got shape {M.shape}")
    R = modes.vectors
    Gp = R @ M @ R.T
    return 0.5 * (1 + np.diag(Gp, 1)[::2])


def gaussian_correlations(modes: FreeFermionModes, occupations) -> np.ndarray:
    r"""Correlation matrix of the Gaussian state with mode occupations :math:`n_k` (no mode coherences).

    This is the free-fermion GGE :math:`\rho \propto \exp(-\sum_k\mu_k\hat n_k)`,
    :math:`\mu_k = \ln((1-n_k)/n_k)` (PHYSICS.md section 4), in correlation-matrix form:
    XX :math:`C = \Phi^*\,\mathrm{diag}(n)\,\Phi^T`; TFIM :math:`\Gamma = R^T[\oplus_k (2n_k - 1)
    \begin{pmatrix}0&1\\-1&0\end{pmatrix}]R`. Cost :math:`O(L^3)`: any L (hundreds of sites).
    """
    _check_modes(modes)
    n = np.asarray(occupations, dtype=float)
    if n.shape != (modes.L,):
        raise ValueError(f"occupations must have shape ({modes.L},), got {n.shape}")
    if not np.all(np.isfinite(n)):
        raise ValueError("occupations contain NaN or infinite values")
    if np.any(n < -1e-12) or np.any(n > 1 + 1e-12):
        raise ValueError(f"occupations must lie in [0, 1], got min {n.min():.3g}, max {n.max():.3g}")
    if modes.model == "xx":
        Phi = modes.vectors
        return (Phi.conj() * n) @ Phi.T
    R = modes.vectors
    Gp = np.zeros((2 * modes.L, 2 * modes.L))
    idx = np.arange(modes.L)
    Gp[2 * idx, 2 * idx + 1] = 2 * n - 1
    Gp[2 * idx + 1, 2 * idx] = -(2 * n - 1)
    return R.T @ Gp @ R


def thermal_occupations(modes: FreeFermionModes, beta, mu: float = 0.0, *, large_L: bool = False) -> np.ndarray:
    r"""Fermi-Dirac occupations :math:`n_k = 1/(e^{\beta(\varepsilon_k - \mu)} + 1)` (grand-canonical Gibbs).

    Any real ``beta`` (negative: population inversion); ``mu`` is a chemical potential for the XX chain
    (it multiplies :math:`N_\uparrow = S^z + L/2`), and must be 0 for the TFIM (no conserved number).

    Exact for open chains. For a periodic chain the modes belong to one fermion-parity sector (one boundary
    condition), and the Gibbs state of the ring mixes both sectors: these occupations are then only the
    large-L approximation of it (seen: 0.08 off in the correlation matrix for an XX ring of 4 sites), and a
    warning says so unless ``large_L=True`` declares that approximation intended (thermodynamic-limit work).
    """
    _check_modes(modes)
    beta = _check_real("beta", beta)
    mu = _check_real("mu", mu)
    if modes.parity is not None and not large_L:
        warnings.warn("thermal_occupations of a periodic chain use one parity sector's modes: the ring's Gibbs "
                      "state mixes both sectors, so this is only its large-L approximation", stacklevel=2)
    if modes.model == "tfim" and mu != 0:
        raise ValueError(f"mu={mu!r}: the Ising chain conserves no fermion number; use mu=0")
    x = float(beta) * (modes.energies - float(mu))
    return 0.5 * (1 - np.tanh(x / 2))


def ground_state_occupations(modes: FreeFermionModes) -> np.ndarray:
    r"""Occupations of the lowest state of the modes' sector: negative modes filled, parity respected.

    Open chains or a sector whose parity allows it: fill every :math:`\varepsilon_k < 0` (XX; none for
    the TFIM). Otherwise the cheapest change of one occupation is made (the sector's ground state).
    """
    n = (modes.energies < 0).astype(float)
    if modes.allowed(n[None, :])[0]:
        return n
    cost = np.abs(modes.energies)
    k = int(np.argmin(cost))
    n[k] = 1 - n[k]
    return n


def evolve_correlations(modes: FreeFermionModes, correlations, times) -> np.ndarray:
    r"""Correlation matrix after unitary evolution with the modes' Hamiltonian, at each time.

    XX: :math:`\langle a^\dagger_k a_q\rangle(t) = e^{i(\varepsilon_k - \varepsilon_q)t}\langle a^\dagger_k a_q\rangle_0`.
    TFIM: :math:`\gamma(t) = e^{At}\gamma`, i.e. in the mode basis each pair
    :math:`(\gamma'_{2k}, \gamma'_{2k+1})` rotates by the angle :math:`\varepsilon_k t`,
    :math:`\Gamma(t) = R^T B(t) R\,\Gamma_0\,R^T B(t)^T R`. Exact for any L (cost :math:`O(L^3)` per time).

    Returns
    -------
    ndarray, shape (len(times), *correlations.shape)
    """
    M0 = np.asarray(correlations)
    t = np.atleast_1d(np.asarray(times, dtype=float))
    eps = modes.energies
    if modes.model == "xx":
        if M0.shape != (modes.L, modes.L):
            raise ValueError(f"correlations must have shape ({modes.L}, {modes.L}), got {M0.shape}")
        Phi = modes.vectors
        M = Phi.T @ M0 @ Phi.conj()
        out = np.empty((t.size, modes.L, modes.L), dtype=complex)
        for i, ti in enumerate(t):
            ph = np.exp(1j * eps * ti)
            out[i] = Phi.conj() @ (M * np.outer(ph, ph.conj())) @ Phi.T
        return out
    if M0.shape != (2 * modes.L, 2 * modes.L):
        raise ValueError(f"correlations must have shape ({2 * modes.L}, {2 * modes.L}), got {M0.shape}")
    R = modes.vectors
    Gp = R @ M0 @ R.T
    out = np.empty((t.size, 2 * modes.L, 2 * modes.L))
    idx = np.arange(modes.L)
    for i, ti in enumerate(t):
        c, s_ = np.cos(eps * ti), np.sin(eps * ti)
        B = np.zeros((2 * modes.L, 2 * modes.L))
        # d/dt gamma' = A' gamma', A' = (+)[[0, eps], [-eps, 0]]  ->  rotation [[c, s], [-s, c]]
        B[2 * idx, 2 * idx], B[2 * idx, 2 * idx + 1] = c, s_
        B[2 * idx + 1, 2 * idx], B[2 * idx + 1, 2 * idx + 1] = -s_, c
        out[i] = R.T @ (B @ Gp @ B.T) @ R
    return out


def tilted_state_correlations(L, theta) -> np.ndarray:
    r"""XX correlation matrix of the product state :math:`\bigotimes_j(\cos\frac{\theta_j}2|\uparrow\rangle + \sin\frac{\theta_j}2|\downarrow\rangle)`.

    With the Jordan-Wigner string, for :math:`i < j`,
    :math:`C_{ij} = \langle\sigma^+_i\rangle\langle\sigma^-_j\rangle\prod_{i<l<j}\langle-\sigma^z_l\rangle
    = \frac{\sin\theta_i\sin\theta_j}{4}\prod_{i<l<j}(-\cos\theta_l)`, :math:`C_{ji} = C_{ij}` and
    :math:`C_{ii} = \cos^2\frac{\theta_i}2` (uniform :math:`\theta`:
    :math:`\frac{\sin^2\theta}{4}(-\cos\theta)^{|i-j|-1}`). Any L. The state is not Gaussian, but only C
    enters quadratic observables and the GGE of the :math:`n_k`.

    Parameters
    ----------
    L : int
    theta : float or array_like of length L
        One angle for every site, or one per site (e.g. alternating, for a state that is not translation
        invariant and whose quadratic observables therefore evolve).
    """
    L = _check_L(L)
    th = np.asarray(theta, dtype=float)
    if th.ndim == 0:
        th = np.full(L, _check_real("theta", float(th)))
    if th.shape != (L,) or not np.all(np.isfinite(th)):
        raise ValueError(f"theta must be a finite number or {L} finite angles, got shape {th.shape}")
    s, mz = np.sin(th) / 2, -np.cos(th)
    # prod_{i<l<j} mz_l through cumulative products, done pairwise to stay exact when some mz_l = 0
    C = np.zeros((L, L))
    for i in range(L):
        run = 1.0
        for j in range(i + 1, L):
            C[i, j] = C[j, i] = s[i] * s[j] * run
            run *= mz[j]
            if run == 0.0:
                break
    np.fill_diagonal(C, np.cos(th / 2) ** 2)
    return C


# -- XXZ local charges -----------------------------------------------------------------------------
def _bond(j, delta):
    return j * (np.kron(spin_operator("x"), spin_operator("x")).real
                + np.kron(spin_operator("y"), spin_operator("y")).real
                + delta * np.kron(spin_operator("z"), spin_operator("z")).real)


def _embed_local(op, start, w, W):
    """op on sites start..start+w-1 of a W-site window (dense)."""
    return np.kron(np.kron(np.eye(2**start), op), np.eye(2 ** (W - start - w)))


def _density(n, j, delta):
    """Dense density q^(n) of Q_n on n consecutive sites (n = 2, 3)."""
    h = _bond(j, delta)
    if n == 2:
        return h
    h12, h23 = _embed_local(h, 0, 2, 3), _embed_local(h, 1, 2, 3)
    return 1j * (h12 @ h23 - h23 @ h12)


def _translation_perm(L):
    """Index permutation of the translation j -> j+1 (periodic), site 0 most significant."""
    idx = np.arange(2**L)
    # bit of site s is at position L-1-s; site s moves to s+1: rotate right by one
    return ((idx >> 1) | ((idx & 1) << (L - 1))).astype(np.int64)


def _periodic_sum(density, w, L):
    r"""Sparse :math:`\sum_{s=0}^{L-1} T^s (q \otimes 1) T^{-s}` for a w-site density q."""
    base = sp.csr_array(sp.kron(sp.csr_array(density), sp.identity(2 ** (L - w), format="csr"), format="csr"))
    perm = _translation_perm(L)
    total = base.copy()
    p = np.arange(2**L)
    for _ in range(1, L):
        p = perm[p]
        inv = np.empty_like(p)
        inv[p] = np.arange(p.size)
        total = total + base[inv][:, inv]
    return sp.csr_array(total)


def _string_op(s):
    out = np.ones((1, 1))
    for c in s:
        out = np.kron(out, np.eye(2) if c == "i" else pauli(c))
    return out


@functools.lru_cache(maxsize=32)
def _commutant_densities(w: int, delta: float, j: float):
    r"""Translation-invariant operators of range <= w commuting with the XXZ ring (null-space search).

    Basis: Pauli strings on w sites whose first factor is not the identity (one per translation class).
    The commutators with H are computed on a ring of w + 4 sites (longer than every commutator's range
    w + 1, so no wrap-around identity is possible) and the null space of their Gram matrix is returned
    as real coefficient vectors (columns).
    """
    strings = ["".join(t) for t in itertools.product("ixyz", repeat=w) if t[0] != "i"]
    Lr = w + 4
    H = sp.csr_array(_periodic_sum(_bond(j, delta), 2, Lr))
    rows = []
    for st in strings:
        Qs = _periodic_sum(_string_op(st), w, Lr)
        rows.append(sp.csr_array(H @ Qs - Qs @ H).reshape((1, -1)))
    M = sp.vstack(rows).tocsr()
    G = (M @ M.conj().T).toarray().real
    ev, V = np.linalg.eigh(G)
    null = V[:, ev <= 1e-9 * max(ev.max(), 1e-300)]
    return tuple(strings), null


def _q4_density(delta: float, j: float) -> np.ndarray:
    r"""Dense 4-site density of Q_4: the range-4 commutant minus the range-3 one (normalized, sign fixed)."""
    strings4, null4 = _commutant_densities(4, delta, j)
    strings3, null3 = _commutant_densities(3, delta, j)
    index = {st: k for k, st in enumerate(strings4)}
    low = np.zeros((len(strings4), null3.shape[1]))
    for k, st in enumerate(strings3):
        low[index[st + "i"]] = null3[k]
    # remove the span of the shorter charges
    Qlow, _ = np.linalg.qr(low)
    rest = null4 - Qlow @ (Qlow.T @ null4)
    U, sv, _ = np.linalg.svd(rest, full_matrices=False)
    new = U[:, sv > 1e-6]
    if new.shape[1] != 1:
        raise ValueError(
            f"delta={delta!r}: the range-4 conserved operators of this chain are not one new charge beyond the "
            f"shorter ones ({new.shape[1]} found: extra charges at this anisotropy, e.g. the free-fermion point delta = 0); "
            "Q_4 is defined here when it is unique (not at delta = 0)")
    c = new[:, 0]
    big = np.flatnonzero(np.abs(c) >= np.abs(c).max() * (1 - 1e-9))[0]
    c = c * np.sign(c[big]) / np.linalg.norm(c)
    return sum(ck * _string_op(st) for ck, st in zip(c, strings4) if abs(ck) > 1e-13)


def xxz_charge(L, n: int, delta: float = 1.0, *, j: float = 1.0, hz: float = 0.0, bc: str = "periodic"):
    r"""Local conserved charge :math:`Q_n` of the periodic XXZ chain, as a sparse matrix (spin basis).

    .. math::

        Q_2 = H = \sum_j h_{j,j+1} + h_z S^z, \qquad
        Q_3 = i \sum_j [h_{j,j+1}, h_{j+1,j+2}], \qquad
        h_{j,j+1} = J(S^x_jS^x_{j+1} + S^y_jS^y_{j+1} + \Delta S^z_jS^z_{j+1}),

    spin operators :math:`S = \sigma/2`, sums over all L sites (indices mod L). :math:`Q_4` (range 4, real,
    reflection even) is found numerically, without a closed formula: the translation-invariant operators of
    range <= 4 commuting with H (null space of the commutator map on Pauli-string densities, computed on a
    ring of 8 sites where no commutator wraps around) minus those of range <= 3 (:math:`S^z`, H, :math:`Q_3`)
    leave one new charge (checked: ``ValueError`` otherwise, e.g. at the free-fermion point
    :math:`\Delta = 0`, whose extra range-4 charges make the choice ambiguous; at :math:`\Delta = \pm 1` the
    total :math:`S^{x,y}` are removed with the shorter charges); it is normalized to unit Pauli-coefficient norm per site, with the sign of its
    largest coefficient positive (a charge is defined up to normalization and lower charges; the GGE does
    not depend on either). :math:`Q_3` is the energy
    current (boost :math:`B=\sum_j j\,h_{j,j+1}`: :math:`i[B, H] = -2 Q_3` formally); it commutes with
    :math:`H` and :math:`S^z` for every :math:`\Delta` and :math:`h_z`, is odd under reflection and
    purely imaginary (zero in every real state). Open chains do not conserve this :math:`Q_3`.

    Parameters
    ----------
    L : int
        Number of sites, ``3 <= L <= 16``.
    n : {2, 3, 4}
        Which charge.
    delta, j, hz : float
        As in :func:`davies_mb.xxz` (``hz`` enters :math:`Q_2` only).
    bc : "periodic"
    """
    L = _check_L(L, lmax=_MAX_OPERATOR_L)
    if bc != "periodic":
        raise ValueError(f"bc={bc!r}: the local charges Q_n (n >= 3) here are those of the periodic chain; "
                         "open XXZ chains need boundary terms. Use bc='periodic'")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n not in (2, 3, 4):
        raise ValueError(f"n must be 2 (H), 3 (energy current) or 4, got {n!r}")
    if L < n + 1:
        raise ValueError(f"L={L} is too short for the range-{n} charge Q_{n} on a periodic chain; use L >= {n + 1}")
    delta, j, hz = _check_real("delta", delta), _check_real("j", j), _check_real("hz", hz)
    if j == 0:
        raise ValueError("j = 0: the chain has no exchange, every local charge beyond H vanishes; use j != 0")
    q = _density(int(n), j, delta) if n < 4 else _q4_density(delta, j)
    Q = _periodic_sum(q, int(n), L)
    if n == 2 and hz != 0:
        Q = Q + hz * sp.csr_array(sum(site_operator(spin_operator("z"), s, L) for s in range(L)))
    Q = sp.csr_array(Q)
    if not np.any(np.iscomplex(Q.data)):
        Q = sp.csr_array(Q.real)
    Q.eliminate_zeros()
    return Q


def xxz_charges(L, n_max: int = 3, delta: float = 1.0, **kwargs) -> list:
    """``[Q_2, ..., Q_n_max]`` of :func:`xxz_charge`."""
    return [xxz_charge(L, n, delta, **kwargs) for n in range(2, n_max + 1)]

