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
from scipy.sparse.csgraph import connected_components

from . import _checks
from ._kernels import add_jump_block, jump_matvec
from .baths import Bath
from .spectrum import Spectrum, group_levels

__all__ = ["DaviesGenerator", "CheckReport", "ModeExpansion", "PropagatedExpectation"]

_CHUNK = 2**22  # elements per chunk of vectorized pair work (bounds temporary memory)
_DENSE_W0 = 1500  # above this size the nu = 0 block's slow modes come from Lanczos, not a full eigh
_DENSE_COMPONENT = 4000  # a transition-graph component up to this size gets an exact dense eigh
_MATRIX_FREE_BYTES = 3 * 2**30  # a nu = 0 block larger than this is never stored: Lanczos runs matrix free
# Largest error amplification exp(beta * span / 2) accepted for eigenvector (mode) expansions of states:
# 1e4 keeps them at ~1e-12 absolute; beyond it (low temperature) kernels and dynamics use the physical frame.
_MAX_AMPLIFICATION = 1e4
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
    """

    amplitudes: np.ndarray
    frequencies: np.ndarray
    rates: np.ndarray
    hermitian: bool

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
        return out.real if self.hermitian else out


@dataclasses.dataclass(frozen=True)
class PropagatedExpectation:
    r"""Expectation values of a Davies evolution, evaluated by exact propagation at each strength.

    What :meth:`DaviesGenerator.mode_expansion` returns outside the modal regime (low temperature,
    :math:`e^{eta\,\mathrm{span}/2} > 10^4`, or several temperatures), where an expansion in eigenvectors
    would lose accuracy: the same :meth:`evaluate` interface, computed by propagating the physical blocks
    of :math:`\mathcal{L}` (expm / expm_multiply) at :math:`	au = \lambda^2 t`. One propagation per call.
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


class _Core:
    """Eigen-data of a Davies generator at lambda = 1 (shared between strengths; filled lazily)."""

    def __init__(self, spectrum: Spectrum, A: list, baths: list, lamb_shift: bool):
        self.spec = spectrum
        self.A = A  # couplings in the eigenbasis, (n, n) each
        self.baths = baths
        self.lamb_shift = lamb_shift
        n = spectrum.n
        self.n = n
        self.li = spectrum.level_index
        self.eps = spectrum.level_energies
        self.g = spectrum.degeneracies
        betas = {b.beta for b in baths}
        self.single_beta = len(betas) == 1
        self.beta = baths[0].beta if self.single_beta else None
        self.symmetric = self.single_beta and not lamb_shift
        self.real = all(np.isrealobj(a) for a in A)
        nl = self.eps.size
        # the generator's own level-resolved work arrays: wl, gamma_l and rate_l per bath (+ S(w) per bath)
        _checks.check_memory_total(
            "the Davies generator's level-resolved rate tables",
            [((nl, nl), np.float64)] * (1 + (3 if lamb_shift else 2) * len(baths)) + [((n, n), np.float64)],
            hint="Use a symmetry sector (sector=dict(sz=...)) or a smaller system.")
        # Level-resolved rates: wl[c, b] = eps_b - eps_c, energy given to the bath when b -> c.
        wl = self.eps[None, :] - self.eps[:, None]
        self.gamma_l = [b.gamma(wl) for b in baths]  # physical rates: gamma_l[c, b] is the rate of b -> c
        if self.single_beta:
            # symmetric rates sqrt(gamma(w) gamma(-w)) = gamma(|w|) exp(-beta |w| / 2): no overflow at any beta
            # (0 between different levels at beta = inf, gamma(0) inside a level)
            aw = np.abs(wl)
            with np.errstate(under="ignore", invalid="ignore"):  # inf * 0 on the diagonal is discarded
                damp = np.exp(np.where(aw > 0, -0.5 * self.beta * aw, 0.0))
            # gamma(|w|) is gamma_l where w >= 0 and its transpose elsewhere (wl is antisymmetric)
            self.rate_l = [np.where(wl >= 0, G, G.T) * damp for G in self.gamma_l]
            self.pgibbs = spectrum.gibbs_weights(self.beta)
        else:
            self.rate_l = self.gamma_l
            self.pgibbs = None
        # Conditioning of the similarity X_ij = (p_i p_j)^{1/4} Y_ij: a right eigenvector carries weights
        # p^{1/2} and a left one p^{-1/2}, so an element of exp(tL) from level b to level a is computed with
        # absolute error ~ eps_mach * exp(beta (eps_b - eps_a) / 2). Eigenvectors (mode expansions) are used
        # for states only while that amplification stays below _MAX_AMPLIFICATION; otherwise kernels come from
        # the physical (non-symmetric) block by SVD and dynamics from propagation (expm / expm_multiply).
        span = float(self.eps[-1] - self.eps[0]) if nl > 1 else 0.0
        bmax = max(betas)
        self.log_amplification = 0.0 if span == 0.0 else 0.5 * bmax * span
        self.modal = self.log_amplification <= np.log(_MAX_AMPLIFICATION)
        if self.single_beta and self.modal:
            de = self.eps[self.li] - self.eps[0]  # level energies: equal weights inside a level
            with np.errstate(invalid="ignore"):  # beta = inf only reaches here with one level (de = 0)
                self.scale = np.exp(np.where(de > 0, -0.25 * self.beta * de, 0.0))  # p_i^{1/4} up to Z^{1/4}
        else:
            self.scale = np.ones(n)
        self.ls_l = None
        if lamb_shift:
            uniq, inv = np.unique(np.round(wl, 12), return_inverse=True)
            if uniq.size > 20000:
                raise ValueError(
                    f"lamb_shift=True needs S(w) at {uniq.size} distinct Bohr frequencies (principal-value "
                    "integrals); that is too many for this system size: use lamb_shift=False (the Lamb shift "
                    "commutes with H and changes neither populations nor the Gibbs state)"
                )
            self.ls_l = [np.asarray(b.lamb_shift(uniq))[inv].reshape(wl.shape) for b in baths]
        self._levels_members()
        self._compute_K()
        self._w0 = None
        self._classes = None
        self._top = None
        self._components = None
        self.rates_cache = {}  # relaxation rates at lambda = 1, by k
        self._level_bounds = None
        self._groups = None
        self._small = None

    # -- structure ---------------------------------------------------------------------------------
    def _levels_members(self):
        g = self.g
        starts = np.concatenate([[0], np.cumsum(g)[:-1]])
        self.level_start = starts
        # members[g] = (levels with degeneracy g, member index matrix (nl_g, g))
        self.members = {}
        for gv in np.unique(g):
            levs = np.flatnonzero(g == gv)
            M = starts[levs][:, None] + np.arange(gv)[None, :]
            self.members[int(gv)] = (levs, M)
        # nu = 0 block: all pairs (i, j) inside one level, level-major, row-major inside a level
        I0, J0 = [], []
        for gv, (levs, M) in self.members.items():
            I0.append(np.repeat(M, gv, axis=1).ravel())
            J0.append(np.tile(M, (1, gv)).ravel())
        I0, J0 = np.concatenate(I0), np.concatenate(J0)
        order = np.lexsort((J0, I0))
        self.I0, self.J0 = I0[order], J0[order]
        self.pop_pos = np.flatnonzero(self.I0 == self.J0)  # positions of populations inside the nu=0 vector
        keys = self.I0 * self.n + self.J0  # sorted (lexsort above)
        self.tpos = np.searchsorted(keys, self.J0 * self.n + self.I0)  # position of (j, i) for element (i, j)

    def _compute_K(self):
        """K = sum_w gamma(w) A(w)^dag A(w) (and H_LS) as sparse matrices with intra-level blocks only."""
        n, li = self.n, self.li
        rows, cols, vals, lsv = [], [], [], []
        self.Kblk, self.LSblk = {}, {}
        self.lev_pos = np.zeros(self.eps.size, dtype=np.int64)
        for gv, (levs, M) in self.members.items():
            self.lev_pos[levs] = np.arange(levs.size)
            Kb = np.zeros((levs.size, gv, gv), dtype=complex)
            Lb = np.zeros((levs.size, gv, gv), dtype=complex) if self.lamb_shift else None
            for a, A in enumerate(self.A):
                for c0 in range(0, n, max(1, _CHUNK // max(1, levs.size * gv))):
                    ks = slice(c0, min(n, c0 + max(1, _CHUNK // max(1, levs.size * gv))))
                    G = self.gamma_l[a][li[ks]][:, levs]  # (chunk, nl_g): rate of b -> lev(k)
                    Ak = A[ks][:, M]  # (chunk, nl_g, g)
                    Kb += np.einsum("kb,kbs,kbt->bst", G, Ak.conj(), Ak)
                    if Lb is not None:
                        S = self.ls_l[a][li[ks]][:, levs]
                        Lb += np.einsum("kb,kbs,kbt->bst", S, Ak.conj(), Ak)
            self.Kblk[int(gv)] = Kb
            self.LSblk[int(gv)] = Lb
            rows.append(np.repeat(M, gv, axis=1).ravel())
            cols.append(np.tile(M, (1, gv)).ravel())
            vals.append(Kb.ravel())
            if Lb is not None:
                lsv.append(Lb.ravel())
        rows, cols = np.concatenate(rows), np.concatenate(cols)
        vals = np.concatenate(vals)
        if self.real:
            vals = vals.real
        self.K = sp.csr_array((vals, (rows, cols)), shape=(n, n))
        self.HLS = sp.csr_array((np.concatenate(lsv), (rows, cols)), shape=(n, n)) if self.lamb_shift else None
        self.Kdiag = np.real(self.K.diagonal())

    def heat_vectors(self):
        """Per coupling, :math:`-\\sum_\\omega \\omega\\gamma(\\omega) A(\\omega)^\\dagger A(\\omega)` (lambda = 1) as a
        nu = 0 vector (its elements at ``(I0, J0)``); built like K, with weights ``-w gamma(w)``."""
        if getattr(self, "_heat", None) is None:
            n, li = self.n, self.li
            wl = self.eps[None, :] - self.eps[:, None]  # wl[c, b] = eps_b - eps_c = energy given to the bath
            off = np.concatenate([[0], np.cumsum(self.g**2)[:-1]])
            out = []
            for a, A in enumerate(self.A):
                q = np.zeros(self.I0.size, dtype=complex)
                Wq = -wl * self.gamma_l[a]
                for gv, (levs, M) in self.members.items():
                    Qb = np.zeros((levs.size, gv, gv), dtype=complex)
                    step = max(1, _CHUNK // max(1, levs.size * gv))
                    for c0 in range(0, n, step):
                        ks = slice(c0, min(n, c0 + step))
                        Ak = A[ks][:, M]
                        Qb += np.einsum("kb,kbs,kbt->bst", Wq[li[ks]][:, levs], Ak.conj(), Ak)
                    q[off[levs][:, None] + np.arange(gv * gv)[None, :]] = Qb.reshape(-1, gv * gv)
                out.append(q.real if self.real else q)
            self._heat = out
        return self._heat

    # -- dense blocks ------------------------------------------------------------------------------
    def block(self, I, J, physical: bool = False):
        """Dissipative block (lambda = 1, symmetric frame if one temperature) on the pairs (I, J).

        ``M[(k,l),(i,j)] = sum_a R_a[lev k, lev i] A_ki conj(A_lj) - (K_ki d_lj + d_ki K_jl)/2
        - i (HLS_ki d_lj - d_ki HLS_jl)``. Valid when all pairs share one Bohr frequency. ``R`` is the
        symmetric rate table (one temperature) or, with ``physical=True``, the physical rates
        ``gamma(eps_i - eps_k)``: the block acting on the density matrix itself.
        """
        I, J = np.asarray(I, dtype=np.int64), np.asarray(J, dtype=np.int64)
        m = I.size
        dtype = np.float64 if (self.real and not self.lamb_shift) else np.complex128
        _checks.check_memory("a Bohr-frequency block of the Davies generator", (m, m), dtype)
        out = np.zeros((m, m), dtype=dtype)
        lI = self.li[I]
        rates = self.gamma_l if physical else self.rate_l
        for a, A in enumerate(self.A):
            add_jump_block(out, I, J, lI, rates[a], A)
        rows, cols, vals = self._anticomm_entries(I, J)
        np.add.at(out, (rows, cols), vals)
        return out

    def _level_entry(self, blocks, rows, cols):
        """Entries ``X[rows, cols]`` of an intra-level operator stored as ``{g: (n_levels_g, g, g)}``."""
        lev = self.li[rows]
        out = np.zeros(rows.size, dtype=complex)
        for gv, arr in blocks.items():
            m = self.g[lev] == gv
            if np.any(m):
                L_ = lev[m]
                out[m] = arr[self.lev_pos[L_], rows[m] - self.level_start[L_], cols[m] - self.level_start[L_]]
        return out.real if (self.real and blocks is self.Kblk) else out

    def _anticomm_entries(self, I, J):
        """Entries of -(K X + X K)/2 (and -i[H_LS, X]) on the elements (I, J): (rows, cols, values)."""
        m = I.size
        # anticommutator -(K X + X K)/2: K lives inside levels, so (k,l) <- (i,l) with i in level(k),
        # and (k,l) <- (k,j) with j in level(l). Find those columns by searching the sorted element keys.
        R_, C_, V_ = [], [], []
        n = self.n
        keys = I * n + J
        order = np.argsort(keys, kind="stable")
        skeys = keys[order]
        st, g = self.level_start, self.g
        rows = np.arange(m)

        def column_of(ii, jj):
            kk = ii * n + jj
            pos = np.searchsorted(skeys, kk)
            pos = np.minimum(pos, m - 1)
            found = skeys[pos] == kk
            return order[pos], found

        Kop = [(self.Kblk, -0.5, -0.5)]
        if self.lamb_shift:
            Kop.append((self.LSblk, -1j, 1j))
        for Mat, c_left, c_right in Kop:
            lk, ll = self.li[I], self.li[J]
            for s in range(int(g.max())):
                # left: (K X)_{kl} = sum_i K_{ki} X_{il}
                ok = s < g[lk]
                ii = np.where(ok, st[lk] + s, 0)
                col, found = column_of(ii, J)
                sel = ok & found
                vals = self._level_entry(Mat, I[sel], ii[sel])
                R_.append(rows[sel])
                C_.append(col[sel])
                V_.append(c_left * vals)
                # right: (X K)_{kl} = sum_j X_{kj} K_{jl}
                ok = s < g[ll]
                jj = np.where(ok, st[ll] + s, 0)
                col, found = column_of(I, jj)
                sel = ok & found
                vals = self._level_entry(Mat, jj[sel], J[sel])
                R_.append(rows[sel])
                C_.append(col[sel])
                V_.append(c_right * vals)
        return np.concatenate(R_), np.concatenate(C_), np.concatenate(V_)

    def w0_operator(self, physical: bool = False):
        """The nu = 0 block as a ``LinearOperator`` (matrix free: jump part recomputed on each product);
        ``physical=True`` uses the physical rates (the block acting on the density matrix itself)."""
        rates = self.gamma_l if physical else self.rate_l
        I, J = self.I0, self.J0
        m = I.size
        lI = self.li[I]
        dtype = np.float64 if (self.real and not self.lamb_shift) else np.complex128
        r, cidx, v = self._anticomm_entries(I, J)
        anti = sp.csr_array((v, (r, cidx)), shape=(m, m))

        def mv(x):
            x = np.asarray(x).ravel()
            y = np.zeros(m, dtype=np.result_type(dtype, x.dtype))
            for a, A in enumerate(self.A):
                jump_matvec(y, I, J, lI, rates[a], A, x)
            return y + anti @ x

        return spla.LinearOperator((m, m), matvec=mv, dtype=dtype)

    @property
    def hermitian(self) -> bool:
        return self.symmetric

    def w0(self):
        """Eigen-decomposition of the nu = 0 block: (mu, Q, Qinv) with M = Q diag(mu) Qinv."""
        if self._w0 is None:
            D0 = self.I0.size
            dtype = np.float64 if (self.hermitian and self.real) else np.complex128
            _checks.check_memory_total(
                "the eigen-decomposition of the Davies generator's zero-frequency block",
                [((D0, D0), dtype)] * (3 if self.hermitian else 5),
                hint="Use a symmetry sector (sector=dict(sz=...)) or a smaller system.")
            M = self.block(self.I0, self.J0)
            self._w0_matrix = M
            if self.hermitian:
                mu, Q = sla.eigh(M, driver="evd", check_finite=False)
                self._w0 = (mu, Q, None)
            else:
                mu, Q = sla.eig(M, check_finite=False)
                self._w0 = (mu, Q, np.linalg.inv(Q))
        return self._w0

    def components(self):
        r"""Strongly connected components of the level transition graph: ``(n_components, labels)``.

        Edge b -> c when :math:`\sum_\alpha \gamma_\alpha(\epsilon_b-\epsilon_c)\|\Pi_c A_\alpha \Pi_b\|^2 > 0`.
        The nu = 0 block is block diagonal over components (jumps stay inside, K acts inside levels).
        """
        if self._components is None:
            st = self.level_start
            nl = self.eps.size
            W = np.zeros((nl, nl))
            step = max(1, _CHUNK // max(self.n, 1))  # rows per chunk: no n x n temporaries
            for a, A in enumerate(self.A):
                blk = np.zeros((nl, nl))
                l0 = 0
                while l0 < nl:
                    l1 = int(np.searchsorted(st, st[l0] + step, side="right"))
                    l1 = max(l1, l0 + 1)
                    r0, r1 = st[l0], (st[l1] if l1 < nl else self.n)
                    rows = np.abs(A[r0:r1]) ** 2
                    blk[l0:l1] = np.add.reduceat(np.add.reduceat(rows, st, axis=1), st[l0:l1] - r0, axis=0)
                    l0 = l1
                W += self.gamma_l[a] * blk  # gamma_l[c, b]: rate of b -> c
            np.fill_diagonal(W, 0.0)
            tol = 1e-12 * max(float(W.max()), 1e-300)
            self._components = connected_components(sp.csr_array(W > tol), directed=True, connection="strong")
        return self._components

    def w0_top(self, k, zero_tol):
        """The whole kernel and at least the k slowest nonzero modes of the nu = 0 block.

        Dense eigen-decomposition for small blocks (cached: everything is returned); for large Hermitian
        blocks, :meth:`_lanczos_top`. Returns ``(mu, R, Lk)``: eigenvalues sorted by decreasing real
        part, right vectors and left vectors (columns, biorthonormal).
        """
        D0 = self.I0.size
        if self._w0 is not None or D0 <= _DENSE_W0 or not self.hermitian:
            mu, Q, Qi = self.w0()
            order = np.argsort(-np.real(mu), kind="stable")
            R = Q[:, order]
            Lk = R if Qi is None else Qi[order, :].conj().T
            return mu[order], R, Lk
        return self._lanczos_top(k, zero_tol)

    def _lanczos_top(self, k, zero_tol):
        """Slow modes of a large Hermitian nu = 0 block, component by component of the transition graph.

        Components of moderate size get a dense ``eigh`` (exact, including degenerate kernels); larger
        ones get Lanczos with deflation (:meth:`_lanczos_component`). Returns ``(mu, R, R)`` as
        :meth:`w0_top`: the kernel first, then the slowest nonzero modes.
        """
        D0 = self.I0.size
        cached = self._top
        if cached is None or cached[3] < k:  # each component kept its k slowest nonzero modes
            M = self.w0_linear()
            if isinstance(M, np.ndarray):
                # the block is stored: split it by its own sparsity graph, which also isolates elements
                # that nothing couples to (Lanczos cannot see such exactly decoupled zero modes reliably)
                ncomp, comp_of = connected_components(sp.csr_array(M != 0), directed=False)
            else:
                ncomp, labels = self.components()
                comp_of = labels[self.li[self.I0]]
            kers, mus, vecs = [], [], []
            dtype = np.float64 if self.real else np.complex128
            order_c = np.argsort(comp_of, kind="stable")
            bounds = np.searchsorted(comp_of[order_c], np.arange(ncomp + 1))
            for cidx in range(ncomp):
                sel = np.sort(order_c[bounds[cidx]:bounds[cidx + 1]])
                if sel.size <= _DENSE_COMPONENT:
                    Mc = M[np.ix_(sel, sel)] if isinstance(M, np.ndarray) else self.block(self.I0[sel], self.J0[sel])
                    mu, Q = sla.eigh(Mc, driver="evd", check_finite=False)
                    zero = np.abs(mu) <= zero_tol
                    ker, order = Q[:, zero], np.argsort(-mu)
                    order = order[~zero[order]][:k]
                    mu_nz, R_nz = mu[order], Q[:, order]
                else:
                    ker, mu_nz, R_nz = self._lanczos_component(M, sel, k, zero_tol)
                for blockvecs, store in ((ker, kers), (R_nz, vecs)):
                    full = np.zeros((D0, blockvecs.shape[1]), dtype=np.result_type(dtype, blockvecs.dtype))
                    full[sel] = blockvecs
                    store.append(full)
                mus.append(mu_nz)
            mu_nz = np.concatenate(mus)
            order = np.argsort(-mu_nz, kind="stable")
            self._top = (np.concatenate(kers, axis=1), mu_nz[order], np.concatenate(vecs, axis=1)[:, order], k)
        ker, mu_nz, R_nz, _ = self._top
        z = ker.shape[1]
        mu = np.concatenate([np.zeros(z), mu_nz])[:z + k]
        R = np.concatenate([ker, R_nz], axis=1)[:, :mu.size]
        return mu, R, R

    def _lanczos_component(self, M_full, sel, k, zero_tol):
        r"""Lanczos with kernel deflation on the elements ``sel`` of the nu = 0 block.

        Plain Lanczos can miss copies of an exactly degenerate eigenvalue, and the kernel is degenerate
        whenever something is conserved: every zero mode found is deflated (shifted far down,
        :math:`M - c P_{\ker}`) and Lanczos is rerun until a run finds no new zero mode.
        """
        m = sel.size
        if sel.size == self.I0.size:
            M = M_full
        elif isinstance(M_full, np.ndarray):
            M = M_full[np.ix_(sel, sel)]
        else:
            M = self.block(self.I0[sel], self.J0[sel])
        shift = 4.0 * float(np.max(np.abs(self.Kdiag))) + 1.0  # ||M|| <= 2 max K
        ker = np.zeros((m, 0), dtype=M.dtype)
        rng = np.random.default_rng(20261128)
        while True:
            if ker.shape[1]:
                def mv(x, K_=ker):
                    x = np.asarray(x).ravel()
                    return M @ x - shift * (K_ @ (K_.conj().T @ x))

                op = spla.LinearOperator((m, m), matvec=mv, dtype=M.dtype)
            else:
                op = M
            key = min(max(k - ker.shape[1], 1) + 2, m - ker.shape[1] - 2)
            ncv = min(m, max(2 * key + 1, 24))
            mu, R = spla.eigsh(op, k=key, which="LA", v0=rng.normal(size=m), ncv=ncv, tol=1e-13)
            zero = np.abs(mu) <= zero_tol
            if not np.any(zero):
                order = np.argsort(-mu, kind="stable")
                return ker, mu[order], R[:, order]
            ker, _ = np.linalg.qr(np.concatenate([ker, R[:, zero]], axis=1))

    def w0_linear(self):
        """The nu = 0 block: dense when it fits in ``_MATRIX_FREE_BYTES`` (or is already built), else matrix free."""
        D0 = self.I0.size
        big = _checks.dense_bytes((D0, D0), np.float64 if self.real else np.complex128) > _MATRIX_FREE_BYTES
        if big and not hasattr(self, "_w0_matrix"):
            return self.w0_operator()
        return self.w0_matrix()

    def w0_matrix(self):
        if self._w0 is None and not hasattr(self, "_w0_matrix"):
            self._w0_matrix = self.block(self.I0, self.J0)
        return self._w0_matrix

    # -- physical frame (low temperature, several temperatures) -----------------------------------------
    def w0_phys(self):
        """The nu = 0 block acting on the density matrix itself (physical rates, lambda = 1), dense, cached."""
        if getattr(self, "_w0_phys", None) is None:
            D0 = self.I0.size
            dtype = np.float64 if (self.real and not self.lamb_shift) else np.complex128
            _checks.check_memory_total(
                "the physical zero-frequency block of the Davies generator (low temperature or several "
                "temperatures: its kernel by SVD and its propagation by expm)",
                [((D0, D0), dtype)] * 4,
                hint="Use a symmetry sector (sector=dict(sz=...)) or a smaller system.")
            self._w0_phys = self.block(self.I0, self.J0, physical=True)
        return self._w0_phys

    def kernel_phys(self, z: int, zero_tol: float):
        r"""Right and left kernel vectors (columns, physical frame), biorthonormal: ``Lk^H Rk = 1``.

        From one SVD :math:`M = U\Sigma V^H` of the physical block: the right kernel is spanned by the
        ``z`` right singular vectors of the smallest singular values, the left kernel (conserved
        quantities) by the matching left singular vectors. Both are computed to absolute accuracy
        :math:`\epsilon\|M\|/\sigma_{z+1}` whatever the temperature: no Boltzmann weight is ever divided by.
        """
        cached = getattr(self, "_kernel_phys", None)
        if cached is not None and cached[0] == z:
            return cached[1], cached[2]
        M = self.w0_phys()
        U, sv, Vh = sla.svd(M, lapack_driver="gesdd", check_finite=False)
        if z > 0 and sv[-z] > zero_tol:
            raise ArithmeticError(
                f"the physical zero-frequency block has only {int(np.sum(sv <= zero_tol))} singular values "
                f"below {zero_tol:.2e} but its symmetric form has {z} zero eigenvalues (the {z}-th smallest "
                f"singular value is {sv[-z]:.3e}); the kernel is numerically ambiguous"
            )
        Rk = Vh[sv.size - z:].conj().T
        Lk = U[:, sv.size - z:]
        G = Lk.conj().T @ Rk
        Lk = Lk @ np.linalg.inv(G).conj().T
        self._kernel_phys = (z, Rk, Lk)
        return Rk, Lk

    def propagate_w0(self, y0, taus):
        r"""Yield :math:`e^{\tau M} y_0` (physical frame) for each of ``taus`` (any order, >= 0).

        :math:`\tau = \lambda^2 t`: the nu = 0 block has no Hamiltonian part. A ladder of propagators
        :math:`E_k = e^{2^k\tau_0 M}` (:math:`\tau_0 = 1/\|M\|_1`; one ``scipy.linalg.expm``, then squarings, built
        once per generator and extended on demand) turns every time into at most :math:`\log_2(\tau/\tau_0)`
        matrix-vector products: :math:`\tau = n\tau_0 + r` with the binary digits of :math:`n` selecting the
        :math:`E_k` and the remainder :math:`r < \tau_0` from ``scipy.sparse.linalg.expm_multiply``. Every
        factor is a backward-stable exponential of the physical matrix (no Boltzmann weight divided by), so
        populations stay accurate to round-off at any temperature, and a scan that probes hundreds of times
        (tail fits, distance crossings) costs matrix-vector products, not one ``expm`` per time.
        """
        M = self.w0_phys()
        taus = np.asarray(taus, dtype=float)
        y0 = np.asarray(y0, dtype=np.result_type(M.dtype, np.asarray(y0).dtype))
        if taus.size == 0:
            return
        tau0, ladder = self._ladder(float(np.max(taus)))
        for tau in taus:
            n = int(tau // tau0)
            r = tau - n * tau0
            y = spla.expm_multiply(M * r, y0, traceA=np.trace(M) * r) if r > 0 else y0
            k = 0
            while n:
                if n & 1:
                    y = ladder[k] @ y
                n >>= 1
                k += 1
            yield y

    def _ladder(self, tau_max: float):
        """``(tau0, [E_0, E_1, ...])`` with ``E_k = expm(2^k tau0 M)``, long enough for ``tau_max``."""
        M = self.w0_phys()
        if getattr(self, "_ladder_cache", None) is None:
            norm1 = float(np.max(np.sum(np.abs(M), axis=0))) if M.size else 0.0
            tau0 = 1.0 / max(norm1, 1e-300)
            self._ladder_cache = (tau0, [sla.expm(M * tau0)])
        tau0, ladder = self._ladder_cache
        need = max(1, int(np.floor(tau_max / tau0)).bit_length())
        if need > len(ladder):
            D0 = M.shape[0]
            _checks.check_memory_total(
                f"the propagator ladder of the zero-frequency block ({need} matrices of {D0} x {D0}, for times up "
                f"to lambda^2 t = {tau_max:.3g})", [((D0, D0), M.dtype)] * (need + 4),
                hint="Use a symmetry sector or a smaller system, or shorter times.")
            while len(ladder) < need:
                ladder.append(ladder[-1] @ ladder[-1])
        return tau0, ladder

    # -- Bohr classes ------------------------------------------------------------------------------
    def classes(self):
        """Level pairs (a, b), eps_a > eps_b, grouped into Bohr-frequency classes.

        Returns ``(pa, pb, nu, cls, multi)``: arrays over level pairs sorted by nu, class id of each pair,
        and a boolean marking pairs whose class has more than one level pair (degenerate Bohr frequencies).
        """
        if self._classes is None:
            nl = self.eps.size
            pb, pa = np.triu_indices(nl, k=1)  # eps ascending: pb < pa, so eps[pa] > eps[pb]
            pa, pb = pa.astype(np.int32), pb.astype(np.int32)  # halves the memory of ~nl^2/2 pairs
            nu = self.eps[pa] - self.eps[pb]
            order = np.argsort(nu, kind="stable")
            pa, pb, nu = pa[order], pb[order], nu[order]
            cls, centers = group_levels(nu, self.spec.level_tol)
            counts = np.bincount(cls)
            multi = counts[cls] > 1
            self._classes = (pa, pb, nu, cls, multi)
        return self._classes

    def single_nondeg(self):
        """Level pairs of non-degenerate levels alone in their Bohr class: (a, b, nu) as state indices."""
        pa, pb, nu, cls, multi = self.classes()
        ok = ~multi & (self.g[pa] == 1) & (self.g[pb] == 1)
        st = self.level_start
        return st[pa[ok]], st[pb[ok]], nu[ok]

    def pair_shifts(self, a, b):
        """Lamb-shift correction (lambda = 1) to the Bohr frequency of coherences between non-degenerate
        levels: :math:`H^{LS}_{aa} - H^{LS}_{bb}` (zero without Lamb shift)."""
        if not self.lamb_shift:
            return 0.0
        d = np.real(self.HLS.diagonal())
        return d[a] - d[b]

    def pair_rates(self, a, b):
        """Closed-form decay rates (lambda = 1) of coherences between non-degenerate levels."""
        r = 0.5 * (self.Kdiag[a] + self.Kdiag[b])
        for k, A in enumerate(self.A):
            g0 = self.rate_l[k][0, 0]  # symmetric or not, the w = 0 rate is gamma(0)
            d = np.real(np.diagonal(A))
            r -= g0 * d[a] * d[b]
        return r

    def special_groups(self):
        """Coherence classes that are not one pair of non-degenerate levels, in batches of equal shape.

        Returns a list of ``(pa, pb, I, J, nu)``: either level pairs ``pa``, ``pb`` (arrays of length P,
        all with the same degeneracies; ``I = J = None``, see :meth:`group_elements`), or, for one class
        of several level pairs, ``pa = pb = None`` and its element indices ``I, J`` of shape ``(1, m)``;
        ``nu`` holds the Bohr frequencies (P,). Elements are the nu > 0 half of each class.
        """
        if self._groups is None:
            pa, pb, nu, cls, multi = self.classes()
            st, g = self.level_start, self.g
            groups = []
            single = ~multi & ((g[pa] > 1) | (g[pb] > 1))
            if np.any(single):
                ga_all, gb_all = g[pa[single]], g[pb[single]]
                sa, sb, snu = pa[single], pb[single], nu[single]
                for ga, gb in sorted(set(zip(ga_all.tolist(), gb_all.tolist()))):
                    sel = (ga_all == ga) & (gb_all == gb)
                    groups.append((sa[sel], sb[sel], None, None, snu[sel]))
            if np.any(multi):
                sel = np.flatnonzero(multi)
                bounds = np.flatnonzero(np.diff(cls[sel])) + 1
                for grp in np.split(sel, bounds):
                    I, J = [], []
                    for a, b in zip(pa[grp], pb[grp]):
                        ma = st[a] + np.arange(g[a])
                        mb = st[b] + np.arange(g[b])
                        I.append(np.repeat(ma, mb.size))
                        J.append(np.tile(mb, ma.size))
                    groups.append((None, None, np.concatenate(I)[None, :], np.concatenate(J)[None, :],
                                   np.array([np.mean(nu[grp])])))
            self._groups = groups
        return self._groups

    def group_elements(self, grp):
        """Element indices ``(I, J)``, shape ``(P, m)``, of a batch from :meth:`special_groups`."""
        pa, pb, I, J, nu = grp
        if pa is None:
            return I, J
        ga, gb = int(self.g[pa[0]]), int(self.g[pb[0]])
        st = self.level_start
        Ma = st[pa][:, None] + np.arange(ga)[None, :]
        Mb = st[pb][:, None] + np.arange(gb)[None, :]
        return np.repeat(Ma, gb, axis=1), np.tile(Mb, (1, ga))  # element (s, t) row-major

    def group_blocks(self, grp, rows=slice(None)):
        """Dissipative blocks (lambda = 1) of a batch from :meth:`special_groups`: shape (P, m, m)."""
        pa, pb, I, J, nu = grp
        if pa is None:
            return self.block(I[0], J[0])[None]
        pa, pb = pa[rows], pb[rows]
        ga, gb = int(self.g[pa[0]]), int(self.g[pb[0]])
        st = self.level_start
        Ma = st[pa][:, None] + np.arange(ga)[None, :]
        Mb = st[pb][:, None] + np.arange(gb)[None, :]
        P, m = pa.size, ga * gb
        cplx = not (self.real and not self.lamb_shift)
        out = np.zeros((P, ga, gb, ga, gb), dtype=complex if cplx else float)
        for a, A in enumerate(self.A):
            g0 = self.rate_l[a][0, 0]
            Aaa = A[Ma[:, :, None], Ma[:, None, :]]
            Abb = A[Mb[:, :, None], Mb[:, None, :]]
            out += g0 * np.einsum("pus,pvt->puvst", Aaa, Abb.conj())
        Kaa = self.Kblk[ga][self.lev_pos[pa]]
        Kbb = self.Kblk[gb][self.lev_pos[pb]]
        if not cplx:
            Kaa, Kbb = Kaa.real, Kbb.real
        Ia, Ib = np.eye(ga), np.eye(gb)
        out -= 0.5 * (np.einsum("pus,vt->puvst", Kaa, Ib) + np.einsum("us,ptv->puvst", Ia, Kbb))
        if self.lamb_shift:
            Haa = self.LSblk[ga][self.lev_pos[pa]]
            Hbb = self.LSblk[gb][self.lev_pos[pb]]
            out += -1j * (np.einsum("pus,vt->puvst", Haa, Ib) - np.einsum("us,ptv->puvst", Ia, Hbb))
        return out.reshape(P, m, m)

    def _batches(self, grp):
        pa, pb, I, J, nu = grp
        if pa is None:
            yield slice(None)
            return
        P, m = pa.size, int(self.g[pa[0]] * self.g[pb[0]])
        step = max(1, _CHUNK // (m * m * 4))
        for r0 in range(0, P, step):
            yield slice(r0, min(P, r0 + step))

    def small_rates(self, k, threshold=np.inf):
        r"""The k smallest decay rates (lambda = 1) of every special class, counted with multiplicity.

        Pairs of degenerate levels whose rates provably exceed ``threshold`` are skipped: for one pair
        the block is :math:`g_0 A_{aa}\otimes\bar A_{bb} - (K_a\otimes 1 + 1\otimes K_b^T)/2`, so
        every rate is at least :math:`(\min K_a + \min K_b)/2 - \sum_\alpha |g_0| \|A_{aa}\| \|A_{bb}\|`.
        """
        out = []
        for grp in self.special_groups():
            pa, pb, I, J, nu = grp
            if pa is not None and np.isfinite(threshold) and self.hermitian:
                keep = np.flatnonzero(self._rate_lower_bound(pa, pb) < threshold)
                if keep.size == 0:
                    continue
                grp = (pa[keep], pb[keep], None, None, nu[keep])
            for r in self._batches(grp):
                M = self.group_blocks(grp, r)
                mu = np.linalg.eigvalsh(M) if self.hermitian else np.linalg.eigvals(M)
                rates = -np.real(mu).ravel()
                if rates.size > k:
                    rates = np.partition(rates, k - 1)[:k]
                out.append(rates)
        return np.concatenate(out) if out else np.zeros(0)

    def _rate_lower_bound(self, pa, pb):
        if self._level_bounds is None:
            kmin = np.zeros(self.eps.size)
            anorm = np.zeros((len(self.A), self.eps.size))
            for g, (levs, M) in self.members.items():
                kmin[levs] = np.linalg.eigvalsh(self.Kblk[g])[:, 0]
                for a, A in enumerate(self.A):
                    Ab = A[M[:, :, None], M[:, None, :]]
                    anorm[a, levs] = np.sqrt(np.sum(np.abs(Ab) ** 2, axis=(1, 2)))  # Frobenius >= spectral
            self._level_bounds = (kmin, anorm)
        kmin, anorm = self._level_bounds
        lb = 0.5 * (kmin[pa] + kmin[pb])
        for a in range(len(self.A)):
            lb -= abs(self.rate_l[a][0, 0]) * anorm[a, pa] * anorm[a, pb]
        return lb

    def small_blocks(self):
        """Eigen-decompositions of the special classes: list of ``(I, J, nu, mu, Q, Qi, Mphys)`` batches.

        ``Mphys`` is None, except for classes of several level pairs outside the modal regime (low
        temperature): then ``mu, Q, Qi`` are None and ``Mphys`` (shape ``(1, m, m)``) is propagated by expm.
        """
        if self._small is None:
            out = []
            for grp in self.special_groups():
                I, J = self.group_elements(grp)
                nu = grp[4]
                _checks.check_memory("the coherence blocks of degenerate levels", (I.shape[0], I.shape[1], I.shape[1]),
                                     np.complex128, hint="Use a symmetry sector or a smaller system for evolve().")
                if grp[0] is None and not self.modal:
                    # a class of several level pairs mixes energies: propagate its physical block (expm)
                    out.append((I, J, nu, None, None, None, self.block(I[0], J[0], physical=True)[None]))
                    continue
                # one level pair (or the modal regime): the block is the same in both frames
                M = self.group_blocks(grp)
                if self.hermitian:
                    mu, Q = np.linalg.eigh(M)
                    Qi = None
                else:
                    mu, Q = np.linalg.eig(M)
                    Qi = np.linalg.inv(Q)
                out.append((I, J, nu, mu, Q, Qi, None))
            self._small = out
        return self._small


def _as_list(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def ops_in_eigenbasis(spec: Spectrum, ops) -> list:
    """One operator or a list (computational basis, dense, sparse or quimb) as dense eigenbasis matrices."""
    return [spec.to_eigenbasis(_checks.as_operator(f"ops[{k}]", o, spec.dim, hermitian=False))
            for k, o in enumerate(_as_list(ops))]


def state_in_eigenbasis(spec: Spectrum, rho0) -> np.ndarray:
    """A density matrix or normalized state vector (computational basis, dense or sparse) in the eigenbasis,
    block by block, after checking it is a state; for a one-sector spectrum, refuses a state with weight outside
    the sector."""
    rho = _checks.check_density_matrix("rho0", rho0, spec.dim)  # Hermitian, trace 1, positive, right shape
    if rho.ndim == 1:  # a normalized state vector
        rho = np.outer(rho, rho.conj())
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
        Ae = spectrum.to_eigenbasis(op)
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
        return 1e-9 * scale

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
        a, b, _ = c.single_nondeg()
        for s in range(0, a.size, _CHUNK):
            r = c.pair_rates(a[s:s + _CHUNK], b[s:s + _CHUNK])
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
        a, b, _ = c.single_nondeg()
        count = 0
        for s in range(0, a.size, _CHUNK):
            count += 2 * int(np.sum(c.pair_rates(a[s:s + _CHUNK], b[s:s + _CHUNK]) <= tol))
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
        X = np.zeros((c.n, c.n), dtype=v.dtype)
        X[c.I0, c.J0] = v
        X = self._hermitize(X)
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
        X0 = self._to_eig_state(rho0)
        if self.gap() == 0.0:
            _checks.warn(
                "the generator has undamped coherences (gap = 0, see persistent_oscillations()): rho(t) keeps "
                "oscillating and stationary_state returns its long-time average"
            )
        Rk, Lk = self._kernel()
        coeff = Lk.conj().T @ self._eig_to_w0(X0)
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

    def _evolve_eig(self, X0: np.ndarray, times: np.ndarray, rotating: bool = False, w0_only: bool = False):
        """Generator yielding X(t) in the eigenbasis for each time.

        ``rotating=True`` gives the interaction-picture state :math:`e^{iHt}\rho(t)e^{-iHt}` (Bohr phases
        left out; the Davies generator is covariant, so this is the dissipative evolution alone). It is
        real when H's eigenvectors, the couplings and ``X0`` are real and there is no Lamb shift.
        ``w0_only=True`` evolves only the nu = 0 block (enough for operators that commute with H).

        Two exact routes (see docs/theory.md): in the modal regime (``exp(beta * span / 2) <= 1e4``) the
        eigen-decompositions of the symmetric blocks; otherwise (low temperature, several temperatures)
        the nu = 0 block and the classes of several level pairs are propagated with their physical
        matrices (expm / expm_multiply), which never divides by a Boltzmann weight.
        """
        c = self._core
        lam2 = self._lam2
        Y0 = X0 / np.outer(c.scale, c.scale) if c.modal else X0
        y0 = Y0[c.I0, c.J0]
        if c.modal:
            mu0, Q0, Q0i = self._w0_eigs()
            c0 = (Q0.conj().T @ y0) if Q0i is None else (Q0i @ y0)
            w0_real = np.isrealobj(Q0)
            w0_iter = (Q0 @ (np.exp(lam2 * mu0 * t) * c0) for t in times)
        else:
            w0_real = True
            w0_iter = c.propagate_w0(y0, lam2 * np.asarray(times, dtype=float))
        if w0_only:
            a = b = nu = np.zeros(0, dtype=np.int64)
            small = []
        else:
            a, b, nu = c.single_nondeg()
            small = c.small_blocks()
        r = c.pair_rates(a, b) if a.size else np.zeros(0)
        if rotating:
            nu = np.zeros_like(nu)
        nu = nu + lam2 * c.pair_shifts(a, b) if a.size else nu
        yab, yba = Y0[a, b], Y0[b, a]
        small_c = []
        for I, J, nub, m, Q, Qi, Mp in small:
            if Mp is not None:
                small_c.append((Y0[I, J], Y0[J, I]))
                continue
            Qinv = np.swapaxes(Q.conj(), 1, 2) if Qi is None else Qi
            small_c.append((np.einsum("pij,pj->pi", Qinv, Y0[I, J]), np.einsum("pij,pj->pi", Qinv.conj(), Y0[J, I])))
        s = np.outer(c.scale, c.scale) if c.modal else None
        real = (rotating and c.real and not c.lamb_shift and c.hermitian and np.isrealobj(X0)
                and all(Q is None or np.isrealobj(Q) for (_, _, _, _, Q, _, _) in small) and w0_real)
        for t, yw in zip(times, w0_iter):
            Y = np.zeros((c.n, c.n), dtype=float if real else complex)
            Y[c.I0, c.J0] = np.real(yw) if real else yw
            if a.size:
                ph = np.exp((-1j * nu - lam2 * r) * t)
                if real:
                    ph = ph.real
                Y[a, b] = ph * yab
                Y[b, a] = ph.conj() * yba
            for (I, J, nub, m, Q, Qi, Mp), (cu, cl) in zip(small, small_c):
                if Mp is not None:
                    E = sla.expm(lam2 * t * Mp)
                    ph = 1.0 if rotating else np.exp(-1j * nub[:, None] * t)
                    up = ph * np.einsum("pij,pj->pi", E, cu)
                    lo = np.conj(ph) * np.einsum("pij,pj->pi", E.conj(), cl)
                    Y[I, J] = up.real if real else up
                    Y[J, I] = lo.real if real else lo
                    continue
                e = np.exp(((0.0 if rotating else -1j) * nub[:, None] + lam2 * m) * t)
                if real:
                    e = e.real
                Y[I, J] = np.einsum("pij,pj->pi", Q, e * cu)
                Y[J, I] = np.einsum("pij,pj->pi", Q.conj(), e.conj() * cl)
            yield Y * s if s is not None else Y

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

    def mode_expansion(self, ops, rho0, *, commuting: bool = False) -> "ModeExpansion | PropagatedExpectation":
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
        """
        spec = self.spectrum
        c = self._core
        Oe = ops_in_eigenbasis(spec, ops)
        X0 = self._to_eig_state(rho0)
        herm = bool(all(np.allclose(o, o.conj().T) for o in Oe) and np.allclose(X0, X0.conj().T))
        if commuting:
            self._check_commuting(Oe)
        if not c.modal:
            return PropagatedExpectation(self, tuple(Oe), X0, bool(commuting), herm)
        s = c.scale
        amps, freqs, rates = [], [], []
        # nu = 0 block: y = Q0 exp(lam^2 mu0 t) c0 in the symmetric frame, X = s_i s_j y
        mu0, Q0, Q0i = self._w0_eigs()
        ss0 = s[c.I0] * s[c.J0]
        y0 = X0[c.I0, c.J0] / ss0
        c0 = (Q0.conj().T @ y0) if Q0i is None else (Q0i @ y0)
        o0 = np.stack([O[c.J0, c.I0] for O in Oe]) * ss0[None, :]
        amps.append((o0 @ Q0) * c0[None, :])
        freqs.append(np.zeros(mu0.size))
        rates.append(mu0.astype(complex))
        if commuting:
            return ModeExpansion(amps[0], freqs[0], rates[0], herm)
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
        # classes with degenerate levels or degenerate Bohr frequencies: their small blocks
        for I, J, nub, m, Q, Qi, _ in c.small_blocks():
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
        return ModeExpansion(amps[:, keep], np.concatenate(freqs)[keep], np.concatenate(rates)[keep], herm)

    def _check_commuting(self, Oe):
        c = self._core
        between = c.li[:, None] != c.li[None, :]
        for k, O in enumerate(Oe):
            tot = float(np.sum(np.abs(O) ** 2))
            outside = float(np.sum(np.abs(O[between]) ** 2))
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
        sc = c.scale

        def place(I, J, M, nu):
            # M acts on Y (symmetric frame); X = s_I s_J Y. Column stacking: vec index of (i, j) = i + n j
            idx = I + n * J
            f = sc[I] * sc[J]
            Lm[np.ix_(idx, idx)] += lam2 * (f[:, None] * M / f[None, :]) - 1j * nu * np.eye(I.size)

        place(c.I0, c.J0, c.w0_matrix(), 0.0)
        a, b, nu = c.single_nondeg()
        if a.size:
            r = c.pair_rates(a, b)
            nu = nu + lam2 * c.pair_shifts(a, b)
            Lm[a + n * b, a + n * b] = -1j * nu - lam2 * r
            Lm[b + n * a, b + n * a] = 1j * nu - lam2 * r
        for grp in c.special_groups():
            Ms = c.group_blocks(grp)
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
        fits = _checks.dense_bytes((D0, D0), np.complex128) * 4 <= min(_checks.memory_limit(), _MATRIX_FREE_BYTES)
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
            # Pauli rates from the un-symmetrized gamma: W_nm = sum_a gamma(E_m - E_n) |A_nm|^2
            li = c.li
            W = np.zeros((c.n, c.n))
            for k, A in enumerate(c.A):
                W += c.gamma_l[k][np.ix_(li, li)] * np.abs(A) ** 2
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
        if isinstance(Mp, np.ndarray) and D0 <= _DENSE_CHECK:
            gap = self.with_strength(1.0).gap()
            tau = 1.0 / gap if np.isfinite(gap) and gap > 0 else 1.0 / scale
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
