"""Study: local versus global master equations, Redfield as the reference (issue 12, item 3).

Two qubits h_j = w_j sigma^z_j / 2, XX exchange (g/2)(sx sx + sy sy), each coupled through sigma^x_j to its
own Ohmic bath (eta 1, cutoff 5), strength 0.1.

1. One temperature (beta = 1): trace distance between the local and the global (= Gibbs) stationary states
   against g, resonant and detuned; <H_int>, concurrence and mutual information of the Gibbs state at
   beta = 5.
2. Two temperatures (beta_h = 0.5 on qubit 1 with w_1 = 1, beta_c = 2 on qubit 2 with w_2): the relative
   error of the hot heat current of each equation against Redfield over (w_2, g), and where the local
   equation's entropy production is negative (Levy-Kosloff: beta_h w_1 > beta_c w_2).

Run: ``python studies/local_global.py``; writes results/local_global/local_global.json and local_global.png.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import davies_mb as dm  # noqa: E402
from davies_mb.applications import local_global as lg  # noqa: E402
from davies_mb.io import save_json  # noqa: E402

OUT = Path("results/local_global")
LAM = 0.1


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    bath = dm.OhmicBath(beta=1.0, eta=1.0, cutoff=5.0)
    gs = np.geomspace(1e-3, 2.0, 30)
    td = {}
    for w2 in (1.0, 1.3):
        td[w2] = []
        for g in gs:
            H, hs, As, Hi = lg.two_qubits(1.0, w2, float(g))
            c = lg.compare_master_equations(H, hs, As, bath, LAM, Hi)
            td[w2].append(dm.trace_distance(c.states["local"], c.states["global"]))
    cold = dm.OhmicBath(beta=5.0, eta=1.0, cutoff=5.0)
    eint, conc, mi = [], [], []
    for g in gs:
        H, hs, As, Hi = lg.two_qubits(1.0, 1.0, float(g))
        rho = dm.DaviesGenerator(dm.diagonalize(H), As, cold, strength=LAM).stationary_state(np.eye(4) / 4)
        eint.append(float(np.trace(Hi @ rho).real))
        conc.append(lg.concurrence(rho))
        mi.append(lg.mutual_information(rho))

    bh = dm.OhmicBath(beta=0.5, eta=1.0, cutoff=5.0)
    bc = dm.OhmicBath(beta=2.0, eta=1.0, cutoff=5.0)
    w2s = np.linspace(0.1, 2.0, 24)
    gmap = np.geomspace(1e-3, 1.0, 22)
    err = {k: np.zeros((w2s.size, gmap.size)) for k in ("global", "local")}
    sig_loc = np.zeros((w2s.size, gmap.size))
    for i, w2 in enumerate(w2s):
        for j, g in enumerate(gmap):
            H, hs, As, Hi = lg.two_qubits(1.0, float(w2), float(g))
            c = lg.compare_master_equations(H, hs, As, [bh, bc], LAM, Hi)
            jr = c.heat_currents["redfield"][0]
            for k in err:
                err[k][i, j] = abs(c.heat_currents[k][0] - jr) / abs(jr)
            sig_loc[i, j] = c.entropy_production["local"]

    data = dict(gs=gs, td_resonant=td[1.0], td_detuned=td[1.3], eint_beta5=eint, concurrence_beta5=conc,
                mutual_information_beta5=mi, map_w2=w2s, map_g=gmap, err_global=err["global"],
                err_local=err["local"], entropy_production_local=sig_loc)
    save_json(OUT / "local_global.json", data, params=dict(w1=1.0, strength=LAM, eta=1.0, cutoff=5.0,
                                                           beta=1.0, beta_hot=0.5, beta_cold=2.0))

    fig, ax = plt.subplots(1, 4, figsize=(17, 3.8))
    ax[0].loglog(gs, td[1.0], "o-", ms=3, label=r"resonant $\omega_2 = \omega_1$")
    ax[0].loglog(gs, td[1.3], "s-", ms=3, label=r"detuned $\omega_2 = 1.3$")
    ax[0].set_xlabel("g")
    ax[0].set_ylabel("trace distance local - global")
    ax[0].set_title(r"one temperature, $\beta = 1$", fontsize=9)
    ax[0].legend(fontsize=8)
    ax[1].semilogx(gs, eint, label=r"$\langle H_{int}\rangle$")
    ax[1].semilogx(gs, conc, label="concurrence")
    ax[1].semilogx(gs, mi, label="mutual information")
    ax[1].set_xlabel("g")
    ax[1].set_title(r"global (Gibbs) state, resonant, $\beta = 5$", fontsize=9)
    ax[1].legend(fontsize=8)
    for a, k in ((ax[2], "global"), (ax[3], "local")):
        im = a.pcolormesh(gmap, w2s, np.log10(err[k] + 1e-16), shading="auto", vmin=-4, vmax=1, cmap="viridis")
        a.set_xscale("log")
        a.contour(gmap, w2s, np.log10(err[k] + 1e-16), levels=[-1], colors="w", linewidths=1)
        if k == "local":
            a.contour(gmap, w2s, sig_loc, levels=[0.0], colors="r", linewidths=1.5)
            a.text(2e-3, 0.15, "entropy production < 0", color="r", fontsize=8)
        a.set_xlabel("g")
        a.set_ylabel(r"$\omega_2$ (cold qubit)")
        a.set_title(f"{k}: log10 |J_hot - J_Redfield| / |J_Redfield| (white: 10%)", fontsize=8)
        fig.colorbar(im, ax=a)
    fig.tight_layout()
    fig.savefig(OUT / "local_global.png", dpi=90)
    ok_g = err["global"] < 1e-1
    ok_l = err["local"] < 1e-1
    print(f"10%-accurate points: global {ok_g.mean():.2f}, local {ok_l.mean():.2f}, neither {(~ok_g & ~ok_l).mean():.2f};"
          f" local sigma < 0 at {np.mean(sig_loc < 0):.2f} of the map; max concurrence {max(conc):.3f}")


if __name__ == "__main__":
    main()
