"""Independent brute-force Davies superoperator, straight from the textbook formula (PHYSICS.md section 3).

Used only by the tests. It shares nothing with davies_mb.davies: levels come from its own grouping of
numpy.linalg.eigh eigenvalues, A(w) is built from eigenprojectors for every distinct Bohr frequency, and
the superoperator is assembled from Kronecker products (column stacking):

    L = -i (I (x) H - H^T (x) I)
        + lam^2 sum_alpha sum_w gamma_alpha(w) [ conj(A(w)) (x) A(w)
                                                 - 1/2 I (x) A(w)^+ A(w) - 1/2 (A(w)^+ A(w))^T (x) I ].

The sum over w of Kronecker products is done as one matrix product (sum_w g_w conj(A_w) (x) A_w is a
reshaped (d^2 x n_w) @ (n_w x d^2) product), which is the same formula, only fast enough for d = 32.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla


def eigenprojectors(H, tol):
    E, V = np.linalg.eigh(H)
    levels, projs = [], []
    start = 0
    for i in range(1, E.size + 1):
        if i == E.size or E[i] - E[i - 1] > tol:
            levels.append(E[start:i].mean())
            projs.append(V[:, start:i] @ V[:, start:i].conj().T)
            start = i
    return np.array(levels), projs


def jump_operators(H, A, tol):
    """[(w, A(w))] with A(w) = sum_{eps' - eps = w} Pi(eps) A Pi(eps'); equal w grouped within 2 tol."""
    eps, P = eigenprojectors(H, tol)
    ws, mats = [], []
    for a in range(eps.size):
        for b in range(eps.size):
            w = eps[b] - eps[a]
            term = P[a] @ A @ P[b]
            for k, w2 in enumerate(ws):
                if abs(w2 - w) <= 2 * tol:
                    mats[k] = mats[k] + term
                    break
            else:
                ws.append(w)
                mats.append(term)
    return list(zip(ws, mats))


def hamiltonian_superoperator(H):
    """-i[H, .] as a d^2 x d^2 matrix (column stacking)."""
    H = np.asarray(H, dtype=complex)
    d = H.shape[0]
    I = np.eye(d)
    return -1j * (np.kron(I, H) - np.kron(H.T, I))


def dissipator(H, couplings, gammas, lam=1.0, tol=1e-9):
    """The Davies dissipator alone (no -i[H, .]); ``gammas[k]`` is a callable gamma(w) for coupling k."""
    H = np.asarray(H)
    d = H.shape[0]
    I = np.eye(d)
    D = np.zeros((d * d, d * d), dtype=complex)
    K = np.zeros((d, d), dtype=complex)
    for A, gamma in zip(couplings, gammas):
        A = np.asarray(A.toarray() if hasattr(A, "toarray") else A, dtype=complex)
        jumps = jump_operators(H, A, tol)
        g = np.array([float(gamma(w)) for w, _ in jumps])
        Aw = np.array([M for _, M in jumps])  # (n_w, d, d)
        K += np.einsum("w,wki,wkj->ij", g, Aw.conj(), Aw)  # sum_w g A(w)^+ A(w)
        # sum_w g_w kron(conj(A_w), A_w)[(i d + k), (j d + l)] = sum_w g_w conj(A_w)_ij (A_w)_kl
        left = (g[:, None] * Aw.conj().reshape(len(g), d * d)).T  # ((i, j), w)
        right = Aw.reshape(len(g), d * d)  # (w, (k, l))
        D += (left @ right).reshape(d, d, d, d).transpose(0, 2, 1, 3).reshape(d * d, d * d)
    D -= 0.5 * (np.kron(I, K) + np.kron(K.T, I))
    return lam**2 * D


def davies_superoperator(H, couplings, gammas, lam=1.0, tol=1e-9):
    """d^2 x d^2 Davies generator; ``gammas[k]`` is a callable gamma(w) for coupling k."""
    return hamiltonian_superoperator(H) + dissipator(H, couplings, gammas, lam=lam, tol=tol)


def kernel_dimension(L, rtol=1e-9):
    """Dimension of the null space of a superoperator (singular values below rtol * largest)."""
    s = np.linalg.svd(L, compute_uv=False)
    return int(np.sum(s <= rtol * s[0]))


def null_space(L, rtol=1e-9):
    """Orthonormal basis (columns) of the null space of L."""
    return sla.null_space(L, rcond=rtol)


def gap(L, zero_tol=1e-9):
    """min{-Re mu : mu in spec(L), |mu| > zero_tol * max|mu|}."""
    mu = np.linalg.eigvals(L)
    scale = np.max(np.abs(mu))
    rates = -mu.real[np.abs(mu) > zero_tol * scale]
    return float(np.min(rates))


def gibbs(H, beta):
    E, V = np.linalg.eigh(H)
    p = np.exp(-beta * (E - E[0]))
    p /= p.sum()
    return (V * p) @ V.conj().T


def vec(rho):
    return np.asarray(rho).reshape(-1, order="F")


def unvec(v, d):
    return np.asarray(v).reshape(d, d, order="F")


def commutant_dimension(H, couplings, tol=1e-9, rtol=1e-9):
    """dim{X : [X, H] = 0 and [X, A_alpha] = 0 for all alpha}.

    For a Davies generator whose rates gamma_alpha(w) are all > 0 (Ohmic baths at finite temperature),
    the stationary manifold has this dimension (the conserved quantities are this commutant; PHYSICS.md
    section 4): X commutes with H iff it is block diagonal over levels, and then [X, A] = 0 iff
    [X, A(w)] = 0 for every Bohr component. Cheap: the unknowns are the sum_eps g_eps^2 entries of X inside
    the degenerate levels (eigenbasis of numpy.linalg.eigh, levels grouped with ``tol``).
    """
    E, V = np.linalg.eigh(np.asarray(H))
    d = E.size
    starts = [0] + [i for i in range(1, d) if E[i] - E[i - 1] > tol] + [d]
    pairs = [(i, j) for a, b in zip(starts[:-1], starts[1:]) for i in range(a, b) for j in range(a, b)]
    blocks = []
    for A in couplings:
        A = np.asarray(A.toarray() if hasattr(A, "toarray") else A, dtype=complex)
        Ae = V.conj().T @ A @ V
        cols = np.zeros((d * d, len(pairs)), dtype=complex)
        for k, (i, j) in enumerate(pairs):
            C = np.zeros((d, d), dtype=complex)
            C[:, j] += Ae[:, i]  # A |i><j|
            C[i, :] -= Ae[j, :]  # |i><j| A
            cols[:, k] = C.reshape(-1)
        blocks.append(cols)
    M = np.vstack(blocks)
    s = np.linalg.svd(M, compute_uv=False)
    if s.size == 0 or s[0] == 0:
        return len(pairs)
    return int(len(pairs) - np.sum(s > rtol * s[0]))
