r"""Sparse zero-frequency block of the Davies generator, its invariant pieces, and Krylov propagation.

The :math:`\nu = 0` block (populations and coherences inside degenerate levels) has
:math:`D_0 = \sum_\epsilon g_\epsilon^2` elements. For massively degenerate spectra (a classical Ising ring,
a Dicke model) :math:`D_0` is tens of thousands, so its dense eigen-decomposition is out of reach, but the
block is *sparse* whenever the couplings are sparse in the eigenbasis (Pauli strings and a Hamiltonian
diagonal in the computational basis): the jump part maps :math:`(i, j) \to (k, l)` only through nonzero
:math:`A_{ki}\overline{A_{lj}}` with :math:`k, l` in one level, and the anticommutator part acts through the
intra-level blocks of :math:`K`. This module

* builds that block as a scipy sparse matrix from the nonzeros of the couplings (index arithmetic on the
  CSC structure; exact zeros are simply not stored, nothing is dropped by size),
* splits it into its connected components (``scipy.sparse.csgraph.connected_components``): each component is
  an exactly invariant subspace (e.g. populations never feed coherences when H is diagonal in the
  computational basis and the couplings are Pauli strings),
* propagates a component too large for a dense ``eigh`` with ``scipy.sparse.linalg.expm_multiply``
  (:class:`KrylovBlock`).

Only components that both the initial state and an observable touch contribute to an expectation value,
so everything else is never decomposed or propagated. ``_Core`` (in :mod:`davies_mb._davies_core`) calls
these functions; the thresholds live there.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.csgraph import connected_components

from . import _checks

_ENTRY_CHUNK = 2**21  # jump entries generated per chunk (bounds the temporaries to ~100 MiB)
_MAX_DENSITY = 0.05  # above this fill fraction the dense block (or Lanczos) is the better route


def jump_count(core) -> int:
    r"""Upper bound on the stored jump entries of the sparse nu = 0 block:
    :math:`\sum_\alpha \sum_{(i,j)} \mathrm{nnz}(A^\alpha_{:,i})\,\mathrm{nnz}(A^\alpha_{:,j})` (before the
    same-level filter). Cheap: one ``count_nonzero`` per column of each coupling."""
    total = 0
    for A in core.A:
        cnt = np.count_nonzero(A, axis=0).astype(np.int64)  # per column
        total += int(np.sum(cnt[core.I0] * cnt[core.J0]))
    return total


def _csc(X):
    """CSC structure (indptr, row indices, values) of the nonzeros of ``X`` (dense or sparse)."""
    Xs = sp.csc_array(X)
    Xs.eliminate_zeros()  # explicit zeros are not entries (nothing else is dropped)
    return Xs.indptr.astype(np.int64), Xs.indices.astype(np.int64), Xs.data


def _pair_entries(core, A, B, R, I, J):
    r"""(row positions, column positions, values) of the map :math:`X \mapsto A X B^\dagger` on the nu = 0 set.

    Column ``q = (i, j)``; rows ``(k, l)`` with ``A_ki != 0``, ``B_lj != 0`` and ``k``, ``l`` in one level;
    value ``R[lev k, lev i] A_ki conj(B_lj)`` (``R = None``: weight 1). ``A`` or ``B`` None is the identity.
    """
    n, li = core.n, core.li
    eye = (np.arange(n + 1, dtype=np.int64), np.arange(n, dtype=np.int64), np.ones(n))
    ia, ra, da = eye if A is None else _csc(A)
    ib, rb, db = eye if B is None else _csc(B)
    ca, cb = np.diff(ia), np.diff(ib)
    keys = core.I0 * n + core.J0  # sorted (see _Core._levels_members)
    per = ca[I] * cb[J]
    ends = np.cumsum(per)
    P, Q, V = [], [], []
    q0 = 0
    m = I.size
    while q0 < m:
        base = ends[q0 - 1] if q0 else 0
        q1 = max(int(np.searchsorted(ends, base + _ENTRY_CHUNK, side="right")), q0 + 1)
        qs = np.arange(q0, q1)
        pq = per[qs]
        q = np.repeat(qs, pq)
        t = np.arange(q.size) - np.repeat(np.cumsum(pq) - pq, pq)
        cj = cb[J[q]]
        pk = ia[I[q]] + t // cj
        pl = ib[J[q]] + t % cj
        k, l_ = ra[pk], rb[pl]
        keep = li[k] == li[l_]
        q, pk, pl, k, l_ = q[keep], pk[keep], pl[keep], k[keep], l_[keep]
        P.append(np.searchsorted(keys, k * n + l_))
        Q.append(q)
        v = da[pk] * np.conj(db[pl])
        V.append(v if R is None else R[li[k], li[I[q]]] * v)
        q0 = q1
    return np.concatenate(P), np.concatenate(Q), np.concatenate(V)


def w0_sparse(core, physical: bool = False):
    r"""The nu = 0 block (lambda = 1) as a CSR matrix, in the symmetric frame (or physical with
    ``physical=True``); the same matrix as ``core.block(I0, J0)`` without its zeros.

    .. math:: M_{(k,l),(i,j)} = \sum_\alpha R_\alpha[\ell_k, \ell_i] A^\alpha_{ki}\overline{A^\alpha_{lj}}
              - \tfrac12 (K_{ki}\delta_{lj} + \delta_{ki} K_{jl}) - i (H^{LS}_{ki}\delta_{lj} - \delta_{ki} H^{LS}_{jl})
    """
    I, J = core.I0, core.J0
    m = I.size
    est = jump_count(core)
    cplx = not (core.real and not core.lamb_shift)
    _checks.check_memory_total(
        "the sparse zero-frequency block of the Davies generator",
        [((est,), np.int64)] * 4 + [((est,), np.complex128 if cplx else np.float64)] * 2,
        hint="Use a symmetry sector or a smaller system.")
    rates = core.gamma_l if physical else core.rate_l
    Ps, Qs, Vs = [], [], []

    def add(A, B, R, coef):
        p, q, v = _pair_entries(core, A, B, R, I, J)
        Ps.append(p)
        Qs.append(q)
        Vs.append(coef * v)

    for a, A in enumerate(core.A):
        add(A, A, rates[a], 1.0)  # jumps A rho A^dag, weighted by the rates
    # -(K X + X K)/2 and -i[H_LS, X]: K and H_LS are Hermitian and intra-level, (X K)_kl = sum_j X_kj conj(K_lj)
    add(core.K, None, None, -0.5)
    add(None, core.K, None, -0.5)
    if core.lamb_shift:
        add(core.HLS, None, None, -1j)
        add(None, core.HLS, None, 1j)
    vals = np.concatenate(Vs)
    if not cplx:
        vals = np.real(vals)
    M = sp.csr_array((vals, (np.concatenate(Ps), np.concatenate(Qs))), shape=(m, m))
    M.sum_duplicates()
    return M


def components(M) -> tuple[int, np.ndarray]:
    """Connected components of the sparsity graph of ``M`` (undirected): each is an invariant subspace."""
    M = sp.csr_array(M)
    # the stored structure only (a purely imaginary entry is an edge too; never cast values)
    pattern = sp.csr_array((np.ones(M.indices.size), M.indices, M.indptr), shape=M.shape)
    return connected_components(pattern, directed=True, connection="weak")


@dataclasses.dataclass(frozen=True)
class KrylovBlock:
    r"""One invariant piece of the nu = 0 block, propagated exactly by ``expm_multiply``.

    Contributes :math:`\sum_p w_{kp}\,[e^{\lambda^2 t M} y_0]_p` to the expectation value of operator ``k``.
    Times are visited in increasing order, each step :math:`e^{\lambda^2 (t_{k} - t_{k-1}) M}` applied by
    ``scipy.sparse.linalg.expm_multiply`` (Al-Mohy and Higham: truncated Taylor series with scaling, its
    degree and number of steps chosen from 1-norm estimates so that the backward error is below the unit
    round-off, :math:`2^{-53}`), so the result is exact to round-off times the number of time steps.

    Attributes
    ----------
    matrix : sparse matrix, shape (m, m)
        The piece of the block at :math:`\lambda = 1` (symmetric frame in the modal regime).
    y0 : ndarray, shape (m,)
        The initial vector on the piece (same frame).
    weights : ndarray, shape (n_ops, m)
        Observable weights: the operator elements :math:`O_{ji}` (times the frame factor).
    """

    matrix: object
    y0: np.ndarray
    weights: np.ndarray

    def values(self, times: np.ndarray, lam2: float) -> np.ndarray:
        """Contributions at ``times`` (any order): shape ``(n_ops, len(times))``."""
        t = np.asarray(times, dtype=float)
        out = np.zeros((self.weights.shape[0], t.size), dtype=complex)
        if t.size == 0:
            return out
        order = np.argsort(t, kind="stable")
        M = self.matrix
        tr = complex(M.diagonal().sum())
        y, tprev = self.y0, 0.0
        for idx in order:
            dt = lam2 * (t[idx] - tprev)
            if dt > 0:
                y = spla.expm_multiply(M * dt, y, traceA=(tr * dt).real if np.isrealobj(M.data) else tr * dt)
                tprev = t[idx]
            out[:, idx] = self.weights @ y
        return out

