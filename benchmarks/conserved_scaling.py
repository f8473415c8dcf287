"""Conserved-quantity detection in the full space: time and peak memory (issue 4 target: L = 12 well
under a minute).

Open XXZ (Delta = 0.55, no field; H conserves S^z, so dm.diagonalize works block by block over S^z
sectors) with the three couplings of the study: sigma^z_0 (total S^z survives: L + 1), sigma^x_0 (hidden
prod sigma^x parity: 2), sigma^x_0 + sigma^z_1 (unique). Measured: diagonalize + DaviesGenerator +
conserved_quantities + recognize, in a fresh subprocess each (max RSS), beside the dense numpy floor
(one eigh of H) from the same run.

Usage: python benchmarks/conserved_scaling.py [--sizes 8 10 12] [--json results/bench/conserved_scaling.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

CODE = r"""
import time, resource, numpy as np, davies_mb as dm
from davies_mb.conserved import conserved_quantities, recognize
L, cp = {L}, {cp!r}
t0 = time.perf_counter()
chain = dm.xxz(L, 0.55)
spec = dm.diagonalize(chain)
gen = dm.DaviesGenerator(spec, chain.parse_operator(cp), dm.OhmicBath(beta=1.0), strength=0.1)
Q = conserved_quantities(gen)
rep = recognize(gen, L, quantities=Q)
t1 = time.perf_counter()
print("RESULT", t1 - t0, len(Q), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "|".join(rep.recognized[:3]))
"""

FLOOR = r"""
import time, resource, numpy as np, davies_mb as dm
H = dm.xxz({L}, 0.55).hamiltonian(sparse=False)
t0 = time.perf_counter(); np.linalg.eigh(H); t1 = time.perf_counter()
print("RESULT", t1 - t0, 0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "-")
"""


def run(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    f = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")][-1].split(maxsplit=4)
    return float(f[1]), int(f[2]), f[4], int(f[3]) / 2**20


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[8, 10, 12])
    p.add_argument("--json", default="results/bench/conserved_scaling.json")
    a = p.parse_args(argv)
    rows = []
    print(f"{'L':>3} {'coupling':>8} {'seconds':>8} {'GiB':>6} {'floor eigh s':>13} {'conserved':>9}  recognized")
    for L in a.sizes:
        floor = run(FLOOR.format(L=L))[0]
        for cp in ("z0", "x0", "x0+z1"):
            sec, n, names, gib = run(CODE.format(L=L, cp=cp))
            rows.append(dict(L=L, coupling=cp, seconds=sec, gib=gib, floor_eigh_s=floor, conserved=n,
                             recognized=names.split("|")))
            print(f"{L:>3} {cp:>8} {sec:>8.2f} {gib:>6.2f} {floor:>13.2f} {n:>9d}  {names.replace('|', ', ')}",
                  flush=True)
    if a.json:
        os.makedirs(os.path.dirname(a.json), exist_ok=True)
        tmp = a.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(dict(rows=rows, when=time.strftime("%Y-%m-%d %H:%M")), f, indent=1)
        os.replace(tmp, a.json)


if __name__ == "__main__":
    main()
