"""Davies generator: time and peak memory against the dense numpy floor, in the same run.

Case (issue 2): open XXZ, Delta = 0.5, J2 = 0.3, coupling A = sigma^x_0 + sigma^z_1 in the full space
(unique stationary state), Ohmic bath beta = 1, eta = 1, cutoff = 5.

* ours  = dm.diagonalize + DaviesGenerator + gap() + stationary_state(rho0)
* floor = one dense numpy.linalg.eigh of H, one dense basis change V^T A V, one numpy.linalg.eigvalsh
          of a d x d symmetric matrix (the minimum any exact method pays without symmetry blocks)

Each measurement runs in a fresh subprocess (peak memory = its max RSS), best of ``--repeats``; the
printed ratio is ours / floor from the same run, so machine load cancels to first order.
A second table shows an S^z-conserving coupling (sigma^z_0 + sigma^z_1) inside the S^z = 0 sector at
larger L, which sectors bring within reach.

``--floor blocked`` replaces the floor by the S^z-blocked diagonalization alone (one numpy eigh per S^z
sector), the floor issue 13 asks the full-space L = 14 and 15 runs to be compared with.

Usage: python benchmarks/davies_scaling.py [--sizes 8 10 12 13 14] [--repeats 3] [--floor-max 13]
       [--floor dense|blocked] [--sector-sizes 12 14 16] [--json results/bench/davies_scaling.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

OURS = r"""
import time, numpy as np, davies_mb as dm
L = {L}
t0 = time.perf_counter()
chain = dm.xxz(L, 0.5, j2=0.3)
spec = dm.diagonalize(chain)
gen = dm.DaviesGenerator(spec, chain.parse_operator("x0+z1"), dm.OhmicBath(beta=1.0), strength=0.1)
gap = gen.gap()
rho0 = np.zeros((spec.dim, spec.dim)); rho0[0, 0] = 1.0
rho = gen.stationary_state(rho0)
t1 = time.perf_counter()
import resource; print("RESULT", t1 - t0, gap, gen.kernel_dimension(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

FLOOR = r"""
import time, numpy as np, davies_mb as dm
L = {L}
chain = dm.xxz(L, 0.5, j2=0.3)
H = chain.hamiltonian(sparse=False)
A = chain.parse_operator("x0+z1").toarray()
t0 = time.perf_counter()
E, V = np.linalg.eigh(H)
Ae = V.T @ A @ V
W = Ae * Ae
np.linalg.eigvalsh(W + W.T)
t1 = time.perf_counter()
import resource; print("RESULT", t1 - t0, 0.0, 0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

# the floor of issue 13: the S^z-blocked diagonalization alone (one numpy eigh per S^z sector)
FLOOR_BLOCKED = r"""
import time, numpy as np, davies_mb as dm
from davies_mb.sectors import sector_basis, sector_labels
L = {L}
chain = dm.xxz(L, 0.5, j2=0.3)
H = chain.hamiltonian(sparse=True)
blocks = [(P.T @ H @ P).toarray() for P in (sector_basis(L, **lab) for lab in sector_labels(L, ("sz",)))]
del H
t0 = time.perf_counter()
for Hs in blocks:
    np.linalg.eigh(Hs)
t1 = time.perf_counter()
import resource; print("RESULT", t1 - t0, 0.0, 0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

SECTOR = r"""
import time, numpy as np, davies_mb as dm
L = {L}
t0 = time.perf_counter()
chain = dm.xxz(L, 0.5, j2=0.3)
spec = dm.diagonalize(chain, sector=dict(sz=0))
gen = dm.DaviesGenerator(spec, chain.parse_operator("z0+z1"), dm.OhmicBath(beta=1.0), strength=0.1)
gap = gen.gap()
t1 = time.perf_counter()
import resource; print("RESULT", t1 - t0, gap, gen.kernel_dimension(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run(code: str, L: int, timeout: float):
    """Run one measurement in a subprocess; returns (seconds, peak GiB, gap, kernel) or None on timeout."""
    try:
        out = subprocess.run([sys.executable, "-c", code.format(L=L)], capture_output=True, text=True,
                             timeout=timeout, env=os.environ.copy())
    except subprocess.TimeoutExpired:
        return None
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")][-1].split()
    # the child's own max RSS (KiB on Linux)
    return float(line[1]), int(line[4]) / 2**20, float(line[2]), int(line[3])


def best(code, L, repeats, timeout):
    runs = [r for r in (run(code, L, timeout) for _ in range(repeats)) if r is not None]
    return min(runs, key=lambda r: r[0]) if runs else None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[8, 10, 12, 13, 14])
    p.add_argument("--sector-sizes", type=int, nargs="*", default=[12, 14, 16])
    p.add_argument("--repeats", type=int, default=3, help="best of this many runs (1 above L = 12)")
    p.add_argument("--floor-max", type=int, default=13, help="largest L at which the dense floor is run")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per measurement")
    p.add_argument("--floor", choices=("dense", "blocked"), default="dense",
                   help="dense: eigh of H + V^T A V + eigvalsh of d x d (issue 2); blocked: the S^z-blocked eigh "
                        "of H alone (issue 13)")
    p.add_argument("--json", default="results/bench/davies_scaling.json")
    a = p.parse_args(argv)

    rows = []
    print(f"{'L':>3} {'d':>6} {'ours s':>9} {'ours GiB':>9} {'floor s':>9} {'floor GiB':>9} {'ratio':>7} "
          f"{'gap':>10} {'kernel':>6}")
    for L in a.sizes:
        reps = a.repeats if L <= 12 else 1
        ours = best(OURS, L, reps, a.timeout)
        floor = (best(FLOOR if a.floor == "dense" else FLOOR_BLOCKED, L, reps, a.timeout)
                 if L <= a.floor_max else None)
        ratio = ours[0] / floor[0] if (ours and floor) else float("nan")
        row = dict(L=L, d=2**L, ours_s=ours and ours[0], ours_gib=ours and ours[1],
                   floor_s=floor and floor[0], floor_gib=floor and floor[1], ratio=ratio,
                   gap=ours and ours[2], kernel=ours and ours[3])
        rows.append(row)
        fmt = lambda v, f: (f"{v:{f}}" if v is not None else "-")  # noqa: E731
        print(f"{L:>3} {2**L:>6} {fmt(row['ours_s'], '9.2f')} {fmt(row['ours_gib'], '9.2f')} "
              f"{fmt(row['floor_s'], '9.2f')} {fmt(row['floor_gib'], '9.2f')} {ratio:>7.2f} "
              f"{fmt(row['gap'], '10.6f')} {fmt(row['kernel'], '6d')}", flush=True)

    srows = []
    if a.sector_sizes:
        print("\nS^z-conserving coupling sigma^z_0 + sigma^z_1 inside the S^z = 0 sector")
        print(f"{'L':>3} {'dim':>6} {'ours s':>9} {'ours GiB':>9} {'gap':>10} {'kernel':>6}")
        from math import comb

        for L in a.sector_sizes:
            r = best(SECTOR, L, 1, a.timeout)
            srows.append(dict(L=L, dim=comb(L, L // 2), seconds=r and r[0], gib=r and r[1],
                              gap=r and r[2], kernel=r and r[3]))
            if r:
                print(f"{L:>3} {comb(L, L // 2):>6} {r[0]:>9.2f} {r[1]:>9.2f} {r[2]:>10.6f} {r[3]:>6d}", flush=True)
            else:
                print(f"{L:>3} {comb(L, L // 2):>6} timed out after {a.timeout:.0f} s", flush=True)

    if a.json:
        os.makedirs(os.path.dirname(a.json), exist_ok=True)
        tmp = a.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(dict(full_space=rows, sz0_sector=srows, when=time.strftime("%Y-%m-%d %H:%M"),
                           args=vars(a)), f, indent=1)
        os.replace(tmp, a.json)
        print(f"\nwritten {a.json}")


if __name__ == "__main__":
    main()
