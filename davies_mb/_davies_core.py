"""Eigen-data of the Davies generator at lambda = 1: the block structure behind :mod:`davies_mb.davies`.

``_Core`` holds the couplings in the eigenbasis, the level-resolved rate tables (symmetric and physical),
the Bohr-frequency classes and every block of the generator: the zero-frequency block (dense eigh,
graph components, Lanczos, matrix free), the closed-form pair rates, the small blocks of degenerate
classes, and the physical-frame tools used at low temperature (SVD kernel, propagator ladder). One
``_Core`` is shared by all :meth:`DaviesGenerator.with_strength` copies. The formulas are in the docstring
of :mod:`davies_mb.davies` and in docs/theory.md section 5; the thresholds below are module attributes so
that tests can lower them to exercise the large-system paths on small systems.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.csgraph import connected_components

from . import _checks
from . import _davies_sparse, _tridiagonal
from ._kernels import add_jump_block, jump_matvec
from .spectrum import Spectrum, group_levels

_CHUNK = 2**22  # elements per chunk of vectorized pair work (bounds temporary memory)
_DENSE_W0 = 1500  # above this size the nu = 0 block's slow modes come from Lanczos, not a full eigh
_DENSE_COMPONENT = 4000  # a transition-graph component up to this size gets an exact dense eigh
_MATRIX_FREE_BYTES = 3 * 2**30  # a nu = 0 block larger than this is never stored: Lanczos runs matrix free
# A nu = 0 block above _DENSE_W0 is built sparse when its jump entries fill at most this fraction of it
# (couplings sparse in the eigenbasis: Pauli strings on a Hamiltonian diagonal in the computational basis)
_SPARSE_FILL = 0.05
# Largest error amplification exp(beta * span / 2) accepted for eigenvector (mode) expansions of states:
# 1e4 keeps them at ~1e-12 absolute; beyond it (low temperature) kernels and dynamics use the physical frame.
_MAX_AMPLIFICATION = 1e4
# Physical rate tables derived from the symmetric ones are cached while one takes at most this many bytes
_GAMMA_CACHE_BYTES = 2**28
# Bohr-frequency classes of more level pairs than this are not kept (each pair costs ~26 bytes); see classes()
_PAIRS_CACHE = 2 * 10**7
# A real symmetric piece of the nu = 0 block above this size keeps its eigenvectors in factored form
# (Householder reflectors and the tridiagonal eigenvectors, davies_mb._tridiagonal): half the work of eigh
_FACTORED_MIN = 2000



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
        # One rate table per distinct bath (couplings sharing a bath share it), built in row chunks: the
        # generator's only level x level arrays. With one temperature only the symmetric table is stored; the
        # physical rates are derived from it on demand (:meth:`gamma`).
        uniq = {}
        for b in baths:
            uniq.setdefault(id(b), b)
        n_tables = len(uniq) * (2 if lamb_shift else 1) + 1  # + one physical table derived at a time
        _checks.check_memory_total(
            "the Davies generator's level-resolved rate tables",
            [((nl, nl), np.float64)] * (n_tables + 1) + [((n, n), np.float64)],
            hint="Use a symmetry sector (sector=dict(sz=...)) or a smaller system.")
        tables = {key: self._rate_table(b) for key, b in uniq.items()}
        self.rate_l = [tables[id(b)] for b in baths]
        self.pgibbs = spectrum.gibbs_weights(self.beta) if self.single_beta else None
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
            wl = self.eps[None, :] - self.eps[:, None]
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
        self._pieces = None

    def _rate_table(self, bath):
        r"""Level-resolved rates of one bath at lambda = 1, row chunk by row chunk (no level x level temporaries).

        With one temperature the symmetric rates :math:`\sqrt{\gamma(w)\gamma(-w)} = \gamma(|w|)e^{-\beta|w|/2}`
        (no overflow at any beta; 0 between different levels at beta = inf, gamma(0) inside a level); otherwise
        the physical rates ``R[c, b] = gamma(eps_b - eps_c)``, the rate of b -> c.
        """
        nl = self.eps.size
        out = np.empty((nl, nl))
        step = max(1, _CHUNK // max(nl, 1))
        for r0 in range(0, nl, step):
            wl = self.eps[None, :] - self.eps[r0:r0 + step, None]  # energy given to the bath when b -> c
            if self.single_beta:
                aw = np.abs(wl)
                with np.errstate(under="ignore", invalid="ignore"):  # inf * 0 on the diagonal is discarded
                    damp = np.exp(np.where(aw > 0, -0.5 * self.beta * aw, 0.0))
                out[r0:r0 + step] = bath.gamma(aw) * damp
            else:
                out[r0:r0 + step] = bath.gamma(wl)
        return out

    def gamma(self, a: int) -> np.ndarray:
        r"""Physical rates of coupling ``a``: ``G[c, b] = gamma(eps_b - eps_c)``, the rate of b -> c (lambda = 1).

        With one temperature, from the stored symmetric table: :math:`\gamma(w) = r(w)\,e^{\beta w/2}` (KMS;
        a new level x level array on each call, cached only while the generator is small). At beta = inf, or
        where the factor could overflow, from the bath directly.
        """
        if not self.single_beta:
            return self.rate_l[a]
        cache = self.__dict__.setdefault("_gamma_cache", {})
        R = self.rate_l[a]
        if id(R) in cache:  # couplings that share a bath share its table
            return cache[id(R)]
        nl = self.eps.size
        G = np.empty((nl, nl))
        step = max(1, _CHUNK // max(nl, 1))
        for r0 in range(0, nl, step):
            G[r0:r0 + step] = self.gamma_rows(a, r0, min(nl, r0 + step))
        if nl * nl * 8 <= _GAMMA_CACHE_BYTES:
            cache[id(R)] = G
        return G

    def gamma_rows(self, a: int, r0: int, r1: int) -> np.ndarray:
        """Rows ``r0:r1`` of :meth:`gamma` (a new array; no level x level temporaries)."""
        R = self.rate_l[a]
        cached = getattr(self, "_gamma_cache", {}).get(id(R))
        if not self.single_beta or cached is not None:
            return np.array((R if cached is None else cached)[r0:r1])
        wl = self.eps[None, :] - self.eps[r0:r1, None]  # energy given to the bath when b -> c
        if np.isfinite(self.beta) and 0.5 * self.beta * float(self.eps[-1] - self.eps[0]) < 600.0:
            return R[r0:r1] * np.exp(0.5 * self.beta * wl)
        return self.baths[a].gamma(wl)

    @property
    def gamma_l(self) -> list:
        """Physical rate tables of every coupling (see :meth:`gamma`)."""
        return [self.gamma(a) for a in range(len(self.A))]

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

    def _sandwich(self, A, W, levs, M):
        r"""Intra-level blocks :math:`\sum_k W[\ell(k), b]\,\overline{A_{ks}}A_{kt}` for the levels ``levs`` (members
        ``M``, shape ``(n_levels, g)``): ``(n_levels, g, g)``. With ``W = gamma`` this is K, with ``W = S`` the Lamb
        shift, with ``W = -w gamma`` the heat operator; computed in chunks of rows (no n x n temporaries)."""
        n, li = self.n, self.li
        gv = M.shape[1]
        out = np.zeros((levs.size, gv, gv), dtype=complex)
        step = max(1, _CHUNK // max(1, levs.size * gv))
        for c0 in range(0, n, step):
            ks = slice(c0, min(n, c0 + step))
            Ak = A[ks][:, M]  # (chunk, nl_g, g)
            out += np.einsum("kb,kbs,kbt->bst", W[li[ks]][:, levs], Ak.conj(), Ak)
        return out

    def _compute_K(self):
        """K = sum_w gamma(w) A(w)^dag A(w) (and H_LS) as sparse matrices with intra-level blocks only."""
        n = self.n
        rows, cols, vals, lsv = [], [], [], []
        self.Kblk, self.LSblk = {}, {}
        self.lev_pos = np.zeros(self.eps.size, dtype=np.int64)
        # gamma[c, b] is the rate of b -> c: K_st = sum_k gamma(eps_b - eps_l(k)) conj(A_ks) A_kt
        Ksum = {gv: 0.0 for gv in self.members}
        for a, A in enumerate(self.A):
            G = self.gamma(a)  # one physical table at a time
            for gv, (levs, M) in self.members.items():
                Ksum[gv] = Ksum[gv] + self._sandwich(A, G, levs, M)
            del G
        for gv, (levs, M) in self.members.items():
            self.lev_pos[levs] = np.arange(levs.size)
            Kb = Ksum[gv]
            Lb = (sum(self._sandwich(A, S, levs, M) for A, S in zip(self.A, self.ls_l))
                  if self.lamb_shift else None)
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
            wl = self.eps[None, :] - self.eps[:, None]  # wl[c, b] = eps_b - eps_c = energy given to the bath
            off = np.concatenate([[0], np.cumsum(self.g**2)[:-1]])
            out = []
            for a, A in enumerate(self.A):
                G = self.gamma(a)
                q = np.zeros(self.I0.size, dtype=complex)
                for gv, (levs, M) in self.members.items():
                    Qb = self._sandwich(A, -wl * G, levs, M)
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
            nl = self.eps.size
            # two passes over level chunks (the threshold needs the largest rate first), so that no level x
            # level array is ever formed: at L = 16 in a sector the full W, its block and a dense graph cost 4 GB
            wmax = max((float(np.max(Wc)) for _, _, Wc in self._transition_chunks()), default=0.0)
            tol = 1e-12 * max(wmax, 1e-300)
            rows, cols, full = [], [], True
            for l0, l1, Wc in self._transition_chunks():
                r, cc = np.nonzero(Wc > tol)
                full = full and r.size == Wc.size - (l1 - l0)  # every edge but the diagonal
                rows.append(r + l0)
                cols.append(cc)
            if full:  # a generic chain: every level reaches every other one directly
                self._components = (1, np.zeros(nl, dtype=np.int32))
            else:
                r, cc = np.concatenate(rows), np.concatenate(cols)
                G = sp.csr_array((np.ones(r.size, dtype=bool), (r, cc)), shape=(nl, nl))
                self._components = connected_components(G, directed=True, connection="strong")
        return self._components

    def _transition_chunks(self):
        r"""Yield ``(l0, l1, W[l0:l1])``: rows of the level transition rates
        :math:`W_{cb} = \sum_\alpha \gamma_\alpha(\epsilon_b-\epsilon_c)\|\Pi_c A_\alpha\Pi_b\|^2` (zero diagonal)."""
        st = self.level_start
        nl = self.eps.size
        step = max(1, _CHUNK // max(self.n, 1))  # rows per chunk: no n x n temporaries
        l0 = 0
        while l0 < nl:
            l1 = int(np.searchsorted(st, st[l0] + step, side="right"))
            l1 = max(l1, l0 + 1)
            r0, r1 = st[l0], (st[l1] if l1 < nl else self.n)
            Wc = np.zeros((l1 - l0, nl))
            for a, A in enumerate(self.A):
                rows = np.abs(A[r0:r1]) ** 2
                blk = np.add.reduceat(np.add.reduceat(rows, st, axis=1), st[l0:l1] - r0, axis=0)
                Wc += self.gamma_rows(a, l0, l1) * blk  # gamma[c, b]: rate of b -> c
            Wc[np.arange(l1 - l0), np.arange(l0, l1)] = 0.0
            yield l0, l1, Wc
            l0 = l1

    def w0_top(self, k, zero_tol):
        """The whole kernel and at least the k slowest nonzero modes of the nu = 0 block.

        Dense eigen-decomposition for small blocks (cached; the kernel and the k slowest modes are returned,
        not a reordered copy of all the eigenvectors); for large Hermitian blocks, :meth:`_lanczos_top`.
        Returns ``(mu, R, Lk)``: eigenvalues sorted by decreasing real part, right vectors and left vectors
        (columns, biorthonormal).
        """
        D0 = self.I0.size
        if self._w0 is not None or D0 <= _DENSE_W0 or not self.hermitian:
            mu, Q, Qi = self.w0()
            order = np.argsort(-np.real(mu), kind="stable")
            z = int(np.sum(np.abs(mu) <= zero_tol))
            keep = order[:z + max(int(k), 1)]
            R = Q[:, keep]
            Lk = R if Qi is None else Qi[keep, :].conj().T
            return mu[keep], R, Lk
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
            S = self.w0_sparse()
            M = S if S is not None else self.w0_linear()
            if S is not None:
                # stored sparse: its own sparsity graph gives the invariant pieces (finer than the levels')
                ncomp, comp_of = _davies_sparse.components(S)
            elif isinstance(M, np.ndarray):
                # the block is stored: split it by its own sparsity graph, which also isolates elements
                # that nothing couples to (Lanczos cannot see such exactly decoupled zero modes reliably)
                if np.count_nonzero(M) == M.size:  # a generic chain: every element coupled, one piece
                    ncomp, comp_of = 1, np.zeros(D0, dtype=np.int32)
                else:
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
                    mu, Q, _ = self.piece_eig(sel, lambda M=M, sel=sel: self._sub(M, sel, dense=True))
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
        M = M_full if sel.size == self.I0.size else self._sub(M_full, sel, dense=False)
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

    def _sub(self, M, sel, dense: bool):
        """The nu = 0 block restricted to the elements ``sel``, from the stored block ``M`` (dense or sparse)
        or, when it is not stored (matrix free), built for them; dense when ``dense`` (else kept sparse)."""
        if sel.size == self.I0.size and not callable(getattr(M, "matvec", None)):
            return M.toarray() if (dense and sp.issparse(M)) else M  # the whole block (no copy of a dense one)
        if sp.issparse(M):
            sub = M[sel][:, sel]
            return sub.toarray() if dense else sub.tocsr()
        if isinstance(M, np.ndarray):
            return M[np.ix_(sel, sel)]
        return self.block(self.I0[sel], self.J0[sel])

    def w0_sparse(self):
        """The nu = 0 block as a sparse matrix (symmetric frame, lambda = 1) when it is large (above
        ``_DENSE_W0``) and sparse (jump entries at most ``_SPARSE_FILL`` of it); else None. Cached."""
        if not hasattr(self, "_w0_sparse"):
            D0 = self.I0.size
            S = None
            if D0 > _DENSE_W0 and _davies_sparse.jump_count(self) <= _SPARSE_FILL * float(D0) ** 2:
                S = _davies_sparse.w0_sparse(self)
            self._w0_sparse = S
        return self._w0_sparse

    def w0_pieces(self):
        """Invariant pieces of the nu = 0 block: ``(n_pieces, piece_of_element, M)`` with ``M`` the sparse
        block (its connected components) or None (then the strongly connected components of the level
        transition graph, :meth:`components`)."""
        if self._pieces is None:
            S = self.w0_sparse()
            if S is not None:
                ncomp, comp_of = _davies_sparse.components(S)
            else:
                ncomp, labels = self.components()
                comp_of = labels[self.li[self.I0]]
            self._pieces = (ncomp, comp_of, S)
        return self._pieces

    def piece_eig(self, sel, build):
        """Eigen-decomposition ``(mu, Q, Qinv)`` of the nu = 0 block on the invariant piece ``sel`` (symmetric
        frame), ``build()`` giving its dense matrix. Cached per piece, so that the slow modes (gap, kernel) and
        the mode expansions share one ``eigh``; a piece that is the whole block becomes :meth:`w0`."""
        if self._w0 is not None and sel.size == self.I0.size:
            return self._w0
        cache = self.__dict__.setdefault("_piece_eigs", {})
        key = np.asarray(sel, dtype=np.int64).tobytes()
        if key not in cache:
            m = int(sel.size)
            factored = self.hermitian and self.real and m > _FACTORED_MIN
            # the block (overwritten in place) and the eigenvectors, plus evd's 2 m^2 workspace when not factored
            _checks.check_memory_total(
                f"the eigen-decomposition of a {m}-element piece of the zero-frequency block",
                [((m, m), np.float64 if self.real else np.complex128)] * (2 if factored else (4 if self.hermitian
                                                                                              else 5)),
                hint="Use a symmetry sector (sector=dict(sz=...)) or a smaller system.")
            Mc = build()
            whole = sel.size == self.I0.size
            if whole and Mc is getattr(self, "_w0_matrix", None):
                del self._w0_matrix  # the eigenvectors overwrite the stored block: one n x n array fewer
            if self.hermitian:
                # a matrix built for this call (or the stored whole block, released above) is overwritten by its
                # eigenvectors; F-order (the transpose of a symmetric real matrix) avoids LAPACK's copy
                own = whole or not np.shares_memory(Mc, getattr(self, "_w0_matrix", np.zeros(0)))
                if own and self.real and Mc.shape[0] > _FACTORED_MIN and Mc.dtype == np.float64:
                    # a large generic block: eigenvectors in factored form (half the work of eigh, see
                    # davies_mb._tridiagonal); only products with vectors and a few columns are ever needed
                    mu, Q = _tridiagonal.eigh_factored(Mc)
                    out = (mu, Q, None)
                    if whole:
                        self._w0 = out
                        return out
                    cache[key] = out
                    return out
                if own and self.real and Mc.flags.c_contiguous:
                    Mc = Mc.T
                mu, Q = sla.eigh(Mc, driver="evd", check_finite=False, overwrite_a=own)
                out = (mu, Q, None)
            else:
                mu, Q = sla.eig(Mc, check_finite=False)
                out = (mu, Q, np.linalg.inv(Q))
            if sel.size == self.I0.size:
                self._w0 = out  # the whole block: the same decomposition as w0()
                return out
            cache[key] = out
        return cache[key]

    def w0_piece(self, sel, dense: bool):
        """The nu = 0 block (symmetric frame, lambda = 1) on the elements ``sel`` of one invariant piece."""
        S = self.w0_sparse()
        if S is not None:
            return self._sub(S, sel, dense)
        if hasattr(self, "_w0_matrix"):
            return self._sub(self._w0_matrix, sel, dense=True)
        return self.block(self.I0[sel], self.J0[sel])

    def w0_linear(self):
        """The nu = 0 block: dense when it fits in ``_MATRIX_FREE_BYTES`` (or is already built), else matrix free."""
        D0 = self.I0.size
        big = _checks.dense_bytes((D0, D0), np.float64 if self.real else np.complex128) > _MATRIX_FREE_BYTES
        if big and not hasattr(self, "_w0_matrix"):
            return self.w0_operator()
        return self.w0_matrix()

    def w0_matrix(self):
        """The dense nu = 0 block (symmetric frame, lambda = 1); stored until its eigen-decomposition overwrites
        it (:meth:`piece_eig`), rebuilt (not stored) when asked for afterwards."""
        if not hasattr(self, "_w0_matrix"):
            M = self.block(self.I0, self.J0)
            if self._w0 is not None:
                return M
            self._w0_matrix = M
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
            out = (pa, pb, nu, cls, multi)
            if pa.size > _PAIRS_CACHE:
                # too many pairs to keep (~2 GB at 12870 levels): the row-wise routes below need only the
                # pairs of degenerate Bohr classes and the special groups, kept; a caller that needs the full
                # list recomputes it
                self._multi_pairs = (pa[multi].astype(np.int64), pb[multi].astype(np.int64))
                if self._groups is None:
                    self._groups = self._groups_from(*out)
                return out
            self._classes = out
        return self._classes

    # -- coherences of a non-degenerate spectrum, row block by row block ---------------------------
    @property
    def all_single(self) -> bool:
        """Every level non-degenerate: the nu = 0 block holds the populations only, and every coherence is
        a pair of levels, alone in its Bohr class unless :meth:`multi_pairs` lists it."""
        return self.eps.size == self.n and self.n > 1

    def multi_pairs(self):
        """Level pairs ``(a, b)``, ``eps_a > eps_b``, whose Bohr frequency is shared with another pair (int64)."""
        if getattr(self, "_multi_pairs", None) is None:
            pa, pb, nu, cls, multi = self.classes()
            self._multi_pairs = (pa[multi].astype(np.int64), pb[multi].astype(np.int64))
        return self._multi_pairs

    def row_blocks(self):
        """Row slices ``(r0, r1)`` of n x n work in blocks of about ``_CHUNK`` elements."""
        step = max(1, _CHUNK // max(self.n, 1))
        return [(r0, min(self.n, r0 + step)) for r0 in range(0, self.n, step)]

    def norm2_split(self, O):
        """``(total, between)``: squared Frobenius norm of an eigenbasis matrix and of its part between different
        levels (the nu = 0 elements zeroed), summed exactly, row block by row block (no n x n temporaries)."""
        tot = between = 0.0
        for r0, r1 in self.row_blocks():
            blk = np.array(O[r0:r1], copy=True)
            tot += float(np.sum(np.abs(blk) ** 2))
            lo, hi = np.searchsorted(self.I0, [r0, r1])  # I0 is sorted (level-major)
            blk[self.I0[lo:hi] - r0, self.J0[lo:hi]] = 0.0
            between += float(np.sum(np.abs(blk) ** 2))
        return tot, between

    def coherence_rates(self, rows, cols):
        r"""Closed-form coherence decay rates (lambda = 1) of the states ``rows`` x ``cols`` (index arrays or
        slices), for a non-degenerate spectrum: :math:`r_{ab} = (K_{aa} + K_{bb})/2 - \sum_\alpha \gamma_\alpha(0)
        A^\alpha_{aa} A^\alpha_{bb}` (:meth:`pair_rates`; exact for pairs alone in their Bohr class)."""
        K = self.Kdiag
        r = 0.5 * (K[rows][:, None] + K[cols][None, :])
        for k, A in enumerate(self.A):
            d = np.real(np.diagonal(A))
            r -= self.rate_l[k][0, 0] * d[rows][:, None] * d[cols][None, :]
        return r

    def coherence_rates_rows(self, r0, r1):
        """:meth:`coherence_rates` of the rows ``r0:r1`` against every column."""
        return self.coherence_rates(slice(r0, r1), slice(None))

    def out_rates(self):
        r""":math:`\Gamma_a = K_{aa} - \sum_\alpha \gamma_\alpha(0) (A^\alpha_{aa})^2` (lambda = 1, non-degenerate
        spectra): the total rate out of state a, and the decay rate of the "diagonal" of the coherence kernel
        :math:`e^{-r_{ab}\tau}`, which is positive semidefinite (see ergodicity._coherence_split)."""
        out = self.Kdiag.copy()
        for k, A in enumerate(self.A):
            out -= self.rate_l[k][0, 0] * np.real(np.diagonal(A)) ** 2
        return out

    def single_pair_rates_rows(self):
        """Yield the closed-form rates of the pairs ``a > b`` alone in their Bohr class, one row block at a time
        (a 1-d array per block; the pairs of degenerate Bohr classes are left out)."""
        ma, mb = self.multi_pairs()
        for r0, r1 in self.row_blocks():
            r = self.coherence_rates_rows(r0, r1)
            keep = np.arange(r0, r1)[:, None] > np.arange(self.n)[None, :]
            sel = (ma >= r0) & (ma < r1)
            keep[ma[sel] - r0, mb[sel]] = False
            yield r[keep]

    def single_nondeg(self):
        """Level pairs of non-degenerate levels alone in their Bohr class: (a, b, nu) as state indices."""
        pa, pb, nu, cls, multi = self.classes()
        ok = ~multi & (self.g[pa] == 1) & (self.g[pb] == 1)
        st = self.level_start
        return st[pa[ok]], st[pb[ok]], nu[ok]

    def pair_data(self):
        """``(a, b, nu, r)``: :meth:`single_nondeg` and their :meth:`pair_rates`; cached while the four arrays
        take at most 1 GiB (every evolution step needs them: at L = 14 in a sector recomputing cost ~0.7 s)."""
        cached = getattr(self, "_pair_data", None)
        if cached is not None:
            return cached
        a, b, nu = self.single_nondeg()
        out = (a, b, nu, self.pair_rates(a, b) if a.size else np.zeros(0))
        if a.size * 32 <= 2**30:
            self._pair_data = out
        return out

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
            self._groups = self._groups_from(*self.classes())
        return self._groups

    def _groups_from(self, pa, pb, nu, cls, multi):
        """:meth:`special_groups` from the arrays of :meth:`classes`."""
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
        return groups

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

    def small_blocks(self, select=None):
        """Eigen-decompositions of the special classes: list of ``(I, J, nu, mu, Q, Qi, Mphys)`` batches.

        ``select(I, J)`` (optional; ``I, J`` of shape ``(P, m)``) returns a boolean per row: only the selected
        level pairs (classes) are decomposed, e.g. those that both an initial state and an observable touch.

        ``Mphys`` is None, except for classes of several level pairs outside the modal regime (low
        temperature): then ``mu, Q, Qi`` are None and ``Mphys`` (shape ``(1, m, m)``) is propagated by expm.
        """
        if self._small is not None:
            return self._small  # everything is decomposed already
        out = []
        for grp in self.special_groups():
            if select is not None:
                I, J = self.group_elements(grp)
                rows = np.flatnonzero(select(I, J))
                if rows.size == 0:
                    continue
                if grp[0] is not None and rows.size < I.shape[0]:
                    grp = (grp[0][rows], grp[1][rows], None, None, grp[4][rows])
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
        if select is not None:
            return out  # a selection is not cached: the full list is what evolve() needs
        self._small = out
        return self._small
