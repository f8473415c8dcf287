r"""From a :class:`~davies_mb.models.SpinChain` to the pieces a tensor network needs.

The chain's quimb term list (Pauli language, PHYSICS.md section 1) is the one description. This module
turns it into

* a grouping of the spins into *supersites*: one spin per MPS site for nearest-neighbour chains, two spins
  (local dimension 4) for chains with a next-nearest-neighbour coupling :math:`J_2`, so that every term
  acts on one MPS site or on two neighbouring ones and plain TEBD sweeps apply (the choice against swap
  gates is measured in docs/performance.md, section "Tensor networks");
* the bond Hamiltonians :math:`h_{g,g+1}` of the grouped chain as a ``quimb.tensor.LocalHam1D``, one-site
  terms split between the bonds that touch the site (half and half in the bulk, all of it at an edge), so
  :math:`H = \sum_g h_{g,g+1}`;
* Pauli-string observables (``"z32"``, ``"x10*x11"``, ``"0.5*x0 - z3"``) as per-supersite factors;
* product initial states (``"neel"``, ``"domain"``, ``"up"``, ``"down"``, ``"+x"``, bit strings, tilted
  spinors) and quimb MPS given per spin, regrouped.

A *purified* chain (thermal states) doubles every supersite: spins first, then one ancilla per spin, so a
supersite of ``n`` spins has dimension :math:`2^n \cdot 2^n` and an operator :math:`O` on its spins acts as
:math:`O \otimes 1_{\rm anc}`.

Conventions: basis state 0 of a spin is up (:math:`\sigma^z = +1`), bit strings read site 0 first, and
inside a supersite the lower spin index is the more significant factor (as quimb's site ordering).
"""

from __future__ import annotations

import dataclasses
import numbers
import re

import numpy as np

from ..models import SpinChain, _FACTOR, _TERM
from ..operators import _PAULI  # the one spin convention (PHYSICS.md): Pauli matrices, '+', '-', 'i'

__all__ = ["Grouping", "group_chain", "parse_observable", "product_spinors"]


NAMED_STATES = ("neel", "domain", "up", "down", "+x", "-x")


def _dense_product(factors: dict, sites) -> np.ndarray:
    """Kronecker product over ``sites`` (ascending) of the factor on each site (identity if none)."""
    out = np.ones((1, 1), dtype=complex)
    for s in sites:
        out = np.kron(out, factors.get(s, _PAULI["i"]))
    return out


def _term_factors(ops) -> dict:
    """``((label, site), ...)`` -> {site: 2x2}, products on one site multiplied left to right."""
    f = {}
    for lab, site in ops:
        m = _PAULI[lab]
        f[site] = f[site] @ m if site in f else m
    return f


@dataclasses.dataclass(frozen=True, eq=False)
class Grouping:
    """Spins grouped into MPS sites (supersites), and the chain's bond Hamiltonians on them.

    Attributes
    ----------
    L : int
        Number of spins.
    groups : tuple of tuple of int
        Spins of every MPS site, in order (``((0,), (1,), ...)`` or ``((0, 1), (2, 3), ...)``).
    purified : bool
        Whether every supersite also carries one ancilla per spin (thermal states).
    bonds : dict
        ``{(g, g+1): h}`` dense bond Hamiltonians on the *spins* of supersites g and g+1,
        :math:`H = \\sum_g h_{g,g+1}` (one-site terms split between neighbouring bonds).
    """

    L: int
    groups: tuple
    purified: bool
    bonds: dict

    @property
    def n(self) -> int:
        """Number of MPS sites."""
        return len(self.groups)

    def spin_dim(self, g: int) -> int:
        return 2 ** len(self.groups[g])

    def site_dim(self, g: int) -> int:
        """Local dimension of MPS site ``g`` (squared when purified)."""
        d = self.spin_dim(g)
        return d * d if self.purified else d

    @property
    def group_of(self) -> dict:
        return {s: g for g, sites in enumerate(self.groups) for s in sites}

    def embed(self, op: np.ndarray, gs) -> np.ndarray:
        """An operator on the spins of the supersites ``gs`` (one or two consecutive) as an MPS-site operator.

        Unpurified: unchanged. Purified: :math:`O \\otimes 1` on (spins, ancillas) of each supersite, in the
        MPS index order (s_g, a_g, s_{g+1}, a_{g+1}).
        """
        if not self.purified:
            return op
        dims = [self.spin_dim(g) for g in gs]
        n = len(dims)
        O = op.reshape(dims + dims)
        eyes = [np.eye(d) for d in dims]
        if n == 1:
            G = np.einsum("st,ab->satb", O, eyes[0])
        else:
            G = np.einsum("pqst,ab,cd->paqcsbtd", O, eyes[0], eyes[1])
        D = int(np.prod([d * d for d in dims]))
        return G.reshape(D, D)

    def local_ham(self):
        """The bond Hamiltonians (embedded if purified) as a ``quimb.tensor.LocalHam1D``."""
        import quimb.tensor as qtn

        H2 = {k: self.embed(h, k) for k, h in self.bonds.items()}
        return qtn.LocalHam1D(self.n, H2=H2, cyclic=False)


def group_chain(chain: SpinChain, *, purified: bool = False, block: int | None = None) -> Grouping:
    """Group the spins of ``chain`` so that every term acts within one supersite or two neighbouring ones.

    Parameters
    ----------
    chain : SpinChain
        An open chain whose terms reach at most two sites apart (nearest and next-nearest neighbours).
    purified : bool
        Add one ancilla per spin (thermal states by purification).
    block : {1, 2}, optional
        Spins per supersite; default 1 for nearest-neighbour chains, 2 when a term reaches two sites.
        (An odd chain ends with a single-spin supersite.)
    """
    if not isinstance(chain, SpinChain):
        raise TypeError(f"chain must be a SpinChain (dm.xxz, dm.tfim, ...), got {type(chain).__name__}")
    L = chain.L
    reach = max((max(s for _, s in ops) - min(s for _, s in ops) for _, *ops in chain.terms), default=0)
    if chain.bc != "open" and reach > 0 and L > 2:
        raise ValueError(
            f"chain has bc={chain.bc!r}: davies_mb.tn works with open matrix product states (TEBD sweeps and "
            "DMRG on an open chain); build the chain with bc='open'"
        )
    if reach > 2:
        raise ValueError(f"chain has a term reaching {reach} sites apart; davies_mb.tn handles ranges 1 and 2")
    need = 1 if reach <= 1 else 2
    if block is None:
        block = need
    if block not in (1, 2) or block < need:
        raise ValueError(f"block must be 1 or 2 spins per supersite and at least {need} for this chain, got {block!r}")
    groups = tuple(tuple(range(a, min(a + block, L))) for a in range(0, L, block))
    if len(groups) < 2:
        raise ValueError(f"L={L} with block={block} leaves a single MPS site; use a longer chain")
    gof = {s: g for g, sites in enumerate(groups) for s in sites}
    n = len(groups)
    bonds = {(g, g + 1): np.zeros((2 ** (len(groups[g]) + len(groups[g + 1])),) * 2, dtype=complex)
             for g in range(n - 1)}
    for coef, *ops in chain.terms:
        gs = sorted({gof[s] for _, s in ops})
        f = _term_factors(ops)
        if len(gs) == 2:
            g0 = gs[0]
            if gs[1] != g0 + 1:
                raise AssertionError("grouping left a term on non-neighbouring supersites")
            bonds[(g0, g0 + 1)] += coef * _dense_product(f, groups[g0] + groups[g0 + 1])
            continue
        g = gs[0]
        M = coef * _dense_product(f, groups[g])
        # split a one-site term between the bonds touching g (all of it on the single bond at an edge)
        touching = [b for b in ((g - 1, g), (g, g + 1)) if b in bonds]
        for b in touching:
            other = b[1] if b[0] == g else b[0]
            eye = np.eye(2 ** len(groups[other]))
            part = M / len(touching)
            bonds[b] += np.kron(part, eye) if b[0] == g else np.kron(eye, part)
    for k, h in bonds.items():
        if np.allclose(h.imag, 0, atol=0):
            bonds[k] = h.real.copy()
    return Grouping(L, groups, bool(purified), bonds)


# -- observables -----------------------------------------------------------------------------------
def parse_observable(text: str, L: int) -> list:
    """Parse a Pauli sum like ``"z32"``, ``"x10*x11"`` or ``"0.5*x0 - z3"`` into terms.

    Returns
    -------
    list of (coef, {site: 2x2})
        Pauli matrices (:math:`\\sigma`, not :math:`S`), as in :meth:`SpinChain.parse_operator`.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"observable must be a non-empty Pauli string like 'z32' or 'x10*x11', got {text!r}")
    s = text.strip()
    if re.search(r"[0-9]\s+[xyzXYZ]", s):
        raise ValueError(f"observable {text!r}: write products with '*' (e.g. 'x0*z1'), not spaces")
    s = s.replace(" ", "")
    out = []
    for part in re.split(r"(?<=[0-9xyzXYZ])(?=[+-])", s):
        m = _TERM.match(part)
        if not m:
            raise ValueError(
                f"cannot parse term {part!r} of observable {text!r}; write sums of Pauli products like "
                "'z32', 'x10*x11', '0.5*x0 - z3' (labels x, y, z followed by a site index)"
            )
        coef = float(m.group("num")) if m.group("num") else 1.0
        coef = -coef if m.group("sign") == "-" else coef
        ops = []
        for lab, site_txt in _FACTOR.findall(m.group("ops")):
            site = int(site_txt)
            if site >= L:
                raise ValueError(f"observable {text!r} acts on site {site}, but the chain has sites 0..{L - 1}")
            ops.append((lab.lower(), site))
        out.append((coef, _term_factors(ops)))
    return out


# -- product states --------------------------------------------------------------------------------
def product_spinors(initial, L: int) -> np.ndarray:
    r"""Single-spin states of a product initial state, shape ``(L, 2)``, normalized.

    ``initial`` is one of ``"neel"`` (up, down, up, ...), ``"domain"`` (left half up), ``"up"``, ``"down"``,
    ``"+x"``, ``"-x"``, a bit string of length L (``"0101..."``, 0 = up), a dict ``dict(theta=..., phi=...)``
    (:math:`\cos\frac\theta2|\uparrow\rangle + e^{i\phi}\sin\frac\theta2|\downarrow\rangle`, numbers or one
    per site), or an array of shape ``(L, 2)`` of spinors.
    """
    up, dn = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    if isinstance(initial, str):
        key = initial.strip().lower()
        if key == "neel":
            return np.array([up if s % 2 == 0 else dn for s in range(L)], dtype=complex)
        if key == "domain":
            return np.array([up if s < L // 2 else dn for s in range(L)], dtype=complex)
        if key in ("up", "down"):
            return np.tile(up if key == "up" else dn, (L, 1)).astype(complex)
        if key in ("+x", "-x"):
            v = np.array([1.0, 1.0 if key == "+x" else -1.0]) / np.sqrt(2)
            return np.tile(v, (L, 1)).astype(complex)
        if set(key) <= {"0", "1"} and key:
            if len(key) != L:
                raise ValueError(f"initial bit string {initial!r} has {len(key)} bits for a chain of L={L}")
            return np.array([up if b == "0" else dn for b in key], dtype=complex)
        raise ValueError(
            f"initial={initial!r} is not a product state; use one of {', '.join(NAMED_STATES)}, a bit string "
            f"of length {L} (0 = up), dict(theta=..., phi=...), an (L, 2) array of spinors, or a quimb MPS"
        )
    if isinstance(initial, dict):
        extra = set(initial) - {"theta", "phi"}
        if extra or "theta" not in initial:
            raise ValueError(f"a tilted initial state is dict(theta=..., phi=...) (phi optional), got keys {sorted(initial)}")
        th = np.broadcast_to(np.asarray(initial["theta"], dtype=float), (L,))
        ph = np.broadcast_to(np.asarray(initial.get("phi", 0.0), dtype=float), (L,))
        if not (np.all(np.isfinite(th)) and np.all(np.isfinite(ph))):
            raise ValueError("tilted initial state: theta and phi must be finite")
        return np.stack([np.cos(th / 2), np.exp(1j * ph) * np.sin(th / 2)], axis=1).astype(complex)
    arr = np.asarray(initial)
    if arr.shape != (L, 2) or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(
            f"initial must be a state name, bit string, dict(theta=..., phi=...), an ({L}, 2) array of spinors "
            f"or a quimb MatrixProductState, got {type(initial).__name__}"
            + (f" of shape {arr.shape}" if hasattr(initial, "shape") else "")
        )
    norms = np.linalg.norm(arr, axis=1)
    if not np.all(np.isfinite(arr)) or np.any(norms == 0):
        raise ValueError("initial spinors must be finite and nonzero")
    return (arr / norms[:, None]).astype(complex)


def is_integer(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)
