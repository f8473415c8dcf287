r"""Conserved quantities of a Davies generator, their names, and the restricted equilibrium they imply.

A chain thermalizes uniquely only if nothing but the identity commutes with :math:`H` and every jump
operator :math:`A_\alpha(\omega)` with :math:`\gamma_\alpha(\omega) > 0` (PHYSICS.md section 4). The
Heisenberg-picture fixed points :math:`\mathcal{L}^\dagger(X) = 0` are exactly that commutant; their number
is the number of independent stationary states.

How they are found: the levels of :math:`H` form a transition graph (an edge :math:`b \to c` when
:math:`\sum_\alpha \gamma_\alpha(\epsilon_b - \epsilon_c) \|\Pi_c A_\alpha \Pi_b\|^2 > 0`); the
:math:`\nu = 0` block of the generator is block diagonal over its strongly connected components
(``scipy.sparse.csgraph``; with one temperature the graph is symmetric by KMS). A component made of
non-degenerate levels carries exactly one conserved quantity, the projector onto its levels; a component
with degenerate levels needs the kernel of its own (small) block, computed exactly.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.optimize as so
import scipy.sparse as sp

from . import _checks
from .davies import DaviesGenerator

__all__ = [
    "ChargeGibbs",
    "charge_gibbs",
    "ConservationReport",
    "RestrictedEquilibrium",
    "conserved_quantities",
    "known_charges",
    "recognize",
    "restricted_equilibrium",
    "transition_components",
]


def _as_generator(gen_or_spec, couplings=None, bath=None) -> DaviesGenerator:
    if isinstance(gen_or_spec, DaviesGenerator):
        if couplings is not None or bath is not None:
            raise TypeError("pass either a DaviesGenerator, or a Spectrum with couplings and bath, not both")
        return gen_or_spec
    if couplings is None or bath is None:
        raise TypeError("conserved_quantities(spectrum, couplings, bath) needs couplings and bath with a Spectrum")
    return DaviesGenerator(gen_or_spec, couplings, bath)


def transition_components(gen: DaviesGenerator):
    r"""Strongly connected components of the level transition graph.

    Returns ``(n_components, labels)`` with ``labels[b]`` the component of level ``b``.
    """
    return gen._core.components()


def conserved_quantities(gen_or_spectrum, couplings=None, bath=None, *, basis: str = "computational") -> list:
    r"""A basis of the conserved quantities :math:`\mathcal{L}^\dagger(X) = 0` (Hermitian operators).

    Parameters
    ----------
    gen_or_spectrum : DaviesGenerator or Spectrum
        A generator, or a spectrum together with ``couplings`` and ``bath``.
    basis : {"computational", "eigen"}
        Basis of the returned dense matrices.

    Returns
    -------
    list of ndarray
        As many operators as stationary states, orthonormal in the Hilbert-Schmidt inner product (see
        :meth:`DaviesGenerator.conserved_quantities`; the kernel is computed component by component of
        the transition graph, exactly for components up to a few thousand elements).
    """
    return _as_generator(gen_or_spectrum, couplings, bath).conserved_quantities(basis=basis)


# -- recognition -----------------------------------------------------------------------------------
def _perm_matrix(perm: np.ndarray) -> sp.csr_array:
    d = perm.size
    return sp.csr_array((np.ones(d), (perm, np.arange(d))), shape=(d, d))


def known_charges(L: int, periodic: bool = False) -> dict:
    """Named operators that conserved quantities are compared with (sparse, computational basis).

    ``identity``, ``total S^z``, ``total S^x``, ``total S^y``, ``total S^2``, ``S^z sector m`` projectors,
    ``spin flip prod sigma^x``,
    ``prod sigma^z (fermion parity)``, ``prod sigma^y``, ``reflection j -> L-1-j`` and, for periodic
    chains, ``translation T + T^dag`` and ``i(T - T^dag)``.
    """
    d = 2**L
    idx = np.arange(d)
    bits = (idx[:, None] >> (L - 1 - np.arange(L))[None, :]) & 1  # bit of site j (site 0 most significant)
    n_down = bits.sum(axis=1)
    sz = (L - 2 * n_down) / 2
    out = {"identity": sp.identity(d, format="csr")}
    out["total S^z"] = sp.diags_array(sz).tocsr()
    # total S^x, S^y and S^2: conserved by isotropic (SU(2)) chains and collective couplings
    sx = sp.csr_array((d, d), dtype=float)
    sy = sp.csr_array((d, d), dtype=complex)
    for j in range(L):
        flipped = idx ^ (1 << (L - 1 - j))
        sx = sx + 0.5 * _perm_matrix(flipped)
        # S^y_j = (sigma^y_j)/2: <flipped|S^y|idx> = i/2 if site j was up (bit 0), -i/2 if down
        sy = sy + sp.csr_array((0.5j * (1 - 2 * bits[:, j]), (flipped, idx)), shape=(d, d))
    out["total S^x"] = sp.csr_array(sx)
    out["total S^y"] = sp.csr_array(sy)
    out["total S^2"] = sp.csr_array((sx @ sx + sy @ sy + out["total S^z"] @ out["total S^z"]).real)
    for m in np.unique(sz)[::-1]:
        label = f"{m:g}"
        out[f"S^z sector {label}"] = sp.diags_array((sz == m).astype(float)).tocsr()
    flip = _perm_matrix(idx ^ (d - 1))
    out["spin flip prod sigma^x"] = flip
    zpar = sp.diags_array((-1.0) ** n_down).tocsr()
    out["prod sigma^z (fermion parity)"] = zpar
    out["prod sigma^y"] = sp.csr_array((1j) ** L * (zpar @ flip)) if L % 2 == 0 else None
    rev = (bits[:, ::-1] << (L - 1 - np.arange(L))[None, :]).sum(axis=1)
    out["reflection j -> L-1-j"] = _perm_matrix(rev)
    if periodic:
        rot = ((idx >> 1) | ((idx & 1) << (L - 1)))  # moves the spin on site j to site j+1
        T = _perm_matrix(rot)
        out["translation T + T^dag"] = sp.csr_array(T + T.T)
        out["translation i(T - T^dag)"] = sp.csr_array(1j * (T - T.T))
        # reflection through site 0, j -> -j mod L (commutes with couplings on site 0)
        src = (-np.arange(L)) % L
        refl0 = (bits[:, src] << (L - 1 - np.arange(L))[None, :]).sum(axis=1)
        out["reflection through site 0, j -> -j mod L"] = _perm_matrix(refl0)
    return {k: v for k, v in out.items() if v is not None}


@dataclasses.dataclass(frozen=True)
class ConservationReport:
    """What survives the bath.

    Attributes
    ----------
    n_stationary : int
        Number of independent stationary states (= number of conserved quantities).
    recognized : tuple of str
        Known operators that are conserved (lie in the span of the conserved quantities).
    n_unrecognized : int
        Dimension of the conserved span left after removing the span of the recognized operators.
    unrecognized_support : tuple of dict
        For each unrecognized direction: its weight in each S^z sector and whether it is diagonal in
        the eigenbasis of H.
    components : int
        Strongly connected components of the level transition graph.
    quantities : tuple of ndarray
        The conserved quantities (orthonormal Hermitian basis, computational basis).
    """

    n_stationary: int
    recognized: tuple
    n_unrecognized: int
    unrecognized_support: tuple
    components: int
    quantities: tuple = dataclasses.field(repr=False)

    def summary(self) -> str:
        lines = [f"{self.n_stationary} stationary state(s), {self.components} transition-graph component(s)"]
        lines += [f"  conserved: {name}" for name in self.recognized]
        if self.n_unrecognized:
            lines.append(f"  {self.n_unrecognized} unrecognized conserved direction(s)")
            for sup in self.unrecognized_support:
                lines.append(f"    support by S^z sector: {sup['sz_weights']}")
        return "\n".join(lines)


def _hs(X, Y) -> complex:
    """Hilbert-Schmidt inner product tr(X^dag Y) for dense or sparse operands."""
    if sp.issparse(X) and sp.issparse(Y):
        return complex(X.conj().multiply(Y).sum())
    if sp.issparse(Y):
        return complex(Y.multiply(np.conj(X)).sum())
    if sp.issparse(X):
        return complex(X.conj().multiply(Y).sum())
    return complex(np.vdot(X, Y))


def recognize(gen: DaviesGenerator, L: int | None = None, periodic: bool = False, *, quantities=None,
              charges: dict | None = None, tol: float = 1e-6) -> ConservationReport:
    """Name the conserved quantities of ``gen`` in terms of :func:`known_charges` and ``charges``.

    A known operator X counts as conserved when its distance to the span of the conserved quantities is
    below ``tol * ||X||`` (Hilbert-Schmidt norms). Powers of a recognized total spin component (all the
    functions of :math:`S^a`, e.g. its sector projectors) and products of two recognized symmetries are
    tried too. ``charges`` adds named operators, e.g. the integrable XXZ charge
    ``{"Q3": davies_mb.integrable.xxz_charge(L, 3, delta)}``.
    """
    spec = gen.spectrum
    if L is None:
        L = int(round(np.log2(spec.dim)))
    if 2**L != spec.dim:
        raise ValueError(f"L={L} does not match the spectrum's dimension {spec.dim}; pass the chain length")
    Qs = quantities if quantities is not None else conserved_quantities(gen)
    k = len(Qs)
    cands = known_charges(L, periodic)
    for name, X in (charges or {}).items():
        cands[name] = sp.csr_array(X) if sp.issparse(X) else _checks.as_operator(f"charges[{name!r}]", X, spec.dim)
    recognized, rec_ops = [], []

    def test(name, X):
        nx = np.sqrt(abs(_hs(X, X)))
        if nx == 0:
            return False
        coef = np.array([_hs(Q, X) for Q in Qs])  # Qs are orthonormal
        resid2 = nx**2 - np.sum(np.abs(coef) ** 2)
        if resid2 <= (tol * nx) ** 2:
            recognized.append(name)
            rec_ops.append(coef)
            return True
        return False

    def rank():
        return np.linalg.matrix_rank(np.array(rec_ops), tol=1e-8) if rec_ops else 0

    found = {}
    for name, X in cands.items():
        before = rank()
        if test(name, X):
            if rank() == before and name.startswith("total"):
                recognized.pop()  # e.g. total S^2 = L(L+2)/4 for one spin: nothing new
                rec_ops.pop()
                continue
            found[name] = X
    # every function of a conserved total spin component is conserved: its powers span them
    for name in [n for n in found if n.startswith("total S^") and n != "total S^2"]:
        X = found[name]
        P = X
        for power in range(2, L + 1):
            P = sp.csr_array(P @ X)
            before = rank()
            if not test(f"({name})^{power}", P):
                break
            if rank() == before:
                recognized.pop()
                rec_ops.pop()
                break
    # products of two recognized symmetries (e.g. a reflection inside one S^z sector) are conserved too
    names = [n for n in found if n != "identity" and not n.startswith("total")]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if a.startswith("S^z sector") and b.startswith("S^z sector"):
                continue  # products of distinct sector projectors vanish
            P = found[a] @ found[b]
            herm = sp.csr_array(0.5 * (P + P.conj().T))
            if not herm.count_nonzero():
                continue
            rank_before = rank()
            if test(f"{a} * {b}", herm) and rank() == rank_before:
                recognized.pop()  # a product that adds nothing new is not worth naming
                rec_ops.pop()
    # dimension of the recognized span, in coordinates of the conserved basis
    if rec_ops:
        R = np.array(rec_ops)
        s = np.linalg.svd(R, compute_uv=False)
        r = int(np.sum(s > 1e-8 * s[0]))
        _, _, vh = np.linalg.svd(R)
        comp = vh[r:].conj()  # orthonormal complement (coordinates)
    else:
        r, comp = 0, np.eye(k)
    support = []
    sz_ops = {n: X for n, X in cands.items() if n.startswith("S^z sector")}
    for row in comp:
        U = sum(cf * Q for cf, Q in zip(row, Qs))
        weights = {n.removeprefix("S^z sector "): float(np.sqrt(abs(_hs(P @ U @ P, P @ U @ P))))
                   for n, P in sz_ops.items()}
        Ue = spec.to_eigenbasis(U, check_sector=False) if spec.n == spec.dim else None
        diag = bool(Ue is not None and np.allclose(Ue, np.diag(np.diag(Ue)), atol=1e-8))
        support.append({"sz_weights": {m: round(w, 6) for m, w in weights.items() if w > 1e-8},
                        "diagonal_in_eigenbasis": diag})
    ncomp, _ = transition_components(gen)
    return ConservationReport(k, tuple(recognized), k - r, tuple(support), int(ncomp), tuple(Qs))


# -- restricted equilibrium ------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class RestrictedEquilibrium:
    r"""The state a chain ends in when conserved quantities survive the bath.

    Attributes
    ----------
    state : ndarray
        :math:`\rho_\infty`, computational basis.
    weights : ndarray
        :math:`\mathrm{tr}(P_s\rho_0)` for each invariant subspace (empty if the conserved algebra is
        not generated by commuting projectors).
    formula_residual : float
        :math:`\max|\rho_\infty - \sum_s \mathrm{tr}(P_s\rho_0) P_s e^{-\beta H} P_s / Z_s|` (NaN when the
        projector formula does not apply).
    trace_distance_to_gibbs : float
        :math:`\tfrac12\|\rho_\infty - e^{-\beta H}/Z\|_1`: how incomplete thermalization is.
    energy, energy_gibbs : float
        :math:`\mathrm{tr}(H\rho_\infty)` and the Gibbs energy.
    n_stationary : int
    """

    state: np.ndarray = dataclasses.field(repr=False)
    weights: np.ndarray
    formula_residual: float
    trace_distance_to_gibbs: float
    energy: float
    energy_gibbs: float
    n_stationary: int


def restricted_equilibrium(gen: DaviesGenerator, rho0) -> RestrictedEquilibrium:
    r"""Final state from ``rho0`` and its comparison with the global Gibbs state.

    :math:`\rho_\infty` is the projection of :math:`\rho_0` onto the stationary manifold
    (:meth:`DaviesGenerator.stationary_state`). When the conserved quantities are generated by
    commuting projectors :math:`P_s` the formula
    :math:`\rho_\infty = \sum_s \mathrm{tr}(P_s\rho_0) P_s e^{-\beta H} P_s / \mathrm{tr}(P_s e^{-\beta H})`
    (PHYSICS.md section 4) is evaluated independently and its residual reported.
    """
    if not isinstance(gen, DaviesGenerator):
        raise TypeError(f"gen must be a DaviesGenerator, got {type(gen).__name__}")
    if gen.beta is None:
        raise ValueError("restricted_equilibrium needs baths at one temperature (a Gibbs state to compare with)")
    spec = gen.spectrum
    rho0 = _checks.check_density_matrix("rho0", rho0, spec.dim)
    if rho0.ndim == 1:
        rho0 = np.outer(rho0, rho0.conj())
    rho_inf = gen.stationary_state(rho0)
    X0 = gen._to_eig_state(rho0)
    Rk, Lk = gen._kernel()
    weights = np.zeros(0)
    resid = np.nan
    projs = gen._joint_eigenspaces(Lk) if Rk.shape[1] > 1 else [np.eye(spec.n)]
    if projs is not None and len(projs) == Rk.shape[1] and np.isfinite(gen.beta):
        # (at beta = inf the commutant formula does not apply: the zero-temperature semigroup has no faithful
        # stationary state, and states the bath cannot lower stay where they are; formula_residual is nan)
        weights = np.array([np.real(np.trace(P.conj().T @ X0 @ P)) for P in projs])
        X = np.zeros((spec.n, spec.n), dtype=complex)
        for w, P in zip(weights, projs):
            # Boltzmann weights of P_s shifted by its own lowest energy: no underflow at any beta
            support = np.sum(np.abs(P) ** 2, axis=1) > 1e-12
            p = np.zeros(spec.n)
            p[support] = _checks.boltzmann_weights(gen.beta, spec.energies[support])
            S = (p[:, None] * P) @ P.conj().T
            X += w * S / np.trace(S).real
        formula = spec.from_eigenbasis(X)
        resid = float(np.max(np.abs(formula - rho_inf)))
    gibbs = spec.gibbs(gen.beta)
    dist = 0.5 * float(np.sum(np.abs(np.linalg.eigvalsh(rho_inf - gibbs))))
    if not (np.isfinite(dist) and dist <= 1.0 + 1e-9):
        raise _checks.SelfCheckError(f"the trace distance to the Gibbs state came out as {dist!r}, outside [0, 1]")
    Xinf = spec.to_eigenbasis(rho_inf, check_sector=False)
    energy = float(np.real(np.sum(np.diag(Xinf) * spec.energies)))
    e_g = float(spec.gibbs_weights(gen.beta) @ spec.energies)
    return RestrictedEquilibrium(rho_inf, weights, resid, dist, energy, e_g, int(Rk.shape[1]))


# -- a Gibbs state with one more multiplier -----------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ChargeGibbs:
    r""":math:`\rho = e^{-\beta H - \mu Q}/Z` with :math:`\mu` fixed by :math:`\mathrm{tr}(\rho Q)`.

    Attributes
    ----------
    state : ndarray
        :math:`\rho`, computational basis.
    mu : float
        The multiplier of the charge.
    value : float
        :math:`\mathrm{tr}(\rho Q)` reached (equals the requested value to ``residual``).
    residual : float
    """

    state: np.ndarray = dataclasses.field(repr=False)
    mu: float
    value: float
    residual: float


def charge_gibbs(spectrum, beta, charge, value, *, tol: float = 1e-12) -> ChargeGibbs:
    r"""The state :math:`e^{-\beta H-\mu Q}/Z` with :math:`\mathrm{tr}(\rho Q) = ` ``value``, at fixed :math:`\beta`.

    The bath fixes :math:`\beta`; a charge :math:`Q` that the bath conserves keeps its initial value, so
    the maximum-entropy state with both constraints is this one (a grand-canonical or generalized Gibbs
    state). It is the exact final state of the Davies evolution when :math:`Q` generates the conserved
    algebra and has two eigenvalues (a parity: then :math:`\sum_\pm p_\pm P_\pm e^{-\beta H}P_\pm/Z_\pm =
    e^{-\beta H - \mu Q}/Z` with :math:`\tanh\mu` fixed by the weights); for a charge with many
    eigenvalues the exact final state is :math:`e^{-\beta H - f(Q)}/Z` with one multiplier per eigenvalue,
    and this one-multiplier state is its large-system (equivalence of ensembles) approximation.

    Computed in the joint eigenbasis of :math:`H` and :math:`Q` (``Q`` must commute with ``H``: checked);
    :math:`\mu` by ``brentq`` on the monotone :math:`\langle Q\rangle(\mu)`.
    """
    from .spectrum import Spectrum  # noqa: PLC0415 - avoid a cycle at import time

    if not isinstance(spectrum, Spectrum):
        raise TypeError(f"spectrum must be a Spectrum (from dm.diagonalize), got {type(spectrum).__name__}")
    beta = _checks.check_beta(beta)
    Q = _checks.as_operator("charge", charge, spectrum.dim)
    Qe = spectrum.to_eigenbasis(Q)
    li = spectrum.level_index
    off = Qe[li[:, None] != li[None, :]]
    nq = float(np.linalg.norm(Qe))
    if off.size and np.linalg.norm(off) > 1e-8 * max(nq, 1e-300):
        raise ValueError(f"the charge does not commute with H: a fraction {np.linalg.norm(off) / nq:.2e} of its "
                         "norm connects different energy levels (||[H, Q]|| > 0); pass a conserved quantity")
    # joint eigenbasis: diagonalize Q inside each level
    q = np.empty(spectrum.n)
    V = np.zeros_like(Qe)
    for lev in range(spectrum.level_energies.size):
        idx = np.flatnonzero(li == lev)
        w, U = np.linalg.eigh(Qe[np.ix_(idx, idx)])
        q[idx] = w
        V[np.ix_(idx, idx)] = U
    E = spectrum.energies
    value = float(value)
    if not (q.min() - tol < value < q.max() + tol):
        raise ValueError(f"value {value!r} is outside the spectrum of the charge [{q.min():.6g}, {q.max():.6g}]: "
                         "no Gibbs state reaches it")

    def weights(mu):
        x = -beta * (E - E[0]) - mu * q
        w = np.exp(x - x.max())
        return w / w.sum()

    def f(mu):
        return float(weights(mu) @ q) - value

    if abs(value - q.min()) <= tol or abs(value - q.max()) <= tol:
        raise ValueError(f"value {value!r} is an extreme eigenvalue of the charge: the multiplier is infinite; "
                         "restrict to that eigenspace instead")
    lo, hi = -1.0, 1.0
    while f(lo) < 0:  # <Q> decreases with mu
        lo *= 2
    while f(hi) > 0:
        hi *= 2
    mu = float(so.brentq(f, lo, hi, xtol=1e-14, rtol=1e-14))
    p = weights(mu)
    X = (V * p[None, :]) @ V.conj().T
    rho = spectrum.from_eigenbasis(X)
    rho = 0.5 * (rho + rho.conj().T)
    got = float(p @ q)
    return ChargeGibbs(rho, mu, got, abs(got - value))
