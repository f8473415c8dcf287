r"""Exact diagonalization: the immutable :class:`Spectrum` and :func:`diagonalize`.

A spectrum is stored block by block: each block is one symmetry sector with its isometry ``P``
(computational basis -> sector basis) and its eigenvectors ``U`` in the sector basis, so that the
eigenvectors in the computational basis are the columns of ``P @ U``. Basis changes of operators then
cost one small matmul per pair of blocks that the operator connects, instead of one ``d x d x d`` product.

Degenerate levels: eigenvalues are sorted ascending and consecutive eigenvalues closer than ``level_tol``
belong to one level (PHYSICS.md section 3). The default tolerance is ``1e4 * eps * max(1, width)``,
``eps`` the double-precision machine epsilon and ``width`` the spectral width.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from . import _checks

__all__ = ["Spectrum", "SpectrumBlock", "diagonalize", "default_level_tol", "group_levels",
           "check_diagonalize_memory", "eigh_peak_arrays"]


def default_level_tol(energies) -> float:
    """Default level-grouping tolerance: ``1e4 * eps * max(1, spectral width)``."""
    e = np.asarray(energies, dtype=float)
    width = float(e.max() - e.min()) if e.size else 0.0
    return 1e4 * np.finfo(float).eps * max(1.0, width)


def group_levels(sorted_values: np.ndarray, tol: float):
    """Group ascending values into clusters whose consecutive gaps are <= ``tol``.

    Returns ``(index, centers)``: the cluster of each value and each cluster's mean value.
    """
    v = np.asarray(sorted_values, dtype=float)
    if v.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    breaks = np.diff(v) > tol
    index = np.concatenate([[0], np.cumsum(breaks)]).astype(np.int64)
    counts = np.bincount(index)
    centers = np.bincount(index, weights=v) / counts
    return index, centers


@dataclasses.dataclass(frozen=True, eq=False)
class SpectrumBlock:
    """One symmetry block of a spectrum.

    Attributes
    ----------
    cols : ndarray of int
        Positions of this block's eigenvalues in the spectrum's ascending ``energies``.
    vecs : ndarray
        Eigenvectors in the block's basis, shape ``(D, len(cols))``.
    rows : ndarray of int or None
        When the block's basis is a set of computational basis states (S^z sectors), their indices.
    basis : sparse array or None
        Otherwise the isometry ``P`` (shape ``(d, D)``); ``None`` with ``rows=None`` means the full space.
    label : dict
        The sector label (empty for the full space).
    """

    cols: np.ndarray
    vecs: np.ndarray
    rows: np.ndarray | None = None
    basis: sp.csr_array | None = None
    label: dict = dataclasses.field(default_factory=dict)

    def embed(self, dim: int):
        """Isometry of this block as a sparse ``(dim, D)`` array."""
        D = self.vecs.shape[0]
        if self.basis is not None:
            return self.basis
        if self.rows is not None:
            return sp.csr_array((np.ones(D), (self.rows, np.arange(D))), shape=(dim, D))
        return sp.identity(dim, format="csr")

    def restrict(self, op, other: "SpectrumBlock"):
        """``P_self^dag op P_other`` (sparse or dense, same kind as ``op``)."""
        if self.rows is not None and other.rows is not None:
            return op[self.rows][:, other.rows] if sp.issparse(op) else op[np.ix_(self.rows, other.rows)]
        dim = op.shape[0]
        Pa, Pb = self.embed(dim), other.embed(dim)
        return Pa.conj().T @ op @ Pb


@dataclasses.dataclass(frozen=True, eq=False)
class Spectrum:
    r"""Eigen-decomposition :math:`H = \sum_n E_n |n\rangle\langle n|`, immutable.

    Attributes
    ----------
    energies : ndarray
        Eigenvalues in ascending order, shape ``(n,)``.
    blocks : tuple of SpectrumBlock
        Symmetry blocks (a single block for a plain ``eigh``).
    dim : int
        Dimension ``d`` of the computational basis the eigenvectors live in. ``n < d`` when the
        spectrum is one symmetry sector.
    level_tol : float
        Eigenvalues closer than this (consecutively) form one degenerate level.
    sector : dict or None
        The sector label when the spectrum covers one sector only.
    """

    energies: np.ndarray
    blocks: tuple
    dim: int
    level_tol: float
    sector: dict | None = None

    # -- levels ------------------------------------------------------------------------------------
    @cached_property
    def _levels(self):
        return group_levels(self.energies, self.level_tol)

    @property
    def level_index(self) -> np.ndarray:
        """Level of each eigenvalue (``int`` array of length ``n``)."""
        return self._levels[0]

    @property
    def level_energies(self) -> np.ndarray:
        """Energy of each distinct level (mean of its eigenvalues), ascending."""
        return self._levels[1]

    @property
    def degeneracies(self) -> np.ndarray:
        """Degeneracy of each level."""
        return np.bincount(self.level_index)

    @property
    def levels(self) -> list:
        """Index arrays of the eigenvalues in each level."""
        idx = self.level_index
        bounds = np.flatnonzero(np.diff(idx)) + 1
        return np.split(np.arange(idx.size), bounds)

    @property
    def n(self) -> int:
        """Number of eigenstates."""
        return int(self.energies.size)

    @property
    def is_real(self) -> bool:
        """True when every eigenvector (and basis) is real."""
        return all(np.isrealobj(b.vecs) and (b.basis is None or np.isrealobj(b.basis.data)) for b in self.blocks)

    # -- eigenvectors and basis changes -----------------------------------------------------------
    @cached_property
    def vectors(self) -> np.ndarray:
        """Eigenvectors as the columns of a dense ``(d, n)`` array (built on demand)."""
        _checks.check_memory("the dense eigenvector matrix", (self.dim, self.n), self._dtype)
        V = np.zeros((self.dim, self.n), dtype=self._dtype)
        for b in self.blocks:
            if b.rows is not None:
                V[np.ix_(b.rows, b.cols)] = b.vecs
            elif b.basis is not None:
                V[:, b.cols] = b.basis @ b.vecs
            else:
                V[:, b.cols] = b.vecs
        return V

    @property
    def _dtype(self):
        return np.float64 if self.is_real else np.complex128

    def to_eigenbasis(self, op, *, check_sector: bool = True) -> np.ndarray:
        r"""Matrix elements :math:`\langle m|O|n\rangle` in the eigenbasis (dense ``(n, n)``).

        Computed block by block: :math:`U_a^\dagger (P_a^\dagger O P_b) U_b`, skipping pairs of blocks
        that ``op`` does not connect. For a one-sector spectrum, ``op`` must leave the sector invariant
        (checked: otherwise the projected dynamics would be silently wrong).
        """
        op = _checks.as_operator("op", op, self.dim, hermitian=False)
        if check_sector and self.n < self.dim:
            self._check_invariant(op)
        dtype = np.result_type(self._dtype, op.dtype)
        # the result, and at its largest the product O U (d x n) and U^dag (O U) (n x n) of one block pair
        _checks.check_memory_total(f"an operator in the eigenbasis ({self.n} x {self.n})",
                                   [((self.n, self.n), dtype)] * 2 + [((self.dim, self.n), dtype)])
        out = np.zeros((self.n, self.n), dtype=dtype)
        if len(self.blocks) == 1 and self.blocks[0].rows is None and self.blocks[0].basis is None:
            U = self.blocks[0].vecs
            out[:] = U.conj().T @ (op @ U)
            return out
        for a in self.blocks:
            for b in self.blocks:
                sub = a.restrict(op, b)
                if sp.issparse(sub):
                    if sub.nnz == 0:
                        continue
                elif not np.any(sub):
                    continue
                out[np.ix_(a.cols, b.cols)] = a.vecs.conj().T @ (sub @ b.vecs)
        return out

    def from_eigenbasis(self, X: np.ndarray) -> np.ndarray:
        r"""Back to the computational basis: :math:`V X V^\dagger` (dense ``(d, d)``).

        Block by block, :math:`\sum_{ab} P_a U_a X_{ab} U_b^\dagger P_b^\dagger`, skipping the pairs of
        blocks where ``X`` vanishes (stationary states and Gibbs states live inside levels).
        """
        X = np.asarray(X)
        if X.shape != (self.n, self.n):
            raise ValueError(f"X must have shape {(self.n, self.n)} (eigenbasis), got {X.shape}")
        if np.iscomplexobj(X) and not np.any(X.imag):
            X = X.real
        dtype = np.result_type(self._dtype, X.dtype)
        # the result and, at its largest, the two products U X and (U X) U^dag of one block pair
        _checks.check_memory_total(f"a dense {self.dim} x {self.dim} operator in the computational basis",
                                   [((self.dim, self.dim), dtype)] * 3)
        if len(self.blocks) == 1 and self.blocks[0].rows is None and self.blocks[0].basis is None:
            U = self.blocks[0].vecs
            return U @ X @ U.conj().T
        out = np.zeros((self.dim, self.dim), dtype=dtype)
        for a in self.blocks:
            for b in self.blocks:
                Xab = X[np.ix_(a.cols, b.cols)]
                if not np.any(Xab):
                    continue
                M = a.vecs @ Xab @ b.vecs.conj().T
                if a.rows is not None and b.rows is not None:
                    out[np.ix_(a.rows, b.rows)] += M
                else:
                    Pa, Pb = a.embed(self.dim), b.embed(self.dim)
                    out += Pa @ (Pb @ M.conj().T).conj().T
        return out

    def _check_invariant(self, op) -> None:
        V = self.vectors
        OV = op @ V
        leak = OV - V @ (V.conj().T @ OV)
        err = float(np.max(np.abs(leak))) if leak.size else 0.0
        scale = float(np.max(np.abs(OV))) if OV.size else 0.0
        if err > 1e-8 * max(scale, 1e-300):
            raise ValueError(
                f"the operator does not leave the sector {self.sector} invariant (leak {err:.2e}); "
                "diagonalize the full space (sector=None) when a coupling changes the sector"
            )

    # -- thermal states ----------------------------------------------------------------------------
    def gibbs_weights(self, beta) -> np.ndarray:
        r"""Gibbs populations :math:`p_n = e^{-\beta E_n}/Z` in the eigenbasis (stable: shifted by E_0).

        Evaluated on level energies, so the states of one degenerate level get equal weights; at
        ``beta = inf`` the ground level shares the weight equally (the normalized ground-level projector).
        """
        beta = _checks.check_beta(beta)
        return _checks.boltzmann_weights(beta, self.level_energies, self.level_index)

    def gibbs(self, beta) -> np.ndarray:
        r"""Gibbs state :math:`e^{-\beta H}/Z` as a dense matrix in the computational basis."""
        return self.from_eigenbasis(np.diag(self.gibbs_weights(beta)))

    def expect(self, op, weights) -> float:
        """:math:`\\sum_n w_n \\langle n|O|n\\rangle` for populations ``weights`` in the eigenbasis."""
        Od = np.real(np.diag(self.to_eigenbasis(op)))
        return float(Od @ np.asarray(weights))


def _eigh(H) -> tuple[np.ndarray, np.ndarray]:
    H = H.toarray() if sp.issparse(H) else np.asarray(H)
    if np.iscomplexobj(H) and not np.any(H.imag):
        H = H.real
    # divide and conquer ('evd', numpy's choice) is the most robust fast driver for all eigenpairs
    return sla.eigh(H, driver="evd", check_finite=False)


def diagonalize(system, sector: dict | None = None, *, blocks="auto", level_tol: float | None = None,
                ) -> Spectrum:
    r"""Diagonalize a Hamiltonian exactly.

    Parameters
    ----------
    system : SpinChain or array_like or sparse matrix
        A chain from :mod:`davies_mb.models`, or a Hermitian matrix in the computational basis.
    sector : dict, optional
        One symmetry sector of a chain, ``dict(sz=0, k=0, parity=1, flip=1)`` (any subset). The spectrum
        then covers that sector only (``n < d``); its eigenvectors are embedded in the full space.
    blocks : "auto", None or tuple of str
        For the full space of a chain: symmetries used to block-diagonalize. ``"auto"`` uses total
        :math:`S^z` when the chain conserves it (one ``eigh`` per sector: much faster than one big one);
        ``None`` forces one dense ``eigh``; a tuple like ``("sz", "k")`` uses those sectors.
        With ``sector``: the symmetries the sector is further split by. ``"auto"`` uses reflection and spin
        flip where the chain has them and they are good quantum numbers in the sector (at L = 16, S^z = 0:
        four blocks instead of one, about 16 times faster); ``None`` keeps one ``eigh`` of the whole sector.
        The spectrum covers the sector either way.
    level_tol : float, optional
        Level-grouping tolerance (default :func:`default_level_tol`).

    Returns
    -------
    Spectrum
    """
    from .models import SpinChain

    if isinstance(system, SpinChain):
        chain = system
        if sector is not None:
            sector = chain.check_sector(sector)
            from .sectors import sector_basis, sector_dimension

            D = sector_dimension(chain.L, sector)
            if D == 0:
                raise ValueError(f"sector {sector} is empty for L={chain.L}")
            labels = _sub_sectors(chain, sector, blocks)
            check_diagonalize_memory(chain, labels, sector)
            if len(labels) == 1:
                P = sector_basis(chain.L, **sector)
                E, U = _eigh(chain.hamiltonian(sector=sector))
                blk = _make_block(np.arange(E.size), U, P, sector)
                return _finish([E], [blk], chain.dim, level_tol, sector=sector)
            # the sector's own symmetry blocks: a few small eigh instead of one big one (at L = 16, S^z = 0,
            # parity x flip: four blocks of ~3200 instead of 12870, ~16 times less work); the eigenvectors are
            # eigenvectors of H in the sector all the same
            return _diagonalize_blocks(chain, labels, level_tol, sector=sector)
        if isinstance(blocks, str) and blocks != "auto":
            blocks = (blocks,)
        syms = _auto_blocks(chain) if blocks == "auto" else (tuple(blocks) if blocks else ())
        for s in syms:
            if s not in chain.symmetries:
                raise ValueError(f"blocks={blocks!r}: the chain has no {s!r} symmetry; it has {sorted(chain.symmetries)}")
        if not syms:
            check_diagonalize_memory(chain, [None])
            E, U = _eigh(chain.hamiltonian(sparse=True))
            return _finish([E], [SpectrumBlock(np.arange(E.size), U)], chain.dim, level_tol)
        from .sectors import sector_labels

        labels = sector_labels(chain.L, syms)
        check_diagonalize_memory(chain, labels)
        return _diagonalize_blocks(chain, labels, level_tol)

    if sector is not None:
        raise ValueError("sector= needs a SpinChain (a bare matrix carries no symmetry information)")
    H = _checks.as_operator("H", system)
    d = H.shape[0]
    dt = np.complex128 if np.iscomplexobj(H.data if sp.issparse(H) else H) else np.float64
    _checks.check_memory_total(f"diagonalizing a {d} x {d} Hamiltonian", eigh_peak_arrays(d, dt),
                               hint="Diagonalize a symmetry sector of the chain instead "
                                    "(dm.diagonalize(chain, sector=dict(sz=...))) or a smaller system.")
    E, U = _eigh(H)
    return _finish([E], [SpectrumBlock(np.arange(E.size), U)], H.shape[0], level_tol)


def eigh_peak_arrays(D: int, dtype=np.float64) -> list:
    r"""The arrays a dense ``eigh`` of a ``D x D`` matrix holds at its peak, for :func:`check_memory_total`.

    The dense matrix, the copy LAPACK overwrites, the eigenvectors, and the divide-and-conquer workspace
    (``?syevd``: :math:`1 + 6D + 2D^2` reals; ``?heevd``: :math:`D^2 + 2D` complex plus :math:`2D^2 + 5D + 1`
    reals), i.e. about :math:`4 D^2` entries.
    """
    D = int(D)
    return [((D, D), dtype), ((D, D), dtype), ((D, D), dtype), ((2 * D * D + 6 * D + 1,), np.float64)]


def check_diagonalize_memory(chain, labels, sector=None) -> int:
    r"""Refuse, before anything is built, a diagonalization of ``chain`` whose peak would not fit.

    ``labels`` are the sectors diagonalized one after the other (``[None]``: the full space in one block).
    The peak holds the sparse Hamiltonian (the full space's, unless the only sector is an S^z sector that
    quimb builds directly), the eigenvectors of every block (a spectrum keeps them all), and the dense
    ``eigh`` work arrays of the largest block (:func:`eigh_peak_arrays`). Returns the estimate in bytes.
    """
    from .sectors import _is_real, sector_dimension

    labels = list(labels)
    dims, dts = [], []
    for lab in labels:
        dims.append(chain.dim if not lab else sector_dimension(chain.L, lab))
        dts.append(np.float64 if not lab or _is_real(chain.L, lab.get("k")) else np.complex128)
    direct = len(labels) == 1 and labels[0] and set(labels[0]) == {"sz"}
    arrays = [hamiltonian_bytes(chain, dims[0] if direct else chain.dim)]
    if any(lab and set(lab) != {"sz"} for lab in labels):
        arrays.append(chain.dim * 24)  # the sector isometries (one entry per basis state: data + indices)
    arrays += [((D, D), dt) for D, dt in zip(dims, dts)]  # the eigenvectors of every block are kept
    big = int(np.argmax(np.asarray(dims, dtype=float) ** 2 * [np.dtype(t).itemsize for t in dts]))
    arrays += eigh_peak_arrays(dims[big], dts[big])[:2] + eigh_peak_arrays(dims[big], dts[big])[3:]
    where = "the full space" if labels == [None] else (
        f"the sector {labels[0]}" if len(labels) == 1 else f"{len(labels)} symmetry blocks (largest {labels[big]})")
    if sector is not None and len(labels) > 1:
        where = f"the sector {sector} by {where}"
    return _checks.check_memory_total(
        f"diagonalizing the L={chain.L} {chain.name} chain in {where}, dimension {dims[big]}", arrays,
        hint=("Diagonalize one symmetry sector (dm.diagonalize(chain, sector=dict(sz=0, k=0, ...)), "
              "see chain.symmetries) or a smaller L.") if chain.symmetries else "Use a smaller L.")


def hamiltonian_bytes(chain, dim: int) -> int:
    """Estimated peak bytes of building the sparse Hamiltonian of ``chain`` in a space of dimension ``dim``.

    Each term that flips spins adds at most one entry per row, the diagonal terms one together; quimb
    assembles COO triplets (8-byte value and two 8-byte indices) before compressing to CSR (12 bytes), with
    temporaries on top: 56 bytes per slot covers the peak traced with ``tracemalloc`` (open XXZ, L = 12, 14,
    16: 4.6, 19.6, 82.8 MiB against estimates of 5.0, 23.6, 108.5 MiB).
    """
    flips = sum(1 for _, *ops in chain.terms if any(lab != "z" for lab, _ in ops))
    return int(dim) * (flips + 1) * 56


def _auto_blocks(chain):
    return ("sz",) if "sz" in chain.symmetries and chain.L >= 4 else ()


def _diagonalize_blocks(chain, labels, level_tol, sector=None) -> "Spectrum":
    """One dense ``eigh`` per symmetry block ``labels`` (the sparse H built once, projected per block)."""
    from .sectors import sector_basis

    H = chain.hamiltonian(sparse=True)
    Es, blks = [], []
    offset = 0
    for lab in labels:
        P = sector_basis(chain.L, **lab)
        E, U = _eigh(P.conj().T @ H @ P)
        blks.append(_make_block(np.arange(offset, offset + E.size), U, P, lab))
        Es.append(E)
        offset += E.size
    return _finish(Es, blks, chain.dim, level_tol, sector=sector)


def _sub_sectors(chain, sector: dict, blocks) -> list:
    r"""The symmetry blocks a sector is diagonalized in: ``[sector]`` or its refinements by ``blocks``.

    ``blocks="auto"`` uses the real symmetries the chain has beyond the sector's labels, where they are good
    quantum numbers inside it: reflection (``parity``; with a momentum label only at k = 0 and L/2) and spin
    flip (``flip``; only at S^z = 0 when the sector fixes S^z). ``None`` (or an empty tuple) keeps one block; a
    tuple names the symmetries to refine by (each must be a symmetry of the chain that the sector leaves
    free and that is a good quantum number inside it).
    """
    from .sectors import sector_dimension

    L = chain.L
    flip_ok = "flip" in chain.symmetries and "flip" not in sector and sector.get("sz", 0) == 0
    k = sector.get("k")
    parity_ok = "parity" in chain.symmetries and "parity" not in sector and (k is None or k == 0 or 2 * k == L)
    if isinstance(blocks, str) and blocks != "auto":
        blocks = (blocks,)
    if blocks == "auto":
        extra = [s for s, ok in (("parity", parity_ok), ("flip", flip_ok)) if ok]
    else:
        extra = list(blocks or ())
        for s in extra:
            ok = {"parity": parity_ok, "flip": flip_ok}.get(s, False)
            if not ok:
                raise ValueError(
                    f"blocks={blocks!r} with sector={sector}: {s!r} is not a symmetry this sector can be refined by "
                    f"(the chain's symmetries: {sorted(chain.symmetries)}; parity needs k = 0 or L/2, flip needs "
                    "S^z = 0); use blocks='auto' or None")
    labels = [dict(sector)]
    for s in extra:
        labels = [dict(lab, **{s: v}) for lab in labels for v in (1, -1)]
    return [lab for lab in labels if sector_dimension(L, lab) > 0]


def _make_block(cols, U, P, label):
    P = sp.csr_array(P)
    # An S^z sector is a plain selection of basis states: keep the indices, not the matrix.
    if P.nnz == P.shape[1] and np.all(P.data == 1) and np.all(np.diff(P.indptr) <= 1):
        coo = P.tocoo()
        order = np.argsort(coo.col)
        return SpectrumBlock(cols, U, rows=coo.row[order].astype(np.int64), label=dict(label))
    return SpectrumBlock(cols, U, basis=P, label=dict(label))


def _finish(Es, blks, dim, level_tol, sector=None) -> Spectrum:
    E = np.concatenate(Es)
    order = np.argsort(E, kind="stable")
    pos = np.empty_like(order)
    pos[order] = np.arange(order.size)
    blocks = tuple(dataclasses.replace(b, cols=pos[b.cols]) for b in blks)
    E = E[order]
    E.setflags(write=False)  # the spectrum is immutable
    for b in blocks:
        b.vecs.setflags(write=False)
    tol = default_level_tol(E) if level_tol is None else _checks.check_positive("level_tol", level_tol)
    return Spectrum(E, blocks, int(dim), float(tol), sector)
