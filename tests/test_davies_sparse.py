"""The sparse zero-frequency block, its invariant pieces and their Krylov propagation (issue 13 item 2).

A massively degenerate spectrum (classical Ising ring, Dicke model) has a huge nu = 0 block that is sparse
when the couplings are Pauli strings. Above ``_DENSE_W0`` the generator builds it sparse, splits it into
connected components and decomposes (dense eigh) or propagates (expm_multiply) only the pieces that the
initial state and the observables touch. Every check is against something independent: the dense block
of the generator (itself tested against the textbook superoperator), the brute-force superoperator of
tests/brute_force.py with ``scipy.linalg.expm``, or the classical Pauli master equation written here.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp
from numpy.testing import assert_allclose

import davies_mb as dm
import davies_mb._davies_core as core
import davies_mb._davies_sparse as dsp
from brute_force import davies_superoperator, jump_operators, unvec, vec


def random_density_matrix(rng, d):
    X = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = X @ X.conj().T
    return rho / np.trace(rho).real


def _paulis(L, a):
    P = dm.pauli(a)
    P = P.real if a != "y" else P
    return [dm.site_operator(P, j, L) for j in range(L)]


def ising_ring(L):
    Z = _paulis(L, "z")
    return sp.csr_array(-sum(Z[j] @ Z[(j + 1) % L] for j in range(L)))


@pytest.fixture
def force_sparse(monkeypatch):
    """Small systems take the large-block route: sparse block and invariant pieces."""
    monkeypatch.setattr(core, "_DENSE_W0", 4)  # fails loudly (AttributeError) if a threshold is renamed
    monkeypatch.setattr(core, "_SPARSE_FILL", 1.0)


def _case(name):
    L = 4
    bath = dm.OhmicBath(beta=1.0, eta=1.0, cutoff=5.0)
    if name == "ising-x":  # diagonal H, a bath on every site: populations never feed coherences
        return ising_ring(L), _paulis(L, "x"), bath, False
    if name == "ising-xy-lamb":  # complex couplings and the Lamb shift
        return ising_ring(L), [_paulis(L, "y")[0], _paulis(L, "x")[2]], bath, True
    if name == "xxz-dense":  # generic chain: the couplings are dense in the eigenbasis
        chain = dm.xxz(L, 0.5, j2=0.3)
        return chain.hamiltonian(), [chain.parse_operator("x0+z1")], bath, False
    raise ValueError(name)


CASES = ["ising-x", "ising-xy-lamb", "xxz-dense"]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("physical", [False, True])
def test_sparse_block_equals_dense_block(name, physical):
    H, A, bath, ls = _case(name)
    gen = dm.DaviesGenerator(dm.diagonalize(H.toarray()), A, bath, lamb_shift=ls)
    c = gen._core
    S = dsp.w0_sparse(c, physical=physical)
    M = c.block(c.I0, c.J0, physical=physical)
    assert sp.issparse(S) and S.shape == M.shape
    assert_allclose(S.toarray(), M, atol=1e-14 * np.max(np.abs(M)), rtol=0)


def _brute_expect(H, A, bath, lam, ls, rho0, ops, times):
    Hd = H.toarray()
    Hls = 0
    if ls:  # H_LS = sum_w S(w) A(w)^dag A(w), written from the textbook jump operators
        for a in A:
            a = a.toarray() if hasattr(a, "toarray") else a
            Hls = Hls + sum(bath.lamb_shift(w) * Aw.conj().T @ Aw for w, Aw in jump_operators(Hd, a.astype(complex), 1e-9))
    Lb = davies_superoperator(Hd, A, [bath.gamma] * len(A), lam=lam)
    if ls:
        I = np.eye(Hd.shape[0])
        Lb = Lb - 1j * lam**2 * (np.kron(I, Hls) - np.kron(Hls.T, I))
    d = Hd.shape[0]
    out = np.zeros((len(ops), len(times)), dtype=complex)
    for k, t in enumerate(times):
        rho = unvec(sla.expm(t * Lb) @ vec(rho0), d)
        for o, O in enumerate(ops):
            O = O.toarray() if hasattr(O, "toarray") else O
            out[o, k] = np.trace(O @ rho)
    return out


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("krylov", [False, True])
def test_pieces_and_krylov_match_brute_force(name, krylov, force_sparse, monkeypatch, rng):
    if krylov:
        monkeypatch.setattr(core, "_DENSE_COMPONENT", 2)  # every piece above 2 elements is propagated
    H, A, bath, ls = _case(name)
    L = 4
    lam = 0.3
    gen = dm.DaviesGenerator(dm.diagonalize(H.toarray()), A, bath, strength=lam, lamb_shift=ls)
    rho0 = random_density_matrix(rng, 2**L)  # coherences everywhere: every piece is touched
    Mz = sum(_paulis(L, "z"))
    ops = [Mz, H, _paulis(L, "x")[0] @ _paulis(L, "x")[1], _paulis(L, "x")[1]]
    times = np.array([0.0, 0.7, 3.0, 20.0])
    me = gen.mode_expansion(ops, rho0)
    if name != "xxz-dense":  # (a generic chain: one piece, the whole block)
        assert gen._core._w0 is None  # the full nu = 0 eigen-decomposition was never computed
    # pieces above _DENSE_COMPONENT of a sparse block are propagated; a dense block's piece is decomposed
    assert (len(me.krylov) > 0) == (krylov and name != "xxz-dense")
    if name != "xxz-dense":
        assert gen._core.w0_sparse() is not None
    got = me.evaluate(times, lam)
    ref = _brute_expect(H, A, bath, lam, ls, rho0, ops, times)
    assert_allclose(got, ref if not me.hermitian else ref.real, atol=1e-10, rtol=0)
    # commuting observables: only the nu = 0 block
    mc = gen.mode_expansion([Mz], rho0, commuting=True)
    assert_allclose(mc.evaluate(times, lam)[0], ref[0].real, atol=1e-10, rtol=0)


@pytest.mark.parametrize("lanczos", [False, True])
def test_slow_modes_and_kernel_from_the_sparse_block(monkeypatch, lanczos):
    H, A, bath, _ = _case("ising-x")
    spec = dm.diagonalize(H.toarray())
    ref = dm.DaviesGenerator(spec, A, bath)
    rates0, k0 = ref.relaxation_rates(5), ref.kernel_dimension()
    rho0 = np.zeros((16, 16))
    rho0[3, 3] = 1.0
    st0 = ref.stationary_state(rho0)
    assert ref._core._w0 is not None  # the reference is the dense path: one eigh of the whole block
    monkeypatch.setattr(core, "_DENSE_W0", 4)
    monkeypatch.setattr(core, "_SPARSE_FILL", 1.0)
    if lanczos:
        monkeypatch.setattr(core, "_DENSE_COMPONENT", 5)
    gen = dm.DaviesGenerator(spec, A, bath)
    assert_allclose(gen.relaxation_rates(5), rates0, rtol=1e-9)
    assert gen.kernel_dimension() == k0
    assert_allclose(gen.stationary_state(rho0), st0, atol=1e-10)
    assert gen._core._w0 is None and gen._core.w0_sparse() is not None


def test_ising_ring_eight_site_baths_against_the_pauli_master_equation():
    # issue 13: d = 256, levels of degeneracy up to 140, a nu = 0 block of 25880 elements (default thresholds)
    L, lam, beta = 8, 0.2, 1.0
    H = ising_ring(L)
    X = _paulis(L, "x")
    bath = dm.OhmicBath(beta=beta, eta=1.0, cutoff=5.0)
    gen = dm.DaviesGenerator(dm.diagonalize(H.toarray()), X, bath, strength=lam)
    assert gen._core.I0.size == 25880
    Mz = sum(_paulis(L, "z"))
    psi = np.zeros(2**L)
    psi[0] = 1.0  # all up
    times = np.array([0.0, 1.0, 10.0, 100.0])
    got = gen.expect([Mz, H], np.outer(psi, psi), times)
    assert gen._core._w0 is None
    # independent: H is diagonal, so populations follow the classical master equation with the rate
    # gamma(E_l - E_k) for the spin flip l -> k (|<k|x_j|l>|^2 = 1)
    E = H.diagonal()
    d = 2**L
    W = np.zeros((d, d))
    for j in range(L):
        flip = np.arange(d) ^ (1 << (L - 1 - j))
        W[flip, np.arange(d)] += bath.gamma(E - E[flip])
    W -= np.diag(W.sum(axis=0))
    mz = np.asarray(Mz.diagonal())
    p0 = psi**2
    ref = np.array([[f @ (sla.expm(lam**2 * t * W) @ p0) for t in times] for f in (mz, E)])
    assert_allclose(got, ref, atol=1e-10, rtol=0)


def test_krylov_block_any_time_order():
    # times in any order and repeated: each value is the propagation to that time
    rng = np.random.default_rng(3)
    B = rng.normal(size=(6, 6))
    M = sp.csr_array(-(B @ B.T))
    y0 = rng.normal(size=6)
    w = rng.normal(size=(2, 6))
    kb = dsp.KrylovBlock(M, y0, w)
    t = np.array([2.0, 0.0, 0.5, 2.0, 1.0])
    ref = np.stack([w @ (sla.expm(0.09 * tt * M.toarray()) @ y0) for tt in t], axis=1)
    assert_allclose(kb.values(t, 0.09), ref, atol=1e-12, rtol=0)
