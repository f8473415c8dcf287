r"""Davies generator of a free-fermion chain with an edge bath: a quadratic Lindbladian, any L.

Conventions (PHYSICS.md sections 1, 2, 5; :mod:`davies_mb.integrable` for Jordan-Wigner)
----------------------------------------------------------------------------------------
Both chains are written with :math:`2L` Majorana operators :math:`\gamma_m` (:math:`\{\gamma_m,\gamma_n\} =
2\delta_{mn}`) as :math:`H = \frac{i}{4}\sum_{mn} h_{mn}\gamma_m\gamma_n`, :math:`h` real antisymmetric:

* **XX chain** (open, uniform field :math:`h_z`), fermions :math:`c_j = \prod_{l<j}(-\sigma^z_l)\sigma^-_j`
  (an up spin is occupied), :math:`\gamma_{2j} = c_j + c^\dagger_j`, :math:`\gamma_{2j+1} = -i(c_j - c^\dagger_j)`,
  :math:`H = \sum_{ij} t_{ij} c^\dagger_i c_j - h_zL/2` with :math:`t = (J/2)(\delta_{i,j+1} + \delta_{i+1,j})
  + h_z\delta_{ij}`, so :math:`h_{2i,2j+1} = t_{ij} = -h_{2j+1,2i}`. Couplings: :math:`\sigma^x_0 = \gamma_0`,
  :math:`\sigma^y_0 = -\gamma_1` (no string at the first site).
* **Transverse-field Ising chain** (open, :math:`H = -J\sum\sigma^z_j\sigma^z_{j+1} - g\sum\sigma^x_j`),
  :math:`\gamma_{2j} = (\prod_{l<j}\sigma^x_l)\sigma^z_j`, :math:`\gamma_{2j+1} = (\prod_{l<j}\sigma^x_l)\sigma^y_j`.
  Couplings: :math:`\sigma^z_0 = \gamma_0`, :math:`\sigma^y_0 = \gamma_1`.

A real orthogonal :math:`R` brings :math:`h` to :math:`\oplus_k\begin{pmatrix}0&\varepsilon_k\\-\varepsilon_k&0
\end{pmatrix}`, :math:`\varepsilon_k\ge 0`; with :math:`\gamma' = R\gamma` and :math:`b_k = (\gamma'_{2k} +
i\gamma'_{2k+1})/2`, :math:`H = \sum_k\varepsilon_k(b^\dagger_kb_k - 1/2)` and :math:`[H, b_k] = -\varepsilon_k b_k`.

Davies jump operators
---------------------
A coupling linear in the Majoranas, :math:`A = \sum_m a_m\gamma_m = \sum_k (z_k b_k + \bar z_k b^\dagger_k)`
(:math:`u = Ra`, :math:`z_k = u_{2k} - iu_{2k+1}`), has the exact Bohr decomposition

.. math::

    A(\omega) = \sum_{k:\,\varepsilon_k = \omega} z_k b_k \quad (\omega > 0), \qquad
    A(-\omega) = A(\omega)^\dagger, \qquad
    A(0) = \sum_{k:\,\varepsilon_k = 0}(z_k b_k + \bar z_k b^\dagger_k),

with modes of equal :math:`\varepsilon` (within ``freq_tol``) in one jump operator, exactly as the many-body
generator groups them: the particle-hole pairs :math:`\varepsilon^{XX}_k = -\varepsilon^{XX}_q` of the XX
chain become canonical modes of equal :math:`\varepsilon` and share one jump operator (then a combination
of the two modes is dark and the stationary state is not unique).

Third quantization (Prosen, NJP 10, 043026 (2008)) in covariance form
---------------------------------------------------------------------
With jump operators :math:`L_\mu = \sum_m l_{\mu,m}\gamma_m` of rates :math:`\lambda^2\gamma(\omega_\mu)`,
:math:`M = \lambda^2\sum_\mu\gamma(\omega_\mu)\,l_\mu l_\mu^\dagger` (Hermitian), the covariance
:math:`\Gamma_{mn} = i\langle\gamma_m\gamma_n\rangle` (:math:`m\ne n`, zero diagonal, real antisymmetric;
as in :mod:`davies_mb.integrable`) obeys, for every state (Gaussian or not),

.. math::

    \dot\Gamma = X\Gamma + \Gamma X^T + Y, \qquad X = h - 2\,\mathrm{Re}\,M, \qquad Y = 4\,\mathrm{Im}\,M,

and the spectrum of :math:`\mathcal{L}` on all :math:`4^L` operators is
:math:`\{\sum_{j\in S}x_j\}` over the subsets :math:`S` of the :math:`2L` eigenvalues :math:`x_j` of
:math:`X`. In the mode basis :math:`X` and :math:`Y` are block diagonal over the frequency groups (2x2
blocks when no two modes share a frequency), so after the :math:`O(L^3)` canonical form everything costs
:math:`O(L)` (rates) or :math:`O(L^2)` per time (trajectories). Non-degenerate mode :math:`k`:
:math:`x = -\Gamma_k/2 \pm i\varepsilon_k`, :math:`\Gamma_k = \lambda^2|z_k|^2(\gamma(\varepsilon_k) +
\gamma(-\varepsilon_k))` (PHYSICS.md section 5: the gap is :math:`\min_k\Gamma_k/2`).

Periodic chains are refused: on a ring the Jordan-Wigner boundary term carries the fermion parity, the two
parity sectors have different modes, and a coupling that flips the parity (like :math:`\sigma^x_0`) maps
one sector's modes onto the other's, so its Bohr components are not linear in one set of mode operators.
"""

from __future__ import annotations

import dataclasses
import heapq
import numbers

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from . import _checks
from .baths import Bath
from .integrable import _canonical_form, _tfim_majorana_matrix, xx_modes
from .models import SpinChain
from .spectrum import group_levels

__all__ = ["FreeFermionDavies", "FreeFermionTrajectory"]

# coupling label -> (Majorana index, sign) with sigma_0 = sign * gamma_index (module docstring)
_COUPLINGS = {"xx": {"x0": (0, 1.0), "y0": (1, -1.0)}, "tfim": {"z0": (0, 1.0), "y0": (1, 1.0)}}


@dataclasses.dataclass(frozen=True)
class FreeFermionTrajectory:
    r"""Quadratic observables along a trajectory of :class:`FreeFermionDavies`.

    Attributes
    ----------
    times : ndarray, shape (T,)
    energy : ndarray, shape (T,)
        :math:`\langle H\rangle = \frac14\sum_{mn}h_{mn}\Gamma_{mn} = \frac12\sum_k\varepsilon_k\Gamma'_{2k,2k+1}`.
    mode_occupations : ndarray, shape (T, L)
        :math:`\langle b^\dagger_kb_k\rangle = (1 + \Gamma'_{2k,2k+1})/2`, modes in ascending :math:`\varepsilon_k`.
    local : ndarray, shape (T, L) or None
        :math:`\langle i\gamma_{2j}\gamma_{2j+1}\rangle = \Gamma_{2j,2j+1}`: :math:`\langle\sigma^z_j\rangle`
        (XX) or :math:`\langle\sigma^x_j\rangle` (TFIM); ``None`` when not requested.
    """

    times: np.ndarray
    energy: np.ndarray
    mode_occupations: np.ndarray
    local: np.ndarray | None


def _parse_chain(chain):
    if isinstance(chain, tuple) and len(chain) == 3 and chain[0] in ("xx", "tfim"):  # from the classmethods
        return chain
    if not isinstance(chain, SpinChain):
        raise TypeError(f"chain must be a davies_mb.SpinChain from dm.xx(...) or dm.tfim(...), got "
                        f"{type(chain).__name__}")
    p = chain.params
    if chain.bc != "open":
        raise ValueError(
            f"chain has bc={chain.bc!r}: on a ring the Jordan-Wigner boundary term depends on the fermion "
            "parity, so the two parity sectors have different modes and a parity-flipping coupling is not linear "
            "in one set of mode operators (its Davies generator is not quadratic). Use bc='open' (or the "
            "many-body dm.DaviesGenerator for a small ring)")
    if chain.name == "xxz":
        bad = {k: p[k] for k in ("delta", "j2", "hx", "staggered", "disorder") if p.get(k, 0) not in (0, 0.0, None)}
        hz = np.asarray(p["hz_sites"], dtype=float)
        if bad or not np.all(hz == hz[0]):
            raise ValueError(f"chain {chain!r} is not a free-fermion XX chain (nonzero {sorted(bad) or 'non-uniform hz'}); "
                             "FreeFermionDavies needs dm.xx(L, j=..., hz=..., bc='open') or dm.tfim(L, g, h=0)")
        return "xx", chain.L, dict(j=float(p["j"]), hz=float(hz[0]))
    if chain.name == "tfim":
        if p["h"] != 0:
            raise ValueError(f"chain {chain!r} has a longitudinal field h={p['h']}: not free fermions; use h=0")
        return "tfim", chain.L, dict(j=float(p["j"]), g=float(p["g"]))
    raise ValueError(f"chain family {chain.name!r} is not a free-fermion chain; use dm.xx or dm.tfim")


def _parse_couplings(model, coupling):
    labels = [coupling] if isinstance(coupling, str) else coupling
    try:
        labels = list(labels)
    except TypeError:
        labels = None
    allowed = _COUPLINGS[model]
    if not labels or not all(isinstance(s, str) for s in labels):
        raise TypeError(f"coupling must be a label like {sorted(allowed)} or a list of them, got {coupling!r}")
    out = []
    for s in labels:
        key = s.replace(" ", "").lower()
        if key not in allowed:
            raise ValueError(
                f"coupling {s!r} is not linear in the Jordan-Wigner Majoranas of the {model} chain; supported: "
                f"{', '.join(sorted(allowed))} (Pauli operators on the first site, where the string is empty)")
        out.append(allowed[key])
    return out


def _bidiagonal_modes(B):
    r"""Canonical form of :math:`h` with :math:`h_{2i,2j+1} = B_{ij}` (lower bidiagonal B, open Ising chain).

    :math:`H = \frac{i}{2}\sum_{ij}B_{ij}\gamma_{2i}\gamma_{2j+1}`; the SVD :math:`B = \sum_k\varepsilon_k u_kv_k^T`
    gives :math:`\gamma'_{2k} = u_k\cdot\gamma_{\rm even}`, :math:`\gamma'_{2k+1} = v_k\cdot\gamma_{\rm odd}`.
    The SVD comes from the Golub-Kahan tridiagonal matrix (off-diagonals ``B_00, B_10, B_11, B_21, ...``), whose
    eigenvectors for :math:`\pm\varepsilon_k` are :math:`(u_k, \pm v_k)/\sqrt2` interleaved: an
    :math:`O(L^2)` symmetric tridiagonal eigenproblem instead of a dense :math:`2L\times 2L` one.
    """
    L = B.shape[0]
    e = np.zeros(2 * L - 1)
    e[0::2] = np.diag(B)
    e[1::2] = np.diag(B, -1)
    lam, Y = sla.eigh_tridiagonal(np.zeros(2 * L), e)
    scale = max(1.0, float(np.max(np.abs(lam))))
    tol = 1e-10 * scale
    pos = np.flatnonzero(lam > tol)
    U = np.sqrt(2) * Y[0::2, pos]
    V = np.sqrt(2) * Y[1::2, pos]
    eps = lam[pos]
    zero = np.flatnonzero(np.abs(lam) <= tol)
    if zero.size:  # kernel: real orthonormal bases of ker B^T (even) and ker B (odd), paired arbitrarily
        Ue = sla.orth(Y[0::2, zero], rcond=1e-8)
        Vo = sla.orth(Y[1::2, zero], rcond=1e-8)
        if Ue.shape[1] != Vo.shape[1] or 2 * Ue.shape[1] != zero.size:
            raise np.linalg.LinAlgError("could not pair the zero modes")
        U, V = np.hstack([Ue, U]), np.hstack([Vo, V])
        eps = np.concatenate([np.zeros(Ue.shape[1]), eps])
    if eps.size != L:
        raise np.linalg.LinAlgError("spectrum not symmetric")
    # checks in O(L^2 + L^3 BLAS): singular-vector residuals and orthogonality
    Bs = sp.csr_array(B)
    res = max(float(np.max(np.abs(Bs @ V - U * eps))), float(np.max(np.abs(Bs.T @ U - V * eps))))
    orth = max(float(np.max(np.abs(U.T @ U - np.eye(L)))), float(np.max(np.abs(V.T @ V - np.eye(L)))))
    if res > 1e-9 * scale or orth > 1e-9:
        raise np.linalg.LinAlgError(f"bidiagonal SVD inaccurate (residual {res:.1e}, orthogonality {orth:.1e})")
    R = np.zeros((2 * L, 2 * L))
    R[0::2, 0::2] = U.T
    R[1::2, 1::2] = V.T
    return R, eps


def _hamiltonian_and_modes(model, L, params):
    """(h, R, eps): Majorana matrix, canonical rotation (rows 2k, 2k+1 = mode k), eps >= 0 ascending."""
    if model == "tfim":
        h = _tfim_majorana_matrix(L, params["j"], params["g"], "open", None)
        try:
            R, eps = _bidiagonal_modes(h[0::2, 1::2])
        except np.linalg.LinAlgError:  # e.g. exactly degenerate clusters: the general (slower) route
            R, eps = _canonical_form(h)
        return h, R, eps
    t = np.diag(np.full(L, params["hz"])) + (params["j"] / 2) * (np.eye(L, k=1) + np.eye(L, k=-1))
    h = np.zeros((2 * L, 2 * L))
    h[0::2, 1::2] = t
    h[1::2, 0::2] = -t.T
    # analytic modes a_k = sum_j phi_k(j) c_j (phi real): gamma'_{2k} = sum_j phi_k(j) gamma_{2j},
    # gamma'_{2k+1} = +-sum_j phi_k(j) gamma_{2j+1}; a mode of negative energy is a hole, b_k = a_k^dagger
    m = xx_modes(L, "open", j=params["j"], hz=params["hz"])
    phi, e = np.real(m.vectors), m.energies
    sign = np.where(e < 0, -1.0, 1.0)
    order = np.argsort(np.abs(e), kind="stable")
    R = np.zeros((2 * L, 2 * L))
    R[0::2, 0::2] = phi[:, order].T
    R[1::2, 1::2] = (phi[:, order] * sign[order]).T
    return h, R, np.abs(e)[order]


class FreeFermionDavies:
    r"""Davies generator of an open XX or transverse-field Ising chain coupled at its first site.

    Exact (the same generator as :class:`davies_mb.DaviesGenerator` on the :math:`2^L` states) and built
    from the :math:`2L\times 2L` single-particle problem: see the module docstring for the formulas.

    Parameters
    ----------
    chain : SpinChain
        ``dm.xx(L, j=..., hz=..., bc="open")`` or ``dm.tfim(L, g, j=..., bc="open")`` (``h = 0``).
    coupling : str or list of str
        ``"x0"`` (:math:`\sigma^x_0`) or ``"y0"`` for the XX chain, ``"z0"`` (:math:`\sigma^z_0`) or ``"y0"``
        for the Ising chain; several labels couple each to an independent copy of ``bath``.
    bath : Bath
        One temperature; ``beta = inf`` (zero temperature) where the bath accepts it.
    strength : float
        :math:`\lambda`; every rate scales as :math:`\lambda^2`.
    freq_tol : float, optional
        Single-particle energies closer than this share a Bohr frequency (default
        :math:`10^4\epsilon_{mach}\max(1, \sum_k\varepsilon_k)`, the many-body default level tolerance).

    Notes
    -----
    No Lamb shift (the default of :class:`~davies_mb.DaviesGenerator`; it would add the quadratic
    :math:`\sum_\omega S(\omega)A(\omega)^\dagger A(\omega)` to :math:`h` inside each frequency group).
    Covariances are real antisymmetric :math:`(2L, 2L)` arrays in the site Majorana basis.
    """

    def __init__(self, chain, coupling, bath, strength: float = 1.0, *, freq_tol: float | None = None,
                 _core: dict | None = None):
        self.strength = _checks.check_positive("strength", strength)
        if _core is not None:
            self._c = _core
            self._cache = {}
            return
        model, L, params = _parse_chain(chain)
        cpl = _parse_couplings(model, coupling)
        if not isinstance(bath, Bath):
            raise TypeError(f"bath must be a davies_mb Bath (e.g. dm.OhmicBath(beta=1.0)), got {type(bath).__name__}")
        h, R, eps = _hamiltonian_and_modes(model, L, params)
        if freq_tol is None:
            freq_tol = 1e4 * np.finfo(float).eps * max(1.0, float(eps.sum()))
        freq_tol = _checks.check_positive("freq_tol", freq_tol)
        index, centers = group_levels(eps, freq_tol)
        zero = centers <= freq_tol
        # coupling vectors in the mode basis, z_k = u_{2k} - i u_{2k+1}
        z = np.array([(sgn * R[:, m])[0::2] - 1j * (sgn * R[:, m])[1::2] for m, sgn in cpl])  # (n_c, L)
        u = np.array([sgn * R[:, m] for m, sgn in cpl])  # (n_c, 2L)
        w = np.where(zero, 0.0, centers)
        down, up = bath.rate_pair(w)
        down, up = np.atleast_1d(down), np.atleast_1d(up)
        g0 = float(bath.gamma(0.0)) if np.any(zero) else 0.0
        counts = np.bincount(index)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])  # groups are runs of the sorted energies
        buckets = {}
        for gidx, cnt in enumerate(counts):
            buckets.setdefault(int(cnt), []).append(gidx)
        blocks = []  # per bucket: (group ids, Majorana indices (n, 2s), h' blocks, Re M, Im M at lambda = 1)
        for s, gids in sorted(buckets.items()):
            gids = np.array(gids)
            modes = starts[gids][:, None] + np.arange(s)[None, :]  # (n, s)
            maj = np.stack([2 * modes, 2 * modes + 1], axis=-1).reshape(len(gids), 2 * s)
            hb = np.zeros((len(gids), 2 * s, 2 * s))
            ar = np.arange(s)
            hb[:, 2 * ar, 2 * ar + 1] = eps[modes]
            hb[:, 2 * ar + 1, 2 * ar] = -eps[modes]
            M = np.zeros((len(gids), 2 * s, 2 * s), dtype=complex)
            for c in range(len(cpl)):
                zc = z[c][modes]  # (n, s)
                l = np.stack([zc / 2, 1j * zc / 2], axis=-1).reshape(len(gids), 2 * s)  # A(w) = sum z b
                ll = l[:, :, None] * l.conj()[:, None, :]
                M += down[gids][:, None, None] * ll + up[gids][:, None, None] * ll.conj()
            isz = zero[gids]
            if np.any(isz):  # A(0) = sum_k (z b + conj(z) b^dag) = sum_m u_m gamma'_m: real, rate gamma(0)
                M0 = np.zeros((int(isz.sum()), 2 * s, 2 * s), dtype=complex)
                for c in range(len(cpl)):
                    l0 = u[c][maj[isz]]
                    M0 += g0 * l0[:, :, None] * l0[:, None, :]
                M[isz] = M0
            blocks.append((gids, maj, hb, M.real.copy(), M.imag.copy()))
        beta = bath.beta
        self._c = dict(model=model, params=params, L=L, h=h, R=R, eps=eps, index=index, centers=centers,
                       zero=zero, blocks=blocks, beta=beta, freq_tol=freq_tol, n_couplings=len(cpl),
                       z=z, down=down, up=up)
        self._cache = {}

    @classmethod
    def xx(cls, L: int, coupling, bath, strength: float = 1.0, *, j: float = 1.0, hz: float = 0.0,
           freq_tol: float | None = None) -> "FreeFermionDavies":
        r"""Open XX chain of any length (``dm.xx`` stops at 40 sites, the limit of its many-body matrices)."""
        return cls(("xx", _check_sites(L), dict(j=_real("j", j), hz=_real("hz", hz))), coupling, bath, strength,
                   freq_tol=freq_tol)

    @classmethod
    def tfim(cls, L: int, g: float, coupling, bath, strength: float = 1.0, *, j: float = 1.0,
             freq_tol: float | None = None) -> "FreeFermionDavies":
        r"""Open transverse-field Ising chain of any length (:math:`H = -J\sum\sigma^z\sigma^z - g\sum\sigma^x`)."""
        return cls(("tfim", _check_sites(L), dict(j=_real("j", j), g=_real("g", g))), coupling, bath, strength,
                   freq_tol=freq_tol)

    # -- basic data ---------------------------------------------------------------------------------
    def with_strength(self, strength: float) -> "FreeFermionDavies":
        """The same generator at another :math:`\\lambda` (reuses the canonical form)."""
        return FreeFermionDavies(None, None, None, strength, _core=self._c)

    @property
    def L(self) -> int:
        return self._c["L"]

    @property
    def model(self) -> str:
        return self._c["model"]

    @property
    def mode_energies(self) -> np.ndarray:
        r"""Canonical single-particle energies :math:`\varepsilon_k \ge 0`, ascending."""
        return self._c["eps"].copy()

    @property
    def rotation(self) -> np.ndarray:
        r"""The real orthogonal :math:`R` (:math:`\gamma' = R\gamma`, rows ``2k, 2k+1`` = mode ``k``)."""
        return self._c["R"].copy()

    @property
    def majorana_hamiltonian(self) -> np.ndarray:
        r""":math:`h` with :math:`H = \frac{i}{4}\sum h_{mn}\gamma_m\gamma_n`."""
        return self._c["h"].copy()

    def mode_couplings(self) -> np.ndarray:
        r""":math:`|z_k|^2` summed over couplings (:math:`|\phi_k(0)|^2` for the XX chain with ``"x0"``)."""
        return np.sum(np.abs(self._c["z"]) ** 2, axis=0)

    def __repr__(self) -> str:
        c = self._c
        return (f"FreeFermionDavies({c['model']}, L={c['L']}, couplings={c['n_couplings']}, "
                f"strength={self.strength}, beta={c['beta']})")

    # -- X, Y per group at this strength ---------------------------------------------------------------
    def _eig(self):
        """Per bucket: (gids, maj, X, Y, x eigenvalues, V, V^-1) at this strength."""
        if "eig" in self._cache:
            return self._cache["eig"]
        lam2 = self.strength**2
        out = []
        for gids, maj, hb, Mr, Mi in self._c["blocks"]:
            X = hb - 2 * lam2 * Mr
            Y = 4 * lam2 * Mi
            x, V = np.linalg.eig(X)
            Vi = np.linalg.inv(V)
            out.append((gids, maj, X, Y, x, V, Vi))
        self._cache["eig"] = out
        return out

    def _rate_tol(self) -> float:
        r = np.concatenate([-e[4].real.ravel() for e in self._eig()])
        return 1e-9 * max(float(np.max(np.abs(r))) if r.size else 0.0, 1e-300)

    def _freq_tol(self) -> float:
        # imaginary parts of rapidities are single-particle energies: compared on the frequency scale
        return max(self._c["freq_tol"], 1e-12 * max(1.0, float(self._c["eps"].max())))

    def rapidities(self) -> np.ndarray:
        r"""The :math:`2L` eigenvalues :math:`x_j` of :math:`X` (mode-basis blocks), sorted by decay rate."""
        x = np.concatenate([e[4].ravel() for e in self._eig()])
        return x[np.lexsort((x.imag, -x.real))]

    # -- spectrum of the generator -------------------------------------------------------------------
    def relaxation_rates(self, k: int = 5) -> np.ndarray:
        r"""The ``k`` smallest nonzero decay rates :math:`-\mathrm{Re}\,\mu` of :math:`\mathcal{L}`, ascending.

        :math:`\mu` runs over the subset sums of the rapidities :math:`x_j` (every eigenvalue once, as
        :meth:`davies_mb.DaviesGenerator.relaxation_rates`); :math:`\mu = 0` (the kernel) is left out, and an
        undamped coherence (:math:`\mu` imaginary, nonzero: a dark mode) counts with rate 0.
        """
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        k = int(k)
        x = self.rapidities()
        tol = self._rate_tol()
        r = np.maximum(-x.real, 0.0)
        dark = r <= tol
        damped = np.sort(r[~dark])
        xd = x[dark].imag
        nd = int(dark.sum())
        out = []
        if nd:
            if np.any(np.abs(xd) > self._freq_tol()) and nd - 1 >= np.log2(k):
                return np.zeros(k)  # at least 2^(nd-1) subsets of dark rapidities have nonzero sum
            sums = np.zeros(1)
            for v in xd:
                sums = np.concatenate([sums, sums + v])
            zero_sums = int(np.sum(np.abs(sums) <= self._freq_tol() * max(1, nd)))
            out = [0.0] * min(k, 2**nd - zero_sums)
            mult = 2**nd
        else:
            mult = 1
        # nonempty subsets of the damped rates in ascending order of their sum (each subset once)
        if damped.size and len(out) < k:
            heap = [(float(damped[0]), 0)]
            while heap and len(out) < k:
                s, i = heapq.heappop(heap)
                out.extend([s] * min(mult, k - len(out)))
                if i + 1 < damped.size:
                    heapq.heappush(heap, (s + float(damped[i + 1]), i + 1))
                    heapq.heappush(heap, (s - float(damped[i]) + float(damped[i + 1]), i + 1))
        return np.asarray(out[:k], dtype=float)

    def gap(self) -> float:
        r""":math:`\Delta = \min\{-\mathrm{Re}\,\mu \ne 0\}` = the smallest :math:`-\mathrm{Re}\,x_j` (0 with dark modes)."""
        r = self.relaxation_rates(1)
        return float(r[0]) if r.size else np.inf

    def relaxation_time(self) -> float:
        """:math:`1/\\Delta`."""
        return 1.0 / self.gap()

    def kernel_dimension(self) -> int:
        r"""Number of independent stationary states: the subsets of rapidities that sum to zero (empty one included).

        Counted by enumerating the subsets of the undamped rapidities (at most 30 of them here).
        """
        x = self.rapidities()
        tol = self._rate_tol()
        xd = x[-x.real <= tol].imag
        if xd.size > 30:
            raise ValueError(f"{xd.size} undamped rapidities: the kernel dimension (up to 2^{xd.size}) is not "
                             "enumerated; see dark_modes()")
        sums = np.zeros(1)
        for v in xd:
            sums = np.concatenate([sums, sums + v])
        return int(np.sum(np.abs(sums) <= self._freq_tol() * max(1, xd.size)))

    def dark_modes(self) -> int:
        """Number of rapidities with zero real part (modes the bath does not reach); 0 means a unique stationary state."""
        x = self.rapidities()
        return int(np.sum(-x.real <= self._rate_tol()))

    # -- covariance matrices ---------------------------------------------------------------------------
    def _check_cov(self, C0, name="C0") -> np.ndarray:
        L = self.L
        G = np.asarray(C0)
        if self.model == "xx" and G.shape == (L, L):
            return self.covariance_from_xx(G)
        if G.shape != (2 * L, 2 * L):
            extra = f" or the ({L}, {L}) matrix C_ij = <c+_i c_j>" if self.model == "xx" else ""
            raise ValueError(f"{name} must be the ({2 * L}, {2 * L}) Majorana covariance{extra}, got shape {G.shape}")
        if np.iscomplexobj(G):
            if np.max(np.abs(G.imag), initial=0.0) > 1e-12:
                raise ValueError(f"{name}: a Majorana covariance Gamma_mn = i<g_m g_n> is real; got imaginary parts")
            G = G.real
        G = np.asarray(G, dtype=float)
        if not np.all(np.isfinite(G)):
            raise ValueError(f"{name} contains NaN or infinite entries")
        if np.max(np.abs(G + G.T), initial=0.0) > 1e-10 * max(1.0, float(np.max(np.abs(G)))):
            raise ValueError(f"{name} must be antisymmetric (Gamma_mn = i<g_m g_n> for m != n, zero diagonal)")
        return G

    @staticmethod
    def covariance_from_xx(C) -> np.ndarray:
        r"""Majorana covariance of a number-conserving XX state from :math:`C_{ij} = \langle c^\dagger_ic_j\rangle`.

        :math:`\Gamma_{2i,2j} = \Gamma_{2i+1,2j+1} = -2\,\mathrm{Im}\,C_{ij}`,
        :math:`\Gamma_{2i,2j+1} = 2\,\mathrm{Re}\,C_{ij} - \delta_{ij} = -\Gamma_{2j+1,2i}`.
        """
        C = np.asarray(C)
        if C.ndim != 2 or C.shape[0] != C.shape[1]:
            raise ValueError(f"C must be a square (L, L) matrix, got shape {C.shape}")
        if np.max(np.abs(C - C.conj().T), initial=0.0) > 1e-10:
            raise ValueError("C = <c+_i c_j> must be Hermitian")
        L = C.shape[0]
        G = np.zeros((2 * L, 2 * L))
        G[0::2, 0::2] = G[1::2, 1::2] = -2 * np.imag(C)
        B = 2 * np.real(C) - np.eye(L)
        G[0::2, 1::2] = B
        G[1::2, 0::2] = -B.T
        return G

    def local_product_covariance(self, values) -> np.ndarray:
        r"""Covariance of a product state with :math:`\Gamma_{2j,2j+1} = v_j` and no other correlation.

        XX: :math:`v_j = \langle\sigma^z_j\rangle` (e.g. the Neel state :math:`v = (1, -1, 1, ...)`);
        TFIM: :math:`v_j = \langle\sigma^x_j\rangle` (product states along x).
        """
        v = np.asarray(values, dtype=float)
        if v.shape != (self.L,) or not np.all(np.abs(v) <= 1):
            raise ValueError(f"values must be {self.L} numbers in [-1, 1], got {values!r}")
        G = np.zeros((2 * self.L, 2 * self.L))
        j = np.arange(self.L)
        G[2 * j, 2 * j + 1] = v
        G[2 * j + 1, 2 * j] = -v
        return G

    def gibbs_covariance(self) -> np.ndarray:
        r"""Covariance of :math:`e^{-\beta H}/Z`: :math:`\Gamma'_{2k,2k+1} = -\tanh(\beta\varepsilon_k/2)`, :math:`\Gamma = R^T\Gamma'R`."""
        return self._c["R"].T @ self._mode_gibbs() @ self._c["R"]

    def _mode_gibbs(self) -> np.ndarray:
        eps, beta = self._c["eps"], self._c["beta"]
        with np.errstate(invalid="ignore"):
            t = np.where(eps > 0, np.tanh(np.multiply(beta, eps) / 2), 0.0)
        G = np.zeros((2 * self.L, 2 * self.L))
        k = np.arange(self.L)
        G[2 * k, 2 * k + 1], G[2 * k + 1, 2 * k] = -t, t
        return G

    def _particular(self) -> np.ndarray:
        r"""A stationary mode-basis covariance: the Lyapunov solution of every damped group, Gibbs elsewhere."""
        if "part" in self._cache:
            return self._cache["part"]
        tol = self._rate_tol()
        Gp = self._mode_gibbs()
        for gids, maj, X, Y, x, V, Vi in self._eig():
            ok = np.all(-x.real > tol, axis=1)
            if not np.any(ok):
                continue
            # X G + G X^T = -Y  ->  G = V [(V^-1 (-Y) V^-T) / (x_i + x_j)] V^T
            Vo, Vio, xo = V[ok], Vi[ok], x[ok]
            T = -Vio @ Y[ok] @ np.swapaxes(Vio, 1, 2)
            G = np.real(Vo @ (T / (xo[:, :, None] + xo[:, None, :])) @ np.swapaxes(Vo, 1, 2))
            m = maj[ok]
            Gp[m[:, :, None], m[:, None, :]] = G
        self._cache["part"] = Gp
        return Gp

    def stationary_correlations(self, initial=None) -> np.ndarray:
        r"""The stationary Majorana covariance :math:`\Gamma_\infty` (site basis), :math:`(2L, 2L)`.

        Unique stationary state (no dark mode): the solution of :math:`X\Gamma + \Gamma X^T = -Y`, solved
        group by group in the mode basis (for the Davies generator it is the Gibbs state's,
        :math:`\Gamma'_{2k,2k+1} = -\tanh(\beta\varepsilon_k/2)`). With dark modes the limit depends on the
        initial state: pass ``initial`` (a covariance) to get the long-time average of :math:`\Gamma(t)`,
        as :meth:`davies_mb.DaviesGenerator.stationary_state` does.
        """
        R = self._c["R"]
        Gp = self._particular()
        if self.dark_modes() == 0:
            return R.T @ Gp @ R
        if initial is None:
            raise ValueError(
                f"the stationary state is not unique ({self.dark_modes()} rapidities with zero real part: modes "
                "that share a Bohr frequency with a coupled one, or that the coupling misses); pass initial=<covariance>")
        D = R @ self._check_cov(initial, "initial") @ R.T - Gp
        tol = self._rate_tol()
        out = Gp.copy()
        for gids, maj, X, Y, x, V, Vi in self._eig():
            xs = x[:, :, None] + x[:, None, :]
            keep = (np.abs(xs.real) <= 2 * tol) & (np.abs(xs.imag) <= 2 * self._freq_tol())
            if not np.any(keep):
                continue
            Db = D[maj[:, :, None], maj[:, None, :]]
            T = (Vi @ Db @ np.swapaxes(Vi, 1, 2)) * keep
            out[maj[:, :, None], maj[:, None, :]] += np.real(V @ T @ np.swapaxes(V, 1, 2))
        return R.T @ out @ R

    def _propagators(self, t: float):
        """Sparse block-diagonal e^{Xt} in the mode basis."""
        rows, cols, vals = [], [], []
        for gids, maj, X, Y, x, V, Vi in self._eig():
            E = np.real((V * np.exp(x * t)[:, None, :]) @ Vi)
            n, s2 = maj.shape
            rows.append(np.broadcast_to(maj[:, :, None], (n, s2, s2)).ravel())
            cols.append(np.broadcast_to(maj[:, None, :], (n, s2, s2)).ravel())
            vals.append(E.ravel())
        n = 2 * self.L
        return sp.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))

    def _mode_trajectory(self, C0, times):
        t = _check_times(times)
        R = self._c["R"]
        Gp = self._particular()
        D = R @ self._check_cov(C0) @ R.T - Gp
        for ti in t:
            E = self._propagators(float(ti))
            ED = E @ D
            yield Gp + (E @ ED.T).T  # E D E^T = (E (E D)^T)^T

    def _mode_pair_trajectory(self, C0, t) -> np.ndarray:
        r""":math:`\Gamma'_{2k,2k+1}(t)`, shape ``(T, L)``, from the diagonal group blocks only."""
        R = self._c["R"]
        Gp = self._particular()
        G0 = self._check_cov(C0)
        key = hash(G0.tobytes())  # repeated calls with one initial state (tail fits) reuse its rotation
        if self._cache.get("D", (None,))[0] == key:
            D = self._cache["D"][1]
        else:
            D = R @ G0 @ R.T - Gp
            self._cache["D"] = (key, D)
        k = np.arange(self.L)
        out = np.tile(Gp[2 * k, 2 * k + 1], (t.size, 1))
        for gids, maj, X, Y, x, V, Vi in self._eig():
            Db = D[maj[:, :, None], maj[:, None, :]]
            T0 = Vi @ Db @ np.swapaxes(Vi, 1, 2)  # D in the eigenbasis of X: e^{Xt} D e^{X^T t} -> T0 e^{(x_i+x_j)t}
            xs = x[:, :, None] + x[:, None, :]
            modes = maj[:, 0::2] // 2  # (n, s)
            # only the (2a, 2a+1) entries of V (T0 e^{xs t}) V^T: sum_ij V[2a,i] T0_ij e^{xs_ij t} V[2a+1,j]
            W = V[:, 0::2, :, None] * V[:, 1::2, None, :] * T0[:, None, :, :]  # (n, s, 2s, 2s)
            n, s_ = modes.shape
            W = W.reshape(n * s_, -1)
            E = xs.reshape(n, 1, -1).repeat(s_, axis=1).reshape(n * s_, -1)
            step = max(1, 2**22 // max(1, W.size))  # times per chunk (bounded temporary memory)
            for a in range(0, t.size, step):
                tc = t[a:a + step]
                vals = np.real(np.einsum("mq,tmq->tm", W, np.exp(E[None] * tc[:, None, None])))
                out[a:a + step][:, modes.ravel()] += vals
        return out

    def evolve_correlations(self, C0, times) -> np.ndarray:
        r"""Site-basis covariance :math:`\Gamma(t)` at each time, shape ``(T, 2L, 2L)``.

        :math:`\Gamma(t) = \Gamma_p + e^{Xt}(\Gamma_0 - \Gamma_p)e^{X^Tt}` with :math:`\Gamma_p` stationary
        (:meth:`stationary_correlations`); ``C0`` a Majorana covariance or, for the XX chain, the
        :math:`(L, L)` matrix :math:`\langle c^\dagger_ic_j\rangle` of a number-conserving state.
        """
        t = _check_times(times)
        _checks.check_memory("the covariance trajectory", (t.size, 2 * self.L, 2 * self.L), np.float64,
                             hint="Ask for fewer times, or use trajectory() for the observables only.")
        R = self._c["R"]
        out = np.empty((t.size, 2 * self.L, 2 * self.L))
        for i, Gm in enumerate(self._mode_trajectory(C0, t)):
            out[i] = R.T @ Gm @ R
        return out

    def trajectory(self, C0, times, *, local: bool = True) -> FreeFermionTrajectory:
        r"""Energy, mode occupations and (``local=True``) :math:`\Gamma_{2j,2j+1}(t)`, without storing :math:`\Gamma(t)`."""
        t = _check_times(times)
        R = self._c["R"]
        eps = self._c["eps"]
        k = np.arange(self.L)
        if not local:  # energy and mode occupations need only the diagonal group blocks: O(L) per time
            d = self._mode_pair_trajectory(C0, t)
            return FreeFermionTrajectory(t, 0.5 * d @ eps, (1 + d) / 2, None)
        Re, Ro = R[:, 0::2], R[:, 1::2]
        energy = np.empty(t.size)
        occ = np.empty((t.size, self.L))
        loc = np.empty((t.size, self.L)) if local else None
        for i, Gm in enumerate(self._mode_trajectory(C0, t)):
            d = Gm[2 * k, 2 * k + 1]
            energy[i] = 0.5 * float(eps @ d)
            occ[i] = (1 + d) / 2
            if local:
                loc[i] = np.einsum("aj,aj->j", Re, Gm @ Ro)
        return FreeFermionTrajectory(t, energy, occ, loc)

    # -- quadratic observables from a covariance ---------------------------------------------------------
    def energy(self, G) -> float | np.ndarray:
        r""":math:`\langle H\rangle = \frac14\sum_{mn}h_{mn}\Gamma_{mn}` (``G`` one covariance or a stack)."""
        G = np.asarray(G)
        return 0.25 * np.einsum("mn,...mn->...", self._c["h"], G)

    @staticmethod
    def local_polarization(G) -> np.ndarray:
        r""":math:`\Gamma_{2j,2j+1} = \langle i\gamma_{2j}\gamma_{2j+1}\rangle`: :math:`\langle\sigma^z_j\rangle` (XX), :math:`\langle\sigma^x_j\rangle` (TFIM)."""
        G = np.asarray(G)
        return np.diagonal(G[..., 0::2, 1::2], axis1=-2, axis2=-1).copy()

    @staticmethod
    def site_occupations(G) -> np.ndarray:
        r""":math:`\langle c^\dagger_jc_j\rangle = (1 + \Gamma_{2j,2j+1})/2` (XX: :math:`S^z_j + 1/2`)."""
        return (1 + FreeFermionDavies.local_polarization(G)) / 2

    @staticmethod
    def xx_correlations(G) -> np.ndarray:
        r""":math:`C_{ij} = \langle c^\dagger_ic_j\rangle = \frac14\langle(\gamma_{2i} - i\gamma_{2i+1})(\gamma_{2j} + i\gamma_{2j+1})\rangle`."""
        G = np.asarray(G)
        L = G.shape[-1] // 2
        # <g_m g_n> = delta_mn - i Gamma_mn
        Gm = np.eye(2 * L) - 1j * G
        C = (Gm[..., 0::2, 0::2] + Gm[..., 1::2, 1::2] + 1j * Gm[..., 0::2, 1::2] - 1j * Gm[..., 1::2, 0::2]) / 4
        return C

    def mode_occupations(self, G) -> np.ndarray:
        r""":math:`\langle b^\dagger_kb_k\rangle = (1 + (R\Gamma R^T)_{2k,2k+1})/2`, modes in ascending :math:`\varepsilon_k`."""
        R = self._c["R"]
        Gp = R @ np.asarray(G) @ R.T
        return (1 + np.diagonal(Gp[..., 0::2, 1::2], axis1=-2, axis2=-1)) / 2


def _check_sites(L) -> int:
    if isinstance(L, bool) or not isinstance(L, numbers.Integral):
        raise TypeError(f"L must be an integer number of sites, got {L!r}")
    if L < 2:
        raise ValueError(f"L must be >= 2 sites, got {L}")
    _checks.check_memory(f"the single-particle problem of L={L} sites", (2 * L, 2 * L), np.complex128,
                         hint="The canonical form diagonalizes a 2L x 2L matrix.")
    return int(L)


def _real(name, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def _check_times(times) -> np.ndarray:
    t = np.atleast_1d(np.asarray(times, dtype=float))
    if t.ndim != 1 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError(f"times must be a 1-d array of finite times >= 0, got {times!r}")
    return t
