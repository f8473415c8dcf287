"""Level-statistics benchmark: fully resolved sectors of the periodic XXZ + J2 chain, ours against QuSpin.

Cases (periodic XXZ, Delta = Delta2 = 0.55, J2 = 0.5):
  * ``all18``: every fully resolved S^z = 0 sector of L = 18 (k = 0..17, parity at k = 0, 9, flip),
    48620 levels in all, eigenvalues only;
  * ``block20`` / ``block22``: the single block (S^z = 0, k = 0, parity = +1, flip = +1) at L = 20 and 22.

Each case runs in a fresh subprocess (one BLAS thread unless the caller sets OPENBLAS_NUM_THREADS), which
reports its wall time and its peak resident memory (ru_maxrss) above the baseline after the imports.
Ours: ``dm.eth.sector_eigensystems`` (each block built directly from the representatives and the chain's term
list, complex momentum blocks made real by the antiunitary R K, real ``eigvalsh`` in every block). QuSpin (optional; never a project dependency):
``spin_basis_1d(L, Nup=L//2, kblock, pblock, zblock, pauli=0)`` + ``hamiltonian(...).eigvalsh()``, in
float64 where the block is real, complex128 otherwise; it runs when ``import quspin`` works in this
interpreter or in the one given by ``--quspin-python`` (e.g. a scratch venv). Both spectra are compared.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/eth_levels.py --quspin-python /tmp/qsvenv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

DELTA, J2 = 0.55, 0.5

OURS = r"""
import json, resource, sys, time
import numpy as np
import davies_mb as dm
case, out = sys.argv[1], sys.argv[2]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
L = 18 if case == "all18" else int(case[-2:])
chain = dm.xxz(L, %(delta)r, j2=%(j2)r, bc="periodic")
sectors = None if case == "all18" else [dict(sz=0, k=0, parity=1, flip=1)]
t0 = time.perf_counter()
_ru = resource.getrusage(resource.RUSAGE_SELF)
cpu0 = _ru.ru_utime + _ru.ru_stime
E = {}
for label, e, _, _, _ in dm.eth.sector_eigensystems(chain, 0, vectors=False, sectors=sectors):
    E[json.dumps([label.get("k"), label.get("parity"), label.get("flip")])] = e.tolist()
dt = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
cpu = ru.ru_utime + ru.ru_stime - cpu0
peak = ru.ru_maxrss
json.dump(dict(seconds=dt, cpu=cpu, peak_mib=peak / 1024, extra_mib=(peak - base) / 1024, E=E), open(out, "w"))
""" % dict(delta=DELTA, j2=J2)

QUSPIN = r"""
import json, resource, sys, time
import numpy as np
from quspin.basis import spin_basis_1d
from quspin.operators import hamiltonian
case, out = sys.argv[1], sys.argv[2]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
L = 18 if case == "all18" else int(case[-2:])
delta, j2 = %(delta)r, %(j2)r
if case == "all18":
    blocks = [(k, p, z) for k in range(L) for p in ((1, -1) if k in (0, L // 2) else (None,)) for z in (1, -1)]
else:
    blocks = [(0, 1, 1)]
t0 = time.perf_counter()
_ru = resource.getrusage(resource.RUSAGE_SELF)
cpu0 = _ru.ru_utime + _ru.ru_stime
E = {}
for k, p, z in blocks:
    kw = dict(Nup=L // 2, kblock=k, zblock=z, pauli=0)
    if p is not None:
        kw["pblock"] = p
    basis = spin_basis_1d(L, **kw)
    if basis.Ns == 0:
        continue
    static = []
    for r, J, D in ((1, 1.0, delta), (2, j2, delta)):
        pm = [[J / 2, i, (i + r) %% L] for i in range(L)]
        zz = [[J * D, i, (i + r) %% L] for i in range(L)]
        static += [["+-", pm], ["-+", pm], ["zz", zz]]
    real = k in (0, L // 2)
    H = hamiltonian(static, [], basis=basis, dtype=np.float64 if real else np.complex128,
                    check_symm=False, check_herm=False, check_pcon=False)
    E[json.dumps([k, p, z])] = H.eigvalsh().tolist()
dt = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
cpu = ru.ru_utime + ru.ru_stime - cpu0
peak = ru.ru_maxrss
json.dump(dict(seconds=dt, cpu=cpu, peak_mib=peak / 1024, extra_mib=(peak - base) / 1024, E=E), open(out, "w"))
""" % dict(delta=DELTA, j2=J2)


def run(python, code, case):
    with tempfile.TemporaryDirectory() as tmp:
        script, out = os.path.join(tmp, "run.py"), os.path.join(tmp, "out.json")
        with open(script, "w") as f:
            f.write(code)
        env = dict(os.environ)
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        env.setdefault("OMP_NUM_THREADS", env["OPENBLAS_NUM_THREADS"])
        subprocess.run([python, script, case, out], check=True, env=env)
        with open(out) as f:
            return json.load(f)


def quspin_python(arg):
    if arg:
        return arg
    try:
        import quspin  # noqa: F401
        return sys.executable
    except ImportError:
        return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", nargs="+", default=["all18", "block20", "block22"],
                   choices=["all18", "block20", "block22"])
    p.add_argument("--quspin-python", default=None, help="interpreter that can import quspin (optional)")
    p.add_argument("--json", default=None, help="write the table to this JSON file")
    a = p.parse_args(argv)
    qpy = quspin_python(a.quspin_python)
    rows = []
    print(f"{'case':8s} {'levels':>7s} {'ours s':>8s} {'ours MiB':>9s} {'QuSpin s':>9s} {'QuSpin MiB':>10s} "
          f"{'ratio':>6s} {'cpu ratio':>9s} {'max |dE|':>9s} {'<r>':>7s}", flush=True)
    for case in a.cases:
        ours = run(sys.executable, OURS, case)
        E = np.concatenate([np.asarray(v) for v in ours["E"].values()])
        import davies_mb as dm

        r = dm.eth.level_statistics([np.asarray(v) for v in ours["E"].values()], discard=0.0).mean
        row = dict(case=case, levels=int(E.size), ours_s=ours["seconds"], ours_cpu_s=ours["cpu"],
                   ours_peak_mib=ours["peak_mib"],
                   ours_extra_mib=ours["extra_mib"], mean_r_all_levels=r)
        if qpy:
            qs = run(qpy, QUSPIN, case)
            diff = max(float(np.max(np.abs(np.sort(qs["E"][key]) - np.sort(ours["E"][key]))))
                       for key in ours["E"])
            assert set(qs["E"]) == set(ours["E"]), (sorted(qs["E"]), sorted(ours["E"]))
            row.update(quspin_s=qs["seconds"], quspin_cpu_s=qs["cpu"], quspin_peak_mib=qs["peak_mib"],
                       quspin_extra_mib=qs["extra_mib"], ratio=ours["seconds"] / qs["seconds"],
                       cpu_ratio=ours["cpu"] / qs["cpu"], max_abs_eigenvalue_difference=diff)
        rows.append(row)
        print(f"{case:8s} {row['levels']:7d} {row['ours_s']:8.2f} {row['ours_extra_mib']:9.0f} "
              + (f"{row['quspin_s']:9.2f} {row['quspin_extra_mib']:10.0f} {row['ratio']:6.2f} {row['cpu_ratio']:9.2f} "
                 f"{row['max_abs_eigenvalue_difference']:9.1e}" if qpy else f"{'-':>9s} {'-':>10s} {'-':>6s} {'-':>9s} {'-':>9s}")
              + f" {r:7.4f}", flush=True)
    if a.json:
        from davies_mb.io import save_json

        save_json(a.json, dict(rows=rows), params=dict(delta=DELTA, delta2=DELTA, j2=J2, bc="periodic",
                                                      blas_threads=os.environ.get("OPENBLAS_NUM_THREADS", "1")))
    return rows


if __name__ == "__main__":
    main()
