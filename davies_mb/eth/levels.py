"""Gap-ratio level statistics of one sector, or pooled over the fully resolved sectors of a chain.

Definitions, reference values and the treatment of edges and mixed sectors: :mod:`davies_mb.eth`.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from collections.abc import Sequence

import numpy as np

from .. import _checks
from .resolved import _check_chain, _missing_symmetries, fully_resolved_sectors, sector_eigensystems

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


def _drop_momentum_twins(groups, labels, L: int):
    r"""Keep one block of each exactly degenerate momentum pair :math:`k`, :math:`L - k` (the :math:`k \le L/2` one).

    The pair's spectra coincide when H is real or reflection symmetric; pooling both would repeat every
    gap ratio (mean unchanged, standard error understated by up to :math:`\sqrt 2`). A block is dropped only
    when its twin (same other labels, momentum :math:`L - k`) is present and the two spectra agree to
    :math:`10^{-9}` relative, so a chain without that symmetry keeps both.
    """
    key = {tuple(sorted(lab.items())): i for i, lab in enumerate(labels)}
    keep = []
    for i, lab in enumerate(labels):
        k = lab.get("k")
        if k is not None and 2 * k > L:
            j = key.get(tuple(sorted(dict(lab, k=L - k).items())))
            if j is not None and groups[j].size == groups[i].size:
                scale = max(1.0, float(np.max(np.abs(groups[i]), initial=0.0)))
                if np.allclose(np.sort(groups[i]), np.sort(groups[j]), rtol=0, atol=1e-9 * scale):
                    continue
        keep.append(i)
    return [groups[i] for i in keep], [labels[i] for i in keep]


def level_statistics(source, *, chain=None, discard: float = 0.1) -> LevelStatistics:
    r"""Gap-ratio statistics of a spectrum, sector by sector, pooled.

    Parameters
    ----------
    source : Spectrum, array_like or sequence of array_like
        A :class:`~davies_mb.spectrum.Spectrum` (its symmetry blocks are treated as separate sectors:
        ratios are formed inside each block; of an exactly degenerate momentum pair :math:`k`, :math:`L - k`
        only :math:`k \le L/2` is pooled, as in :func:`sector_level_statistics`), one array of eigenvalues
        (one sector), or a list of arrays (one per sector).
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
    from ..spectrum import Spectrum

    discard = _check_discard(discard)
    if chain is not None:
        _check_chain(chain)
    if isinstance(source, Spectrum):
        groups = [source.energies[np.sort(b.cols)] for b in source.blocks]
        labels = [dict(source.sector) if source.sector else dict(b.label) for b in source.blocks]
        groups, labels = _drop_momentum_twins(groups, labels, int(round(np.log2(source.dim))))
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
