r"""The Bloch-Redfield (non-secular) generator, for small systems (:math:`d \le 128`).

Conventions (PHYSICS.md sections 2-3, :math:`\hbar = 1`, column stacking). With
:math:`H_{tot} = H + H_B + \lambda\sum_\alpha A_\alpha\otimes B_\alpha` and one independent bath per
coupling, the Born-Markov (Redfield) master equation without the secular approximation is

.. math::

    \dot\rho = -i[H, \rho] - \lambda^2 \sum_\alpha \big[A_\alpha, \Lambda_\alpha\rho - \rho\Lambda_\alpha^\dagger\big],
    \qquad
    \Lambda_\alpha = \sum_\omega \Gamma_\alpha(\omega) A_\alpha(\omega),
    \qquad
    \Gamma_\alpha(\omega) = \tfrac12\gamma_\alpha(\omega) + i S_\alpha(\omega),

with :math:`A(\omega) = \sum_{\epsilon'-\epsilon=\omega}\Pi(\epsilon)A\Pi(\epsilon')` (:math:`\omega > 0` lowers
the energy by :math:`\omega`), :math:`\gamma` the KMS rates of :meth:`davies_mb.Bath.gamma` and :math:`S` the
Lamb-shift function of :meth:`davies_mb.Bath.lamb_shift` (off by default: :math:`\Gamma = \gamma/2`, as in
QuTiP's ``bloch_redfield_tensor``). In the eigenbasis of :math:`H`,
:math:`(\Lambda_\alpha)_{ab} = \Gamma_\alpha(E_b - E_a)(A_\alpha)_{ab}` and

.. math::

    \dot\rho_{ab} = -i\omega_{ab}\rho_{ab} + \lambda^2\sum_{cd} R_{ab,cd}\,\rho_{cd},\qquad
    R_{ab,cd} = \sum_\alpha \Big[A_{ac}A_{db}\big(\Gamma(\omega_{ca}) + \overline{\Gamma(\omega_{db})}\big)
      - \delta_{bd}\sum_n A_{an}A_{nc}\Gamma(\omega_{cn})
      - \delta_{ac}\sum_n \overline{\Gamma(\omega_{dn})} A_{dn}A_{nb}\Big],

:math:`\omega_{xy} = E_x - E_y`. Keeping only the elements with :math:`\omega_{ab} = \omega_{cd}` (the secular
approximation) gives exactly the Davies generator of :mod:`davies_mb.davies`; the other elements couple
Bohr-frequency classes and matter once :math:`\lambda^2\gamma` approaches the spacing between the classes they
couple; for the gap, the smallest level spacings (Bohr frequencies next to :math:`\nu = 0`, where the slow
modes live), see docs/theory.md, "Where the secular approximation stops: Redfield".

How it is computed:

* The dissipator in Kronecker form (column stacking,
  :math:`\mathrm{vec}(X\rho Y) = (Y^T\otimes X)\mathrm{vec}(\rho)`) is
  :math:`\mathcal{R} = \sum_\alpha A_\alpha^T\otimes\Lambda_\alpha + \bar\Lambda_\alpha\otimes A_\alpha
  - 1\otimes A_\alpha\Lambda_\alpha - (\Lambda_\alpha^\dagger A_\alpha)^T\otimes 1`, assembled with
  :math:`O(d^4)` vectorized work in the eigenbasis at :math:`\lambda = 1`, once. A strength sweep
  (:meth:`RedfieldGenerator.with_strength`) reuses it: :math:`\mathcal{L} = \mathcal{L}_0 + \lambda^2\mathcal{R}`.
* :math:`\mathcal{L}` maps Hermitian matrices to Hermitian matrices, so in the orthonormal Hermitian basis
  :math:`\{|a\rangle\langle a|,\ (|a\rangle\langle b| + |b\rangle\langle a|)/\sqrt2,\
  i(|a\rangle\langle b| - |b\rangle\langle a|)/\sqrt2\}` it is a *real* :math:`d^2\times d^2` matrix
  with the same eigenvalues: half the memory and about a quarter of the time of the complex eigenproblem.
* Its spectrum, kernel and dynamics come from one dense real eigen-decomposition (``dgeev``), cached
  per strength: :math:`O(d^6)`, about 40 s at :math:`d = 64` on one core; :math:`d = 128` (2 GiB, about
  6 GiB while a complex tensor is built) works but takes of order an hour. Larger systems are refused
  unless ``max_dim`` is raised.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.linalg as sla

from . import _checks
from .davies import _check_times, couplings_in_eigenbasis, ops_in_eigenbasis, state_in_eigenbasis
from .spectrum import Spectrum, group_levels

__all__ = ["RedfieldGenerator"]

#: Default largest Hilbert-space dimension accepted by :class:`RedfieldGenerator`.
MAX_DIM = 128
_SQRT1_2 = 1.0 / math.sqrt(2.0)
_ROWS = 256  # rows (or columns) per chunk of the Hermitian-basis transform


def _add_kron(M4: np.ndarray, X: np.ndarray, Y: np.ndarray, c=1.0) -> None:
    r"""``M += c * kron(X, Y)`` in place, with ``M4 = M.reshape(n, n, n, n)`` (no ``n^4`` temporary).

    ``kron(X, Y)[i n + k, j n + l] = X_ij Y_kl``; one vectorized ``n^3`` update per row block ``i``.
    """
    n = X.shape[0]
    for i in range(n):
        M4[i] += (c * X[i])[None, :, None] * Y[:, None, :]


def _add_left(M4: np.ndarray, X: np.ndarray, P: np.ndarray | None) -> None:
    """``M += kron(P^T, X)``: the map rho -> X rho P (P = None: the identity)."""
    if P is None:
        ar = np.arange(X.shape[0])
        M4[ar, :, ar, :] += X[None, :, :]
    else:
        _add_kron(M4, P.T, X)


def _add_right(M4: np.ndarray, Y: np.ndarray, P: np.ndarray | None) -> None:
    """``M += kron(Y^T, P)``: the map rho -> P rho Y (P = None: the identity)."""
    if P is None:
        ar = np.arange(Y.shape[0])
        M4[:, ar, :, ar] += Y.T[None, :, :]
    else:
        _add_kron(M4, Y.T, P)


def _redfield_superoperator(H, As, Lams, lam2, P=None, dtype=np.complex128) -> np.ndarray:
    r"""Dense :math:`\mathcal{L} = -i[H,\cdot] + \lambda^2\mathcal{R}` (column stacking) in any basis.

    ``H``, ``As``, ``Lams`` are matrices in one basis; ``P`` the projector onto the space the spectrum
    covers (None: the identity), so that the result only sees :math:`P\rho P` (zero outside a sector).
    ``H = None`` leaves out the Hamiltonian part.
    """
    n = As[0].shape[0]
    _checks.check_memory("the Redfield superoperator", (n * n, n * n), dtype,
                         hint="Use a symmetry sector, a smaller system, or the DaviesGenerator.")
    M = np.zeros((n * n, n * n), dtype=dtype)
    M4 = M.reshape(n, n, n, n)
    left = np.zeros((n, n), dtype=dtype)  # rho -> left @ rho
    right = np.zeros((n, n), dtype=dtype)  # rho -> rho @ right
    for A, Lam in zip(As, Lams):
        _add_kron(M4, A.T, Lam, lam2)  # Lambda rho A
        _add_kron(M4, Lam.conj(), A, lam2)  # A rho Lambda^dag
        left -= lam2 * (A @ Lam)
        right -= lam2 * (Lam.conj().T @ A)
    if H is not None:
        left = left - 1j * H
        right = right + 1j * H
    _add_left(M4, left, P)
    _add_right(M4, right, P)
    return M


class _Core:
    """Eigen-data of a Redfield generator at lambda = 1, shared between strengths."""

    def __init__(self, spectrum: Spectrum, A: list, baths: list, lamb_shift: bool):
        self.spec = spectrum
        self.A = A
        self.baths = baths
        self.lamb_shift = lamb_shift
        n = spectrum.n
        self.n = n
        E = spectrum.energies
        self.E = E
        # Wb[a, b] = E_b - E_a: energy given to the bath in the transition b -> a
        Wb = E[None, :] - E[:, None]
        self.Lam = []
        shifts = None
        if lamb_shift:
            uniq, inv = np.unique(np.round(Wb, 12), return_inverse=True)
            shifts = {}
        for A_, b in zip(A, baths):
            G = 0.5 * b.gamma(Wb)
            if lamb_shift:
                key = id(b)
                if key not in shifts:
                    shifts[key] = np.asarray(b.lamb_shift(uniq), dtype=float)[inv.reshape(-1)].reshape(Wb.shape)
                G = G + 1j * shifts[key]
            self.Lam.append(G * A_)
        self.real = all(np.isrealobj(L_) for L_ in self.Lam) and all(np.isrealobj(a) for a in A)
        a, b = np.triu_indices(n, k=1)
        self.pa, self.pb = a, b
        self.I = a + n * b  # vec index of element (a, b), a < b (column stacking)
        self.J = b + n * a  # vec index of element (b, a)
        self.omega = E[a] - E[b]  # Bohr frequency of element (a, b)
        self._R = None

    def dissipator_real(self) -> np.ndarray:
        """The dissipator at lambda = 1 in the real Hermitian basis (cached), ``(n^2, n^2)`` float64."""
        if self._R is None:
            n = self.n
            dtype = np.float64 if self.real else np.complex128
            # the superoperator in the eigenbasis and its copy in the real Hermitian basis
            _checks.check_memory_total(f"the Redfield tensor of {n} levels", [((n * n, n * n), dtype),
                                                                             ((n * n, n * n), np.float64)],
                                       hint="Use a symmetry sector, a smaller system, or the DaviesGenerator.")
            R = _redfield_superoperator(None, self.A, self.Lam, 1.0, dtype=dtype)
            self._R = _to_hermitian_basis(R, self.I, self.J)
        return self._R

    def hamiltonian_entries(self):
        """(rows, cols, values) of -i[H, .] in the real Hermitian basis: 2x2 blocks [[0, w], [-w, 0]]."""
        return self.I, self.J, self.omega

    def bohr_spacing(self, near=None) -> float:
        """Smallest spacing between distinct Bohr frequencies (0 included), grouped with level_tol;
        with ``near``, the distance from ``near`` to the closest Bohr frequency not equal to it."""
        E = self.spec.level_energies
        tol = self.spec.level_tol
        nu = np.sort((E[:, None] - E[None, :]).ravel())
        cls, centers = group_levels(nu, tol)
        if near is None:
            return float(np.min(np.diff(centers))) if centers.size > 1 else np.inf
        dist = np.abs(centers - near)
        dist = dist[dist > tol]
        return float(np.min(dist)) if dist.size else np.inf


def _to_hermitian_basis(M: np.ndarray, I: np.ndarray, J: np.ndarray) -> np.ndarray:
    r""":math:`W M W^\dagger` (real) for a superoperator ``M`` that preserves Hermiticity.

    ``W`` maps the column-stacked vector ``x`` of a matrix to the coordinates ``y`` in the Hermitian basis:
    ``y_aa = x_aa``, ``y_I = (x_I + x_J)/sqrt2``, ``y_J = -i (x_I - x_J)/sqrt2`` (``I``: element (a, b) with
    a < b, ``J``: element (b, a)). For a real ``M`` (real couplings, no Lamb shift) ``M`` commutes with the
    element transposition, the phases of ``W`` cancel and the transform is the real orthogonal one. Works
    in place on ``M`` (chunked: no second full-size array besides the real result for complex ``M``).
    """
    real = np.isrealobj(M)
    s = _SQRT1_2
    for k in range(0, I.size, _ROWS):
        i, j = I[k:k + _ROWS], J[k:k + _ROWS]
        Mi, Mj = M[i], M[j]
        M[i] = (Mi + Mj) * s
        M[j] = (Mi - Mj) * (s if real else -1j * s)
    for k in range(0, I.size, _ROWS):
        i, j = I[k:k + _ROWS], J[k:k + _ROWS]
        Ci, Cj = M[:, i], M[:, j]
        M[:, i] = (Ci + Cj) * s
        M[:, j] = (Ci - Cj) * (s if real else 1j * s)
    if real:
        return M
    err = float(np.max(np.abs(M.imag))) if M.size else 0.0
    scale = max(float(np.max(np.abs(M.real))), 1e-300)
    if err > 1e-10 * scale:  # pragma: no cover - guards the algebra, cannot happen for Hermitian couplings
        raise RuntimeError(f"the Redfield tensor does not preserve Hermiticity (residual {err:.2e})")
    return np.ascontiguousarray(M.real)


def _vec_to_herm(x: np.ndarray, I, J) -> np.ndarray:
    """Column-stacked vector(s) ``x`` (first axis) -> Hermitian-basis coordinates ``y = W x``."""
    y = np.array(x, dtype=complex)
    xi, xj = x[I], x[J]
    y[I] = (xi + xj) * _SQRT1_2
    y[J] = -1j * (xi - xj) * _SQRT1_2
    return y


def _herm_to_vec(y: np.ndarray, I, J) -> np.ndarray:
    """Hermitian-basis coordinates ``y`` (first axis) -> column-stacked vector(s) ``x = W^dag y``."""
    x = np.array(y, dtype=complex)
    yi, yj = y[I], y[J]
    x[I] = (yi + 1j * yj) * _SQRT1_2
    x[J] = (yi - 1j * yj) * _SQRT1_2
    return x


def _functional_to_herm(o: np.ndarray, I, J) -> np.ndarray:
    """Row vector ``o`` with ``tr(O X) = o . vec(X)`` -> ``f`` with ``tr(O X) = f . y`` (``f = conj(W) o``)."""
    f = np.array(o, dtype=complex)
    oi, oj = o[I], o[J]
    f[I] = (oi + oj) * _SQRT1_2
    f[J] = 1j * (oi - oj) * _SQRT1_2
    return f


class RedfieldGenerator:
    r"""Bloch-Redfield (non-secular) generator of a small system weakly coupled to thermal baths.

    .. math::

        \mathcal{L}(\rho) = -i[H, \rho]
          - \lambda^2\sum_\alpha\big[A_\alpha, \Lambda_\alpha\rho - \rho\Lambda_\alpha^\dagger\big],\qquad
        (\Lambda_\alpha)_{ab} = \Gamma_\alpha(E_b - E_a)\,(A_\alpha)_{ab},\quad
        \Gamma_\alpha(\omega) = \tfrac12\gamma_\alpha(\omega) + i S_\alpha(\omega)

    in the eigenbasis of :math:`H` (module docstring; :math:`S = 0` unless ``lamb_shift=True``).
    Same interface as :class:`davies_mb.DaviesGenerator`; its secular part is the Davies generator.

    Parameters
    ----------
    spectrum : Spectrum
        From :func:`davies_mb.diagonalize` (full space or one sector the couplings leave invariant).
    couplings : operator or sequence of operators
        Hermitian system operators :math:`A_\alpha` in the full computational basis (numpy, scipy
        sparse or quimb). Each couples to its own independent bath.
    bath : Bath or sequence of Bath
        One bath for all couplings (independent copies), or one per coupling.
    strength : float
        The coupling :math:`\lambda > 0`; the dissipator scales as :math:`\lambda^2`.
    lamb_shift : bool
        Use :math:`\Gamma = \gamma/2 + iS` instead of :math:`\gamma/2` (principal-value integrals at every
        distinct Bohr frequency: slow, about 10 ms each).
    max_dim : int
        Largest accepted dimension (default 128). The tensor takes :math:`8d^4` bytes (2 GiB at
        :math:`d = 128`; about 12 GiB in all once ``evolve``/``expect`` also hold the complex eigenvectors
        and their LU factors) and its eigen-decomposition :math:`O(d^6)` time; raise it knowingly.

    Notes
    -----
    Density matrices go in and come out in the computational basis (``(d, d)``). The Redfield generator
    is trace preserving and Hermiticity preserving but not completely positive: at strong coupling its
    stationary state can deviate from a density matrix, and eigenvalues can in principle cross into
    :math:`\mathrm{Re}\,\mu > 0`; :meth:`gap` then returns a negative number.
    """

    def __init__(self, spectrum: Spectrum, couplings, bath, strength: float = 1.0, lamb_shift: bool = False,
                 *, max_dim: int = MAX_DIM, _core: _Core | None = None):
        self.strength = _checks.check_positive("strength", strength)
        self._cache = {}
        if _core is not None:
            self._core = _core
            self.spectrum = _core.spec
            return
        if not isinstance(spectrum, Spectrum):
            raise TypeError(
                f"spectrum must be a davies_mb.Spectrum (from dm.diagonalize), got {type(spectrum).__name__}")
        if isinstance(max_dim, bool) or not isinstance(max_dim, numbers.Integral) or max_dim < 1:
            raise ValueError(f"max_dim must be a positive integer, got {max_dim!r}")
        n = spectrum.n
        if n > max_dim:
            need = _checks.dense_bytes((n * n, n * n), np.float64)
            raise ValueError(
                f"spectrum has dimension d = {n}, above max_dim = {max_dim}: the Redfield tensor is a dense "
                f"{n * n}x{n * n} matrix ({need / 2**30:.1f} GiB as float64, twice that while it is built "
                f"with complex couplings) and its eigen-decomposition costs O(d^6). Use a symmetry sector "
                "(dm.diagonalize(chain, sector=...)), a smaller chain or the DaviesGenerator; or pass "
                "max_dim=... to override if the memory and time are acceptable"
            )
        self.spectrum = spectrum
        A_eig, baths = couplings_in_eigenbasis(spectrum, couplings, bath)
        if not isinstance(lamb_shift, (bool, np.bool_)):
            raise TypeError(f"lamb_shift must be True or False, got {lamb_shift!r}")
        self._core = _Core(spectrum, A_eig, baths, bool(lamb_shift))

    # -- construction helpers ----------------------------------------------------------------------
    def with_strength(self, strength: float) -> "RedfieldGenerator":
        r"""The same generator at another coupling strength, reusing the tensor :math:`\mathcal{R}`."""
        return RedfieldGenerator(self.spectrum, None, None, strength, _core=self._core)

    @property
    def baths(self) -> list:
        return list(self._core.baths)

    @property
    def lamb_shift(self) -> bool:
        return self._core.lamb_shift

    @property
    def beta(self) -> float | None:
        """The common inverse temperature (None when the baths have different temperatures)."""
        betas = {b.beta for b in self._core.baths}
        return betas.pop() if len(betas) == 1 else None

    def __repr__(self) -> str:
        c = self._core
        return f"RedfieldGenerator(n={c.n}, couplings={len(c.A)}, strength={self.strength})"

    @property
    def _lam2(self) -> float:
        return self.strength**2

    def bohr_spacing(self, near: float | None = None) -> float:
        r"""Smallest spacing :math:`\delta\omega` between distinct Bohr frequencies (0 included).

        The secular approximation neglects the couplings between Bohr-frequency classes; it fails once
        :math:`\lambda^2\gamma` is comparable to the spacing that matters. Levels and Bohr frequencies are
        grouped with the spectrum's ``level_tol`` (an exact degeneracy is no spacing).

        Parameters
        ----------
        near : float, optional
            Return instead the distance from ``near`` to the closest other Bohr frequency. ``near=0.0``
            gives the smallest nonzero Bohr frequency :math:`\nu_{\min}` (the smallest level spacing):
            the slow modes live in the :math:`\nu = 0` block, and the Redfield gap leaves the Davies one
            when :math:`\lambda^2\Delta_D/\lambda^2 \approx \nu_{\min}` (docs/theory.md), not at the
            global minimum spacing.
        """
        if near is not None:
            if isinstance(near, bool) or not isinstance(near, numbers.Real) or not np.isfinite(near):
                raise ValueError(f"near must be a finite real frequency (e.g. 0.0) or None, got {near!r}")
            near = float(near)
        return self._core.bohr_spacing(near)

    # -- the real matrix and its eigen-decomposition -----------------------------------------------
    def _matrix(self) -> np.ndarray:
        """:math:`\\mathcal{L}` in the real Hermitian basis (eigenbasis of H), ``(n^2, n^2)``, fresh copy."""
        c = self._core
        R = c.dissipator_real()
        M = R * self._lam2
        I, J, w = c.hamiltonian_entries()
        M[I, J] += w
        M[J, I] -= w
        return M

    def _eigvals(self) -> np.ndarray:
        if "eigvals" not in self._cache:
            if "eig" in self._cache:
                self._cache["eigvals"] = self._cache["eig"][0]
            else:
                n2 = self._core.n ** 2
                _checks.check_memory_total("the eigenvalues of the Redfield generator",
                                           [((n2, n2), np.float64)] * 3,
                                           hint="Use a smaller system or the DaviesGenerator.")
                self._cache["eigvals"] = sla.eigvals(self._matrix(), overwrite_a=True, check_finite=False)
        return self._cache["eigvals"]

    def _eig(self):
        """``(mu, V, lu)``: eigenvalues, right eigenvectors and the LU factors of V (cached)."""
        if "eig" not in self._cache:
            n2 = self._core.n ** 2
            # held at once: the cached dissipator, the matrix LAPACK overwrites, its eigenvectors (complex),
            # their LU factors (complex) and the geev workspace (~ one more n^2 x n^2 real array)
            _checks.check_memory_total(
                "the eigenvectors of the Redfield generator and their LU factors",
                [((n2, n2), np.float64)] * 3 + [((n2, n2), np.complex128)] * 2,
                hint="Use a smaller system or the DaviesGenerator.")
            mu, V = sla.eig(self._matrix(), overwrite_a=True, check_finite=False)
            self._cache["eig"] = (mu, V, sla.lu_factor(V, check_finite=False))
            self._cache["eigvals"] = mu
        return self._cache["eig"]

    def _zero_tol(self) -> float:
        r"""Eigenvalues with :math:`|\mu|` below this are the kernel: :math:`10^{-9}\lambda^2\|\mathcal{R}\|_{\max}`
        or the round-off of a dense eigensolver, :math:`10^{3}\epsilon\,\|\mathcal{L}\|`, whichever is larger."""
        c = self._core
        R = c.dissipator_real()
        if getattr(c, "rmax", None) is None:
            c.rmax = float(np.max(np.abs(R))) if R.size else 0.0
            c.wmax = float(np.max(np.abs(c.omega))) if c.omega.size else 0.0
        lnorm = c.wmax + self._lam2 * c.rmax * c.n
        return max(1e-9 * self._lam2 * c.rmax, 1e3 * np.finfo(float).eps * lnorm)

    def eigenvalues(self) -> np.ndarray:
        r"""All :math:`d^2` eigenvalues :math:`\mu` of :math:`\mathcal{L}`, by decreasing real part."""
        mu = self._eigvals()
        return mu[np.lexsort((np.imag(mu), -np.real(mu)))]

    def kernel_dimension(self) -> int:
        """Number of eigenvalues of :math:`\\mathcal{L}` that are zero (independent stationary states)."""
        return int(np.sum(np.abs(self._eigvals()) <= self._zero_tol()))

    def relaxation_rates(self, k: int = 5) -> np.ndarray:
        r"""The ``k`` smallest decay rates :math:`-\mathrm{Re}\,\mu` over the nonzero eigenvalues, ascending.

        Every eigenvalue counts once (a coherence mode and its complex conjugate count twice), as in
        :meth:`davies_mb.DaviesGenerator.relaxation_rates`. Rates within round-off of zero (undamped
        coherences) are returned as exactly 0.
        """
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        mu = self._eigvals()
        tol = self._zero_tol()
        rates = np.sort(-np.real(mu[np.abs(mu) > tol]))[:k]
        return np.where(np.abs(rates) <= tol, 0.0, rates)

    def gap(self) -> float:
        r"""Spectral gap :math:`\Delta = \min\{-\mathrm{Re}\,\mu : \mu\in\mathrm{spec}(\mathcal{L}), \mu\neq 0\}`.

        Zero when a coherence never decays; negative if the (not completely positive) Redfield generator
        has an unstable mode at strong coupling.
        """
        r = self.relaxation_rates(1)
        if r.size and r[0] < 0:
            _checks.warn(
                f"the Redfield generator at strength {self.strength} has an eigenvalue with positive real part "
                f"{-r[0]:.3g}: outside its weak-coupling validity it is not completely positive and rho(t) grows "
                "along that mode; use a smaller strength (or the DaviesGenerator)"
            )
        return float(r[0]) if r.size else np.inf

    def persistent_oscillations(self) -> int:
        r"""Number of nonzero eigenvalues with zero real part (coherences the bath never damps)."""
        mu = self._eigvals()
        tol = self._zero_tol()
        return int(np.sum((np.abs(mu) > tol) & (np.abs(np.real(mu)) <= tol)))

    def relaxation_time(self) -> float:
        """:math:`\\tau = 1/\\Delta`."""
        return 1.0 / self.gap()

    # -- states ------------------------------------------------------------------------------------
    def _to_eig_state(self, rho0) -> np.ndarray:
        # finite, Hermitian, unit trace, positive (or a normalized vector): the shared state validator
        rho0 = _checks.check_density_matrix("rho0", rho0, self.spectrum.dim)
        if rho0.ndim == 1:
            rho0 = np.outer(rho0, rho0.conj())
        return state_in_eigenbasis(self.spectrum, rho0)

    def _y_from_eig(self, X: np.ndarray) -> np.ndarray:
        c = self._core
        return _vec_to_herm(np.asarray(X).reshape(-1, order="F"), c.I, c.J)

    def _eig_from_y(self, y: np.ndarray) -> np.ndarray:
        c = self._core
        X = _herm_to_vec(y, c.I, c.J).reshape(c.n, c.n, order="F")
        if not np.any(np.abs(X - X.conj().T) > 1e-13 * max(1.0, float(np.max(np.abs(X))))):
            X = 0.5 * (X + X.conj().T)
        return X

    @staticmethod
    def _hermitize(X):
        X = 0.5 * (X + X.conj().T)
        return X.real if not np.any(np.abs(X.imag) > 0) else X

    def stationary_state(self, rho0=None) -> np.ndarray:
        r"""The stationary state, as a ``(d, d)`` matrix in the computational basis.

        With a one-dimensional kernel it is the unique solution of :math:`\mathcal{L}(\rho) = 0`,
        :math:`\mathrm{tr}\,\rho = 1` (times :math:`\mathrm{tr}\,\rho_0` if ``rho0`` is given), from one LU
        solve in which a row of :math:`\mathcal{L}` is replaced by the trace (the rows are dependent because
        :math:`\mathrm{tr}\,\mathcal{L}(\cdot) = 0`). With several stationary states ``rho0`` is required
        and the result is :math:`\lim_{t\to\infty} e^{t\mathcal{L}}\rho_0`, the projection of ``rho0`` onto the
        kernel along the other eigenvectors.

        With the default real rates and all baths at one temperature the Gibbs state is an *exact*
        stationary state at every strength:
        :math:`\sum_c R_{ab,cc}p_c = \sum_c A_{ac}A_{cb}[p_c\Gamma(\omega_{ca}) - p_a\Gamma(\omega_{ac})
        + p_c\Gamma(\omega_{cb}) - p_b\Gamma(\omega_{bc})] = 0` term by term by KMS
        (:math:`p_c\gamma(E_c - E_a) = p_a\gamma(E_a - E_c)`). With ``lamb_shift=True`` the principal-value
        part breaks this and the stationary state differs from the Gibbs state at :math:`O(\lambda^2)`.
        """
        c = self._core
        kdim = self.kernel_dimension()
        X0 = None if rho0 is None else self._to_eig_state(rho0)
        rates = self.relaxation_rates(1)
        if rates.size and rates[0] == 0.0:
            _checks.warn(
                "the generator has undamped coherences (gap = 0): rho(t) keeps oscillating and stationary_state "
                "returns its long-time average"
            )
        if kdim == 1:
            M = self._matrix()
            t = np.zeros(c.n * c.n)
            t[np.arange(c.n) * (c.n + 1)] = 1.0  # tr X = sum of the diagonal coordinates (W leaves them alone)
            M[0] = t
            rhs = np.zeros(c.n * c.n)
            rhs[0] = 1.0
            y = sla.solve(M, rhs, overwrite_a=True, check_finite=False)
            X = self._eig_from_y(y)
            if X0 is not None:
                X = X * np.trace(X0)
        else:
            if X0 is None:
                raise ValueError(
                    f"the generator has {kdim} stationary states (a conserved quantity, or a zero kernel at "
                    "this strength): pass rho0 to select the one it relaxes to"
                )
            mu, V, lu = self._eig()
            coef = sla.lu_solve(lu, self._y_from_eig(X0), check_finite=False)
            ker = np.abs(mu) <= self._zero_tol()
            X = self._eig_from_y(V[:, ker] @ coef[ker])
        return self._hermitize(self.spectrum.from_eigenbasis(X))

    # -- dynamics ----------------------------------------------------------------------------------
    def _coefficients(self, X0):
        mu, V, lu = self._eig()
        y0 = self._y_from_eig(X0)
        coef = sla.lu_solve(lu, y0, check_finite=False)
        # cancellation between eigenvector components (a non-normal L near an exceptional point)
        amp = float(np.linalg.norm(np.abs(V) @ np.abs(coef)))
        if amp > 1e8 * max(float(np.linalg.norm(y0)), 1e-300):
            _checks.warn(
                f"the Redfield generator is close to defective at strength {self.strength}: its eigenvector "
                f"expansion of rho0 cancels by a factor {amp / np.linalg.norm(y0):.1e}, and the evolved "
                "states lose that many digits"
            )
        return mu, V, coef

    def evolve(self, rho0, times) -> np.ndarray:
        r""":math:`\rho(t) = e^{t\mathcal{L}}\rho_0` at each of ``times``; shape ``(len(times), d, d)``.

        From the eigen-decomposition :math:`\mathcal{L} = V\,\mathrm{diag}(\mu)V^{-1}` (exact up to its
        conditioning; a warning reports a near-defective generator).
        """
        times = _check_times(times)
        spec = self.spectrum
        d = spec.dim
        # the output, and per time the state in the eigenbasis and from_eigenbasis's products
        _checks.check_memory_total(f"{times.size} evolved {d} x {d} density matrices",
                                   [((times.size, d, d), np.complex128)] + [((d, d), np.complex128)] * 4,
                                   hint="Use expect(ops, rho0, times), which stores only expectation values.")
        X0 = self._to_eig_state(rho0)
        mu, V, coef = self._coefficients(X0)
        out = np.empty((times.size, spec.dim, spec.dim), dtype=complex)
        herm = np.allclose(X0, X0.conj().T)
        for k, t in enumerate(times):
            y = V @ (np.exp(mu * t) * coef)
            if herm:
                y = y.real
            out[k] = spec.from_eigenbasis(self._eig_from_y(y))
        return out

    def expect(self, ops, rho0, times) -> np.ndarray:
        r""":math:`\mathrm{tr}(O\,\rho(t))` for each operator and time; shape ``(len(ops), len(times))``.

        Never forms :math:`\rho(t)`: :math:`\mathrm{tr}(O\rho(t)) = \sum_k (f_O\cdot V_k)\,e^{\mu_k t}c_k`.
        """
        times = _check_times(times)
        spec = self.spectrum
        c = self._core
        Oe = ops_in_eigenbasis(spec, ops)
        X0 = self._to_eig_state(rho0)
        mu, V, coef = self._coefficients(X0)
        # tr(O X) = sum_ab O_ba X_ab = vec(O^T) . vec(X)
        F = np.array([_functional_to_herm(O.T.reshape(-1, order="F"), c.I, c.J) for O in Oe])
        FV = F @ V  # (nops, n^2)
        out = FV @ (np.exp(np.outer(mu, times)) * coef[:, None])
        if all(np.allclose(o, o.conj().T) for o in Oe) and np.allclose(X0, X0.conj().T):
            return out.real
        return out

    # -- superoperator -----------------------------------------------------------------------------
    def superoperator(self, basis: str = "computational") -> np.ndarray:
        r"""The :math:`d^2\times d^2` matrix of :math:`\mathcal{L}` (column stacking, PHYSICS.md section 3).

        ``vec(rho) = rho.reshape(-1, order="F")``, ``vec(A rho B) = (B^T \otimes A) vec(rho)``;
        ``basis="eigen"`` gives it in the eigenbasis of H (the ``n^2 x n^2`` matrix of the spectrum's
        states). Built directly from the Kronecker form in the requested basis (:math:`O(d^4)`).
        For a one-sector spectrum the computational-basis matrix acts on :math:`P\rho P` only.
        """
        _checks.check_choice("basis", basis, ("computational", "eigen"))
        c = self._core
        lam2 = self._lam2
        if basis == "eigen":
            return _redfield_superoperator(np.diag(c.E), c.A, c.Lam, lam2)
        spec = self.spectrum
        V = spec.vectors

        def rot(X):
            return V @ X @ V.conj().T

        P = None if spec.n == spec.dim else rot(np.eye(spec.n))
        return _redfield_superoperator(rot(np.diag(c.E)), [rot(A) for A in c.A], [rot(L_) for L_ in c.Lam],
                                       lam2, P=P)
