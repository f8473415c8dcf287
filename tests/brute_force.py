"""Independent brute-force Davies superoperator, straight from the textbook formula (PHYSICS.md section 3).

Used only by the tests. It shares nothing with davies_mb.davies: levels come from its own grouping of
numpy.linalg.eigh eigenvalues, A(w) is built from eigenprojectors for every distinct Bohr frequency, and
the superoperator is assembled with Kronecker products (column stacking).
"""

from __future__ import annotations

import numpy as np


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
    """{w: A(w)} with A(w) = sum_{eps' - eps = w} Pi(eps) A Pi(eps')."""
    eps, P = eigenprojectors(H, tol)
    out = []  # list of (w, A(w)); group equal w with tolerance
    for a in range(eps.size):
        for b in range(eps.size):
            w = eps[b] - eps[a]
            term = P[a] @ A @ P[b]
            for k, (w2, M) in enumerate(out):
                if abs(w2 - w) <= 2 * tol:
                    out[k] = (w2, M + term)
                    break
            else:
                out.append((w, term))
    return out


def davies_superoperator(H, couplings, gammas, lam=1.0, tol=1e-9):
    """d^2 x d^2 Davies generator; ``gammas[k]`` is a callable gamma(w) for coupling k."""
    d = H.shape[0]
    I = np.eye(d)
    L = -1j * (np.kron(I, H) - np.kron(H.T, I))
    for A, gamma in zip(couplings, gammas):
        for w, Aw in jump_operators(H, np.asarray(A, dtype=complex), tol):
            g = float(gamma(w))
            AdA = Aw.conj().T @ Aw
            L += lam**2 * g * (np.kron(Aw.conj(), Aw) - 0.5 * np.kron(I, AdA) - 0.5 * np.kron(AdA.T, I))
    return L


def vec(rho):
    return np.asarray(rho).reshape(-1, order="F")


def unvec(v, d):
    return np.asarray(v).reshape(d, d, order="F")
