"""Input checks shared by the application modules (uniform messages; public API only)."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp

import davies_mb as dm


def real(name: str, value, *, positive: bool = False, nonnegative: bool = False, allow_inf: bool = False) -> float:
    """``value`` as a float; checks kind, finiteness and sign, naming the argument in every message."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    if np.isnan(v) or (np.isinf(v) and not (allow_inf and v > 0)):
        what = "a real number or np.inf" if allow_inf else "a finite real number"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    if positive and v <= 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if nonnegative and v < 0.0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return v


def integer(name: str, value, *, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def hermitian(name: str, op, dim: int | None = None) -> np.ndarray:
    """A dense Hermitian matrix from numpy, scipy sparse or quimb input; clear errors otherwise."""
    if sp.issparse(op):
        op = op.toarray()
    if not (isinstance(op, (np.ndarray, list, tuple)) or hasattr(op, "__array__")):
        raise TypeError(f"{name} must be a square matrix (numpy, scipy sparse or quimb), got {type(op).__name__}")
    M = np.asarray(op)
    if M.dtype == object or not np.issubdtype(M.dtype, np.number):
        raise TypeError(f"{name} must be a numeric matrix, got dtype {M.dtype}")
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {M.shape}")
    if dim is not None and M.shape[0] != dim:
        raise ValueError(f"{name} has shape {M.shape}, but the system has dimension {dim}")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    err = float(np.max(np.abs(M - M.conj().T))) if M.size else 0.0
    scale = float(np.max(np.abs(M))) if M.size else 0.0
    if err > 1e-10 * max(scale, 1e-300):
        raise ValueError(
            f"{name} is not Hermitian (max |{name} - {name}^dag| = {err:.3g}, largest entry {scale:.3g}): "
            "Hamiltonians and coupling operators must be Hermitian; use (X + X^dag)/2"
        )
    M = 0.5 * (M + M.conj().T)
    return M.real.copy() if not np.any(M.imag) else M


def bath(name: str, b) -> "dm.Bath":
    if not isinstance(b, dm.Bath):
        raise TypeError(f"{name} must be a davies_mb Bath (e.g. dm.OhmicBath(beta=1.0)), got {type(b).__name__}")
    return b


def warn(msg: str) -> None:
    # stacklevel 3: the user's call of the public function that validated its input
    warnings.warn(msg, stacklevel=3)
