"""Compiled inner loops (numba, already required by quimb) for the Davies generator's dense blocks.

Only loops that numpy cannot express without d^2-sized temporaries live here; each has a plain-numpy
twin in the tests.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["add_jump_block"]


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
