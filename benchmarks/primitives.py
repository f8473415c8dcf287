"""Speed of two primitives whose wall-clock limits used to sit in tests (moved here: no timing asserts in tests).

Cases, each against a numpy floor measured in the same run (best of ``--repeats``):

* ``gamma``: ``OhmicBath(beta=1).gamma`` on 10**6 Bohr frequencies (the call a big Davies generator makes once)
  against the bare numpy expression of the same rate, ``2 pi eta w exp(-|w|/wc) / (1 - exp(-beta w))``
  (no branch for w = 0, no checks). Target: ratio <= 5 (it was asserted < 1 s, ~0.03 s in practice).
* ``sector18`` / ``sector20``: ``sector_basis(L, sz=0, k=0, parity=1, flip=1)`` at L = 18 (765 states) and 20
  (2518 states) against the floor of enumerating the S^z = 0 basis states with numpy (popcount of every index,
  the first step any construction needs). Targets: under 5 s and 10 s (the old test limits); the ratio to the
  floor is reported, not targeted (the orbit and character work has no numpy equivalent).

    .venv/bin/python benchmarks/primitives.py [--repeats 5] [--out results/benchmarks/primitives.json]

Prints one JSON object; with ``--out`` it is also written there atomically.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

import numpy as np

import davies_mb as dm
from davies_mb.sectors import sector_basis

TARGETS = {"gamma": {"ratio_max": 5.0}, "sector18": {"seconds_max": 5.0}, "sector20": {"seconds_max": 10.0}}


def best_of(fn, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def gamma_case(repeats: int) -> dict:
    bath = dm.OhmicBath(beta=1.0)
    w = np.random.default_rng(1).uniform(-20.0, 20.0, 10**6)
    eta, wc, beta = bath.eta, bath.cutoff, bath.beta

    def floor():
        with np.errstate(all="ignore"):
            return 2 * np.pi * eta * w * np.exp(-np.abs(w) / wc) / (-np.expm1(-beta * w))

    ours = best_of(lambda: bath.gamma(w), repeats)
    ref = best_of(floor, repeats)
    err = float(np.max(np.abs(bath.gamma(w) - floor()) / np.abs(floor())))
    return dict(seconds=ours, floor_seconds=ref, ratio=ours / ref, max_rel_difference=err,
                ok=bool(ours / ref <= TARGETS["gamma"]["ratio_max"]))


def sector_case(L: int, repeats: int) -> dict:
    def floor():
        idx = np.arange(2**L, dtype=np.int64)
        pop = np.zeros(idx.size, dtype=np.int64)
        for j in range(L):
            pop += (idx >> j) & 1
        return idx[pop == L // 2]

    ours = best_of(lambda: sector_basis(L, sz=0, k=0, parity=1, flip=1), repeats)
    ref = best_of(floor, repeats)
    P = sector_basis(L, sz=0, k=0, parity=1, flip=1)
    limit = TARGETS[f"sector{L}"]["seconds_max"]
    return dict(L=L, states=int(P.shape[1]), seconds=ours, floor_seconds=ref, ratio=ours / ref,
                seconds_max=limit, ok=bool(ours <= limit))


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)
    load0 = os.getloadavg()
    res = dict(cases=dict(gamma=gamma_case(a.repeats), sector18=sector_case(18, a.repeats),
                          sector20=sector_case(20, max(1, a.repeats // 2))),
               targets=TARGETS, repeats=a.repeats, loadavg_before=load0, loadavg_after=os.getloadavg(),
               machine=platform.processor() or platform.machine(), davies_mb=dm.__version__)
    text = json.dumps(res, indent=2)
    print(text)
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(a.out)), suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, a.out)
    return res


if __name__ == "__main__":
    main()
