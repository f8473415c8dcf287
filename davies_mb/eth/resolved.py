"""The fully resolved symmetry sectors of a chain and their eigensystems (see :mod:`davies_mb.eth`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from .. import _checks
from ..spectrum import eigh_peak_arrays

_SECTOR_KEYS = ("sz", "k", "parity", "flip")


# --------------------------------------------------------------------------------------------------
# sectors of a chain
# --------------------------------------------------------------------------------------------------
def _is_chain(x) -> bool:
    from ..models import SpinChain

    return isinstance(x, SpinChain)


def _check_chain(chain):
    if not _is_chain(chain):
        raise TypeError(
            f"chain must be a SpinChain (e.g. dm.xxz(16, 0.55, j2=0.5, bc='periodic')), got {type(chain).__name__}"
        )
    return chain


def _resolve_sz(chain, sz):
    if "sz" in chain.symmetries:
        return sz
    if sz is not None and sz != "auto":
        raise ValueError(
            f"sz={sz!r}: this {chain.name} chain does not conserve total S^z "
            f"(its symmetries: {sorted(chain.symmetries)}); pass sz=None"
        )
    return None


def fully_resolved_sectors(chain, sz=0) -> list:
    r"""Labels of all fully resolved symmetry sectors of ``chain`` (at total :math:`S^z` = ``sz``).

    Every symmetry in ``chain.symmetries`` is resolved where it is a good quantum number: momentum
    ``k = 0..L-1``, reflection ``parity`` at ``k = 0`` and ``k = L/2`` (or always for open chains), spin
    ``flip`` at :math:`S^z = 0`. Both ``k`` and ``L - k`` are listed (their spectra coincide, related by
    the reflection); pooled statistics therefore count every level of the :math:`S^z` sector once.

    Parameters
    ----------
    chain : SpinChain
    sz : float or None
        Total :math:`S^z`; ``None`` for all of them (or for a chain that does not conserve it).

    Returns
    -------
    list of dict
        Sector dictionaries in the order of :func:`davies_mb.sectors.sector_labels` (empty sectors left out).
    """
    from ..sectors import sector_labels

    chain = _check_chain(chain)
    sz = _resolve_sz(chain, sz)
    syms = tuple(s for s in _SECTOR_KEYS if s in chain.symmetries)
    return sector_labels(chain.L, syms, sz=sz)


def _missing_symmetries(chain, label: Mapping) -> list:
    """Symmetries of ``chain`` that are good quantum numbers inside ``label`` but not resolved by it."""
    L = chain.L
    missing = []
    for key in _SECTOR_KEYS:
        if key not in chain.symmetries or key in label:
            continue
        if key == "parity" and "k" in label and not (label["k"] == 0 or 2 * label["k"] == L):
            continue
        if key == "flip" and "sz" in label and label["sz"] != 0:
            continue
        missing.append(key)
    return missing


def sector_eigensystems(chain, sz=0, *, vectors: bool = False, sectors=None, real_form: bool = True):
    r"""Yield the eigen-data of every fully resolved sector, one sector at a time.

    Each block :math:`H_\chi = P_\chi^\dagger H P_\chi` (:math:`P_\chi` the isometry of
    ``sector_basis(L, **label, space="sz")``) is built directly from the representatives and the chain's
    term list (no Hamiltonian of the whole :math:`S^z` sector is formed), and diagonalized in real
    arithmetic when the block is real (``k = 0``, ``k = L/2`` or no ``k``).

    The complex momentum blocks (:math:`k \ne 0, L/2`) of a chain with a real Hamiltonian and reflection
    symmetry are made real too: the antiunitary :math:`A = R K` (reflection times complex conjugation)
    commutes with :math:`H` and maps the sector to itself, and on the symmetric states it acts as a
    generalized permutation, :math:`A|k, r\rangle = q_r |k, \pi(r)\rangle` with :math:`\pi^2 = 1`,
    :math:`|q_r| = 1`, :math:`q_{\pi(r)} = q_r` (because :math:`A^2 = 1`). The basis
    :math:`e^{i\arg(q_r)/2}|r\rangle` (fixed points) and :math:`(|r\rangle + q_r|\pi r\rangle)/\sqrt2`,
    :math:`i(|r\rangle - q_r|\pi r\rangle)/\sqrt2` (pairs) is invariant under :math:`A`, so that
    :math:`\langle f_a|H|f_b\rangle = \overline{\langle A f_a|H|A f_b\rangle}` is real: a real symmetric
    ``eigh`` (about 4x cheaper) gives the same spectrum. ``P`` is then the product of the two isometries.

    Parameters
    ----------
    chain : SpinChain
    sz : float or None
        Total :math:`S^z` (``None`` when the chain does not conserve it).
    vectors : bool
        Also return eigenvectors (``eigh``); otherwise eigenvalues only (``eigvalsh``).
    sectors : list of dict, optional
        Sector labels (default :func:`fully_resolved_sectors`).
    real_form : bool
        Use the real form of complex momentum blocks when the chain allows it (default ``True``).

    Yields
    ------
    (label, energies, U, P, rows)
        ``U`` (``None`` unless ``vectors``) holds the eigenvectors in the sector basis; ``P`` is the isometry
        from the rows ``rows`` (computational-basis indices of the :math:`S^z` sector, or ``None`` for the
        full space) to the sector, so that the full eigenvectors are ``P @ U`` placed at ``rows``.
    """
    from ..sectors import sector_basis

    chain = _check_chain(chain)
    sz = _resolve_sz(chain, sz)
    labels = fully_resolved_sectors(chain, sz) if sectors is None else [chain.check_sector(s) for s in sectors]
    if sz is not None:
        rows = sector_basis(chain.L, sz=sz).tocoo().row.astype(np.int64)
        rows.sort()
        space = "sz"
    else:
        rows, space = None, "full"
    # H real in the computational basis and reflection-symmetric: A = R K is an antiunitary symmetry that
    # keeps every momentum sector; the complex k != 0, L/2 blocks then have a real form.
    real_terms = all(np.isreal(coef) and all(lab != "y" for lab, _ in ops) for coef, *ops in chain.terms)
    use_rk = real_form and "parity" in chain.symmetries and "k" in chain.symmetries and real_terms
    states = rows if rows is not None else np.arange(chain.dim, dtype=np.int64)
    for label in labels:
        lab = {k: v for k, v in label.items() if k != "sz"}
        if space == "sz":
            P = sector_basis(chain.L, sz=sz, **lab, space="sz")
        else:
            P = sector_basis(chain.L, **lab, space="full")
        D = P.shape[1]
        dt = np.float64 if (use_rk or not np.iscomplexobj(P.data)) else np.complex128
        arrays = eigh_peak_arrays(D, dt)
        _checks.check_memory_total(f"diagonalizing the sector {label} of the L={chain.L} chain (dimension {D})",
                                   arrays if vectors else arrays[:2] + arrays[3:],
                                   hint="Use a smaller L (every fully resolved sector is diagonalized densely).")
        Hs = _sector_hamiltonian(chain, label)  # = P^dag H P, from the representatives
        if use_rk and np.iscomplexobj(P.data) and "k" in label:
            F = _rk_real_basis(P, states, chain.L)
            P = P @ F
            Hs = (F.conj().T @ Hs @ F).toarray()
            err = float(np.max(np.abs(Hs.imag))) if Hs.size else 0.0
            if err > 1e-10 * max(1.0, float(np.max(np.abs(Hs.real)))):  # pragma: no cover - guards the construction
                raise RuntimeError(f"real form of sector {label} failed (imaginary part {err:.2e})")
            Hs = Hs.real
        else:
            Hs = Hs.toarray()
        if np.iscomplexobj(Hs) and not np.any(Hs.imag):
            Hs = Hs.real
        if vectors:
            E, U = sla.eigh(Hs, driver="evd", check_finite=False)
        else:
            E, U = sla.eigh(Hs, eigvals_only=True, driver="evd", check_finite=False), None
        yield dict(label), E, U, P, rows


def _apply_terms(terms, states: np.ndarray, L: int):
    """Images of basis states under each quimb Pauli term: (image states, amplitudes, source index).

    Labels ``x, y, z, +, -`` (Pauli matrices, sigma^+ = |up><down|); site j is bit L-1-j, bit 0 = up.
    """
    imgs, amps, src = [], [], []
    idx = np.arange(states.size)
    for coef, *ops in terms:
        x = states.copy()
        a = np.full(states.size, complex(coef))
        for label, site in reversed(ops):  # the rightmost factor acts first
            bit = (x >> (L - 1 - site)) & 1
            m = np.int64(1) << (L - 1 - site)
            if label == "z":
                a = a * (1 - 2 * bit)
            elif label == "x":
                x = x ^ m
            elif label == "y":
                a = a * np.where(bit == 0, 1j, -1j)
                x = x ^ m
            elif label == "+":
                a = a * bit
                x = x & ~m
            elif label == "-":
                a = a * (1 - bit)
                x = x | m
            else:  # pragma: no cover - the models only use these labels
                raise ValueError(f"unknown operator label {label!r} in a chain term")
        nz = a != 0
        imgs.append(x[nz])
        amps.append(a[nz])
        src.append(idx[nz])
    return np.concatenate(imgs), np.concatenate(amps), np.concatenate(src)


def _sector_hamiltonian(chain, label) -> sp.csr_array:
    r"""Sector block :math:`H_\chi = P_\chi^\dagger H P_\chi` built from the representatives only.

    For the symmetric states :math:`|\chi, r\rangle` of :func:`davies_mb.sectors.sector_basis`,
    :math:`\langle\chi, r'|H|\chi, r\rangle = \sum_{s} \langle s|H|r\rangle\, \chi(g_s)^*
    \sqrt{|\mathrm{Stab}(r')| / |\mathrm{Stab}(r)|}`, the sum over the images :math:`s` of :math:`r` under the
    terms of :math:`H`, :math:`g_s s = r'` the representative of :math:`s`. Memory :math:`O(D \times n_\text{terms})`
    instead of the :math:`S^z`-sector Hamiltonian.
    """
    from ..sectors import _normalize, _orbit_data, _is_real

    L = chain.L
    norm = _normalize(L, **label)
    _, rep, _, stab, good, _ = _orbit_data(L, norm)
    reps = np.unique(rep[good])
    rstab = _orbit_data(L, norm, states=reps)[3]
    img, amp, src = _apply_terms(chain.terms, reps, L)
    _, irep, iq, istab, igood, _ = _orbit_data(L, norm, states=img)
    col = np.searchsorted(reps, irep)
    col = np.minimum(col, reps.size - 1)
    keep = igood & (reps[col] == irep)
    phase = np.exp(-1j * np.pi * iq[keep] / L)
    val = amp[keep] * phase * np.sqrt(istab[keep] / rstab[src[keep]])
    D = reps.size
    Hs = sp.csr_array((val, (col[keep], src[keep])), shape=(D, D))
    Hs.sum_duplicates()
    if _is_real(L, norm["k"]) and not np.any(np.abs(Hs.data.imag) > 1e-14 * max(1.0, np.abs(Hs.data).max())):
        Hs = sp.csr_array(Hs.real)
    return Hs


def _rk_real_basis(P, states, L) -> sp.csr_array:
    """Unitary ``F`` (sparse, D x D) with ``(P F)^dag H (P F)`` real for every real, reflection-symmetric ``H``.

    ``P`` has rows labelled by the basis states ``states`` (ascending integers); ``A v = R conj(v)``.
    """
    from ..sectors import _reflect

    perm = np.searchsorted(states, _reflect(states, L))
    if not np.array_equal(states[perm], _reflect(states, L)):  # pragma: no cover - R keeps S^z
        raise RuntimeError("the reflection does not map the row basis to itself")
    AP = sp.csr_array(P.conj()[perm])  # (A P)[i] = conj(P)[position of R(state i)]
    Q = sp.csr_array(P.conj().T @ AP).tocoo()  # A e_j = Q[:, j]: one entry per column
    D = P.shape[1]
    keep = np.abs(Q.data) > 1e-12
    col, row, q = Q.col[keep], Q.row[keep], Q.data[keep]
    if col.size != D or np.unique(col).size != D or not np.allclose(np.abs(q), 1.0, atol=1e-10):
        raise RuntimeError("R K is not a generalized permutation of the sector basis")  # pragma: no cover
    order = np.argsort(col)
    pi, q = row[order], q[order]
    j = np.arange(D)
    fixed = pi == j
    first = (pi > j)  # each pair once, from its smaller member
    m = pi[first]
    jf = j[fixed]
    jp = j[first]
    qp = q[first]
    r2 = 1.0 / np.sqrt(2.0)
    n_fixed, n_pairs = jf.size, jp.size
    # columns: fixed points, then (f1, f2) for every pair
    rows_ = np.concatenate([jf, jp, m, jp, m])
    cols_ = np.concatenate([np.arange(n_fixed),
                            n_fixed + 2 * np.arange(n_pairs), n_fixed + 2 * np.arange(n_pairs),
                            n_fixed + 2 * np.arange(n_pairs) + 1, n_fixed + 2 * np.arange(n_pairs) + 1])
    vals = np.concatenate([np.exp(0.5j * np.angle(q[fixed])), np.full(n_pairs, r2, dtype=complex), r2 * qp,
                           np.full(n_pairs, 1j * r2), -1j * r2 * qp])
    return sp.csr_array((vals, (rows_, cols_)), shape=(D, D))
