"""ULE gap and stationary state at L = 8, 10 (12 with --L 12): time against the dense floor of the same run.

The floor is what any method pays first: the eigendecomposition of H (numpy eigh, d^3) and one d x d
matrix product. The ULE gap costs ~100 generator applications (Davidson), each a few d x d products; the
stationary state ~10-30 preconditioned GMRES steps. Printed: seconds and ratios to one d x d product,
best of ``--repeat`` runs, with the thread count (OPENBLAS_NUM_THREADS) and the machine load.

Run: python benchmarks/ule_scaling.py [--L 8 10] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import davies_mb as dm


def best(f, repeat):
    ts, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        ts.append(time.perf_counter() - t)
    return min(ts), out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--L", type=int, nargs="+", default=[8, 10])
    ap.add_argument("--lam", type=float, default=0.05)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args(argv)
    print(f"threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    bath = dm.OhmicBath(beta=1.0, eta=1.0, cutoff=5.0)
    for L in a.L:
        chain = dm.xxz(L=L, delta=0.5, j2=0.3, hz=0.1)
        A = chain.pauli("x", 0) + chain.pauli("z", 1)
        t_diag, spec = best(lambda: dm.diagonalize(chain), 1)
        d = spec.n
        X = np.random.default_rng(0).normal(size=(d, d))
        t_mm, _ = best(lambda: X @ X, 3)
        t_build, gen = best(lambda: dm.ULEGenerator(spec, A, bath, strength=a.lam), a.repeat)
        t_gap, gap = best(lambda: gen.with_strength(a.lam).gap(), a.repeat)
        t_ss, rho = best(lambda: gen.with_strength(a.lam).stationary_state(basis="eigen"), a.repeat)
        t_dav, dgap = best(lambda: dm.DaviesGenerator(spec, A, bath, strength=a.lam).gap(), a.repeat)
        est = dm.secular_regime(gen)
        print(f"L={L:2d} d={d:5d}  diagonalize {t_diag:7.2f} s | ULE build {t_build:6.2f} s, gap {t_gap:7.2f} s "
              f"({t_gap / t_mm:7.0f} products), stationary state {t_ss:7.2f} s ({t_ss / t_mm:6.0f} products), "
              f"total {t_build + t_gap + t_ss:7.2f} s | Davies gap {t_dav:6.2f} s | one d x d product {t_mm:.4f} s")
        print(f"      gap ULE {gap:.6e}  Davies {dgap:.6e}  (ratio {gap / dgap:.4f});  tr rho = "
              f"{np.trace(rho).real:.12f};  secular estimate lambda* = {est.strength_max:.4g}")


if __name__ == "__main__":
    main()
