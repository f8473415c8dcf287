"""davies_mb.tn against exact diagonalization, free fermions and the product-formula order.

Every reference is independent of the TN code: dense matrices of the chain (ED, scipy expm / eigh) or the
free-fermion solutions of davies_mb.integrable, with the initial correlation matrices written here.
"""

import numpy as np
import pytest
import scipy.linalg as sla

import davies_mb as dm
from davies_mb import tn
from davies_mb.tn._engine import Evolver


def _product_vector(bits):
    v = np.zeros(2 ** len(bits))
    v[int("".join(map(str, bits)), 2)] = 1.0
    return v


def _neel_bits(L):
    return [s % 2 for s in range(L)]


# -- representations -------------------------------------------------------------------------------
@pytest.mark.parametrize("chain", [
    dm.xxz(6, 0.55, j2=0.5, delta2=0.3, hz=0.2, staggered=0.1),
    dm.xxz(7, 0.55, j2=0.5, hx=0.3),
    dm.tfim(5, g=0.7, h=0.3),
    dm.xx(6, hz=0.4),
], ids=["xxz-j2-even", "xxz-j2-odd", "tfim", "xx"])
def test_bond_terms_sum_to_the_hamiltonian(chain):
    grp = tn.group_chain(chain)
    L = chain.L
    H = np.zeros((2**L, 2**L), dtype=complex)
    for (g, _), h in grp.bonds.items():
        first = grp.groups[g][0]
        n = len(grp.groups[g]) + len(grp.groups[g + 1])
        H += np.kron(np.kron(np.eye(2**first), h), np.eye(2 ** (L - first - n)))
    np.testing.assert_allclose(H, chain.hamiltonian(sparse=False), atol=1e-13)
    assert max(len(g) for g in grp.groups) == (2 if chain.params.get("j2") else 1)


def test_mpo_is_the_hamiltonian():
    chain = dm.xxz(6, 0.55, j2=0.5)
    np.testing.assert_allclose(chain.mpo().to_dense(), chain.hamiltonian(sparse=False), atol=1e-13)


def test_suzuki_coefficients():
    s = 1 / (4 - 4 ** (1 / 3))
    sched = tn.trotter_schedule(4)
    # every layer integrates the full step, and the middle S2 has the negative weight 1 - 4s
    assert sum(f for k, f in sched if k == 0) == pytest.approx(1.0, abs=1e-14)
    assert sum(f for k, f in sched if k == 1) == pytest.approx(1.0, abs=1e-14)
    assert [f for k, f in sched if k == 1] == pytest.approx([s, s, 1 - 4 * s, s, s], abs=1e-14)
    # merged: A B A B A B A B A B A
    assert [k for k, _ in sched] == [0, 1] * 5 + [0]
    assert len(tn.trotter_schedule(2, 3)) == 7


@pytest.mark.parametrize("order,ratio", [(2, 4.0), (4, 16.0)])
def test_product_formula_order_measured(order, ratio):
    """State error at t = 1 versus dt: halving dt divides it by 2**order (no truncation)."""
    chain = dm.xxz(8, 0.55, hz=0.1)
    H = chain.hamiltonian(sparse=False)
    exact = sla.expm(-1j * H * 1.0) @ _product_vector(_neel_bits(8))
    grp = tn.group_chain(chain)
    errs = []
    for dt in (0.2, 0.1, 0.05):
        ev = Evolver(tn.initial_mps("neel", grp), grp, max_bond=256, cutoff=0.0)
        ev.evolve(1.0, dt, order)
        v = ev.psi.to_dense().ravel()
        v = v * np.exp(-1j * np.angle(np.vdot(exact, v)))  # global phase
        errs.append(np.linalg.norm(v - exact))
    r = np.array(errs[:-1]) / np.array(errs[1:])
    assert np.all(r > 0.8 * ratio) and np.all(r < 1.25 * ratio), (errs, r)
    assert errs[-1] > 1e-12  # well above round-off, so the ratios measure the formula


# -- quench against ED -----------------------------------------------------------------------------
def _ed_quench(chain, bits, times, names):
    H = chain.hamiltonian(sparse=False)
    w, V = np.linalg.eigh(H)
    c = V.conj().T @ _product_vector(bits)
    out = {k: [] for k in names}
    ops = {k: chain.parse_operator(k).toarray() for k in names}
    for t in times:
        v = V @ (np.exp(-1j * w * t) * c)
        for k in names:
            out[k].append(np.vdot(v, ops[k] @ v).real)
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("t_max", [2.0, pytest.param(10.0, marks=pytest.mark.slow)])
def test_quench_chaotic_matches_ed(t_max):
    L = 10
    chain = dm.xxz(L, 0.55, j2=0.5)
    times = np.linspace(0, t_max, 6)
    names = ["z5", "x4*x5", "z0*z7", "0.5*z2 - y3*y4"]
    res = tn.quench(chain, "neel", times, names, max_bond=32, cutoff=0.0, dt=0.05, error_run=None)
    ref = _ed_quench(chain, _neel_bits(L), times, names)
    for k in names:
        np.testing.assert_allclose(res.values[k], ref[k], atol=1e-6, rtol=0)
    assert res.within_tolerance and res.discarded[-1] == 0.0
    assert res.entropy_cut == 4 and res.entropy[0] == pytest.approx(0.0, abs=1e-12)
    assert res.bond_dim[0] == 1 and res.bond_dim.max() <= 32


def test_quench_bitstring_tilted_and_mps_initial_states():
    L = 6
    chain = dm.xxz(L, 0.8, hz=0.3)
    H = chain.hamiltonian(sparse=False)
    th, ph = 0.7, 0.4
    spinor = np.array([np.cos(th / 2), np.exp(1j * ph) * np.sin(th / 2)])
    v0 = spinor
    for _ in range(L - 1):
        v0 = np.kron(v0, spinor)
    t = 1.3
    v = sla.expm(-1j * H * t) @ v0
    ref = np.vdot(v, chain.parse_operator("x2").toarray() @ v).real
    r = tn.quench(chain, dict(theta=th, phi=ph), [t], "x2", max_bond=64, cutoff=0.0, error_run=None)
    assert r.values["x2"][0] == pytest.approx(ref, abs=1e-8)
    # the same state given as a quimb MPS, and a bit string against the ED product vector
    import quimb.tensor as qtn

    mps = qtn.MPS_product_state([spinor] * L)
    r2 = tn.quench(chain, mps, [t], "x2", max_bond=64, cutoff=0.0, error_run=None)
    assert r2.values["x2"][0] == pytest.approx(ref, abs=1e-8)
    bits = "011010"
    rb = tn.quench(chain, bits, [0.0, t], "z1*z2", max_bond=64, cutoff=0.0, error_run=None)
    eb = _ed_quench(chain, [int(b) for b in bits], [0.0, t], ["z1*z2"])["z1*z2"]
    np.testing.assert_allclose(rb.values["z1*z2"], eb, atol=1e-8)


def test_quench_supersite_mps_initial_and_error_run():
    chain = dm.xxz(8, 0.55, j2=0.5)
    import quimb.tensor as qtn

    mps = qtn.MPS_computational_state("01" * 4)
    r = tn.quench(chain, mps, [0.0, 1.0], ["z3"], max_bond=8, cutoff=0.0, tol=1.0)
    ref = _ed_quench(chain, _neel_bits(8), [0.0, 1.0], ["z3"])["z3"]
    assert r.values["z3"][0] == pytest.approx(1.0 * -1, abs=1e-12)  # site 3 of Neel is down
    # error estimate: half bond dimension (4); it bounds the actual error at max_bond = 8 from above here
    assert np.isfinite(r.error["z3"]).all()
    assert abs(r.values["z3"][1] - ref[1]) <= r.error["z3"][1] + 1e-12


def test_truncation_warns_with_the_discarded_weight():
    chain = dm.xxz(10, 0.55, j2=0.5)
    with pytest.warns(UserWarning, match="discarded weight"):
        r = tn.quench(chain, "neel", [0.0, 2.0], "z5", max_bond=2, cutoff=0.0, tol=1e-8, error_run=None)
    assert not r.within_tolerance and r.discarded[-1] > 1e-8 and r.bond_dim.max() == 2


# -- free fermions at L = 64 ----------------------------------------------------------------------
@pytest.mark.slow
def test_tfim_quench_from_plus_x_matches_free_fermions_L64():
    L, g = 64, 0.5
    times = np.array([0.5, 1.0, 2.0, 3.0])
    res = tn.quench(dm.tfim(L, g=g), "+x", times, ["x32"], max_bond=64, cutoff=1e-12, dt=0.05,
                    error_run=None)
    modes = dm.integrable.tfim_modes(L, "open", j=1.0, g=g)
    # |+x>^L: <sigma^x_j> = Gamma_{2j,2j+1} = 1, every other Majorana pair uncorrelated
    G0 = np.zeros((2 * L, 2 * L))
    idx = np.arange(L)
    G0[2 * idx, 2 * idx + 1], G0[2 * idx + 1, 2 * idx] = 1.0, -1.0
    Gt = dm.integrable.evolve_correlations(modes, G0, times)
    mx = Gt[:, 64, 65]
    np.testing.assert_allclose(res.values["x32"], mx, atol=1e-5, rtol=0)
    assert res.within_tolerance


@pytest.mark.slow
def test_xx_thermal_energies_match_free_fermions_L64():
    L = 64
    betas = [0.5, 1.0]
    # cutoff = 0 (keep up to max_bond): a relative cutoff of 1e-16 per split, summed over ~2000 splits,
    # already moves the energy by 1e-7; the product-formula error at dtau = 0.1 is ~1e-8 here
    res = tn.thermal_state(dm.xx(L), betas, max_bond=64, cutoff=0.0, dtau=0.1, error_run=None)
    modes = dm.integrable.xx_modes(L, "open")
    for b, e in zip(betas, res.energy):
        n = dm.integrable.thermal_occupations(modes, b)
        assert e == pytest.approx(modes.constant + n @ modes.energies, abs=1e-7)


# -- thermal states against ED ---------------------------------------------------------------------
def _gibbs_averages(w, diag_ops, betas):
    """Energy, ln Z and <O> of exp(-beta H) from the eigenvalues w and each observable's eigenbasis diagonal."""
    out = {"energy": [], "log_z": [], **{k: [] for k in diag_ops}}
    for b in betas:
        p = np.exp(-b * (w - w[0]))
        Z = p.sum()
        p /= Z
        out["energy"].append(p @ w)
        out["log_z"].append(np.log(Z) - b * w[0])
        for k, o in diag_ops.items():
            out[k].append(o @ p)
    return {k: np.array(v) for k, v in out.items()}


def _gibbs(chain, betas, names):
    w, V = np.linalg.eigh(chain.hamiltonian(sparse=False))
    return _gibbs_averages(w, {k: np.real(np.diag(V.conj().T @ chain.parse_operator(k).toarray() @ V))
                               for k in names}, betas)


@pytest.mark.parametrize("chain", [
    dm.xxz(6, 0.55, j2=0.5, hz=0.3),
    dm.tfim(6, g=0.5, h=0.2),
    pytest.param(dm.xxz(8, 0.55), marks=pytest.mark.slow),
    # L = 10: five supersites of two spins, exact at max_bond 256 (4^4); minutes, so slow
    pytest.param(dm.xxz(10, 0.55, j2=0.5, hz=0.1), marks=pytest.mark.slow),
], ids=["xxz-j2-L6", "tfim-L6", "xxz-L8", "xxz-j2-L10"])
def test_thermal_state_matches_ed(chain):
    betas = [0.0, 0.5, 1.0, 2.0, 4.0]
    names = ["z2", "x2*x3"]
    res = tn.thermal_state(chain, betas, observables=names, max_bond=1024, cutoff=0.0, dtau=0.05,
                           error_run=None)
    ref = _gibbs(chain, betas, names)
    np.testing.assert_allclose(res.energy, ref["energy"], atol=1e-8, rtol=0)
    np.testing.assert_allclose(res.log_z, ref["log_z"], atol=1e-7, rtol=0)
    # observables that do not commute with H carry the O(dtau^4) product-formula error (3e-8 here)
    for k in names:
        np.testing.assert_allclose(res.values[k], ref[k], atol=1e-7, rtol=0)


# -- canonical (fixed S^z) thermal states against ED in the sector ------------------------------------
def _sector_gibbs(chain, sz, betas, names):
    """Gibbs averages in the S^z = sz block of the dense H, the block cut out by counting down spins here."""
    L = chain.L
    n_down = round(L / 2 - sz)
    idx = np.array([b for b in range(2**L) if bin(b).count("1") == n_down])  # bit 1 = down (PHYSICS.md)
    H = chain.hamiltonian(sparse=False)[np.ix_(idx, idx)]
    w, V = np.linalg.eigh(H)
    # the package's own S^z sector gives the same spectrum (independent construction of the block)
    np.testing.assert_allclose(np.sort(dm.diagonalize(chain, sector=dict(sz=sz)).energies), w, atol=1e-12)
    ops = {k: np.real(np.diag(V.conj().T @ chain.parse_operator(k).toarray()[np.ix_(idx, idx)] @ V))
           for k in names}
    return _gibbs_averages(w, ops, betas)


@pytest.mark.parametrize("chain,sz", [
    (dm.xxz(6, 0.55, j2=0.5, hz=0.3), 0),
    (dm.xxz(6, 0.8, hz=0.2, staggered=0.3), 1),
    (dm.xxz(7, 0.8, j2=0.3, staggered=0.3), -0.5),  # odd: the last supersite holds one spin
    pytest.param(dm.xxz(8, 0.55, j2=0.5, hz=0.3), 0, marks=pytest.mark.slow),
    pytest.param(dm.xxz(10, 0.55, j2=0.5), 0, marks=pytest.mark.slow),
], ids=["xxz-j2-L6-sz0", "xxz-stag-L6-sz1", "xxz-j2-L7-sz-half", "xxz-j2-L8-sz0", "xxz-j2-L10-sz0"])
def test_canonical_thermal_state_matches_ed_in_the_sector(chain, sz):
    betas = [0.0, 0.5, 1.0, 2.0, 4.0]
    names = ["z2*z3", "x1*x2", "z0"]
    res = tn.thermal_state(chain, betas, observables=names, max_bond=1024, cutoff=0.0, dtau=0.05,
                           error_run=None, sz=sz)
    ref = _sector_gibbs(chain, sz, betas, names)
    assert res.params["sz"] == sz
    np.testing.assert_allclose(res.energy, ref["energy"], atol=1e-8, rtol=0)
    np.testing.assert_allclose(res.log_z, ref["log_z"], atol=1e-7, rtol=0)
    for k in names:
        np.testing.assert_allclose(res.values[k], ref[k], atol=1e-7, rtol=0)


@pytest.mark.parametrize("L", [8, 10])
def test_canonical_infinite_temperature_correlations_are_exact(L):
    """At beta = 0 and S^z = 0: <sigma^z_i sigma^z_j> = -1/(L-1) for every i != j, <sigma^z_i> = 0.

    (sum_ij sigma^z_i sigma^z_j = (2 S^z)^2 = 0 in the sector and every pair is equivalent at infinite
    temperature: L + L(L-1) c = 0.) The projected start state is exact with bond dimension L/2 + 1.
    """
    names = ["z0*z1", f"z{L // 2 - 1}*z{L // 2}", f"z0*z{L - 1}", "z3", "x1*x2"]
    res = tn.thermal_state(dm.xxz(L, 0.55), [0.0], observables=names, max_bond=64, cutoff=0.0,
                           error_run=None, sz=0)
    for k in names[:3]:
        assert res.values[k][0] == pytest.approx(-1 / (L - 1), abs=1e-13)
    assert res.values["z3"][0] == pytest.approx(0.0, abs=1e-13)
    # sigma^x_1 sigma^x_2 has no diagonal element in the z basis: its trace over the sector vanishes
    assert res.values["x1*x2"][0] == pytest.approx(0.0, abs=1e-13)
    from math import comb

    assert res.bond_dim[0] == L // 2 + 1
    assert res.log_z[0] == pytest.approx(np.log(comb(L, L // 2)), abs=1e-12)


def test_canonical_thermal_refuses_non_conserving_chains_and_bad_sectors():
    with pytest.raises(ValueError, match="conserves total S\\^z"):
        tn.thermal_state(dm.xxz(6, 0.55, hx=0.3), [1.0], sz=0, error_run=None)
    with pytest.raises(ValueError, match="conserves total S\\^z"):
        tn.thermal_state(dm.tfim(6, g=0.5), [1.0], sz=0, error_run=None)
    with pytest.raises(ValueError, match="not an eigenvalue"):
        tn.thermal_state(dm.xxz(6, 0.55), [1.0], sz=0.5, error_run=None)
    th = tn.thermal_state(dm.xxz(6, 0.55), [0.0, 1.0], observables=["z0*z1"], error_run=None)
    with pytest.raises(ValueError, match="sz=None but sz=0"):
        tn.thermal_value(dm.xxz(6, 0.55), "z0*z1", -0.5, thermal=th, sz=0)


def test_canonical_thermal_value_at_the_neel_energy():
    """thermal_value(..., sz=0): beta* and <O> from the sector's Gibbs state (ED root finding)."""
    from scipy.optimize import brentq

    chain = dm.xxz(8, 0.55, j2=0.5)
    E0 = tn.initial_energy(chain, "neel")
    grid = np.round(np.arange(0, 1.61, 0.1), 12)
    th = tn.thermal_state(chain, grid, observables=["z3*z4"], max_bond=256, cutoff=1e-14, dtau=0.1,
                          error_run=None, sz=0)
    tv = tn.thermal_value(chain, "z3*z4", E0, thermal=th, sz=0)

    def ed(b):
        return _sector_gibbs(chain, 0, [b], ["z3*z4"])

    b_ref = brentq(lambda b: ed(b)["energy"][0] - E0, 0, 1.6)
    assert tv.beta == pytest.approx(b_ref, abs=1e-4)
    assert tv.value == pytest.approx(ed(b_ref)["z3*z4"][0], abs=1e-5)


def test_thermal_value_interpolates_the_canonical_prediction():
    chain = dm.xxz(6, 0.55, j2=0.5)
    grid = np.round(np.arange(0, 3.01, 0.1), 12)
    th = tn.thermal_state(chain, grid, observables=["z0*z1"], max_bond=64, cutoff=1e-14, error_run=None)
    E0 = tn.initial_energy(chain, "110100")
    # ED: the beta with <H> = E0 by root finding, and <z0 z1> there
    H = chain.hamiltonian(sparse=False)
    w, V = np.linalg.eigh(H)
    O = np.real(np.diag(V.T @ chain.parse_operator("z0*z1").toarray() @ V))
    assert E0 == pytest.approx(_product_vector([1, 1, 0, 1, 0, 0]) @ H @ _product_vector([1, 1, 0, 1, 0, 0]))
    from scipy.optimize import brentq

    def e(b):
        p = np.exp(-b * (w - w[0]))
        return p @ w / p.sum()

    b_ref = brentq(lambda b: e(b) - E0, 0, 3)
    p = np.exp(-b_ref * (w - w[0]))
    o_ref = p @ O / p.sum()
    tv = tn.thermal_value(chain, "z0*z1", E0, thermal=th)
    assert tv.beta == pytest.approx(b_ref, abs=1e-4)
    assert tv.value == pytest.approx(o_ref, abs=1e-5)
    with pytest.raises(ValueError, match="negative temperature"):
        tn.thermal_value(chain, "z0*z1", 10.0, thermal=th)


def test_dmrg_ground_state_matches_ed():
    for chain in (dm.xxz(10, 0.55, j2=0.5), dm.tfim(10, g=0.9)):
        gs = tn.ground_state(chain, max_bond=64, tol=1e-12)
        e0 = np.linalg.eigvalsh(chain.hamiltonian(sparse=False))[0]
        assert gs.converged
        assert gs.energy == pytest.approx(e0, abs=1e-9)


# -- bad input -------------------------------------------------------------------------------------
def test_bad_input_messages():
    chain = dm.xxz(8, 0.55)
    with pytest.raises(ValueError, match="site 8"):
        tn.quench(chain, "neel", [1.0], "z8", error_run=None)
    with pytest.raises(ValueError, match="not a product state"):
        tn.quench(chain, "ghz", [1.0], "z1", error_run=None)
    with pytest.raises(ValueError, match="bits"):
        tn.quench(chain, "0101", [1.0], "z1", error_run=None)
    with pytest.raises(ValueError, match="beta must be >= 0"):
        tn.thermal_state(chain, [1.0, -0.5])
    with pytest.raises(ValueError, match="bc='open'"):
        tn.quench(dm.xxz(8, 0.55, bc="periodic"), "neel", [1.0], "z1")
    with pytest.raises(ValueError, match="max_bond"):
        tn.quench(chain, "neel", [1.0], "z1", max_bond=0)
    with pytest.raises(ValueError, match="non-decreasing"):
        tn.quench(chain, "neel", [1.0, 0.5], "z1")
    with pytest.raises(ValueError, match="order"):
        tn.quench(chain, "neel", [1.0], "z1", order=3)
    with pytest.raises(ValueError, match="more than 1024 sites"):
        dm.xxz(2000, 0.5)
    with pytest.raises(ValueError, match="davies_mb.tn"):
        dm.xxz(64, 0.5).hamiltonian()
