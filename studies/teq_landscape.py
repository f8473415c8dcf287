"""Study: the landscape of t_eq lambda^2 and the kernel dimension over (Delta, J2), two couplings, three betas.

Runs the sweep of ``studies/teq_landscape.toml`` (resumable: the store is results/teq_landscape/store) on a
dask LocalCluster, then writes results/teq_landscape/{teq_landscape.json, teq_lambda2.png, kernel_dim.png}.

    python studies/teq_landscape.py                    # the shipped TOML: L = 10, 6 x 4 x 2 x 3 = 144 points
    python studies/teq_landscape.py --L 8 --coarse     # L = 8, Delta in {0, 0.5, 1, 1.5}, J2 in {0, 0.2, 0.4}
    python studies/teq_landscape.py --serial           # without dask

Public API only (davies_mb.sweeps).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tomllib
from pathlib import Path

import numpy as np

import davies_mb as dm

HERE = Path(__file__).resolve().parent


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--toml", default=str(HERE / "teq_landscape.toml"))
    ap.add_argument("--L", type=int, default=None, help="override the chain length")
    ap.add_argument("--coarse", action="store_true", help="Delta in {0, 0.5, 1, 1.5}, J2 in {0, 0.2, 0.4}")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--serial", action="store_true")
    ap.add_argument("--out", default="results/teq_landscape")
    ap.add_argument("--figures", default=None, help="also copy the PNGs into this folder (e.g. docs/figures)")
    a = ap.parse_args()

    with open(a.toml, "rb") as f:
        desc = tomllib.load(f)
    if a.L is not None:
        desc["model"]["L"] = a.L
    if a.coarse:
        desc["model"]["delta"] = [0.0, 0.5, 1.0, 1.5]
        desc["model"]["j2"] = [0.0, 0.2, 0.4]
    sweep = dm.sweeps.load_sweep(desc)
    out = Path(a.out)
    store = out / "store"
    plan = dm.sweeps.plan(sweep, store)
    print(plan.summary())
    report = dm.sweeps.run(sweep, store, workers=a.workers, serial=a.serial)
    print(report)
    ds = dm.sweeps.load(store)

    figs = {}
    for q, log, name in (("t_eq_lambda2_gap", True, "teq_lambda2.png"), ("kernel_dim", False, "kernel_dim.png")):
        sel = {}
        fig = dm.sweeps.heatmaps(ds, [q], "delta", "j2", select=sel, log=log, path=out / name)
        figs[q] = str(out / name)
        import matplotlib.pyplot as plt

        plt.close(fig)
    summary = {
        "params": {"L": int(sweep.axes["L"][0]), "dims": sweep.dims, "axes": sweep.axes,
                   "couplings": sweep.couplings, "quantities": list(sweep.quantities), "options": sweep.options},
        "report": str(report),
        "figures": figs,
        "data": {q: np.asarray(ds[q].values).tolist() for q in sweep.quantities},
        "status": sweeps_status(store),
    }
    # a short reading: the prefactor's range per coupling and beta, and where kernels are degenerate
    lines = []
    for c in ds["coupling"].values:
        for b in ds["beta"].values:
            t = ds["t_eq_lambda2_gap"].sel(coupling=c, beta=b)
            k = ds["kernel_dim"].sel(coupling=c, beta=b)
            lines.append(f"{c:>8} beta={b:<4} t_eq*lambda^2 (1/gap) in [{float(t.min()):.3g}, {float(t.max()):.3g}], "
                         f"kernel dims {sorted(set(int(v) for v in np.ravel(k.values) if np.isfinite(v)))}")
    summary["reading"] = lines
    print("\n".join(lines))
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "teq_landscape.json", "w") as f:
        json.dump(summary, f, indent=1, default=float)
    if a.figures:
        Path(a.figures).mkdir(parents=True, exist_ok=True)
        for p in figs.values():
            shutil.copy(p, Path(a.figures) / f"teq_landscape_{Path(p).name}")


def sweeps_status(store):
    return dm.sweeps.status(store).to_dict()


if __name__ == "__main__":
    main()
