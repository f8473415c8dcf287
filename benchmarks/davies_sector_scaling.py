"""Davies generator in the S^z = 0 sector against the numpy floor (issue 13 item 1 and the L = 14 scan ratio).

Chain: open XXZ, Delta = 0.5, J2 = 0.3 (chaotic, non-degenerate levels in the sector), coupling
sigma^z_0 + sigma^z_1 (conserves S^z, so the generator lives in the sector), Ohmic bath at beta = 1, Neel
initial state, 6 strengths from 1e-3 to 1e-1, observable: the energy.

- floor: one dense ``scipy.linalg.eigh`` of the sector Hamiltonian (n x n, n = C(L, L/2)), as issue 13 defines
  it (ours diagonalizes the sector by its reflection x spin-flip blocks, about 16 times less work);
- ours (one process): ``dm.diagonalize`` + ``DaviesGenerator`` + ``gap()`` + ``stationary_state`` +
  ``teq_scan(generator, ...)`` (6 strengths, 200 times each, energy-tail fits and the trace-distance time),
  timed phase by phase;
- scan from scratch: ``teq_scan(chain, ..., sector=dict(sz=0))`` against its reference
  ``diagonalize + DaviesGenerator + gap`` (the measure of benchmarks/teq_scan.py), with ``--scan-ratio``.

Every run is a fresh subprocess (peak RSS from getrusage) with ``DAVIES_MB_MEMORY_LIMIT`` set to the budget,
so an estimate above it refuses before allocating. Ratios are taken between numbers of the same run, so the
load of a shared machine cancels to first order; ``uptime`` is printed before and after.

``--degenerate``: the massively degenerate cases of item 2 instead (best of 3): the periodic Ising ring L = 8
with a bath on every site through sigma^x_j (generator + ``expect`` of the magnetization and energy at 4 times)
and the Dicke model's full-space check at N = 8 (one coupling 2 J_x, against the Dicke-basis birth-death chain).

Usage (timed: under the heavy lock):
  flock /work/locks/heavy.lock python benchmarks/davies_sector_scaling.py --sizes 14 16 --json results/bench/davies_sector.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

COMMON = r"""
import time, resource, json, numpy as np, scipy.linalg as sla, davies_mb as dm
L = {L}
chain = dm.xxz(L, 0.5, j2=0.3)
A = chain.parse_operator("z0+z1")
bath = dm.OhmicBath(beta=1.0)
lams = np.geomspace(1e-3, 1e-1, 6)
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
"""

FLOOR = COMMON + r"""
from davies_mb.sectors import sector_basis
P = sector_basis(L, sz=0)  # the whole S^z = 0 sector (not timed)
Hs = (P.T @ chain.hamiltonian(sparse=True) @ P).toarray()
t0 = time.perf_counter()
e, v = sla.eigh(Hs, driver="evd", check_finite=False)
t1 = time.perf_counter()
print("RESULT", json.dumps(dict(floor_s=t1 - t0, n=Hs.shape[0], gib=rss())))
"""

OURS = COMMON + r"""
T = {{}}
t0 = time.perf_counter()
spec = dm.diagonalize(chain, sector=dict(sz=0))
T["diagonalize_s"] = time.perf_counter() - t0
t = time.perf_counter()
gen = dm.DaviesGenerator(spec, A, bath, strength=0.01)
T["generator_s"] = time.perf_counter() - t
t = time.perf_counter()
gap = gen.gap()
T["gap_s"] = time.perf_counter() - t
psi = dm.product_state(L, "neel")
t = time.perf_counter()
rho = gen.stationary_state(psi, basis="eigen")
T["stationary_s"] = time.perf_counter() - t
t = time.perf_counter()
res = dm.teq_scan(gen, None, None, lams, initial=psi, observables=dict(energy=chain.hamiltonian(sparse=True)),
                  progress=False)
T["scan_s"] = time.perf_counter() - t
T["total_s"] = time.perf_counter() - t0
T.update(n=spec.n, gap=gap, gib=rss(), t_gap_exponent=res.fits["gap"].exponent,
         t_energy_exponent=res.fits["fit:energy"].exponent, t_energy=list(res.t_fit["energy"]),
         t_distance=list(res.t_distance), message=res.message)
print("RESULT", json.dumps(T))
"""

REFERENCE = COMMON + r"""
t0 = time.perf_counter()
spec = dm.diagonalize(chain, sector=dict(sz=0))
gen = dm.DaviesGenerator(spec, A, bath, strength=0.1)
g = gen.gap()
print("RESULT", json.dumps(dict(reference_s=time.perf_counter() - t0, gib=rss())))
"""

SCAN = COMMON + r"""
t0 = time.perf_counter()
res = dm.teq_scan(chain, A, bath, lams, initial="neel", n_times=200, progress=False, sector=dict(sz=0))
print("RESULT", json.dumps(dict(scan_s=time.perf_counter() - t0, gib=rss())))
"""


DEGENERATE = r"""
import time, resource, json, numpy as np, scipy.sparse as sp, davies_mb as dm
from davies_mb.applications import dicke as dk
L = 8
Z = [dm.site_operator(dm.pauli("z").real, j, L) for j in range(L)]
X = [dm.site_operator(dm.pauli("x").real, j, L) for j in range(L)]
t0 = time.perf_counter()
H = sp.csr_array(-sum(Z[j] @ Z[(j + 1) % L] for j in range(L)))
gen = dm.DaviesGenerator(dm.diagonalize(H.toarray()), X, dm.OhmicBath(beta=1.0), strength=0.2)
psi = np.zeros(2**L)
psi[0] = 1.0
vals = gen.expect([sum(Z), H], psi, [0.0, 1.0, 10.0, 100.0])
t1 = time.perf_counter()
Jz, A = dk.full_space_operators(8)
bath = dm.OhmicBath(beta=0.7, eta=1.0, cutoff=5.0)
g = dm.DaviesGenerator(dm.diagonalize(Jz), [A], bath, strength=0.2)
rho0 = np.zeros((256, 256))
rho0[0, 0] = 1.0
t = np.array([0.0, 0.3, 1.0, 4.0])
err = float(np.max(np.abs(g.expect([Jz], rho0, t)[0] - dk.block_populations(8, 1.0, bath, 0.2, t) @ (4 - np.arange(9)))))
t2 = time.perf_counter()
print("RESULT", json.dumps(dict(ising_s=t1 - t0, ising_D0=int(gen._core.I0.size), dicke_s=t2 - t1, dicke_err=err,
                                gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)))
"""


def run(code, limit, timeout=3600):
    env = dict(os.environ, DAVIES_MB_MEMORY_LIMIT=limit)
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return None
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")][-1][7:])


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[12, 14])
    p.add_argument("--memory", default="12GiB", help="DAVIES_MB_MEMORY_LIMIT of the runs (the budget)")
    p.add_argument("--scan-ratio", action="store_true", help="also teq_scan from scratch vs its reference")
    p.add_argument("--json", default="results/bench/davies_sector.json")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds before our run is stopped")
    p.add_argument("--degenerate", action="store_true",
                   help="only the degenerate cases: Ising ring L = 8 with 8 site baths, Dicke N = 8 full space")
    a = p.parse_args(argv)
    rows = []
    print("load before:", uptime(), flush=True)
    if a.degenerate:
        best = min((run(DEGENERATE, a.memory) for _ in range(3)), key=lambda r: r["ising_s"] + r["dicke_s"])
        print(json.dumps(best), flush=True)
        print("load after:", uptime(), flush=True)
        os.makedirs(os.path.dirname(a.json) or ".", exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(best, f, indent=1)
        return
    for L in a.sizes:
        floor = run(FLOOR.format(L=L), a.memory)
        print("floor:", floor, flush=True)
        ours = run(OURS.format(L=L), a.memory, a.timeout)
        if ours is None:  # over the time budget: say so instead of waiting
            ours = dict(total_s=float("inf"), message=f"ours: stopped after {a.timeout} s")
        row = dict(L=L, **{f"floor_{k}" if k != "floor_s" else k: v for k, v in floor.items()}, **ours)
        row["ratio"] = ours["total_s"] / floor["floor_s"]
        if a.scan_ratio:
            ref, scan = run(REFERENCE.format(L=L), a.memory), run(SCAN.format(L=L), a.memory)
            row.update(reference_s=ref["reference_s"], scan_from_scratch_s=scan["scan_s"],
                       scan_ratio=scan["scan_s"] / ref["reference_s"], scan_gib=scan["gib"])
        rows.append(row)
        print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()
                          if k not in ("message", "t_energy", "t_distance")}), flush=True)
        print("  ", row["message"], flush=True)
    print("load after:", uptime(), flush=True)
    os.makedirs(os.path.dirname(a.json) or ".", exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(dict(rows=rows, memory_limit=a.memory), f, indent=1)


if __name__ == "__main__":
    main()
