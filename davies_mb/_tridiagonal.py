r"""Eigen-decomposition of a large real symmetric matrix with the eigenvectors kept in factored form.

:math:`M = Q\,T\,Q^T` (LAPACK ``dsytrd``: :math:`Q = H_0 H_1\cdots H_{n-2}`, Householder reflectors
:math:`H_i = 1 - \tau_i v_i v_i^T`) and :math:`T = Z\Lambda Z^T` (``dstemr``, MRRR: all eigenvectors of the
tridiagonal matrix in :math:`O(n^2)`), so :math:`M = (QZ)\Lambda(QZ)^T`. What is never done is the
back-transformation :math:`QZ` (:math:`2n^3` flops, half of a full ``eigh``): the eigenvector matrix is the
pair ``(reflectors, Z)``, applied to vectors in :math:`O(n^2)` each. The Davies zero-frequency block of a
generic chain needs its eigenvectors only against a few vectors (the initial state, the observables, the state
at the times of a root search), so this halves the cost of the scan's one big decomposition at L = 16.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.linalg.lapack as lapack


class FactoredEigvecs:
    r"""The orthogonal eigenvector matrix :math:`V = QZ` of a real symmetric matrix, in factored form.

    Supports what the Davies code does with an eigenvector matrix: ``V @ x`` and ``X @ V`` (vectors or
    stacks of them), ``V.T @ y`` and ``V.conj()``, and columns ``V[:, idx]``. Each product costs
    :math:`O(n^2)` per vector.
    """

    __array_ufunc__ = None  # ``X @ V`` with a numpy ``X`` falls through to :meth:`__rmatmul__`

    def __init__(self, reflectors: np.ndarray, tau: np.ndarray, Z: np.ndarray, transposed: bool = False):
        self._c = reflectors  # (n, n), Fortran order: reflector i below the subdiagonal of column i
        self._tau = tau
        self._Z = Z
        self._transposed = transposed
        n = Z.shape[0]
        self.shape = (n, n)
        self.dtype = np.dtype(np.float64)
        self.ndim = 2

    @property
    def T(self) -> "FactoredEigvecs":
        return FactoredEigvecs(self._c, self._tau, self._Z, not self._transposed)

    def conj(self) -> "FactoredEigvecs":
        return self  # real

    def _apply_q(self, x: np.ndarray, transpose: bool) -> np.ndarray:
        """:math:`Q x` or :math:`Q^T x` for ``x`` of shape ``(n,)`` or ``(n, k)`` (a new array)."""
        c, tau = self._c, self._tau
        x = np.array(x, dtype=np.result_type(x, np.float64), copy=True)
        n = c.shape[0]
        order = range(n - 1) if transpose else range(n - 2, -1, -1)
        for i in order:
            t = tau[i]
            if t == 0.0:
                continue
            v = c[i + 1:, i]
            keep = v[0]
            v[0] = 1.0  # the reflector's unit entry (LAPACK stores the subdiagonal there): restored below
            try:
                if x.ndim == 1:
                    x[i + 1:] -= (t * (v @ x[i + 1:])) * v
                else:
                    x[i + 1:] -= np.outer(t * v, v @ x[i + 1:])
            finally:
                v[0] = keep
        return x

    def __matmul__(self, x):
        x = np.asarray(x)
        if self._transposed:  # V^T x = Z^T Q^T x
            return self._Z.T @ self._apply_q(x, transpose=True)
        return self._apply_q(self._Z @ x, transpose=False)  # V x = Q (Z x)

    def __rmatmul__(self, X):
        X = np.asarray(X)  # X V = (V^T X^T)^T
        return (self.T @ X.T).T

    def __getitem__(self, key):
        if not (isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], slice) and key[0] == slice(None)):
            raise IndexError("FactoredEigvecs supports column selection V[:, idx] only")
        if self._transposed:
            raise IndexError("column selection of the transposed eigenvector matrix is not supported")
        idx = np.arange(self.shape[1])[key[1]]
        return self._apply_q(self._Z[:, idx], transpose=False)


def eigh_factored(M: np.ndarray) -> tuple[np.ndarray, FactoredEigvecs]:
    """All eigenvalues (ascending) and the eigenvectors in factored form of the real symmetric ``M``.

    ``M`` is overwritten (it holds the reflectors afterwards); pass a C-ordered matrix (its transpose, the same
    symmetric matrix in Fortran order, is what LAPACK works on, so no copy is made).
    """
    n = M.shape[0]
    A = M.T if M.flags.c_contiguous else np.asfortranarray(M)
    lwork = int(lapack.dsytrd_lwork(n, lower=1)[0])
    c, d, e, tau, info = lapack.dsytrd(A, lower=1, lwork=max(lwork, 1), overwrite_a=1)
    if info != 0:
        raise ArithmeticError(f"LAPACK dsytrd failed (info = {info})")
    mu, Z = sla.eigh_tridiagonal(d, e, lapack_driver="stemr", check_finite=False)
    return mu, FactoredEigvecs(c, tau, Z)
