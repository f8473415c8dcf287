"""Tests of davies_mb.redfield: the Bloch-Redfield (non-secular) generator.

References, none computed by the code under test:

* QuTiP 5 ``bloch_redfield_tensor(H, a_ops=[[A, S]], sec_cutoff=-1, fock_basis=True)`` with
  ``S(w) = lam^2 gamma(w)`` (QuTiP's spectrum is evaluated at the energy the system gives to the bath,
  our gamma convention, and it keeps only the real rate: our default ``lamb_shift=False``; see
  tests/test_qutip_crosscheck.py for the conventions). Full Redfield (no secular grouping), so it is a valid
  peer on degenerate spectra too.
* A textbook construction written here: Lambda_ab = Gamma(E_b - E_a) A_ab element by element in the
  eigenbasis of numpy's own eigh, and L(rho) = -i[H, rho] - lam^2 sum [A, Lambda rho - rho Lambda^dag]
  applied column by column to the d^2 matrix units (no Kronecker products, no Hermitian basis), plus the
  element formula R_abcd in explicit loops.
* Analytic two-level Redfield spectrum: for H = w0 sigma^z/2, A = sigma^x the coherences obey
  d/dt (r_eg, r_ge) = [[-i w0 - G/2, G/2], [G/2, i w0 - G/2]] (r_eg, r_ge), G = lam^2 (gamma(w0) +
  gamma(-w0)), so spec L = {0, -G, -G/2 +- sqrt(G^2/4 - w0^2)} (overdamped when G > 2 w0), while the
  populations relax at G.
* The Davies generator (dm.DaviesGenerator) as the secular limit; the Gibbs state from numpy.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse.linalg as spla
import scipy.sparse as sp
from numpy.testing import assert_allclose

import davies_mb as dm
import reference_systems as rs

BETA = 1.0


def dense(op):
    return op.toarray() if sp.issparse(op) else np.asarray(op)


def trace_distance(a, b):
    return 0.5 * float(np.sum(np.abs(np.linalg.eigvalsh(a - b))))


def relmax(a, b):
    return float(np.max(np.abs(a - b))) / float(np.max(np.abs(b)))


def slope(x, y):
    """Least-squares slope of log|y| against log x."""
    return float(np.polyfit(np.log(x), np.log(np.abs(y)), 1)[0])


# --------------------------------------------------------------------------------------------------
# systems
# --------------------------------------------------------------------------------------------------
def xxz3():
    c = dm.xxz(3, 0.5)
    return c.hamiltonian(sparse=False), [c.parse_operator("x0+z1")], [dm.OhmicBath(BETA)]


def xxz4_degenerate():
    c = dm.xxz(4, 0.5)
    return c.hamiltonian(sparse=False), [c.parse_operator("x0+z1")], [dm.OhmicBath(BETA)]


def heisenberg3_degenerate():
    c = dm.heisenberg(3)
    return c.hamiltonian(sparse=False), [c.parse_operator("x0+z1")], [dm.OhmicBath(0.7, eta=0.5, cutoff=3.0)]


def tfim3_two_baths():
    c = dm.tfim(3, g=0.7, h=0.2)
    return (c.hamiltonian(sparse=False), [c.pauli("x", 0), c.pauli("y", 2)],
            [dm.OhmicBath(1.0), dm.DrudeLorentzBath(0.5, eta=0.3, cutoff=2.0)])


def xxz3_sigma_y():
    c = dm.xxz(3, 0.5)
    return c.hamiltonian(sparse=False), [c.parse_operator("x0+z1"), c.pauli("y", 2)], [dm.OhmicBath(BETA)]


def tfim3_parity():
    c = dm.tfim(3, g=0.7)
    return c.hamiltonian(sparse=False), [c.pauli("x", 0)], [dm.OhmicBath(BETA)]


SYSTEMS = {
    "xxz3": xxz3,
    "xxz4_degenerate": xxz4_degenerate,
    "heisenberg3_degenerate": heisenberg3_degenerate,
    "tfim3_two_baths": tfim3_two_baths,
    "tfim3_parity": tfim3_parity,
    "xxz3_sigma_y": xxz3_sigma_y,
}


def make(name, lam, **kw):
    H, A, baths = SYSTEMS[name]()
    spec = dm.diagonalize(H)
    return H, A, baths, spec, dm.RedfieldGenerator(spec, A, baths, strength=lam, **kw)


# --------------------------------------------------------------------------------------------------
# independent references
# --------------------------------------------------------------------------------------------------
def per_coupling(couplings, baths):
    """One bath for all couplings means independent copies (as the generator's ``bath`` argument)."""
    baths = list(baths)
    return baths * len(couplings) if len(baths) == 1 else baths


def qutip_tensor(H, couplings, baths, lam):
    import qutip  # a test dependency (pyproject [test]): a broken install must fail, not skip

    baths = per_coupling(couplings, baths)

    def spectrum_fn(bath):
        def S(w):  # one parameter only: QuTiP treats callables with more as time-dependent coefficients
            return lam**2 * bath.gamma(w)

        return S

    a_ops = [[qutip.Qobj(dense(A)), spectrum_fn(b)] for A, b in zip(couplings, baths, strict=True)]
    return qutip.bloch_redfield_tensor(qutip.Qobj(dense(H)), a_ops=a_ops, sec_cutoff=-1, fock_basis=True).full()


def textbook_lambdas(E, V, couplings, baths, lamb_shift=False):
    """Lambda_ab = (gamma(E_b - E_a)/2 + i S(E_b - E_a)) A_ab, element by element, eigenbasis; A's too."""
    d = E.size
    out = []
    for A, bath in zip(couplings, per_coupling(couplings, baths), strict=True):
        Ae = V.conj().T @ dense(A) @ V
        Lam = np.zeros((d, d), dtype=complex)
        for a in range(d):
            for b in range(d):
                w = E[b] - E[a]
                G = 0.5 * bath.gamma(float(w))
                if lamb_shift:
                    G = G + 1j * bath.lamb_shift(float(w))
                Lam[a, b] = G * Ae[a, b]
        out.append((Ae, Lam))
    return out


def textbook_superoperator(H, couplings, baths, lam, lamb_shift=False):
    """L applied to each matrix unit |k><l|: column k + d l of the column-stacked matrix, computational basis."""
    H = dense(H).astype(complex)
    d = H.shape[0]
    E, V = np.linalg.eigh(H)
    pairs = [(V @ Ae @ V.conj().T, V @ Lam @ V.conj().T)
             for Ae, Lam in textbook_lambdas(E, V, couplings, baths, lamb_shift)]
    L = np.zeros((d * d, d * d), dtype=complex)
    for k in range(d):
        for l in range(d):
            rho = np.zeros((d, d), dtype=complex)
            rho[k, l] = 1.0
            out = -1j * (H @ rho - rho @ H)
            for A, Lam in pairs:
                X = Lam @ rho - rho @ Lam.conj().T
                out -= lam**2 * (A @ X - X @ A)
            L[:, k + d * l] = out.reshape(-1, order="F")
    return L


def textbook_tensor_eigen(E, couplings_eig, lambdas, lam):
    """R_abcd in explicit loops (module docstring formula), as the column-stacked eigenbasis matrix."""
    d = E.size
    L = np.zeros((d * d, d * d), dtype=complex)
    for a in range(d):
        for b in range(d):
            L[a + d * b, a + d * b] += -1j * (E[a] - E[b])
            for c in range(d):
                for dd in range(d):
                    r = 0.0
                    for A, Lam in zip(couplings_eig, lambdas):
                        r += Lam[a, c] * A[dd, b] + A[a, c] * np.conj(Lam[b, dd])
                        if b == dd:
                            r -= sum(A[a, n] * Lam[n, c] for n in range(d))
                        if a == c:
                            r -= sum(np.conj(Lam[n, dd]) * A[n, b] for n in range(d))
                    L[a + d * b, c + d * dd] += lam**2 * r
    return L


# --------------------------------------------------------------------------------------------------
# agreement with QuTiP and with the textbook construction
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SYSTEMS))
@pytest.mark.parametrize("lam", [0.05, 0.7])
def test_superoperator_matches_qutip(name, lam):
    H, A, baths, spec, gen = make(name, lam)
    if name.endswith("degenerate"):
        assert spec.degeneracies.max() > 1  # the case QuTiP's secular path gets wrong; full Redfield must not
    ref = qutip_tensor(H, A, baths, lam)
    assert relmax(gen.superoperator(), ref) < 1e-10


@pytest.mark.parametrize("name", ["tfim3_two_baths", "xxz3", "heisenberg3_degenerate"])
def test_superoperator_matches_textbook(name):
    lam = 0.4
    H, A, baths, spec, gen = make(name, lam)
    ref = textbook_superoperator(H, A, baths, lam)
    assert relmax(gen.superoperator(), ref) < 1e-11
    # eigenvalues of the whole generator (what gap, rates and dynamics use) against numpy on the reference
    mu_ref = np.linalg.eigvals(ref)
    mu = gen.eigenvalues()
    assert mu.shape == mu_ref.shape
    assert np.max(np.min(np.abs(mu[:, None] - mu_ref[None, :]), axis=1)) < 1e-9
    assert np.max(np.min(np.abs(mu_ref[:, None] - mu[None, :]), axis=1)) < 1e-9


def test_eigenbasis_tensor_matches_element_loops():
    lam = 0.6
    H, A, baths, spec, gen = make("tfim3_two_baths", lam)
    E = spec.energies
    V = spec.vectors
    pairs = [(Ae, Lam) for Ae, Lam in textbook_lambdas(E, V, A, baths)]
    ref = textbook_tensor_eigen(E, [p[0] for p in pairs], [p[1] for p in pairs], lam)
    assert relmax(gen.superoperator("eigen"), ref) < 1e-12


def test_lamb_shift_matches_textbook():
    lam = 0.3
    H, A, baths, spec, gen = make("xxz3", lam, lamb_shift=True)
    ref = textbook_superoperator(H, A, baths, lam, lamb_shift=True)
    assert relmax(gen.superoperator(), ref) < 1e-10
    # and the Lamb shift really entered: without it the tensor differs
    ref0 = textbook_superoperator(H, A, baths, lam, lamb_shift=False)
    assert relmax(ref0, ref) > 1e-3


# --------------------------------------------------------------------------------------------------
# analytic two-level system
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lam", [0.2, 1.5])  # under- and overdamped coherences
def test_two_level_spectrum_is_analytic(lam):
    tl = rs.TwoLevel(w0=1.0, a_x=1.0, a_z=0.0)
    bath = dm.OhmicBath(BETA, eta=0.4, cutoff=3.0)
    gen = dm.RedfieldGenerator(dm.diagonalize(tl.H), tl.A, bath, strength=lam)
    G = tl.population_rate(bath, lam)
    root = np.sqrt(complex(G**2 / 4 - tl.w0**2))
    expected = np.array([0.0, -G, -G / 2 + root, -G / 2 - root])
    assert (G > 2 * tl.w0) == (lam > 1)  # the two cases are what their names say
    assert_allclose(np.sort_complex(gen.eigenvalues()), np.sort_complex(expected), atol=1e-12)
    rates = np.sort((-expected.real)[1:])
    assert_allclose(gen.relaxation_rates(3), rates, rtol=1e-11)
    assert gen.gap() == pytest.approx(rates[0], rel=1e-11)
    # sigma^x coupling: Gibbs state exactly stationary at any strength (see test_gibbs_exactly_stationary)
    assert_allclose(gen.stationary_state(), tl.gibbs(BETA), atol=1e-13)
    # Davies keeps the rotation: -G/2 +- i w0, so its gap is G/2 even when Redfield is overdamped
    dav = dm.DaviesGenerator(dm.diagonalize(tl.H), tl.A, bath, strength=lam)
    assert dav.gap() == pytest.approx(G / 2, rel=1e-12)


def test_two_level_dynamics_against_expm():
    tl = rs.TwoLevel(w0=1.3, a_x=0.8, a_z=0.5)
    bath = dm.OhmicBath(0.8, eta=0.5, cutoff=4.0)
    lam = 0.7
    gen = dm.RedfieldGenerator(dm.diagonalize(tl.H), tl.A, bath, strength=lam)
    ref = textbook_superoperator(tl.H, [tl.A], [bath], lam)
    psi = np.array([np.cos(0.4), np.exp(0.3j) * np.sin(0.4)])
    rho0 = np.outer(psi, psi.conj())
    times = np.array([0.0, 0.3, 1.7, 6.0])
    out = gen.evolve(rho0, times)
    for t, rho in zip(times, out):
        expected = (sla.expm(ref * t) @ rho0.reshape(-1, order="F")).reshape(2, 2, order="F")
        assert_allclose(rho, expected, atol=1e-12)


# --------------------------------------------------------------------------------------------------
# dynamics, trace preservation, stationary states
# --------------------------------------------------------------------------------------------------
def random_state(d, rng):
    X = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = X @ X.conj().T
    return rho / np.trace(rho)


@pytest.mark.parametrize("basis", ["computational", "eigen"])
def test_trace_preservation_superoperator(basis):
    H, A, baths, spec, gen = make("tfim3_two_baths", 0.8)
    L = gen.superoperator(basis)
    d = spec.n
    t = np.eye(d).reshape(-1, order="F")
    assert np.max(np.abs(t @ L)) < 1e-12 * np.max(np.abs(L))


def test_evolve_against_expm_trace_and_hermiticity(rng):
    lam = 0.5
    H, A, baths, spec, gen = make("xxz4_degenerate", lam)
    ref = qutip_tensor(H, A, baths, lam)
    rho0 = random_state(spec.dim, rng)
    times = np.array([0.0, 0.1, 1.0, 5.0, 40.0])
    out = gen.evolve(rho0, times)
    assert out.shape == (times.size, spec.dim, spec.dim)
    for t, rho in zip(times, out):
        expected = (sla.expm(ref * t) @ rho0.reshape(-1, order="F")).reshape(spec.dim, spec.dim, order="F")
        assert_allclose(rho, expected, atol=1e-10)
        assert abs(np.trace(rho) - 1.0) < 1e-12
        assert np.max(np.abs(rho - rho.conj().T)) < 1e-12
    ops = [dense(dm.xxz(4, 0.5).pauli("z", 2)), H]
    ex = gen.expect(ops, rho0, times)
    assert ex.shape == (2, times.size) and np.isrealobj(ex)
    for j, O in enumerate(ops):
        assert_allclose(ex[j], np.einsum("ij,tji->t", O, out).real, atol=1e-11)
    # long times: the stationary state
    late = gen.evolve(rho0, [2000.0 / gen.gap()])[0]
    assert_allclose(late, gen.stationary_state(), atol=1e-10)


@pytest.mark.parametrize("name", ["xxz4_degenerate", "heisenberg3_degenerate", "xxz3"])
@pytest.mark.parametrize("lam", [0.01, 0.3, 1.0])
def test_gibbs_exactly_stationary_without_lamb_shift(name, lam):
    r"""With real rates Gamma = gamma/2 and one temperature, L(Gibbs) = 0 at every strength.

    sum_c R_{ab,cc} p_c = sum_c A_ac A_cb [p_c Gamma(E_c - E_a) - p_a Gamma(E_a - E_c)
    + p_c Gamma(E_c - E_b) - p_b Gamma(E_b - E_c)] = 0 term by term (KMS: p_c gamma(E_c - E_a) =
    p_a gamma(E_a - E_c)). So the Redfield steady state is the Gibbs state even where the gap is far from
    the Davies one; QuTiP's tensor must agree (it is checked above).
    """
    H, A, baths, spec, gen = make(name, lam)
    G = rs.gibbs_state(dense(H), baths[0].beta)
    assert gen.kernel_dimension() == 1
    assert trace_distance(gen.stationary_state(), G) < 1e-12
    L = gen.superoperator()
    assert np.max(np.abs(L @ G.reshape(-1, order="F"))) < 1e-12 * np.max(np.abs(L))


def test_stationary_state_with_conserved_parity(rng):
    """TFIM (h = 0) with sigma^x_0 coupling conserves P = prod sigma^x: two stationary states."""
    lam = 0.4
    H, A, baths, spec, gen = make("tfim3_parity", lam)
    assert gen.kernel_dimension() == 2
    with pytest.raises(ValueError, match="2 stationary states.*rho0"):
        gen.stationary_state()
    P = dense(dm.tfim(3).pauli("x", 0) @ dm.tfim(3).pauli("x", 1) @ dm.tfim(3).pauli("x", 2))
    for X in (dense(H), dense(A[0])):
        assert np.max(np.abs(P @ X - X @ P)) < 1e-14
    G = rs.gibbs_state(dense(H), BETA)
    rho0 = random_state(8, rng)
    expected = np.zeros((8, 8), dtype=complex)
    for s in (1, -1):
        Ps = 0.5 * (np.eye(8) + s * P)
        expected += np.trace(Ps @ rho0) * (Ps @ G @ Ps) / np.trace(Ps @ G)
    assert_allclose(gen.stationary_state(rho0), expected, atol=1e-11)
    late = gen.evolve(rho0, [5000.0 / gen.gap()])[0]
    assert_allclose(late, expected, atol=1e-10)


# --------------------------------------------------------------------------------------------------
# the secular limit
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["xxz4_degenerate", "xxz3_sigma_y"])
def test_secular_limit_gap_deviation_is_lambda4_without_lamb_shift(name):
    r"""gap_R / lam^2 -> gap_D / lam^2 as lam -> 0, the relative deviation falling as lam^4 (fitted).

    Measured, not derived: L_R = L_D + lam^2 V with V coupling Bohr classes nu != nu'. The slow modes live
    in the nu = 0 block; second order gives lam^4 X_c / (i nu_c) per class, and the classes nu_c, -nu_c pair
    up (Hermiticity preservation) into the real 2 lam^4 Im X_c / nu_c, which vanishes here: the first real
    shift is O(lam^6), i.e. O(lam^4) relative to the rates (also seen with a sigma^y coupling). The Lamb
    shift (complex Gamma) gives O(lam^2) (next test).
    """
    H, A, baths, spec, gen = make(name, 1.0)
    dav = dm.DaviesGenerator(spec, A, baths, strength=1.0)
    gD = dav.gap()
    lams = np.array([0.003, 0.006, 0.012, 0.024])
    rel = np.array([gen.with_strength(l).gap() / l**2 / gD - 1.0 for l in lams])
    assert np.all(np.abs(rel) < 1e-3) and np.all(np.abs(rel[:-1]) < np.abs(rel[1:]))
    assert slope(lams, rel) == pytest.approx(4.0, abs=0.05)
    # the next rates too
    r_small = gen.with_strength(1e-3).relaxation_rates(5) / 1e-6
    assert_allclose(r_small, dav.relaxation_rates(5), rtol=1e-8)


def test_secular_limit_with_lamb_shift_is_lambda2_and_steady_state_off_gibbs_by_lambda2():
    H, A, baths, spec, gen = make("xxz3", 1.0, lamb_shift=True)
    dav = dm.DaviesGenerator(spec, A, baths, strength=1.0, lamb_shift=True)
    gD = dav.gap()
    G = rs.gibbs_state(dense(H), BETA)
    lams = np.array([0.002, 0.004, 0.008, 0.016])
    rel, dist = [], []
    for l in lams:
        g = gen.with_strength(l)
        rel.append(g.gap() / l**2 / gD - 1.0)
        dist.append(trace_distance(g.stationary_state(), G))
    rel, dist = np.array(rel), np.array(dist)
    assert np.all(np.abs(rel) < 1e-2) and np.all(np.abs(rel[:-1]) < np.abs(rel[1:]))
    assert slope(lams, rel) == pytest.approx(2.0, abs=0.05)
    assert slope(lams, dist) == pytest.approx(2.0, abs=0.02)
    assert dist[0] < 1e-4


def test_with_strength_equals_fresh_construction():
    H, A, baths, spec, gen = make("tfim3_two_baths", 0.9)
    other = gen.with_strength(0.2)
    fresh = dm.RedfieldGenerator(spec, A, baths, strength=0.2)
    assert other.strength == 0.2 and gen.strength == 0.9
    assert gen.beta is None  # two baths at different temperatures
    assert gen.persistent_oscillations() == 0
    assert_allclose(other.superoperator(), fresh.superoperator(), atol=1e-15)
    assert other.gap() == pytest.approx(fresh.gap(), rel=1e-12)


def test_sector_spectrum_is_the_restriction():
    """XXZ with a sigma^z coupling conserves S^z: the S^z = 0 sector generator is the full one restricted."""
    chain = dm.xxz(4, 0.5, j2=0.3)
    A = chain.pauli("z", 1)
    bath = dm.OhmicBath(BETA)
    full = dm.RedfieldGenerator(dm.diagonalize(chain), A, bath, strength=0.3)
    sec = dm.RedfieldGenerator(dm.diagonalize(chain, sector=dict(sz=0)), A, bath, strength=0.3)
    assert full.kernel_dimension() == 5 and sec.kernel_dimension() == 1
    mu_s, mu_f = sec.eigenvalues(), full.eigenvalues()
    dist = np.min(np.abs(mu_s[:, None] - mu_f[None, :]), axis=1)
    assert np.max(dist) < 1e-10
    P = dense(dm.sector_basis(4, sz=0))
    rho0 = P @ random_state(P.shape[1], np.random.default_rng(3)) @ P.T
    times = [0.0, 0.7, 9.0]
    assert_allclose(sec.evolve(rho0, times), full.evolve(rho0, times), atol=1e-10)
    Lsec = sec.superoperator()
    Lfull = full.superoperator()
    v = rho0.reshape(-1, order="F")
    assert_allclose(Lsec @ v, Lfull @ v, atol=1e-12)


# --------------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------------
def test_refuses_large_dimension_with_memory_estimate():
    chain = dm.xxz(8, 0.5)  # d = 256
    spec = dm.diagonalize(chain)
    A = chain.pauli("x", 0)
    with pytest.raises(ValueError, match=r"d = 256.*max_dim = 128.*32\.0 GiB"):
        dm.RedfieldGenerator(spec, A, dm.OhmicBath(BETA))
    gen = dm.RedfieldGenerator(spec, A, dm.OhmicBath(BETA), max_dim=256)  # explicit override accepted
    with pytest.raises(MemoryError, match="GiB"):  # and the dense tensor is still refused by the memory cap
        gen.gap()


@pytest.mark.parametrize("strength", [-0.1, 0.0, float("nan")])
def test_bad_strength(strength):
    H, A, baths, spec, gen = make("xxz3", 0.1)
    with pytest.raises(ValueError, match="strength"):
        dm.RedfieldGenerator(spec, A, baths, strength=strength)
    with pytest.raises(ValueError, match="strength"):
        gen.with_strength(strength)


def test_bad_couplings_and_arguments():
    H, A, baths, spec, gen = make("xxz3", 0.1)
    nonherm = dense(dm.xxz(3).pauli("+", 0))
    with pytest.raises(ValueError, match=r"couplings\[0\] is not Hermitian"):
        dm.RedfieldGenerator(spec, nonherm, baths)
    with pytest.raises(ValueError, match="dimension 8"):
        dm.RedfieldGenerator(spec, np.eye(4), baths)
    with pytest.raises(ValueError, match="zero operator"):
        dm.RedfieldGenerator(spec, np.zeros((8, 8)), baths)
    with pytest.raises(TypeError, match="Bath"):
        dm.RedfieldGenerator(spec, A, "ohmic")
    with pytest.raises(TypeError, match="Spectrum"):
        dm.RedfieldGenerator(dense(H), A, baths)
    with pytest.raises(ValueError, match="2 baths"):
        dm.RedfieldGenerator(spec, A, baths * 2)
    with pytest.raises(ValueError, match="max_dim"):
        dm.RedfieldGenerator(spec, A, baths, max_dim=0)
    with pytest.raises(ValueError, match="basis"):
        gen.superoperator("fock")
    with pytest.raises(ValueError, match="times"):
        gen.evolve(np.eye(8) / 8, [-1.0])
    with pytest.raises(ValueError, match="k must be"):
        gen.relaxation_rates(0)


# --------------------------------------------------------------------------------------------------
# Bohr spacings and where the secular approximation stops
# --------------------------------------------------------------------------------------------------
def numpy_bohr(H, tol=1e-9):
    E = np.linalg.eigvalsh(dense(H))
    levels = [E[0]]
    for e in E[1:]:
        if e - levels[-1] > tol:
            levels.append(e)
    levels = np.array(levels)
    nu = np.sort((levels[:, None] - levels[None, :]).ravel())
    distinct = [nu[0]]
    for v in nu[1:]:
        if v - distinct[-1] > tol:
            distinct.append(v)
    return np.array(distinct)


def test_bohr_spacing():
    tl = rs.TwoLevel(w0=1.3)
    gen = dm.RedfieldGenerator(dm.diagonalize(tl.H), tl.A, dm.OhmicBath(BETA))
    assert gen.bohr_spacing() == pytest.approx(1.3, rel=1e-14)
    assert gen.bohr_spacing(near=0.0) == pytest.approx(1.3, rel=1e-14)
    assert gen.bohr_spacing(near=-1.3) == pytest.approx(1.3, rel=1e-14)
    H, A, baths, spec, gen = make("xxz4_degenerate", 0.1)
    nu = numpy_bohr(H)
    assert gen.bohr_spacing() == pytest.approx(np.min(np.diff(nu)), rel=1e-9)
    assert gen.bohr_spacing(near=0.0) == pytest.approx(np.min(nu[nu > 1e-9]), rel=1e-9)
    with pytest.raises(ValueError, match="near"):
        gen.bohr_spacing(near=float("nan"))


@pytest.mark.parametrize("L", [4, 5])
def test_secular_breakdown_is_set_by_the_smallest_bohr_frequency(L):
    """Measured (docs/theory.md): the Redfield gap leaves the Davies gap by 10% where lam^2 Delta_D ~ nu_min.

    XXZ Delta = 0.5, coupling x0+z1, Ohmic beta = 1 (measured: 1.0% / 0.8% at lam^2 Delta_D = nu_min / 5,
    12% / 8% at nu_min, 61% / 50% at 4 nu_min for L = 4 / 5). At the 1% point lam^2 Delta_D is already
    2.9 / 8.9 times the global smallest spacing between distinct Bohr frequencies: that spacing does not set
    the crossover.
    """
    chain = dm.xxz(L, 0.5)
    spec = dm.diagonalize(chain)
    A = chain.parse_operator("x0+z1")
    bath = dm.OhmicBath(BETA)
    dav = dm.DaviesGenerator(spec, A, bath).gap()  # gap / lam^2
    gen = dm.RedfieldGenerator(spec, A, bath)
    nu_min = gen.bohr_spacing(near=0.0)
    assert gen.bohr_spacing() < nu_min / 10
    lo, hi = np.sqrt(0.2 * nu_min / dav), np.sqrt(4.0 * nu_min / dav)
    dev_lo = 1 - gen.with_strength(lo).gap() / lo**2 / dav
    dev_hi = 1 - gen.with_strength(hi).gap() / hi**2 / dav
    assert 0 < dev_lo < 0.015 and dev_hi > 0.4
    assert lo**2 * dav > 2 * gen.bohr_spacing()


# --------------------------------------------------------------------------------------------------
# beyond validity: undamped coherences and unstable modes
# --------------------------------------------------------------------------------------------------
def test_undamped_coherence_gives_zero_gap():
    """Two uncoupled spins, the bath touches only the first: spin 2's coherence rotates forever (mu = +-i w2)."""
    w1, w2 = 1.0, 1.7
    H = 0.5 * w1 * np.kron(rs.SZ, rs.I2) + 0.5 * w2 * np.kron(rs.I2, rs.SZ)
    A = np.kron(rs.SX, rs.I2)
    gen = dm.RedfieldGenerator(dm.diagonalize(H), A, dm.OhmicBath(BETA), strength=0.3)
    mu = gen.eigenvalues()
    assert np.min(np.abs(mu - 1j * w2)) < 1e-12 and np.min(np.abs(mu + 1j * w2)) < 1e-12
    assert gen.gap() == 0.0
    assert gen.kernel_dimension() == 2  # spin 2's two populations
    assert gen.persistent_oscillations() == 2  # +- i w2
    assert gen.beta == BETA
    rho0 = np.kron(rs.gibbs_state(0.5 * w1 * rs.SZ, BETA), np.full((2, 2), 0.5))  # spin 2 in |+x>
    with pytest.warns(UserWarning, match="undamped coherences"):
        rho_inf = gen.stationary_state(rho0)
    assert_allclose(rho_inf, np.kron(rs.gibbs_state(0.5 * w1 * rs.SZ, BETA), 0.5 * np.eye(2)), atol=1e-12)


def test_unstable_mode_at_strong_coupling_is_reported():
    """Redfield is not completely positive: XXZ L = 3 at lam = 1.5 has an eigenvalue with Re mu > 0."""
    lam = 1.5
    H, A, baths, spec, gen = make("xxz3", lam)
    mu_ref = np.linalg.eigvals(textbook_superoperator(H, A, baths, lam))
    assert np.max(mu_ref.real) > 1e-3  # the reference itself has the unstable mode
    with pytest.warns(UserWarning, match="positive real part"):
        g = gen.gap()
    assert g == pytest.approx(-np.max(mu_ref.real), rel=1e-8)


@pytest.mark.slow
def test_larger_chain_against_qutip_spectrum():
    """XXZ + J2 (non-integrable), L = 5 (d = 32), two couplings: tensor, gap and dynamics against QuTiP."""
    chain = dm.xxz(5, 0.5, j2=0.3)
    H = chain.hamiltonian(sparse=False)
    A = [chain.parse_operator("x0+z1"), chain.pauli("y", 4)]
    baths = [dm.OhmicBath(1.0), dm.OhmicBath(1.0, eta=0.5, cutoff=2.0)]
    lam = 0.2
    gen = dm.RedfieldGenerator(dm.diagonalize(chain), A, baths, strength=lam)
    ref = qutip_tensor(H, A, baths, lam)
    assert relmax(gen.superoperator(), ref) < 1e-10
    mu = np.linalg.eigvals(ref)
    rates = np.sort(-mu.real[np.abs(mu) > 1e-9])
    assert_allclose(gen.relaxation_rates(4), rates[:4], rtol=1e-8)
    psi = np.zeros(32)
    psi[0b10101] = 1.0
    rho0 = np.outer(psi, psi)
    times = np.array([0.5, 5.0, 50.0])
    ex = gen.expect([dense(chain.pauli("z", 2))], rho0, times)[0]
    Z = dense(chain.pauli("z", 2))
    expected = []
    for t in times:
        v = spla.expm_multiply(ref * t, rho0.reshape(-1, order="F").astype(complex))
        expected.append(np.real(np.trace(Z @ v.reshape(32, 32, order="F"))))
    assert_allclose(ex, expected, atol=1e-8)
