r"""The universal Lindblad equation (ULE) of Nathan and Rudner, matrix free above :math:`d = 16`.

F. Nathan and M. S. Rudner, Phys. Rev. B **102**, 115109 (2020) (arXiv:2004.01469). Conventions of
PHYSICS.md (:math:`\hbar = 1`, :math:`\omega > 0` is emission, column stacking). With
:math:`H_{tot} = H + H_B + \lambda\sum_\alpha A_\alpha\otimes B_\alpha` and independent baths, each coupling
gets *one* jump operator, built from the jump correlator :math:`g_\alpha(\omega) = \sqrt{\gamma_\alpha(\omega)}`
(the Fourier transform of the "square root" of the bath correlation function), and a Lamb shift:

.. math::

    \dot\rho = -i[H + \lambda^2\Lambda, \rho]
      + \lambda^2\sum_\alpha\Big(L_\alpha\rho L_\alpha^\dagger - \tfrac12\{L_\alpha^\dagger L_\alpha, \rho\}\Big),
    \qquad (L_\alpha)_{mn} = g_\alpha(E_n - E_m)\,(A_\alpha)_{mn},

.. math::

    \Lambda_{mn} = \sum_\alpha\sum_k (A_\alpha)_{mk}(A_\alpha)_{kn}\,F_\alpha(E_m - E_k, E_n - E_k),\qquad
    F(a, b) = -\frac{1}{2\pi}\,\mathrm{P}\!\!\int \frac{g(a+\nu)\,g(b+\nu)}{\nu}\,d\nu

in the eigenbasis of :math:`H` (:mod:`davies_mb._ule_lamb`). :math:`F(\omega,\omega) = S(\omega)`, the
Lamb-shift function of :meth:`davies_mb.Bath.lamb_shift`. Writing :math:`L = \sum_\omega\sqrt{\gamma(\omega)}
A(\omega)`, the terms with equal Bohr frequencies are exactly the Davies generator (and
:math:`\Lambda \to \sum_\omega S(\omega)A(\omega)^\dagger A(\omega)`); the cross terms carry
:math:`\sqrt{\gamma(\omega)\gamma(\omega')}` where the Redfield tensor carries
:math:`(\gamma(\omega)+\gamma(\omega'))/2`: both differ from Davies at the same order, but the ULE is in
Lindblad form, so it is completely positive at every :math:`\lambda`. At zero temperature
(:math:`\gamma(\omega<0) = 0`) :math:`g` is still defined.

How it is computed (the generator is never stored above :math:`d = 16`):

* Applying :math:`\mathcal{L}` to a Hermitian :math:`X` (eigenbasis) costs :math:`Y = GX` with
  :math:`G = \lambda^2(\Lambda - \tfrac{i}{2}K)`, :math:`K = \sum_\alpha L_\alpha^\dagger L_\alpha`, and
  :math:`L_\alpha X L_\alpha^\dagger`: :math:`\mathcal{L}(X) = -i[E, X] - iY + iY^\dagger +
  \lambda^2\sum_\alpha L_\alpha XL_\alpha^\dagger`, three :math:`d\times d` products per coupling. It acts on
  the real coordinates of Hermitian matrices (those of :mod:`davies_mb.redfield`), so every Krylov method
  runs in real arithmetic.
* Stationary state: GMRES on :math:`\mathcal{L}(X) + \mathrm{tr}(X)\,\mathbb{1}/n = \mathbb{1}/n` (the trace
  row makes it nonsingular when the stationary state is unique; its solution has unit trace and
  :math:`\mathcal{L}(X) = 0`), preconditioned by the exact population block (the Pauli matrix of
  the ULE rates, an :math:`n\times n` LU) and the diagonal of the coherence part.
* Gap: a generalized Davidson (Olsen) iteration for the rightmost eigenvalues, a Krylov-subspace method
  on the same operator, seeded with the slowest Pauli modes and the slowest coherences, with the same
  preconditioner shifted to the current Ritz value. Plain Arnoldi for the rightmost eigenvalues does
  not converge here: the spectrum is a strip of width :math:`\lambda^2\gamma` and length of the
  bandwidth along the imaginary axis, and the sought eigenvalues sit in the middle of its long edge.
* Trajectories: :func:`scipy.sparse.linalg.expm_multiply` on the operator.
* :math:`d \le 16` (``dense_max``): the real :math:`d^2\times d^2` matrix, one dense eigen-decomposition.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.linalg as sla
import scipy.sparse.linalg as spla

from . import _checks
from . import _ule_lamb
from .davies import _check_times, couplings_in_eigenbasis, ops_in_eigenbasis, state_in_eigenbasis
from .spectrum import Spectrum

__all__ = ["ULEGenerator"]

#: Largest dimension handled with a dense real d^2 x d^2 matrix (above: matrix free).
DENSE_MAX = 16
#: Largest dimension whose Lamb shift is evaluated with the direct quadrature at every (m, k, n).
LAMB_DIRECT_MAX = 24
#: Largest dimension for which superoperator() builds the complex d^2 x d^2 matrix.
SUPEROP_MAX = 128


class _Core:
    """Strength-independent data at lambda = 1: energies, jump operators, K, Lamb shift."""

    def __init__(self, spectrum: Spectrum, A: list, baths: list, lamb_shift: bool):
        self.spec = spectrum
        self.A = A
        self.baths = baths
        self.lamb_shift = lamb_shift
        E = spectrum.energies
        self.E = E
        self.n = n = E.size
        Wb = E[None, :] - E[:, None]  # Wb[m, n] = E_n - E_m: energy given to the bath in n -> m
        self.L = []
        for A_, b in zip(A, baths):
            self.L.append(_ule_lamb.sqrt_rates(b, Wb) * A_)
        self.real = all(np.isrealobj(L_) for L_ in self.L)
        dtype = float if self.real else complex
        self.K = np.zeros((n, n), dtype=dtype)
        for L_ in self.L:
            self.K += L_.conj().T @ L_
        self.K = 0.5 * (self.K + self.K.conj().T)
        self.Lam = np.zeros((n, n), dtype=dtype)
        self.lamb_error = 0.0
        if lamb_shift:
            kernels = {}
            width = float(E[-1] - E[0]) if n > 1 else 1.0
            for A_, b in zip(A, baths):
                if n <= LAMB_DIRECT_MAX:
                    self.Lam = self.Lam + _ule_lamb.lamb_matrix_direct(b, E, A_)
                else:
                    if id(b) not in kernels:
                        kernels[id(b)] = _ule_lamb.LowRankKernel(b, width)
                    kern = kernels[id(b)]
                    self.lamb_error = max(self.lamb_error, kern.error)
                    self.Lam = self.Lam + kern.lamb_matrix(E, A_)
            self.Lam = 0.5 * (self.Lam + self.Lam.conj().T)
        # the population block (Pauli matrix of the ULE rates) and the diagonal coherence rates, at lambda = 1
        self.Wpop = sum(np.abs(L_) ** 2 for L_ in self.L)
        self.Wpop = self.Wpop - np.diag(np.diag(self.K).real)
        self.Ldiag = [np.diag(L_) for L_ in self.L]
        self.rate_scale = float(np.max(np.abs(np.diag(self.K)))) if n else 0.0
        a, b = np.triu_indices(n, k=1)
        self.pa, self.pb = a, b
        self._c = None

    def complex_G(self) -> np.ndarray:
        """:math:`\\Lambda - iK/2` as a complex array (one dtype: mixed products are not BLAS calls)."""
        if self._c is None:
            self._c = (np.asarray(self.Lam - 0.5j * self.K, dtype=complex), [np.asarray(L_, dtype=complex) for L_ in self.L])
        return self._c[0]

    def Lc(self) -> list:
        self.complex_G()
        return self._c[1]


def _herm_from_y(y: np.ndarray, n: int, pa, pb) -> np.ndarray:
    """Real coordinates (diag, sqrt2 Re X_ab, sqrt2 Im X_ab for a < b) -> Hermitian matrix."""
    X = np.zeros((n, n), dtype=complex)
    m = pa.size
    X[np.arange(n), np.arange(n)] = y[:n]
    z = (y[n:n + m] + 1j * y[n + m:]) / np.sqrt(2.0)
    X[pa, pb] = z
    X[pb, pa] = z.conj()
    return X


def _y_from_herm(X: np.ndarray, pa, pb) -> np.ndarray:
    """Hermitian (or any: its Hermitian part is used consistently by callers) matrix -> real coordinates."""
    n = X.shape[0]
    z = X[pa, pb] * np.sqrt(2.0)
    return np.concatenate([np.real(np.diagonal(X)), z.real, z.imag])


def _uniform_from_zero(times: np.ndarray) -> bool:
    """True for ``0, h, 2h, ...`` (at least 3 times): the grid expm_multiply propagates in one call."""
    if times.size < 3 or times[0] != 0.0:
        return False
    h = np.diff(times)
    return bool(h[0] > 0 and np.allclose(h, h[0], rtol=1e-10, atol=0.0))


class ULEGenerator:
    r"""The universal Lindblad equation (Nathan & Rudner 2020) of a system weakly coupled to thermal baths.

    .. math::

        \mathcal{L}(\rho) = -i[H + \lambda^2\Lambda, \rho] + \lambda^2\sum_\alpha\Big(L_\alpha\rho L_\alpha^\dagger
          - \tfrac12\{L_\alpha^\dagger L_\alpha, \rho\}\Big),\qquad
        (L_\alpha)_{mn} = \sqrt{\gamma_\alpha(E_n - E_m)}\,(A_\alpha)_{mn}

    (module docstring; :math:`\Lambda = 0` unless ``lamb_shift=True``). Same interface as
    :class:`davies_mb.DaviesGenerator` and :class:`davies_mb.RedfieldGenerator`: non-secular like Redfield,
    completely positive like Davies, and matrix free, so it runs where Redfield cannot (:math:`d` up to a few
    thousand).

    Parameters
    ----------
    spectrum : Spectrum
        From :func:`davies_mb.diagonalize` (full space or one sector the couplings leave invariant).
    couplings : operator or sequence of operators
        Hermitian system operators :math:`A_\alpha` in the full computational basis.
    bath : Bath or sequence of Bath
        One bath for all couplings (independent copies), or one per coupling.
    strength : float
        The coupling :math:`\lambda > 0`.
    lamb_shift : bool
        Include :math:`\Lambda`. Off by default, as for the Davies and Redfield generators (PHYSICS.md
        section 2), so that the three are compared like with like. For :math:`d \le 24` the kernel is
        integrated at every :math:`(m, k, n)` (about 1e-13); above, from a low-rank table accurate to about
        1e-6 relative (``lamb_shift_error``).
    dense_max : int
        Up to this dimension (default 16) the generator is a dense real :math:`d^2\times d^2` matrix with
        one eigen-decomposition; above, everything is matrix free.
    tol : float
        Relative tolerance of the Krylov solvers (default 1e-10).
    """

    def __init__(self, spectrum: Spectrum, couplings, bath, strength: float = 1.0, lamb_shift: bool = False,
                 *, dense_max: int = DENSE_MAX, tol: float = 1e-10, _core: _Core | None = None):
        self.strength = _checks.check_positive("strength", strength)
        if isinstance(dense_max, bool) or not isinstance(dense_max, numbers.Integral) or dense_max < 0:
            raise ValueError(f"dense_max must be an integer >= 0, got {dense_max!r}")
        self.dense_max = int(dense_max)
        self.tol = _checks.check_positive("tol", tol)
        if not self.tol < 1e-2:
            raise ValueError(f"tol must be a small relative tolerance below 1e-2, got {tol!r}")
        self._cache = {}
        if _core is not None:
            self._core = _core
            self.spectrum = _core.spec
            return
        if not isinstance(spectrum, Spectrum):
            raise TypeError(
                f"spectrum must be a davies_mb.Spectrum (from dm.diagonalize), got {type(spectrum).__name__}")
        if not isinstance(lamb_shift, (bool, np.bool_)):
            raise TypeError(f"lamb_shift must be True or False, got {lamb_shift!r}")
        self.spectrum = spectrum
        A_eig, baths = couplings_in_eigenbasis(spectrum, couplings, bath)
        self._core = _Core(spectrum, A_eig, baths, bool(lamb_shift))

    # -- construction helpers ----------------------------------------------------------------------
    def with_strength(self, strength: float) -> "ULEGenerator":
        r"""The same generator at another :math:`\lambda`, reusing the jump operators and the Lamb shift."""
        return ULEGenerator(self.spectrum, None, None, strength, dense_max=self.dense_max, tol=self.tol,
                            _core=self._core)

    @property
    def baths(self) -> list:
        return list(self._core.baths)

    @property
    def lamb_shift(self) -> bool:
        return self._core.lamb_shift

    @property
    def lamb_shift_error(self) -> float:
        """Estimated relative error of the Lamb-shift kernel table (0 for the direct quadrature)."""
        return self._core.lamb_error

    @property
    def beta(self) -> float | None:
        betas = {b.beta for b in self._core.baths}
        return betas.pop() if len(betas) == 1 else None

    @property
    def jump_operators(self) -> list:
        r"""The jump operators :math:`\lambda L_\alpha` in the eigenbasis of :math:`H` (``(n, n)`` arrays)."""
        return [self.strength * L_ for L_ in self._core.L]

    def __repr__(self) -> str:
        c = self._core
        return f"ULEGenerator(n={c.n}, couplings={len(c.L)}, strength={self.strength})"

    @property
    def _lam2(self) -> float:
        return self.strength**2

    @property
    def _dense(self) -> bool:
        return self._core.n <= self.dense_max

    # -- the generator applied to matrices (eigenbasis) ---------------------------------------------
    def apply(self, X: np.ndarray) -> np.ndarray:
        r""":math:`\mathcal{L}(X)` for an ``(n, n)`` matrix in the eigenbasis of H (any matrix, not only states)."""
        c = self._core
        lam2 = self._lam2
        X = np.asarray(X)
        X = np.asarray(X, dtype=complex)
        Heff = lam2 * c.complex_G()
        Y = Heff @ X
        Z = X @ Heff.conj().T
        out = -1j * (c.E[:, None] - c.E[None, :]) * X - 1j * (Y - Z)
        for L_ in c.Lc():
            out = out + lam2 * (L_ @ X @ L_.conj().T)
        return out

    def _apply_herm(self, X: np.ndarray, adjoint: bool = False) -> np.ndarray:
        """:math:`\\mathcal{L}(X)` for Hermitian X: the Hamiltonian-like part needs one product, not two.

        ``adjoint=True``: :math:`\\mathcal{L}^\\dagger(X) = i(H_{\\rm eff}^\\dagger X - XH_{\\rm eff})
        + \\lambda^2\\sum_\\alpha L_\\alpha^\\dagger XL_\\alpha` (the Heisenberg picture), whose real coordinates
        are the transpose of those of :math:`\\mathcal{L}` (the Hermitian coordinates are orthonormal for
        :math:`\\mathrm{tr}(XY)`): the left eigenvectors and ``rmatvec`` (norm estimates of expm_multiply).
        With real jump operators and rates (real couplings, real eigenvectors) every product is a real
        BLAS product on ``[Re X, Im X]`` side by side (mixed real-complex products are not BLAS calls).
        """
        c = self._core
        lam2 = self._lam2
        n = c.n
        sg = -1.0 if adjoint else 1.0  # L^dag: G -> G^dag (the sign of K flips), and every i -> -i
        X = np.asarray(X, dtype=complex)
        if c.real:
            Xs = np.hstack([X.real, X.imag])  # (n, 2n)
            Q = (-0.5 * lam2 * sg) * (c.K @ Xs)  # Im G = -sg lam2 K / 2
            if c.lamb_shift:
                P = lam2 * (c.Lam @ Xs)
                Y = (P[:, :n] - Q[:, n:]) + 1j * (P[:, n:] + Q[:, :n])
            else:
                Y = -Q[:, n:] + 1j * Q[:, :n]
            out = (-1j * sg) * ((c.E[:, None] - c.E[None, :]) * X + Y)
            out += (1j * sg) * Y.conj().T
            for L_ in c.L:
                Lf, Lb = (L_.T, L_) if adjoint else (L_, L_.T)
                T = Lf @ Xs
                S = np.vstack([T[:, :n], T[:, n:]]) @ Lb
                out += lam2 * (S[:n] + 1j * S[n:])
            return out
        G = c.complex_G()
        Y = lam2 * ((G.conj().T if adjoint else G) @ X)
        out = (-1j * sg) * ((c.E[:, None] - c.E[None, :]) * X + Y)
        out += (1j * sg) * Y.conj().T
        for L_ in c.Lc():
            out += lam2 * ((L_.conj().T @ X @ L_) if adjoint else (L_ @ X @ L_.conj().T))
        return out

    def _op_real(self) -> spla.LinearOperator:
        """:math:`\\mathcal{L}` on the real coordinates of Hermitian matrices (dimension n^2)."""
        c = self._core
        n, pa, pb = c.n, c.pa, c.pb

        def mv(y):
            y = np.asarray(y).reshape(-1)
            return _y_from_herm(self._apply_herm(_herm_from_y(y, n, pa, pb)), pa, pb)

        def rmv(y):  # the transpose: L^dagger in the same coordinates (expm_multiply's norm estimates use it)
            y = np.asarray(y).reshape(-1)
            return _y_from_herm(self._apply_herm(_herm_from_y(y, n, pa, pb), adjoint=True), pa, pb)

        return spla.LinearOperator((n * n, n * n), matvec=mv, rmatvec=rmv, dtype=float)

    def _matrix_real(self) -> np.ndarray:
        """Dense real matrix of :math:`\\mathcal{L}` in the Hermitian coordinates (small n only)."""
        if "M" not in self._cache:
            n2 = self._core.n ** 2
            _checks.check_memory("the dense ULE generator", (n2, n2), np.float64,
                                 hint="Lower dense_max: above it everything is matrix free.")
            op = self._op_real()
            self._cache["M"] = op.matmat(np.eye(n2))
        return self._cache["M"]

    # -- preconditioner ---------------------------------------------------------------------------
    def _coherence_diag(self) -> np.ndarray:
        r"""Diagonal of :math:`\mathcal{L}` on the coherences :math:`|a\rangle\langle b|`, :math:`a < b` (complex)."""
        c = self._core
        lam2 = self._lam2
        a, b = c.pa, c.pb
        mu = -1j * (c.E[a] - c.E[b]) - 0.5 * lam2 * (np.diag(c.K).real[a] + np.diag(c.K).real[b])
        mu = mu - 1j * lam2 * (np.diag(c.Lam).real[a] - np.diag(c.Lam).real[b])
        for d_ in c.Ldiag:
            mu = mu + lam2 * d_[a] * np.conj(d_[b])
        return mu

    def _preconditioner(self, shift: float = 0.0, trace_row: bool = False):
        r"""Approximate inverse of :math:`\mathcal{L} - \theta` (+ the trace row): exact on the populations
        (n x n LU of the Pauli block), the diagonal of :math:`\mathcal{L}` on the coherences."""
        c = self._core
        n, m = c.n, c.pa.size
        P = self._lam2 * c.Wpop - shift * np.eye(n)
        if trace_row:
            P = P + np.full((n, n), 1.0 / n)
        lu = sla.lu_factor(P, check_finite=False)
        mu = self._coherence_diag() - shift
        mu = np.where(np.abs(mu) > 1e-300, mu, 1e-300)

        def solve(r):
            r = np.asarray(r).reshape(-1)
            out = np.empty_like(r)
            out[:n] = sla.lu_solve(lu, r[:n], check_finite=False)
            z = (r[n:n + m] + 1j * r[n + m:]) / mu
            out[n:n + m], out[n + m:] = z.real, z.imag
            return out

        return solve

    # -- spectrum ---------------------------------------------------------------------------------
    def _zero_tol(self) -> float:
        return max(1e-7 * self._lam2 * self._core.rate_scale, 1e-12 * self._lam2)

    def _dense_eigvals(self) -> np.ndarray:
        if "eigvals" not in self._cache:
            self._cache["eigvals"] = sla.eigvals(self._matrix_real(), check_finite=False)
        return self._cache["eigvals"]

    def _rightmost(self, k: int = 3, max_basis: int | None = None, max_iter: int = 400, deflate: bool = False,
                   warn: bool = True):
        r"""The ``k`` rightmost eigenvalues of :math:`\mathcal{L}` by a generalized Davidson iteration.

        ``deflate=True``: in the traceless subspace. :math:`\mathcal{L}` is trace preserving, so its range
        lies there and the subspace is invariant; :math:`\mathcal{L}` restricted to it has every eigenvalue
        but the stationary 0 (when the stationary state is unique). Keeping the basis orthogonal to the
        identity removes the zero mode from the search: the gap is then the rightmost eigenvalue, and fewer
        Ritz pairs need to converge (the gap alone: measured 53 -> 24 generator applications at L = 8).
        """
        key = ("rightmost", k, deflate)  # (max_iter is not in the key: one call per k and deflate)
        if key in self._cache:
            return self._cache[key]
        c = self._core
        n = c.n
        N = n * n
        op = self._op_real()
        if max_basis is None:  # about 0.5 GiB of basis vectors and images, at least 12
            max_basis = int(min(60, max(12, (2**29) // (16 * N))))
        # seeds: the slowest population modes (Pauli block) and the slowest coherences
        lam2 = self._lam2
        ev, evec = self._pauli_modes(k + 2)
        order = np.argsort(-ev.real)
        seeds = []
        for j in order[:k + 2]:
            v = np.zeros(N)
            v[:n] = evec[:, j].real if np.linalg.norm(evec[:, j].real) > 1e-3 else evec[:, j].imag
            seeds.append(v)
        mu = self._coherence_diag()
        for j in np.argsort(-mu.real)[:2]:
            for part in (0, 1):
                v = np.zeros(N)
                v[n + part * c.pa.size + j] = 1.0
                seeds.append(v)
        mb = max_basis + 4
        V = np.zeros((mb, N))  # basis vectors as rows (contiguous)
        AV = np.zeros((mb, N))
        Hs = np.zeros((mb, mb))
        m = 0

        e_id = np.zeros(N)
        e_id[:n] = 1.0 / np.sqrt(n)  # the identity (trace direction) in the Hermitian coordinates

        def add(w) -> bool:
            """Orthogonalize w against V[:, :m] (twice), append it with its image; update Hs = V^T A V."""
            nonlocal m
            w = np.array(w, dtype=float)
            nw0 = np.linalg.norm(w)
            for _ in range(2):
                if deflate:
                    w -= (e_id @ w) * e_id
                w -= (V[:m] @ w) @ V[:m]
            nw = np.linalg.norm(w)
            if nw < 1e-10 * max(nw0, 1e-300) or m >= mb:
                return False
            V[m] = w / nw
            AV[m] = op.matvec(V[m])
            Hs[:m + 1, m] = V[:m + 1] @ AV[m]
            Hs[m, :m] = AV[:m] @ V[m]
            m += 1
            return True

        for s in seeds:
            add(s)
        scale = max(lam2 * c.rate_scale, 1e-300)
        ztol = self._zero_tol()
        converged = None
        prec_cache = {}
        th = np.zeros(0)
        for it in range(max_iter):
            th, S = sla.eig(Hs[:m, :m])
            order = np.argsort(-th.real)
            th, S = th[order], S[:, order]
            done = True
            for j in range(min(k, th.size)):
                s = S[:, j]
                # real BLAS products (a complex vector times a real matrix is no BLAS call)
                u = s.real @ V[:m] + 1j * (s.imag @ V[:m])
                r = s.real @ AV[:m] + 1j * (s.imag @ AV[:m]) - th[j] * u
                res = np.linalg.norm(r) / max(np.linalg.norm(u), 1e-300)
                # eigenvalue error ~ residual^2 / separation: 1e-8 relative residuals give ~1e-12 eigenvalues
                if res > max(self.tol, 1e-8) * max(scale, abs(th[j])):
                    done = False
                    break
            if done and th.size >= k:
                converged = th[:k]
                break
            # correction for pair j (Olsen): t = M^-1 r - eps M^-1 u with eps making t M-orthogonal to u
            shift = float(th[j].real)
            if abs(shift) < ztol:
                shift = 0.0
            pkey = round(shift / scale, 3)
            if pkey not in prec_cache:
                if len(prec_cache) > 4:
                    prec_cache.clear()
                prec_cache[pkey] = self._preconditioner(shift)
            M = prec_cache[pkey]
            new = []
            for rr, uu in ((r.real, u.real), (r.imag, u.imag)):
                if np.linalg.norm(rr) <= 1e-14 * max(np.linalg.norm(r), 1e-300):
                    continue
                Mr, Mu = M(rr), M(uu)
                den = uu @ Mu
                new.append(Mr - ((uu @ Mr) / den) * Mu if abs(den) > 1e-300 else Mr)
            if m + len(new) > max_basis:  # restart with the k+2 rightmost Ritz vectors (real and imaginary parts)
                keep = []
                for j2 in range(min(k + 2, th.size)):
                    x = S[:, j2].real @ V[:m] + 1j * (S[:, j2].imag @ V[:m])
                    keep.append(x.real)
                    if abs(th[j2].imag) > 0:
                        keep.append(x.imag)
                m = 0
                for w in keep:
                    add(w)
            grown = False
            for t in new:
                grown = add(t) or grown
            if not grown:
                break
        self._cache[("converged",) + key] = converged is not None
        if converged is None and not warn:
            converged = th[:k]
        elif converged is None:
            _checks.warn(
                f"the ULE eigenvalue iteration did not reach tol = {self.tol:g} in {max_iter} steps at strength "
                f"{self.strength}; the rightmost eigenvalues are returned at the accuracy reached"
            )
            converged = th[:k]
        self._cache[key] = converged
        return converged

    def _pauli_modes(self, k: int):
        """The ``k`` slowest modes of the population block (symmetrized by detailed balance when it holds)."""
        c = self._core
        W = self._lam2 * c.Wpop
        beta = self.beta
        if beta is not None and np.isfinite(beta):
            p = self.spectrum.gibbs_weights(beta)
            if np.all(p > 1e-250):
                q = np.sqrt(p)
                Sym = W * (1.0 / q)[:, None] * q[None, :]
                if np.allclose(Sym, Sym.T, rtol=1e-8, atol=1e-12 * max(np.max(np.abs(Sym)), 1e-300)):
                    kk = min(k, c.n)
                    ev, ec = sla.eigh(0.5 * (Sym + Sym.T), subset_by_index=[c.n - kk, c.n - 1])
                    return ev, ec * q[:, None]
        ev, evec = sla.eig(W)
        return ev, evec

    def eigenvalues(self, k: int | None = None) -> np.ndarray:
        r"""Eigenvalues of :math:`\mathcal{L}` by decreasing real part: all :math:`d^2` when dense, else the ``k``
        rightmost (default 3)."""
        if self._dense and k is None:
            mu = self._dense_eigvals()
        else:
            k = 3 if k is None else int(k)
            mu = self._dense_eigvals() if self._dense else self._rightmost(k)
        mu = np.asarray(mu)
        mu = mu[np.lexsort((np.imag(mu), -np.real(mu)))]
        return mu if k is None else mu[:k]

    def kernel_dimension(self) -> int:
        """Number of zero eigenvalues (independent stationary states); matrix free: among the 3 rightmost."""
        mu = self._dense_eigvals() if self._dense else self._rightmost(3)
        return int(np.sum(np.abs(mu) <= self._zero_tol()))

    def relaxation_rates(self, k: int = 1) -> np.ndarray:
        r"""The ``k`` smallest decay rates :math:`-\mathrm{Re}\,\mu` over the nonzero eigenvalues, ascending."""
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        tol = self._zero_tol()
        if self._dense:
            mu = self._dense_eigvals()
        else:  # the traceless subspace first (no zero mode to converge); the full space if it holds zeros
            mu = self._rightmost(k, deflate=True, warn=False, max_iter=100)
            if np.sum(np.abs(mu) > tol) < k or not self._cache[("converged", "rightmost", k, True)]:
                mu = self._rightmost(k + 2)  # strongly non-normal cases: zero temperature, lambda >= 0.3
        rates = np.sort(-np.real(mu[np.abs(mu) > tol]))[:k]
        return np.where(np.abs(rates) <= tol, 0.0, rates)

    def gap(self) -> float:
        r"""Spectral gap :math:`\Delta = \min\{-\mathrm{Re}\,\mu : \mu \ne 0\}` (matrix free above ``dense_max``:
        the rightmost nonzero eigenvalue from the Davidson iteration)."""
        r = self.relaxation_rates(1)
        return float(r[0]) if r.size else np.inf

    def relaxation_time(self) -> float:
        return 1.0 / self.gap()

    # -- states -----------------------------------------------------------------------------------
    def _eig_state(self, rho0) -> np.ndarray:
        return state_in_eigenbasis(self.spectrum, rho0)

    def stationary_state(self, rho0=None, *, basis: str = "computational") -> np.ndarray:
        r"""The stationary state: :math:`\mathcal{L}(\rho) = 0`, :math:`\mathrm{tr}\,\rho = 1` (times
        :math:`\mathrm{tr}\,\rho_0` if given).

        Dense: one LU solve with a row replaced by the trace. Matrix free: GMRES on
        :math:`\mathcal{L}(X) + \mathrm{tr}(X)\mathbb{1}/n = \mathbb{1}/n`, preconditioned by the Pauli block
        (module docstring), started from the Pauli stationary state. Assumes a unique stationary state (a
        warning says when the residual shows otherwise).
        """
        _checks.check_choice("basis", basis, ("computational", "eigen"))
        c = self._core
        n, N = c.n, c.n ** 2
        scale = 1.0 if rho0 is None else complex(np.trace(self._eig_state(rho0))).real
        rhs = np.zeros(N)
        rhs[:n] = 1.0 / n
        if self._dense:
            M = self._matrix_real().copy()
            M[0, :] = 0.0
            M[0, :n] = 1.0
            b = np.zeros(N)
            b[0] = 1.0
            y = sla.solve(M, b, check_finite=False)
        else:
            op = self._op_real()
            A = spla.LinearOperator((N, N), matvec=lambda y: op.matvec(y) + rhs * np.sum(np.asarray(y)[:n]),
                                    dtype=float)
            prec = self._preconditioner(0.0, trace_row=True)
            Mop = spla.LinearOperator((N, N), matvec=prec, dtype=float)
            # start: the stationary populations of the Pauli block
            x0 = prec(rhs)
            y, info = spla.gmres(A, rhs, x0=x0, M=Mop, rtol=self.tol, atol=0.0, restart=40, maxiter=20)
            if info != 0:
                _checks.warn(f"GMRES for the ULE stationary state stopped before tol = {self.tol:g} (info {info})")
        X = _herm_from_y(y, n, c.pa, c.pb)
        res = self._apply_herm(X)
        if np.max(np.abs(res)) > 1e-6 * self._lam2 * max(c.rate_scale, 1e-300) * max(np.max(np.abs(X)), 1e-300):
            _checks.warn("the ULE stationary-state residual is large: the stationary state may not be unique")
        X = X * scale
        if not np.any(np.abs(X.imag) > 0):
            X = X.real
        if basis == "eigen":
            return X
        out = self.spectrum.from_eigenbasis(X)
        return out.real if np.iscomplexobj(out) and not np.any(out.imag) else out

    # -- dynamics ---------------------------------------------------------------------------------
    def _evolve_states(self, X0: np.ndarray, times: np.ndarray):
        """Yield the eigenbasis state at each time (Hermitian part and anti-Hermitian part evolved apart)."""
        c = self._core
        n, pa, pb = c.n, c.pa, c.pb
        parts = [(1.0, 0.5 * (X0 + X0.conj().T)), (1j, -0.5j * (X0 - X0.conj().T))]
        parts = [(f, P) for f, P in parts if np.any(np.abs(P) > 0)]
        ys = [_y_from_herm(P, pa, pb) for _, P in parts]
        if self._dense:
            if "eig" not in self._cache:  # one eigen-decomposition serves every time (small n only)
                mu, V = sla.eig(self._matrix_real(), check_finite=False)
                self._cache["eig"] = (mu, V, sla.lu_factor(V, check_finite=False))
            mu, V, lu = self._cache["eig"]
            coefs = [sla.lu_solve(lu, y.astype(complex), check_finite=False) for y in ys]
            for t in times:
                ys_t = [np.real(V @ (np.exp(mu * t) * c_)) for c_ in coefs]
                yield sum(f * _herm_from_y(y, n, pa, pb) for (f, _), y in zip(parts, ys_t))
            return
        op = self._op_real()
        if _uniform_from_zero(times):
            # one expm_multiply on the whole grid: the norm estimates and the step choice are made once
            # (per-interval calls repeat them), and the cost is that of the single propagation to t_max
            yts = [spla.expm_multiply(op, y, start=0.0, stop=float(times[-1]), num=times.size, endpoint=True,
                                      traceA=0.0) for y in ys]
            for k in range(times.size):
                yield sum(f * _herm_from_y(yt[k], n, pa, pb) for (f, _), yt in zip(parts, yts))
            return
        order = np.argsort(times)
        res = {}
        t_prev = 0.0
        for i in order:
            dt = times[i] - t_prev
            if dt > 0:
                ys = [spla.expm_multiply(op * dt, y, traceA=0.0) for y in ys]
            t_prev = times[i]
            res[i] = sum(f * _herm_from_y(y, n, pa, pb) for (f, _), y in zip(parts, ys))
        for i in range(times.size):
            yield res[i]

    def _tail_trajectory(self, rho0, O, t_end: float, num: int, t_final: float | None = None):
        r"""``(times, values, resample, final)`` of :math:`\mathrm{tr}(O\rho(t))` on ``num`` uniform times in
        :math:`[0, t_{end}]` (``final``: the value at ``t_final``), for the tail fit of
        :func:`davies_mb.ule_crossover`.

        The states on the grid are kept (real Hermitian coordinates, ``num * n^2`` floats), so ``resample(t)``
        propagates only from the grid time before ``t`` (a uniform array of times: one ``expm_multiply`` from
        its first point). Hermitian ``rho0`` and ``O`` (computational basis) only.
        """
        c = self._core
        n, pa, pb = c.n, c.pa, c.pb
        X0 = np.asarray(self._eig_state(rho0), dtype=complex)
        y0 = _y_from_herm(0.5 * (X0 + X0.conj().T), pa, pb)
        o = _y_from_herm(np.asarray(ops_in_eigenbasis(self.spectrum, [O])[0], dtype=complex), pa, pb)
        times = np.linspace(0.0, float(t_end), int(num))
        h = times[1] - times[0]
        if self._dense:
            # the one-step propagator, applied num times: stable where an eigenvector expansion of the (nearly
            # defective, small-lambda) generator loses digits in the 1e-9 tail the fit reaches
            M = self._matrix_real()
            P = sla.expm(M * h)
            Y = np.empty((times.size, y0.size))
            Y[0] = y0
            for k in range(1, times.size):
                Y[k] = P @ Y[k - 1]

            def step(y, dt):
                return sla.expm(M * dt) @ y

            def grid(y, t_end, num):
                Pk = sla.expm(M * (t_end / (num - 1)))
                out = np.empty((num, y.size))
                out[0] = y
                for k in range(1, num):
                    out[k] = Pk @ out[k - 1]
                return out
        else:
            op = self._op_real()
            Y = spla.expm_multiply(op, y0, start=0.0, stop=times[-1], num=times.size, endpoint=True, traceA=0.0)

            def step(y, dt):
                return spla.expm_multiply(op * dt, y, traceA=0.0)

            def grid(y, t_end, num):
                return spla.expm_multiply(op, y, start=0.0, stop=t_end, num=num, endpoint=True, traceA=0.0)

        vals = Y @ o
        final = None
        if t_final is not None:  # the value at a later time (the limit the tail decays to)
            final = float(step(Y[-1], t_final - times[-1]) @ o) if t_final > times[-1] else float(vals[-1])

        def resample(t):
            t = np.atleast_1d(np.asarray(t, dtype=float))
            k = int(np.clip(np.floor(t[0] / h), 0, times.size - 1))
            y = Y[k]
            if t[0] > times[k]:
                y = step(y, t[0] - times[k])
            if t.size == 1:
                return np.array([y @ o])
            if _uniform_from_zero(t - t[0]):
                return grid(y, t[-1] - t[0], t.size) @ o
            return np.array([resample(np.array([x]))[0] for x in t])

        return times, vals, resample, final

    def evolve(self, rho0, times) -> np.ndarray:
        r""":math:`\rho(t) = e^{t\mathcal{L}}\rho_0` at each time; shape ``(len(times), d, d)``."""
        times = _check_times(times)
        spec = self.spectrum
        _checks.check_memory("the evolved density matrices", (times.size, spec.dim, spec.dim), np.complex128,
                             hint="Use expect(ops, rho0, times), which stores only expectation values.")
        X0 = self._eig_state(rho0)
        out = np.empty((times.size, spec.dim, spec.dim), dtype=complex)
        for k, X in enumerate(self._evolve_states(np.asarray(X0, dtype=complex), times)):
            out[k] = spec.from_eigenbasis(X)
        return out

    def expect(self, ops, rho0, times) -> np.ndarray:
        r""":math:`\mathrm{tr}(O\rho(t))` for each operator and time; shape ``(len(ops), len(times))``."""
        times = _check_times(times)
        Oe = ops_in_eigenbasis(self.spectrum, ops)
        X0 = self._eig_state(rho0)
        out = np.empty((len(Oe), times.size), dtype=complex)
        for k, X in enumerate(self._evolve_states(np.asarray(X0, dtype=complex), times)):
            for j, O in enumerate(Oe):
                out[j, k] = np.sum(O.T * X)
        herm = all(np.allclose(o, o.conj().T) for o in Oe) and np.allclose(X0, np.conj(X0).T)
        return out.real if herm else out

    # -- superoperator ----------------------------------------------------------------------------
    def superoperator(self, basis: str = "computational") -> np.ndarray:
        r"""The complex :math:`d^2\times d^2` matrix of :math:`\mathcal{L}` (column stacking), for
        :math:`d \le 128` only: :math:`-i(1\otimes H_{\rm eff}) + i(\bar H_{\rm eff}\otimes 1)
        + \lambda^2\sum_\alpha \bar L_\alpha\otimes L_\alpha` with :math:`H_{\rm eff} = E + \lambda^2(\Lambda -
        \tfrac{i}{2}K)`."""
        _checks.check_choice("basis", basis, ("computational", "eigen"))
        c = self._core
        spec = self.spectrum
        d = c.n if basis == "eigen" else spec.dim
        if d > SUPEROP_MAX:
            raise ValueError(f"superoperator() builds a {d * d}x{d * d} matrix; refused above d = {SUPEROP_MAX}: "
                             "use apply(X), which is matrix free")
        _checks.check_memory("the ULE superoperator", (d * d, d * d), np.complex128)
        lam2 = self._lam2
        Heff = np.diag(c.E).astype(complex) + lam2 * (c.Lam - 0.5j * c.K)
        Ls = [np.sqrt(lam2) * L_ for L_ in c.L]
        if basis == "computational":
            V = spec.vectors

            def rot(X):
                return V @ X @ V.conj().T

            Heff = rot(Heff)
            Ls = [rot(L_) for L_ in Ls]
        Id = np.eye(d)
        M = -1j * np.kron(Id, Heff) + 1j * np.kron(Heff.conj(), Id)
        for L_ in Ls:
            M += np.kron(L_.conj(), L_)
        return M
