"""Sweep scaling: dask workers and grouping, each measured against its own floor in the same run.

1. Parallel speed-up: 16 independent chains (XXZ, 4 Delta x 4 J2) at L = 10, quantity ``gap``, on a
   2-worker LocalCluster against a 1-worker LocalCluster (both started before the clock; best of
   ``--repeats``). Target: at least 1.7 on 2 free cores.
2. Grouping: 9 strengths x 4 betas x 4 chains (144 points) at L = 10, quantities ``gap`` and
   ``kernel_dim``, run serially through the sweep machinery, against the floor the grid needs: 4
   diagonalizations and 4 x 4 generator constructions with their gap and kernel, written by hand with the
   public API. Target: at most 1.3 times the floor (one diagonalization per chain, ``with_strength`` for
   the strengths).

    python benchmarks/sweep_scaling.py [--L 10] [--repeats 2] [--skip-parallel] [--json out.json]

Prints the times and ratios; no assertion (timings on a shared machine vary).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import davies_mb as dm
from davies_mb import sweeps
from davies_mb.sweeps.compute import limit_threads


def chains_desc(L, n_strengths=1, n_betas=1):
    return {
        "name": "bench",
        "strength": [0.1] if n_strengths == 1 else f"0.01:0.1:{n_strengths}:log",
        "quantities": ["gap"] if n_strengths == 1 else ["gap", "kernel_dim"],
        "model": {"family": "xxz", "L": L, "bc": "open", "delta": [0.3, 0.6, 0.8, 1.2][: 4],
                  "j2": [0.0, 0.2, 0.4, 0.6] if n_strengths == 1 else 0.25},
        "couplings": {"edge": "x0+z1"},
        "bath": {"kind": "ohmic", "beta": 1.0 if n_betas == 1 else [0.5, 1.0, 2.0, 4.0]},
    }


def timed_run(desc, **kw):
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        rep = sweeps.run(desc, os.path.join(d, "store"), progress=False, **kw)
        dt = time.perf_counter() - t0
    assert rep.failed == 0, rep
    return dt


def floor_grouped(desc):
    """The work the grid needs, by hand: one diagonalization per chain, one generator per (chain, beta).

    Under the same thread limits as a sweep task (one BLAS/numba thread), so the ratio compares the same
    resources: only the grouping differs.
    """
    with limit_threads(1):
        return _floor(desc)


def _floor(desc):
    t0 = time.perf_counter()
    for delta in desc["model"]["delta"]:
        chain = dm.xxz(desc["model"]["L"], delta, j2=desc["model"]["j2"])
        spec = dm.diagonalize(chain)
        A = chain.parse_operator("x0+z1")
        for beta in desc["bath"]["beta"]:
            gen = dm.DaviesGenerator(spec, [A], dm.OhmicBath(beta=beta))
            gen.gap()
            gen.kernel_dimension()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--L", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--skip-parallel", action="store_true")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    out = {"L": a.L, "cpus": os.cpu_count(), "load_avg": os.getloadavg()}

    if not a.skip_parallel:
        from distributed import Client

        desc = chains_desc(a.L)
        times = {}
        for n in (1, 2):
            with sweeps.local_cluster(n) as cluster, Client(cluster) as client:
                timed_run(chains_desc(4), client=client)  # warm the workers (imports, numba cache)
                times[n] = min(timed_run(desc, client=client) for _ in range(a.repeats))
        out["parallel"] = {"t_1_worker": times[1], "t_2_workers": times[2], "speedup": times[1] / times[2]}
        print(f"16 chains at L = {a.L}: 1 worker {times[1]:.2f} s, 2 workers {times[2]:.2f} s, "
              f"speed-up {times[1] / times[2]:.2f} (target >= 1.7 on 2 free cores)")

    desc = chains_desc(a.L, n_strengths=9, n_betas=4)
    floor_grouped(chains_desc(4, 9, 4) | {"model": desc["model"] | {"L": 4}})  # warm numba
    t_floor = min(floor_grouped(desc) for _ in range(a.repeats))
    t_sweep = min(timed_run(desc, serial=True) for _ in range(a.repeats))
    out["grouping"] = {"points": 9 * 4 * 4, "t_floor": t_floor, "t_sweep": t_sweep, "ratio": t_sweep / t_floor}
    print(f"9 strengths x 4 betas x 4 chains at L = {a.L}: sweep {t_sweep:.2f} s, floor (4 diagonalizations + "
          f"16 generators) {t_floor:.2f} s, ratio {t_sweep / t_floor:.2f} (target <= 1.3)")
    print(f"load average during the run: {os.getloadavg()}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
