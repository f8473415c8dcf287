"""Small analytic reference systems shared by the tests, each with its analytic expectation.

Conventions (PHYSICS.md): hbar = k_B = 1, Pauli matrices sigma^a, spin up = computational index 0 (the
sigma^z = +1 eigenstate), for two qubits qubit 1 is the most significant factor of the Kronecker product.
Rates gamma(w) follow PHYSICS.md section 2: w > 0 means the system *loses* energy w.

Nothing here imports davies_mb.davies: the expectations are written from the formulas, by hand.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.linalg as sla

SX = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=complex)
SY = np.array([[0.0, -1j], [1j, 0.0]], dtype=complex)
SZ = np.array([[1.0, 0.0], [0.0, -1.0]], dtype=complex)
I2 = np.eye(2, dtype=complex)
SPLUS = np.array([[0.0, 1.0], [0.0, 0.0]], dtype=complex)  # |up><down|
SMINUS = SPLUS.T.copy()


def gibbs_state(H, beta):
    """exp(-beta H) / Z for a dense Hermitian H (independent of davies_mb)."""
    E, V = np.linalg.eigh(H)
    p = np.exp(-beta * (E - E[0]))
    p /= p.sum()
    return (V * p) @ V.conj().T


def trace_distance(a, b):
    return 0.5 * float(np.sum(np.abs(np.linalg.eigvalsh(a - b))))


# --------------------------------------------------------------------------------------------------
# Two-level system H = w0 sigma^z / 2
# --------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TwoLevel:
    r"""H = w0 sigma^z / 2, coupling A = a_x sigma^x + a_z sigma^z to one bath of rates gamma(w).

    Levels: |e> = |up> (index 0) at +w0/2, |g> = |down> (index 1) at -w0/2. With lam the strength:

    * stationary excited population p_e = 1/(exp(beta w0) + 1)  (PHYSICS.md section 4);
    * populations relax at Gamma = lam^2 |<e|A|g>|^2 (gamma(w0) + gamma(-w0)) = lam^2 a_x^2 (...):
      dp_e/dt = -W_ge p_e + W_eg p_g with W_ge = lam^2 a_x^2 gamma(w0) (emission), W_eg = lam^2 a_x^2
      gamma(-w0) (absorption), so p_e(t) - p_e(inf) ~ exp(-Gamma t);
    * the coherence rho_eg rotates at E_e - E_g = w0 and decays at
      Gamma/2 + (lam^2/2) gamma(0) (A_ee - A_gg)^2 = Gamma/2 + 2 lam^2 gamma(0) a_z^2
      (PHYSICS.md section 3, non-degenerate case): rho_eg(t) = rho_eg(0) exp((-i w0 - Gamma_2) t).
    """

    w0: float = 1.0
    a_x: float = 1.0
    a_z: float = 0.0

    @property
    def H(self):
        return 0.5 * self.w0 * SZ

    @property
    def A(self):
        return self.a_x * SX + self.a_z * SZ

    def p_excited(self, beta):
        return 1.0 / (np.exp(beta * self.w0) + 1.0)

    def gibbs(self, beta):
        pe = self.p_excited(beta)
        return np.diag([pe, 1.0 - pe]).astype(complex)

    def population_rate(self, bath, lam=1.0):
        return lam**2 * self.a_x**2 * (bath.gamma(self.w0) + bath.gamma(-self.w0))

    def coherence_rate(self, bath, lam=1.0):
        dephasing = 0.5 * lam**2 * bath.gamma(0.0) * (2.0 * self.a_z) ** 2
        return 0.5 * self.population_rate(bath, lam) + dephasing

    def rho_t(self, rho0, t, bath, lam=1.0):
        """Analytic rho(t) for the Davies generator (populations and coherence)."""
        beta = bath.beta
        pe_inf = self.p_excited(beta)
        G1 = self.population_rate(bath, lam)
        G2 = self.coherence_rate(bath, lam)
        pe = pe_inf + (rho0[0, 0].real - pe_inf) * np.exp(-G1 * t)
        c = rho0[0, 1] * np.exp((-1j * self.w0 - G2) * t)
        return np.array([[pe, c], [np.conj(c), 1.0 - pe]])


# --------------------------------------------------------------------------------------------------
# Two qubits with XX (flip-flop) coupling, each with its own bath
# --------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TwoQubitsXX:
    r"""H = w1 sz1/2 + w2 sz2/2 + g (sx1 sx2 + sy1 sy2) = H0 + H_int, H_int = 2 g (s+ s- + s- s+).

    Each qubit couples through sigma^x_i to its own bath (same temperature). Expectations (PHYSICS.md
    section 4):

    * global Davies generator (jump operators of the full H): stationary state exp(-beta H)/Z, with
      correlations <H_int> != 0 (H_int mixes |ud> and |du>, whose Gibbs coherence is nonzero);
    * local master equation (Davies dissipators of the uncoupled qubits plus the coherent part of the full
      H): for resonant qubits (w1 = w2) the product of local Gibbs states rho_1 (x) rho_2 is stationary,
      because each local dissipator annihilates its local Gibbs factor and [H_int, rho_1 (x) rho_2] =
      2 g (p1_dn p2_up - p1_up p2_dn) (s+ s- - h.c.) = 0 when the two qubits have the same populations;
      then <H_int> = 0 (the product state has no |ud><du| coherence).
      (For w1 != w2 the product state is NOT stationary under the local ME.)
    """

    w1: float = 1.0
    w2: float = 1.0
    g: float = 0.2

    @property
    def H0(self):
        return 0.5 * self.w1 * np.kron(SZ, I2) + 0.5 * self.w2 * np.kron(I2, SZ)

    @property
    def H_int(self):
        return self.g * (np.kron(SX, SX) + np.kron(SY, SY))

    @property
    def H(self):
        return self.H0 + self.H_int

    @property
    def couplings(self):
        return [np.kron(SX, I2), np.kron(I2, SX)]

    def global_gibbs(self, beta):
        return gibbs_state(self.H, beta)

    def local_product_gibbs(self, beta):
        return np.kron(gibbs_state(0.5 * self.w1 * SZ, beta), gibbs_state(0.5 * self.w2 * SZ, beta))

    def interaction_energy_gibbs(self, beta):
        """Analytic <H_int> in exp(-beta H)/Z.

        In the one-excitation block {|ud>, |du>} H = [[dw/2, 2g], [2g, -dw/2]] (dw = w1 - w2), with
        eigenvalues +-Om, Om = sqrt(dw^2/4 + 4 g^2), H_int = 2 g sigma^x there and
        exp(-beta H_block) = cosh(beta Om) - sinh(beta Om) H_block / Om, so
        tr(exp(-beta H_block) H_int) = -8 g^2 sinh(beta Om) / Om. The |uu>, |dd> states carry no H_int.
        """
        dw = self.w1 - self.w2
        om = np.sqrt(dw**2 / 4 + 4 * self.g**2)
        wbar = 0.5 * (self.w1 + self.w2)
        z_uu, z_dd = np.exp(-beta * wbar), np.exp(beta * wbar)
        z_block = 2 * np.cosh(beta * om)
        hint_block = -8 * self.g**2 * np.sinh(beta * om) / om
        return float(hint_block / (z_uu + z_dd + z_block))


# --------------------------------------------------------------------------------------------------
# Random Hermitian matrices with controlled degeneracies (for property tests)
# --------------------------------------------------------------------------------------------------
def random_unitary(rng, d, real=False):
    if real:
        Q, R = np.linalg.qr(rng.normal(size=(d, d)))
        return Q * np.sign(np.diag(R))
    Z = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    Q, R = np.linalg.qr(Z)
    ph = np.diag(R) / np.abs(np.diag(R))
    return Q * ph


def random_hermitian(rng, d, scale=1.0, real=False):
    X = rng.normal(size=(d, d)) + (0 if real else 1j * rng.normal(size=(d, d)))
    return scale * 0.5 * (X + X.conj().T)


def hamiltonian_with_spectrum(rng, energies, real=False):
    """U diag(E) U^+ with a random (Haar-like) unitary: exact repeated eigenvalues stay repeated to ~1e-15."""
    E = np.asarray(energies, dtype=float)
    U = random_unitary(rng, E.size, real=real)
    H = (U * E) @ U.conj().T
    return 0.5 * (H + H.conj().T)


def energies_of_kind(rng, d, kind):
    """Spectra for property tests.

    kind = "generic": random, non-degenerate;
    "degenerate": repeated eigenvalues (levels of degeneracy up to 3);
    "ladder": equally spaced (every Bohr frequency k * delta is degenerate);
    "degenerate_ladder": equally spaced with a repeated rung (degenerate levels and Bohr frequencies).
    """
    if kind == "generic":
        return np.sort(rng.uniform(-2.0, 2.0, size=d))
    if kind == "degenerate":
        nlev = max(1, d - int(rng.integers(1, max(2, d // 2 + 1))))
        lev = rng.uniform(-2.0, 2.0, size=nlev)
        E = np.concatenate([lev, rng.choice(lev, size=d - nlev)])
        return np.sort(E)
    if kind == "ladder":
        delta = rng.uniform(0.3, 1.2)
        return delta * np.arange(d) - 0.5 * delta * (d - 1)
    if kind == "degenerate_ladder":
        delta = rng.uniform(0.3, 1.2)
        k = delta * np.arange(d - 1)
        return np.sort(np.concatenate([k, [k[rng.integers(0, d - 1)]]]))
    raise ValueError(kind)


def expm_evolve(L, rho0, t):
    """rho(t) = unvec(expm(t L) vec(rho0)), column stacking."""
    d = rho0.shape[0]
    v = sla.expm(t * L) @ rho0.reshape(-1, order="F")
    return v.reshape(d, d, order="F")
