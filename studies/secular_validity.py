"""When is a Davies t_eq valid? Davies, ULE and Redfield gaps versus lambda, and lambda*(L).

For a generic (non-integrable) XXZ chain with next-nearest-neighbour coupling and a weak field, coupled at
one edge (sigma^x_0 + sigma^z_1) to an Ohmic bath at beta = 1:

* t_eq = 1/gap from the Davies generator (exactly c / lambda^2), the universal Lindblad equation (ULE,
  completely positive, non-secular) and, where it runs (d <= 32 here), the Bloch-Redfield generator;
* lambda*(L): the strength where the Davies t_eq differs from the ULE's by 10 %, for L = 4..8
  (``--max-L`` for more: each ULE gap at L = 9 costs minutes on this machine);
* the cheap estimate dm.secular_regime (second-order perturbation theory of the slow mode) against it,
  and its weighted Bohr spacing.

Writes results/secular_validity/{secular_validity.json, teq_vs_lambda.png, crossover_vs_L.png}.
Public API only.  Run: python studies/secular_validity.py [--max-L 8] [--quick]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

import davies_mb as dm
from davies_mb.io import save_json

OUT = Path("results/secular_validity")


def system(L):
    chain = dm.xxz(L=L, delta=0.5, j2=0.3, hz=0.1)
    return chain, dm.diagonalize(chain), chain.pauli("x", 0) + chain.pauli("z", 1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-L", type=int, default=8)
    ap.add_argument("--redfield-max-L", type=int, default=5)
    ap.add_argument("--estimate-max-L", type=int, default=10,
                    help="the cheap estimate alone (no ULE gaps) for max-L < L <= this")
    ap.add_argument("--quick", action="store_true", help="L = 4..6 and 6 strengths (a smoke run)")
    a = ap.parse_args(argv)
    bath = dm.OhmicBath(beta=1.0, eta=1.0, cutoff=5.0)
    Ls = list(range(4, (6 if a.quick else a.max_L) + 1))
    lams = np.geomspace(0.01, 0.5, 6 if a.quick else 9)
    rows = []
    for L in Ls:
        t0 = time.perf_counter()
        chain, spec, A = system(L)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unconverged Davidson at the largest (unphysical) strengths
            ule = dm.ule_crossover(spec, A, bath, lams)
            red = dm.ule_crossover(spec, A, bath, lams, method="redfield") if L <= a.redfield_max_L else None
        est = ule.estimate
        bohr = np.abs(np.subtract.outer(spec.energies, spec.energies))
        min_spacing = float(np.min(bohr[bohr > spec.level_tol]))
        row = dict(L=L, d=spec.n, strengths=lams, t_davies=ule.t_davies, t_ule=ule.t_other,
                   deviation_ule=ule.deviation, crossover_ule=ule.crossover,
                   t_redfield=None if red is None else red.t_other,
                   deviation_redfield=None if red is None else red.deviation,
                   crossover_redfield=np.nan if red is None else red.crossover,
                   estimate=est.strength_max, estimate_deviation=est.deviation(lams),
                   weighted_spacing=est.weighted_spacing, limiting_spacing=est.spacing,
                   min_bohr_spacing=min_spacing, gap1=est.gap1, seconds=time.perf_counter() - t0)
        rows.append(row)
        print(f"L={L:2d} d={spec.n:4d}  lambda*_ULE={ule.crossover:.4f}  lambda*_Redfield="
              f"{row['crossover_redfield']:.4f}  estimate={est.strength_max:.4f}  min Bohr spacing={min_spacing:.2e}"
              f"  weighted spacing={est.weighted_spacing:.2e}  ({row['seconds']:.0f} s)", flush=True)
    est_rows = []
    for L in range(Ls[-1] + 1, (Ls[-1] if a.quick else a.estimate_max_L) + 1):
        t0 = time.perf_counter()
        chain, spec, A = system(L)
        est = dm.secular_regime(spec, A, bath)
        bohr = np.abs(np.subtract.outer(spec.energies, spec.energies))
        est_rows.append(dict(L=L, d=spec.n, estimate=est.strength_max, weighted_spacing=est.weighted_spacing,
                             limiting_spacing=est.spacing, gap1=est.gap1,
                             min_bohr_spacing=float(np.min(bohr[bohr > spec.level_tol])),
                             seconds=time.perf_counter() - t0))
        print(f"L={L:2d} d={spec.n:4d}  estimate={est.strength_max:.4f}  min Bohr spacing="
              f"{est_rows[-1]['min_bohr_spacing']:.2e}  ({est_rows[-1]['seconds']:.0f} s)", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    save_json(OUT / "secular_validity.json", {"rows": rows, "estimate_only": est_rows}, params=dict(model="xxz", delta=0.5, j2=0.3, hz=0.1,
                                                                          coupling="x0+z1", beta=1.0, eta=1.0,
                                                                          cutoff=5.0, strengths=lams, Ls=Ls))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return rows
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    cols = plt.cm.viridis(np.linspace(0, 0.9, len(rows)))
    for r, c in zip(rows, cols):
        ax.plot(lams, r["t_ule"] * lams**2, "-o", color=c, ms=3, label=f"ULE L={r['L']}")
        ax.plot(lams, r["t_davies"] * lams**2, ":", color=c)
        if r["t_redfield"] is not None:
            ax.plot(lams, r["t_redfield"] * lams**2, "x--", color=c, ms=4, lw=0.8, label=f"Redfield L={r['L']}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\lambda$")
    ax.set_ylabel(r"$\lambda^2\,t_{eq}$  ($t_{eq} = 1/\Delta$; dotted: Davies)")
    ax.set_title("Davies (dotted), ULE (o), Redfield (x)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(OUT / "teq_vs_lambda.png", dpi=110)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    Lv = [r["L"] for r in rows]
    ax.plot(Lv, [r["crossover_ule"] for r in rows], "o-", label=r"$\lambda^*$ measured (ULE vs Davies, 10%)")
    ax.plot(Lv, [r["crossover_redfield"] for r in rows], "x", ms=8, label=r"$\lambda^*$ Redfield vs Davies")
    Le = Lv + [r["L"] for r in est_rows]
    ax.plot(Le, [r["estimate"] for r in rows + est_rows], "s--", label=r"estimate dm.secular_regime")
    ax.plot(Le, [np.sqrt(r["min_bohr_spacing"] / r["gap1"]) for r in rows + est_rows], "^:",
            label=r"$\sqrt{\nu_{\min}/\Delta_1}$ (smallest spacing)")
    ax.set_yscale("log")
    ax.set_xlabel("L")
    ax.set_ylabel(r"$\lambda^*$")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "crossover_vs_L.png", dpi=110)
    return rows


if __name__ == "__main__":
    main()
