r"""Local versus global master equations for coupled subsystems, with Bloch-Redfield as the reference.

Setting (:math:`\hbar = k_B = 1`; PHYSICS.md sections 2, 3 and 5): a system
:math:`H = \sum_\alpha h_\alpha + H_{\rm int}` whose subsystem :math:`\alpha` couples through
:math:`A_\alpha` to its own bath (inverse temperature :math:`\beta_\alpha`).

* **Global** (Davies): jump operators :math:`A_\alpha(\omega)` from the eigenprojectors of the full
  :math:`H` (:class:`davies_mb.DaviesGenerator`). Thermodynamically consistent; the secular
  approximation fails when Bohr frequencies split by less than the rates (small detuning and weak
  inter-subsystem coupling: Hofer et al., NJP 19, 123037 (2017)).
* **Local**: jump operators from each subsystem's own :math:`h_\alpha` (:class:`LocalGenerator`),

  .. math::

      \mathcal{L}_{\rm loc}(\rho) = -i[H, \rho] + \lambda^2\sum_\alpha\sum_\omega\gamma_\alpha(\omega)
      \Big(a_\alpha(\omega)\rho a_\alpha(\omega)^\dagger - \tfrac12\{a_\alpha(\omega)^\dagger
      a_\alpha(\omega), \rho\}\Big),\qquad
      a_\alpha(\omega) = \sum_{e'-e=\omega}\Pi^{h_\alpha}(e) A_\alpha \Pi^{h_\alpha}(e').

  Right for weak inter-subsystem coupling, but with the heat currents
  :math:`J_\alpha = \mathrm{tr}[H\mathcal{D}_\alpha(\rho)]` it can carry heat from cold to hot
  (Levy and Kosloff, EPL 107, 20004 (2014)).
* **Redfield** (:class:`davies_mb.RedfieldGenerator`): no secular approximation; the reference here.

Heat current from bath :math:`\alpha` (positive into the system) and Spohn's entropy production:
:math:`J_\alpha = \mathrm{tr}[H\,\mathcal{D}_\alpha(\rho)]`, :math:`\sigma = -\sum_\alpha\beta_\alpha J_\alpha`;
the dissipator of one bath is the generator built with that bath alone minus the Hamiltonian part, which
drops out of the trace. Small systems only: everything is a dense :math:`d^2\times d^2` superoperator.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.linalg as sla

import davies_mb as dm

from . import _validate as v

__all__ = ["LocalGenerator", "MasterEquationComparison", "compare_master_equations", "heat_currents",
           "two_qubits", "end_bath_chain", "concurrence", "mutual_information", "partial_trace"]

_MAX_DIM = 64
METHODS = ("global", "local", "redfield")


def _vec(X):
    return np.asarray(X).reshape(-1, order="F")


def _unvec(x, d):
    return x.reshape(d, d, order="F")


def _lindblad_dissipator(jumps, d) -> np.ndarray:
    """Column-stacked superoperator of sum_k r_k (J rho J^+ - {J^+ J, rho}/2) from (rate, J) pairs."""
    I = np.eye(d)
    D = np.zeros((d * d, d * d), dtype=complex)
    for r, J in jumps:
        JdJ = J.conj().T @ J
        D += r * (np.kron(J.conj(), J) - 0.5 * np.kron(I, JdJ) - 0.5 * np.kron(JdJ.T, I))
    return D


def _null_state(L: np.ndarray, d: int) -> np.ndarray:
    """The unique unit-trace null vector of a superoperator (trace row replaces a dependent row)."""
    M = L.copy()
    t = np.zeros(d * d, dtype=complex)
    t[np.arange(d) * (d + 1)] = 1.0
    M[0] = t
    rhs = np.zeros(d * d, dtype=complex)
    rhs[0] = 1.0
    rho = _unvec(sla.solve(M, rhs), d)
    rho = 0.5 * (rho + rho.conj().T)
    return rho.real if not np.any(np.abs(rho.imag) > 1e-14) else rho


class LocalGenerator:
    r"""Local master equation: each bath's jump operators from its subsystem's own Hamiltonian.

    Parameters
    ----------
    H : (d, d) array_like
        Full Hamiltonian (drives the unitary part).
    local_hamiltonians : sequence of (d, d) array_like
        :math:`h_\alpha`, embedded in the full space, one per coupling (the local Bohr frequencies).
    couplings : sequence of (d, d) array_like
        Hermitian :math:`A_\alpha`, each coupled to its own bath.
    baths : Bath or sequence of Bath
        One bath for all couplings (independent copies) or one per coupling.
    strength : float
        :math:`\lambda`; the dissipators scale as :math:`\lambda^2`.

    Notes
    -----
    Dense and small (``d <= 64``). Density matrices in the computational basis. The Bohr decomposition
    groups eigenvalues of :math:`h_\alpha` within ``1e-9`` times its spectral width.
    """

    def __init__(self, H, local_hamiltonians, couplings, baths, strength: float = 1.0):
        self.H = v.hermitian("H", H)
        d = self.H.shape[0]
        if d > _MAX_DIM:
            raise ValueError(f"H has dimension {d} > {_MAX_DIM}: LocalGenerator is dense (d^2 x d^2); use a smaller system")
        self.dim = d
        hs = list(local_hamiltonians)
        As = list(couplings)
        if len(hs) != len(As) or not As:
            raise ValueError(
                f"local_hamiltonians and couplings must be non-empty and of equal length (one subsystem "
                f"Hamiltonian per coupling), got {len(hs)} and {len(As)}"
            )
        self.h = [v.hermitian(f"local_hamiltonians[{k}]", h, d) for k, h in enumerate(hs)]
        self.A = [v.hermitian(f"couplings[{k}]", A, d) for k, A in enumerate(As)]
        bl = list(baths) if isinstance(baths, (list, tuple)) else [baths] * len(self.A)
        if len(bl) != len(self.A):
            raise ValueError(f"baths must be one Bath or one per coupling ({len(self.A)}), got {len(bl)}")
        self.baths = [v.bath(f"baths[{k}]", b) for k, b in enumerate(bl)]
        self.strength = v.real("strength", strength, positive=True)
        self._D = [self._dissipator(h, A, b) for h, A, b in zip(self.h, self.A, self.baths)]

    @property
    def beta(self):
        """The common inverse temperature, or None when the baths differ."""
        betas = {float(b.beta) for b in self.baths}
        return betas.pop() if len(betas) == 1 else None

    @staticmethod
    def _jumps(h, A):
        """(omega, a(omega)) with a(omega) = sum_{e'-e=omega} Pi(e) A Pi(e') in the eigenbasis of h."""
        e, U = np.linalg.eigh(h)
        tol = 1e-9 * max(float(e[-1] - e[0]), 1.0)
        lev = [[0]]
        for k in range(1, e.size):
            if e[k] - e[lev[-1][-1]] <= tol:
                lev[-1].append(k)
            else:
                lev.append([k])
        P = [U[:, idx] @ U[:, idx].conj().T for idx in lev]
        E = [float(np.mean(e[idx])) for idx in lev]
        out = {}
        for i, Pi in enumerate(P):
            for j, Pj in enumerate(P):
                blk = Pi @ A @ Pj
                if not np.any(np.abs(blk) > 1e-14 * max(float(np.max(np.abs(A))), 1e-300)):
                    continue
                w = E[j] - E[i]  # Pi(e) A Pi(e'), omega = e' - e: lowers the energy by omega
                key = round(w / tol) if tol > 0 else w
                if key in out:
                    out[key] = (out[key][0], out[key][1] + blk)
                else:
                    out[key] = (w, blk)
        return list(out.values())

    def _dissipator(self, h, A, bath) -> np.ndarray:
        lam2 = self.strength**2
        jumps = [(lam2 * float(bath.gamma(w)), J) for w, J in self._jumps(h, A)]
        return _lindblad_dissipator(jumps, self.dim)

    def dissipator(self, alpha: int) -> np.ndarray:
        """Superoperator of bath ``alpha``'s dissipator (column stacking)."""
        return self._D[alpha].copy()

    def superoperator(self) -> np.ndarray:
        r"""The :math:`d^2\times d^2` matrix of :math:`\mathcal{L}_{\rm loc}` (column stacking, PHYSICS.md)."""
        d = self.dim
        I = np.eye(d)
        Lh = -1j * (np.kron(I, self.H) - np.kron(self.H.T, I))
        return Lh + sum(self._D)

    def stationary_state(self) -> np.ndarray:
        """The unique stationary state (ValueError when the kernel is not one-dimensional)."""
        L = self.superoperator()
        s = sla.svdvals(L)
        if s[-2] <= 1e-10 * s[0]:
            raise ValueError(
                "the local generator has more than one stationary state (a conserved quantity the local "
                "couplings do not break); add couplings that break it"
            )
        return _null_state(L, self.dim)

    def evolve(self, rho0, times) -> np.ndarray:
        r""":math:`e^{t\mathcal{L}}\rho_0` for each time; shape ``(len(times), d, d)`` (dense ``expm``)."""
        rho0 = v.hermitian("rho0", rho0, self.dim)
        L = self.superoperator()
        return np.array([_unvec(sla.expm(float(t) * L) @ _vec(rho0), self.dim) for t in np.atleast_1d(times)])

    def heat_currents(self, rho) -> np.ndarray:
        r""":math:`J_\alpha = \mathrm{tr}[H\mathcal{D}_\alpha(\rho)]` per bath (positive into the system)."""
        rho = v.hermitian("rho", rho, self.dim)
        return np.array([float(np.real(np.trace(self.H @ _unvec(D @ _vec(rho), self.dim)))) for D in self._D])

    def entropy_production(self, rho) -> float:
        r"""Spohn's :math:`-\sum_\alpha\beta_\alpha J_\alpha` (can be negative for the local equation)."""
        return float(-np.dot([b.beta for b in self.baths], self.heat_currents(rho)))


def heat_currents(method: str, H, couplings, baths, rho, strength: float = 1.0) -> np.ndarray:
    r"""Heat currents :math:`J_\alpha = \mathrm{tr}[H\mathcal{D}_\alpha(\rho)]` of the global Davies
    (``"global"``: :meth:`davies_mb.DaviesGenerator.heat_currents`) or Redfield (``"redfield"``) generator;
    for Redfield :math:`\mathcal{D}_\alpha` is the generator built with bath :math:`\alpha` alone (its
    Hamiltonian part drops out of the trace)."""
    if method not in ("global", "redfield"):
        raise ValueError(f"method must be 'global' or 'redfield' (LocalGenerator has its own), got {method!r}")
    H = v.hermitian("H", H)
    d = H.shape[0]
    rho = v.hermitian("rho", rho, d)
    As = list(couplings)
    bl = list(baths) if isinstance(baths, (list, tuple)) else [baths] * len(As)
    spec = dm.diagonalize(H)
    if method == "global":  # the generator's own currents (Heisenberg-picture heat operators)
        return dm.DaviesGenerator(spec, As, bl, strength=strength).heat_currents(rho)
    cls = dm.RedfieldGenerator
    out = []
    for A, b in zip(As, bl):
        L = cls(spec, [A], b, strength=strength).superoperator()
        out.append(float(np.real(np.trace(H @ _unvec(L @ _vec(rho), d)))))
    return np.array(out)


def partial_trace(rho, dims, keep) -> np.ndarray:
    """Reduced density matrix of the subsystems ``keep`` (site 0 most significant, quimb's ordering)."""
    dims = [int(x) for x in dims]
    keep = sorted(keep)
    n = len(dims)
    r = np.asarray(rho).reshape(dims + dims)
    trace_out = [k for k in range(n) if k not in keep]
    for k in sorted(trace_out, reverse=True):
        m = r.ndim // 2
        r = np.trace(r, axis1=k, axis2=k + m)
    dk = int(np.prod([dims[k] for k in keep])) if keep else 1
    return r.reshape(dk, dk)


def _entropy(rho) -> float:
    p = np.linalg.eigvalsh(0.5 * (rho + np.conj(rho).T))
    p = p[p > 1e-15]
    return float(-np.sum(p * np.log(p)))


def mutual_information(rho, dims=(2, 2)) -> float:
    """Quantum mutual information S(A) + S(B) - S(AB) (natural log) of a bipartite state."""
    rho = np.asarray(rho)
    return _entropy(partial_trace(rho, dims, [0])) + _entropy(partial_trace(rho, dims, [1])) - _entropy(rho)


def concurrence(rho) -> float:
    r"""Wootters concurrence of a two-qubit state: :math:`\max(0, l_1 - l_2 - l_3 - l_4)`, :math:`l_k` the
    decreasing square roots of the eigenvalues of :math:`\rho(\sigma^y\otimes\sigma^y)\rho^*(\sigma^y\otimes\sigma^y)`."""
    rho = np.asarray(rho)
    if rho.shape != (4, 4):
        raise ValueError(f"concurrence needs a two-qubit state (4 x 4), got shape {rho.shape}")
    yy = np.kron(dm.pauli("y"), dm.pauli("y"))
    ev = np.linalg.eigvals(rho @ yy @ rho.conj() @ yy)
    lam = np.sort(np.sqrt(np.abs(ev.real)))[::-1]
    return float(max(0.0, lam[0] - lam[1] - lam[2] - lam[3]))


def two_qubits(w1: float, w2: float, g: float, coupling: str = "xx") -> tuple:
    r"""Two coupled qubits: ``(H, (h_1, h_2), (A_1, A_2), H_int)`` in the 4-dimensional space.

    :math:`h_j = \omega_j\sigma^z_j/2`, :math:`A_j = \sigma^x_j`, and
    :math:`H_{\rm int} = \tfrac{g}{2}(\sigma^x\sigma^x + \sigma^y\sigma^y)` (``"xx"``, excitation
    conserving) or :math:`\tfrac{g}{2}(\sigma^x\sigma^x + \sigma^y\sigma^y + \sigma^z\sigma^z)`
    (``"heisenberg"``). Qubit 0 is the most significant (quimb's ordering).
    """
    w1 = v.real("w1", w1, positive=True)
    w2 = v.real("w2", w2, positive=True)
    g = v.real("g", g)
    if coupling not in ("xx", "heisenberg"):
        raise ValueError(f"coupling must be 'xx' or 'heisenberg', got {coupling!r}")
    I = np.eye(2)
    P = {a: dm.pauli(a) for a in "xyz"}
    h1 = 0.5 * w1 * np.kron(P["z"], I).real
    h2 = 0.5 * w2 * np.kron(I, P["z"]).real
    Hint = 0.5 * g * (np.kron(P["x"], P["x"]) + np.kron(P["y"], P["y"]))
    if coupling == "heisenberg":
        Hint = Hint + 0.5 * g * np.kron(P["z"], P["z"])
    Hint = Hint.real
    return h1 + h2 + Hint, (h1, h2), (np.kron(P["x"], I).real, np.kron(I, P["x"]).real), Hint


def end_bath_chain(L: int, g: float, hz: float = 1.0, delta: float = 1.0) -> tuple:
    r"""A short chain with a bath at each end: ``(H, (h_0, h_{L-1}), (A_0, A_{L-1}), H_bulk)``.

    :math:`H = \sum_j \tfrac{h_z}{2}\sigma^z_j + \tfrac{g}{2}\sum_j(\sigma^x_j\sigma^x_{j+1}
    + \sigma^y_j\sigma^y_{j+1} + \Delta\sigma^z_j\sigma^z_{j+1})` (open), baths through
    :math:`\sigma^x_0` and :math:`\sigma^x_{L-1}`; the local Hamiltonians of the end spins are
    :math:`\tfrac{h_z}{2}\sigma^z_{0}` and :math:`\tfrac{h_z}{2}\sigma^z_{L-1}`. ``H_bulk`` is everything
    but those two terms.
    """
    L = v.integer("L", L, minimum=2)
    if 2**L > _MAX_DIM:
        raise ValueError(f"L must be <= 6 (dense d^2 x d^2 superoperators), got {L}")
    g = v.real("g", g)
    hz = v.real("hz", hz, positive=True)
    delta = v.real("delta", delta)

    def site(a, j):
        ops = [np.eye(2)] * L
        ops = list(ops)
        ops[j] = dm.pauli(a)
        out = ops[0]
        for o in ops[1:]:
            out = np.kron(out, o)
        return out

    H = sum(0.5 * hz * site("z", j) for j in range(L))
    for j in range(L - 1):
        H = H + 0.5 * g * (site("x", j) @ site("x", j + 1) + site("y", j) @ site("y", j + 1)
                           + delta * site("z", j) @ site("z", j + 1))
    H = H.real
    h0, hl = (0.5 * hz * site("z", 0)).real, (0.5 * hz * site("z", L - 1)).real
    return H, (h0, hl), (site("x", 0).real, site("x", L - 1).real), H - h0 - hl


@dataclasses.dataclass(frozen=True)
class MasterEquationComparison:
    """Stationary states and heat currents of the global, local and Redfield equations (keys of the dicts).

    Attributes
    ----------
    states : dict of str to ndarray
    heat_currents : dict of str to ndarray
        :math:`J_\\alpha` per bath, positive into the system.
    entropy_production : dict of str to float
        :math:`-\\sum_\\alpha\\beta_\\alpha J_\\alpha`.
    trace_distance_to_redfield : dict of str to float
    interaction_energy : dict of str to float
        :math:`\\langle H_{\\rm int}\\rangle` (nan if no interaction was given).
    """

    states: dict
    heat_currents: dict
    entropy_production: dict
    trace_distance_to_redfield: dict
    interaction_energy: dict


def compare_master_equations(H, local_hamiltonians, couplings, baths, strength: float = 1.0,
                             interaction=None) -> MasterEquationComparison:
    """Stationary states and heat currents of the global Davies, local and Redfield generators."""
    H = v.hermitian("H", H)
    As = list(couplings)
    bl = list(baths) if isinstance(baths, (list, tuple)) else [baths] * len(As)
    spec = dm.diagonalize(H)
    d = H.shape[0]
    rho0 = np.eye(d) / d
    states = {
        "global": dm.DaviesGenerator(spec, As, bl, strength=strength).stationary_state(rho0),
        "local": (loc := LocalGenerator(H, local_hamiltonians, As, bl, strength)).stationary_state(),
        "redfield": dm.RedfieldGenerator(spec, As, bl, strength=strength).stationary_state(),
    }
    J = {"global": heat_currents("global", H, As, bl, states["global"], strength),
         "local": loc.heat_currents(states["local"]),
         "redfield": heat_currents("redfield", H, As, bl, states["redfield"], strength)}
    betas = np.array([b.beta for b in bl])
    sigma = {k: float(-betas @ j) for k, j in J.items()}
    td = {k: dm.trace_distance(states[k], states["redfield"]) for k in states}
    if interaction is None:
        eint = {k: float("nan") for k in states}
    else:
        Hi = v.hermitian("interaction", interaction, d)
        eint = {k: float(np.real(np.trace(Hi @ r))) for k, r in states.items()}
    return MasterEquationComparison(states=states, heat_currents=J, entropy_production=sigma,
                                    trace_distance_to_redfield=td, interaction_energy=eint)
