"""t_eq lambda^2 versus system size L for a bath at one edge site: free fermions to L = 1000, XXZ exactly.

Public API only; JSON + PNG into results/teq_vs_size/ (the figure also into docs/figures/ with --docs).

* Free fermions (dm.FreeFermionDavies, exact at any L): the open XX chain (hz = 0.3, so no particle-hole
  pair shares a Bohr frequency) coupled through sigma^x_0, initial Neel state, and the open transverse-field
  Ising chain in its paramagnetic phase (g = 1.5, no edge zero mode) coupled through sigma^z_0, initial state
  with every spin against the field. L = 8 ... 1000.
* Interacting XXZ (dm.DaviesGenerator through dm.teq_scan, exact), Delta = 0.5, integrable (J2 = 0) and
  chaotic (J2 = 0.3), coupled through sigma^z_0 (conserves total S^z: the S^z = 0 sector, where the Neel
  state lives), L = 6 ... 12 by default (--sizes 6 8 10 12 14 for more, minutes per point at 14).

Ohmic bath, beta = 1, eta = 1, cutoff 5, lambda = 0.1 (inside the Davies generator t_eq lambda^2 does not
depend on lambda). t_eq from the gap (lambda^2/gap) and from the energy's slow tail; power laws in L fitted on
log-log axes with the standard error of the exponent.

Usage: python studies/teq_vs_size.py [--ff-sizes 8 16 ... 1000] [--sizes 6 8 10 12] [--docs]
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np

import davies_mb as dm
from davies_mb.io import save_json
from davies_mb.size_scaling import exact_size_scan, free_fermion_size_scan

OUT = Path("results/teq_vs_size")
BATH = dm.OhmicBath(beta=1.0, eta=1.0, cutoff=5.0)
FF_SIZES = [8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1000]
XXZ_SIZES = [6, 8, 10, 12]


def plot(scans, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 5.0))
    for s, marker in zip(scans, "osD^"):
        fg, fe = s.fits.get("gap"), s.fits.get("energy")
        lab = s.label + (f": gap p = {fg.exponent:.3f} ± {fg.stderr:.3f}" if fg and np.isfinite(fg.exponent) else "")
        (ln,) = ax.loglog(s.sizes, s.t_gap, marker + "-", mfc="none", label=lab)
        lab_e = "   energy tail" + (f" p = {fe.exponent:.3f} ± {fe.stderr:.3f}" if fe and np.isfinite(fe.exponent) else "")
        ax.loglog(s.sizes, s.t_energy, marker + ":", color=ln.get_color(), ms=3, label=lab_e)
    L = np.array([8, 1000.0])
    ax.loglog(L, 0.01 * L**3, "k--", lw=0.8, label=r"$\propto L^3$")
    ax.loglog(L, 0.15 * L, "k-.", lw=0.8, label=r"$\propto L$")
    ax.set_xlabel("L (sites)")
    ax.set_ylabel(r"$\lambda^2 t_{eq}$")
    ax.set_title(r"edge bath (one site), Ohmic $\beta=1$: $\lambda^2/\Delta$ (solid) and energy tail (dotted)",
                 fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ff-sizes", type=int, nargs="*", default=FF_SIZES)
    p.add_argument("--sizes", type=int, nargs="*", default=XXZ_SIZES)
    p.add_argument("--docs", action="store_true", help="copy the figure to docs/figures/")
    a = p.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    scans = []
    if a.ff_sizes:
        scans.append(free_fermion_size_scan("xx", a.ff_sizes, BATH, hz=0.3))
        scans.append(free_fermion_size_scan("tfim", a.ff_sizes, BATH, g=1.5))
    if a.sizes:
        scans.append(exact_size_scan(a.sizes, BATH, delta=0.5, j2=0.0, coupling="z0"))
        scans.append(exact_size_scan(a.sizes, BATH, delta=0.5, j2=0.3, coupling="z0"))
    for s in scans:
        print(s.table(), "\n", flush=True)
    save_json(OUT / "teq_vs_size.json", {s.label: s.to_dict() for s in scans},
              params=dict(beta=1.0, eta=1.0, cutoff=5.0, strength=0.1, ff_sizes=a.ff_sizes, sizes=a.sizes))
    path = plot(scans, OUT / "teq_vs_size.png")
    if a.docs:
        Path("docs/figures").mkdir(parents=True, exist_ok=True)
        shutil.copy(path, "docs/figures/teq_vs_size.png")
    print(f"wrote {OUT}/teq_vs_size.json and {path} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
