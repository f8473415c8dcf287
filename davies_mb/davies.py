r"""The Davies generator: secular, weak-coupling, KMS-detailed-balance master equation.

Conventions (PHYSICS.md sections 2-3, :math:`\hbar = 1`):

.. math::

    \mathcal{L}(\rho) = -i[H + \lambda^2 H_{LS}, \rho]
      + \lambda^2 \sum_\alpha \sum_\omega \gamma_\alpha(\omega)
        \Big(A_\alpha(\omega)\rho A_\alpha(\omega)^\dagger
             - \tfrac12 \{A_\alpha(\omega)^\dagger A_\alpha(\omega), \rho\}\Big),

:math:`A(\omega) = \sum_{\epsilon'-\epsilon=\omega} \Pi(\epsilon) A \Pi(\epsilon')`, so :math:`\omega > 0` lowers
the energy by :math:`\omega`; :math:`\gamma(-\omega) = e^{-\beta\omega}\gamma(\omega)`.

How it is computed (never the :math:`d^2\times d^2` superoperator unless asked for):

* In the eigenbasis, :math:`\mathcal{L}` maps :math:`|i\rangle\langle j|` into the span of
  :math:`|k\rangle\langle l|` with :math:`E_k - E_l = E_i - E_j`: it is block diagonal over Bohr-frequency
  classes :math:`\nu`. On every class the Hamiltonian part is the scalar :math:`-i\nu`, and the dissipator's
  matrix element from :math:`(i,j)` to :math:`(k,l)` is

  .. math:: \lambda^2 \sum_\alpha \gamma_\alpha(E_i - E_k) A^\alpha_{ki} \overline{A^\alpha_{lj}}
            - \tfrac{\lambda^2}{2}(K_{ki}\delta_{lj} + \delta_{ki}K_{jl}),
     \qquad K = \sum_{\alpha,\omega}\gamma_\alpha(\omega) A_\alpha(\omega)^\dagger A_\alpha(\omega),

  where :math:`K` is block diagonal over degenerate levels.
* With one temperature, the similarity :math:`X_{ij} = (p_i p_j)^{1/4} Y_{ij}` (:math:`p` the Gibbs
  weights) turns every block into a Hermitian matrix, whose jump weights are the symmetric rates
  :math:`\sqrt{\gamma(\omega)\gamma(-\omega)} = \gamma(|\omega|) e^{-\beta|\omega|/2}`: KMS detailed balance
  makes :math:`\mathcal{L}` self-adjoint, its spectrum real (up to :math:`-i\nu`), and its population
  problem the symmetric matrix :math:`\pi^{-1/2} W \pi^{1/2}`.
* The :math:`\nu = 0` block (populations and coherences inside degenerate levels) is one dense Hermitian
  matrix of size :math:`\sum_\epsilon g_\epsilon^2`. Coherence classes made of one pair of non-degenerate
  levels (the bulk) decay at the closed-form rate
  :math:`\tfrac12(K_a + K_b) - \sum_\alpha \gamma_\alpha(0) A^\alpha_{aa} A^\alpha_{bb}`; classes with
  degenerate levels or degenerate Bohr frequencies are small dense blocks.
* Every dissipative quantity is proportional to :math:`\lambda^2`: the eigen-data are computed once at
  :math:`\lambda = 1` and shared by :meth:`DaviesGenerator.with_strength` copies.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from . import _checks
from . import _davies_core, _davies_sparse
from ._davies_core import _CHUNK, _Core
from .baths import Bath
from .spectrum import Spectrum, group_levels

__all__ = ["DaviesGenerator", "CheckReport", "ModeExpansion", "PropagatedExpectation"]

_DENSE_CHECK = 2000  # check() compares one evolution with a dense expm up to this nu = 0 block size

@dataclasses.dataclass(frozen=True)
class CheckReport:
    """Residuals of the generator's defining properties and of the paths that produce its answers.

    All residuals are relative (ideally ~1e-13); ``None`` means not applicable. :meth:`ok` fails on any NaN
    or infinite residual: a check that cannot be evaluated is a failed check, never a pass.

    Attributes
    ----------
    trace : float
        :math:`\\max |\\mathrm{tr}\\,\\mathcal{L}(X)|` over the nu = 0 block (physical rates), relative to the
        largest rate.
    gibbs : float or None
        :math:`\\|\\mathcal{L}(e^{-\\beta H}/Z)\\|_{\\max}` relative to the largest rate (one temperature; at
        :math:`\\beta = \\infty` the normalized ground-level projector).
    kms : float or None
        :math:`\\max |W_{nm} p_m - W_{mn} p_n|` of the Pauli rates built from the un-symmetrized
        :math:`\\gamma(\\omega)`, relative to the largest flux (one temperature only).
    hermiticity : float or None
        Asymmetry of the symmetrized population block (self-adjointness in the KMS inner product).
    stationary : float
        :math:`\\|\\mathcal{L}(\\rho_k)\\|` for the kernel vectors that :meth:`DaviesGenerator.stationary_state`
        uses, mapped to the physical frame and applied to the physical block: the path, not only the matrix.
    conserved : float
        :math:`\\|\\mathcal{L}^\\dagger(X_k)\\|` of the conserved quantities (left kernel vectors) plus the
        biorthonormality error :math:`\\|X^\\dagger R - 1\\|`.
    evolution : float or None
        The highest-energy population evolved to :math:`t = 1/\\Delta` by the path :meth:`evolve` uses,
        against an independent ``expm`` of the physical block (max difference), plus its trace error.
    """

    trace: float
    gibbs: float | None
    kms: float | None
    hermiticity: float | None
    stationary: float = 0.0
    conserved: float = 0.0
    evolution: float | None = None

    def ok(self, tol: float = 1e-9) -> bool:
        """True when every applicable residual is finite and below ``tol`` (NaN or inf fail)."""
        vals = [v for v in dataclasses.astuple(self) if v is not None]
        return all(np.isfinite(v) and v <= tol for v in vals)

    def failures(self, tol: float = 1e-9) -> dict:
        """The residuals that fail :meth:`ok`, by name."""
        return {k: v for k, v in dataclasses.asdict(self).items()
                if v is not None and not (np.isfinite(v) and v <= tol)}


@dataclasses.dataclass(frozen=True)
class ModeExpansion:
    r"""Expectation values of a Davies evolution as a sum of damped oscillating modes.

    .. math:: \langle O_k\rangle(t) = \sum_m a_{km}\, e^{(-i\nu_m + \lambda^2\kappa_m)\,t},

    where :math:`\nu_m` is the (Bohr) frequency of mode :math:`m` and :math:`\kappa_m` its complex rate at
    :math:`\lambda = 1` (:math:`\mathrm{Re}\,\kappa_m \le 0`; the imaginary part is the Lamb shift). The
    amplitudes :math:`a_{km}` depend on the observables and the initial state but not on :math:`\lambda`:
    the eigenvectors of every Bohr block are the same for every coupling strength, so one expansion serves
    a whole :math:`\lambda` scan. Build it with :meth:`DaviesGenerator.mode_expansion`.

    Attributes
    ----------
    amplitudes : ndarray, shape (n_ops, n_modes)
    frequencies : ndarray, shape (n_modes,)
        :math:`\nu_m` (real).
    rates : ndarray, shape (n_modes,)
        :math:`\kappa_m` at :math:`\lambda = 1` (complex).
    hermitian : bool
        True when every observable and the initial state are Hermitian: the values are then real.
    krylov : tuple of KrylovBlock
        Invariant pieces of the :math:`\nu = 0` block too large for a dense eigen-decomposition (massively
        degenerate spectra): their contribution is added by exact propagation (``expm_multiply``) at each
        :meth:`evaluate`, see ``davies_mb._davies_sparse.KrylovBlock``. Empty in the usual case.
    """

    amplitudes: np.ndarray
    frequencies: np.ndarray
    rates: np.ndarray
    hermitian: bool
    krylov: tuple = ()

    def evaluate(self, times, strength: float) -> np.ndarray:
        """The expectation values at ``times`` for coupling ``strength``: shape ``(n_ops, len(times))``."""
        t = _check_times(times)
        lam2 = _checks.check_positive("strength", strength) ** 2
        z = -1j * self.frequencies + lam2 * self.rates
        out = np.zeros((self.amplitudes.shape[0], t.size), dtype=complex)
        step = max(1, _CHUNK // max(1, 4 * t.size))  # modes per chunk: bounds the (modes, times) temporary
        for m0 in range(0, z.size, step):
            sl = slice(m0, min(z.size, m0 + step))
            out += self.amplitudes[:, sl] @ np.exp(np.outer(z[sl], t))
        for piece in self.krylov:  # invariant pieces of the nu = 0 block too large for modes: propagated
            out += piece.values(t, lam2)
        return out.real if self.hermitian else out


@dataclasses.dataclass(frozen=True)
class PropagatedExpectation:
    r"""Expectation values of a Davies evolution, evaluated by exact propagation at each strength.

    What :meth:`DaviesGenerator.mode_expansion` returns outside the modal regime (low temperature,
    :math:`e^{\beta\,\mathrm{span}/2} > 10^4`, or several temperatures), where an expansion in eigenvectors
    would lose accuracy: the same :meth:`evaluate` interface, computed by propagating the physical blocks
    of :math:`\mathcal{L}` (expm / expm_multiply) at :math:`\tau = \lambda^2 t`. One propagation per call.
    """

    generator: "DaviesGenerator"
    operators: tuple
    state: np.ndarray
    commuting: bool
    hermitian: bool

    def evaluate(self, times, strength: float) -> np.ndarray:
        """The expectation values at ``times`` for coupling ``strength``: shape ``(n_ops, len(times))``."""
        t = _check_times(times)
        g = self.generator.with_strength(_checks.check_positive("strength", strength))
        out = np.zeros((len(self.operators), t.size), dtype=complex)
        for k, X in enumerate(g._evolve_eig(self.state, t, w0_only=self.commuting)):
            for o, O in enumerate(self.operators):
                out[o, k] = np.sum(O.T * X)  # tr(O X)
        return out.real if self.hermitian else out


def _as_list(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _check_in_sector(spec: Spectrum, op, name: str) -> None:
    r"""Raise unless ``op`` maps the sector that a one-sector spectrum covers into itself.

    Every block of a spectrum from :func:`~davies_mb.diagonalize` is diagonalized completely, so the
    eigenvectors span the same space as the blocks' bases :math:`P` (sparse): the leak is
    :math:`\|(1 - PP^\dagger)\,O P\|_F`, relative to :math:`\|OP\|_F`. Sparse products only, no dense
    :math:`d\times n` eigenvector matrix (which at L = 16 in the S^z = 0 sector would be 6.7 GB).
    """
    P = sp.hstack([b.embed(spec.dim) for b in spec.blocks], format="csr")
    OP = sp.csr_array(op @ P) if sp.issparse(op) else sp.csr_array(np.asarray(op) @ P)
    leak = OP - P @ (P.conj().T @ OP)
    err = float(sp.linalg.norm(leak)) if leak.nnz else 0.0
    scale = float(sp.linalg.norm(OP)) if OP.nnz else 0.0
    if err > 1e-8 * max(scale, 1e-300):
        raise ValueError(
            f"{name} does not leave the sector {spec.sector} invariant (relative leak {err / max(scale, 1e-300):.2e}); "
            "diagonalize the full space (sector=None) when an operator changes the sector"
        )


def op_in_eigenbasis(spec: Spectrum, op, name: str, hermitian: bool = False) -> np.ndarray:
    """An operator (computational basis, dense, sparse or quimb) as a dense eigenbasis matrix; for a
    one-sector spectrum, checked to leave the sector invariant (:func:`_check_in_sector`)."""
    op = _checks.as_operator(name, op, spec.dim, hermitian=hermitian)
    if spec.n < spec.dim:
        if all(b.vecs.shape[0] == b.vecs.shape[1] for b in spec.blocks):
            _check_in_sector(spec, op, name)
        else:  # an incomplete block: the spectrum's own check with its eigenvectors
            return spec.to_eigenbasis(op)
    return spec.to_eigenbasis(op, check_sector=False)


def ops_in_eigenbasis(spec: Spectrum, ops) -> list:
    """One operator or a list (computational basis, dense, sparse or quimb) as dense eigenbasis matrices."""
    return [op_in_eigenbasis(spec, o, f"ops[{k}]") for k, o in enumerate(_as_list(ops))]


def _basis_state(rho):
    """The index ``i`` when ``rho`` is the sparse projector ``|i><i|`` (the named product states), else None."""
    if sp.issparse(rho):
        r = sp.coo_array(rho)
        r.sum_duplicates()
        nz = r.data != 0
        if np.count_nonzero(nz) == 1 and r.row[nz][0] == r.col[nz][0] and r.data[nz][0] == 1.0:
            return int(r.row[nz][0])
    return None


def _vector_in_eigenbasis(spec: Spectrum, psi) -> np.ndarray:
    r"""Coefficients :math:`c = V^\dagger\psi` block by block (no dense eigenvector matrix)."""
    psi = np.asarray(psi)
    c = np.zeros(spec.n, dtype=np.result_type(spec._dtype, psi.dtype))
    for b in spec.blocks:
        if b.rows is not None:
            c[b.cols] = b.vecs.conj().T @ psi[b.rows]
        elif b.basis is not None:
            c[b.cols] = b.vecs.conj().T @ (b.basis.conj().T @ psi)
        else:
            c[b.cols] = b.vecs.conj().T @ psi
    return c


def state_in_eigenbasis(spec: Spectrum, rho0) -> np.ndarray:
    """A density matrix or normalized state vector (computational basis, dense or sparse) in the eigenbasis,
    block by block, after checking it is a state; for a one-sector spectrum, refuses a state with weight outside
    the sector."""
    out = _state_in_eigenbasis(spec, rho0)
    return np.outer(out, out.conj()) if out.ndim == 1 else out


def _state_in_eigenbasis(spec: Spectrum, rho0) -> np.ndarray:
    """:func:`state_in_eigenbasis`, but a pure state comes back as its coefficient vector ``c`` (the matrix is
    ``c c^dag``), so that callers needing a few elements never form an ``n x n`` matrix."""
    rho = _checks.check_density_matrix("rho0", rho0, spec.dim)  # Hermitian, trace 1, positive, right shape
    i = _basis_state(rho)
    if rho.ndim == 1 or i is not None:  # a pure state: its eigenbasis coefficients, no d x d matrix
        psi = rho if i is None else np.zeros(spec.dim)
        if i is not None:
            psi[i] = 1.0
        cvec = _vector_in_eigenbasis(spec, psi)
        out = float(np.vdot(psi, psi).real - np.vdot(cvec, cvec).real)
        if spec.n < spec.dim and abs(out) > 1e-8:
            raise ValueError(
                f"rho0 has weight {abs(out):.3g} outside the sector {spec.sector} that the "
                "spectrum covers; project it first or diagonalize the full space"
            )
        return cvec
    X0 = spec.to_eigenbasis(rho, check_sector=False)  # block by block, no d x d x d product
    if spec.n < spec.dim:
        tr_full, tr_sec = rho.trace(), np.trace(X0)
        if abs(tr_full - tr_sec) > 1e-8 * max(1.0, abs(tr_full)):
            raise ValueError(
                f"rho0 has weight {abs(tr_full - tr_sec):.3g} outside the sector {spec.sector} that the "
                "spectrum covers; project it first or diagonalize the full space"
            )
    return X0


def couplings_in_eigenbasis(spectrum: Spectrum, couplings, bath) -> tuple[list, list]:
    """Validate couplings and baths; return the couplings in the eigenbasis and one bath per coupling.

    Shared by the Davies and Redfield generators: each coupling is a Hermitian operator in the full
    computational basis (numpy, scipy sparse or quimb), not zero; ``bath`` is one Bath for all couplings or a
    list with one per coupling.
    """
    ops = _as_list(couplings)
    if not ops:
        raise ValueError("couplings is empty: give at least one Hermitian system operator")
    baths = _as_list(bath)
    for b in baths:
        if not isinstance(b, Bath):
            raise TypeError(f"bath must be a davies_mb Bath (e.g. dm.OhmicBath(beta=1.0)), got {type(b).__name__}")
    if len(baths) == 1:
        baths = baths * len(ops)
    if len(baths) != len(ops):
        raise ValueError(
            f"got {len(ops)} couplings but {len(baths)} baths: give one bath for all couplings or one per coupling"
        )
    A_eig = []
    for k, op in enumerate(ops):
        name = f"couplings[{k}]"
        op = _checks.as_operator(name, op, spectrum.dim, hermitian=True)
        norm = abs(op).max() if sp.issparse(op) else np.max(np.abs(op))
        if not norm > 0:
            raise ValueError(f"{name} is the zero operator: a zero coupling gives no dissipation; drop it")
        Ae = op_in_eigenbasis(spectrum, op, name)
        if np.iscomplexobj(Ae) and not np.any(Ae.imag):
            Ae = np.ascontiguousarray(Ae.real)
        A_eig.append(Ae)
    return A_eig, baths


class DaviesGenerator:
    r"""Davies generator of a system weakly coupled to thermal baths.

    Parameters
    ----------
    spectrum : Spectrum
        From :func:`davies_mb.diagonalize` (full space or one sector the couplings leave invariant).
    couplings : operator or sequence of operators
        Hermitian system operators :math:`A_\alpha` in the full computational basis (numpy, scipy sparse
        or quimb). Each couples to its own independent bath.
    bath : Bath or sequence of Bath
        One bath for all couplings (independent copies), or one per coupling.
    strength : float
        The coupling :math:`\lambda`; every dissipative rate scales as :math:`\lambda^2`.
    lamb_shift : bool
        Include :math:`H_{LS} = \sum_\omega S(\omega) A(\omega)^\dagger A(\omega)` (commutes with H).

    Notes
    -----
    Density matrices go in and come out in the computational basis. The generator is exact for
    degenerate spectra: levels and Bohr frequencies are grouped with the spectrum's ``level_tol``.
    """

    def __init__(self, spectrum: Spectrum, couplings, bath, strength: float = 1.0, lamb_shift: bool = False,
                 *, _core: _Core | None = None):
        self.strength = _checks.check_positive("strength", strength)
        if _core is not None:
            self._core = _core
            self.spectrum = _core.spec
            return
        if not isinstance(spectrum, Spectrum):
            raise TypeError(f"spectrum must be a davies_mb.Spectrum (from dm.diagonalize), got {type(spectrum).__name__}")
        self.spectrum = spectrum
        A_eig, baths = couplings_in_eigenbasis(spectrum, couplings, bath)
        if not isinstance(lamb_shift, (bool, np.bool_)):
            raise TypeError(f"lamb_shift must be True or False, got {lamb_shift!r}")
        self._core = _Core(spectrum, A_eig, baths, bool(lamb_shift))

    # -- construction helpers ----------------------------------------------------------------------
    def with_strength(self, strength: float) -> "DaviesGenerator":
        """The same generator at another coupling strength, reusing every eigen-decomposition."""
        return DaviesGenerator(self.spectrum, None, None, strength, _core=self._core)

    @property
    def baths(self) -> list:
        return list(self._core.baths)

    @property
    def beta(self) -> float | None:
        """The common inverse temperature (None when the baths have different temperatures)."""
        return self._core.beta

    def __repr__(self) -> str:
        c = self._core
        return (f"DaviesGenerator(n={c.n}, levels={c.eps.size}, couplings={len(c.A)}, "
                f"strength={self.strength}, beta={c.beta})")

    # -- spectrum of the generator -----------------------------------------------------------------
    @property
    def _lam2(self) -> float:
        return self.strength**2

    def _zero_tol(self) -> float:
        c = self._core
        scale = max(float(np.max(np.abs(c.Kdiag))), 1e-300)
        return 1e-12 * scale

    def _w0_eigs(self):
        mu, Q, Qi = self._core.w0()
        return mu, Q, Qi

    def _slow_w0(self, k_nonzero: int):
        """Kernel and the ``k_nonzero`` slowest nonzero modes of the nu = 0 block (lambda = 1)."""
        c = self._core
        tol = self._zero_tol()
        mu, R, Lk = c.w0_top(k_nonzero, tol)
        return mu, R, Lk, np.abs(mu) <= tol

    def kernel_dimension(self) -> int:
        """Number of independent stationary states (dimension of the kernel of L)."""
        mu, R, Lk, zero = self._slow_w0(1)
        return int(np.sum(zero))

    def relaxation_rates(self, k: int = 5) -> np.ndarray:
        r"""The ``k`` smallest nonzero decay rates :math:`-\mathrm{Re}\,\mu` of :math:`\mathcal{L}`, ascending.

        Every eigenvalue counts once (a coherence mode and its complex conjugate count twice).
        """
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        c = self._core
        if k in c.rates_cache:
            return c.rates_cache[k] * self._lam2
        tol = self._zero_tol()
        cand = []
        mu, R, Lk, zero = self._slow_w0(k)
        mu = -np.real(mu)
        cand.append(mu[mu > tol])
        for r in self._single_pair_rates():
            r = np.partition(r, min(k, r.size) - 1)[:k] if r.size > k else r
            cand.append(np.repeat(r, 2))  # nu and -nu
        so_far = np.sort(np.concatenate(cand))
        # the w0 list may be truncated (Lanczos): only rates below its largest entry are certain
        threshold = so_far[k - 1] if so_far.size >= k else np.inf
        cand.append(np.repeat(c.small_rates(k, threshold), 2))
        allr = np.sort(np.concatenate(cand))[:k]
        # coherence modes whose rate is zero within round-off oscillate forever: their rate is exactly 0
        allr = np.where(allr <= tol, 0.0, allr)
        c.rates_cache[int(k)] = allr
        return allr * self._lam2

    def _single_pair_rates(self):
        """Closed-form decay rates (lambda = 1) of the coherences alone in their Bohr class, in chunks."""
        c = self._core
        if c.all_single:  # row blocks: no list of all ~n^2/2 pairs
            yield from c.single_pair_rates_rows()
            return
        a, b, _ = c.single_nondeg()
        for s in range(0, a.size, _CHUNK):
            yield c.pair_rates(a[s:s + _CHUNK], b[s:s + _CHUNK])

    def gap(self) -> float:
        r"""Spectral gap :math:`\Delta = \min\{-\mathrm{Re}\,\mu : \mu \in \mathrm{spec}(\mathcal{L}), \mu \neq 0\}`.

        Zero when some coherence between different energies never decays (purely imaginary
        eigenvalues, see :meth:`persistent_oscillations`): then the state never converges.
        """
        r = self.relaxation_rates(1)
        return float(r[0]) if r.size else np.inf

    def persistent_oscillations(self) -> int:
        r"""Number of eigenvalues :math:`\mu = -i\nu \neq 0` of L with zero real part (undamped coherences).

        Nonzero when a coherence between two energies is protected from the bath (e.g. a free-fermion
        mode that the coupling does not touch). Then :math:`e^{t\mathcal{L}}\rho_0` keeps oscillating and
        :meth:`stationary_state` returns its time average, the projection onto the kernel.
        """
        c = self._core
        tol = self._zero_tol()
        count = 0
        for r in self._single_pair_rates():
            count += 2 * int(np.sum(r <= tol))
        small = c.small_rates(np.iinfo(np.int64).max, threshold=2 * tol)
        count += 2 * int(np.sum(small <= tol))
        return count

    def relaxation_time(self) -> float:
        """:math:`\\tau = 1/\\Delta`; ``inf`` (with a warning saying why) when the gap is zero."""
        gap = self.gap()
        if gap == 0.0:
            osc = self.persistent_oscillations()
            why = (f"{osc} coherences never decay (persistent oscillations)" if osc else
                   f"{self.kernel_dimension()} stationary states")
            _checks.warn(f"the gap is zero ({why}): the relaxation time is infinite", stacklevel=3)
            return np.inf
        return 1.0 / gap

    # -- stationary states -------------------------------------------------------------------------
    def _kernel(self):
        """Right and left kernel vectors of the nu = 0 block (columns), biorthonormal: Lk^dag Rk = 1."""
        mu, R, Lk, zero = self._slow_w0(1)
        c = self._core
        if c.modal:
            return R[:, zero], Lk[:, zero]
        # low temperature / several temperatures: the symmetric eigenvalues fix the kernel dimension, the
        # vectors come from the physical block (no Boltzmann weight divided by)
        return c.kernel_phys(int(np.sum(zero)), self._zero_tol())

    def _w0_to_eig(self, v, heisenberg: bool = False) -> np.ndarray:
        """A nu = 0 block vector (symmetric frame) as an eigenbasis matrix.

        Schroedinger picture ``X_ij = s_i s_j v_ij``; Heisenberg picture (conserved quantities)
        ``Q_ij = v_ij / (s_i s_j)``, with ``s_i = p_i^{1/4}`` (one temperature) or 1.
        """
        c = self._core
        f = c.scale[c.I0] * c.scale[c.J0]
        v = np.asarray(v)
        if np.iscomplexobj(v) and not np.any(v.imag):
            v = v.real
        X = np.zeros((c.n, c.n), dtype=v.dtype)
        X[c.I0, c.J0] = v / f if heisenberg else v * f
        return X

    def _eig_to_w0(self, X) -> np.ndarray:
        """The nu = 0 part of an eigenbasis matrix, in the symmetric frame."""
        c = self._core
        return X[c.I0, c.J0] / (c.scale[c.I0] * c.scale[c.J0])

    def _hermitian_span(self, vectors, rel_tol: float = 1e-10):
        """Orthonormal basis (rows) of the real span of the Hermitian parts of nu = 0 vectors.

        A nu = 0 vector ``v`` stands for the matrix ``X[I0, J0] = v``; ``X^dag`` is ``conj(v[tpos])``.
        Hermitian matrices form a real vector space: the SVD runs on ``[Re h, Im h]`` so that the basis
        is made of Hermitian matrices, orthonormal in the Hilbert-Schmidt inner product.
        """
        c = self._core
        reps = []
        for v in vectors:
            vt = np.conj(v[c.tpos])
            for h in (0.5 * (v + vt), 0.5j * (vt - v)):
                reps.append(np.concatenate([h.real, h.imag]))
        R = np.array(reps)
        _, sv, vh = np.linalg.svd(R, full_matrices=False)
        rank = int(np.sum(sv > rel_tol * sv[0])) if sv.size and sv[0] > 0 else 0
        D0 = c.I0.size
        return [row[:D0] + 1j * row[D0:] for row in vh[:rank]]

    def _level_blocks(self, v) -> dict:
        """Split a nu = 0 vector into per-level blocks: ``{g: (levels, array (n_levels_g, g, g))}``."""
        c = self._core
        off = np.concatenate([[0], np.cumsum(c.g**2)[:-1]])
        out = {}
        for g, (levs, M) in c.members.items():
            idx = off[levs][:, None] + np.arange(g * g)[None, :]
            out[g] = (levs, np.asarray(v)[idx].reshape(-1, g, g))
        return out

    def stationary_states(self) -> list:
        r"""A basis of the stationary manifold, as density matrices in the computational basis.

        With one finite temperature and commuting conserved quantities (the usual case: symmetry sectors
        and parities) the basis is made of :math:`\rho_s = P_s e^{-\beta H} P_s / \mathrm{tr}(P_s e^{-\beta H})`
        on the joint eigenspaces :math:`P_s` of the conserved quantities (PHYSICS.md section 4), with the
        Boltzmann weights of each :math:`P_s` shifted by its own lowest energy (no under- or overflow at any
        :math:`\beta`). Otherwise (a non-abelian conserved algebra, :math:`\beta = \infty`, baths at several
        temperatures) it is made of the positive and negative parts of Hermitian kernel elements: for a
        trace-preserving positive semigroup the parts :math:`X_\pm` of a stationary Hermitian :math:`X` are
        stationary, so density matrices span the kernel. At :math:`\beta = \infty` with a degenerate ground
        level that the bath cannot connect, every density matrix on that level is stationary: the basis
        then spans all :math:`g_0^2` of them. Its length is the kernel dimension; every element is checked
        (finite, trace 1, Hermitian, positive) before it is returned.
        """
        c = self._core
        Rk, Lk = self._kernel()
        kdim = Rk.shape[1]
        spec = self.spectrum
        f = c.scale[c.I0] * c.scale[c.J0]
        if kdim == 1:
            v = Rk[:, 0] * f
            return [self._state_out(v / v[c.pop_pos].sum(), "the stationary state")]
        if c.single_beta and np.isfinite(c.beta):
            projs = self._joint_eigenspaces(Lk)
            if projs is not None and len(projs) == kdim:
                states = []
                for k, P in enumerate(projs):
                    support = np.sum(np.abs(P) ** 2, axis=1) > 1e-12
                    w = _checks.boltzmann_weights(c.beta, spec.energies[support])  # shifted by this sector's E_min
                    wfull = np.zeros(c.n)
                    wfull[support] = w
                    X = (wfull[:, None] * P) @ P.conj().T  # P_s commutes with H: P sigma P = sigma P P^dag
                    v = X[c.I0, c.J0]
                    states.append(self._state_out(v / v[c.pop_pos].sum().real, f"stationary state {k}"))
                return states
        herm = self._hermitian_span([Rk[:, k] * f for k in range(kdim)])
        rng = np.random.default_rng(20261201)
        cands = list(herm) + [sum(w * h for w, h in zip(rng.normal(size=len(herm)), herm)) for _ in range(kdim)]
        parts = []
        for h in cands:
            for sign in (1.0, -1.0):
                p = self._positive_part(sign * h)
                tr = p[c.pop_pos].sum().real
                if tr > 1e-8:
                    parts.append(p / tr)
        Rmat = np.array([np.concatenate([p.real, p.imag]) for p in parts])
        _, Rq, piv = sla.qr(Rmat.T, mode="economic", pivoting=True)
        diag = np.abs(np.diag(Rq))
        chosen = piv[: kdim][diag[:kdim] > 1e-8 * max(diag[0], 1e-300)]
        if chosen.size < kdim:
            raise _checks.SelfCheckError(
                f"only {chosen.size} independent density matrices found in a {kdim}-dimensional stationary manifold"
            )
        return [self._state_out(parts[i], f"stationary state {k}") for k, i in enumerate(chosen)]

    def _positive_part(self, v):
        """Positive part of the Hermitian nu = 0 element ``v`` (level by level), as a nu = 0 vector."""
        c = self._core
        out = np.zeros(v.size, dtype=complex)
        off = np.concatenate([[0], np.cumsum(c.g**2)[:-1]])
        for g, (levs, B) in self._level_blocks(v).items():
            B = 0.5 * (B + np.swapaxes(B.conj(), 1, 2))
            e, V = np.linalg.eigh(B)
            P = np.einsum("lse,le,lte->lst", V, np.maximum(e, 0.0), V.conj())
            out[off[levs][:, None] + np.arange(g * g)[None, :]] = P.reshape(-1, g * g)
        return out

    def _state_out(self, v, what: str, basis: str = "computational"):
        """A nu = 0 vector (physical frame) checked as a density matrix and returned as a matrix."""
        c = self._core
        v = np.asarray(v)
        self._check_w0_state(v, what)
        v = 0.5 * (v + np.conj(v[c.tpos]))  # its Hermitian part, on the nu = 0 elements (no n x n temporaries)
        if np.iscomplexobj(v) and not np.any(v.imag):
            v = v.real
        X = np.zeros((c.n, c.n), dtype=v.dtype)
        X[c.I0, c.J0] = v
        return X if basis == "eigen" else self._hermitize(self.spectrum.from_eigenbasis(X))

    def _check_w0_state(self, v, what: str, tol: float = 1e-8):
        """Raise unless the nu = 0 vector ``v`` is a density matrix (finite, trace 1, Hermitian, positive)."""
        c = self._core
        if not np.all(np.isfinite(v)):
            raise _checks.SelfCheckError(f"{what} has {int(np.sum(~np.isfinite(v)))} NaN or infinite entries")
        tr = complex(np.sum(v[c.pop_pos]))
        if abs(tr - 1.0) > tol:
            raise _checks.SelfCheckError(f"{what} has trace {tr.real:.12g}{tr.imag:+.3g}j, not 1 (tolerance {tol:g})")
        herm = float(np.max(np.abs(v - np.conj(v[c.tpos])))) if v.size else 0.0
        if herm > tol:
            raise _checks.SelfCheckError(f"{what} is not Hermitian: max |X - X^dag| = {herm:.3g}")
        lo = min((float(np.min(np.linalg.eigvalsh(0.5 * (B + np.swapaxes(B.conj(), 1, 2)))))
                  for _, B in self._level_blocks(v).values()), default=0.0)
        if lo < -tol:
            raise _checks.SelfCheckError(f"{what} is not positive: smallest eigenvalue {lo:.3g} (tolerance {tol:g})")

    def _joint_eigenspaces(self, Lk, tol: float = 1e-8):
        """Joint eigenspaces of commuting conserved quantities, level by level (eigenbasis isometries).

        Conserved quantities commute with H, so they are block diagonal over degenerate levels. A random
        real combination of their Hermitian parts is diagonalized inside each level; equal eigenvalues
        across levels span one invariant subspace. Returns None when the conserved quantities do not
        commute (non-abelian conserved algebra).
        """
        c = self._core
        f = c.scale[c.I0] * c.scale[c.J0]
        herm = []
        for k in range(Lk.shape[1]):
            q = Lk[:, k] / f  # Heisenberg picture, level blocks
            Q = self._level_blocks(q)
            for part in (lambda B: 0.5 * (B + np.swapaxes(B.conj(), 1, 2)),
                         lambda B: 0.5j * (B - np.swapaxes(B.conj(), 1, 2))):
                H = {g: part(B) for g, (levs, B) in Q.items()}
                norm = np.sqrt(sum(np.sum(np.abs(B) ** 2) for B in H.values()))
                if norm > 1e-12:
                    herm.append({g: B / norm for g, B in H.items()})
        for x in herm:
            for y in herm:
                for g in x:
                    if np.max(np.abs(x[g] @ y[g] - y[g] @ x[g]), initial=0.0) > 1e-7:
                        return None
        weights = np.random.default_rng(12345).normal(size=len(herm))
        vals, rows, vecs = [], [], []
        for g, (levs, M) in c.members.items():
            R = sum(w * h[g] for w, h in zip(weights, herm))
            ev, U = np.linalg.eigh(R)  # U[l, :, e] is eigenvector e of level l
            vals.append(ev.ravel())
            rows.append(np.repeat(M, g, axis=0))  # member indices of each eigenvector, (n_l * g, g)
            vecs.append(np.swapaxes(U, 1, 2).reshape(-1, g))
        vals = np.concatenate(vals)
        order = np.argsort(vals, kind="stable")
        cls, centers = group_levels(vals[order], tol * max(1.0, float(np.max(np.abs(vals)))))
        out = []
        all_rows = [r for g_rows in rows for r in g_rows]
        all_vecs = [v for g_vecs in vecs for v in g_vecs]
        for k in range(centers.size):
            members = order[cls == k]
            P = np.zeros((c.n, members.size), dtype=complex)
            for col, e in enumerate(members):
                P[all_rows[e], col] = all_vecs[e]
            out.append(P)
        return out

    @staticmethod
    def _hermitize(X):
        X = 0.5 * (X + X.conj().T)
        return X.real if not np.any(np.abs(X.imag) > 0) else X

    def conserved_quantities(self, basis: str = "computational") -> list:
        r"""A basis of the conserved quantities :math:`X` with :math:`\mathcal{L}^\dagger(X) = 0`.

        Hermitian operators, orthonormal in the Hilbert-Schmidt inner product, as many as stationary
        states: the commutant of :math:`H` and all :math:`A_\alpha(\omega)` with
        :math:`\gamma_\alpha(\omega) > 0` (PHYSICS.md section 4). The identity is always in their span.
        ``basis="eigen"`` returns them in the eigenbasis of H (where they are block diagonal over levels).
        """
        _checks.check_choice("basis", basis, ("computational", "eigen"))
        c = self._core
        Rk, Lk = self._kernel()
        f = c.scale[c.I0] * c.scale[c.J0]
        out = []
        for h in self._hermitian_span([Lk[:, k] / f for k in range(Lk.shape[1])]):
            Q = np.zeros((c.n, c.n), dtype=complex)
            Q[c.I0, c.J0] = h
            out.append(self._hermitize(Q if basis == "eigen" else self.spectrum.from_eigenbasis(Q)))
        return out

    def stationary_state(self, rho0, *, basis: str = "computational") -> np.ndarray:
        r""":math:`\lim_{t\to\infty} e^{t\mathcal{L}}\rho_0`: the projection of :math:`\rho_0` onto the kernel.

        When undamped coherences exist (:meth:`persistent_oscillations` > 0) the limit does not exist
        and this is the long-time average of :math:`\rho(t)`; a warning says so. ``basis="eigen"`` returns
        it in the eigenbasis of H (``(n, n)``: no ``d x d`` matrix when the spectrum is one sector).
        """
        _checks.check_choice("basis", basis, ("computational", "eigen"))
        c = self._core
        X0 = _state_in_eigenbasis(self.spectrum, rho0)
        # only its nu = 0 elements are needed: a pure state's from its coefficients (no n x n matrix)
        w0 = (X0[c.I0] * X0[c.J0].conj()) / (c.scale[c.I0] * c.scale[c.J0]) if X0.ndim == 1 else self._eig_to_w0(X0)
        if self.gap() == 0.0:
            _checks.warn(
                "the generator has undamped coherences (gap = 0, see persistent_oscillations()): rho(t) keeps "
                "oscillating and stationary_state returns its long-time average"
            )
        Rk, Lk = self._kernel()
        coeff = Lk.conj().T @ w0
        f = c.scale[c.I0] * c.scale[c.J0]
        return self._state_out((Rk @ coeff) * f, "the stationary state", basis=basis)

    # -- energy exchange with the baths -----------------------------------------------------------
    def heat_currents(self, rho, *, basis: str = "computational") -> np.ndarray:
        r"""Heat current from each bath into the system, :math:`J_\alpha = \mathrm{tr}[H\,\mathcal{D}_\alpha(\rho)]`.

        One entry per coupling (each coupling has its own bath), positive when energy flows into the system
        (PHYSICS.md section 5). In the Heisenberg picture
        :math:`\mathcal{D}_\alpha^\dagger(H) = -\lambda^2\sum_\omega \omega\,\gamma_\alpha(\omega)
        A_\alpha(\omega)^\dagger A_\alpha(\omega)` (from :math:`[H, A(\omega)] = -\omega A(\omega)`), which
        commutes with H: only populations and coherences inside degenerate levels contribute. The Lamb
        shift commutes with H and carries no heat. In a stationary state the currents sum to zero.

        Parameters
        ----------
        rho : (d, d) array or (n, n) array with ``basis="eigen"``
            A density matrix.
        """
        _checks.check_choice("basis", basis, ("computational", "eigen"))
        c = self._core
        X = self._to_eig_state(rho) if basis == "computational" else _checks.as_operator("rho", rho, c.n,
                                                                                           hermitian=False)
        v = np.asarray(X[c.I0, c.J0]).ravel()
        vt = v[c.tpos]  # X_ji for element (i, j): tr(Q X) = sum_ij Q_ij X_ji
        return np.array([self._lam2 * float(np.real(q @ vt)) for q in c.heat_vectors()])

    def entropy_production(self, rho, *, basis: str = "computational") -> float:
        r"""Entropy flow into the baths, :math:`\sigma = -\sum_\alpha \beta_\alpha J_\alpha(\rho)`.

        In a stationary state (:math:`dS/dt = 0`) this is the entropy production rate, which is
        :math:`\ge 0` (Spohn's inequality, PHYSICS.md section 5); for a non-stationary :math:`\rho` add
        :math:`dS/dt` to get the production. A zero-temperature bath that absorbs heat gives ``inf``.
        """
        J = self.heat_currents(rho, basis=basis)
        total = 0.0
        for b, j in zip(self._core.baths, J):
            if j != 0.0:
                total -= b.beta * j
        return float(total)

    # -- dynamics ----------------------------------------------------------------------------------
    def _to_eig_state(self, rho0) -> np.ndarray:
        return state_in_eigenbasis(self.spectrum, rho0)

    def _evolve_eig(self, X0: np.ndarray, times: np.ndarray, rotating: bool = False, w0_only: bool = False,
                    subset=None):
        """Generator yielding X(t) in the eigenbasis for each time.

        ``rotating=True`` gives the interaction-picture state :math:`e^{iHt}\rho(t)e^{-iHt}` (Bohr phases
        left out; the Davies generator is covariant, so this is the dissipative evolution alone). It is
        real when H's eigenvectors, the couplings and ``X0`` are real and there is no Lamb shift.
        ``w0_only=True`` evolves only the nu = 0 block (enough for operators that commute with H).
        ``subset`` (sorted state indices; non-degenerate spectra only): yield only the principal submatrix
        ``X(t)[subset][:, subset]``.

        Two exact routes (see docs/theory.md): in the modal regime (``exp(beta * span / 2) <= 1e4``) the
        eigen-decompositions of the symmetric blocks; otherwise (low temperature, several temperatures)
        the nu = 0 block and the classes of several level pairs are propagated with their physical
        matrices (expm / expm_multiply), which never divides by a Boltzmann weight.
        """
        c = self._core
        lam2 = self._lam2
        # the symmetric frame Y_ij = X_ij / (s_i s_j) element group by element group (no n x n temporaries)
        sc = c.scale if c.modal else np.ones(c.n)

        def ss(I, J):
            return sc[I] * sc[J]

        y0 = X0[c.I0, c.J0] / ss(c.I0, c.J0)
        if c.modal:
            pieces, krylov = self._w0_modes(y0)
            if krylov:  # a large non-Hermitian piece: the whole block, decomposed
                mu0, Q0, Q0i = self._w0_eigs()
                c0 = (Q0.conj().T @ y0) if Q0i is None else (Q0i @ y0)
                pieces = [(np.arange(y0.size), mu0, Q0, c0)]
            # real only when the amplitudes and the rates are (complex rates: a non-symmetric piece, e.g. a NESS)
            w0_real = all(np.isrealobj(Q) and np.isrealobj(cc) and np.isrealobj(mu) for _, mu, Q, cc in pieces)

            def w0_at(t):
                y = np.zeros(y0.size, dtype=float if w0_real else complex)
                for sel, mu, Q, cc in pieces:
                    y[sel] = Q @ (cc * np.exp(lam2 * mu * t))
                return y

            w0_iter = (w0_at(t) for t in times)
        else:
            w0_real = True
            w0_iter = c.propagate_w0(y0, lam2 * np.asarray(times, dtype=float))
        # a non-degenerate spectrum: every coherence by its closed form, row block by row block (below); the
        # pairs of degenerate Bohr classes are then overwritten from their small blocks
        rowwise = c.all_single and not w0_only
        if subset is not None and not rowwise:
            raise ValueError("subset= needs a non-degenerate spectrum and the whole evolution (w0_only=False)")
        S = np.arange(c.n) if subset is None else np.asarray(subset, dtype=np.int64)
        pos = np.full(c.n, -1, dtype=np.int64)
        pos[S] = np.arange(S.size)
        empty = np.zeros(0, dtype=np.int64)
        if w0_only or rowwise:
            a = b = nu = empty
            r = np.zeros(0)
        else:
            a, b, nu, r = c.pair_data()
        small = [] if w0_only else c.small_blocks()
        if rotating:
            nu = np.zeros_like(nu)
        nu = nu + lam2 * c.pair_shifts(a, b) if a.size else nu
        yab, yba = X0[a, b] / ss(a, b), X0[b, a] / ss(b, a)
        small_c = []
        for I, J, nub, m, Q, Qi, Mp in small:
            YIJ, YJI = X0[I, J] / ss(I, J), X0[J, I] / ss(J, I)
            if Mp is not None:
                small_c.append((YIJ, YJI))
                continue
            Qinv = np.swapaxes(Q.conj(), 1, 2) if Qi is None else Qi
            small_c.append((np.einsum("pij,pj->pi", Qinv, YIJ), np.einsum("pij,pj->pi", Qinv.conj(), YJI)))
        real = (rotating and c.real and not c.lamb_shift and c.hermitian and np.isrealobj(X0)
                and all(Q is None or np.isrealobj(Q) for (_, _, _, _, Q, _, _) in small) and w0_real)
        if rowwise:
            E = c.eps
            hls = np.real(c.HLS.diagonal()) if c.lamb_shift else None
        for t, yw in zip(times, w0_iter):
            if subset is not None:  # a principal submatrix: nu = 0 part and coherences among `subset` only
                Y = np.zeros((S.size, S.size), dtype=float if real else complex)
                for r0 in range(0, S.size, max(1, _CHUNK // max(S.size, 1))):
                    rs = S[r0:r0 + max(1, _CHUNK // max(S.size, 1))]
                    z = self._coherence_exponent(rs, S, t, rotating, E, hls)
                    z = z * X0[np.ix_(rs, S)]
                    Y[r0:r0 + rs.size] = z.real if real else z
                Y[np.arange(S.size), np.arange(S.size)] = (np.real(yw) if real else yw)[S] * ss(S, S)
            else:
                Y = np.zeros((c.n, c.n), dtype=float if real else complex)
                if rowwise:
                    for r0, r1 in c.row_blocks():
                        z = self._coherence_exponent(slice(r0, r1), slice(None), t, rotating, E, hls)
                        z = z * X0[r0:r1]
                        Y[r0:r1] = z.real if real else z
                Y[c.I0, c.J0] = (np.real(yw) if real else yw) * ss(c.I0, c.J0)
            if a.size:
                ph = np.exp((-1j * nu - lam2 * r) * t)
                if real:
                    ph = ph.real
                Y[a, b] = ph * yab * ss(a, b)
                Y[b, a] = ph.conj() * yba * ss(b, a)
            for (I, J, nub, m, Q, Qi, Mp), (cu, cl) in zip(small, small_c):
                if Mp is not None:
                    E_ = sla.expm(lam2 * t * Mp)
                    ph = 1.0 if rotating else np.exp(-1j * nub[:, None] * t)
                    up = ph * np.einsum("pij,pj->pi", E_, cu)
                    lo = np.conj(ph) * np.einsum("pij,pj->pi", E_.conj(), cl)
                else:
                    e = np.exp(((0.0 if rotating else -1j) * nub[:, None] + lam2 * m) * t)
                    if real:
                        e = e.real
                    up = np.einsum("pij,pj->pi", Q, e * cu)
                    lo = np.einsum("pij,pj->pi", Q.conj(), e.conj() * cl)
                up, lo = (up.real, lo.real) if real else (up, lo)
                if subset is not None:
                    keep = (pos[I] >= 0) & (pos[J] >= 0)
                    Y[pos[I[keep]], pos[J[keep]]] = up[keep] * ss(I[keep], J[keep])
                    Y[pos[J[keep]], pos[I[keep]]] = lo[keep] * ss(J[keep], I[keep])
                    continue
                Y[I, J] = up * ss(I, J)
                Y[J, I] = lo * ss(J, I)
            yield Y

    def _coherence_exponent(self, rows, cols, t, rotating, E, hls):
        r"""Exponent of the closed-form coherence :math:`X_{ab}(t) = X_{ab}(0)\,e^{z_{ab}}` for the index sets
        ``rows`` x ``cols`` (non-degenerate spectra; pairs of degenerate Bohr classes are overwritten by the
        caller): :math:`z = -\lambda^2 t r_{ab} - i t (E_a - E_b) - i\lambda^2 t (h_a - h_b)`, the Bohr phase left
        out when ``rotating`` and the Lamb-shift one without a Lamb shift (``hls`` None). Exponentiated."""
        c = self._core
        lam2 = self._lam2
        z = -lam2 * t * c.coherence_rates(rows, cols)
        if not rotating or hls is not None:
            z = z.astype(complex)
            if not rotating:
                z -= 1j * t * (E[rows][:, None] - E[cols][None, :])
            if hls is not None:
                z -= 1j * lam2 * t * (hls[rows][:, None] - hls[cols][None, :])
        return np.exp(z, out=z)

    def _w0_evaluator(self, X0: np.ndarray):
        """A function ``t -> X(t)[I0, J0]`` (physical frame, this generator's strength): :meth:`_evolve_w0` at
        one time, with the modes of the initial state computed once (root searches call it many times)."""
        c = self._core
        if not c.modal:
            return lambda t: next(self._evolve_w0(X0, [t]))
        f = c.scale[c.I0] * c.scale[c.J0]
        y0 = X0[c.I0, c.J0] / f
        pieces, krylov = self._w0_modes(y0)
        lam2 = self._lam2
        dtype = np.result_type(y0.dtype, *[np.result_type(Q.dtype, cc, mu) for _, mu, Q, cc in pieces])

        def at(t):
            y = np.zeros(y0.size, dtype=dtype)
            for sel, mu, Q, cc in pieces:
                y[sel] = Q @ (cc * np.exp(lam2 * mu * t))
            for sel, M in krylov:
                y[sel] = spla.expm_multiply(M * (lam2 * t), y0[sel]) if t > 0 else y0[sel]
            return y * f

        return at

    def _evolve_w0(self, X0: np.ndarray, times):
        """Yield the nu = 0 elements ``X(t)[I0, J0]`` (populations and intra-level coherences; physical frame)
        for each of ``times``: the part of the evolution that commutes with H, without any n x n matrix."""
        c = self._core
        lam2 = self._lam2
        f = c.scale[c.I0] * c.scale[c.J0]
        if not c.modal:
            yield from c.propagate_w0(X0[c.I0, c.J0], lam2 * np.asarray(times, dtype=float))
            return
        y0 = X0[c.I0, c.J0] / f
        pieces, krylov = self._w0_modes(y0)
        for t in times:
            y = np.zeros(y0.size, dtype=np.result_type(y0.dtype, *[np.result_type(Q.dtype, cc, mu)
                                                                 for _, mu, Q, cc in pieces]))
            for sel, mu, Q, cc in pieces:
                y[sel] = Q @ (cc * np.exp(lam2 * mu * t))
            for sel, M in krylov:
                y[sel] = spla.expm_multiply(M * (lam2 * t), y0[sel]) if t > 0 else y0[sel]
            yield y * f

    def evolve(self, rho0, times) -> np.ndarray:
        r""":math:`\rho(t) = e^{t\mathcal{L}}\rho_0` at each of ``times``; shape ``(len(times), d, d)``.

        Exact: populations through the eigen-decomposition of the symmetric rate block, coherences
        analytically (or through their small blocks).
        """
        times = _check_times(times)
        spec = self.spectrum
        _checks.check_memory("the evolved density matrices", (times.size, spec.dim, spec.dim), np.complex128,
                             hint="Use expect(ops, rho0, times), which stores only expectation values.")
        X0 = self._to_eig_state(rho0)
        tr0 = complex(np.trace(X0))
        out = np.empty((times.size, spec.dim, spec.dim), dtype=complex)
        for k, X in enumerate(self._evolve_eig(X0, times)):
            # the evolution is trace preserving and Hermiticity preserving: check the path's answer
            _checks.check_state_result(f"rho(t={times[k]:g})", X / tr0 if abs(tr0) > 0 else X,
                                       positivity=c_small(X))
            out[k] = spec.from_eigenbasis(X)
        return out

    def mode_expansion(self, ops, rho0, *, commuting: bool = False,
                       basis: str = "computational") -> "ModeExpansion | PropagatedExpectation":
        r"""Expectation values of ``ops`` from ``rho0`` as damped modes, valid for every coupling strength.

        .. math:: \mathrm{tr}(O_k e^{t\mathcal{L}}\rho_0) = \sum_m a_{km} e^{(-i\nu_m + \lambda^2\kappa_m)t}

        Every Bohr block of :math:`\mathcal{L}` is :math:`-i\nu + \lambda^2 M_\nu` with :math:`M_\nu` fixed,
        so its eigenvectors, hence the amplitudes, do not depend on :math:`\lambda`: build the expansion once,
        then :meth:`ModeExpansion.evaluate` at any times and strengths (a whole :math:`\lambda` scan).
        Modes whose amplitude is exactly zero for every operator (e.g. pairs of states in different symmetry
        sectors of ``rho0``) are left out; nothing is dropped by size.

        Outside the modal regime (low temperature, :math:`e^{\beta\,\mathrm{span}/2} > 10^4`, or baths
        at several temperatures) an eigenvector expansion would lose accuracy (its amplitudes carry
        Boltzmann factors :math:`e^{\pm\beta E/2}`); a :class:`PropagatedExpectation` with the same
        ``evaluate(times, strength)`` is returned instead, computed by exact propagation.

        Parameters
        ----------
        ops : operator or sequence of operators
            Observables in the computational basis.
        rho0 : (d, d) array
            Initial density matrix in the computational basis.
        commuting : bool
            Declare that every operator commutes with H (a conserved charge). Then only the
            :math:`\nu = 0` block (populations and coherences inside degenerate levels) contributes and the
            expansion has :math:`\sum_\epsilon g_\epsilon^2` modes instead of :math:`\sim d^2`. Checked: an
            operator with more than :math:`10^{-8}` of its Frobenius norm between different levels raises.
        basis : {"computational", "eigen"}
            ``"eigen"``: ``ops`` and ``rho0`` are already ``(n, n)`` matrices in the eigenbasis of H (as returned
            with ``basis="eigen"`` elsewhere), so no basis change is repeated.
        """
        _checks.check_choice("basis", basis, ("computational", "eigen"))
        spec = self.spectrum
        c = self._core
        if basis == "eigen":
            Oe = [_checks.as_operator(f"ops[{k}]", o, c.n, hermitian=False) for k, o in enumerate(_as_list(ops))]
            Oe = [o.toarray() if sp.issparse(o) else np.asarray(o) for o in Oe]
            X0 = _checks.check_density_matrix("rho0", rho0, c.n, vector=False)
            X0 = X0.toarray() if sp.issparse(X0) else np.asarray(X0)
        else:
            Oe = ops_in_eigenbasis(spec, ops)
            X0 = self._to_eig_state(rho0)
        herm = bool(all(_checks.hermitian_close(o) for o in Oe) and _checks.hermitian_close(X0))
        if commuting:
            self._check_commuting(Oe)
        if not c.modal:
            return PropagatedExpectation(self, tuple(Oe), X0, bool(commuting), herm)
        s = c.scale
        amps, freqs, rates = [], [], []
        # nu = 0 block: y = Q0 exp(lam^2 mu0 t) c0 in the symmetric frame, X = s_i s_j y
        ss0 = s[c.I0] * s[c.J0]
        y0 = X0[c.I0, c.J0] / ss0
        o0 = np.stack([O[c.J0, c.I0] for O in Oe]) * ss0[None, :]
        a0, mu0, krylov = self._w0_expansion(y0, o0)
        amps.append(a0)
        freqs.append(np.zeros(mu0.size))
        rates.append(mu0.astype(complex))
        if commuting:
            return ModeExpansion(amps[0], freqs[0], rates[0], herm, krylov)
        # coherences of non-degenerate level pairs: closed form
        a, b, nu = c.single_nondeg()
        if a.size:
            kappa = -c.pair_rates(a, b) - 1j * c.pair_shifts(a, b)
            w1 = np.stack([O[b, a] for O in Oe]) * X0[a, b][None, :]
            w2 = np.stack([O[a, b] for O in Oe]) * X0[b, a][None, :]
            kappa = np.broadcast_to(kappa, nu.shape)
            amps += [w1, w2]
            freqs += [nu, -nu]
            rates += [kappa, kappa.conj()]
        # classes with degenerate levels or degenerate Bohr frequencies: their small blocks, only those that
        # both rho0 and an operator touch (the others contribute exact zeros)
        def touched(I, J):
            up = np.any(X0[I, J] != 0, axis=1) & np.any([np.any(O[J, I] != 0, axis=1) for O in Oe], axis=0)
            lo = np.any(X0[J, I] != 0, axis=1) & np.any([np.any(O[I, J] != 0, axis=1) for O in Oe], axis=0)
            return up | lo

        for I, J, nub, m, Q, Qi, _ in c.small_blocks(select=touched):
            Qinv = np.swapaxes(Q.conj(), 1, 2) if Qi is None else Qi
            ss = s[I] * s[J]
            cu = np.einsum("pij,pj->pi", Qinv, X0[I, J] / ss)
            cl = np.einsum("pij,pj->pi", Qinv.conj(), X0[J, I] / ss)
            oji = np.stack([O[J, I] for O in Oe]) * ss[None]
            oij = np.stack([O[I, J] for O in Oe]) * ss[None]
            nu_pk = np.broadcast_to(nub[:, None], m.shape).ravel()
            amps += [(np.einsum("opi,pik->opk", oji, Q) * cu[None]).reshape(len(Oe), -1),
                     (np.einsum("opi,pik->opk", oij, Q.conj()) * cl[None]).reshape(len(Oe), -1)]
            freqs += [nu_pk, -nu_pk]
            rates += [m.astype(complex).ravel(), m.astype(complex).conj().ravel()]
        amps = np.concatenate(amps, axis=1)
        keep = np.any(amps != 0, axis=0)  # exact zeros only (e.g. symmetry sectors rho0 does not touch)
        return ModeExpansion(amps[:, keep], np.concatenate(freqs)[keep], np.concatenate(rates)[keep], herm,
                             krylov)

    def _w0_expansion(self, y0, o0):
        r"""Modes of the nu = 0 block for the initial vector ``y0`` and observable rows ``o0`` (symmetric frame).

        Returns ``(amplitudes (n_ops, modes), mu (modes,), krylov pieces)``; see :meth:`_w0_modes`.
        """
        pieces, krylov = self._w0_modes(y0, np.any(o0 != 0, axis=0))
        amps = [np.zeros((o0.shape[0], 0), dtype=complex)] + [(o0[:, sel] @ Q) * cc[None, :]
                                                               for sel, mu, Q, cc in pieces]
        mus = [np.zeros(0)] + [mu for sel, mu, Q, cc in pieces]
        krylov = tuple(_davies_sparse.KrylovBlock(M, y0[sel], o0[:, sel]) for sel, M in krylov)
        return np.concatenate(amps, axis=1), np.concatenate(mus), krylov

    def _w0_modes(self, y0, touched=None):
        r"""The nu = 0 evolution of ``y0`` (symmetric frame, lambda = 1) as modes, piece by piece.

        Returns ``(pieces, krylov)``: ``pieces`` a list of ``(sel, mu, Q, c)`` with
        :math:`y(\tau)[sel] = Q (c \circ e^{\mu\tau})` (no n x n product formed), ``krylov`` a list
        of ``(sel, M)`` pieces to propagate. A small block (or one already decomposed) is one dense
        eigen-decomposition. A large one is split into its invariant pieces (connected components of its
        sparsity graph, or of the level transition graph when it is not sparse); only the pieces that ``y0``
        and (when given) the boolean element mask ``touched`` both reach are used: the others contribute
        exactly zero. A piece up to ``_DENSE_COMPONENT`` elements gets a dense eigen-decomposition (shared with
        the slow modes). A larger piece of a sparse block, or a non-Hermitian one (Lamb shift), is propagated
        (``expm_multiply``: a few sparse matrix-vector products per time); a larger dense Hermitian piece (a
        generic chain) still gets one dense eigen-decomposition, cached and shared with the slow modes.
        """
        c = self._core
        D0 = c.I0.size
        if c._w0 is not None or D0 <= _davies_core._DENSE_W0:
            mu0, Q0, Q0i = self._w0_eigs()
            c0 = (Q0.conj().T @ y0) if Q0i is None else (Q0i @ y0)
            return [(np.arange(D0), mu0, Q0, c0)], []
        ncomp, comp_of, _ = c.w0_pieces()
        hit = np.bincount(comp_of, weights=(y0 != 0).astype(float), minlength=ncomp) > 0
        if touched is not None:
            hit &= np.bincount(comp_of, weights=touched.astype(float), minlength=ncomp) > 0
        order = np.argsort(comp_of, kind="stable")
        bounds = np.searchsorted(comp_of[order], np.arange(ncomp + 1))
        pieces, krylov = [], []
        for k in np.flatnonzero(hit):
            sel = np.sort(order[bounds[k]:bounds[k + 1]])
            if sel.size > _davies_core._DENSE_COMPONENT and (c.w0_sparse() is not None or not c.hermitian):
                krylov.append((sel, c.w0_piece(sel, dense=False)))  # sparse (or non-Hermitian): propagated
                continue
            # a dense Hermitian piece (a generic chain): one eigh, shared with the slow modes. A certified
            # Krylov (Lanczos) expansion of y0 would need about as many vectors as the piece has elements
            # (measured: docs/theory.md), so the full decomposition is the cheaper exact route here.
            mu, Q, Qi = c.piece_eig(sel, lambda sel=sel: c.w0_piece(sel, dense=True))
            cc = Q.conj().T @ y0[sel] if Qi is None else Qi @ y0[sel]
            pieces.append((sel, mu, Q, cc))
        return pieces, krylov

    def _check_commuting(self, Oe):
        c = self._core
        for k, O in enumerate(Oe):
            tot, outside = c.norm2_split(O)  # no n x n mask or copy
            if outside > 1e-16 * tot:
                raise ValueError(
                    f"ops[{k}] does not commute with H: a fraction {np.sqrt(outside / tot):.2e} "
                    "of its norm connects different energy levels; pass commuting=False"
                )

    def expect(self, ops, rho0, times) -> np.ndarray:
        r""":math:`\mathrm{tr}(O\,\rho(t))` for each operator and time; shape ``(len(ops), len(times))``.

        Evaluated through :meth:`mode_expansion` (vectorized over times); real when the operators and
        ``rho0`` are Hermitian.
        """
        times = _check_times(times)
        out = self.mode_expansion(ops, rho0).evaluate(times, self.strength)
        if not np.all(np.isfinite(out)):
            raise _checks.SelfCheckError(f"expect produced {int(np.sum(~np.isfinite(out)))} NaN or infinite values")
        return out

    # -- superoperator -----------------------------------------------------------------------------
    def superoperator(self, basis: str = "computational") -> np.ndarray:
        r"""The :math:`d^2\times d^2` matrix of :math:`\mathcal{L}` (column stacking), for small systems.

        ``vec(rho) = rho.reshape(-1, order="F")``, ``vec(A rho B) = (B^T \otimes A) vec(rho)``.
        ``basis="eigen"`` gives it in the eigenbasis of H.
        """
        _checks.check_choice("basis", basis, ("computational", "eigen"))
        c = self._core
        n = c.n
        d = self.spectrum.dim
        _checks.check_memory("the superoperator", (d * d, d * d), np.complex128,
                             hint="Use gap(), evolve() or expect(), which work block by block.")
        lam2 = self._lam2
        Lm = np.zeros((n * n, n * n), dtype=complex)

        def place(I, J, M, nu):
            # M acts on the density matrix itself (physical frame). Column stacking: vec index of (i, j) = i + n j
            idx = I + n * J
            Lm[np.ix_(idx, idx)] += lam2 * M - 1j * nu * np.eye(I.size)

        # the physical blocks, at every temperature: the symmetric ones rescaled by p^{1/4} lose the small
        # uphill rates when exp(beta * span / 2) is large, and below the modal regime there is no rescaling at
        # all (c.scale = 1), so a symmetric block placed here would be wrong (it was, before 2026-12-02)
        place(c.I0, c.J0, c.block(c.I0, c.J0, physical=True), 0.0)
        a, b, nu = c.single_nondeg()
        if a.size:
            r = c.pair_rates(a, b)
            nu = nu + lam2 * c.pair_shifts(a, b)
            Lm[a + n * b, a + n * b] = -1j * nu - lam2 * r
            Lm[b + n * a, b + n * a] = 1j * nu - lam2 * r
        for grp in c.special_groups():
            # a class of several level pairs mixes energies: its physical block; one level pair (degenerate
            # levels) exchanges no energy, and its block is the same in both frames
            Ms = c.block(grp[2][0], grp[3][0], physical=True)[None] if grp[0] is None else c.group_blocks(grp)
            (I, J), nub = c.group_elements(grp), grp[4]
            for p in range(I.shape[0]):
                place(I[p], J[p], Ms[p], nub[p])
                place(J[p], I[p], Ms[p].conj(), -nub[p])
        if basis == "eigen":
            return Lm
        V = self.spectrum.vectors
        T = np.kron(V.conj(), V)
        return T @ Lm @ T.conj().T

    # -- checks ------------------------------------------------------------------------------------
    def check(self) -> CheckReport:
        """Residuals of the generator and of the paths behind its answers (see :class:`CheckReport`).

        Evaluated at :math:`\\lambda = 1` with the physical (un-symmetrized) rates, so that it also tests the
        frame in which states are computed: trace preservation, Gibbs stationarity, KMS detailed balance,
        self-adjointness of the symmetric block, the stationary and conserved vectors actually used, and
        one evolution against an independent ``expm``.
        """
        c = self._core
        D0 = c.I0.size
        fits = _checks.dense_bytes((D0, D0), np.complex128) * 4 <= min(_checks.memory_limit(), _davies_core._MATRIX_FREE_BYTES)
        Mp = c.w0_phys() if fits else c.w0_operator(physical=True)
        scale = max(float(np.max(np.abs(c.Kdiag))), 1e-300)
        t = np.zeros(D0)
        t[c.pop_pos] = 1.0
        if isinstance(Mp, np.ndarray):
            trace = float(np.max(np.abs(t @ Mp))) / scale
        else:
            # matrix free: <t, M v> = 0 for random probes v
            rng = np.random.default_rng(7)
            v = rng.normal(size=(D0, 3))
            trace = float(np.max(np.abs(t @ (Mp @ v)))) / (scale * float(np.max(np.abs(v))))
        herm = None
        if c.symmetric:
            M = c.w0_linear()
            if isinstance(M, np.ndarray):
                herm = float(np.max(np.abs(M - M.conj().T))) / max(float(np.max(np.abs(M))), 1e-300)
            else:
                rng = np.random.default_rng(7)
                u, v = rng.normal(size=D0), rng.normal(size=D0)
                Mu, Mv = M @ u, M @ v
                herm = abs(np.vdot(u, Mv) - np.vdot(Mu, v)) / (np.linalg.norm(Mu) * np.linalg.norm(v))
        gibbs_res = kms = None
        if c.single_beta:
            g = np.zeros(D0)
            g[c.pop_pos] = c.pgibbs[c.I0[c.pop_pos]]
            gibbs_res = float(np.max(np.abs(Mp @ g))) / (scale * float(np.max(g)))
            # Pauli rates from the bath's own gamma(w) at both signs of w (the generator stores only the
            # symmetric table, so this tests the bath's detailed balance): W_nm = sum_a gamma(E_m - E_n) |A_nm|^2
            li = c.li
            W = np.zeros((c.n, c.n))
            wl = c.eps[None, :] - c.eps[:, None]
            for k, A in enumerate(c.A):
                W += c.baths[k].gamma(wl)[np.ix_(li, li)] * np.abs(A) ** 2
            flux = W * c.pgibbs[None, :]
            kms = float(np.max(np.abs(flux - flux.T))) / max(float(np.max(flux)), 1e-300)
        # the kernel vectors the answers are built from, in the physical frame
        Rk, Lk = self._kernel()
        f = c.scale[c.I0] * c.scale[c.J0]
        Rp, Lp = Rk * f[:, None], Lk / f[:, None]
        stat = float(np.max(np.abs(Mp @ Rp), initial=0.0)) / (scale * max(float(np.max(np.abs(Rp), initial=0.0)), 1e-300))
        if isinstance(Mp, np.ndarray):
            left = float(np.max(np.abs(Lp.conj().T @ Mp), initial=0.0))
        else:
            left = 0.0  # the matrix-free operator has no adjoint product; biorthonormality still checked
        cons = left / (scale * max(float(np.max(np.abs(Lp), initial=0.0)), 1e-300))
        cons += float(np.max(np.abs(Lp.conj().T @ Rp - np.eye(Rp.shape[1])), initial=0.0))
        evol = None
        if isinstance(Mp, np.ndarray) and D0 <= _DENSE_CHECK:  # a dense expm of the block as the reference
            gap = self.with_strength(1.0).gap()
            tau = 1.0 / gap if np.isfinite(gap) and gap > 0 else 1.0 / scale
            # no later than ||M|| tau = 1e3: beyond it the reference expm itself loses digits (measured at a
            # gap 2e7 times below ||M||: expm and the modes both 1e-10 off a long-double reference at 1/gap)
            tau = min(tau, 1e3 / scale)
            X0 = np.zeros((c.n, c.n))
            X0[c.n - 1, c.n - 1] = 1.0  # the highest-energy population: the worst case at low temperature
            X = next(self.with_strength(1.0)._evolve_eig(X0, np.array([tau]), rotating=True, w0_only=True))
            ref = sla.expm(Mp * tau) @ X0[c.I0, c.J0]
            evol = float(np.max(np.abs(X[c.I0, c.J0] - ref))) + abs(float(np.real(np.trace(X))) - 1.0)
        return CheckReport(trace=float(trace), gibbs=gibbs_res, kms=kms, hermiticity=herm,
                           stationary=stat, conserved=float(cons), evolution=evol)


def c_small(X) -> bool:
    """Positivity of evolved states is checked when cheap (an eigvalsh of at most 256 x 256)."""
    return X.shape[0] <= 256


def _check_times(times) -> np.ndarray:
    t = np.atleast_1d(np.asarray(times, dtype=float))
    if t.ndim != 1 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError(f"times must be a 1-d array of finite times >= 0, got {times!r}")
    return t
