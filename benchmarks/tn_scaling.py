"""davies_mb.tn beside TeNPy: the chaotic Neel quench and the Heisenberg purification, same model, bond dimension,
dt and order, in the same run (each in a fresh subprocess: wall time and peak memory = max RSS).

1. Quench: open XXZ + J2 chain, Delta = Delta2 = 0.55, J2 = 0.5, Neel state, fourth-order TEBD to t_max with
   max_bond chi, dt, truncation cutoff (relative discarded weight) 1e-10. Ours: supersites of two spins.
   TeNPy: the same CouplingMPOModel grouped into pairs (model.group_sites(2), NearestNeighborModel), TEBDEngine
   with order 4, trunc_params chi_max = chi, trunc_cut = sqrt(1e-10)... (TeNPy's trunc_cut is a discarded
   *norm*, sqrt of the weight), no charge conservation (conserve=None, as ours).
2. Thermal: open Heisenberg chain, purification to beta_max with dtau, same chi, second order (TeNPy 1.1.1's
   PurificationTEBD.run_imaginary is second order only, and run_imaginary(b) applies exp(-b H) to the
   purification, so b = beta/2 reaches the inverse temperature beta).
Also printed: the centre value <sigma^z_c sigma^z_c+1>(t_max) and the energy at beta_max from both codes.

The issue's sizes (L = 64, t = 10, chi = 256; beta = 4) take long on a shared 2-core machine; the defaults are
smaller. TeNPy lives in a scratch venv, never in pyproject:

    python3 -m venv /tmp/tn-peer-venv && /tmp/tn-peer-venv/bin/pip install physics-tenpy -e .
    /tmp/tn-peer-venv/bin/python benchmarks/tn_scaling.py --L 32 --t-max 2 --chi 64 --beta 2
    /tmp/tn-peer-venv/bin/python benchmarks/tn_scaling.py --L 64 --t-max 10 --chi 256 --beta 4   # the issue's
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

OURS_QUENCH = r"""
import time, resource, numpy as np, davies_mb as dm
L, T, chi, dt = {L}, {T}, {chi}, {dt}
# warm-up: quimb's numba-compiled SVD is compiled once per process (tens of seconds on a busy machine)
dm.tn.quench(dm.xxz(4, 0.55, j2=0.5), "neel", [0.1], ["z1"], max_bond=4, error_run=None, progress=False)
t0 = time.perf_counter()
c = L // 2 - 1
r = dm.tn.quench(dm.xxz(L, 0.55, j2=0.5), "neel", [T], [f"z{{c}}*z{{c+1}}"], max_bond=chi, cutoff=1e-10, dt=dt,
                 order=4, tol=1.0, error_run=None, progress=False)
t1 = time.perf_counter()
print("RESULT", t1 - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, float(r.values[f"z{{c}}*z{{c+1}}"][0]),
      int(r.bond_dim[0]))
"""

TENPY_QUENCH = r"""
import time, resource, numpy as np, warnings
warnings.filterwarnings("ignore")
from tenpy.models.model import CouplingMPOModel, NearestNeighborModel
from tenpy.networks.site import SpinHalfSite
from tenpy.networks.mps import MPS
from tenpy.algorithms.tebd import TEBDEngine
L, T, chi, dt = {L}, {T}, {chi}, {dt}

class XXZJ2(CouplingMPOModel):
    def init_sites(self, p):
        return SpinHalfSite(conserve=None)
    def init_terms(self, p):
        for J, D, key in ((1.0, 0.55, "nearest_neighbors"), (0.5, 0.55, "next_nearest_neighbors")):
            for u1, u2, dx in self.lat.pairs[key]:
                self.add_coupling(J / 2, u1, "Sp", u2, "Sm", dx, plus_hc=True)
                self.add_coupling(J * D, u1, "Sz", u2, "Sz", dx)

t0 = time.perf_counter()
M = XXZJ2(dict(L=L, lattice="Chain", bc_MPS="finite", bc_x="open"))
psi = MPS.from_product_state(M.lat.mps_sites(), ["up", "down"] * (L // 2), bc="finite")
M.group_sites(2)
psi.group_sites(2)
Mnn = NearestNeighborModel.from_MPOModel(M)
n = int(round(T / dt))
# max_N_sites_per_ring=None: the grouped chain's lattice reports a long "ring", which TeNPy refuses by default
eng = TEBDEngine(psi, Mnn, dict(order=4, dt=dt, N_steps=n, max_N_sites_per_ring=None,
                 trunc_params=dict(chi_max=chi, svd_min=1e-14, trunc_cut=1e-5)))
eng.run()
psi.group_split(dict(chi_max=10**6, svd_min=1e-14))
c = L // 2 - 1
val = 4 * psi.expectation_value_term([("Sz", c), ("Sz", c + 1)])
t1 = time.perf_counter()
print("RESULT", t1 - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, float(np.real(val)), max(psi.chi))
"""

OURS_THERMAL = r"""
import time, resource, numpy as np, davies_mb as dm
L, beta, chi, dtau = {L}, {beta}, {chi}, {dtau}
dm.tn.thermal_state(dm.heisenberg(4), [0.1], max_bond=4, error_run=None, progress=False)  # warm-up (numba)
t0 = time.perf_counter()
r = dm.tn.thermal_state(dm.heisenberg(L), [beta], max_bond=chi, cutoff=1e-10, dtau=dtau, order=2, tol=1.0,
                        error_run=None, progress=False)
t1 = time.perf_counter()
print("RESULT", t1 - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, float(r.energy[0]), int(r.bond_dim[0]))
"""

TENPY_THERMAL = r"""
import time, resource, numpy as np, warnings
warnings.filterwarnings("ignore")
from tenpy.models.xxz_chain import XXZChain
from tenpy.networks.purification_mps import PurificationMPS
from tenpy.algorithms.purification import PurificationTEBD
L, beta, chi, dtau = {L}, {beta}, {chi}, {dtau}
t0 = time.perf_counter()
M = XXZChain(dict(L=L, Jxx=1.0, Jz=1.0, hz=0.0, bc_MPS="finite", conserve=None))
psi = PurificationMPS.from_infiniteT(M.lat.mps_sites(), bc="finite")
eng = PurificationTEBD(psi, M, dict(order=4, dt=dtau, trunc_params=dict(chi_max=chi, svd_min=1e-14, trunc_cut=1e-5)))
eng.run_imaginary(beta / 2)  # TeNPy applies exp(-b H) to the purification: b = beta/2 reaches beta
E = float(np.sum(M.bond_energies(psi)))
t1 = time.perf_counter()
print("RESULT", t1 - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, E, max(psi.chi))
"""


SWAP_VS_SUPERSITE = r"""
import time, resource, numpy as np, scipy.linalg as sla, quimb.tensor as qtn, davies_mb as dm
from davies_mb.tn import group_chain
from davies_mb.tn._engine import Evolver
L, chi, dt = {L}, {chi}, {dt}
chain = dm.xxz(L, 0.55, j2=0.5)
# swap gates: every NN and NNN term as its own 4x4 gate, NNN through quimb's gate_with_auto_swap
sx = np.array([[0, 1], [1, 0]]); sy = np.array([[0, -1j], [1j, 0]]); sz = np.diag([1.0, -1.0])
h = lambda J: J / 4 * (np.kron(sx, sx) + np.kron(sy, sy) + 0.55 * np.kron(sz, sz)).real
U1, U2 = sla.expm(-1j * dt * h(1.0)), sla.expm(-1j * dt * h(0.5))
dm.tn.quench(dm.xxz(4, 0.55, j2=0.5), "neel", [0.1], ["z1"], max_bond=4, error_run=None, progress=False)
w = qtn.MPS_rand_state(6, 4, seed=1, dtype=complex)
w.gate_with_auto_swap(U2, (0, 2), max_bond=4, cutoff=1e-10, inplace=True)  # warm-up (numba SVD compile)
def sweep_swap(psi):
    for i in range(L - 1):
        psi.gate_split_(U1, (i, i + 1), max_bond=chi, cutoff=1e-10)
    for i in range(L - 2):
        psi.gate_with_auto_swap(U2, (i, i + 2), max_bond=chi, cutoff=1e-10, inplace=True)

grp = group_chain(chain)
ts, tu = [], []
for rep in range(3):  # best of three: the first sweeps also pay numba compilations of new array layouts
    psi = qtn.MPS_rand_state(L, chi, seed=1, dtype=complex)
    psi.canonize(0)
    t0 = time.perf_counter()
    sweep_swap(psi)
    ts.append(time.perf_counter() - t0)
    # supersites: the same terms as one 16x16 gate per supersite bond
    ev = Evolver(qtn.MPS_rand_state(L // 2, chi, phys_dim=4, seed=1, dtype=complex), grp, max_bond=chi,
                 cutoff=1e-10)
    t0 = time.perf_counter()
    ev.layer(0, -1j * dt)
    ev.layer(1, -1j * dt)
    tu.append(time.perf_counter() - t0)
t_swap, t_super = min(ts), min(tu)
print("RESULT", t_swap, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, t_super, chi)
"""


def run(code, timeout):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    f = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")][-1].split()
    return dict(seconds=float(f[1]), peak_mib=int(f[2]) / 2**10, value=float(f[3]), max_bond=int(f[4]))


def _uptime():
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--L", type=int, default=32)
    ap.add_argument("--t-max", dest="t_max", type=float, default=2.0)
    ap.add_argument("--chi", type=int, default=64)
    ap.add_argument("--dt", type=float, default=0.05)
    ap.add_argument("--beta", type=float, default=2.0)
    ap.add_argument("--repeats", type=int, default=1, help="best of n")
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--json", default=None, help="also write the numbers here")
    ap.add_argument("--swap-only", dest="swap_only", action="store_true",
                    help="only the supersites-versus-swap-gates sweep")
    ap.add_argument("--skip-swap", dest="skip_swap", action="store_true",
                    help="leave out the supersites-versus-swap-gates sweep")
    ap.add_argument("--only", choices=("quench", "thermal"), default=None, help="run one of the two comparisons")
    a = ap.parse_args(argv)
    fmt = dict(L=a.L, T=a.t_max, chi=a.chi, dt=a.dt, beta=a.beta, dtau=a.dt)
    out = {"params": vars(a), "uptime_before": _uptime()}
    print("load before:", out["uptime_before"], flush=True)
    if not a.skip_swap:
        try:
            r = run(SWAP_VS_SUPERSITE.format(**fmt), a.timeout)
            out["swap_vs_supersite"] = dict(swap_seconds=r["seconds"], supersite_seconds=r["value"],
                                            ratio_swap_over_supersite=r["seconds"] / r["value"])
            print("one first-order sweep of all terms at chi =", a.chi, json.dumps(out["swap_vs_supersite"]),
                  flush=True)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            print("swap vs supersite:", str(e)[-500:], file=sys.stderr)
    if a.swap_only:
        return
    for name, ours, peer in (("quench", OURS_QUENCH, TENPY_QUENCH), ("thermal", OURS_THERMAL, TENPY_THERMAL)):
        if a.only and name != a.only:
            continue
        res = {}
        for who, code in (("davies_mb", ours), ("tenpy", peer)):
            best = None
            for _ in range(a.repeats):
                try:
                    r = run(code.format(**fmt), a.timeout)
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    r = {"error": str(e)[-500:]}
                    print(f"{name} {who}: {r['error']}", file=sys.stderr)
                    break
                best = r if best is None or r["seconds"] < best["seconds"] else best
            res[who] = best if best is not None else r
        if "seconds" in res.get("davies_mb", {}) and "seconds" in res.get("tenpy", {}):
            res["ratio_ours_over_tenpy"] = res["davies_mb"]["seconds"] / res["tenpy"]["seconds"]
        out[name] = res
        print(name, json.dumps(res), flush=True)
    out["uptime_after"] = _uptime()
    print("load after:", out["uptime_after"], flush=True)
    if a.json:
        import os

        os.makedirs(os.path.dirname(a.json) or ".", exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
