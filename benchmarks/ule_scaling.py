"""ULE gap and stationary state at L = 8, 10 (12 with --L 12): time against the dense floor of the same run.

The floor is what any method pays first: the eigendecomposition of H (numpy eigh, d^3) and one d x d
matrix product. The ULE gap costs ~100 generator applications (Davidson), each a few d x d products; the
stationary state ~10-30 preconditioned GMRES steps. Printed: seconds and ratios to one d x d product,
best of ``--repeat`` runs, with the thread count (OPENBLAS_NUM_THREADS) and the machine load. Times are the
CPU seconds of this process (all its threads): on a shared machine at load 15-20 the wall time of a
one-thread run is 5-7 times longer and says more about the neighbours than about the code.

``--apply-only 12``: for sizes where a full run does not fit the heavy lock's 15 minutes, time the
diagonalization, the ULE build and two generator applications, and extrapolate with the application counts
measured at the largest full size of the same run (the counts do not grow with L: 53/70 -> 24 for the gap,
16-17 for the stationary state at L = 8/10).

Run: python benchmarks/ule_scaling.py [--L 8 10] [--repeat 1] [--apply-only 12]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import davies_mb as dm


def best(f, repeat):
    """Best of ``repeat`` runs: (wall seconds, CPU seconds of this process, result). On a shared, overloaded
    machine the CPU time (all threads of this process) is the meaningful number; the wall time is also printed."""
    ts, cs, out = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = f()
        ts.append(time.perf_counter() - t)
        cs.append(time.process_time() - c)
    return min(ts), min(cs), out


def counted(gen, lam, counts, what, f):
    """``f(g)`` on a fresh copy ``g`` of ``gen`` at ``lam``, recording its number of generator applications."""
    g = gen.with_strength(lam)
    orig = g._apply_herm
    n = [0]

    def apply(X, adjoint=False):
        n[0] += 1
        return orig(X, adjoint)

    g._apply_herm = apply
    out = f(g)
    counts[what] = n[0]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--L", type=int, nargs="+", default=[8, 10])
    ap.add_argument("--lam", type=float, default=0.05)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--no-davies", action="store_true", help="skip the Davies gap (slow on degenerate blocks)")
    ap.add_argument("--apply-only", type=int, nargs="*", default=[],
                    help="sizes timed by build + 2 applications only, extrapolated with the counts of the last full L")
    a = ap.parse_args(argv)
    print(f"threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    bath = dm.OhmicBath(beta=1.0, eta=1.0, cutoff=5.0)
    for L in a.L:
        chain = dm.xxz(L=L, delta=0.5, j2=0.3, hz=0.1)
        A = chain.pauli("x", 0) + chain.pauli("z", 1)
        w_diag, c_diag, spec = best(lambda: dm.diagonalize(chain), 1)
        d = spec.n
        X = np.random.default_rng(0).normal(size=(d, d))
        w_mm, c_mm, _ = best(lambda: X @ X, 3)
        w_build, c_build, gen = best(lambda: dm.ULEGenerator(spec, A, bath, strength=a.lam), a.repeat)
        counts = {}
        w_gap, c_gap, gap = best(lambda: counted(gen, a.lam, counts, "gap", lambda g: g.gap()), a.repeat)
        w_ss, c_ss, rho = best(lambda: counted(gen, a.lam, counts, "state",
                                               lambda g: g.stationary_state(basis="eigen")), a.repeat)
        last_counts = dict(counts)
        last_gen = gen
        if a.no_davies:
            w_dav = c_dav = dgap = float("nan")
        else:
            w_dav, c_dav, dgap = best(lambda: dm.DaviesGenerator(spec, A, bath, strength=a.lam).gap(), a.repeat)
        est = dm.secular_regime(gen)
        print(f"L={L:2d} d={d:5d}  CPU seconds (wall in brackets): diagonalize {c_diag:.2f} ({w_diag:.1f}) | "
              f"ULE build {c_build:.2f} ({w_build:.1f}), gap {c_gap:.2f} ({w_gap:.1f}) = {c_gap / c_mm:.0f} products, "
              f"stationary state {c_ss:.2f} ({w_ss:.1f}) = {c_ss / c_mm:.0f} products, gap + state "
              f"{c_build + c_gap + c_ss:.2f} ({w_build + w_gap + w_ss:.1f}) | Davies gap {c_dav:.2f} ({w_dav:.1f}) | "
              f"one d x d product {c_mm:.4f} ({w_mm:.4f})", flush=True)
        print(f"      gap ULE {gap:.12e}  Davies {dgap:.6e}  (ratio {gap / dgap:.4f});  tr rho = "
              f"{np.trace(rho).real:.12f};  secular estimate lambda* = {est.strength_max:.4g};  generator "
              f"applications: gap {counts['gap']}, stationary state {counts['state']}", flush=True)
    for L in a.apply_only:
        chain = dm.xxz(L=L, delta=0.5, j2=0.3, hz=0.1)
        A = chain.pauli("x", 0) + chain.pauli("z", 1)
        w_diag, c_diag, spec = best(lambda: dm.diagonalize(chain), 1)
        d = spec.n
        w_build, c_build, gen = best(lambda: dm.ULEGenerator(spec, A, bath, strength=a.lam), 1)
        X = np.random.default_rng(0).normal(size=(d, d))
        X = X + X.T
        w_app, c_app, _ = best(lambda: gen._apply_herm(X), 2)
        op = gen._op_real()
        y = np.random.default_rng(1).normal(size=d * d)
        w_mv, c_mv, _ = best(lambda: op.matvec(y), 2)  # with the coordinate conversions
        # the Davidson basis is capped by memory at this size (ule.py: 2^29 / (16 d^2) vectors, at least 12):
        # count the gap's applications at the last full size with that cap
        cap = int(min(60, max(12, (2**29) // (16 * d * d))))
        counts_cap = {}

        def gap_with_cap(g):
            return g._rightmost(1, deflate=True, max_basis=cap, warn=False, max_iter=100)

        counted(last_gen, a.lam, last_counts, "gap_cap", gap_with_cap)
        n_app = last_counts["gap_cap"] + last_counts["state"]
        print(f"L={L:2d} d={d:5d}  CPU seconds (wall in brackets): diagonalize {c_diag:.1f} ({w_diag:.1f}) | ULE build "
              f"{c_build:.1f} ({w_build:.1f}) | one application {c_app:.2f} ({w_app:.2f}), with coordinates "
              f"{c_mv:.2f} ({w_mv:.2f}) | extrapolated gap + state ({n_app} applications, counts of L={a.L[-1]} "
              f"with a {cap}-vector basis): "
              f"{c_build + n_app * c_mv:.0f} ({w_build + n_app * w_mv:.0f})", flush=True)


if __name__ == "__main__":
    main()
