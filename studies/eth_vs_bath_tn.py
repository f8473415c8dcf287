"""ETH versus bath beyond exact diagonalization: Neel quenches of open XXZ chains at L = 16, 32, 64 by TEBD.

Chains (open, Delta = Delta2 = 0.55): chaotic with J2 = 0.5 (supersites of two spins), integrable with J2 = 0.
Observable: the central-bond correlation sigma^z_c sigma^z_{c+1} (c = L/2 - 1; Pauli matrices, 4 S^z S^z).
For each chain and L: its relaxation O(t) from the Neel state, the dephasing time t_phi (first time with
|O - O_late| <= |O(0) - O_late|/e, O_late the mean over the last quarter of the window), the late-time value
against the canonical value at the Neel energy from the purification (dm.tn.thermal_value), and the
truncation diagnostics (bond dimension, discarded weight, error estimate from a run at half the bond
dimension). At L = 16 the TEBD curves are compared with exact evolution (sparse expm_multiply, full space).
The bath's time scale (Davies t_eq lambda^2 = 0.514 for the integrable chain at L = 8, from the ED study
studies/eth_vs_bath.py) sits beside the table.

Writes results/eth_vs_bath_tn/eth_vs_bath_tn.json and eth_vs_bath_tn.png. Public API only.

    .venv/bin/python studies/eth_vs_bath_tn.py            # L = 16, 32, 64, t <= 5, max_bond 48
    .venv/bin/python studies/eth_vs_bath_tn.py --quick    # L = 8, 16, t <= 3, max_bond 32 (a minute)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import davies_mb as dm
from davies_mb.io import save_json

DELTA, J2 = 0.55, 0.5
TEQ_LAMBDA2_ED = 0.514  # Davies t_eq * lambda^2, integrable chain L = 8 + Ohmic bath (docs/studies.md, ED study)


def chain_of(L, j2):
    return dm.xxz(L, DELTA, j2=j2, bc="open")


def dephasing_time(t, o):
    """First time with |O - O_late| <= |O(0) - O_late|/e (O_late: mean over the last quarter), and O_late."""
    late = o[t >= t[-1] * 0.75].mean()
    dev = np.abs(o - late)
    return float(t[int(np.argmax(dev <= dev[0] / np.e))]), float(late)


def ed_curve(chain, obs, times):
    import scipy.sparse.linalg as spla

    L = chain.L
    H = chain.hamiltonian()
    v0 = np.zeros(2**L, dtype=complex)
    v0[int("".join("0" if s % 2 == 0 else "1" for s in range(L)), 2)] = 1.0
    O = chain.parse_operator(obs)
    dt = times[1] - times[0]
    vs = spla.expm_multiply(-1j * H, v0, start=0.0, stop=times[-1], num=times.size, endpoint=True)
    assert np.allclose(np.arange(times.size) * dt, times)
    return np.array([np.vdot(v, O @ v).real for v in vs])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="results/eth_vs_bath_tn")
    ap.add_argument("--plot-only", dest="plot_only", action="store_true",
                    help="redraw the figure from the (possibly partial) JSON of an earlier run")
    a = ap.parse_args(argv)
    if a.plot_only:
        from davies_mb.io import load_json

        data = load_json(Path(a.out) / "eth_vs_bath_tn.json")["data"]
        plot(data, Path(a.out) / "eth_vs_bath_tn.png")
        return
    Ls = (8, 16) if a.quick else (16, 32, 64)
    t_max, n_t = (3.0, 31) if a.quick else (5.0, 51)
    chi = 32 if a.quick else 48
    dt = 0.1
    times = np.linspace(0, t_max, n_t)
    out = {"params": dict(delta=DELTA, j2=J2, Ls=list(Ls), t_max=t_max, dt=dt, max_bond=chi, order=4,
                          cutoff=1e-10, bc="open", initial="neel"), "runs": []}
    t_start = time.perf_counter()
    for j2 in (J2, 0.0):
        for L in Ls:
            chain = chain_of(L, j2)
            c = L // 2 - 1
            obs = f"z{c}*z{c + 1}"
            t0 = time.perf_counter()
            q = dm.tn.quench(chain, "neel", times, [obs], max_bond=chi, cutoff=1e-10, dt=dt, order=4, tol=1e-4,
                             error_run="bond")
            t_q = time.perf_counter() - t0
            E0 = dm.tn.initial_energy(chain, "neel")
            t0 = time.perf_counter()
            for b_max in (1.2, 3.0):  # beta* of a Neel quench is small; extend the grid only if needed
                grid = np.round(np.arange(0, b_max + 1e-9, 0.2), 12)
                th = dm.tn.thermal_state(chain, grid, observables=[obs], max_bond=32, cutoff=1e-10, dtau=0.1,
                                         error_run="bond")
                try:
                    tv = dm.tn.thermal_value(chain, obs, E0, thermal=th)
                    break
                except ValueError:
                    if b_max == 3.0:
                        raise
            t_th = time.perf_counter() - t0
            o = q.values[obs]
            t_phi, late = dephasing_time(times, o)
            run = dict(L=L, j2=j2, observable=obs, times=times, values=o, error=q.error[obs], bond_dim=q.bond_dim,
                       discarded=q.discarded, entropy=q.entropy, within_tolerance=q.within_tolerance,
                       t_phi=t_phi, late=late, energy=E0, beta_star=tv.beta,
                       thermal=tv.value, thermal_error=tv.error, thermal_max_trunc=float(th.truncation_error.max()),
                       seconds_quench=t_q, seconds_thermal=t_th)
            if L <= 16:
                ed = ed_curve(chain, obs, times)
                run["ed"] = ed
                run["max_dev_ed"] = float(np.max(np.abs(ed - o)))
            out["runs"].append(run)
            save_json(Path(a.out) / "eth_vs_bath_tn.json", out, out["params"])  # partial results survive
            print(f"J2={j2} L={L}: t_phi={t_phi:.2f} late={late:.4f} thermal={tv.value:.4f} (beta*={tv.beta:.3f}) "
                  f"bond {q.bond_dim.max()} disc {q.discarded[-1]:.1e} err {np.nanmax(q.error[obs]):.1e} "
                  + (f"|TEBD-ED| {run['max_dev_ed']:.1e} " if "ed" in run else "")
                  + f"({t_q:.0f} s + {t_th:.0f} s)", flush=True)
    out["teq_lambda2_bath_ed"] = TEQ_LAMBDA2_ED
    out["seconds"] = time.perf_counter() - t_start
    path = Path(a.out)
    save_json(path / "eth_vs_bath_tn.json", out, out["params"])
    plot(out, path / "eth_vs_bath_tn.png")
    print(f"wrote {path}/eth_vs_bath_tn.json and .png in {out['seconds']:.0f} s")


def plot(out, fname):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    colors = {}
    for k, (j2, title) in enumerate(((J2, f"chaotic (J2 = {J2})"), (0.0, "integrable (J2 = 0)"))):
        for r in out["runs"]:
            if r["j2"] != j2:
                continue
            line, = ax[k].plot(r["times"], r["values"], label=f"L = {r['L']}")
            colors[r["L"]] = line.get_color()
            ax[k].axhline(r["thermal"], color=line.get_color(), ls="--", lw=0.8)
            if "ed" in r:
                ax[k].plot(r["times"], r["ed"], "k:", lw=1.2, label=f"ED L = {r['L']}")
        ax[k].set_title(title + ": Neel quench")
        ax[k].set_xlabel("t")
        ax[k].set_ylabel(r"$\langle\sigma^z_c\sigma^z_{c+1}\rangle$ (dashed: thermal at $E_{Neel}$)")
        ax[k].legend(fontsize=8)
    for j2, m in ((J2, "o-"), (0.0, "s-")):
        rs = [r for r in out["runs"] if r["j2"] == j2]
        if not rs:
            continue
        ax[2].plot([r["L"] for r in rs], [r["t_phi"] for r in rs], m, label=f"t_phi, J2 = {j2}")
        ax[2].plot([r["L"] for r in rs], [abs(r["late"] - r["thermal"]) for r in rs], m, mfc="none",
                   label=f"|late - thermal|, J2 = {j2}")
    ax[2].set_xscale("log", base=2)
    ax[2].set_xlabel("L")
    ax[2].set_title("dephasing time and distance to thermal")
    ax[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(fname, dpi=90)


if __name__ == "__main__":
    main()
