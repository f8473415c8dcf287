"""Free-fermion Davies generator at large L against the numpy floor (issue 13 target: L = 1000 under 30 s).

For each L: dm.FreeFermionDavies construction + gap() + stationary_correlations() (the site-basis Majorana
covariance, 2L x 2L), for the open XX chain (hz = 0.3, coupling sigma^x_0) and the open transverse-field
Ising chain (g = 1.5, coupling sigma^z_0), Ohmic bath beta = 1. Floor: one dense `numpy.linalg.eigh` of the
2L x 2L single-particle matrix i h (what any route through the Majorana modes needs at least once); also
the energy trajectory (400 times) that the t_eq-versus-L study fits.

Best of --repeats, all in this process, the ratio taken between numbers of the same run (the load of a
shared machine cancels to first order).

Usage: python benchmarks/ff_scaling.py [--sizes 250 500 1000] [--repeats 3] [--json results/bench/ff_scaling.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np

import davies_mb as dm


def best(f, repeats):
    out, ts = None, []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = f()
        ts.append(time.perf_counter() - t0)
    return min(ts), out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[250, 500, 1000])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", default=None)
    a = p.parse_args(argv)
    bath = dm.OhmicBath(beta=1.0)
    rows = []
    for L in a.sizes:
        for model in ("xx", "tfim"):
            def build():
                if model == "xx":
                    return dm.FreeFermionDavies.xx(L, "x0", bath, 0.1, hz=0.3)
                return dm.FreeFermionDavies.tfim(L, 1.5, "z0", bath, 0.1)

            def ours():
                ff = build()
                return ff, ff.gap(), ff.stationary_correlations()

            t_ours, (ff, gap, G) = best(ours, a.repeats)
            h = ff.majorana_hamiltonian
            t_floor, _ = best(lambda: np.linalg.eigh(1j * h), a.repeats)
            G0 = ff.local_product_covariance(np.where(np.arange(L) % 2 == 0, 1.0, -1.0) if model == "xx"
                                             else -np.ones(L))
            times = dm.log_times(0.05, 40 / gap, 400)
            t_traj, _ = best(lambda: ff.trajectory(G0, times, local=False), a.repeats)
            row = dict(L=L, model=model, seconds=t_ours, floor_eigh=t_floor, ratio=t_ours / t_floor,
                       energy_trajectory_400=t_traj, gap=gap)
            rows.append(row)
            print(f"L={L:5d} {model:5s} build+gap+stationary {t_ours:7.2f} s   floor eigh(2L) {t_floor:7.2f} s   "
                  f"ratio {t_ours / t_floor:5.2f}   energy trajectory (400 times) {t_traj:6.2f} s   gap {gap:.4e}",
                  flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak RSS {peak:.2f} GiB")
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(dict(rows=rows, peak_rss_gib=peak), indent=1))


if __name__ == "__main__":
    main()
