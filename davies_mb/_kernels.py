"""Compiled inner loops (numba, already required by quimb) for the Davies generator's dense blocks.

Only loops that numpy cannot express without d^2-sized temporaries live here; each has a plain-numpy
twin in the tests.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["add_jump_block", "jump_matvec"]


@numba.njit(cache=True, parallel=True, fastmath=False)
def _jump_real(out, I, J, lI, R, A):
    m = I.size
    for p in numba.prange(m):
        k = I[p]
        l_ = J[p]
        lk = lI[p]
        for q in range(m):
            out[p, q] += R[lk, lI[q]] * A[k, I[q]] * A[l_, J[q]]


@numba.njit(cache=True, parallel=True, fastmath=False)
def _jump_complex(out, I, J, lI, R, A):
    m = I.size
    for p in numba.prange(m):
        k = I[p]
        l_ = J[p]
        lk = lI[p]
        for q in range(m):
            out[p, q] += R[lk, lI[q]] * A[k, I[q]] * np.conj(A[l_, J[q]])


def add_jump_block(out, I, J, lI, R, A) -> None:
    r"""``out[p, q] += R[lI[p], lI[q]] * A[I[p], I[q]] * conj(A[J[p], J[q]])`` in one parallel pass.

    This is the jump term :math:`\gamma(E_i - E_k) A_{ki} \overline{A_{lj}}` of the Davies generator from
    element :math:`(i, j) = (I_q, J_q)` to :math:`(k, l) = (I_p, J_p)` of one Bohr-frequency block.
    """
    I = np.ascontiguousarray(I, dtype=np.int64)
    J = np.ascontiguousarray(J, dtype=np.int64)
    lI = np.ascontiguousarray(lI, dtype=np.int64)
    R = np.ascontiguousarray(R, dtype=np.float64)
    if np.iscomplexobj(A) or np.iscomplexobj(out):
        if not np.iscomplexobj(out):
            raise TypeError("a complex coupling needs a complex output block")
        _jump_complex(out, I, J, lI, R, np.ascontiguousarray(A, dtype=np.complex128))
    else:
        _jump_real(out, I, J, lI, R, np.ascontiguousarray(A, dtype=np.float64))


@numba.njit(cache=True, parallel=True, fastmath=False)
def _jump_mv_real(y, I, J, lI, R, A, x):
    m = I.size
    for p in numba.prange(m):
        k = I[p]
        l_ = J[p]
        lk = lI[p]
        acc = 0.0
        for q in range(m):
            acc += R[lk, lI[q]] * A[k, I[q]] * A[l_, J[q]] * x[q]
        y[p] += acc


@numba.njit(cache=True, parallel=True, fastmath=False)
def _jump_mv_complex(y, I, J, lI, R, A, x):
    m = I.size
    for p in numba.prange(m):
        k = I[p]
        l_ = J[p]
        lk = lI[p]
        acc = 0.0j
        for q in range(m):
            acc += R[lk, lI[q]] * A[k, I[q]] * np.conj(A[l_, J[q]]) * x[q]
        y[p] += acc


def jump_matvec(y, I, J, lI, R, A, x) -> None:
    """``y += M_jump @ x`` for the block of :func:`add_jump_block`, without storing the block.

    Costs one pass over the ``m x m`` block per call (memory O(m)): the matrix-free route for blocks too
    large to store.
    """
    if np.iscomplexobj(A) or np.iscomplexobj(x):
        _jump_mv_complex(y, I, J, lI, np.asarray(R, dtype=np.float64), np.asarray(A, dtype=np.complex128),
                         np.asarray(x, dtype=np.complex128))
    else:
        _jump_mv_real(y, I, J, lI, np.asarray(R, dtype=np.float64), np.asarray(A, dtype=np.float64),
                      np.asarray(x, dtype=np.float64))
