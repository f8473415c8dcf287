"""Tests for davies_mb.eth: level statistics, diagonal / off-diagonal ETH, quench dynamics and dephasing.

References used here, none computed by the code under test:
* Atas, Bogomolny, Giraud, Roux, PRL 110, 084101 (2013): <r>_Poisson = 2 ln 2 - 1, <r>_GOE = 0.5307,
  <r>_GUE = 0.5996 (large matrices); the surmise means 4 - 2 sqrt(3) and 2 sqrt(3)/pi - 1/2.
* Seeded random matrices (GOE, GUE, Poisson levels) drawn with numpy.
* Dense Hamiltonians and operators built here from numpy Kronecker products (S = sigma/2, site 0 = the
  leftmost factor = the most significant bit), expm / eigh from numpy/scipy.
* Sector dimensions of QuSpin 1.0.1 (peer): computed in a scratch venv (``pip install quspin``, not a
  project dependency) with ``spin_basis_1d(L, Nup=L//2, kblock=k, pblock=p, zblock=z).Ns``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.integrate import quad

import davies_mb as dm
from davies_mb import eth

DELTA, J2 = 0.55, 0.5
POISSON, GOE, GUE = 2 * math.log(2) - 1, 0.5307, 0.5996


def chaotic(L):
    return dm.xxz(L, DELTA, j2=J2, bc="periodic")


def integrable(L):
    return dm.xxz(L, DELTA, bc="periodic")


# --------------------------------------------------------------------------------------------------
# independent dense constructions
# --------------------------------------------------------------------------------------------------
_S = {
    "x": np.array([[0, 1], [1, 0]], dtype=complex) / 2,
    "y": np.array([[0, -1j], [1j, 0]], dtype=complex) / 2,
    "z": np.array([[1, 0], [0, -1]], dtype=complex) / 2,
}


def product(factors, L):
    """Kronecker product over sites 0..L-1 (site 0 leftmost) of {site: 2x2}, identity elsewhere."""
    out = sp.identity(1, dtype=complex, format="csr")
    for j in range(L):
        out = sp.kron(out, sp.csr_matrix(factors.get(j, np.eye(2))), format="csr")
    return out


def site(a, j, L):
    return product({j: _S[a]}, L).toarray()


def dense_xxz(L, delta, j2):
    """Periodic H = sum_j S_j.S_{j+1} (Delta on zz) + J2 sum_j S_j.S_{j+2} (Delta on zz), dense and real."""
    H = sp.csr_matrix((2**L, 2**L), dtype=complex)
    for r, J in ((1, 1.0), (2, j2)):
        if J == 0:
            continue
        for j in range(L):
            m = (j + r) % L
            for a, c in (("x", 1.0), ("y", 1.0), ("z", delta)):
                H = H + J * c * product({j: _S[a], m: _S[a]}, L)
    H = H.toarray()
    assert np.allclose(H.imag, 0)
    return H.real


def sz0_rows(L):
    return np.array([b for b in range(2**L) if bin(b).count("1") == L // 2])


# --------------------------------------------------------------------------------------------------
# gap ratios and surmises
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ensemble,mean", [("poisson", 2 * math.log(2) - 1), ("goe", 4 - 2 * math.sqrt(3)),
                                           ("gue", 2 * math.sqrt(3) / math.pi - 0.5)])
def test_surmises_normalized_with_the_published_means(ensemble, mean):
    norm = quad(lambda r: eth.ratio_distribution(r, ensemble), 0, 1)[0]
    first = quad(lambda r: r * eth.ratio_distribution(r, ensemble), 0, 1)[0]
    assert_allclose(norm, 1.0, atol=1e-10)
    assert_allclose(first, mean, atol=1e-10)  # Atas et al. 2013, Table I (surmise column)
    assert eth.ratio_distribution(1.5, ensemble) == 0.0


def test_gap_ratios_by_hand_and_edges():
    e = np.array([0.0, 1.0, 3.0, 3.5, 6.0, 10.0])  # spacings 1, 2, 0.5, 2.5, 4
    assert_allclose(eth.gap_ratios(e[::-1], discard=0), [1 / 2, 0.5 / 2, 0.5 / 2.5, 2.5 / 4])
    # discard 0.2 of 6 levels: floor(1.2) = 1 level at each edge -> energies 1, 3, 3.5, 6
    assert_allclose(eth.gap_ratios(e, discard=0.2), [0.5 / 2, 0.5 / 2.5])
    assert eth.gap_ratios([0.0, 1.0]).size == 0
    r = eth.gap_ratios([0.0, 1.0, 1.0, 1.0, 2.0], discard=0)
    assert r[0] == 0 and np.isnan(r[1]) and r[2] == 0
    with pytest.warns(UserWarning, match="0/0"):
        assert eth.mean_gap_ratio([0.0, 1.0, 1.0, 1.0, 2.0], discard=0) == 0.0


def test_random_matrix_means_match_atas(rng):
    """GOE, GUE and Poisson levels give the large-matrix means of Atas et al. (bulk, edges discarded)."""
    n = 1200
    goe, gue = [], []
    for _ in range(6):
        A = rng.normal(size=(n, n))
        goe.append(eth.gap_ratios(np.linalg.eigvalsh(A + A.T)))
        B = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
        gue.append(eth.gap_ratios(np.linalg.eigvalsh(B + B.conj().T)))
    poisson = eth.gap_ratios(np.cumsum(rng.exponential(size=20000)))
    # standard errors ~ 0.003 (GOE/GUE, ~5700 ratios) and ~0.002 (Poisson, 16000 ratios)
    assert abs(np.mean(np.concatenate(goe)) - GOE) < 0.01
    assert abs(np.mean(np.concatenate(gue)) - GUE) < 0.01
    assert abs(np.mean(poisson) - POISSON) < 0.01


@pytest.mark.parametrize("bad,exc", [(0.5, ValueError), (-0.1, ValueError), ("a", TypeError), (True, TypeError)])
def test_discard_is_validated(bad, exc):
    with pytest.raises(exc, match="discard"):
        eth.gap_ratios(np.arange(10.0), discard=bad)


def test_energies_are_validated():
    with pytest.raises(ValueError, match="1-D"):
        eth.gap_ratios(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        eth.gap_ratios([0.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="at least 3"):
        eth.mean_gap_ratio([0.0, 1.0])
    with pytest.raises(ValueError, match="ensemble"):
        eth.ratio_distribution(0.5, "goa")


# --------------------------------------------------------------------------------------------------
# sectors: dimensions (QuSpin peer values) and eigenvalues (dense brute force)
# --------------------------------------------------------------------------------------------------
# QuSpin 1.0.1 spin_basis_1d(L, Nup=L//2, kblock=k, pblock=p, zblock=z).Ns (p=None: no pblock), computed in a
# scratch venv; keys (k, parity, flip).
QUSPIN_DIMS = {
    16: {(0, 1, 1): 257, (0, 1, -1): 183, (0, -1, 1): 158, (0, -1, -1): 212, (1, None, 1): 392,
         (1, None, -1): 408, (2, None, 1): 411, (2, None, -1): 397, (3, None, 1): 392, (3, None, -1): 408,
         (4, None, 1): 413, (4, None, -1): 396, (5, None, 1): 392, (5, None, -1): 408, (6, None, 1): 411,
         (6, None, -1): 397, (7, None, 1): 392, (7, None, -1): 408, (8, 1, 1): 239, (8, 1, -1): 166,
         (8, -1, 1): 175, (8, -1, -1): 230, (9, None, 1): 392, (9, None, -1): 408, (10, None, 1): 411,
         (10, None, -1): 397, (11, None, 1): 392, (11, None, -1): 408, (12, None, 1): 413, (12, None, -1): 396,
         (13, None, 1): 392, (13, None, -1): 408, (14, None, 1): 411, (14, None, -1): 397, (15, None, 1): 392,
         (15, None, -1): 408},
    18: {(0, 1, 1): 765, (0, 1, -1): 622, (0, -1, 1): 602, (0, -1, -1): 715, (1, None, 1): 1336,
         (1, None, -1): 1364, (2, None, 1): 1364, (2, None, -1): 1336, (3, None, 1): 1337, (3, None, -1): 1366,
         (4, None, 1): 1364, (4, None, -1): 1336, (5, None, 1): 1336, (5, None, -1): 1364, (6, None, 1): 1366,
         (6, None, -1): 1337, (7, None, 1): 1336, (7, None, -1): 1364, (8, None, 1): 1364, (8, None, -1): 1336,
         (9, 1, 1): 715, (9, 1, -1): 602, (9, -1, 1): 622, (9, -1, -1): 765, (10, None, 1): 1364,
         (10, None, -1): 1336, (11, None, 1): 1336, (11, None, -1): 1364, (12, None, 1): 1366,
         (12, None, -1): 1337, (13, None, 1): 1336, (13, None, -1): 1364, (14, None, 1): 1364,
         (14, None, -1): 1336, (15, None, 1): 1337, (15, None, -1): 1366, (16, None, 1): 1364,
         (16, None, -1): 1336, (17, None, 1): 1336, (17, None, -1): 1364},
    20: {(0, 1, 1): 2518},
    22: {(0, 1, 1): 8359},
}


def _key(label):
    return (label["k"], label.get("parity"), label["flip"])


@pytest.mark.parametrize("L", [16, 18])
def test_fully_resolved_sectors_match_quspin(L):
    chain = chaotic(L)
    labels = eth.fully_resolved_sectors(chain, 0)
    assert {_key(lab): dm.sector_dimension(chain, lab) for lab in labels} == QUSPIN_DIMS[L]
    assert sum(QUSPIN_DIMS[L].values()) == math.comb(L, L // 2)


@pytest.mark.parametrize("L", [20, 22])
def test_symmetric_block_dimension_matches_quspin(L):
    sector = dict(sz=0, k=0, parity=1, flip=1)
    assert dm.sector_dimension(chaotic(L), sector) == QUSPIN_DIMS[L][(0, 1, 1)]
    assert dm.sector_dimension(L, sector) == QUSPIN_DIMS[L][(0, 1, 1)]


def test_sector_dimension_accepts_a_chain_and_checks_its_symmetries():
    open_chain = dm.xxz(8, DELTA, j2=J2)  # open: no translation symmetry
    assert dm.sector_dimension(open_chain, dict(sz=0, parity=1)) == dm.sector_dimension(8, dict(sz=0, parity=1))
    with pytest.raises(ValueError, match="no translation symmetry"):
        dm.sector_dimension(open_chain, dict(sz=0, k=0))
    with pytest.raises(TypeError, match="sector must be a dict"):
        dm.sector_dimension(open_chain, [("sz", 0)])
    assert dm.sector_dimension(chaotic(10), None) == 2**10


def test_sector_eigenvalues_match_dense_brute_force():
    """Pooled fully resolved S^z = 0 sectors of L = 10 = eigenvalues of the dense S^z = 0 block (kron)."""
    L = 10
    rows = sz0_rows(L)
    H = dense_xxz(L, DELTA, J2)[np.ix_(rows, rows)]
    ours, kinds = [], []
    for label, E, U, P, _ in eth.sector_eigensystems(chaotic(L), 0, vectors=True):
        ours.append(E)
        kinds.append((label["k"] in (0, L // 2), np.isrealobj(U)))
    assert_allclose(np.sort(np.concatenate(ours)), np.linalg.eigvalsh(H), atol=1e-10)
    assert all(is_real for _, is_real in kinds)  # real arithmetic everywhere (R K real form for k != 0, L/2)
    plain = [(lab["k"] in (0, L // 2), np.isrealobj(U))
             for lab, _, U, _, _ in eth.sector_eigensystems(chaotic(L), 0, vectors=True, real_form=False)]
    assert all(real == is_real for real, is_real in plain)  # without it: real exactly where the block is real


def test_real_form_of_complex_momentum_blocks():
    """R K makes the k != 0, L/2 blocks real: same eigenvalues as the complex blocks, valid eigenvectors."""
    L = 10
    chain = chaotic(L)
    Hsz = dense_xxz(L, DELTA, J2)[np.ix_(sz0_rows(L), sz0_rows(L))]
    plain = {str(lab): E for lab, E, *_ in eth.sector_eigensystems(chain, 0, real_form=False)}
    n_complex = 0
    for lab, E, U, P, _ in eth.sector_eigensystems(chain, 0, vectors=True):
        assert np.isrealobj(U)
        n_complex += lab["k"] not in (0, L // 2)
        assert_allclose(E, plain[str(lab)], atol=1e-10)
        V = P @ U
        assert_allclose(V.conj().T @ V, np.eye(E.size), atol=1e-10)
        assert_allclose(Hsz @ V, V * E, atol=1e-10)
    assert n_complex == 16
    # a uniform field keeps k and parity (not flip): every block at S^z = 1 is real as well
    field = dm.xxz(L, DELTA, j2=J2, bc="periodic", hz=0.3)
    blocks = list(eth.sector_eigensystems(field, 1, vectors=True))
    assert all(np.isrealobj(U) for _, _, U, _, _ in blocks)
    rows = np.array([b for b in range(2**L) if bin(b).count("1") == L // 2 - 1])  # S^z = 1
    Hf = dense_xxz(L, DELTA, J2) + 0.3 * sum(site("z", j, L) for j in range(L)).real
    assert_allclose(np.sort(np.concatenate([E for _, E, _, _, _ in blocks])),
                    np.linalg.eigvalsh(Hf[np.ix_(rows, rows)]), atol=1e-10)


# --------------------------------------------------------------------------------------------------
# level statistics of the XXZ + J2 chain
# --------------------------------------------------------------------------------------------------
def _check_levels(L):
    st = eth.sector_level_statistics(chaotic(L), 0)
    pooled = {key: dim for key, dim in QUSPIN_DIMS[L].items() if 2 * key[0] <= L}  # k <= L/2 only
    assert st.n_levels == sum(pooled.values()) and st.n_sectors == len(pooled)
    assert 0.75 < st.fraction_used < 0.85  # 10 % of every sector discarded at each edge
    assert abs(st.mean - GOE) < 0.01, st.mean
    assert st.closest() == "goe"
    it = eth.sector_level_statistics(integrable(L), 0)
    assert abs(it.mean - POISSON) < 0.02, it.mean
    assert it.closest() == "poisson"
    return st, it


def test_level_statistics_L16_goe_and_poisson():
    _check_levels(16)


@pytest.mark.slow
def test_level_statistics_L18_goe_and_poisson():
    _check_levels(18)


def test_mixed_sectors_warn_and_bias_the_statistics():
    L = 12
    chain = chaotic(L)
    spec = dm.diagonalize(chain)  # S^z blocks only: momentum, parity and flip are mixed
    with pytest.warns(UserWarning, match=r"mixes sectors .*\['flip', 'k', 'parity'\]"):
        mixed = eth.level_statistics(spec, chain=chain)
    assert mixed.n_sectors == L + 1
    resolved = eth.sector_level_statistics(chain, 0)
    # uncorrelated sectors push <r> towards Poisson, the exactly degenerate k / L-k pairs below it (0.066 here)
    assert mixed.mean < POISSON - 0.2 and resolved.mean - mixed.mean > 0.3
    # a fully resolved sector spectrum does not warn
    one = dm.diagonalize(chain, sector=dict(sz=0, k=1, flip=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        st = eth.level_statistics(one, chain=chain)
    assert st.sectors == ({"sz": 0, "k": 1, "flip": 1},)
    # sz != 0 needs no flip, k != 0, L/2 no parity
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eth.level_statistics(dm.diagonalize(chain, sector=dict(sz=1, k=2)), chain=chain)
    with pytest.warns(UserWarning, match=r"\['parity'\]"):
        eth.level_statistics(dm.diagonalize(chain, sector=dict(sz=1, k=0)), chain=chain)


def test_pooled_statistics_count_each_k_L_minus_k_pair_once():
    """k and L-k sectors are exactly degenerate: pooled statistics use k <= L/2 only (issue 10, item 8)."""
    L = 12
    chain = chaotic(L)
    labels = eth.fully_resolved_sectors(chain, 0)
    spectra = {tuple(sorted(lab.items())): dm.diagonalize(chain, sector=lab).energies for lab in labels}
    # the degeneracy that made the old pooling count every ratio twice
    for lab in labels:
        if 0 < lab["k"] < L / 2:
            twin = dict(lab, k=L - lab["k"])
            assert_allclose(spectra[tuple(sorted(lab.items()))], spectra[tuple(sorted(twin.items()))], atol=1e-10)
    st = eth.sector_level_statistics(chain, 0)
    kept = [lab for lab in labels if 2 * lab["k"] <= L]
    assert list(st.sectors) == kept and st.n_sectors == len(kept) == 4 + 2 * (L // 2 - 1) + 4  # parity, flip at k = 0, L/2
    # the pooled ratios are exactly those of the independent sectors, computed here from dm.diagonalize
    ratios = np.concatenate([eth.gap_ratios(spectra[tuple(sorted(lab.items()))]) for lab in kept])
    assert_allclose(np.sort(st.ratios), np.sort(ratios), atol=1e-10)
    assert st.n_levels == sum(spectra[tuple(sorted(lab.items()))].size for lab in kept)
    # pooling every sector (the old way) repeats the k != 0, L/2 ratios: about the same mean, but a
    # standard error understated by close to sqrt(2) since most sectors come in pairs
    both = np.concatenate([eth.gap_ratios(e) for e in spectra.values()])
    old_sem = both.std(ddof=1) / np.sqrt(both.size)
    assert abs(both.mean() - st.mean) < st.sem
    assert 1.2 < st.sem / old_sem < np.sqrt(2) + 1e-9
    assert_allclose(st.sem, ratios.std(ddof=1) / np.sqrt(ratios.size), rtol=1e-12)


def test_level_statistics_inputs():
    st = eth.level_statistics([np.arange(10.0) ** 1.5, np.arange(8.0)], discard=0)
    assert st.n_sectors == 2 and st.n_levels == 18 and st.ratios.size == 8 + 6
    assert_allclose(st.sector_means[1], 1.0)
    with pytest.raises(TypeError, match="source"):
        eth.level_statistics("energies")
    with pytest.raises(TypeError, match="SpinChain"):
        eth.sector_level_statistics(np.eye(4))
    with pytest.raises(ValueError, match="does not conserve total S\\^z"):
        eth.fully_resolved_sectors(dm.tfim(6, 1.0, h=0.3, bc="periodic"), sz=0)


# --------------------------------------------------------------------------------------------------
# diagonal ETH
# --------------------------------------------------------------------------------------------------
def test_eigenstate_expectations_against_a_dense_trace():
    """sum_n O_nn exp(-beta E_n) over all sectors = tr_{S^z=0}(O exp(-beta H)) from dense kron matrices."""
    L, beta = 8, 0.7
    chain = chaotic(L)
    O = site("z", 0, L) @ site("z", 1, L)
    d = eth.diagonal_eth(chain, chain.op("z", 0) @ chain.op("z", 1), 0)
    rows = sz0_rows(L)
    H = dense_xxz(L, DELTA, J2)[np.ix_(rows, rows)]
    ref = np.trace(O.real[np.ix_(rows, rows)] @ sla.expm(-beta * H))
    assert_allclose(np.sum(d.values * np.exp(-beta * d.energies)), ref, rtol=1e-10)
    assert d.values.size == math.comb(L, L // 2)


def _fluctuations(factory, sizes):
    out = []
    for L in sizes:
        chain = factory(L)
        out.append(eth.diagonal_eth(chain, chain.op("z", 0) @ chain.op("z", 1), 0).fluctuation)
    return np.array(out)


def test_diagonal_eth_fluctuations_decay_exponentially_only_when_chaotic():
    sizes = [10, 12, 14, 16]
    fc = _fluctuations(chaotic, sizes)
    fi = _fluctuations(integrable, sizes)
    rate_c, _, res_c = eth.exponential_rate(sizes, fc)
    rate_i, _, _ = eth.exponential_rate(sizes, fi)
    # chaotic: |O_{n+1,n+1} - O_nn| ~ D^{-1/2} ~ 2^{-L/2}: rate near ln(2)/2 = 0.35, a clean exponential
    assert 0.2 < rate_c < 0.45 and res_c < 0.1, (fc, rate_c, res_c)
    assert np.all(np.diff(fc) < 0)
    # integrable: the O_nn keep scattering (the other conserved charges): far slower decay
    assert rate_i < 0.3 * rate_c, (fi, rate_i)
    assert fi[-1] > 3 * fc[-1]


def test_microcanonical_average_and_window():
    chain = chaotic(12)
    d = eth.diagonal_eth(chain, chain.op("z", 0) @ chain.op("z", 1), 0, window=0.1, mc_width=0.02)
    inside = d.in_window
    assert inside.sum() == d.mc_deviations.size > 50
    e_win = d.energy_density[inside]
    assert np.all(np.abs(e_win - d.center) <= 0.1)
    # recompute the shell average of one state by hand
    i = np.flatnonzero(inside)[7]
    width = d.energies.max() - d.energies.min()
    shell = np.abs(d.energies - d.energies[i]) <= 0.02 * width
    assert_allclose(d.mc_deviations[7], d.values[i] - d.values[shell].mean(), atol=1e-13)
    assert d.mc_deviation < 0.05
    with pytest.raises(ValueError, match="window"):
        eth.diagonal_eth(chain, chain.op("z", 0), 0, window=0.7)


# --------------------------------------------------------------------------------------------------
# off-diagonal ETH
# --------------------------------------------------------------------------------------------------
def test_offdiagonal_elements_against_dense_frobenius_norm():
    """window covering everything: sum |O_mn|^2 (m != n) + sum O_nn^2 = ||O_sym||_F^2 on S^z = 0, with
    O_sym = L^{-1} sum_j S^z_j S^z_{j+3} built by hand (the symmetric part of S^z_0 S^z_3 for this chain)."""
    L = 10
    chain = chaotic(L)
    op = chain.op("z", 0) @ chain.op("z", 3)
    off = eth.offdiagonal_eth(chain, op, 0, window=0.5, center=0.5)
    diag = eth.diagonal_eth(chain, op, 0, window=0.5, center=0.5)
    rows = sz0_rows(L)
    Osym = sum(site("z", j, L) @ site("z", (j + 3) % L, L) for j in range(L)).real[np.ix_(rows, rows)] / L
    assert_allclose(off.abs2.sum() + np.sum(diag.values**2), np.sum(Osym**2), rtol=1e-10)
    # and the symmetrize helper builds the same operator
    assert_allclose(eth.symmetrize(chain, op).toarray()[np.ix_(rows, rows)], Osym, atol=1e-14)


def test_gaussianity_ratio_is_pi_over_2_for_the_chaotic_chain():
    """S^z_0 S^z_3: a local observable orthogonal to the energy density (which contains only the distance-1
    and distance-2 couplings); measured Gamma = 1.607 at L = 16 for |omega| <= 0.2."""
    L = 16
    chain = chaotic(L)
    off = eth.offdiagonal_eth(chain, chain.op("z", 0) @ chain.op("z", 3), 0, omega_max=0.5)
    assert off.abs2.size > 10000
    assert abs(off.gaussianity(0.2) - np.pi / 2) < 0.05
    w, f2 = off.spectral_function(bins=10, omega_max=0.5)
    assert np.all(np.isfinite(f2)) and np.all(f2 > 0)


def test_gaussianity_ratio_fails_for_the_integrable_chain():
    """Integrable XXZ: many near-zero elements, heavy tails (measured 2.29 at L = 14; the chaotic chain 1.63)."""
    chain = integrable(14)
    off = eth.offdiagonal_eth(chain, chain.op("z", 0) @ chain.op("z", 3), 0, omega_max=0.5)
    assert off.gaussianity(0.2) > 2.0


# --------------------------------------------------------------------------------------------------
# quench dynamics and dephasing
# --------------------------------------------------------------------------------------------------
def test_quench_matches_full_space_brute_force():
    L = 8
    chain = chaotic(L)
    psi = dm.product_state(L, "neel")
    O = eth.symmetrize(chain, chain.op("z", 0) @ chain.op("z", 1))
    times = np.linspace(0.0, 6.0, 13)
    q = eth.quench(chain, psi, [O], times)
    H = dense_xxz(L, DELTA, J2)
    Zd = site("z", 0, L) @ site("z", 1, L)
    ref = [np.vdot(v, Zd @ v).real for v in (sla.expm(-1j * H * t) @ psi for t in times)]
    assert_allclose(q.values[0], ref, atol=1e-10)  # the Neel state has the same S^z S^z on every bond
    assert_allclose(q.weights.sum(), 1.0, atol=1e-12)
    assert_allclose(q.energy, psi @ H @ psi, atol=1e-12)
    # diagonal ensemble: dense eigh, projectors onto degenerate levels
    E, V = np.linalg.eigh(H)
    c = V.T @ psi
    level = np.concatenate([[0], np.cumsum(np.diff(E) > 1e-9)])
    Oe = V.T @ Zd.real @ V
    de = sum(np.sum(np.outer(c[level == m], c[level == m]) * Oe[np.ix_(level == m, level == m)])
             for m in range(level[-1] + 1))
    assert_allclose(q.diagonal[0], de, atol=1e-10)


def test_quench_refuses_a_non_invariant_operator():
    chain = chaotic(8)
    with pytest.raises(ValueError, match="invariant"):
        eth.quench(chain, dm.product_state(8, "neel"), [chain.op("z", 0) @ chain.op("z", 1)], [0.0, 1.0])


def test_dephasing_time_of_an_exponential():
    t = np.linspace(0, 10, 2001)
    assert_allclose(eth.dephasing_time(t, 0.3 + np.exp(-t / 2.5), 0.3), 2.5, rtol=1e-4)
    assert eth.dephasing_time(t, np.ones_like(t) * 2, 0.0) == np.inf
    with pytest.raises(ValueError, match="equal length"):
        eth.dephasing_time(t, t[:-1], 0.0)


def test_dephasing_time_nearly_independent_of_L_for_the_chaotic_chain():
    times = np.linspace(0.0, 5.0, 251)
    td = {}
    for L in (10, 16):
        chain = chaotic(L)
        q = eth.quench(chain, dm.product_state(L, "neel"),
                       [eth.symmetrize(chain, chain.op("z", 0) @ chain.op("z", 1))], times)
        td[L] = eth.dephasing_time(times, q.values[0], q.diagonal[0])
    assert abs(td[16] - td[10]) / td[10] < 0.2, td


def test_review_bad_input():
    """Operators that change S^z, NaN states and a wrong sz are refused (review findings)."""
    ch = dm.xxz(8, 0.55, j2=0.5, bc="periodic")
    with pytest.raises(ValueError, match="does not conserve total S\\^z"):
        dm.eth.diagonal_eth(ch, ch.pauli("x", 0), 0)
    neel = dm.product_state(8, "neel")
    with pytest.raises(ValueError, match="state contains NaN"):
        dm.eth.quench(ch, neel * np.nan, [ch.pauli("z", 0)], [0.0, 1.0], sz=0)
    with pytest.raises(ValueError, match="weight"):
        dm.eth.quench(ch, neel, [ch.pauli("z", 0)], [0.0, 1.0], sz=1)


def test_level_statistics_of_a_momentum_blocked_spectrum_counts_each_k_pair_once():
    """A Spectrum blocked by (sz, k) pools k <= L/2 only: the k, L-k twins are exactly degenerate."""
    L = 10
    chain = chaotic(L)
    spec = dm.diagonalize(chain, blocks=("sz", "k"))
    labels = [dict(b.label) for b in spec.blocks]
    assert any(2 * lab["k"] > L for lab in labels)  # the twins are there to be dropped
    with pytest.warns(UserWarning, match="mixes sectors"):  # parity and flip are not resolved
        st = eth.level_statistics(spec, chain=chain)
    kept = [lab for lab in labels if 2 * lab["k"] <= L]
    assert list(st.sectors) == kept
    # independent reference: each sector diagonalized on its own, ratios pooled by hand
    ref = np.concatenate([eth.gap_ratios(dm.diagonalize(chain, sector=lab).energies) for lab in kept])
    ref = ref[~np.isnan(ref)]
    assert st.ratios.size == ref.size
    assert_allclose(np.sort(st.ratios), np.sort(ref), atol=1e-12)
    assert_allclose(st.sem, ref.std(ddof=1) / np.sqrt(ref.size), rtol=1e-12)
