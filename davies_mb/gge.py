r"""Generalized Gibbs ensembles: maximum entropy under conserved charges (PHYSICS.md section 4).

.. math::

    \rho_{\rm GGE} = \frac{e^{-\sum_k \mu_k Q_k}}{Z}, \qquad
    \mathrm{tr}(\rho_{\rm GGE} Q_k) = \langle\psi_0|Q_k|\psi_0\rangle .

:func:`gge` solves for the Lagrange multipliers :math:`\mu_k` through the convex dual
:math:`F(\mu) = \ln Z(\mu) + \sum_k \mu_k \langle Q_k\rangle_0` (its gradient is the constraint residual,
its Hessian the covariance of the charges), for any set of mutually commuting Hermitian charges on a
space that fits in memory. With ``charges=[H]`` it is the Gibbs state of the initial energy
(:math:`\mu_1 = \beta`).

Free fermions have the closed form :math:`\mu_k = \ln((1 - n_k)/n_k)` with the mode occupations
:math:`n_k`: :func:`free_fermion_gge` in the spin basis, and in correlation-matrix form (any L) with
:func:`davies_mb.integrable.mode_occupations` and :func:`davies_mb.integrable.gaussian_correlations`;
:func:`free_fermion_gibbs` gives the (grand-canonical) Gibbs occupations of the same energy, and
:func:`dephased_correlations` the exact infinite-time average of an XX correlation matrix (which keeps the
coherences between degenerate modes, e.g. :math:`\pm k` on a ring, that a GGE of the :math:`n_k` drops).
The diagonal ensemble itself is :func:`davies_mb.diagonal_ensemble` (dynamics module).
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np
import scipy.optimize as opt
import scipy.sparse as sp

from . import _checks

__all__ = [
    "GGEResult",
    "GGEConvergenceError",
    "gge",
    "free_fermion_gge",
    "free_fermion_gibbs",
    "dephased_correlations",
]


@dataclasses.dataclass(frozen=True, eq=False)
class GGEResult:
    r"""A generalized Gibbs ensemble and how well it was fitted.

    Attributes
    ----------
    rho : ndarray, shape (d, d)
        :math:`e^{-\sum_k\mu_kQ_k}/Z` in the computational basis of the charges.
    multipliers : ndarray
        :math:`\mu_k`, one per charge. :func:`gge` never returns infinite ones (a diverging multiplier
        raises); the closed form :func:`free_fermion_gge` gives :math:`\pm\infty` for :math:`n_k \in \{0, 1\}`.
    targets : ndarray
        :math:`\langle Q_k\rangle_0` of the initial state.
    values : ndarray
        :math:`\mathrm{tr}(\rho Q_k)` of the returned ``rho``.
    residuals : ndarray
        ``values - targets``.
    converged : bool
    iterations : int
        Iterations of the dual minimization.
    message : str
        Diagnostics from the optimizer.
    entropy : float
        Von Neumann entropy :math:`-\mathrm{tr}\,\rho\ln\rho`.
    weights : ndarray
        Populations of ``rho`` in the joint eigenbasis ``basis`` (columns).
    basis : ndarray
        Joint eigenvectors of the charges, shape ``(d, d)``.
    """

    rho: np.ndarray
    multipliers: np.ndarray
    targets: np.ndarray
    values: np.ndarray
    residuals: np.ndarray
    converged: bool
    iterations: int
    message: str
    entropy: float
    weights: np.ndarray
    basis: np.ndarray

    def expect(self, op) -> float:
        """:math:`\\mathrm{tr}(\\rho O)` for an operator in the same basis (dense, sparse or quimb)."""
        op = _checks.as_operator("op", op, self.rho.shape[0], hermitian=False)
        return float(np.real(np.sum(op.T.multiply(self.rho)) if sp.issparse(op) else np.sum(op.T * self.rho)))


class GGEConvergenceError(RuntimeError):
    """The multipliers did not converge; ``.result`` holds the partial :class:`GGEResult`."""

    def __init__(self, message: str, result: GGEResult):
        super().__init__(message)
        self.result = result


# -- input checks ----------------------------------------------------------------------------------
def _fro(op) -> float:
    return float(sp.linalg.norm(op) if sp.issparse(op) else np.linalg.norm(op))


def _check_charges(charges):
    if sp.issparse(charges) or isinstance(charges, np.ndarray) and charges.ndim == 2:
        raise TypeError("charges must be a list of operators, e.g. [H, Sz], got a single matrix; wrap it: [Q]")
    try:
        charges = list(charges)
    except TypeError:
        raise TypeError(f"charges must be a list of Hermitian operators, got {type(charges).__name__}") from None
    if not charges:
        raise ValueError("charges is empty; pass at least one conserved charge, e.g. [H]")
    out = []
    d = None
    for k, Q in enumerate(charges):
        Q = _checks.as_operator(f"charges[{k}]", Q, d)
        d = Q.shape[0]
        out.append(Q)
    return out, d


def _check_state(state, d):
    s = _checks.check_density_matrix("initial_state", state, d)
    if sp.issparse(s):
        s = s.toarray()
    return s, s.ndim == 1


def _expect(op, s, is_vec):
    if is_vec:
        return float(np.real(np.vdot(s, op @ s)))
    return float(np.real(np.sum(op.T.multiply(s)) if sp.issparse(op) else np.sum(op.T * s)))


def _commutator_norm(A, B) -> float:
    C = A @ B - B @ A
    return _fro(C)


# -- joint diagonalization -------------------------------------------------------------------------
def _joint_eigenbasis(charges, tol):
    """Joint eigenvectors of commuting Hermitian charges, by refining eigenspaces charge by charge."""
    d = charges[0].shape[0]
    cplx = any(np.iscomplexobj(Q.data if sp.issparse(Q) else Q) and np.any((Q.data if sp.issparse(Q) else Q).imag)
               for Q in charges)
    dt = np.complex128 if cplx else np.float64
    # held at once: every charge densified, the basis V, and one refinement step's B, M, U and B @ U
    _checks.check_memory_total(f"the joint eigenbasis of {len(charges)} charges of dimension {d}",
                               [((d, d), dt)] * (len(charges) + 5),
                               hint="Use the charges inside one symmetry sector, or free_fermion_gge for "
                                    "free-fermion mode occupations.")
    # a complex charge whose imaginary part vanishes is taken real: no ComplexWarning when V is real
    dense = []
    for Q in charges:
        Q = Q.toarray() if sp.issparse(Q) else np.asarray(Q)
        dense.append(Q if cplx or not np.iscomplexobj(Q) else np.ascontiguousarray(Q.real))
    V = np.eye(d, dtype=dt)
    groups = [np.arange(d)]
    for Q in dense:
        scale = max(1.0, float(np.max(np.abs(Q))))
        new_groups = []
        for g in groups:
            B = V[:, g]
            M = B.conj().T @ Q @ B
            w, U = np.linalg.eigh(M)
            V[:, g] = B @ U
            breaks = np.flatnonzero(np.diff(w) > tol * scale) + 1
            new_groups.extend(np.split(g, breaks))
        groups = new_groups
    q = np.array([np.real(np.einsum("ij,ij->j", V.conj(), Q @ V)) for Q in dense])
    return V, q


# -- the maximum-entropy fit -----------------------------------------------------------------------
def gge(charges, initial_state, *, hamiltonian=None, tol: float = 1e-10, maxiter: int = 200,
        commute_tol: float = 1e-8) -> GGEResult:
    r"""Generalized Gibbs ensemble of commuting charges for an initial state (maximum entropy).

    Finds :math:`\mu` with :math:`\mathrm{tr}(\rho_\mu Q_k) = \langle Q_k\rangle_0`,
    :math:`\rho_\mu = e^{-\sum_k\mu_kQ_k}/Z`, by minimizing the convex dual
    :math:`F(\mu) = \ln\mathrm{tr}\,e^{-\sum_k\mu_k(Q_k - \langle Q_k\rangle_0)}` (scipy ``trust-exact``,
    exact gradient and Hessian, each charge scaled by its spread) in the joint eigenbasis of the charges.

    Parameters
    ----------
    charges : list of operators
        Mutually commuting Hermitian operators (dense, scipy sparse or quimb), e.g. ``[H, Sz, Q3]``.
    initial_state : ndarray
        State vector ``(d,)`` (normalized) or density matrix ``(d, d)`` (trace 1) in the same basis.
    hamiltonian : operator, optional
        If given, every charge is checked to commute with it:
        :math:`\|[Q_k, H]\|_F \le` ``commute_tol`` :math:`\|Q_k\|_F\|H\|_F`.
    tol : float
        Convergence: every residual :math:`|\mathrm{tr}(\rho Q_k) - \langle Q_k\rangle_0|` below ``tol``
        times the spread (standard deviation over the joint eigenbasis) of :math:`Q_k`.
    maxiter : int
        Iterations of the optimizer.
    commute_tol : float
        Relative tolerance of the commutation checks (charges with H and with each other).

    Returns
    -------
    GGEResult

    Raises
    ------
    ValueError
        A charge that does not commute with ``hamiltonian`` or with another charge (the message gives the
        norm of the commutator); a state of the wrong dimension, not normalized, not positive.
    GGEConvergenceError
        The multipliers did not converge, e.g. a target at the edge of the attainable range (a multiplier
        diverges); ``err.result`` is the partial solution.
    """
    charges, d = _check_charges(charges)
    s, is_vec = _check_state(initial_state, d)
    tol = _checks.check_positive("tol", tol)
    commute_tol = _checks.check_positive("commute_tol", commute_tol)
    if isinstance(maxiter, bool) or not isinstance(maxiter, numbers.Integral) or maxiter < 1:
        raise ValueError(f"maxiter must be a positive integer, got {maxiter!r}")
    if hamiltonian is not None:
        H = _checks.as_operator("hamiltonian", hamiltonian, d)
        nH = _fro(H)
        for k, Q in enumerate(charges):
            c = _commutator_norm(Q, H)
            if c > commute_tol * max(_fro(Q) * nH, 1e-300):
                raise ValueError(
                    f"charges[{k}] is not conserved: ||[Q_{k}, H]||_F = {c:.3g} (relative "
                    f"{c / max(_fro(Q) * nH, 1e-300):.3g} > commute_tol={commute_tol:g}); a GGE is built from "
                    "charges that commute with the Hamiltonian")
    for a in range(len(charges)):
        for b in range(a + 1, len(charges)):
            c = _commutator_norm(charges[a], charges[b])
            scale = max(_fro(charges[a]) * _fro(charges[b]), 1e-300)
            if c > commute_tol * scale:
                raise ValueError(
                    f"charges[{a}] and charges[{b}] do not commute (||[Q_a, Q_b]||_F = {c:.3g}, relative "
                    f"{c / scale:.3g}); the maximum-entropy GGE here needs mutually commuting charges")

    targets = np.array([_expect(Q, s, is_vec) for Q in charges])
    V, q = _joint_eigenbasis(charges, 1e-9)
    spread = q.std(axis=1)
    if np.any(spread == 0):
        k = int(np.flatnonzero(spread == 0)[0])
        raise ValueError(f"charges[{k}] is a multiple of the identity; drop it (it fixes no multiplier)")
    x = (q - targets[:, None]) / spread[:, None]  # standardized constraints, shape (m, d)
    if np.linalg.matrix_rank(q - q.mean(axis=1, keepdims=True), tol=1e-9 * np.sqrt(q.shape[1])) < len(charges):
        raise ValueError("the charges are linearly dependent (together with the identity): their multipliers are "
                         "not determined; drop the redundant ones (e.g. H and 2H, or S^z and its sector projectors)")

    def weights(lam):
        a = -lam @ x
        a -= a.max()
        w = np.exp(a)
        return w / w.sum()

    def fun(lam):
        a = -lam @ x
        amax = a.max()
        return float(amax + np.log(np.exp(a - amax).sum()))

    def jac(lam):
        return -(x @ weights(lam))

    def hess(lam):
        w = weights(lam)
        mean = x @ w
        return (x * w) @ x.T - np.outer(mean, mean)

    lo, hi = q.min(axis=1), q.max(axis=1)
    edge = [k for k in range(len(charges))
            if targets[k] <= lo[k] + tol * spread[k] or targets[k] >= hi[k] - tol * spread[k]]
    lam0 = np.zeros(len(charges))
    res = opt.minimize(fun, lam0, jac=jac, hess=hess, method="trust-exact",
                       options=dict(maxiter=int(maxiter), gtol=tol * 1e-2))
    lam, nit, message = res.x, int(res.nit), str(res.message)
    if np.all(np.isfinite(lam)) and np.max(np.abs(jac(lam))) > 1e-2 * tol:
        # near the optimum ln Z is flat to machine precision and trust regions stall: polish the
        # stationarity condition grad F = 0 (the constraint residuals) with a Newton-type root finder
        pol = opt.root(jac, lam, jac=hess, method="hybr", options=dict(xtol=1e-15))
        if np.all(np.isfinite(pol.x)) and np.max(np.abs(jac(pol.x))) < np.max(np.abs(jac(lam))):
            lam, nit, message = pol.x, nit + int(pol.nfev), message + f"; polished: {pol.message}"
    w = weights(lam)
    values = q @ w
    resid = values - targets
    # a target at the edge of its range is reached only as a multiplier -> +-infinity: never converged
    converged = bool(np.all(np.abs(resid) <= tol * spread) and np.all(np.isfinite(lam)) and not edge)
    rho = (V * w) @ V.conj().T
    if not np.iscomplexobj(V):
        rho = rho.real
    nz = w[w > 0]
    result = GGEResult(rho=rho, multipliers=lam / spread, targets=targets, values=values, residuals=resid,
                       converged=converged, iterations=nit, message=message,
                       entropy=float(-(nz * np.log(nz)).sum()), weights=w, basis=V)
    if not converged:
        why = ""
        if edge:
            why = (" The target of " + ", ".join(f"charges[{k}] ({targets[k]:.6g}, range [{lo[k]:.6g}, "
                                                f"{hi[k]:.6g}])" for k in edge)
                   + " lies at the edge of its attainable range, so its multiplier diverges: drop that charge"
                   " or treat it as a constraint on the space (a projector).")
        raise GGEConvergenceError(
            f"GGE multipliers did not converge after {nit} iterations (max relative residual "
            f"{np.max(np.abs(resid) / spread):.3g} > tol={tol:g}; optimizer: {message}).{why} "
            "The partial solution is in err.result.", result)
    return result


# -- free fermions ---------------------------------------------------------------------------------
def free_fermion_gge(occupation_operators, occupations) -> GGEResult:
    r"""Closed-form free-fermion GGE in the spin basis from mode occupations (no fit).

    .. math::

        \rho = \prod_k \left[n_k \hat n_k + (1 - n_k)(1 - \hat n_k)\right]
             = \frac{e^{-\sum_k\mu_k\hat n_k}}{Z}, \qquad \mu_k = \ln\frac{1 - n_k}{n_k},

    for commuting projectors :math:`\hat n_k` whose occupation patterns each occur once (open chains,
    :func:`davies_mb.integrable.mode_occupation_operators`). The result is checked:
    :math:`\mathrm{tr}\rho = 1` and :math:`\mathrm{tr}(\rho\hat n_k) = n_k`; otherwise (e.g. the parity
    projected modes of a ring) a ``ValueError`` points to :func:`gge`.

    Parameters
    ----------
    occupation_operators : list of sparse operators
        :math:`\hat n_k`.
    occupations : array_like
        :math:`n_k \in [0, 1]`, e.g. :math:`\langle\psi_0|\hat n_k|\psi_0\rangle`.
    """
    ops, d = _check_charges(occupation_operators)
    n = np.asarray(occupations, dtype=float)
    if n.shape != (len(ops),):
        raise ValueError(f"occupations must have one entry per operator ({len(ops)}), got shape {n.shape}")
    if not np.all(np.isfinite(n)):
        raise ValueError("occupations contain NaN or infinite values")
    if np.any(n < -1e-12) or np.any(n > 1 + 1e-12):
        raise ValueError(f"occupations must lie in [0, 1], got min {n.min():.3g}, max {n.max():.3g}")
    n = np.clip(n, 0.0, 1.0)
    ops = [sp.csr_array(Nk) for Nk in ops]  # dense projectors are accepted too
    one = sp.identity(d, format="csr")
    rho = sp.csr_array(one)
    for nk, Nk in zip(n, ops):
        rho = sp.csr_array(rho @ (nk * Nk + (1 - nk) * (one - Nk)))
    rho = rho.toarray()
    if np.iscomplexobj(rho) and not np.any(np.abs(rho.imag) > 1e-14):
        rho = rho.real
    tr = float(np.real(np.trace(rho)))
    values = np.array([float(np.real(np.sum(Nk.T.multiply(rho)))) for Nk in ops])
    if abs(tr - 1) > 1e-10 or np.max(np.abs(values - n)) > 1e-10:
        raise ValueError(
            f"the product formula does not give a normalized state with these occupations (trace {tr:.6g}, "
            f"max occupation error {np.max(np.abs(values - n)):.3g}): the operators' occupation patterns do "
            "not each occur once (parity-projected modes of a ring?). Use dm.gge(operators, state) instead")
    with np.errstate(divide="ignore"):
        mu = np.log(1 - n) - np.log(n)
    ev = np.linalg.eigvalsh(rho)
    ev = ev[ev > 1e-300]
    return GGEResult(rho=rho, multipliers=mu, targets=n, values=values, residuals=values - n, converged=True,
                     iterations=0, message="closed form", entropy=float(-(ev * np.log(ev)).sum()),
                     weights=np.array([]), basis=np.zeros((0, 0)))


def _fermi(x):
    """Fermi function :math:`1/(e^x + 1)`, overflow-free."""
    return 0.5 * (1 - np.tanh(0.5 * x))


def free_fermion_gibbs(modes, energy: float, number: float | None = None) -> dict:
    r"""Grand-canonical Gibbs occupations of free-fermion modes at a given energy (and particle number).

    Solves :math:`E_0 + \sum_k\varepsilon_k n_k = E` for :math:`\beta` (TFIM, or XX with ``number=None``,
    :math:`\mu = 0`), or :math:`E` and :math:`\sum_k n_k = N` for :math:`\beta` and the log-fugacity
    :math:`a = \beta\mu` (XX with ``number``; negative :math:`\beta` allowed), with

    .. math:: n_k = \frac{1}{e^{\beta\varepsilon_k - a} + 1}.

    Parametrizing by :math:`(\beta, a)` instead of :math:`(\beta, \mu)` keeps every filling reachable at
    infinite temperature: as :math:`\beta \to 0` at fixed :math:`N \ne L/2` the chemical potential diverges
    but :math:`a \to \ln\frac{N}{L-N}` stays finite (:math:`n_k = N/L`, the energy
    :math:`E_0 + (N/L)\sum_k\varepsilon_k`). For fixed :math:`\beta`, :math:`N(a)` increases strictly, so
    :math:`a(\beta)` is found by bisection; then :math:`E(\beta)` at fixed :math:`N` decreases strictly (its
    derivative is :math:`-(\mathrm{Var}\,E - \mathrm{Cov}(E,N)^2/\mathrm{Var}\,N) \le 0`), found by
    bisection too. A target within rounding of the infinite-temperature energy gives :math:`\beta = 0`.
    This is the Gibbs state :math:`e^{-\beta H + aN}/Z` without parity projection (exact in the
    thermodynamic limit).

    Returns
    -------
    dict
        ``beta``, ``mu`` (:math:`a/\beta`; ``0`` at :math:`a = 0` and :math:`\pm\infty` at :math:`\beta = 0`
        with :math:`a \ne 0`), ``beta_mu`` (:math:`a`), ``occupations`` and ``residual`` (energy, and number,
        mismatch).
    """
    from .integrable import _check_modes, thermal_occupations

    _check_modes(modes)
    if isinstance(energy, bool) or not isinstance(energy, numbers.Real):
        raise TypeError(f"energy must be a real number, got {energy!r}")
    E = float(energy)
    if not np.isfinite(E):
        raise ValueError(f"energy must be finite, got {energy!r}")
    eps = modes.energies
    emin, emax = modes.constant + eps[eps < 0].sum(), modes.constant + eps[eps > 0].sum()
    if not emin < E < emax:
        raise ValueError(f"energy={E!r} is outside the open range ({emin:.6g}, {emax:.6g}) of thermal energies")
    if number is None:
        def f(b):
            return modes.constant + eps @ thermal_occupations(modes, b, large_L=True) - E
        b_lo, b_hi = -1.0, 1.0
        while f(b_lo) < 0:
            b_lo *= 2
        while f(b_hi) > 0:
            b_hi *= 2
        beta = opt.brentq(f, b_lo, b_hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
        n = thermal_occupations(modes, beta, large_L=True)
        return dict(beta=float(beta), mu=0.0, beta_mu=0.0, occupations=n, residual=float(abs(f(beta))))
    if modes.model != "xx":
        raise ValueError("number= applies to the XX chain (the Ising chain conserves no fermion number)")
    if isinstance(number, bool) or not isinstance(number, numbers.Real):
        raise TypeError(f"number must be a real number of fermions, got {number!r}")
    N = float(number)
    if not 0 < N < modes.L:
        raise ValueError(f"number={N!r} must lie strictly between 0 and L={modes.L} (at N = 0 or L the only "
                         "state is a product state, not a thermal one)")
    rtol = 4 * np.finfo(float).eps

    def a_of(b):
        # N(a) = sum_k fermi(b eps_k - a) increases strictly with a: bracket around the b = 0 value
        # ln(N/(L-N)) shifted by the range of b*eps, where every term is bounded by the extreme ones
        a0 = np.log(N / (modes.L - N))
        if b == 0:
            return a0  # every n_k = N / L: exact
        lo = a0 + b * float(eps.min()) - 1.0 if b >= 0 else a0 + b * float(eps.max()) - 1.0
        hi = a0 + b * float(eps.max()) + 1.0 if b >= 0 else a0 + b * float(eps.min()) + 1.0

        def h(a):
            return _fermi(b * eps - a).sum() - N
        return opt.brentq(h, lo, hi, xtol=1e-15, rtol=rtol, maxiter=500)

    def occ(b):
        return _fermi(b * eps - a_of(b))

    def e_of(b):
        return modes.constant + eps @ occ(b) - E

    # the infinite-temperature energy at this filling, to rounding: beta = 0 exactly (mu is then +-inf)
    if abs(e_of(0.0)) <= 64 * np.finfo(float).eps * (abs(modes.constant) + float(np.abs(eps).sum()) + abs(E)):
        beta = 0.0
    else:
        # E(beta) at fixed N decreases strictly: expand a bracket on the side where the root lies
        step = 1e-3 * (1.0 if e_of(0.0) > 0 else -1.0)
        b_far = step
        while np.sign(e_of(b_far)) == np.sign(e_of(0.0)):
            b_far *= 2
            if abs(b_far) > 1e6:
                side = "below" if step > 0 else "above"
                raise ValueError(f"energy={E!r} with number={N!r} is {side} every thermal energy at that filling")
        beta = opt.brentq(e_of, min(0.0, b_far), max(0.0, b_far), xtol=1e-15, rtol=rtol, maxiter=500)
    a = a_of(beta)
    n = _fermi(beta * eps - a)
    r = np.array([abs(modes.constant + eps @ n - E), abs(n.sum() - N)])
    if r.max() > 1e-8 * max(1.0, abs(E), N):
        raise RuntimeError(f"free_fermion_gibbs: (beta, beta*mu) did not converge (residual {r})")
    mu = a / beta if beta != 0 else (0.0 if a == 0 else float(np.copysign(np.inf, a)))
    return dict(beta=float(beta), mu=float(mu), beta_mu=float(a), occupations=n, residual=float(r.max()))


def dephased_correlations(modes, correlations, tol: float = 1e-10) -> np.ndarray:
    r"""Infinite-time average of an XX correlation matrix :math:`C_{ij} = \langle c^\dagger_i c_j\rangle`.

    In the mode basis :math:`\langle a^\dagger_k a_q\rangle(t) = e^{i(\varepsilon_k - \varepsilon_q)t}
    \langle a^\dagger_k a_q\rangle_0`, so the average keeps the entries with
    :math:`|\varepsilon_k - \varepsilon_q| \le` ``tol``: the diagonal (the GGE of the :math:`n_k`) plus the
    coherences between degenerate modes (:math:`\pm k` on a ring). It equals the diagonal-ensemble value
    of every quadratic observable exactly.
    """
    if modes.model != "xx":
        raise ValueError("dephased_correlations handles XX modes (number-conserving); got "
                         f"model={modes.model!r}")
    C = np.asarray(correlations)
    if C.shape != (modes.L, modes.L):
        raise ValueError(f"correlations must have shape ({modes.L}, {modes.L}), got {C.shape}")
    Phi = modes.vectors
    M = Phi.T @ C @ Phi.conj()  # <a+_k a_q>
    eps = modes.energies
    keep = np.abs(eps[:, None] - eps[None, :]) <= tol * max(1.0, float(np.max(np.abs(eps))))
    return Phi.conj() @ (M * keep) @ Phi.T
