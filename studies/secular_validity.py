"""When is a Davies t_eq valid? Davies, ULE and Redfield gaps versus lambda, and lambda*(L).

For a generic (non-integrable) XXZ chain with next-nearest-neighbour coupling and a weak field, coupled at
one edge (sigma^x_0 + sigma^z_1) to an Ohmic bath at beta = 1:

* t_eq = 1/gap from the Davies generator (exactly c / lambda^2), the universal Lindblad equation (ULE,
  completely positive, non-secular) and, where it runs (d <= 32 here), the Bloch-Redfield generator;
* lambda*(L): the strength where the Davies t_eq differs from the ULE's by 10 %, for L = 4..8
  (``--max-L`` for more: each ULE gap at L = 9 costs minutes on this machine), for two definitions of t_eq:
  1/gap, and the energy tail from the Neel state (the fit of dm.teq_scan, window 1e-3..1e-6), measured for
  L <= ``--tail-max-L`` (default 6: the ULE trajectory costs ~3 W t_max generator applications);
* the cheap estimate dm.secular_regime (second-order perturbation theory of the slow modes: the gap alone,
  and with the initial state the energy tail too) against them, and its weighted Bohr spacing.

Writes results/secular_validity/{secular_validity.json, teq_vs_lambda.png, crossover_vs_L.png,
tail_deviation.png}.
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

OUT = Path("results/secular_validity")  # --out to change


def system(L):
    chain = dm.xxz(L=L, delta=0.5, j2=0.3, hz=0.1)
    return chain, dm.diagonalize(chain), chain.pauli("x", 0) + chain.pauli("z", 1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-L", type=int, default=4)
    ap.add_argument("--max-L", type=int, default=8)
    ap.add_argument("--out", default=str(OUT), help="output folder (JSON and figures)")
    ap.add_argument("--redfield-max-L", type=int, default=5)
    ap.add_argument("--tail-max-L", type=int, default=6, help="measure the energy-tail t_eq up to this L")
    ap.add_argument("--tail-min-strength", type=float, default=0.025,
                    help="smallest strength of the tail measurement (its cost grows as lambda^-2)")
    ap.add_argument("--estimate-max-L", type=int, default=10,
                    help="the cheap estimate alone (no ULE gaps) for max-L < L <= this")
    ap.add_argument("--quick", action="store_true", help="L = 4..6 and 6 strengths (a smoke run)")
    ap.add_argument("--merge", nargs="+", metavar="JSON",
                    help="no computation: merge the rows of earlier runs of this study (same strengths; for each L "
                         "the last file that measured the tail wins), write the JSON and figures to --out")
    a = ap.parse_args(argv)
    if a.merge:
        return merge(a.merge, Path(a.out))
    bath = dm.OhmicBath(beta=1.0, eta=1.0, cutoff=5.0)
    out = Path(a.out)
    Ls = list(range(a.min_L, (6 if a.quick else a.max_L) + 1))
    lams = np.geomspace(0.01, 0.5, 6 if a.quick else 9)
    params = dict(model="xxz", delta=0.5, j2=0.3, hz=0.1, coupling="x0+z1", beta=1.0, eta=1.0, cutoff=5.0,
                  strengths=lams, Ls=Ls, initial="neel", tail_window=(1e-3, 1e-6), tail_max_L=a.tail_max_L,
                  tail_min_strength=a.tail_min_strength)
    rows = []
    for L in Ls:
        t0 = time.perf_counter()
        chain, spec, A = system(L)
        psi = dm.product_state(L, "neel")
        tail_lams = lams[lams >= a.tail_min_strength]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unconverged Davidson at the largest (unphysical) strengths
            ule = dm.ule_crossover(spec, A, bath, lams)
            red = dm.ule_crossover(spec, A, bath, lams, method="redfield") if L <= a.redfield_max_L else None
            tail = (dm.ule_crossover(spec, A, bath, tail_lams, initial=psi) if L <= a.tail_max_L else None)
            tail_red = (dm.ule_crossover(spec, A, bath, tail_lams, initial=psi, method="redfield")
                        if L <= min(a.tail_max_L, a.redfield_max_L) else None)
        est = dm.secular_regime(spec, A, bath, initial=psi)
        bohr = np.abs(np.subtract.outer(spec.energies, spec.energies))
        min_spacing = float(np.min(bohr[bohr > spec.level_tol]))
        row = dict(L=L, d=spec.n, strengths=lams, t_davies=ule.t_davies, t_ule=ule.t_other,
                   deviation_ule=ule.deviation, crossover_ule=ule.crossover,
                   t_redfield=None if red is None else red.t_other,
                   deviation_redfield=None if red is None else red.deviation,
                   crossover_redfield=np.nan if red is None else red.crossover,
                   tail_strengths=tail_lams,
                   t_tail_davies=None if tail is None else tail.t_tail_davies,
                   t_tail_ule=None if tail is None else tail.t_tail_other,
                   deviation_tail_ule=None if tail is None else tail.deviation_tail,
                   crossover_tail_ule=np.nan if tail is None else tail.crossover_tail,
                   t_tail_redfield=None if tail_red is None else tail_red.t_tail_other,
                   deviation_tail_redfield=None if tail_red is None else tail_red.deviation_tail,
                   crossover_tail_redfield=np.nan if tail_red is None else tail_red.crossover_tail,
                   estimate=est.strength_max, estimate_gap=est.gap_strength_max,
                   estimate_tail=est.tail_strength_max, estimate_deviation=est.deviation(lams),
                   estimate_deviation_tail=est.deviation_tail(tail_lams),
                   weighted_spacing=est.weighted_spacing, limiting_spacing=est.spacing,
                   min_bohr_spacing=min_spacing, gap1=est.gap1, seconds=time.perf_counter() - t0)
        rows.append(row)
        out.mkdir(parents=True, exist_ok=True)  # after every size: a long run that is stopped keeps its rows
        save_json(out / "secular_validity.json", {"rows": rows, "estimate_only": []}, params=params)
        print(f"L={L:2d} d={spec.n:4d}  lambda*_ULE gap={ule.crossover:.4f} tail={row['crossover_tail_ule']:.4f}  "
              f"lambda*_Redfield gap={row['crossover_redfield']:.4f} tail={row['crossover_tail_redfield']:.4f}  "
              f"estimate gap={est.gap_strength_max:.4f} tail={est.tail_strength_max:.4f}  min Bohr spacing="
              f"{min_spacing:.2e}  weighted spacing={est.weighted_spacing:.2e}  ({row['seconds']:.0f} s)", flush=True)
    est_rows = []
    for L in range(Ls[-1] + 1, (Ls[-1] if a.quick else a.estimate_max_L) + 1):
        t0 = time.perf_counter()
        chain, spec, A = system(L)
        est = dm.secular_regime(spec, A, bath, initial=dm.product_state(L, "neel"))
        bohr = np.abs(np.subtract.outer(spec.energies, spec.energies))
        est_rows.append(dict(L=L, d=spec.n, estimate=est.strength_max, estimate_gap=est.gap_strength_max,
                             estimate_tail=est.tail_strength_max, weighted_spacing=est.weighted_spacing,
                             limiting_spacing=est.spacing, gap1=est.gap1,
                             min_bohr_spacing=float(np.min(bohr[bohr > spec.level_tol])),
                             seconds=time.perf_counter() - t0))
        print(f"L={L:2d} d={spec.n:4d}  estimate gap={est.gap_strength_max:.4f} tail={est.tail_strength_max:.4f}  "
              f"min Bohr spacing={est_rows[-1]['min_bohr_spacing']:.2e}  ({est_rows[-1]['seconds']:.0f} s)",
              flush=True)
    out.mkdir(parents=True, exist_ok=True)
    save_json(out / "secular_validity.json", {"rows": rows, "estimate_only": est_rows}, params=params)
    plot(rows, est_rows, lams, out)
    return rows


def merge(paths, out):
    """Rows of several runs (e.g. the tail at L = 6, 7 run apart, niced) in one JSON and one set of figures."""
    import json

    rows, est, params, lams = {}, {}, None, None
    for p in paths:
        doc = json.loads(Path(p).read_text())
        params = params or doc["params"]
        for r in doc["data"]["rows"]:
            if r["L"] not in rows or r.get("deviation_tail_ule") is not None:
                rows[r["L"]] = r
            lams = np.asarray(r["strengths"], dtype=float)
        for r in doc["data"]["estimate_only"]:
            est[r["L"]] = r
    rows = [rows[L] for L in sorted(rows)]
    est_rows = [est[L] for L in sorted(est) if L > rows[-1]["L"]]
    params = dict(params, Ls=[r["L"] for r in rows], merged_from=[str(p) for p in paths])
    out.mkdir(parents=True, exist_ok=True)
    save_json(out / "secular_validity.json", {"rows": rows, "estimate_only": est_rows}, params=params)
    plot(rows, est_rows, lams, out)
    return rows


def plot(rows, est_rows, lams, out):
    def arr(x):
        return None if x is None else np.asarray(x, dtype=float)

    rows = [dict(r, **{k: arr(r[k]) for k in ("t_ule", "t_davies", "t_redfield", "deviation_ule",
                                                "deviation_tail_ule", "estimate_deviation_tail", "tail_strengths")})
            for r in rows]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
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
    fig.savefig(out / "teq_vs_lambda.png", dpi=110)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    Lv = [r["L"] for r in rows]
    ax.plot(Lv, [r["crossover_ule"] for r in rows], "o-", color="C0", label=r"measured, gap (ULE vs Davies, 10%)")
    ax.plot(Lv, [r["crossover_tail_ule"] for r in rows], "D-", color="C3", label=r"measured, energy tail (ULE)")
    ax.plot(Lv, [r["crossover_redfield"] for r in rows], "x", color="C0", ms=8, label=r"Redfield, gap")
    ax.plot(Lv, [r["crossover_tail_redfield"] for r in rows], "+", color="C3", ms=9, label=r"Redfield, tail")
    Le = Lv + [r["L"] for r in est_rows]
    ax.plot(Le, [r["estimate_gap"] for r in rows + est_rows], "s--", color="C0", mfc="none",
            label=r"estimate, gap (dm.secular_regime)")
    ax.plot(Le, [r["estimate_tail"] for r in rows + est_rows], "s--", color="C3", mfc="none",
            label=r"estimate, energy tail (initial=Neel)")
    ax.plot(Le, [np.sqrt(r["min_bohr_spacing"] / r["gap1"]) for r in rows + est_rows], "^:", color="gray",
            label=r"$\sqrt{\nu_{\min}/\Delta_1}$ (smallest spacing)")
    ax.set_yscale("log")
    ax.set_xlabel("L")
    ax.set_ylabel(r"$\lambda^*$")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "crossover_vs_L.png", dpi=110)
    tr = [r for r in rows if r["deviation_tail_ule"] is not None]
    if tr:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        cols = plt.cm.viridis(np.linspace(0, 0.9, len(tr)))
        for r, c in zip(tr, cols):
            tl = np.asarray(r["tail_strengths"])
            ax.plot(lams, r["deviation_ule"], "o-", color=c, ms=3, lw=0.8, label=f"gap L={r['L']}")
            ax.plot(tl, r["deviation_tail_ule"], "D--", color=c, ms=4, label=f"energy tail L={r['L']}")
            ax.plot(tl, r["estimate_deviation_tail"], ":", color=c, lw=1.5)
        ax.axhline(0.1, color="k", lw=0.6)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(1e-4, 10)
        ax.set_xlabel(r"$\lambda$")
        ax.set_ylabel(r"$|t_{eq}^{ULE}/t_{eq}^{Davies} - 1|$  (dotted: tail estimate)")
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        fig.savefig(out / "tail_deviation.png", dpi=110)


if __name__ == "__main__":
    main()
