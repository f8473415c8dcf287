print('@@BLOCK 0')
import numpy as np
import davies_mb as dm

chain = dm.xxz(L=6, delta=0.5)              # open XXZ chain, S = sigma/2, J = 1
print(chain)
print(sorted(chain.symmetries), chain.dim)
H = chain.hamiltonian()                     # scipy.sparse.csr_array, built by quimb
print(type(H).__name__, H.shape)
A = chain.parse_operator("x0+z1")           # Pauli sums: sigma^x_0 + sigma^z_1 (sigma, not S)
print(abs(A - (chain.pauli("x", 0) + chain.pauli("z", 1))).max())
print(chain.op("z", 0).diagonal()[:2], chain.total("z").diagonal()[:4])

print('@@BLOCK 1')
spec = dm.diagonalize(chain)                # full space, one eigh per total-S^z block
print(spec.n, spec.dim, len(spec.blocks), spec.level_energies.size, spec.degeneracies.max())
print(np.round(spec.energies[:4], 6), spec.level_tol)
print(dm.sector_dimension(6, dict(sz=0)), dm.sector_dimension(6, dict(sz=0, parity=1, flip=1)))
print(dm.sector_labels(6, ["sz", "flip"])[:4])
P = dm.sector_basis(6, sz=0, parity=1, flip=1)   # isometry: H_sector = P^dag H P
print(P.shape, P.dtype)
sec = dm.diagonalize(chain, sector=dict(sz=0, parity=1, flip=1))
print(sec.n, sec.dim, np.round(sec.energies[:3], 6))

print('@@BLOCK 2')
bath = dm.OhmicBath(beta=1.0, eta=1.0, cutoff=5.0)
print(bath.gamma(np.array([1.0, -1.0, 0.0])))        # emission, absorption, w = 0
print(bath.gamma(1.0) / bath.gamma(-1.0), np.exp(1.0))  # KMS: e^{beta w}
print(bath.gamma_zero, dm.OhmicBath(beta=1.0, s=3).gamma_zero)
print(dm.DrudeLorentzBath(beta=2.0, eta=0.5, cutoff=1.0).gamma(0.0))
print(round(bath.lamb_shift(1.0), 6))

print('@@BLOCK 3')
gen = dm.DaviesGenerator(spec, couplings=[A], bath=bath, strength=0.1)
print(gen)
print(gen.gap(), gen.relaxation_time())
print(gen.relaxation_rates(5))
rep = gen.check()
print(f"{rep.trace:.1e} {rep.gibbs:.1e} {rep.kms:.1e} {rep.hermiticity:.1e}", rep.ok())

print('@@BLOCK 4')
gibbs = spec.gibbs(1.0)
Sz = chain.total("z").toarray()
Px = np.eye(1)
for j in range(6):
    Px = np.kron(Px, dm.pauli("x"))
neel = np.zeros(64); neel[int("010101", 2)] = 1.0
rho0 = np.outer(neel, neel)

def tdist(a, b):
    return 0.5 * np.abs(np.linalg.eigvalsh(a - b)).sum()

for text in ["z0", "x0", "x0+z1"]:
    g = dm.DaviesGenerator(spec, [chain.parse_operator(text)], bath, strength=0.1)
    rho_inf = g.stationary_state(rho0)
    print(f"{text:6s} stationary={g.kernel_dimension()} conserved={len(g.conserved_quantities())} "
          f"<Px>={np.trace(Px @ rho_inf).real:+.4f} dist_to_gibbs={tdist(rho_inf, gibbs):.4f}")
g = dm.DaviesGenerator(spec, [chain.pauli("z", 0)], bath, strength=0.1)
print(np.round([np.trace(Sz @ s).real for s in g.stationary_states()], 6))

print('@@BLOCK 5')
import scipy.linalg as sla
rng = np.random.default_rng(0)
psi = rng.normal(size=64) + 1j * rng.normal(size=64); psi /= np.linalg.norm(psi)
rho_r = np.outer(psi, psi.conj())
sz = np.round(chain.total("z").diagonal()).astype(int)
expH = sla.expm(-1.0 * chain.hamiltonian(sparse=False))
pred = np.zeros((64, 64), dtype=complex)
for m in range(-3, 4):
    Pm = np.diag((sz == m).astype(float))
    pred += np.trace(Pm @ rho_r) * (Pm @ expH @ Pm) / np.trace(Pm @ expH)
print(np.abs(g.stationary_state(rho_r) - pred).max() < 1e-12)

print('@@BLOCK 6')
times = np.array([0.0, 10.0, 100.0, 1000.0])
stag = sum((-1) ** j * chain.op("z", j) for j in range(6))   # staggered magnetization
print(np.round(gen.expect([H, stag], rho0, times), 5))       # (n_ops, n_times), real
print(round(spec.expect(H, spec.gibbs_weights(1.0)), 5))
rhos = gen.evolve(rho0, times)                               # (n_times, d, d)
print(rhos.shape, np.abs(rhos[-1] - gibbs).max() < 1e-12)

print('@@BLOCK 7')
g1 = dm.DaviesGenerator(spec, [A], bath, strength=1.0)
lams = np.logspace(-3, -1, 5)
gaps = np.array([g1.with_strength(lam).gap() for lam in lams])   # reuses all eigen-data
print(gaps / lams**2)
print(np.polyfit(np.log(lams), np.log(1 / gaps), 1)[0])

print('@@BLOCK 8')
Az = chain.pauli("z", 0)
print(np.round(dm.DaviesGenerator(spec, [Az], bath, strength=0.1).relaxation_rates(2), 6))
for s in (0, 1, 2):
    gs = dm.DaviesGenerator(dm.diagonalize(chain, sector=dict(sz=s)), [Az], bath, strength=0.1)
    print(s, gs.kernel_dimension(), np.round(gs.relaxation_rates(2), 6))

print('@@BLOCK 9')
c5 = dm.xxz(5, 0.5)
g5 = dm.DaviesGenerator(dm.diagonalize(c5), [c5.pauli("z", 2)], bath, strength=0.1)
print(g5.kernel_dimension(), g5.persistent_oscillations(), g5.gap())
