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

from .levels import (MEAN_R, SURMISE_MEAN_R, LevelStatistics, gap_ratios, level_statistics, mean_gap_ratio,
                     ratio_distribution, sector_level_statistics)
from .matrix_elements import DiagonalETH, OffDiagonalETH, diagonal_eth, exponential_rate, offdiagonal_eth
from .relaxation import QuenchResult, dephasing_time, quench, symmetrize, thermal_value
from .resolved import fully_resolved_sectors, sector_eigensystems

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
