"""Validators with uniform messages.

Every public entry point checks its input here, so that a bad argument gets the same kind of message
everywhere: the argument's name, what it got, and what to do instead.
"""

from __future__ import annotations

import numbers
import re
import warnings

import numpy as np
import scipy.sparse as sp

__all__ = [
    "SelfCheckError",
    "check_state_result",
    "as_operator",
    "check_beta",
    "boltzmann_weights",
    "check_hermitian",
    "check_positive",
    "check_choice",
    "check_density_matrix",
    "check_memory",
    "check_memory_total",
    "memory_limit",
    "dense_bytes",
    "MEMORY_LIMIT_BYTES",
]

#: Default ceiling for the peak memory of one computation made on the user's behalf (bytes). The machines
#: this project targets have 24 GiB; a peak above ~12 GiB leaves no room for the work around it.
#: Override with the environment variable ``DAVIES_MB_MEMORY_LIMIT`` (bytes, or e.g. "8GiB", "500MB").
MEMORY_LIMIT_BYTES = 12 * 2**30

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def memory_limit() -> int:
    """The peak-memory ceiling in bytes: ``DAVIES_MB_MEMORY_LIMIT`` if set, else :data:`MEMORY_LIMIT_BYTES`.

    Read at call time (no global state), so a test or a user can lower it for one run.
    """
    import os

    text = os.environ.get("DAVIES_MB_MEMORY_LIMIT", "").strip()
    if not text:
        return MEMORY_LIMIT_BYTES
    m = re.fullmatch(r"([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)", text)
    if m is None or m.group(2).upper() not in _UNITS:
        raise ValueError(
            f"DAVIES_MB_MEMORY_LIMIT must be a number of bytes with an optional unit (B, KB, MB, GB, KiB, MiB, "
            f"GiB), e.g. '8GiB', got {text!r}"
        )
    value = float(m.group(1)) * _UNITS[m.group(2).upper()]
    if not value > 0:
        raise ValueError(f"DAVIES_MB_MEMORY_LIMIT must be > 0, got {text!r}")
    return int(value)


def _describe(x) -> str:
    if hasattr(x, "shape"):
        return f"{type(x).__name__} of shape {tuple(x.shape)} and dtype {getattr(x, 'dtype', '?')}"
    return f"{type(x).__name__} {x!r}"


class SelfCheckError(ArithmeticError):
    """A result failed its own consistency check (NaN, inf, trace off 1, not Hermitian, not positive, a
    distance outside [0, 1]). Raised instead of returning a wrong number."""


def check_state_result(what: str, X, *, tol: float = 1e-8, positivity: bool | None = None) -> None:
    """Raise :class:`SelfCheckError` unless ``X`` is a density matrix: finite, trace 1, Hermitian, and
    (when ``positivity`` is True, or None and ``X`` is at most 256 x 256) positive semidefinite, all to ``tol``.
    """
    X = np.asarray(X)
    if not np.all(np.isfinite(X)):
        raise SelfCheckError(f"{what} has {int(np.sum(~np.isfinite(X)))} NaN or infinite entries")
    tr = complex(np.trace(X))
    if abs(tr - 1.0) > tol:
        raise SelfCheckError(f"{what} has trace {tr.real:.12g}{tr.imag:+.3g}j, not 1 (tolerance {tol:g})")
    herm = float(np.max(np.abs(X - X.conj().T))) if X.size else 0.0
    if herm > tol:
        raise SelfCheckError(f"{what} is not Hermitian: max |X - X^dag| = {herm:.3g} (tolerance {tol:g})")
    if positivity or (positivity is None and X.shape[0] <= 256):
        lo = float(np.linalg.eigvalsh(0.5 * (X + X.conj().T))[0]) if X.size else 0.0
        if lo < -tol:
            raise SelfCheckError(f"{what} is not positive: smallest eigenvalue {lo:.3g} (tolerance {tol:g})")


def check_positive(name: str, value, *, allow_zero: bool = False, finite: bool = True) -> float:
    """Return ``value`` as a float after checking that it is a real number > 0 (>= 0 if allowed)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    v = float(value)
    if np.isnan(v) or (finite and not np.isfinite(v)):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    if v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return v


def check_beta(beta, *, allow_inf: bool = True) -> float:
    """Inverse temperature: a real number > 0 (>= 1e-300); ``np.inf`` (zero temperature) unless refused."""
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
        raise TypeError(f"beta (inverse temperature) must be a real number, got {_describe(beta)}")
    b = float(beta)
    if np.isnan(b) or b <= 0 or (np.isinf(b) and not allow_inf):
        allowed = "> 0 (np.inf for zero temperature)" if allow_inf else "finite and > 0"
        raise ValueError(f"beta (inverse temperature) must be {allowed}, got {beta!r}; use beta = 1/T with T > 0")
    if b < 1e-300:
        raise ValueError(f"beta = {beta!r} is below 1e-300: rates ~ 1/beta overflow; pass beta >= 1e-300")
    return b


def boltzmann_weights(beta: float, level_energies, level_index=None) -> np.ndarray:
    r"""Normalized Boltzmann weights :math:`e^{-\beta(\epsilon - \epsilon_0)}/Z`, stable at every beta.

    Shifted by the lowest energy (no overflow, underflow harmless); at ``beta = inf`` the ground level
    (lowest entry of ``level_energies``) shares the weight equally. ``level_index`` maps states to levels,
    so that states of one degenerate level get exactly equal weights (no round-off splitting at large beta).
    """
    eps = np.asarray(level_energies, dtype=float)
    e = eps if level_index is None else eps[np.asarray(level_index)]
    de = e - float(np.min(eps))
    if np.isinf(beta):
        w = (de == 0).astype(float)
    else:
        w = np.exp(-beta * de)
    return w / w.sum()


def check_choice(name: str, value, choices) -> object:
    """Check that ``value`` is one of ``choices`` and list them otherwise."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(map(str, choices))}, got {value!r}")
    return value


def dense_bytes(shape, dtype=np.complex128) -> int:
    """Bytes of a dense array of ``shape`` and ``dtype``."""
    return int(np.prod([int(s) for s in shape], dtype=np.float64) * np.dtype(dtype).itemsize)


def check_memory(what: str, shape, dtype=np.complex128, *, limit: int | None = None, hint: str = "") -> None:
    """Refuse a dense allocation that would not fit, with the estimate and a way out."""
    limit = memory_limit() if limit is None else limit
    need = dense_bytes(shape, dtype)
    if need > limit:
        raise MemoryError(
            f"{what} would need a dense {'x'.join(map(str, shape))} {np.dtype(dtype).name} array "
            f"({need / 2**30:.1f} GiB), above the limit of {limit / 2**30:.1f} GiB. "
            + (hint or "Use a symmetry sector (sector=dict(sz=...)) or a smaller system.")
        )


def check_memory_total(what: str, arrays, *, limit: int | None = None, hint: str = "") -> int:
    """Refuse a computation whose arrays held at the same time would not fit; return the estimate (bytes).

    Parameters
    ----------
    what : str
        The computation, as the user would name it ("diagonalizing a 2^20 Hamiltonian").
    arrays : iterable of (shape, dtype) or int
        Every array the computation holds at its peak (an int is a number of bytes, for workspaces).
    """
    limit = memory_limit() if limit is None else limit
    need = 0
    parts = []
    for a in arrays:
        if isinstance(a, numbers.Integral):
            b = int(a)
        else:
            shape, dtype = a
            b = dense_bytes(shape, dtype)
        need += b
        parts.append(b)
    if need > limit:
        biggest = max(parts) if parts else 0
        raise MemoryError(
            f"{what} would need about {need / 2**30:.2f} GiB at its peak ({len(parts)} arrays, the largest "
            f"{biggest / 2**30:.2f} GiB), above the limit of {limit / 2**30:.2f} GiB "
            "(set DAVIES_MB_MEMORY_LIMIT to change it). "
            + (hint or "Use a symmetry sector (sector=dict(sz=...)) or a smaller system.")
        )
    return need


def as_operator(name: str, op, dim: int | None = None, *, hermitian: bool = True, allow_sparse: bool = True):
    """Return ``op`` as a numpy array or a scipy sparse CSR array after checking kind, shape and hermiticity.

    Accepts numpy arrays, scipy sparse matrices/arrays and quimb operators (``qarray`` is an ndarray).
    """
    if sp.issparse(op):
        if not allow_sparse:
            op = op.toarray()
        else:
            op = sp.csr_array(op)
    elif isinstance(op, (np.ndarray, list, tuple)) or hasattr(op, "__array__"):
        op = np.asarray(op)
        if op.dtype == object or not (np.issubdtype(op.dtype, np.number)):
            raise TypeError(f"{name} must be a numeric matrix, got {_describe(op)}")
    else:
        raise TypeError(
            f"{name} must be a numpy array, a scipy sparse matrix or a quimb operator, got {_describe(op)}"
        )
    if op.ndim != 2 or op.shape[0] != op.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {tuple(op.shape)}")
    if op.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(op.shape)}); pass a non-empty square matrix")
    if dim is not None and op.shape[0] != dim:
        raise ValueError(
            f"{name} has shape {tuple(op.shape)} but the system has dimension {dim}: "
            "operators must act on the full computational basis of the spectrum they are used with"
        )
    if not np.all(np.isfinite(op.data if sp.issparse(op) else op)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    if hermitian:
        check_hermitian(name, op)
    return op


def check_hermitian(name: str, op, rtol: float = 1e-10) -> None:
    """Raise if ``op`` is not Hermitian to ``rtol`` relative to its largest entry."""
    if sp.issparse(op):
        diff = abs(op - op.conj().T)
        err = diff.max() if diff.nnz else 0.0
        scale = abs(op).max() if op.nnz else 0.0
    else:
        err = np.max(np.abs(op - op.conj().T)) if op.size else 0.0
        scale = np.max(np.abs(op)) if op.size else 0.0
    if err > rtol * max(scale, 1e-300):
        raise ValueError(
            f"{name} is not Hermitian: max |{name} - {name}^dag| = {err:.3g} (largest entry {scale:.3g}). "
            "Physical Hamiltonians and system-bath coupling operators must be Hermitian; "
            "split a non-Hermitian coupling A into (A + A^dag)/2 and i(A - A^dag)/2"
        )


#: States up to this dimension get a full eigenvalue check of positivity (O(d^3)); larger ones the cheap
#: necessary conditions only (non-negative diagonal, every 2x2 principal minor >= 0).
FULL_POSITIVITY_MAX_DIM = 1024
_ROWS = 256  # rows per block of the O(d^2) checks on large dense states


def hermitian_close(A) -> bool:
    """``np.allclose(A, A^dag)`` for a dense square array, in blocks of rows (no temporaries of A's size)."""
    A = np.asarray(A)
    return all(np.allclose(A[r0:r0 + _ROWS], A[:, r0:r0 + _ROWS].conj().T) for r0 in range(0, A.shape[0], _ROWS))


def check_density_matrix(name: str, rho, dim: int | None = None, *, vector: bool = True, tol: float = 1e-8):
    r"""Check a quantum state and return it: a normalized state vector or a density matrix.

    A density matrix must be square of size ``dim``, finite, Hermitian, of unit trace and positive
    semidefinite, each to ``tol``: :math:`\max|
ho - 
ho^\dagger| \le` ``tol``,
    :math:`|\mathrm{tr}
ho - 1| \le` ``tol`` and :math:`\lambda_{\min}(
ho) \ge -` ``tol``. Positivity is
    checked with all eigenvalues up to :data:`FULL_POSITIVITY_MAX_DIM`, beyond that with the necessary
    conditions :math:`
ho_{ii} \ge -\mathrm{tol}` and :math:`|
ho_{ij}|^2 \le 
ho_{ii}
ho_{jj} + \mathrm{tol}`
    (no :math:`O(d^3)` work on a large state). With ``vector=True`` a 1-d array (or a ``(d, 1)`` column) is a
    pure state and must have norm 1.

    Parameters
    ----------
    name : str
        The argument's name, used in the messages (e.g. ``"rho0"``).
    rho : array_like, scipy sparse or quimb operator
    dim : int, optional
        The Hilbert-space dimension the state must have.
    vector : bool
        Accept a state vector as well as a density matrix.
    tol : float
        Absolute tolerance of every check.

    Returns
    -------
    ndarray or scipy.sparse.csr_array
        A 1-d array (state vector) or the density matrix (dense, or CSR when it came sparse).
    """
    if sp.issparse(rho):
        r = sp.csr_array(rho)
    else:
        if isinstance(rho, (str, bytes, dict, set)) or rho is None or not (
                isinstance(rho, (np.ndarray, list, tuple, numbers.Number)) or hasattr(rho, "__array__")):
            raise TypeError(f"{name} must be a state vector or a density matrix (numpy or scipy sparse), "
                            f"got {_describe(rho)}")
        try:
            r = np.asarray(rho)
        except (ValueError, TypeError):
            raise TypeError(f"{name} must be a state vector or a density matrix, got a ragged "
                            f"{type(rho).__name__}") from None
        if r.dtype == bool or not np.issubdtype(r.dtype, np.number):
            raise TypeError(f"{name} must be numeric (float or complex), got {_describe(r)}")
    kind = "a state vector of length d or a (d, d) density matrix" if vector else "a (d, d) density matrix"
    want = "" if dim is None else f" with d = {dim}"
    if r.ndim == 2 and vector and not sp.issparse(r) and r.shape[1] == 1 and r.shape[0] != 1:
        r = r[:, 0]
    if r.size == 0 if not sp.issparse(r) else (r.shape[0] == 0 or r.shape[1] == 0):
        raise ValueError(f"{name} is empty (shape {tuple(r.shape)}); pass {kind}{want}")
    if r.ndim == 1 and vector:
        if dim is not None and r.shape[0] != dim:
            raise ValueError(f"{name} has length {r.shape[0]} but the system has dimension {dim}: pass a state "
                             f"vector of length {dim} or a ({dim}, {dim}) density matrix")
        if not np.all(np.isfinite(r)):
            raise ValueError(f"{name} contains NaN or infinite entries")
        nrm = float(np.linalg.norm(r))
        if not abs(nrm - 1.0) <= tol:
            raise ValueError(f"{name} is not normalized: a state vector of norm {nrm:.12g}, not 1; "
                             "pass psi / np.linalg.norm(psi)")
        return r
    if r.ndim != 2 or r.shape[0] != r.shape[1]:
        raise ValueError(f"{name} must be {kind}{want}, got shape {tuple(r.shape)}")
    d = r.shape[0]
    if dim is not None and d != dim:
        raise ValueError(f"{name} has shape {tuple(r.shape)} but the system has dimension {dim}; pass {kind}{want}")
    data = r.data if sp.issparse(r) else r
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    if sp.issparse(r):
        diff = abs(r - r.conj().T)
        err = float(diff.max()) if diff.nnz else 0.0
        diag = r.diagonal()
    else:  # in blocks of rows: no d x d temporaries (a state at L = 16 in a sector is 1.3 GB)
        err = max(float(np.max(np.abs(r[r0:r0 + _ROWS] - r[:, r0:r0 + _ROWS].conj().T)))
                  for r0 in range(0, d, _ROWS))
        diag = np.diagonal(r)
    if err > tol:
        raise ValueError(f"{name} is not Hermitian: max |{name} - {name}^dag| = {err:.3g}; a density matrix is "
                         f"Hermitian (pass ({name} + {name}^dag)/2 if the difference is rounding)")
    tr = complex(np.sum(diag))
    if not abs(tr - 1.0) <= tol:
        raise ValueError(f"{name} does not have unit trace: trace {tr.real:.12g}, not 1; "
                             f"pass {name} / trace({name})")
    p = np.real(diag)
    if d <= FULL_POSITIVITY_MAX_DIM:
        dense = r.toarray() if sp.issparse(r) else r
        lo = float(np.linalg.eigvalsh(0.5 * (dense + dense.conj().T))[0])
        what = "smallest eigenvalue"
    else:
        lo = float(p.min())
        what = "smallest diagonal entry"
        if lo >= -tol:
            if sp.issparse(r):
                coo = r.tocoo()
                viol = np.abs(coo.data) ** 2 - np.clip(p[coo.row], 0, None) * np.clip(p[coo.col], 0, None)
            else:
                q = np.clip(p, 0, None)
                viol = np.array([float(np.max(np.abs(r[r0:r0 + _ROWS]) ** 2 - np.outer(q[r0:r0 + _ROWS], q)))
                                 for r0 in range(0, d, _ROWS)])
            worst = float(np.max(viol)) if np.size(viol) else 0.0
            if worst > tol:
                lo, what = -np.sqrt(worst), "a 2x2 principal minor (|rho_ij|^2 - rho_ii rho_jj)"
    if lo < -tol:
        raise ValueError(f"{name} is not positive semidefinite ({what} {lo:.3g} < -{tol:g}); a density matrix "
                         "has non-negative eigenvalues")
    return r


def warn(msg: str, stacklevel: int = 3) -> None:
    """Suspicious but valid input."""
    warnings.warn(msg, stacklevel=stacklevel)
