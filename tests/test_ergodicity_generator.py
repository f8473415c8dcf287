"""teq_scan on a prebuilt generator, sector states without d x d matrices, the level-block trace norm
(issue 13: the pieces that make the L = 14-16 sector scans affordable)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
from numpy.testing import assert_allclose

import davies_mb as dm
from davies_mb.ergodicity import _trace_norm_levels


@pytest.fixture(scope="module")
def sector10():
    chain = dm.xxz(10, 0.5, j2=0.3)
    return chain, dm.diagonalize(chain, sector=dict(sz=0))


def test_scan_of_a_generator_equals_the_scan_of_the_chain(sector10):
    chain, spec = sector10
    A = chain.parse_operator("z0+z1")
    bath = dm.OhmicBath(beta=1.0)
    lams = [0.01, 0.1]
    ref = dm.teq_scan(chain, A, bath, lams, n_times=60, sector=dict(sz=0), progress=False)
    gen = dm.DaviesGenerator(spec, A, bath, strength=0.3)
    gen.gap()  # eigen-data computed before the scan are reused by it
    psi = dm.product_state(10, "neel")  # a state vector: never expanded to a d x d matrix
    res = dm.teq_scan(gen, None, None, lams, initial=psi, n_times=60, progress=False,
                      observables=dict(energy=chain.hamiltonian()))
    assert_allclose(res.t_gap, ref.t_gap, rtol=1e-12)
    assert_allclose(res.t_distance, ref.t_distance, rtol=1e-6)
    assert_allclose(res.trajectories["energy"], ref.trajectories["energy"], atol=1e-10)
    assert_allclose(res.t_fit["energy"], ref.t_fit["energy"], rtol=1e-6)
    # the secular-regime estimate: on by default for n <= 2000, off on request (and said so)
    assert np.isfinite(ref.secular_strength)
    off = dm.teq_scan(gen, None, None, lams, initial=psi, n_times=60, progress=False, secular_check=False,
                      observables=dict(energy=chain.hamiltonian()))
    assert np.isnan(off.secular_strength) and off.in_secular_regime is None and "skipped" in off.message
    with pytest.raises(ValueError, match="couplings=None"):
        dm.teq_scan(gen, A, bath, lams, initial=psi)
    with pytest.raises(ValueError, match="couplings=None"):
        dm.teq_scan(gen, None, None, lams, initial=psi, method="redfield")


def test_state_vectors_and_sector_checks_without_dense_eigenvectors(sector10):
    chain, spec = sector10
    gen = dm.DaviesGenerator(spec, chain.parse_operator("z0+z1"), dm.OhmicBath(beta=1.0), strength=0.2)
    rng = np.random.default_rng(11)
    idx = np.sort(dm.sectors.sector_basis(10, sz=0).tocoo().row)  # the S^z = 0 basis states
    psi = np.zeros(spec.dim, dtype=complex)
    psi[idx] = rng.normal(size=idx.size) + 1j * rng.normal(size=idx.size)
    psi /= np.linalg.norm(psi)
    t = [0.0, 2.0, 30.0]
    Sz0 = chain.op("z", 0)
    # the vector route equals the density-matrix route (to_eigenbasis of the d x d projector)
    assert_allclose(gen.expect([Sz0], psi, t), gen.expect([Sz0], np.outer(psi, psi.conj()), t), atol=1e-12)
    basis = np.zeros(spec.dim)
    basis[idx[3]] = 1.0
    import scipy.sparse as sp
    proj = sp.csr_array(([1.0], ([idx[3]], [idx[3]])), shape=(spec.dim, spec.dim))  # the named-state form
    assert_allclose(gen.expect([Sz0], proj, t), gen.expect([Sz0], np.outer(basis, basis), t), atol=1e-12)
    outside = np.zeros(spec.dim)
    outside[0] = 1.0  # all up: S^z = 5, not in the sector
    with pytest.raises(ValueError, match="outside the sector"):
        gen.expect([Sz0], outside, t)
    with pytest.raises(ValueError, match=r"ops\[0\] does not leave the sector"):
        gen.expect([chain.op("x", 0)], psi, t)
    with pytest.raises(ValueError, match=r"couplings\[0\] does not leave the sector"):
        dm.DaviesGenerator(spec, chain.parse_operator("x0+z1"), dm.OhmicBath(beta=1.0))


@pytest.mark.parametrize("off", [1e-16, 1e-6, 1e-2])
def test_level_block_trace_norm_is_the_trace_norm(off):
    # degenerate levels (blocks inside levels) plus coherences of size `off` between levels: the result is the
    # exact half trace norm whether or not the cheap level-block route applies
    H = np.diag([0.0, 0.0, 1.0, 2.0, 2.0, 2.0, 3.5])
    spec = dm.diagonalize(H)
    gen = dm.DaviesGenerator(spec, np.ones((7, 7)) - np.eye(7), dm.OhmicBath(beta=1.0))
    rng = np.random.default_rng(5)
    D = np.zeros((7, 7))
    for lev in spec.levels:
        B = rng.normal(size=(lev.size, lev.size))
        D[np.ix_(lev, lev)] = 0.1 * (B + B.T)
    C = off * rng.normal(size=(7, 7))
    C[spec.level_index[:, None] == spec.level_index[None, :]] = 0.0
    D = D + C + C.T
    ref = 0.5 * np.sum(np.abs(sla.eigvalsh(D)))
    assert_allclose(_trace_norm_levels(gen._core, D.copy()), ref, rtol=1e-10 if off < 1e-12 else 1e-13)


def test_secular_check_tail_reports_the_stricter_energy_tail_limit():
    """L = 5, XXZ + J2, x0 + z1, beta = 1, Neel: the energy tail leaves the secular regime at a strength several
    times below the gap's (issue 15, measured against the ULE); teq_scan(secular_check="tail") reports and warns
    with that limit, the default with the gap's."""
    chain = dm.xxz(L=5, delta=0.5, j2=0.3, hz=0.1)
    A = chain.parse_operator("x0+z1")
    bath = dm.OhmicBath(beta=1.0)
    psi = dm.product_state(5, "neel")
    spec = dm.diagonalize(chain)
    gap_only = dm.secular_regime(spec, A, bath)
    with_tail = dm.secular_regime(spec, A, bath, initial=psi)
    assert with_tail.tail_strength_max < 0.5 * gap_only.strength_max  # the L = 5 finding: 0.018 against 0.079
    lam = np.sqrt(with_tail.strength_max * gap_only.strength_max)  # inside the gap's regime, outside the tail's
    plain = dm.teq_scan(chain, A, bath, [lam], initial=psi, n_times=40, progress=False)
    assert plain.secular_strength == pytest.approx(gap_only.strength_max, rel=1e-12) and plain.in_secular_regime[0]
    with pytest.warns(UserWarning, match="energy tail limits it"):
        tail = dm.teq_scan(chain, A, bath, [lam], initial=psi, n_times=40, progress=False, secular_check="tail")
    assert tail.secular_strength == pytest.approx(with_tail.strength_max, rel=1e-12)
    assert not tail.in_secular_regime[0]
    with pytest.raises(ValueError, match="secular_check"):
        dm.teq_scan(chain, A, bath, [lam], initial=psi, progress=False, secular_check="yes")


def _split_case(kind, lamb_shift, two_temperatures=False):
    import reference_systems as rs

    rng = np.random.default_rng(17)
    d = 7
    E = rs.energies_of_kind(rng, d, kind)  # "ladder": every Bohr frequency degenerate (all states forced into S)
    H = rs.hamiltonian_with_spectrum(rng, E, real=False)
    A = [rs.random_hermitian(rng, d, real=False) for _ in range(2)]
    bath = [dm.OhmicBath(beta=0.7), dm.OhmicBath(beta=3.0)] if two_temperatures else dm.OhmicBath(beta=0.7)
    gen = dm.DaviesGenerator(dm.diagonalize(H), A, bath, strength=1.0, lamb_shift=lamb_shift)
    psi = rng.normal(size=d) + 1j * rng.normal(size=d)
    rho0 = np.outer(psi, psi.conj()) / np.vdot(psi, psi).real
    X0 = gen._to_eig_state(rho0)
    T0 = np.real(np.diagonal(gen.stationary_state(rho0, basis="eigen")))
    return gen, X0, T0


@pytest.mark.parametrize("kind,lamb_shift,two", [("generic", False, False), ("generic", True, False),
                                                ("ladder", False, False), ("generic", False, True)])
def test_distance_from_the_slow_states_equals_the_full_trace_norm(kind, lamb_shift, two, monkeypatch):
    """The split distance (S block exact, the rest bounded rigorously, ergodicity._distance_split) equals the
    trace norm of the whole state, whatever S ends up being (all states when every Bohr class is degenerate)."""
    from davies_mb import ergodicity as erg

    monkeypatch.setattr(erg, "_SPLIT_MAX", 1.0)  # always split, even when S is most of the states
    gen, X0, T0 = _split_case(kind, lamb_shift, two)  # two: baths at two temperatures (a NESS target)
    assert gen._core.all_single
    w0_at = gen._w0_evaluator(X0)
    gap = gen.gap()
    for tg in (0.1, 1.0, 3.0, 10.0):
        t = tg / gap
        full = next(gen._evolve_eig(X0, np.array([t]), rotating=True))
        full[np.diag_indices(X0.shape[0])] -= T0
        ref = 0.5 * np.sum(np.abs(np.linalg.eigvalsh(0.5 * (full + full.conj().T))))
        got = erg._distance_split(gen, X0, T0, t, w0_at)
        assert got is not None
        assert_allclose(got, ref, rtol=1e-12)
        # the principal submatrix route equals the full evolution's submatrix
        S = np.array([0, 2, 3, 6])
        sub = next(gen._evolve_eig(X0, np.array([t]), rotating=True, subset=S))
        assert_allclose(sub, next(gen._evolve_eig(X0, np.array([t]), rotating=True))[np.ix_(S, S)], atol=1e-15)


def test_distance_split_keeps_few_states_late_in_the_relaxation(sector10):
    # L = 10 sector: at the epsilon = 1e-3 crossing (t gap ~ 2) the coherences of all but ~16 % of the states have
    # decayed below the bound: one eigvalsh of ~40 states instead of 252, same distance to round-off
    from davies_mb import ergodicity as erg

    chain, spec = sector10
    gen = dm.DaviesGenerator(spec, chain.parse_operator("z0+z1"), dm.OhmicBath(beta=1.0), strength=1.0)
    psi = dm.product_state(10, "neel")
    X0 = gen._to_eig_state(psi)
    T0 = np.real(np.diagonal(gen.stationary_state(psi, basis="eigen")))
    kept = []
    orig = gen._evolve_eig

    def spy(*args, subset=None, **kw):
        if subset is not None:
            kept.append(len(subset))
        return orig(*args, subset=subset, **kw)

    gen._evolve_eig = spy
    t = 2.0 / gen.gap()
    got = erg._distance_at(gen, X0, T0, t, True, gen._w0_evaluator(X0))
    full = orig(X0, np.array([t]), rotating=True)
    D = next(full)
    D[np.diag_indices(spec.n)] -= T0
    assert_allclose(got, 0.5 * np.sum(np.abs(np.linalg.eigvalsh(D))), rtol=1e-12)
    assert kept and kept[0] < 0.2 * spec.n
