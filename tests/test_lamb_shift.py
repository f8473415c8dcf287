"""Lamb shift in the Davies generator against the textbook construction (PHYSICS.md section 2).

H_LS = sum_w S(w) A(w)^dag A(w) commutes with H; the generator gains -i lambda^2 [H_LS, rho]. The
brute-force reference adds that commutator to tests/brute_force.py's dissipator, with S(w) from the bath.
"""

import numpy as np
import pytest

import davies_mb as dm
from brute_force import davies_superoperator, jump_operators


def _reference(H, A, bath, lam):
    L = davies_superoperator(H, [A], [bath.gamma], lam=lam)
    HLS = sum(bath.lamb_shift(w) * Aw.conj().T @ Aw for w, Aw in jump_operators(H, A.astype(complex), 1e-9))
    eye = np.eye(H.shape[0])
    return L - 1j * lam**2 * (np.kron(eye, HLS) - np.kron(HLS.T, eye)), HLS


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lamb_shift_superoperator_matches_textbook(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(4, 4))
    H = X + X.T
    A = rng.normal(size=(4, 4))
    A = A + A.T
    bath = dm.OhmicBath(beta=1.0, eta=0.7, cutoff=3.0)
    gen = dm.DaviesGenerator(dm.diagonalize(H), A, bath, strength=0.4, lamb_shift=True)
    Lref, HLS = _reference(H, A, bath, 0.4)
    assert np.max(np.abs(HLS @ H - H @ HLS)) < 1e-10  # H_LS commutes with H
    assert np.max(np.abs(gen.superoperator() - Lref)) < 1e-10 * np.max(np.abs(Lref))


def test_lamb_shift_degenerate_levels_and_gibbs():
    # a degenerate spectrum: the Lamb shift acts inside degenerate levels but leaves Gibbs stationary
    chain = dm.xxz(3, 0.5)
    H = chain.hamiltonian(sparse=False)
    A = chain.parse_operator("x0+z1").toarray()
    bath = dm.OhmicBath(beta=0.8)
    spec = dm.diagonalize(chain)
    assert spec.degeneracies.max() > 1
    gen = dm.DaviesGenerator(spec, A, bath, strength=0.5, lamb_shift=True)
    Lref, _ = _reference(H, A, bath, 0.5)
    assert np.max(np.abs(gen.superoperator() - Lref)) < 1e-10 * np.max(np.abs(Lref))
    gibbs = spec.gibbs(0.8)
    rho = gen.stationary_state(np.eye(8) / 8)
    assert np.max(np.abs(rho - gibbs)) < 1e-10
    # populations do not feel the Lamb shift: same gap as without it in this chain's population sector
    t = [0.0, 0.7, 3.0]
    rho0 = np.zeros((8, 8))
    rho0[0, 0] = 1.0
    pops = [np.diag(spec.to_eigenbasis(r)).real for r in gen.evolve(rho0, t)]
    gen0 = dm.DaviesGenerator(spec, A, bath, strength=0.5)
    pops0 = [np.diag(spec.to_eigenbasis(r)).real for r in gen0.evolve(rho0, t)]
    assert np.max(np.abs(np.array(pops) - np.array(pops0))) < 1e-10
