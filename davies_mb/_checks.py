"""Validators with uniform messages.

Every public entry point checks its input here, so that a bad argument gets the same kind of message
everywhere: the argument's name, what it got, and what to do instead.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp

__all__ = [
    "as_operator",
    "check_beta",
    "check_hermitian",
    "check_positive",
    "check_choice",
    "check_memory",
    "dense_bytes",
    "MEMORY_LIMIT_BYTES",
]

#: Default ceiling for one dense allocation made on the user's behalf (bytes). The machines this
#: project targets have 24 GiB; a single array above ~12 GiB leaves no room for the work around it.
MEMORY_LIMIT_BYTES = 12 * 2**30


def _describe(x) -> str:
    if hasattr(x, "shape"):
        return f"{type(x).__name__} of shape {tuple(x.shape)} and dtype {getattr(x, 'dtype', '?')}"
    return f"{type(x).__name__} {x!r}"


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


def check_beta(beta) -> float:
    """Inverse temperature: a finite real number > 0 (negative temperatures are not thermal baths)."""
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
        raise TypeError(f"beta (inverse temperature) must be a real number, got {_describe(beta)}")
    b = float(beta)
    if not np.isfinite(b) or b <= 0:
        raise ValueError(
            f"beta (inverse temperature) must be finite and > 0, got {beta!r}; "
            "use beta = 1/T with T > 0 (zero temperature is not supported: take a large finite beta)"
        )
    return b


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
    limit = MEMORY_LIMIT_BYTES if limit is None else limit
    need = dense_bytes(shape, dtype)
    if need > limit:
        raise MemoryError(
            f"{what} would need a dense {'x'.join(map(str, shape))} {np.dtype(dtype).name} array "
            f"({need / 2**30:.1f} GiB), above the limit of {limit / 2**30:.1f} GiB. "
            + (hint or "Use a symmetry sector (sector=dict(sz=...)) or a smaller system.")
        )


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


def warn(msg: str, stacklevel: int = 3) -> None:
    """Suspicious but valid input."""
    warnings.warn(msg, stacklevel=stacklevel)
