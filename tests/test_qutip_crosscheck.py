"""Cross-check of the Davies generator against QuTiP 5's Bloch-Redfield tensor, and QuTiP's pitfalls.

Conventions, read from qutip/core/_brtensor.pyx (QuTiP 5.3.1):

* Spectrum sign. QuTiP evaluates the a_ops spectrum at ``skew[a, b] = E_a - E_b`` and the population
  element for the transition |c> -> |a> is ``|A_ac|^2 S(E_c - E_a)``: S is evaluated at the energy the
  system *gives to the bath* (initial minus final). That is exactly our gamma(w) (w > 0 = emission,
  PHYSICS.md section 2), so ``spectra = bath.gamma`` unchanged, times lambda^2 for the strength. QuTiP
  keeps only the real part of the one-sided bath correlation (no Lamb shift), which matches our default
  ``lamb_shift=False``. A spectrum callable must have the single parameter ``w``: with more parameters
  QuTiP treats it as a time-dependent coefficient f(t, args) (silently wrong), so no default-argument
  closures.
* Vectorization. ``R.full()`` uses column stacking, as our ``superoperator()``.
* Secular cutoff. QuTiP keeps R_{ab,cd} when |(E_a - E_b) - (E_c - E_d)| < sec_cutoff * dw_min, where
  dw_min is the smallest nonzero |E_i - E_j| (PHYSICS.md pitfall). On a non-degenerate spectrum we choose
  sec_cutoff so that the absolute cutoff is 1e-9, far above round-off and far below the smallest
  difference between distinct Bohr frequencies (checked): then QuTiP's secular tensor IS the Davies
  generator.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

import brute_force as bf
import davies_mb as dm
import reference_systems as rs

import qutip  # noqa: E402  a test dependency (pyproject [test]): a broken install must fail, not skip


def dense(op):
    return op.toarray() if sp.issparse(op) else np.asarray(op)


def spectrum_fn(bath, lam):
    """QuTiP spectrum S(w) = lam^2 gamma(w): a one-parameter callable (see the module docstring)."""

    def S(w):
        return lam**2 * bath.gamma(w)

    return S


def qutip_tensor(H, couplings, baths, lam, sec_cutoff, fock_basis=True):
    a_ops = [(qutip.Qobj(dense(A)), spectrum_fn(b, lam)) for A, b in zip(couplings, baths)]
    return qutip.bloch_redfield_tensor(qutip.Qobj(H), a_ops=a_ops, sec_cutoff=sec_cutoff, fock_basis=fock_basis)


def superop_gap(L):
    return bf.gap(L)


def nondegenerate_chain(L):
    """XXZ + J2 with an extra field 0.37 S^z_0 on site 0: breaks S^z flip and reflection degeneracies."""
    chain = dm.xxz(L, 0.5, j2=0.3)
    H = chain.hamiltonian(sparse=False) + 0.37 * dense(chain.op("z", 0))
    return chain, H


def bohr_structure(H):
    """(smallest level spacing, smallest positive Bohr frequency, smallest gap between distinct Bohr freqs)."""
    E = np.linalg.eigvalsh(H)
    nu = (E[:, None] - E[None, :]).ravel()
    nu = np.sort(nu[nu > 0])
    return float(np.min(np.diff(E))), float(nu[0]), float(np.min(np.diff(nu)))


# ==================================================================================================
# Agreement on non-degenerate spectra
# ==================================================================================================
def test_spectrum_sign_convention_two_level():
    """S(w) = gamma(w) reproduces our two-level generator; the mirrored S(-w) would invert the populations."""
    tl = rs.TwoLevel(w0=1.2, a_x=1.0, a_z=0.3)
    bath = dm.OhmicBath(1.5, eta=0.7, cutoff=4.0)
    gen = dm.DaviesGenerator(dm.diagonalize(tl.H), [tl.A], bath, strength=0.4)
    R = qutip_tensor(tl.H, [tl.A], [bath], 0.4, sec_cutoff=1e-6).full()
    assert_allclose(R, gen.superoperator(), atol=1e-12 * np.linalg.norm(R), rtol=0)
    ss = qutip.steadystate(qutip.Qobj(R, dims=[[[2], [2]], [[2], [2]]], superrep="super")).full()
    assert_allclose(ss, tl.gibbs(1.5), atol=1e-12, rtol=0)

    def mirrored(w):
        return bath.gamma(-w)

    Rm = qutip.bloch_redfield_tensor(qutip.Qobj(tl.H), a_ops=[(qutip.Qobj(tl.A), mirrored)],
                                     sec_cutoff=1e-6, fock_basis=True)
    pe_m = qutip.steadystate(Rm).full()[0, 0].real
    assert_allclose(pe_m, 1.0 / (np.exp(-1.5 * 1.2) + 1.0), rtol=1e-10)  # inverted: p_e > 1/2


@pytest.mark.parametrize("L", [4, 5])
def test_qutip_secular_tensor_equals_davies_on_nondegenerate_chain(L):
    chain, H = nondegenerate_chain(L)
    spacing, dw_min, bohr_gap = bohr_structure(H)
    assert spacing > 1e-3  # non-degenerate levels
    assert bohr_gap > 1e-7  # non-degenerate Bohr frequencies: the cutoff 1e-9 separates every class
    couplings = [chain.parse_operator("x0+z1"), chain.parse_operator(f"0.5*x2+z{L - 1}")]
    baths = [dm.OhmicBath(1.0, eta=1.0, cutoff=5.0), dm.OhmicBath(1.0, eta=0.5, cutoff=2.0)]
    lam = 0.3
    gen = dm.DaviesGenerator(dm.diagonalize(H), couplings, baths, strength=lam)
    R = qutip_tensor(H, couplings, baths, lam, sec_cutoff=1e-9 / dw_min)  # absolute cutoff 1e-9
    Rq = R.full()
    S = gen.superoperator()
    assert np.linalg.norm(Rq - S) <= 1e-8 * np.linalg.norm(S)
    # steady states agree, and are the Gibbs state
    ss_q = qutip.steadystate(R).full()
    ss = gen.stationary_state(np.eye(H.shape[0]) / H.shape[0])
    assert_allclose(ss_q, ss, atol=1e-8, rtol=0)
    assert_allclose(ss, bf.gibbs(H, 1.0), atol=1e-10, rtol=0)


# ==================================================================================================
# PHYSICS.md pitfall 1: QuTiP's relative secular cutoff on a degenerate spectrum
# ==================================================================================================
@pytest.mark.parametrize("sec_cutoff", [0.1, 1e-6])
def test_pitfall_degenerate_spectrum_secular_cutoff(sec_cutoff):
    # XXZ L=4, Delta=0.5 (S^z flip and reflection symmetric: degenerate levels), A = sigma^x_0 + sigma^z_1,
    # Ohmic eta=1, wc=5, beta=1, lambda=1. QuTiP multiplies sec_cutoff by the smallest nonzero |E_i - E_j|,
    # which here is round-off between numerically degenerate eigenvalues (~1e-15): the coherences inside
    # degenerate levels are never grouped with the populations, so its "secular" tensor is not the Davies
    # generator and its gap is 3.338 instead of 3.1916.
    chain = dm.xxz(4, 0.5)
    H = chain.hamiltonian(sparse=False)
    A = chain.parse_operator("x0+z1")
    bath = dm.OhmicBath(1.0, eta=1.0, cutoff=5.0)
    gen = dm.DaviesGenerator(dm.diagonalize(chain), [A], bath, strength=1.0)
    ours = gen.gap()
    Lb = bf.davies_superoperator(H, [A], [bath.gamma])
    assert abs(ours - superop_gap(Lb)) <= 1e-10 * ours
    assert_allclose(ours, 3.1916, atol=5e-5)
    Rq = qutip_tensor(H, [A], [bath], 1.0, sec_cutoff=sec_cutoff).full()
    theirs = superop_gap(Rq)
    assert abs(theirs - ours) > 0.1
    assert_allclose(theirs, 3.338, atol=2e-3)
    assert np.linalg.norm(Rq - Lb) > 1e-3 * np.linalg.norm(Lb)


# ==================================================================================================
# PHYSICS.md pitfall 2: fock_basis=False rotates the Hamiltonian part the wrong way
# ==================================================================================================
@pytest.mark.parametrize(
    "L,secular",
    [
        pytest.param(4, True, id="secular-4"),
        pytest.param(5, True, id="secular-5"),
        pytest.param(4, False, id="full_redfield-4"),
        pytest.param(5, False, id="full_redfield-5", marks=pytest.mark.slow),  # dense d^4 tensor, ~5 s
    ],
)
def test_pitfall_fock_basis_false(L, secular):
    # QuTiP 5.3.1 returns, for fock_basis=False, R_eig = sprepost(V, V^+) @ L_H @ sprepost(V^+, V) + D_eig:
    # the Hamiltonian part is conjugated the wrong way round (-i[V H V^+, .] instead of -i[diag(E), .]).
    # Its steady state, read in the eigenbasis it claims, is then far from the Gibbs state at weak coupling
    # (the wrong Hamiltonian term competes with rates ~ lambda^2; here lambda = 0.1: trace distance
    # 0.23-0.31), while fock_basis=True gives the Gibbs state.
    # The chain is the non-degenerate XXZ + J2 + field (so pitfall 1 plays no role).
    # Full Redfield (sec_cutoff=-1) with fock_basis=True also has the Gibbs state EXACTLY stationary: QuTiP
    # keeps only the real part Gamma(w) = gamma(w)/2 of the one-sided correlation, and with
    # Lam = sum_w Gamma(w) A(w), KMS gives Lam sigma = sigma Lam^+, so the Redfield dissipator
    # Lam s A + A s Lam^+ - A Lam s - s Lam^+ A vanishes at s = sigma (it would not with the Lamb shift).
    chain, H = nondegenerate_chain(L)
    spacing, dw_min, bohr_gap = bohr_structure(H)
    A = chain.parse_operator("x0+z1")
    bath = dm.OhmicBath(1.0)
    lam = 0.1
    sc = 1e-9 / dw_min if secular else -1
    sigma = bf.gibbs(H, 1.0)
    E, V = np.linalg.eigh(H)
    p = np.exp(-(E - E[0]))
    p /= p.sum()

    R_lab = qutip_tensor(H, [A], [bath], lam, sec_cutoff=sc, fock_basis=True)
    ss_lab = qutip.steadystate(R_lab).full()
    assert rs.trace_distance(ss_lab, sigma) < 1e-10

    R_eig, evecs = qutip_tensor(H, [A], [bath], lam, sec_cutoff=sc, fock_basis=False)
    ss_eig = qutip.steadystate(R_eig).full()
    # in the eigenbasis the Gibbs state is diag(p); the trace distance is basis independent
    assert rs.trace_distance(ss_eig, np.diag(p)) > 0.1
    Vq = evecs.full()
    assert rs.trace_distance(Vq @ ss_eig @ Vq.conj().T, sigma) > 0.1

    # the diagnosis: R_eig minus the wrongly rotated Hamiltonian part is the correctly transformed
    # dissipator; with -i[diag(E), .] instead, it is the fock-basis tensor in the eigenbasis.
    T = np.kron(Vq.conj(), Vq)  # vec(V X V^+) = (conj(V) (x) V) vec(X)
    Rl = R_lab.full()
    R_correct = T.conj().T @ Rl @ T
    wrong_H = bf.hamiltonian_superoperator(Vq @ H @ Vq.conj().T)
    right_H = bf.hamiltonian_superoperator(np.diag(np.diag(Vq.conj().T @ H @ Vq).real))
    Rq = R_eig.full()
    nrm = np.linalg.norm(Rl)
    assert np.linalg.norm((Rq - wrong_H) - (R_correct - right_H)) <= 1e-8 * nrm
    assert np.linalg.norm(Rq - R_correct) > 0.1 * np.linalg.norm(right_H)
