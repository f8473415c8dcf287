r"""Spin-1/2 chains built with quimb's ``SparseOperatorBuilder``.

One term list per chain gives every representation: the sparse or dense matrix in the full space, the
matrix directly inside a U(1) (total :math:`S^z`) sector through ``quimb.operator.HilbertSpace``, the MPO
and the local two-site terms for TEBD. quimb's builder works with Pauli matrices, so a spin-operator
coupling :math:`J S^a_i S^a_j` enters as :math:`(J/4)\sigma^a_i\sigma^a_j`; the exchange
:math:`S^x S^x + S^y S^y` is written as :math:`(\sigma^+\sigma^- + \sigma^-\sigma^+)/2` so that the terms
visibly conserve :math:`S^z` and stay real.

Conventions (PHYSICS.md section 1): :math:`\hbar = 1`, site 0 is the most significant qubit of the
computational-basis index, index bit 0 is spin up.
"""

from __future__ import annotations

import dataclasses
import numbers
import re
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from . import _checks
from .operators import pauli, site_operator, spin_operator

__all__ = ["SpinChain", "xxz", "xx", "heisenberg", "j1j2", "tfim", "ising"]

_BCS = ("open", "periodic")
_MAX_ED_L = 40  # full-space matrices and operators (sparse, 2^L)
_MAX_L = 1024  # any representation (MPO / local terms for davies_mb.tn)

Term = tuple  # (coefficient, (label, site), (label, site), ...) in quimb's Pauli language


@dataclasses.dataclass(frozen=True, eq=False)
class SpinChain:
    """A spin-1/2 chain: its parameters, formula, symmetries and the quimb term list that defines it.

    Build it with :func:`xxz`, :func:`xx`, :func:`heisenberg`, :func:`j1j2` or :func:`tfim`.

    Attributes
    ----------
    name : str
        Model family (``"xxz"`` or ``"tfim"``).
    L : int
        Number of spins; the full Hilbert space has dimension ``2**L``.
    bc : {"open", "periodic"}
        Boundary condition.
    params : dict
        Every parameter that defines the chain, fields as explicit per-site lists (reproducible).
    formula : str
        The Hamiltonian in formulas, with its convention (S = sigma/2 or Pauli).
    terms : tuple
        quimb builder terms ``(coef, (label, site), ...)`` with Pauli labels ``x, z, +, -``.
    symmetries : frozenset of str
        Symmetries of H: ``"sz"`` (total S^z), ``"k"`` (translation, periodic and uniform),
        ``"parity"`` (reflection j -> L-1-j), ``"flip"`` (prod_j sigma^x_j).
    """

    name: str
    L: int
    bc: str
    params: dict
    formula: str
    terms: tuple
    symmetries: frozenset

    @property
    def dim(self) -> int:
        """Dimension of the full Hilbert space, 2**L."""
        return 2**self.L

    # -- quimb builder -----------------------------------------------------------------------------
    def builder(self, sz=None):
        """A fresh ``quimb.operator.SparseOperatorBuilder`` holding this chain's terms.

        Parameters
        ----------
        sz : float, optional
            If given, the builder works inside the total-S^z sector ``sz`` (quimb U(1) sector with
            ``n_down = L/2 - sz`` down spins; basis ordered by ascending computational index).
        """
        import quimb.operator as qop

        if sz is None:
            hs = qop.HilbertSpace(self.L)
        else:
            if "sz" not in self.symmetries:
                raise ValueError(
                    f"sector sz={sz!r} requested but this {self.name} chain does not conserve total S^z "
                    f"(params {self._nonzero_params()}); use sector=None or drop the fields along x"
                )
            hs = qop.HilbertSpace(self.L, sector=_n_down(self.L, sz))
        b = qop.SparseOperatorBuilder(hilbert_space=hs)
        for coef, *ops in self.terms:
            b.add_term(coef, *ops)
        return b

    def _nonzero_params(self):
        return {k: v for k, v in self.params.items() if k not in ("L", "bc") and np.any(np.asarray(v) != 0)}

    # -- matrices ----------------------------------------------------------------------------------
    def hamiltonian(self, sparse: bool = True, sector: dict | None = None):
        """The Hamiltonian matrix, in the full space or in one symmetry sector.

        Parameters
        ----------
        sparse : bool
            Return a ``scipy.sparse.csr_array`` (default) or a dense ``ndarray``.
        sector : dict, optional
            ``dict(sz=..., k=..., parity=..., flip=...)`` (any subset). An S^z-only sector is built
            directly by quimb inside the U(1) space; other sectors as :math:`P^\\dagger H P` with the
            isometry of :func:`davies_mb.sectors.sector_basis`.
        """
        _check_ed(self.L, "the Hamiltonian matrix")
        if sector:
            sector = self.check_sector(sector)
        self._check_build_memory(sector, sparse)
        if sector and set(sector) == {"sz"}:
            H = self.builder(sz=sector["sz"]).build_sparse_matrix(dtype=np.float64)
            H = sp.csr_array(H)
        else:
            H = sp.csr_array(self.builder().build_sparse_matrix(dtype=np.float64))
            if sector:
                from .sectors import sector_basis

                P = sector_basis(self.L, **sector)
                H = sp.csr_array(P.conj().T @ H @ P)
        if sparse:
            return H
        _checks.check_memory("the dense Hamiltonian", H.shape, H.dtype)
        return H.toarray()

    def _check_build_memory(self, sector, sparse: bool) -> None:
        """Refuse, before quimb allocates anything, a Hamiltonian whose construction would not fit."""
        from .sectors import sector_dimension
        from .spectrum import hamiltonian_bytes

        direct = bool(sector) and set(sector) == {"sz"}
        D = sector_dimension(self.L, sector) if sector else self.dim
        arrays = [hamiltonian_bytes(self, D if direct else self.dim)]
        if sector and not direct:
            arrays.append(self.dim * 24)  # the sector isometry
        if not sparse:
            arrays.append(((D, D), np.float64))
        _checks.check_memory_total(
            f"building the {'sparse' if sparse else 'dense'} Hamiltonian of the L={self.L} {self.name} chain"
            + (f" in the sector {sector}" if sector else ""), arrays,
            hint="Use one symmetry sector (sector=dict(sz=0, ...)) or a smaller L." if self.symmetries and not direct
            else "Use a smaller L (or davies_mb.tn for long chains).")

    def check_sector(self, sector: dict) -> dict:
        """Validate a sector label against the chain's symmetries; returns a clean dict."""
        if not isinstance(sector, dict):
            raise TypeError(f"sector must be a dict like dict(sz=0, k=0), got {sector!r}")
        valid = ("sz", "k", "parity", "flip")
        clean = {}
        for key, val in sector.items():
            if key not in valid:
                raise ValueError(f"unknown sector label {key!r}; valid labels: {', '.join(valid)}")
            if val is None:
                continue
            if key not in self.symmetries:
                raise ValueError(
                    f"sector label {key}={val!r}: this chain has no {_SYMMETRY_NAMES[key]} symmetry "
                    f"(its symmetries: {sorted(self.symmetries) or 'none'}); drop {key!r} from the sector"
                )
            clean[key] = val
        return clean

    def mpo(self, **opts):
        """The Hamiltonian as a quimb ``MatrixProductOperator`` (same term list)."""
        return self.builder().build_mpo(**opts)

    def local_terms(self):
        """Local terms ``{(i, j): dense 4x4}`` / ``{i: 2x2}`` for quimb's TEBD (same term list)."""
        return self.builder().build_local_terms()

    # -- site operators ----------------------------------------------------------------------------
    def op(self, label: str, site: int) -> sp.csr_array:
        """Spin operator :math:`S^a_i = \\sigma^a_i/2` (``x, y, z``) or :math:`S^\\pm_i` on ``site``, full space."""
        _check_ed(self.L, "a full-space spin operator")
        return site_operator(spin_operator(label), site, self.L)

    def pauli(self, label: str, site: int) -> sp.csr_array:
        """Pauli operator :math:`\\sigma^a_i` (``x, y, z, +, -``) on ``site``, full space."""
        _check_ed(self.L, "a full-space Pauli operator")
        return site_operator(pauli(label), site, self.L)

    def total(self, label: str) -> sp.csr_array:
        """Total spin :math:`S^a = \\sum_j S^a_j`."""
        return sp.csr_array(sum(self.op(label, j) for j in range(self.L)))

    def parse_operator(self, text: str) -> sp.csr_array:
        """Operator from a string of Pauli site terms, e.g. ``"x0+z1"``, ``"0.5*x0 - z3"``, ``"x0*x1"``.

        Each term is an optional real coefficient and a product of Pauli factors ``<label><site>``
        (labels ``x, y, z``; :math:`\\sigma`, not :math:`S`). Returns a sparse Hermitian operator.
        """
        _check_ed(self.L, "a full-space operator")
        return parse_pauli_sum(text, self.L)

    # -- sectors -----------------------------------------------------------------------------------
    @cached_property
    def conserves_sz(self) -> bool:
        return "sz" in self.symmetries

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.params.items() if not isinstance(v, list) or np.any(v)}
        return f"SpinChain({self.name}, {shown})"


_SYMMETRY_NAMES = {
    "sz": "total-S^z (U(1))",
    "k": "translation",
    "parity": "reflection",
    "flip": "spin-flip (prod sigma^x)",
}


def _n_down(L: int, sz) -> int:
    twice = 2 * float(sz)
    n = (L - twice) / 2
    if not np.isclose(twice, round(twice)) or not np.isclose(n, round(n)) or not 0 <= round(n) <= L:
        valid = [(L - 2 * m) / 2 for m in range(L + 1)]
        raise ValueError(f"sz={sz!r} is not a total S^z of L={L} spins; valid values: {valid}")
    return int(round(n))


def _check_L(L) -> int:
    if isinstance(L, bool) or not isinstance(L, numbers.Integral):
        raise TypeError(f"L must be an integer number of sites, got {L!r}")
    if L < 2:
        raise ValueError(f"L must be >= 2 sites, got {L}")
    if L > _MAX_L:
        raise ValueError(
            f"L={L}: more than {_MAX_L} sites; even the tensor-network representations (MPO, local terms of "
            "davies_mb.tn) of such a chain are not supported. Use a shorter chain"
        )
    return int(L)


def _check_ed(L: int, what: str) -> None:
    """Refuse a full-space (2^L) object of a chain that only tensor networks can handle."""
    if L > _MAX_ED_L:
        raise ValueError(
            f"{what} of an L={L} chain lives in the full 2^{L} space, far beyond exact diagonalization "
            f"(at most L={_MAX_ED_L}); use davies_mb.tn (tensor networks: MPO, TEBD, DMRG) for long chains"
        )


def _check_real(name, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def _bonds(L: int, r: int, bc: str):
    if bc == "open":
        return [(j, j + r) for j in range(L - r)]
    if L <= r:
        return []
    return [(j, (j + r) % L) for j in range(L)]


def _fields(L, uniform, staggered, disorder, seed, name):
    h = np.full(L, uniform, dtype=float)
    h += staggered * (-1.0) ** np.arange(L)
    if disorder:
        if seed is None:
            raise ValueError(
                f"{name}: random fields (disorder={disorder}) need an explicit seed for reproducibility; "
                "pass seed=<int>"
            )
        rng = np.random.default_rng(seed)
        h += rng.uniform(-disorder, disorder, size=L)
    return h


def xxz(
    L: int,
    delta: float = 1.0,
    *,
    j: float = 1.0,
    j2: float = 0.0,
    delta2: float | None = None,
    hz: float = 0.0,
    hx: float = 0.0,
    staggered: float = 0.0,
    disorder: float = 0.0,
    seed: int | None = None,
    bc: str = "open",
) -> SpinChain:
    r"""XXZ chain with optional next-nearest-neighbour coupling and fields (spin operators, S = sigma/2).

    .. math::

        H = J \sum_j (S^x_j S^x_{j+1} + S^y_j S^y_{j+1} + \Delta S^z_j S^z_{j+1})
          + J_2 \sum_j (S^x_j S^x_{j+2} + S^y_j S^y_{j+2} + \Delta_2 S^z_j S^z_{j+2})
          + \sum_j h^z_j S^z_j + h_x \sum_j S^x_j,

    with :math:`h^z_j = h_z + h_s (-1)^j + w_j`, :math:`w_j` uniform in ``[-disorder, disorder]`` drawn
    from ``numpy.random.default_rng(seed)``. Periodic chains sum ``j`` over all L sites (indices mod L).
    Integrable when :math:`J_2 = 0` and the field is uniform along z (XX chain at :math:`\Delta = 0`).

    Parameters
    ----------
    L : int
        Number of sites (>= 2).
    delta, j, j2, delta2 : float
        Anisotropy, exchange, next-nearest exchange and its anisotropy (``delta2`` defaults to ``delta``).
    hz, hx, staggered, disorder : float
        Uniform z field, uniform x field, staggered z field amplitude, random z field half-width.
    seed : int, optional
        Seed of the random fields (required when ``disorder != 0``).
    bc : {"open", "periodic"}
    """
    L = _check_L(L)
    _checks.check_choice("bc", bc, _BCS)
    delta, j, j2, hz, hx = (_check_real(n, v) for n, v in
                            (("delta", delta), ("j", j), ("j2", j2), ("hz", hz), ("hx", hx)))
    staggered, disorder = _check_real("staggered", staggered), _check_real("disorder", disorder)
    delta2 = delta if delta2 is None else _check_real("delta2", delta2)
    if disorder < 0:
        raise ValueError(f"disorder is a half-width and must be >= 0, got {disorder}")
    hzs = _fields(L, hz, staggered, disorder, seed, "xxz")

    terms = []
    for coup, anis, r in ((j, delta, 1), (j2, delta2, 2)):
        if coup == 0:
            continue
        for a, b in _bonds(L, r, bc):
            # J (SxSx + SySy) = (J/2)(s+s- + s-s+);  J Delta SzSz = (J Delta / 4) szsz
            terms.append((coup / 2, ("+", a), ("-", b)))
            terms.append((coup / 2, ("-", a), ("+", b)))
            if anis != 0:
                terms.append((coup * anis / 4, ("z", a), ("z", b)))
    for s, h in enumerate(hzs):
        if h != 0:
            terms.append((h / 2, ("z", s)))
    if hx != 0:
        for s in range(L):
            terms.append((hx / 2, ("x", s)))

    uniform_z = bool(np.all(hzs == hzs[0]))
    sym = set()
    if hx == 0:
        sym.add("sz")
    if np.all(hzs == 0):
        sym.add("flip")  # prod sigma^x maps S^z -> -S^z, S^x -> S^x
    if np.allclose(hzs, hzs[::-1], rtol=0, atol=0):
        sym.add("parity")
    if bc == "periodic" and uniform_z:
        sym.add("k")

    formula = (
        "H = J sum_j (Sx_j Sx_j+1 + Sy_j Sy_j+1 + Delta Sz_j Sz_j+1)"
        " + J2 sum_j (Sx_j Sx_j+2 + Sy_j Sy_j+2 + Delta2 Sz_j Sz_j+2)"
        " + sum_j hz_j Sz_j + hx sum_j Sx_j   (S = sigma/2, " + bc + ")"
    )
    params = dict(L=L, j=j, delta=delta, j2=j2, delta2=delta2, hz=hz, hx=hx, staggered=staggered,
                  disorder=disorder, seed=seed, bc=bc, hz_sites=hzs.tolist())
    return SpinChain("xxz", L, bc, params, formula, tuple(terms), frozenset(sym))


def xx(L: int, **kwargs) -> SpinChain:
    """XX chain: :func:`xxz` with :math:`\\Delta = 0` (free fermions through Jordan-Wigner)."""
    if "delta" in kwargs:
        raise TypeError("xx() fixes delta = 0; use xxz(L, delta=...) for an anisotropic chain")
    return xxz(L, 0.0, **kwargs)


def heisenberg(L: int, **kwargs) -> SpinChain:
    """Isotropic Heisenberg chain: :func:`xxz` with :math:`\\Delta = 1` (SU(2) symmetric without fields)."""
    if "delta" in kwargs:
        raise TypeError("heisenberg() fixes delta = 1; use xxz(L, delta=...) for an anisotropic chain")
    return xxz(L, 1.0, **kwargs)


def j1j2(L: int, j2: float, delta: float = 1.0, **kwargs) -> SpinChain:
    """J1-J2 chain: :func:`xxz` with next-nearest coupling ``j2`` (non-integrable for j2 != 0)."""
    return xxz(L, delta, j2=j2, **kwargs)


def tfim(L: int, g: float = 1.0, *, j: float = 1.0, h: float = 0.0, bc: str = "open") -> SpinChain:
    r"""Transverse- (and longitudinal-) field Ising chain in Pauli matrices.

    .. math::

        H = -J \sum_j \sigma^z_j \sigma^z_{j+1} - g \sum_j \sigma^x_j - h \sum_j \sigma^z_j .

    Free fermions (integrable) when :math:`h = 0`; critical at :math:`g = J`.
    """
    L = _check_L(L)
    _checks.check_choice("bc", bc, _BCS)
    g, j, h = _check_real("g", g), _check_real("j", j), _check_real("h", h)
    terms = [(-j, ("z", a), ("z", b)) for a, b in _bonds(L, 1, bc)] if j != 0 else []
    if g != 0:
        terms += [(-g, ("x", s)) for s in range(L)]
    if h != 0:
        terms += [(-h, ("z", s)) for s in range(L)]
    sym = {"parity"}
    if bc == "periodic":
        sym.add("k")
    if h == 0:
        sym.add("flip")
    if g == 0:
        sym.add("sz")
    formula = "H = -J sum_j sz_j sz_j+1 - g sum_j sx_j - h sum_j sz_j   (Pauli matrices, " + bc + ")"
    params = dict(L=L, j=j, g=g, h=h, bc=bc)
    return SpinChain("tfim", L, bc, params, formula, tuple(terms), frozenset(sym))


ising = tfim

_TERM = re.compile(r"^(?P<sign>[+-]?)(?P<num>(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)?\*?(?P<ops>[xyzXYZ]\d+(\*[xyzXYZ]\d+)*)$")
_FACTOR = re.compile(r"([xyzXYZ])(\d+)")


def parse_pauli_sum(text: str, L: int) -> sp.csr_array:
    """Parse ``"x0+z1"``, ``"0.5*x0 - 2*z3"``, ``"x0*x1 + y0*y1"`` into a sparse operator (Pauli matrices)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"coupling string must be non-empty, like 'x0+z1', got {text!r}")
    s = text.strip()
    if re.search(r"[0-9]\s+[xyzXYZ]", s):
        raise ValueError(f"coupling string {text!r}: write products with '*' (e.g. 'x0*z1'), not spaces")
    s = s.replace(" ", "")
    # split on + or - not preceded by e/E (exponent) or at the start
    parts = re.split(r"(?<=[0-9xyzXYZ])(?=[+-])", s)
    total = None
    for part in parts:
        m = _TERM.match(part)
        if not m:
            raise ValueError(
                f"cannot parse term {part!r} of {text!r}; write sums of Pauli products like "
                "'x0+z1', '0.5*x0*x1 - z2' (labels x, y, z followed by a site index)"
            )
        coef = float(m.group("num")) if m.group("num") else 1.0
        coef = -coef if m.group("sign") == "-" else coef
        opm = None
        for lab, site_txt in _FACTOR.findall(m.group("ops")):
            site = int(site_txt)
            if site_txt != str(site):
                raise ValueError(f"term {part!r}: site index {site_txt!r} has leading zeros")
            if site >= L:
                raise ValueError(f"term {part!r} acts on site {site}, but the chain has sites 0..{L - 1}")
            f = site_operator(pauli(lab), site, L)
            opm = f if opm is None else sp.csr_array(opm @ f)
        term = coef * opm
        total = term if total is None else total + term
    total = sp.csr_array(total)
    _checks.check_hermitian(f"the operator {text!r}", total)
    if not np.any(np.iscomplex(total.data)):
        total = sp.csr_array(total.real)
    return total

