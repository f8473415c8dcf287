"""Study: the finite-time quantum Otto engine with Davies isochores (issue 12, item 6).

Ohmic baths (eta = 1, cutoff 5) at beta_hot = 0.5, beta_cold = 2, strength 0.3, w_hot = 2, w_cold = 1.

1. Two-level medium: efficiency and power against the stroke time tau = tau_hot = tau_cold, with
   instantaneous switches (power finite as tau -> 0) and with a switch time tau_s = 1 (power -> 0 at both
   ends), the closed form of PHYSICS.md section 4 overlaid.
2. Power map over (tau_hot, tau_cold) with tau_s = 1 and its maximum (optimal stroke times).
3. Chain medium (open XXZ, L = 3, isospectral h_cold = (w_c/w_h) U h_hot U^dag, U = exp(-i theta S^y)):
   efficiency against theta at two stroke times: quantum friction, deficit ~ theta^2.

Run: ``python studies/otto_engine.py``; writes results/otto_engine/otto_engine.json and otto_engine.png.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import davies_mb as dm  # noqa: E402
from davies_mb.applications import otto  # noqa: E402
from davies_mb.io import save_json  # noqa: E402

OUT = Path("results/otto_engine")
P = dict(w_hot=2.0, w_cold=1.0, beta_hot=0.5, beta_cold=2.0, eta=1.0, cutoff=5.0, strength=0.3)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    bh = dm.OhmicBath(beta=P["beta_hot"], eta=P["eta"], cutoff=P["cutoff"])
    bc = dm.OhmicBath(beta=P["beta_cold"], eta=P["eta"], cutoff=P["cutoff"])
    hh, hc, A = otto.otto_medium("qubit", P["w_hot"], P["w_cold"])
    lam = P["strength"]
    taus = np.geomspace(1e-2, 1e3, 41)
    curves = {}
    for ts in (0.0, 1.0):
        m = otto.otto_power_map(hh, hc, A, bh, bc, taus, taus, lam, tau_switch=ts)
        diag = np.diag(m.power)
        closed = np.array([otto.two_level_otto(P["w_hot"], P["w_cold"], bh, bc, t, t, lam, tau_switch=ts)["power"]
                           for t in taus])
        curves[ts] = dict(power=diag, closed=closed, efficiency=np.diag(m.efficiency),
                          max_rel_err=float(np.max(np.abs(diag - closed) / np.abs(closed))))
    grid = np.geomspace(0.1, 100, 36)
    pm = otto.otto_power_map(hh, hc, A, bh, bc, grid, grid, lam, tau_switch=1.0)

    # chain medium: friction
    thetas = np.linspace(0.0, 0.6, 13)
    fr = {}
    for tau in (3.0, 30.0):
        eff, work = [], []
        for th in thetas:
            h1, h2, A2 = otto.otto_medium("chain", P["w_hot"], P["w_cold"], L=3, theta=float(th))
            c = otto.otto_cycle(h1, h2, A2, bh, bc, tau, tau, lam)
            eff.append(c.efficiency)
            work.append(c.work)
        fr[tau] = dict(efficiency=np.array(eff), work=np.array(work))
    d = fr[3.0]["efficiency"]
    curv = (1 - P["w_cold"] / P["w_hot"] - d[1]) / thetas[1] ** 2

    data = dict(taus=taus, power_instant=curves[0.0]["power"], power_switch=curves[1.0]["power"],
                efficiency=curves[0.0]["efficiency"], closed_form_max_rel_err=max(c["max_rel_err"] for c in curves.values()),
                map_taus=grid, power_map=pm.power, best=pm.best.to_dict(), thetas=thetas,
                friction_eff_tau3=fr[3.0]["efficiency"], friction_eff_tau30=fr[30.0]["efficiency"],
                friction_work_tau3=fr[3.0]["work"], friction_deficit_over_theta2=float(curv))
    save_json(OUT / "otto_engine.json", data, params=P)

    fig, ax = plt.subplots(1, 3, figsize=(14, 3.8))
    ax[0].loglog(taus, curves[0.0]["power"], "C0o", ms=3, label=r"$\tau_s = 0$")
    ax[0].loglog(taus, curves[0.0]["closed"], "k-", lw=0.8)
    ax[0].loglog(taus, curves[1.0]["power"], "C1o", ms=3, label=r"$\tau_s = 1$")
    ax[0].loglog(taus, curves[1.0]["closed"], "k-", lw=0.8, label="closed form")
    ax[0].set_xlabel(r"$\tau_h = \tau_c$")
    ax[0].set_ylabel("power")
    ax[0].set_title(f"qubit: efficiency = {np.nanmean(curves[0.0]['efficiency']):.12f} at every tau", fontsize=9)
    ax[0].legend(fontsize=8)
    im = ax[1].pcolormesh(grid, grid, pm.power.T, shading="auto")
    ax[1].set_xscale("log")
    ax[1].set_yscale("log")
    ax[1].plot(pm.best.tau_hot, pm.best.tau_cold, "r*", ms=12)
    ax[1].set_xlabel(r"$\tau_h$")
    ax[1].set_ylabel(r"$\tau_c$")
    ax[1].set_title(r"power map, $\tau_s = 1$ (max: red star)", fontsize=9)
    fig.colorbar(im, ax=ax[1])
    for tau, st in ((3.0, "o-"), (30.0, "s--")):
        ax[2].plot(thetas, fr[tau]["efficiency"], st, ms=4, label=rf"$\tau = {tau:g}$")
    ax[2].axhline(1 - P["w_cold"] / P["w_hot"], color="k", lw=0.8, label="Otto value")
    ax[2].set_xlabel(r"rotation $\theta$ of $h_c$")
    ax[2].set_ylabel("efficiency")
    ax[2].set_title("XXZ chain L=3: quantum friction", fontsize=9)
    ax[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "otto_engine.png", dpi=90)
    b = pm.best
    print(f"closed-form max rel err {data['closed_form_max_rel_err']:.2e}; best power {b.power:.5g} at "
          f"tau_h = {b.tau_hot:.3g}, tau_c = {b.tau_cold:.3g}; friction deficit/theta^2 = {curv:.4g}")


if __name__ == "__main__":
    main()
