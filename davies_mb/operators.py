r"""The one spin convention of davies-mb.

* ``pauli(a)`` is the Pauli matrix :math:`\sigma^a`, ``spin_operator(a)`` is :math:`S^a = \sigma^a / 2`.
* Basis of one spin: index 0 is spin up (:math:`\sigma^z = +1`), index 1 is spin down, as in quimb.
* ``"+"`` and ``"-"`` raise and lower :math:`S^z`: :math:`\sigma^+ = |\uparrow\rangle\langle\downarrow|`
  (so :math:`\sigma^\pm = (\sigma^x \pm i \sigma^y)/2` and :math:`S^\pm = S^x \pm i S^y = \sigma^\pm`).
  Beware: quimb's operator builder calls ``"+"`` the operator :math:`|1\rangle\langle 0|`, which in this
  spin language *lowers* :math:`S^z`; davies-mb only ever passes quimb the symmetric combination
  :math:`\sigma^+\sigma^- + \sigma^-\sigma^+`, for which the two conventions agree.
* Many spins: site 0 is the most significant qubit of the computational-basis index (quimb's order),
  :math:`O_i = 1_{2^i} \otimes O \otimes 1_{2^{L-i-1}}`.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

__all__ = ["pauli", "spin_operator", "site_operator", "LABELS"]

_PAULI = {
    "x": np.array([[0, 1], [1, 0]], dtype=complex),
    "y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "z": np.array([[1, 0], [0, -1]], dtype=complex),
    "+": np.array([[0, 1], [0, 0]], dtype=complex),
    "-": np.array([[0, 0], [1, 0]], dtype=complex),
    "i": np.eye(2, dtype=complex),
}
LABELS = ("x", "y", "z", "+", "-")


def _label(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"operator label must be a string, one of {LABELS}, got {name!r}")
    key = name.lower()
    if key not in _PAULI or key == "i":
        raise ValueError(f"unknown operator label {name!r}; valid labels: {', '.join(LABELS)}")
    return key


def _as_real_if_possible(m: np.ndarray) -> np.ndarray:
    return m.real.copy() if not np.any(m.imag) else m.copy()


def pauli(name: str) -> np.ndarray:
    r"""Single-spin Pauli matrix :math:`\sigma^a`, ``a`` in ``x, y, z, +, -``.

    :math:`\sigma^\pm = (\sigma^x \pm i\sigma^y)/2`; real dtype unless the matrix is complex (``y``).
    """
    return _as_real_if_possible(_PAULI[_label(name)])


def spin_operator(name: str) -> np.ndarray:
    r"""Single-spin operator :math:`S^a = \sigma^a/2` for ``x, y, z``; :math:`S^\pm = S^x \pm i S^y = \sigma^\pm`."""
    key = _label(name)
    m = _PAULI[key] if key in "+-" else _PAULI[key] / 2
    return _as_real_if_possible(m)


def site_operator(op, site: int, L: int, *, fmt: str = "csr") -> sp.csr_array:
    r"""Embed a one-site 2x2 operator on ``site`` of an ``L``-spin chain (site 0 most significant).

    :math:`O_i = 1_{2^i} \otimes O \otimes 1_{2^{L-i-1}}`, returned as a scipy sparse array.
    """
    if isinstance(L, bool) or not isinstance(L, numbers.Integral) or L < 1:
        raise ValueError(f"L must be a positive integer, got {L!r}")
    if isinstance(site, bool) or not isinstance(site, numbers.Integral) or not 0 <= site < L:
        raise ValueError(f"site must be an integer in [0, {L - 1}] for a chain of L = {L}, got {site!r}")
    op = np.asarray(op)
    if op.shape != (2, 2):
        raise ValueError(f"a single-spin operator must be 2x2, got shape {op.shape}")
    left = sp.identity(2**site, dtype=op.dtype, format="csr")
    right = sp.identity(2 ** (L - site - 1), dtype=op.dtype, format="csr")
    return sp.csr_array(sp.kron(sp.kron(left, sp.csr_array(op)), right, format=fmt))
