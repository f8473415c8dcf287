r"""Eigenstate thermalization (ETH) diagnostics: level statistics, diagonal and off-diagonal ETH, dephasing.

Conventions (PHYSICS.md sections 1 and 4): :math:`\hbar = 1`; XXZ chains use spin operators
:math:`S = \sigma/2`; site 0 is the most significant qubit of a computational-basis index.

Level statistics
----------------
For the ascending eigenvalues :math:`E_1 \le E_2 \le \dots` of **one fully resolved symmetry sector** the
consecutive spacings are :math:`s_n = E_{n+1} - E_n` and the gap ratios

.. math::
    r_n = \frac{\min(s_n, s_{n+1})}{\max(s_n, s_{n+1})} \in [0, 1]

need no unfolding of the density of states. Reference means (Atas, Bogomolny, Giraud, Roux,
PRL 110, 084101 (2013)): :math:`\langle r\rangle_\text{Poisson} = 2\ln 2 - 1 = 0.38629`,
:math:`\langle r\rangle_\text{GOE} = 0.5307`, :math:`\langle r\rangle_\text{GUE} = 0.5996` (large
matrices). Their Wigner-like surmises for :math:`P(r)` (3x3 matrices) are implemented in
:func:`ratio_distribution`.

**Edges.** The density of states is small and the statistics are not universal at the spectral edges, so
by default the lowest and highest ``discard = 10 %`` of the eigenvalues *of each sector* are dropped
before the ratios are formed (80 % of every sector is used; ``discard=0`` keeps all). The fraction used
is reported as :attr:`LevelStatistics.fraction_used`.

**Mixed sectors.** A spectrum that superposes independent sectors has uncorrelated levels from different
blocks next to each other, which drives :math:`\langle r\rangle` towards the Poisson value even for a
chaotic chain; symmetry-related sectors (momenta :math:`k` and :math:`L-k`, related by the reflection) are
exactly degenerate, which drives it further down (0.066 for the chaotic chain of the tests at ``L = 12`` with
only :math:`S^z` resolved). :func:`level_statistics` warns when the blocks it is given do not resolve every symmetry
the chain has; :func:`sector_level_statistics` builds every fully resolved sector itself. Translation,
reflection (at :math:`k = 0, L/2`), spin flip (at :math:`S^z = 0`) and :math:`S^z` are resolved.

Diagonal and off-diagonal ETH
-----------------------------
ETH ansatz: :math:`O_{mn} = O(\bar E)\delta_{mn} + e^{-S(\bar E)/2} f_O(\bar E, \omega) R_{mn}`,
:math:`\bar E = (E_m + E_n)/2`, :math:`\omega = E_m - E_n`, :math:`R_{mn}` random with zero mean and unit
variance. Matrix elements are computed inside each fully resolved sector :math:`\chi` from the isometry
:math:`P_\chi` of :func:`davies_mb.sectors.sector_basis`:
:math:`O^{(\chi)}_{mn} = \langle m|P_\chi^\dagger O P_\chi|n\rangle`. For a symmetry operation :math:`g`
of the sector, :math:`\langle m|g O g^\dagger|n\rangle = |\chi(g)|^2 \langle m|O|n\rangle`, so the
elements of a local operator such as :math:`S^z_0 S^z_1` inside a sector equal those of its symmetrized
(translation-averaged) form.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from . import _checks
from .spectrum import eigh_peak_arrays

__all__ = [
    "MEAN_R",
    "SURMISE_MEAN_R",
    "gap_ratios",
    "mean_gap_ratio",
    "ratio_distribution",
    "LevelStatistics",
    "level_statistics",
    "sector_level_statistics",
    "fully_resolved_sectors",
    "sector_eigensystems",
    "DiagonalETH",
    "diagonal_eth",
    "OffDiagonalETH",
    "offdiagonal_eth",
    "exponential_rate",
    "thermal_value",
    "symmetrize",
    "QuenchResult",
    "quench",
    "dephasing_time",
]

#: Large-matrix mean gap ratios (Atas et al. 2013); Poisson is exact: 2 ln 2 - 1.
MEAN_R = {"poisson": 2 * math.log(2) - 1, "goe": 0.5307, "gue": 0.5996}
#: Means of the 3x3 surmises of Atas et al. 2013 (exact): 4 - 2 sqrt(3) and 2 sqrt(3)/pi - 1/2.
SURMISE_MEAN_R = {"poisson": 2 * math.log(2) - 1, "goe": 4 - 2 * math.sqrt(3),
                  "gue": 2 * math.sqrt(3) / math.pi - 0.5}
_ENSEMBLES = ("poisson", "goe", "gue")
_SECTOR_KEYS = ("sz", "k", "parity", "flip")


# --------------------------------------------------------------------------------------------------
# gap ratios
# --------------------------------------------------------------------------------------------------
def _check_discard(discard) -> float:
    if isinstance(discard, bool) or not isinstance(discard, numbers.Real) or not np.isfinite(discard):
        raise TypeError(f"discard must be a real fraction in [0, 0.5), got {discard!r}")
    discard = float(discard)
    if not 0 <= discard < 0.5:
        raise ValueError(
            f"discard is the fraction of levels dropped at each spectral edge and must lie in [0, 0.5), "
            f"got {discard}; use e.g. discard=0.1 (keep the central 80 %)"
        )
    return discard


def _as_energies(name: str, energies) -> np.ndarray:
    e = np.asarray(energies)
    if e.dtype == object or not np.issubdtype(e.dtype, np.number):
        raise TypeError(f"{name} must be a 1-D array of real eigenvalues, got dtype {e.dtype}")
    if np.iscomplexobj(e):
        if np.any(np.abs(e.imag) > 1e-12 * max(1.0, float(np.max(np.abs(e))))):
            raise ValueError(f"{name} must be real eigenvalues of a Hermitian matrix; got complex values")
        e = e.real
    if e.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of eigenvalues, got shape {e.shape}")
    if not np.all(np.isfinite(e)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return np.sort(e.astype(float))


def _kept(n: int, discard: float) -> slice:
    cut = int(math.floor(discard * n))
    return slice(cut, n - cut)


def gap_ratios(energies, *, discard: float = 0.1) -> np.ndarray:
    r"""Gap ratios :math:`r_n = \min(s_n, s_{n+1}) / \max(s_n, s_{n+1})` of one symmetry sector.

    .. math::
        s_n = E_{n+1} - E_n \quad (E \text{ ascending}), \qquad
        r_n = \frac{\min(s_n, s_{n+1})}{\max(s_n, s_{n+1})} \in [0, 1]

    (Oganesyan and Huse 2007; Atas et al. 2013). The energies must come from one fully resolved symmetry
    sector: mixing sectors fakes Poisson statistics.

    Parameters
    ----------
    energies : array_like, shape (n,)
        Eigenvalues of one sector (any order; sorted here).
    discard : float, keyword-only
        Fraction of the eigenvalues dropped at *each* spectral edge before forming the ratios,
        ``floor(discard * n)`` at the bottom and at the top (default 0.1: the central 80 % is used).

    Returns
    -------
    ndarray, shape (m - 2,)
        ``m`` the number of kept eigenvalues (empty when ``m < 3``). A ratio of two zero spacings
        (a threefold exact degeneracy) is ``nan``: degeneracies inside a sector signal an unresolved
        symmetry.
    """
    discard = _check_discard(discard)
    e = _as_energies("energies", energies)
    e = e[_kept(e.size, discard)]
    if e.size < 3:
        return np.zeros(0)
    s = np.diff(e)
    lo, hi = np.minimum(s[:-1], s[1:]), np.maximum(s[:-1], s[1:])
    with np.errstate(invalid="ignore", divide="ignore"):
        return lo / hi


def mean_gap_ratio(energies, *, discard: float = 0.1) -> float:
    r"""Mean gap ratio :math:`\langle r\rangle` of one symmetry sector (see :func:`gap_ratios`).

    Poisson (integrable): :math:`2\ln 2 - 1 = 0.3863`; GOE (real chaotic): 0.5307; GUE: 0.5996
    (Atas et al., PRL 110, 084101 (2013)). Ratios ``0/0`` from exact degeneracies are left out with a
    warning.
    """
    r = gap_ratios(energies, discard=discard)
    if r.size == 0:
        raise ValueError(
            f"energies: need at least 3 eigenvalues after discarding {discard:g} at each edge; "
            f"got {np.size(energies)} eigenvalues. Use a larger sector or discard=0"
        )
    bad = int(np.count_nonzero(np.isnan(r)))
    if bad:
        warnings.warn(
            f"{bad} of {r.size} gap ratios are 0/0 (exactly degenerate levels); they are left out. "
            "Degeneracies inside one sector signal an unresolved symmetry.", stacklevel=2)
    return float(np.nanmean(r))


def ratio_distribution(r, ensemble: str = "goe") -> np.ndarray:
    r"""Surmise for the distribution of :math:`r = \min/\max` gap ratios on :math:`[0, 1]`.

    Atas et al. 2013 (3x3 random matrices), for the ratio :math:`\tilde r = s_{n+1}/s_n \in [0,\infty)`:

    .. math::
        P_W(\tilde r) = \frac{1}{Z_\beta} \frac{(\tilde r + \tilde r^2)^\beta}
        {(1 + \tilde r + \tilde r^2)^{1 + 3\beta/2}},\qquad
        Z_1 = \frac{8}{27}\ (\text{GOE}),\ Z_2 = \frac{4\pi}{81\sqrt3}\ (\text{GUE}),

    and :math:`P_P(\tilde r) = 1/(1 + \tilde r)^2` for Poisson levels. The distribution of
    :math:`r = \min(\tilde r, 1/\tilde r)` is :math:`P(r) = 2 P(\tilde r = r)` on :math:`[0, 1]` (both are
    invariant under :math:`\tilde r \to 1/\tilde r`). Means: Poisson :math:`2\ln2 - 1`, GOE surmise
    :math:`4 - 2\sqrt3 = 0.5359`, GUE surmise :math:`2\sqrt3/\pi - 1/2 = 0.6027` (the large-matrix values
    are 0.5307 and 0.5996, :data:`MEAN_R`).

    Parameters
    ----------
    r : array_like
        Points in ``[0, 1]`` (outside: density 0).
    ensemble : {"poisson", "goe", "gue"}
    """
    _checks.check_choice("ensemble", ensemble, _ENSEMBLES)
    r = np.asarray(r, dtype=float)
    inside = (r >= 0) & (r <= 1)
    if ensemble == "poisson":
        p = 2.0 / (1.0 + r) ** 2
    else:
        beta = 1 if ensemble == "goe" else 2
        z = 8.0 / 27.0 if beta == 1 else 4.0 * math.pi / (81.0 * math.sqrt(3.0))
        p = 2.0 / z * (r + r**2) ** beta / (1.0 + r + r**2) ** (1.0 + 1.5 * beta)
    return np.where(inside, p, 0.0)


# --------------------------------------------------------------------------------------------------
# sectors of a chain
# --------------------------------------------------------------------------------------------------
def _is_chain(x) -> bool:
    from .models import SpinChain

    return isinstance(x, SpinChain)


def _check_chain(chain):
    if not _is_chain(chain):
        raise TypeError(
            f"chain must be a SpinChain (e.g. dm.xxz(16, 0.55, j2=0.5, bc='periodic')), got {type(chain).__name__}"
        )
    return chain


def _resolve_sz(chain, sz):
    if "sz" in chain.symmetries:
        return sz
    if sz is not None and sz != "auto":
        raise ValueError(
            f"sz={sz!r}: this {chain.name} chain does not conserve total S^z "
            f"(its symmetries: {sorted(chain.symmetries)}); pass sz=None"
        )
    return None


def fully_resolved_sectors(chain, sz=0) -> list:
    r"""Labels of all fully resolved symmetry sectors of ``chain`` (at total :math:`S^z` = ``sz``).

    Every symmetry in ``chain.symmetries`` is resolved where it is a good quantum number: momentum
    ``k = 0..L-1``, reflection ``parity`` at ``k = 0`` and ``k = L/2`` (or always for open chains), spin
    ``flip`` at :math:`S^z = 0`. Both ``k`` and ``L - k`` are listed (their spectra coincide, related by
    the reflection); pooled statistics therefore count every level of the :math:`S^z` sector once.

    Parameters
    ----------
    chain : SpinChain
    sz : float or None
        Total :math:`S^z`; ``None`` for all of them (or for a chain that does not conserve it).

    Returns
    -------
    list of dict
        Sector dictionaries in the order of :func:`davies_mb.sectors.sector_labels` (empty sectors left out).
    """
    from .sectors import sector_labels

    chain = _check_chain(chain)
    sz = _resolve_sz(chain, sz)
    syms = tuple(s for s in _SECTOR_KEYS if s in chain.symmetries)
    return sector_labels(chain.L, syms, sz=sz)


def _missing_symmetries(chain, label: Mapping) -> list:
    """Symmetries of ``chain`` that are good quantum numbers inside ``label`` but not resolved by it."""
    L = chain.L
    missing = []
    for key in _SECTOR_KEYS:
        if key not in chain.symmetries or key in label:
            continue
        if key == "parity" and "k" in label and not (label["k"] == 0 or 2 * label["k"] == L):
            continue
        if key == "flip" and "sz" in label and label["sz"] != 0:
            continue
        missing.append(key)
    return missing


def sector_eigensystems(chain, sz=0, *, vectors: bool = False, sectors=None, real_form: bool = True):
    r"""Yield the eigen-data of every fully resolved sector, one sector at a time.

    Each block :math:`H_\chi = P_\chi^\dagger H P_\chi` (:math:`P_\chi` the isometry of
    ``sector_basis(L, **label, space="sz")``) is built directly from the representatives and the chain's
    term list (no Hamiltonian of the whole :math:`S^z` sector is formed), and diagonalized in real
    arithmetic when the block is real (``k = 0``, ``k = L/2`` or no ``k``).

    The complex momentum blocks (:math:`k \ne 0, L/2`) of a chain with a real Hamiltonian and reflection
    symmetry are made real too: the antiunitary :math:`A = R K` (reflection times complex conjugation)
    commutes with :math:`H` and maps the sector to itself, and on the symmetric states it acts as a
    generalized permutation, :math:`A|k, r\rangle = q_r |k, \pi(r)\rangle` with :math:`\pi^2 = 1`,
    :math:`|q_r| = 1`, :math:`q_{\pi(r)} = q_r` (because :math:`A^2 = 1`). The basis
    :math:`e^{i\arg(q_r)/2}|r\rangle` (fixed points) and :math:`(|r\rangle + q_r|\pi r\rangle)/\sqrt2`,
    :math:`i(|r\rangle - q_r|\pi r\rangle)/\sqrt2` (pairs) is invariant under :math:`A`, so that
    :math:`\langle f_a|H|f_b\rangle = \overline{\langle A f_a|H|A f_b\rangle}` is real: a real symmetric
    ``eigh`` (about 4x cheaper) gives the same spectrum. ``P`` is then the product of the two isometries.

    Parameters
    ----------
    chain : SpinChain
    sz : float or None
        Total :math:`S^z` (``None`` when the chain does not conserve it).
    vectors : bool
        Also return eigenvectors (``eigh``); otherwise eigenvalues only (``eigvalsh``).
    sectors : list of dict, optional
        Sector labels (default :func:`fully_resolved_sectors`).
    real_form : bool
        Use the real form of complex momentum blocks when the chain allows it (default ``True``).

    Yields
    ------
    (label, energies, U, P, rows)
        ``U`` (``None`` unless ``vectors``) holds the eigenvectors in the sector basis; ``P`` is the isometry
        from the rows ``rows`` (computational-basis indices of the :math:`S^z` sector, or ``None`` for the
        full space) to the sector, so that the full eigenvectors are ``P @ U`` placed at ``rows``.
    """
    from .sectors import sector_basis

    chain = _check_chain(chain)
    sz = _resolve_sz(chain, sz)
    labels = fully_resolved_sectors(chain, sz) if sectors is None else [chain.check_sector(s) for s in sectors]
    if sz is not None:
        rows = sector_basis(chain.L, sz=sz).tocoo().row.astype(np.int64)
        rows.sort()
        space = "sz"
    else:
        rows, space = None, "full"
    # H real in the computational basis and reflection-symmetric: A = R K is an antiunitary symmetry that
    # keeps every momentum sector; the complex k != 0, L/2 blocks then have a real form.
    real_terms = all(np.isreal(coef) and all(lab != "y" for lab, _ in ops) for coef, *ops in chain.terms)
    use_rk = real_form and "parity" in chain.symmetries and "k" in chain.symmetries and real_terms
    states = rows if rows is not None else np.arange(chain.dim, dtype=np.int64)
    for label in labels:
        lab = {k: v for k, v in label.items() if k != "sz"}
        if space == "sz":
            P = sector_basis(chain.L, sz=sz, **lab, space="sz")
        else:
            P = sector_basis(chain.L, **lab, space="full")
        D = P.shape[1]
        dt = np.float64 if (use_rk or not np.iscomplexobj(P.data)) else np.complex128
        arrays = eigh_peak_arrays(D, dt)
        _checks.check_memory_total(f"diagonalizing the sector {label} of the L={chain.L} chain (dimension {D})",
                                   arrays if vectors else arrays[:2] + arrays[3:],
                                   hint="Use a smaller L (every fully resolved sector is diagonalized densely).")
        Hs = _sector_hamiltonian(chain, label)  # = P^dag H P, from the representatives
        if use_rk and np.iscomplexobj(P.data) and "k" in label:
            F = _rk_real_basis(P, states, chain.L)
            P = P @ F
            Hs = (F.conj().T @ Hs @ F).toarray()
            err = float(np.max(np.abs(Hs.imag))) if Hs.size else 0.0
            if err > 1e-10 * max(1.0, float(np.max(np.abs(Hs.real)))):  # pragma: no cover - guards the construction
                raise RuntimeError(f"real form of sector {label} failed (imaginary part {err:.2e})")
            Hs = Hs.real
        else:
            Hs = Hs.toarray()
        if np.iscomplexobj(Hs) and not np.any(Hs.imag):
            Hs = Hs.real
        if vectors:
            E, U = sla.eigh(Hs, driver="evd", check_finite=False)
        else:
            E, U = sla.eigh(Hs, eigvals_only=True, driver="evd", check_finite=False), None
        yield dict(label), E, U, P, rows


def _apply_terms(terms, states: np.ndarray, L: int):
    """Images of basis states under each quimb Pauli term: (image states, amplitudes, source index).

    Labels ``x, y, z, +, -`` (Pauli matrices, sigma^+ = |up><down|); site j is bit L-1-j, bit 0 = up.
    """
    imgs, amps, src = [], [], []
    idx = np.arange(states.size)
    for coef, *ops in terms:
        x = states.copy()
        a = np.full(states.size, complex(coef))
        for label, site in reversed(ops):  # the rightmost factor acts first
            bit = (x >> (L - 1 - site)) & 1
            m = np.int64(1) << (L - 1 - site)
            if label == "z":
                a = a * (1 - 2 * bit)
            elif label == "x":
                x = x ^ m
            elif label == "y":
                a = a * np.where(bit == 0, 1j, -1j)
                x = x ^ m
            elif label == "+":
                a = a * bit
                x = x & ~m
            elif label == "-":
                a = a * (1 - bit)
                x = x | m
            else:  # pragma: no cover - the models only use these labels
                raise ValueError(f"unknown operator label {label!r} in a chain term")
        nz = a != 0
        imgs.append(x[nz])
        amps.append(a[nz])
        src.append(idx[nz])
    return np.concatenate(imgs), np.concatenate(amps), np.concatenate(src)


def _sector_hamiltonian(chain, label) -> sp.csr_array:
    r"""Sector block :math:`H_\chi = P_\chi^\dagger H P_\chi` built from the representatives only.

    For the symmetric states :math:`|\chi, r\rangle` of :func:`davies_mb.sectors.sector_basis`,
    :math:`\langle\chi, r'|H|\chi, r\rangle = \sum_{s} \langle s|H|r\rangle\, \chi(g_s)^*
    \sqrt{|\mathrm{Stab}(r')| / |\mathrm{Stab}(r)|}`, the sum over the images :math:`s` of :math:`r` under the
    terms of :math:`H`, :math:`g_s s = r'` the representative of :math:`s`. Memory :math:`O(D \times n_\text{terms})`
    instead of the :math:`S^z`-sector Hamiltonian.
    """
    from .sectors import _normalize, _orbit_data, _is_real

    L = chain.L
    norm = _normalize(L, **label)
    _, rep, _, stab, good, _ = _orbit_data(L, norm)
    reps = np.unique(rep[good])
    rstab = _orbit_data(L, norm, states=reps)[3]
    img, amp, src = _apply_terms(chain.terms, reps, L)
    _, irep, iq, istab, igood, _ = _orbit_data(L, norm, states=img)
    col = np.searchsorted(reps, irep)
    col = np.minimum(col, reps.size - 1)
    keep = igood & (reps[col] == irep)
    phase = np.exp(-1j * np.pi * iq[keep] / L)
    val = amp[keep] * phase * np.sqrt(istab[keep] / rstab[src[keep]])
    D = reps.size
    Hs = sp.csr_array((val, (col[keep], src[keep])), shape=(D, D))
    Hs.sum_duplicates()
    if _is_real(L, norm["k"]) and not np.any(np.abs(Hs.data.imag) > 1e-14 * max(1.0, np.abs(Hs.data).max())):
        Hs = sp.csr_array(Hs.real)
    return Hs


def _rk_real_basis(P, states, L) -> sp.csr_array:
    """Unitary ``F`` (sparse, D x D) with ``(P F)^dag H (P F)`` real for every real, reflection-symmetric ``H``.

    ``P`` has rows labelled by the basis states ``states`` (ascending integers); ``A v = R conj(v)``.
    """
    from .sectors import _reflect

    perm = np.searchsorted(states, _reflect(states, L))
    if not np.array_equal(states[perm], _reflect(states, L)):  # pragma: no cover - R keeps S^z
        raise RuntimeError("the reflection does not map the row basis to itself")
    AP = sp.csr_array(P.conj()[perm])  # (A P)[i] = conj(P)[position of R(state i)]
    Q = sp.csr_array(P.conj().T @ AP).tocoo()  # A e_j = Q[:, j]: one entry per column
    D = P.shape[1]
    keep = np.abs(Q.data) > 1e-12
    col, row, q = Q.col[keep], Q.row[keep], Q.data[keep]
    if col.size != D or np.unique(col).size != D or not np.allclose(np.abs(q), 1.0, atol=1e-10):
        raise RuntimeError("R K is not a generalized permutation of the sector basis")  # pragma: no cover
    order = np.argsort(col)
    pi, q = row[order], q[order]
    j = np.arange(D)
    fixed = pi == j
    first = (pi > j)  # each pair once, from its smaller member
    m = pi[first]
    jf = j[fixed]
    jp = j[first]
    qp = q[first]
    r2 = 1.0 / np.sqrt(2.0)
    n_fixed, n_pairs = jf.size, jp.size
    # columns: fixed points, then (f1, f2) for every pair
    rows_ = np.concatenate([jf, jp, m, jp, m])
    cols_ = np.concatenate([np.arange(n_fixed),
                            n_fixed + 2 * np.arange(n_pairs), n_fixed + 2 * np.arange(n_pairs),
                            n_fixed + 2 * np.arange(n_pairs) + 1, n_fixed + 2 * np.arange(n_pairs) + 1])
    vals = np.concatenate([np.exp(0.5j * np.angle(q[fixed])), np.full(n_pairs, r2, dtype=complex), r2 * qp,
                           np.full(n_pairs, 1j * r2), -1j * r2 * qp])
    return sp.csr_array((vals, (rows_, cols_)), shape=(D, D))


# --------------------------------------------------------------------------------------------------
# pooled level statistics
# --------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class LevelStatistics:
    r"""Gap-ratio statistics pooled over symmetry sectors.

    Attributes
    ----------
    ratios : ndarray
        All gap ratios, sector after sector (``nan`` entries from exact degeneracies removed).
    mean : float
        :math:`\langle r\rangle` over all ratios.
    sem : float
        Standard error of the mean, :math:`\mathrm{std}(r)/\sqrt{n_r}` (neighbouring ratios are weakly
        correlated, so this is a slight underestimate).
    n_levels : int
        Eigenvalues in all sectors before edge discarding.
    n_used : int
        Eigenvalues kept after discarding the edges of each sector.
    n_sectors : int
        Number of sectors pooled.
    discard : float
        Fraction discarded at each edge of each sector.
    sectors : tuple of dict
        The sector labels.
    sector_means : ndarray
        :math:`\langle r\rangle` in each sector (``nan`` for sectors with fewer than 3 kept levels).
    n_degenerate : int
        Number of ``0/0`` ratios left out (exact degeneracies inside a sector).
    """

    ratios: np.ndarray
    mean: float
    sem: float
    n_levels: int
    n_used: int
    n_sectors: int
    discard: float
    sectors: tuple
    sector_means: np.ndarray
    n_degenerate: int = 0

    @property
    def fraction_used(self) -> float:
        """Fraction of all eigenvalues that entered the ratios."""
        return self.n_used / self.n_levels if self.n_levels else 0.0

    def histogram(self, bins: int = 20):
        """Normalized histogram of the ratios on ``[0, 1]``: ``(bin centers, density)``."""
        dens, edges = np.histogram(self.ratios, bins=bins, range=(0.0, 1.0), density=True)
        return 0.5 * (edges[1:] + edges[:-1]), dens

    def closest(self) -> str:
        """The reference ensemble (``"poisson"``, ``"goe"``, ``"gue"``) whose :data:`MEAN_R` is closest."""
        return min(_ENSEMBLES, key=lambda e: abs(MEAN_R[e] - self.mean))

    def to_dict(self) -> dict:
        """Summary (no ratios) for JSON output."""
        return dict(mean=self.mean, sem=self.sem, n_levels=self.n_levels, n_used=self.n_used,
                    n_ratios=int(self.ratios.size), fraction_used=self.fraction_used,
                    n_sectors=self.n_sectors, discard=self.discard, n_degenerate=self.n_degenerate,
                    closest=self.closest(), sectors=list(self.sectors),
                    sector_means=[None if np.isnan(m) else float(m) for m in self.sector_means])


def _pool(groups, labels, discard) -> LevelStatistics:
    rs, means, n_levels, n_used, n_bad = [], [], 0, 0, 0
    for e in groups:
        e = np.asarray(e, dtype=float)
        r = gap_ratios(e, discard=discard)
        bad = np.isnan(r)
        n_bad += int(bad.sum())
        r = r[~bad]
        rs.append(r)
        means.append(float(r.mean()) if r.size else np.nan)
        n_levels += e.size
        sl = _kept(e.size, discard)
        n_used += max(0, (sl.stop - sl.start)) if e.size >= 3 else 0
    ratios = np.concatenate(rs) if rs else np.zeros(0)
    if ratios.size == 0:
        raise ValueError("no gap ratios: every sector has fewer than 3 levels after discarding the edges")
    if n_bad:
        warnings.warn(
            f"{n_bad} gap ratios are 0/0 (exactly degenerate levels inside a sector) and were left out; "
            "this signals an unresolved symmetry or a fine-tuned point (e.g. Delta = cos(pi/3))",
            stacklevel=3)
    sem = float(ratios.std(ddof=1) / np.sqrt(ratios.size)) if ratios.size > 1 else float("nan")
    return LevelStatistics(ratios=ratios, mean=float(ratios.mean()), sem=sem, n_levels=int(n_levels),
                           n_used=int(n_used), n_sectors=len(groups), discard=discard,
                           sectors=tuple(labels), sector_means=np.array(means), n_degenerate=n_bad)


def level_statistics(source, *, chain=None, discard: float = 0.1) -> LevelStatistics:
    r"""Gap-ratio statistics of a spectrum, sector by sector, pooled.

    Parameters
    ----------
    source : Spectrum, array_like or sequence of array_like
        A :class:`~davies_mb.spectrum.Spectrum` (its symmetry blocks are treated as separate sectors:
        ratios are formed inside each block), one array of eigenvalues (one sector), or a list of arrays
        (one per sector).
    chain : SpinChain, keyword-only, optional
        The chain the spectrum belongs to. With it, a spectrum whose blocks leave one of the chain's
        symmetries unresolved triggers a warning: mixed sectors fake Poisson statistics. (Without it the
        check cannot be made.)
    discard : float, keyword-only
        Fraction of each sector's levels dropped at each edge (default 0.1), see :func:`gap_ratios`.

    Returns
    -------
    LevelStatistics
    """
    from .spectrum import Spectrum

    discard = _check_discard(discard)
    if chain is not None:
        _check_chain(chain)
    if isinstance(source, Spectrum):
        groups = [source.energies[np.sort(b.cols)] for b in source.blocks]
        labels = [dict(source.sector) if source.sector else dict(b.label) for b in source.blocks]
    elif isinstance(source, np.ndarray) and source.ndim == 1 or (
            isinstance(source, Sequence) and source and all(isinstance(x, numbers.Real) for x in source)):
        groups, labels = [np.asarray(source)], [{}]
    elif isinstance(source, Sequence) and source:
        groups, labels = [np.asarray(g) for g in source], [{} for _ in source]
    else:
        raise TypeError(
            f"source must be a Spectrum, an array of eigenvalues or a list of such arrays, got {type(source).__name__}"
        )
    groups = [_as_energies("source", g) for g in groups]
    if chain is not None:
        missing = sorted({m for lab in labels for m in _missing_symmetries(chain, lab)})
        if missing:
            warnings.warn(
                f"the spectrum mixes sectors of the chain's symmetries {missing} (blocks {labels[:3]}"
                f"{' ...' if len(labels) > 3 else ''}): levels of independent sectors are uncorrelated, "
                "which fakes Poisson statistics, and symmetry-related sectors (k and L-k) are exactly degenerate, "
                "which drives r to 0. Use dm.eth.sector_level_statistics(chain, sz=...) or "
                "diagonalize each fully resolved sector", stacklevel=2)
    return _pool(groups, labels, discard)


def sector_level_statistics(chain, sz=0, *, discard: float = 0.1) -> LevelStatistics:
    r"""Gap-ratio statistics pooled over the independent fully resolved sectors of a chain at total :math:`S^z` = ``sz``.

    Every sector of :func:`fully_resolved_sectors` with momentum :math:`k \le L/2` (or without momentum) is
    built and diagonalized (eigenvalues only, real arithmetic where the block is real, see
    :func:`sector_eigensystems`), the ratios of each are formed after discarding ``discard`` of its levels
    at each edge, and all are pooled. Of each pair of momenta :math:`k` and :math:`L - k` only
    :math:`k \le L/2` is pooled: their spectra coincide exactly (complex conjugation maps one sector onto
    the other when H is real, and so does the reflection when H has it), and counting both would repeat
    every ratio, leaving the mean unchanged but understating the standard error by up to :math:`\sqrt 2`.
    For the periodic XXZ chain at :math:`S^z = 0` the pooled sectors hold about half of the
    :math:`\binom{L}{L/2}` levels; ``n_levels`` counts those pooled.

    Parameters
    ----------
    chain : SpinChain
    sz : float or None
        Total :math:`S^z` (``None`` for a chain that does not conserve it: all sectors of its other symmetries).
    discard : float, keyword-only
        Fraction discarded at each edge of each sector (default 0.1).

    Returns
    -------
    LevelStatistics
    """
    discard = _check_discard(discard)
    chain = _check_chain(chain)
    groups, labels = [], []
    # k and L - k are exactly degenerate (H real, or reflection-symmetric): keep one of each pair, k <= L/2
    real = all(np.isreal(coef) and all(lab != "y" for lab, _ in ops) for coef, *ops in chain.terms)
    paired = real or "parity" in chain.symmetries
    independent = [lab for lab in fully_resolved_sectors(chain, sz) if not paired or 2 * lab.get("k", 0) <= chain.L]
    for label, E, _, _, _ in sector_eigensystems(chain, sz, vectors=False, sectors=independent):
        groups.append(E)
        labels.append(label)
    return _pool(groups, labels, discard)


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


# --------------------------------------------------------------------------------------------------
# quench dynamics and dephasing
# --------------------------------------------------------------------------------------------------
def symmetrize(chain, op, symmetries=None) -> sp.csr_array:
    r"""Group average :math:`\bar O = |G|^{-1} \sum_{g \in G} g\, O\, g^\dagger` over the chain's symmetries.

    :math:`G` is generated by the translations :math:`T^n` (``"k"``), the reflection :math:`R`
    (``"parity"``) and the spin flip :math:`F` (``"flip"``) that the chain has (or those named in
    ``symmetries``); with ``"sz"`` only the :math:`S^z`-conserving part (entries between basis states of
    equal magnetization) is kept. :math:`\bar O` leaves every symmetry sector invariant, and for every
    state :math:`\psi` invariant (up to a phase) under :math:`G`, :math:`\langle\psi|\bar O|\psi\rangle
    = \langle\psi|O|\psi\rangle`; inside one sector the matrix elements of :math:`O` and :math:`\bar O`
    coincide. Example: :math:`S^z_0 S^z_1 \to L^{-1}\sum_j S^z_j S^z_{j+1}` for a periodic chain.

    Parameters
    ----------
    chain : SpinChain
    op : array_like or sparse matrix
        Operator in the full computational basis (site 0 = most significant bit).
    symmetries : iterable of str, optional
        Subset of ``chain.symmetries`` (default: all of them).

    Returns
    -------
    scipy.sparse.csr_array
    """
    from .sectors import _reflect, _translate

    chain = _check_chain(chain)
    syms = set(chain.symmetries) if symmetries is None else set(symmetries)
    bad = syms - set(chain.symmetries)
    if bad:
        raise ValueError(f"symmetries {sorted(bad)} are not symmetries of the chain (it has {sorted(chain.symmetries)})")
    op = _checks.as_operator("op", op, chain.dim, hermitian=False)
    O = sp.csr_array(op) if not sp.issparse(op) else op
    L = chain.L
    b = np.arange(chain.dim, dtype=np.int64)
    perms = [b]
    if "k" in syms:
        perms = [b]
        x = b
        for _ in range(1, L):
            x = _translate(x, L)
            perms.append(x)
    if "parity" in syms:
        perms = perms + [_reflect(p, L) for p in perms]
    if "flip" in syms:
        mask = np.int64((1 << L) - 1)
        perms = perms + [p ^ mask for p in perms]
    out = None
    for p in perms:
        term = O[p][:, p]
        out = term if out is None else out + term
    out = sp.csr_array(out / len(perms))
    if "sz" in syms:
        coo = out.tocoo()
        pop = np.zeros(chain.dim, dtype=np.int64)  # number of down spins of every basis state
        for j in range(L):
            pop += (b >> j) & 1
        keep = pop[coo.row] == pop[coo.col]
        out = sp.csr_array((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=out.shape)
    out.eliminate_zeros()
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class QuenchResult:
    r"""Expectation values after a quench of an isolated chain, assembled sector by sector.

    Attributes
    ----------
    times : ndarray
    values : ndarray, shape (n_ops, n_times)
        :math:`\langle\psi(t)|O|\psi(t)\rangle`.
    diagonal : ndarray, shape (n_ops,)
        Diagonal-ensemble (infinite-time average) values
        :math:`\sum_\chi w_\chi \operatorname{tr}(O \rho^{(\chi)}_{DE})`.
    energy : float
        :math:`\langle\psi|H|\psi\rangle`.
    sectors : tuple of dict
        The sectors with weight.
    weights : ndarray
        :math:`w_\chi = \lVert P_\chi^\dagger \psi\rVert^2` (they add up to 1).
    """

    times: np.ndarray
    values: np.ndarray
    diagonal: np.ndarray
    energy: float
    sectors: tuple
    weights: np.ndarray


def quench(chain, state, ops, times, sz="auto") -> QuenchResult:
    r"""Unitary dynamics of a state vector, sector by sector: :math:`\langle O\rangle(t) = \sum_\chi w_\chi \langle\psi_\chi(t)|O|\psi_\chi(t)\rangle`.

    The state is split into its components :math:`\psi_\chi = P_\chi P_\chi^\dagger\psi` in the fully
    resolved sectors (:func:`fully_resolved_sectors`); each is evolved with ``dm.diagonalize(chain,
    sector=...)`` and :func:`davies_mb.dynamics.unitary_expect`. Exact when every operator leaves the sectors
    invariant (use :func:`symmetrize`; a non-invariant operator raises, because the cross-sector terms
    would be missing). The infinite-time average is the diagonal ensemble of each component
    (PHYSICS.md section 4), the cross-sector coherences averaging to zero only for invariant operators,
    which are required here.

    Parameters
    ----------
    chain : SpinChain
    state : array_like, shape (2**L,)
        Normalized state vector in the computational basis (e.g. ``dm.product_state(L, "neel")``).
    ops : operator or list of operators
        Hermitian, sector-invariant operators in the full computational basis.
    times : array_like
    sz : "auto", float or None
        Total :math:`S^z` of the state (``"auto"``: read from the state, which must have a definite one).

    Returns
    -------
    QuenchResult
    """
    from .dynamics import unitary_expect
    from .sectors import sector_basis
    from .spectrum import diagonalize

    chain = _check_chain(chain)
    psi = _checks.check_density_matrix("state", state, chain.dim)
    if psi.ndim != 1:
        raise ValueError(f"state must be a state vector of length 2**L = {chain.dim} (quench evolves pure states), "
                         f"got shape {psi.shape}")
    ops = list(ops) if isinstance(ops, (list, tuple)) else [ops]
    ops = [_checks.as_operator(f"ops[{i}]", o, chain.dim) for i, o in enumerate(ops)]
    t = np.asarray(times, dtype=float)
    if sz == "auto":
        if "sz" in chain.symmetries:
            nz = np.flatnonzero(np.abs(psi) > 1e-14)
            pops = {bin(int(i)).count("1") for i in nz}
            if len(pops) != 1:
                raise ValueError("state has no definite total S^z; pass sz=None to use the other symmetries only")
            sz = (chain.L - 2 * pops.pop()) / 2
            sz = int(sz) if sz == int(sz) else sz
        else:
            sz = None
    values = np.zeros((len(ops), t.size))
    diag = np.zeros(len(ops))
    labels, weights = [], []
    H = chain.hamiltonian()
    energy = float(np.real(np.vdot(psi, H @ psi)))
    for label in fully_resolved_sectors(chain, sz):
        P = sector_basis(chain.L, **label)
        c = P.conj().T @ psi
        w = float(np.vdot(c, c).real)
        if w < 1e-14:
            continue
        comp = P @ (c / np.sqrt(w))
        spec = diagonalize(chain, sector=label)
        values += w * unitary_expect(spec, ops, comp, t)
        ce = spec.vectors.conj().T @ comp
        same = spec.level_index[:, None] == spec.level_index[None, :]
        for i, o in enumerate(ops):
            Oe = spec.to_eigenbasis(o, check_sector=False)  # checked by unitary_expect above
            diag[i] += w * float(np.real(np.sum(same * np.outer(ce.conj(), ce) * Oe)))
        labels.append(label)
        weights.append(w)
    if abs(sum(weights) - 1) > 1e-8:
        raise ValueError(f"the state has weight {sum(weights):.3g} in the S^z = {sz} sector (not 1): pass the sz of "
                         "the state, or sz='auto'")
    return QuenchResult(times=t, values=values, diagonal=diag, energy=energy, sectors=tuple(labels),
                        weights=np.array(weights))


def dephasing_time(times, values, final, *, fraction: float = math.exp(-1)) -> float:
    r"""First time at which the deviation from the final value has shrunk to ``fraction`` of its initial size.

    .. math:: t_\phi = \min\{t : |O(t) - O_\infty| \le f\,|O(0) - O_\infty|\},\qquad f = e^{-1}

    by linear interpolation between the grid points. ``O_inf`` is normally the diagonal-ensemble value
    (:attr:`QuenchResult.diagonal`). Returns ``inf`` when the deviation never gets that small on the grid.
    """
    t = np.asarray(times, dtype=float)
    y = np.abs(np.asarray(values, dtype=float) - float(final))
    if t.ndim != 1 or t.shape != y.shape or t.size < 2:
        raise ValueError(f"times and values must be 1-D of equal length >= 2, got {t.shape} and {y.shape}")
    f = _check_window("fraction", fraction, upper=1.0)
    target = f * y[0]
    if y[0] == 0:
        raise ValueError("the initial value equals the final one: no relaxation to time")
    below = np.flatnonzero(y <= target)
    if below.size == 0:
        return float("inf")
    i = int(below[0])
    if i == 0:
        return float(t[0])
    # linear interpolation between t[i-1] (above) and t[i] (below)
    return float(t[i - 1] + (y[i - 1] - target) / (y[i - 1] - y[i]) * (t[i] - t[i - 1]))


def thermal_value(energies, values, energy) -> tuple:
    r"""Canonical average at the temperature fixed by the mean energy.

    Solves :math:`\sum_n E_n e^{-\beta E_n} / Z = E` for :math:`\beta` (monotonic in :math:`\beta`;
    negative :math:`\beta` above the infinite-temperature energy) and returns
    :math:`\langle O\rangle_\beta = \sum_n O_{nn} e^{-\beta E_n} / Z`. With the eigen-data of all states at
    fixed :math:`S^z` (e.g. :class:`DiagonalETH`'s ``energies`` and ``values``) this is the canonical
    ensemble at fixed magnetization, the thermal prediction for a quench from a state of that
    :math:`S^z` and energy :math:`E = \langle\psi|H|\psi\rangle`.

    Returns
    -------
    (beta, value)
    """
    from scipy.optimize import brentq

    E = np.asarray(energies, dtype=float)
    O = np.asarray(values, dtype=float)
    if E.shape != O.shape or E.ndim != 1 or E.size < 2:
        raise ValueError(f"energies and values must be 1-D of equal length >= 2, got {E.shape} and {O.shape}")
    energy = float(energy)
    if not E.min() < energy < E.max():
        raise ValueError(f"energy={energy} must lie strictly inside the spectrum [{E.min()}, {E.max()}]")
    scale = 1.0 / max(np.std(E), 1e-300)

    def mean(beta, x=E):
        w = np.exp(-beta * (E - (E.min() if beta > 0 else E.max())))
        return float(np.sum(w * x) / np.sum(w))

    bmax = 1.0 * scale
    while mean(bmax) > energy and bmax < 1e6 * scale:
        bmax *= 2
    bmin = -1.0 * scale
    while mean(bmin) < energy and bmin > -1e6 * scale:
        bmin *= 2
    beta = brentq(lambda b: mean(b) - energy, bmin, bmax, xtol=1e-14 * scale, rtol=1e-13)
    return float(beta), mean(beta, O)
