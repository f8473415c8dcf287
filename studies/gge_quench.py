"""Study: generalized Gibbs ensembles after a quench (issue 6).

Three quenches, each compared in the diagonal ensemble (DE, exact diagonalization), the GGE, the Gibbs state
of the same energy, and the long-time dynamics:

1. Transverse-field Ising ring, ground state of g0 -> evolution with g1 (Pauli matrices,
   H = -sum s^z s^z - g sum s^x). Observables m_x = <s^x_j>, zz = <s^z_j s^z_j+1>. ED in the symmetric
   sector (k = 0, reflection +1, parity prod s^x = +1) of the initial state; free fermions up to L = 400.
   Reference (Calabrese, Essler, Fagotti, PRL 106, 227203 (2011)), g 0.5 -> 2.0: m_x = 0.467108 (GGE),
   0.593421 (Gibbs at the same energy).
2. XX chain (open, S = sigma/2) from the tilted product state prod_j (cos(th_j/2)|up> + sin(th_j/2)|down>)
   with alternating angles th = (pi/2, pi/3, pi/2, ...): it has a nonzero energy, non-thermal mode
   occupations n_k, and (not being translation invariant) quadratic observables that actually evolve. (Every z-basis product state has zero
   XX energy, and the Neel state has n_k = 1/2 on the ring: its GGE is the infinite-temperature state, the
   same as Gibbs, which the JSON records.) Observables at the central bond: NN hopping <SxSx + SySy>,
   next-nearest fermion hopping <c+_i c_i+2 + h.c.>, density wave <Sz_i - Sz_i+1> (quadratic) and
   <Sz Sz> (quartic; GGE and Gibbs values by Wick's theorem, exact for these Gaussian ensembles).
3. XXZ ring, Neel state, Delta = 0.5: integrable (J2 = 0) against chaotic (J2 = 1): |DE - Gibbs| vs L.
   Plus truncated GGEs of the integrable ring with H, S^z, Q3, Q4 (spin spiral carrying energy current).

Run: ``python studies/gge_quench.py [--quick]``; writes results/gge_quench/*.json and *.png.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scipy.optimize as so  # noqa: E402
import scipy.sparse as sp  # noqa: E402

import davies_mb as dm  # noqa: E402
from davies_mb import integrable as ig  # noqa: E402
from davies_mb.io import save_json  # noqa: E402

OUT = Path("results/gge_quench")
CEF = dict(g0=0.5, g1=2.0, mx_gge=0.467108, mx_gibbs=0.593421)


# -- helpers (public API only) ---------------------------------------------------------------------------
def sector_problem(chain, sector):
    """H, isometry P of one symmetry sector (dense H inside the sector)."""
    P = dm.sector_basis(chain.L, **sector)
    return chain.hamiltonian(sparse=False, sector=sector), sp.csr_array(P)


def restrict(op, P):
    M = P.conj().T @ op @ P
    return M.toarray() if sp.issparse(M) else np.asarray(M)


def de_values(spec, psi, ops):
    """Diagonal-ensemble expectation values (dm.diagonal_ensemble) of operators in the spectrum's basis."""
    rde = dm.diagonal_ensemble(spec, psi)
    return [float(np.real(np.sum(np.asarray(O).T * rde))) for O in ops], rde


def beta_at_energy(E, e0):
    def f(b):
        w = np.exp(-b * (E - (E[0] if b > 0 else E[-1])))
        return (E @ w) / w.sum() - e0
    return so.brentq(f, -200, 200, xtol=1e-14)


def extrapolate(Ls, values, power=None):
    """L -> infinity estimate from the last three points (equally spaced L).

    ``power=None``: Shanks transform, exact for geometric convergence a + b q^L (gapped free fermions);
    otherwise a least-squares fit of a + b / L^power.
    """
    x = np.asarray(values[-3:], dtype=float)
    if power is None:
        den = x[2] - 2 * x[1] + x[0]
        return float(x[2] - (x[2] - x[1]) ** 2 / den) if den != 0 else float(x[2])
    a = np.polyfit(1.0 / np.asarray(Ls[-3:], dtype=float) ** power, x, 1)[1]
    return float(a)


# -- 1. TFIM ------------------------------------------------------------------------------------------------
def tfim_ff(L, g0, g1):
    m0, m1 = ig.tfim_modes(L, "periodic", g=g0), ig.tfim_modes(L, "periodic", g=g1)
    G0 = ig.gaussian_correlations(m0, ig.ground_state_occupations(m0))
    n = ig.mode_occupations(m1, G0)
    energy = m1.constant + m1.energies @ n
    G = ig.gaussian_correlations(m1, n)
    gib = dm.free_fermion_gibbs(m1, energy)
    Gt = ig.gaussian_correlations(m1, gib["occupations"])
    obs = lambda M: (float(np.mean(np.diag(M, 1)[::2])), float(np.mean(np.diag(M, 1)[1::2][: L - 1])))  # noqa: E731
    return dict(L=L, energy_density=energy / L, beta=gib["beta"], gge=obs(G), gibbs=obs(Gt), modes=m1, G0=G0,
                occupations=n)


def tfim_quench(g0, g1, Ls_ed, Ls_ff, t_max, n_t):
    rows = []
    for L in Ls_ff:
        r = tfim_ff(L, g0, g1)
        rows.append(dict(L=L, method="free fermions", mx_gge=r["gge"][0], zz_gge=r["gge"][1],
                         mx_gibbs=r["gibbs"][0], zz_gibbs=r["gibbs"][1], beta=r["beta"],
                         energy_density=r["energy_density"]))
    ed = []
    sector = dict(k=0, parity=1, flip=1)
    for L in Ls_ed:
        t0 = time.perf_counter()
        H0, P = sector_problem(dm.tfim(L, g0, bc="periodic"), sector)
        ch1 = dm.tfim(L, g1, bc="periodic")
        H1, _ = sector_problem(ch1, sector)
        psi = np.linalg.eigh(H0)[1][:, 0]
        spec = dm.diagonalize(H1)
        # the sector is translation invariant: use the translation-averaged operators
        zz = restrict(sum(ch1.pauli("z", s) @ ch1.pauli("z", (s + 1) % L) for s in range(L)) / L, P)
        mx = restrict(sum(ch1.pauli("x", s) for s in range(L)) / L, P)
        (mx_de, zz_de), _ = de_values(spec, psi, [mx, zz])
        ff = tfim_ff(L, g0, g1)
        ed.append(dict(L=L, sector_dim=int(P.shape[1]), mx_de=mx_de, zz_de=zz_de, mx_gge=ff["gge"][0],
                       zz_gge=ff["gge"][1], seconds=time.perf_counter() - t0))
    # dynamics: ED at the largest L, free fermions at L = 200
    L = Ls_ed[-1]
    times = np.linspace(0, t_max, n_t)
    H0, P = sector_problem(dm.tfim(L, g0, bc="periodic"), sector)
    ch1 = dm.tfim(L, g1, bc="periodic")
    H1, _ = sector_problem(ch1, sector)
    psi = np.linalg.eigh(H0)[1][:, 0]
    mx = restrict(sum(ch1.pauli("x", s) for s in range(L)) / L, P)
    mx_t_ed = dm.unitary_expect(dm.diagonalize(H1), [mx], psi, times)[0]
    big = tfim_ff(200, g0, g1)
    Gt = ig.evolve_correlations(big["modes"], big["G0"], times)
    mx_t_ff = np.array([np.mean(np.diag(G, 1)[::2]) for G in Gt])
    inf = rows[-1]
    table = [dict(L=e["L"], dev_de_gge_inf=e["mx_de"] - inf["mx_gge"], dev_de_gibbs_inf=e["mx_de"] - inf["mx_gibbs"],
                  dev_zz_de_gge_inf=e["zz_de"] - inf["zz_gge"]) for e in ed]
    Ls = [e["L"] for e in ed]
    extra = dict(mx_de=extrapolate(Ls, [e["mx_de"] for e in ed]), zz_de=extrapolate(Ls, [e["zz_de"] for e in ed]))
    late = times >= times[-1] / 2
    return dict(g0=g0, g1=g1, free_fermions=rows, ed=ed, deviation_table=table, extrapolated=extra,
                times=times, mx_t_ed=mx_t_ed, mx_t_ff_L200=mx_t_ff, L_dynamics_ed=L,
                mx_late_time_average_L200=float(mx_t_ff[late].mean()),
                mx_late_time_average_ed=float(mx_t_ed[late].mean()))


def plot_tfim(res, path):
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    a = ax[0]
    a.plot(res["times"], res["mx_t_ff_L200"], lw=1, label="dynamics, free fermions L=200")
    a.plot(res["times"], res["mx_t_ed"], lw=1, ls="--", label=f"dynamics, ED L={res['L_dynamics_ed']}")
    inf = res["free_fermions"][-1]
    a.axhline(inf["mx_gge"], color="k", label=f"GGE {inf['mx_gge']:.6f}")
    a.axhline(inf["mx_gibbs"], color="r", label=f"Gibbs {inf['mx_gibbs']:.6f}")
    a.set(xlabel="t", ylabel=r"$m_x = \langle\sigma^x\rangle$", title=f"TFIM quench g {res['g0']} -> {res['g1']}")
    a.legend(fontsize=7)
    b = ax[1]
    Ls = [e["L"] for e in res["ed"]]
    b.plot(Ls, [e["mx_de"] for e in res["ed"]], "o-", label="DE (ED)")
    b.axhline(inf["mx_gge"], color="k", label="GGE, L=%d" % inf["L"])
    b.axhline(inf["mx_gibbs"], color="r", label="Gibbs, same energy")
    b.set(xlabel="L", ylabel=r"$m_x$", title="diagonal ensemble vs L")
    b.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# -- 2. XX ---------------------------------------------------------------------------------------------------
XX_OBS = ["SxSx+SySy (i,i+1)", "c+_i c_i+2 + h.c.", "SzSz (i,i+1)", "Sz_i - Sz_i+1"]


def xx_obs_from_C(C, i):
    """Central-bond observables of a Gaussian (Wick) state from C_ij = <c+_i c_j>."""
    hop = float(np.real(C[i, i + 1]))                       # <SxSx + SySy> = Re C_{i,i+1}
    nnn = float(2 * np.real(C[i, i + 2]))                   # <c+_i c_i+2 + h.c.>
    zz = float(np.real((C[i, i] - 0.5) * (C[i + 1, i + 1] - 0.5) - abs(C[i, i + 1]) ** 2))  # Wick
    dw = float(np.real(C[i, i] - C[i + 1, i + 1]))          # density wave <Sz_i - Sz_i+1>
    return hop, nnn, zz, dw


def angles(L, theta_even, theta_odd):
    return np.array([theta_even if s % 2 == 0 else theta_odd for s in range(L)])


def tilted_psi(th):
    psi = np.ones(1)
    for t in th:
        psi = np.kron(psi, [np.cos(t / 2), np.sin(t / 2)])
    return psi


def xx_ops(chain, i):
    return [(chain.op("x", i) @ chain.op("x", i + 1) + chain.op("y", i) @ chain.op("y", i + 1)).real,
            -0.5 * chain.parse_operator(f"x{i}*z{i + 1}*x{i + 2} + y{i}*z{i + 1}*y{i + 2}"),
            chain.op("z", i) @ chain.op("z", i + 1),
            chain.op("z", i) - chain.op("z", i + 1)]


def xx_quench(theta_even, theta_odd, hz, Ls_ed, Ls_ff, t_max, n_t):
    rows, ed = [], []
    for L in Ls_ff:
        m = ig.xx_modes(L, "open", hz=hz)
        C0 = ig.tilted_state_correlations(L, angles(L, theta_even, theta_odd))
        n = ig.mode_occupations(m, C0)
        energy, number = m.constant + m.energies @ n, float(np.real(np.trace(C0)))
        gib = dm.free_fermion_gibbs(m, energy, number)
        i = L // 2 - 1
        rows.append(dict(L=L, initial=xx_obs_from_C(C0, i), gge=xx_obs_from_C(ig.gaussian_correlations(m, n), i),
                         gibbs=xx_obs_from_C(ig.gaussian_correlations(m, gib["occupations"]), i),
                         beta=gib["beta"], mu=gib["mu"]))
    for L in Ls_ed:
        chain = dm.xx(L, hz=hz)
        i = L // 2 - 1
        th = angles(L, theta_even, theta_odd)
        rde = dm.diagonal_ensemble(dm.diagonalize(chain), tilted_psi(th))
        vals = [float(np.real(np.sum(O.T.multiply(rde)))) for O in xx_ops(chain, i)]
        m = ig.xx_modes(L, "open", hz=hz)
        n = ig.mode_occupations(m, ig.tilted_state_correlations(L, th))
        ed.append(dict(L=L, de=vals, gge=xx_obs_from_C(ig.gaussian_correlations(m, n), i)))
    # dynamics: ED at the largest size (all observables); free fermions at L = 200 for the quadratic ones
    # (hopping, next-nearest hopping, density wave). SzSz needs Wick, which the non-Gaussian initial state
    # only satisfies after relaxation: its free-fermion curve is not drawn.
    L = Ls_ed[-1]
    times = np.linspace(0, t_max, n_t)
    chain = dm.xx(L, hz=hz)
    i = L // 2 - 1
    dyn_ed = dm.unitary_expect(dm.diagonalize(chain), xx_ops(chain, i),
                               tilted_psi(angles(L, theta_even, theta_odd)), times)
    Lb = 200
    m = ig.xx_modes(Lb, "open", hz=hz)
    Ct = ig.evolve_correlations(m, ig.tilted_state_correlations(Lb, angles(Lb, theta_even, theta_odd)), times)
    dyn_ff = np.array([xx_obs_from_C(C, Lb // 2 - 1) for C in Ct]).T
    inf = rows[-1]
    late = times >= times[-1] / 2
    late_avg = dict(ed=dyn_ed[:, late].mean(axis=1), ff_L200=dyn_ff[:, late].mean(axis=1))
    table = [dict(L=e["L"], dev_de_gge_inf=[a - b for a, b in zip(e["de"], inf["gge"])],
                  dev_de_gibbs_inf=[a - b for a, b in zip(e["de"], inf["gibbs"])],
                  dev_de_gge_same_L=[a - b for a, b in zip(e["de"], e["gge"])]) for e in ed]
    Ls = [e["L"] for e in ed]
    extra = {name: extrapolate(Ls, [e["de"][k] for e in ed], power=1)
             for k, name in enumerate(["hop", "nnn", "zz", "density_wave"])}
    # the Neel warning, measured
    mr = ig.xx_modes(16, "periodic", parity=1)
    neel = np.diag([1.0 if s % 2 == 0 else 0.0 for s in range(16)])
    neel_dev = float(np.max(np.abs(ig.mode_occupations(mr, neel) - 0.5)))
    return dict(theta_even=theta_even, theta_odd=theta_odd, hz=hz, observables=XX_OBS,
                free_fermions=rows, ed=ed, deviation_table=table, extrapolated_de=extra, times=times,
                dyn_ed=dyn_ed, dyn_ff_L200=dyn_ff, L_dynamics_ed=L, late_time_average=late_avg,
                neel_ring_L16_max_abs_nk_minus_half=neel_dev)


def plot_xx(res, path):
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    inf = res["free_fermions"][-1]
    for k, name in ((1, "NNN hopping"), (3, "density wave"), (2, "SzSz")):
        col = f"C{k}"
        ax[0].plot(res["times"], res["dyn_ed"][k], color=col, lw=0.8, ls="--", label=f"{name}: ED L={res['L_dynamics_ed']}")
        if k != 2:
            ax[0].plot(res["times"], res["dyn_ff_L200"][k], color=col, lw=1.2, label=f"{name}: free fermions L=200")
        ax[0].axhline(inf["gge"][k], color=col, lw=1.5, alpha=0.6, label=f"{name}: GGE")
        ax[0].axhline(inf["gibbs"][k], color=col, lw=1.2, ls=":", label=f"{name}: Gibbs")
    ax[0].set(xlabel="t", title=f"XX quench, tilted state theta = ({res['theta_even']:.3f}, {res['theta_odd']:.3f})")
    ax[0].legend(fontsize=6, ncol=2)
    Ls = [e["L"] for e in res["ed"]]
    for k, name in enumerate(["NN hopping", "NNN hopping", "SzSz"]):
        ax[1].plot(Ls, [e["de"][k] for e in res["ed"]], "o-", color=f"C{k}", label=f"{name}: DE (ED)")
        ax[1].axhline(inf["gge"][k], color=f"C{k}", lw=1.5, alpha=0.6)
        ax[1].axhline(inf["gibbs"][k], color=f"C{k}", lw=1.2, ls=":")
    ax[1].set(xlabel="L", title="DE vs L (lines: GGE solid, Gibbs dotted, L=400)")
    ax[1].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# -- 3. XXZ: integrable vs chaotic, truncated GGE -------------------------------------------------------------
def xxz_de_vs_gibbs(delta, j2s, Ls):
    out = []
    for j2 in j2s:
        for L in Ls:
            t0 = time.perf_counter()
            chain = dm.xxz(L, delta, j2=j2, bc="periodic")
            H, P = sector_problem(chain, dict(sz=0))
            psi = (P.conj().T @ dm.product_state(L, "neel"))
            zz = restrict(sum(chain.op("z", s) @ chain.op("z", (s + 1) % L) for s in range(L)) / L, P)
            xx_ = restrict(sum(chain.op("x", s) @ chain.op("x", (s + 1) % L) for s in range(L)) / L, P)
            spec = dm.diagonalize(H)
            (zz_de, xx_de), _ = de_values(spec, psi, [zz, xx_])
            E = spec.energies
            e0 = float(np.real(np.vdot(psi, H @ psi)))
            beta = beta_at_energy(E, e0)
            w = np.exp(-beta * (E - (E[0] if beta > 0 else E[-1])))
            w /= w.sum()
            zz_g, xx_g = spec.expect(zz, w), spec.expect(xx_, w)
            out.append(dict(j2=j2, L=L, beta=beta, zz_de=zz_de, zz_gibbs=zz_g, xx_de=xx_de, xx_gibbs=xx_g,
                            dev_zz=zz_de - zz_g, dev_xx=xx_de - xx_g, seconds=time.perf_counter() - t0))
    return out


def truncated_gge(delta, Ls, theta=np.pi / 3, winding=2):
    out = []
    for L in Ls:
        chain = dm.xxz(L, delta, bc="periodic")
        H = chain.hamiltonian(sparse=False)
        Sz, Q3, Q4 = chain.total("z"), ig.xxz_charge(L, 3, delta), ig.xxz_charge(L, 4, delta)
        psi = np.ones(1, dtype=complex)
        for s in range(L):
            psi = np.kron(psi, [np.cos(theta / 2), np.exp(2j * np.pi * winding * s / L) * np.sin(theta / 2)])
        spec = dm.diagonalize(chain)
        rde = dm.diagonal_ensemble(spec, psi)
        ops = {"SzSz": chain.op("z", 0) @ chain.op("z", 1),
               "SxSx+SySy": (chain.op("x", 0) @ chain.op("x", 1) + chain.op("y", 0) @ chain.op("y", 1)).real,
               "spin current": (chain.op("x", 0) @ chain.op("y", 1) - chain.op("y", 0) @ chain.op("x", 1))}
        def ev(O, rho):
            return float(np.real(np.sum(O.T.multiply(rho))))
        row = dict(L=L, Q3_0=float(np.real(np.vdot(psi, Q3 @ psi))), de={k: ev(O, rde) for k, O in ops.items()})
        for name, charges in (("gibbs_H", [H]), ("gge_H_Sz", [H, Sz]), ("gge_H_Sz_Q3", [H, Sz, Q3]),
                              ("gge_H_Sz_Q3_Q4", [H, Sz, Q3, Q4])):
            r = dm.gge(charges, psi, hamiltonian=H)
            row[name] = dict(relative_entropy_DE=dm.relative_entropy(rde, r.rho),
                             trace_distance_DE=dm.trace_distance(rde, r.rho), multipliers=r.multipliers,
                             observables={k: ev(O, r.rho) for k, O in ops.items()})
        out.append(row)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    a = p.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    q = a.quick
    Ls_ff = [8, 12, 16, 24, 50, 100, 200, 400]
    tf_ed = [8, 10, 12, 14] if q else [8, 10, 12, 14, 16, 18]
    summary = {}
    for g1 in ([2.0] if q else [2.0, 1.0, 0.2]):
        res = tfim_quench(CEF["g0"], g1, tf_ed, Ls_ff, t_max=20.0, n_t=401)
        tag = f"tfim_g0_{CEF['g0']}_g1_{g1}"
        save_json(OUT / f"{tag}.json", res, params=dict(model="tfim", bc="periodic", j=1.0, g0=CEF["g0"], g1=g1,
                                                        sector_ed=dict(k=0, parity=1, flip=1)))
        plot_tfim(res, OUT / f"{tag}.png")
        inf = res["free_fermions"][-1]
        summary[tag] = dict(mx_gge_L400=inf["mx_gge"], mx_gibbs_L400=inf["mx_gibbs"],
                            mx_de_extrapolated=res["extrapolated"]["mx_de"],
                            mx_de_largest_L=res["ed"][-1]["mx_de"])
        print(f"TFIM {CEF['g0']} -> {g1}: m_x GGE {inf['mx_gge']:.6f}, Gibbs {inf['mx_gibbs']:.6f}, "
              f"DE(L={res['ed'][-1]['L']}) {res['ed'][-1]['mx_de']:.6f}, DE extrapolated {res['extrapolated']['mx_de']:.6f}")
        for row in res["deviation_table"]:
            print(f"   L={row['L']:3d}  DE-GGE(inf) {row['dev_de_gge_inf']:+.2e}  DE-Gibbs {row['dev_de_gibbs_inf']:+.2e}")
    xx_ed = [8, 10, 12]  # the DE is a dense 2^L x 2^L matrix: L = 14 would need 2 GiB
    res = xx_quench(np.pi / 2, np.pi / 3, 0.0, xx_ed, Ls_ff, t_max=100.0, n_t=1001)
    save_json(OUT / "xx_tilted.json", res, params=dict(model="xx", bc="open", theta_even=np.pi / 2,
                                                        theta_odd=np.pi / 3, hz=0.0))
    plot_xx(res, OUT / "xx_tilted.png")
    summary["xx_tilted"] = dict(gge_L400=res["free_fermions"][-1]["gge"], gibbs_L400=res["free_fermions"][-1]["gibbs"],
                                de_extrapolated=res["extrapolated_de"], neel_nk=res["neel_ring_L16_max_abs_nk_minus_half"])
    print("XX tilted (hop, nnn, zz, density wave): GGE", np.round(res["free_fermions"][-1]["gge"], 6), "Gibbs",
          np.round(res["free_fermions"][-1]["gibbs"], 6), "DE extrapolated", res["extrapolated_de"])
    for row in res["deviation_table"]:
        print(f"   L={row['L']:3d}  DE-GGE(inf) {np.round(row['dev_de_gge_inf'], 5)}  DE-Gibbs "
              f"{np.round(row['dev_de_gibbs_inf'], 5)}  DE-GGE(L) {np.round(row['dev_de_gge_same_L'], 12)}")
    xz_L = [8, 10, 12] if q else [8, 10, 12, 14]
    rows = xxz_de_vs_gibbs(0.5, [0.0, 1.0], xz_L)
    trends = {}
    for j2 in (0.0, 1.0):
        sel = [r for r in rows if r["j2"] == j2]
        Ls_, dev = np.array([r["L"] for r in sel]), np.array([abs(r["dev_zz"]) for r in sel])
        rate = -np.polyfit(Ls_, np.log(dev), 1)[0]
        trends[f"j2={j2}"] = dict(L=Ls_, abs_dev_zz=dev, exponential_decay_rate_per_site=float(rate),
                                  dev_zz_extrapolated_1_over_L=extrapolate(Ls_, [r["dev_zz"] for r in sel], power=1))
    tg = truncated_gge(0.5, [8] if q else [8, 10])
    save_json(OUT / "xxz.json", dict(de_vs_gibbs=rows, trends=trends, truncated_gge=tg),
              params=dict(model="xxz", bc="periodic", delta_de=0.5, j2=[0.0, 1.0], initial="neel",
                          delta_gge=0.5, spiral_theta=np.pi / 3, winding=2))
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for j2, mk in ((0.0, "o-"), (1.0, "s-")):
        sel = [r for r in rows if r["j2"] == j2]
        ax.semilogy([r["L"] for r in sel], [abs(r["dev_zz"]) for r in sel], mk,
                    label=f"J2={j2} ({'integrable' if j2 == 0 else 'chaotic'})")
    ax.set(xlabel="L", ylabel=r"$|\langle S^zS^z\rangle_{DE} - \langle S^zS^z\rangle_{Gibbs}|$",
           title="XXZ ring, Neel, Delta=0.5 (S^z=0 sector)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "xxz_de_vs_gibbs.png", dpi=120)
    plt.close(fig)
    for r in rows:
        print(f"XXZ J2={r['j2']} L={r['L']}: DE-Gibbs zz {r['dev_zz']:+.3e}, xx {r['dev_xx']:+.3e} ({r['seconds']:.1f} s)")
    for k, v in trends.items():
        print(f"XXZ {k}: |DE-Gibbs| zz: exponential fit rate {v['exponential_decay_rate_per_site']:.3f} per site, "
              f"a + b/L fit of DE-Gibbs -> {v['dev_zz_extrapolated_1_over_L']:+.4f} (meaningful for a power law)")
    summary["xxz"] = trends
    for r in tg:
        print(f"truncated GGE L={r['L']} (Q3_0={r['Q3_0']:.3f}): S(DE||.) " + ", ".join(
            f"{k} {r[k]['relative_entropy_DE']:.4f}" for k in ("gibbs_H", "gge_H_Sz", "gge_H_Sz_Q3", "gge_H_Sz_Q3_Q4")))
        print("   local observables (DE | " + " | ".join(("gibbs_H", "gge_H_Sz", "gge_H_Sz_Q3", "gge_H_Sz_Q3_Q4")) + "):")
        for obs in r["de"]:
            print(f"   {obs:<12} {r['de'][obs]: .5f} | " + " | ".join(
                f"{r[k]['observables'][obs]: .5f}" for k in ("gibbs_H", "gge_H_Sz", "gge_H_Sz_Q3", "gge_H_Sz_Q3_Q4")))
    summary["seconds"] = time.perf_counter() - t0
    save_json(OUT / "summary.json", summary, params=dict(quick=q))
    print(f"done in {summary['seconds']:.0f} s; results in {OUT}/")


if __name__ == "__main__":
    main()
