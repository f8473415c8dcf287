"""ETH dephasing versus bath dissipation: three routes to thermal behaviour after a Neel quench.

Routes (periodic XXZ chain, Delta = Delta2 = 0.55; observable: the nearest-neighbour correlation
S^z_j S^z_{j+1}, bond-averaged, which for the Neel state equals <S^z_0 S^z_1>):
  1. isolated chaotic chain (J2 = 0.5): the observable dephases to the diagonal ensemble, which is close
     to the canonical value at the Neel energy; the dephasing time hardly depends on L;
  2. isolated integrable chain (J2 = 0): it dephases just as fast, but to a non-thermal value (GGE /
     diagonal ensemble);
  3. integrable chain + weak Davies bath (coupling sigma^x_0 + sigma^z_1, Ohmic, beta fixed so that the
     Gibbs energy equals the Neel energy): two steps, fast dephasing to the non-thermal plateau, then
     relaxation to the thermal value on t_eq = 1/gap ~ 1/lambda^2.
Also: level statistics (pooled fully resolved S^z = 0 sectors) of both chains against the surmises, and a
conserved density (domain-wall S^z imbalance) relaxing slowly against a local non-conserved observable.

Writes results/eth_vs_bath/eth_vs_bath.json and eth_vs_bath.png. Public API only.

    .venv/bin/python studies/eth_vs_bath.py                # L = 10..16, levels at L = 16, bath at L = 8
    .venv/bin/python studies/eth_vs_bath.py --quick        # smaller sizes (about a minute)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import davies_mb as dm
from davies_mb.io import save_json

DELTA, J2 = 0.55, 0.5


def chain_of(L, j2):
    return dm.xxz(L, DELTA, j2=j2, bc="periodic")


def bond_zz(chain):
    return dm.eth.symmetrize(chain, chain.op("z", 0) @ chain.op("z", 1))


def isolated_route(sizes, j2, times):
    """Neel quench of the isolated chain at each L: O(t), diagonal ensemble, canonical value, dephasing time."""
    out = []
    for L in sizes:
        t0 = time.perf_counter()
        chain = chain_of(L, j2)
        O = bond_zz(chain)
        q = dm.eth.quench(chain, dm.product_state(L, "neel"), [O], times)
        d = dm.eth.diagonal_eth(chain, chain.op("z", 0) @ chain.op("z", 1), 0)
        beta, thermal = dm.eth.thermal_value(d.energies, d.values, q.energy)
        out.append(dict(L=L, values=q.values[0], diagonal=float(q.diagonal[0]), thermal=thermal, beta=beta,
                        energy=q.energy, t_dephasing=dm.eth.dephasing_time(times, q.values[0], q.diagonal[0]),
                        eth_fluctuation=d.fluctuation, mc_deviation=d.mc_deviation,
                        seconds=time.perf_counter() - t0))
        print(f"  L={L:2d} J2={j2}: t_deph={out[-1]['t_dephasing']:.3f}  O_DE={q.diagonal[0]:+.4f}  "
              f"O_thermal={thermal:+.4f} (beta={beta:.3f})  ({out[-1]['seconds']:.1f} s)", flush=True)
    return out


def bath_route(L, lambdas, n_times=300):
    """Integrable chain + weak Davies bath at the Neel temperature: two-step relaxation of the same observable."""
    chain = chain_of(L, 0.0)
    spec = dm.diagonalize(chain)
    O = bond_zz(chain)
    psi = dm.product_state(L, "neel")
    rho0 = np.outer(psi, psi)
    energy = float(psi @ (chain.hamiltonian() @ psi))
    Od = np.real(np.diag(spec.to_eigenbasis(O)))
    beta, thermal = dm.eth.thermal_value(spec.energies, Od, energy)  # full-space canonical at the Neel energy
    bath = dm.OhmicBath(beta=beta, eta=1.0, cutoff=5.0)
    gen = dm.DaviesGenerator(spec, [chain.pauli("x", 0) + chain.pauli("z", 1)], bath, strength=lambdas[0])
    iso = dm.unitary_expect(spec, [O], psi, dm.log_times(1e-2, 1e3, 200))
    de = float(np.real(np.trace(O @ dm.diagonal_ensemble(spec, rho0))))
    rows = []
    for lam in lambdas:
        g = gen.with_strength(lam)
        t_eq = g.relaxation_time()
        times = dm.log_times(1e-2, 20 * t_eq, n_times)
        vals = g.expect([O], rho0, times)[0]
        rows.append(dict(strength=lam, gap=g.gap(), t_eq=t_eq, t_eq_lambda2=t_eq * lam**2, times=times,
                         values=vals, final=float(vals[-1])))
        print(f"  bath lambda={lam:g}: gap={g.gap():.4g}, t_eq={t_eq:.4g}, t_eq*lambda^2={t_eq * lam**2:.4g}, "
              f"O(20 t_eq)={vals[-1]:+.4f}", flush=True)
    return dict(L=L, beta=beta, energy=energy, thermal=thermal, diagonal=de, isolated=iso[0],
                isolated_times=dm.log_times(1e-2, 1e3, 200), lambdas=rows)


def transport(sizes, times):
    """Domain wall in the open chaotic chain: S^z imbalance (conserved density) versus the wall-bond S^z S^z."""
    rows = []
    for L in sizes:
        chain = dm.xxz(L, DELTA, j2=J2, bc="open")
        spec = dm.diagonalize(chain, sector=dict(sz=0))
        half = L // 2
        imb = sum(chain.op("z", j) for j in range(half)) - sum(chain.op("z", j) for j in range(half, L))
        imb = imb * (2.0 / L)
        wall = chain.op("z", half - 1) @ chain.op("z", half)
        psi = dm.product_state(L, "domain")
        vals = dm.unitary_expect(spec, [imb, wall], psi, times)
        c = spec.vectors.conj().T @ psi
        same = spec.level_index[:, None] == spec.level_index[None, :]
        finals = [float(np.real(np.sum(same * np.outer(c.conj(), c) * spec.to_eigenbasis(op)))) for op in (imb, wall)]
        td = [dm.eth.dephasing_time(times, v, f) for v, f in zip(vals, finals)]
        rows.append(dict(L=L, imbalance=vals[0], wall_bond=vals[1], finals=finals, t_relax=td))
        print(f"  domain wall L={L}: t(imbalance)={td[0]:.3f}, t(wall bond)={td[1]:.3f}", flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[10, 12, 14, 16])
    p.add_argument("--L-levels", dest="L_levels", type=int, default=16)
    p.add_argument("--L-bath", dest="L_bath", type=int, default=8)
    p.add_argument("--L-transport", dest="L_transport", type=int, nargs="+", default=[8, 10, 12])
    p.add_argument("--lambdas", type=float, nargs="+", default=[0.02, 0.05, 0.1])
    p.add_argument("--quick", action="store_true", help="sizes 8 10 12, levels at L = 12")
    p.add_argument("--out", default="results/eth_vs_bath")
    a = p.parse_args(argv)
    if a.quick:
        a.sizes, a.L_levels, a.L_transport = [10, 12, 14], 12, [8, 10]
    out = Path(a.out)
    times = np.linspace(0.0, 10.0, 401)

    print("level statistics (pooled fully resolved S^z = 0 sectors):", flush=True)
    levels = {}
    for name, j2 in (("chaotic", J2), ("integrable", 0.0)):
        st = dm.eth.sector_level_statistics(chain_of(a.L_levels, j2), 0)
        levels[name] = dict(st.to_dict(), histogram=[h.tolist() for h in st.histogram(25)])
        print(f"  {name:10s} L={a.L_levels}: <r> = {st.mean:.4f} +- {st.sem:.4f} over {st.n_sectors} sectors, "
              f"{st.n_used}/{st.n_levels} levels used -> {st.closest()}", flush=True)

    print("isolated chains, Neel quench:", flush=True)
    chaotic = isolated_route(a.sizes, J2, times)
    integrable = isolated_route(a.sizes, 0.0, times)
    rate_c = dm.eth.exponential_rate(a.sizes, [r["eth_fluctuation"] for r in chaotic])
    rate_i = dm.eth.exponential_rate(a.sizes, [r["eth_fluctuation"] for r in integrable])
    print(f"  diagonal-ETH fluctuation decay rate per site: chaotic {rate_c[0]:.3f}, integrable {rate_i[0]:.3f}")

    print("integrable chain + Davies bath:", flush=True)
    bath = bath_route(a.L_bath, a.lambdas)
    print("transport versus dephasing:", flush=True)
    tr = transport(a.L_transport, np.linspace(0.0, 30.0, 601))
    print(f"  bath: Gibbs value {bath['thermal']:+.4f} at beta = {bath['beta']:.4f}, isolated diagonal ensemble "
          f"{bath['diagonal']:+.4f}")

    print("\ntime scales")
    print(f"  {'L':>3s} {'t_deph chaotic':>15s} {'t_deph integrable':>18s}")
    for c, i in zip(chaotic, integrable):
        print(f"  {c['L']:3d} {c['t_dephasing']:15.3f} {i['t_dephasing']:18.3f}")
    print(f"  {'L':>3s} {'t(imbalance)':>13s} {'t(wall bond)':>13s}   (domain wall, open chaotic chain)")
    for r in tr:
        print(f"  {r['L']:3d} {r['t_relax'][0]:13.3f} {r['t_relax'][1]:13.3f}")
    print(f"  {'lambda':>8s} {'t_eq':>10s} {'t_eq*lambda^2':>14s}")
    for r in bath["lambdas"]:
        print(f"  {r['strength']:8g} {r['t_eq']:10.4g} {r['t_eq_lambda2']:14.4g}")

    data = dict(levels=levels, times=times, chaotic=chaotic, integrable=integrable,
                fluctuation_rate=dict(chaotic=rate_c[0], integrable=rate_i[0]), bath=bath, transport=tr)
    params = dict(delta=DELTA, delta2=DELTA, j2=J2, bc="periodic", sizes=a.sizes, L_levels=a.L_levels,
                  L_bath=a.L_bath, L_transport=a.L_transport, lambdas=a.lambdas, initial="neel",
                  observable="bond-averaged S^z_j S^z_j+1", bath="Ohmic eta=1 cutoff=5, coupling x0+z1")
    save_json(out / "eth_vs_bath.json", data, params)
    plot(data, out / "eth_vs_bath.png")
    print(f"wrote {out / 'eth_vs_bath.json'} and {out / 'eth_vs_bath.png'}")
    return data


def plot(data, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 3, figsize=(15, 8.5))
    t = data["times"]
    for k, (name, rows) in enumerate((("isolated chaotic (J2 = 0.5)", data["chaotic"]),
                                      ("isolated integrable (J2 = 0)", data["integrable"]))):
        a = ax[0, k]
        for r in rows:
            a.plot(t, r["values"], label=f"L = {r['L']}, t_deph = {r['t_dephasing']:.2f}")
        a.axhline(rows[-1]["diagonal"], color="k", ls=":", label="diagonal ensemble (largest L)")
        a.axhline(rows[-1]["thermal"], color="r", ls="--", label="canonical at the Neel energy")
        a.set(title=name, xlabel="t", ylabel=r"$\langle S^z_j S^z_{j+1}\rangle$")
        a.legend(fontsize=7)
    a = ax[0, 2]
    b = data["bath"]
    a.semilogx(b["isolated_times"], b["isolated"], "k", lw=1, label="isolated")
    for r in b["lambdas"]:
        a.semilogx(r["times"], r["values"], label=fr"$\lambda$ = {r['strength']:g}, $t_{{eq}}$ = {r['t_eq']:.3g}")
    a.axhline(b["diagonal"], color="k", ls=":", label="diagonal ensemble (non-thermal)")
    a.axhline(b["thermal"], color="r", ls="--", label=fr"Gibbs, $\beta$ = {b['beta']:.3f}")
    a.set(title=f"integrable + Davies bath (L = {b['L']})", xlabel="t", ylabel=r"$\langle S^z_j S^z_{j+1}\rangle$")
    a.legend(fontsize=7)
    r = np.linspace(0, 1, 200)
    for k, name in enumerate(("chaotic", "integrable")):
        a = ax[1, k]
        lv = data["levels"][name]
        centers, dens = lv["histogram"]
        a.bar(centers, dens, width=centers[1] - centers[0], alpha=0.5,
              label=fr"{name}: $\langle r\rangle$ = {lv['mean']:.4f}")
        for ens, style in (("poisson", "--"), ("goe", "-"), ("gue", ":")):
            a.plot(r, dm.eth.ratio_distribution(r, ens), style, label=f"{ens} surmise")
        a.set(title=f"gap ratios, {lv['n_sectors']} sectors, {lv['n_used']} levels", xlabel="r", ylabel="P(r)")
        a.legend(fontsize=7)
    a = ax[1, 2]
    tt = np.linspace(0.0, 30.0, 601)
    for r, ls in zip(data["transport"], ("-", "--", ":", "-.")):
        for key, lab, f, col in (("imbalance", "S^z imbalance", r["finals"][0], "C0"),
                                 ("wall_bond", "wall-bond S^z S^z", r["finals"][1], "C1")):
            v = np.asarray(r[key])
            a.plot(tt, (v - f) / (v[0] - f), ls, color=col, label=f"{lab}, L = {r['L']}")
    a.set(title="domain wall (open chaotic chain)", xlabel="t",
          ylabel="(O(t) - O_DE) / (O(0) - O_DE)")
    a.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
