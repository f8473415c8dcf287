"""Cost of a lambda scan against one diagonalization + generator (issue 3 target: at most 1.3x).

Open XXZ, Delta = 0.5, coupling sigma^x_0 + sigma^z_1, Ohmic bath at beta = 1, Neel initial state, in the
full space (d = 2^L; the chain conserves S^z, so diagonalize works by S^z blocks, but the coupling does
not, so the generator lives in the whole space).

- reference: dm.diagonalize + dm.DaviesGenerator + gen.gap() (what any use of the generator needs);
- scan: dm.teq_scan with 9 strengths over two decades, 200 times per trajectory (its own diagonalize
  included): gap, trace-distance time and tail fits of the energy at every strength.

Both in fresh subprocesses (peak RSS), best of --repeats; the ratio is taken between numbers of the same
run, so the load of a shared machine cancels to first order.

Usage: python benchmarks/teq_scan.py [--sizes 8 10] [--repeats 3] [--json results/bench/teq_scan.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

COMMON = r"""
import time, resource, numpy as np, davies_mb as dm
L = {L}
chain = dm.xxz(L, 0.5)
A = chain.parse_operator("x0+z1")
bath = dm.OhmicBath(beta=1.0)
"""

REFERENCE = COMMON + r"""
t0 = time.perf_counter()
spec = dm.diagonalize(chain)
gen = dm.DaviesGenerator(spec, A, bath, strength=0.1)
g = gen.gap()
t1 = time.perf_counter()
print("RESULT", t1 - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, g)
"""

SCAN = COMMON + r"""
t0 = time.perf_counter()
res = dm.teq_scan(chain, A, bath, np.geomspace(1e-3, 1e-1, 9), initial="neel", n_times=200, progress=False)
t1 = time.perf_counter()
print("RESULT", t1 - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, res.fits["gap"].exponent)
"""


def run(code):
    env = dict(os.environ)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=3600, env=env)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    f = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")][-1].split()
    return float(f[1]), int(f[2]) / 2**20, float(f[3])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[8, 10])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", default="results/bench/teq_scan.json")
    a = p.parse_args(argv)
    rows = []
    print(f"{'L':>3} {'reference s':>12} {'scan s':>9} {'ratio':>6} {'ref GiB':>8} {'scan GiB':>9} {'exponent':>10}")
    for L in a.sizes:
        ref = min((run(REFERENCE.format(L=L)) for _ in range(a.repeats)), key=lambda r: r[0])
        scan = min((run(SCAN.format(L=L)) for _ in range(a.repeats)), key=lambda r: r[0])
        row = dict(L=L, reference_s=ref[0], scan_s=scan[0], ratio=scan[0] / ref[0], reference_gib=ref[1],
                   scan_gib=scan[1], exponent=scan[2], repeats=a.repeats)
        rows.append(row)
        print(f"{L:>3} {ref[0]:>12.2f} {scan[0]:>9.2f} {row['ratio']:>6.2f} {ref[1]:>8.2f} {scan[1]:>9.2f} "
              f"{scan[2]:>10.6f}", flush=True)
    os.makedirs(os.path.dirname(a.json) or ".", exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
