"""Bath-induced ergodicity restoration at larger sizes: t_eq versus lambda, two-step relaxation, Redfield.

Three parts, public API only; JSON + PNG into results/teq_scaling/ (figures also copied to docs/figures/
with --docs):

A. Full space, open XXZ (Delta = 0.5, integrable), coupling sigma^x_0 + sigma^z_1 (breaks every symmetry:
   unique thermalization), Ohmic bath beta = 1, Neel state: t_eq(lambda) for L = 8, 10 (--full 8 10 12 for
   more; L = 12 needs the full nu = 0 block eigh, ~15000^2: tens of minutes).
B. The S^z = 0 sector, coupling sigma^z_0 (the bath conserves total S^z: the chain equilibrates to the
   canonical state at fixed magnetization, which is the Gibbs state of the sector): L = 10, 12, 14, and the
   two-step relaxation of the bond-averaged (sigma^x sigma^x + sigma^y sigma^y)/2 at L = 12.
C. Where t_eq ~ lambda^-2 stops: Davies versus Bloch-Redfield (no secular approximation), L = 4 (and 5 with
   --redfield 4 5), lambda from 1e-3 to 1; the crossover against the smallest Bohr frequency nu_min.

Usage: python studies/teq_scaling.py [--full 8 10] [--sector 10 12 14] [--redfield 4] [--docs]
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np

import davies_mb as dm
from davies_mb.io import save_json
from davies_mb.plots import plot_two_step

OUT = Path("results/teq_scaling")
BATH = dm.OhmicBath(beta=1.0, eta=1.0, cutoff=5.0)
LAMS = np.geomspace(1e-3, 1e-1, 6)


def bond_xx(chain):
    nb = chain.L - 1
    return sum(chain.pauli("x", j) @ chain.pauli("x", j + 1) for j in range(nb)) / nb


def bond_hopping(chain):
    """Bond average of (x_j x_j+1 + y_j y_j+1)/2: conserves S^z, so it acts inside one S^z sector."""
    nb = chain.L - 1
    return sum(chain.pauli("x", j) @ chain.pauli("x", j + 1) + chain.pauli("y", j) @ chain.pauli("y", j + 1)
               for j in range(nb)).real / (2 * nb)


def part_scan(sizes, coupling, sector, tag):
    rows = []
    for L in sizes:
        chain = dm.xxz(L, 0.5)
        t0 = time.perf_counter()
        res = dm.teq_scan(chain, chain.parse_operator(coupling), BATH, LAMS, initial="neel", sector=sector)
        sec = time.perf_counter() - t0
        print(f"\n[{tag}] L = {L}, coupling {coupling}, sector {sector}: {sec:.1f} s\n{res.table()}", flush=True)
        save_json(OUT / f"{tag}_L{L}.json", res.to_dict() | {"seconds": sec},
                  params=dict(L=L, delta=0.5, coupling=coupling, sector=sector, beta=1.0, eta=1.0, cutoff=5.0,
                              strengths=LAMS, initial="neel"))
        rows.append((L, res))
    return rows


def plot_scans(rows, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4.2))
    for L, r in rows:
        (ln,) = ax.loglog(r.strengths, r.t_gap, "o-", mfc="none", label=f"L={L} 1/gap (p={r.fits['gap'].exponent:.3f})")
        ax.loglog(r.strengths, r.t_distance, "s--", mfc="none", color=ln.get_color(),
                  label=f"L={L} trace distance < {r.epsilon:g}")
        if "energy" in r.t_fit:
            ax.loglog(r.strengths, r.t_fit["energy"], "^", color=ln.get_color(), mfc="none")
    ax.set_xlabel(r"$\lambda$")
    ax.set_ylabel(r"$t_{eq}$")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    Ls = [L for L, _ in rows]
    bx.plot(Ls, [1 / (r.t_gap[0] * r.strengths[0] ** 2) for _, r in rows], "o-", label=r"gap / $\lambda^2$")
    bx.set_xlabel("L")
    bx.set_ylabel(r"$\Delta/\lambda^2$")
    bx.legend()
    bx.grid(True, alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def part_redfield(sizes):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lams = np.geomspace(1e-3, 1.0, 13)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    out = {}
    for L in sizes:
        chain = dm.xxz(L, 0.5)
        A = chain.parse_operator("x0+z1")
        t0 = time.perf_counter()
        dav = dm.teq_scan(chain, A, BATH, lams, progress=False)
        red = dm.teq_scan(chain, A, BATH, lams, method="redfield")
        spec = dm.diagonalize(chain)
        E = spec.level_energies
        nu = np.abs(E[:, None] - E[None, :])
        nu_min = float(np.min(nu[nu > spec.level_tol]))
        lam_x = dm.secular_crossover(dav, red, rel=0.1)
        rate = 1.0 / (dav.t_gap[0] * lams[0] ** 2)  # Davies gap / lambda^2
        print(f"\n[redfield] L = {L}: Davies gap/lambda^2 = {rate:.5f}, smallest Bohr frequency {nu_min:.4g}, "
              f"10% crossover at lambda = {lam_x:.3g} (lambda^2 gap = {lam_x**2 * rate:.3g} = "
              f"{lam_x**2 * rate / nu_min:.2f} nu_min); {time.perf_counter() - t0:.0f} s", flush=True)
        for k, (lam, td, tr) in enumerate(zip(lams, dav.t_gap, red.t_gap)):
            print(f"   lambda {lam:9.4g}   Davies 1/gap {td:12.5g}   Redfield 1/gap {tr:12.5g}   ratio {tr / td:8.4f}")
        out[L] = dict(strengths=lams, davies_t_gap=dav.t_gap, redfield_t_gap=red.t_gap, nu_min=nu_min,
                      davies_gap_over_lam2=rate, crossover_10pct=lam_x,
                      redfield_final_distance_to_gibbs=red.final_distance_to_gibbs)
        (ln,) = ax.loglog(lams, dav.t_gap * lams**2, "-", label=f"Davies L={L}")
        ax.loglog(lams, np.where(np.isfinite(red.t_gap), red.t_gap, np.nan) * lams**2, "o", mfc="none",
                  color=ln.get_color(), label=f"Redfield L={L}")
        ax.axvline(np.sqrt(nu_min / rate), color=ln.get_color(), ls=":", lw=0.8)
    ax.set_xlabel(r"$\lambda$")
    ax.set_ylabel(r"$\lambda^2\, t_{eq}$  ($t_{eq} = 1/\mathrm{gap}$)")
    ax.set_title(r"secular limit: $\lambda^2 t_{eq}$ constant; dotted: $\lambda^2\Delta = \nu_{min}$", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path = OUT / "redfield_crossover.png"
    fig.savefig(path, dpi=130)
    plt.close(fig)
    save_json(OUT / "redfield_crossover.json", {str(k): v for k, v in out.items()},
              params=dict(delta=0.5, coupling="x0+z1", beta=1.0, eta=1.0, cutoff=5.0, sizes=list(sizes)))
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--full", type=int, nargs="*", default=[8, 10])
    p.add_argument("--sector", type=int, nargs="*", default=[10, 12, 14])
    p.add_argument("--redfield", type=int, nargs="*", default=[4])
    p.add_argument("--docs", action="store_true", help="copy the figures to docs/figures/")
    a = p.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    figs = []
    if a.full:
        rows = part_scan(a.full, "x0+z1", None, "full")
        figs.append(plot_scans(rows, OUT / "teq_full.png",
                               "open XXZ $\\Delta=0.5$, coupling $\\sigma^x_0+\\sigma^z_1$, full space, Neel"))
        chain = dm.xxz(a.full[-1], 0.5)
        res = dm.two_step_relaxation(chain, chain.parse_operator("x0+z1"), BATH, LAMS, bond_xx(chain))
        save_json(OUT / f"two_step_full_L{chain.L}.json", res.to_dict(), params=res.params)
        figs.append(plot_two_step(res, OUT / f"two_step_full_L{chain.L}.png", observable="mean x_j x_j+1",
                                  title=f"L = {chain.L}, coupling x0+z1: dephasing, then the bath"))
    if a.sector:
        rows = part_scan(a.sector, "z0", dict(sz=0), "sector")
        figs.append(plot_scans(rows, OUT / "teq_sector.png",
                               "open XXZ $\\Delta=0.5$, coupling $\\sigma^z_0$, $S^z=0$ sector, Neel"))
        L2 = 12 if 12 in a.sector else a.sector[0]
        chain = dm.xxz(L2, 0.5)
        res = dm.two_step_relaxation(chain, chain.pauli("z", 0), BATH, LAMS, bond_hopping(chain), sector=dict(sz=0))
        save_json(OUT / f"two_step_sector_L{L2}.json", res.to_dict(), params=res.params)
        figs.append(plot_two_step(res, OUT / f"two_step_sector_L{L2}.png", observable="mean (xx+yy)/2",
                                  title=f"L = {L2}, S^z = 0 sector, coupling z0: dephasing, then the bath"))
    if a.redfield:
        figs.append(part_redfield(a.redfield))
    if a.docs:
        dest = Path("docs/figures")
        dest.mkdir(parents=True, exist_ok=True)
        for f in figs:
            shutil.copy(f, dest / Path(f).name)
    print("\nwritten:", ", ".join(str(f) for f in figs))


if __name__ == "__main__":
    main()
