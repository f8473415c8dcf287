"""ETH versus bath beyond exact diagonalization: Neel quenches of open XXZ chains at L = 16, 32, 64 by TEBD.

Chains (open, Delta = Delta2 = 0.55): chaotic with J2 = 0.5 (supersites of two spins), integrable with J2 = 0.
Observable: the central-bond correlation sigma^z_c sigma^z_{c+1} (c = L/2 - 1; Pauli matrices, 4 S^z S^z).
For each chain and L: its relaxation O(t) from the Neel state to t = 10, the dephasing time t_phi (first time
with |O - O_late| <= |O(0) - O_late|/e, O_late the mean over the last quarter of the trusted window), the
late-time value against the *canonical* thermal value at the Neel energy in the Neel state's own sector
S^z = 0 (dm.tn.thermal_value(..., sz=0): purification started from the S^z-projected infinite-temperature
state), and the truncation diagnostics (bond dimension, discarded weight, error estimate = difference to a
run at half the bond dimension). A curve is cut where its error estimate first exceeds ``--err-tol``
(default 1e-2): later values are not trusted. At L = 16 the TEBD curves are compared with exact evolution
(sparse expm_multiply, full space). The bath's time scale (Davies t_eq lambda^2 = 0.514 for the integrable
chain at L = 8, from the ED study studies/eth_vs_bath.py) sits beside the table.

Phases (each resumable; one JSON per quench run in ``--out``, so partial runs keep their results):

    .venv/bin/python studies/eth_vs_bath_tn.py --phase quench    # the TEBD runs (long: run niced, 1 thread)
    .venv/bin/python studies/eth_vs_bath_tn.py --phase analyse   # thermal values, ED at L = 16, table, figure
    .venv/bin/python studies/eth_vs_bath_tn.py --quick           # L = 8, 16, t <= 3, max_bond 32 (minutes)

Writes results/eth_vs_bath_tn/eth_vs_bath_tn.json and eth_vs_bath_tn.png. Public API only.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import davies_mb as dm
from davies_mb.io import load_json, save_json

DELTA, J2 = 0.55, 0.5
TEQ_LAMBDA2_ED = 0.514  # Davies t_eq * lambda^2, integrable chain L = 8 + Ohmic bath (docs/studies.md, ED study)


def chain_of(L, j2):
    return dm.xxz(L, DELTA, j2=j2, bc="open")


def observable(L):
    c = L // 2 - 1
    return f"z{c}*z{c + 1}"


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


def run_file(out, j2, L):
    return Path(out) / f"quench_j2_{j2:g}_L{L}.json"


def phase_quench(a, Ls, times, chi):
    for L in Ls:
        for j2 in a.j2s:
            f = run_file(a.out, j2, L)
            if f.exists():
                print(f"J2={j2} L={L}: have {f}", flush=True)
                continue
            obs = observable(L)
            t0 = time.perf_counter()
            q = dm.tn.quench(chain_of(L, j2), "neel", times, [obs], max_bond=chi, cutoff=1e-10, dt=a.dt, order=4,
                             tol=1e-4, error_run="bond", progress=False)
            run = dict(L=L, j2=j2, observable=obs, times=times, values=q.values[obs], error=q.error[obs],
                       bond_dim=q.bond_dim, discarded=q.discarded, entropy=q.entropy,
                       within_tolerance=q.within_tolerance, seconds=time.perf_counter() - t0, params=q.params)
            save_json(f, run, dict(j2=j2, L=L, max_bond=chi, dt=a.dt))
            print(f"J2={j2} L={L}: bond {q.bond_dim.max()} disc {q.discarded[-1]:.1e} "
                  f"err {np.nanmax(q.error[obs]):.1e} ({run['seconds']:.0f} s)", flush=True)


def phase_analyse(a, Ls):
    out = {"params": dict(delta=DELTA, j2=J2, Ls=list(Ls), dt=a.dt, order=4, cutoff=1e-10, bc="open",
                          initial="neel", err_tol=a.err_tol, thermal_max_bond=a.thermal_chi,
                          thermal_max_bond_chaotic=a.thermal_chi_chaotic, thermal_sector="sz=0"),
           "runs": []}
    for j2 in (J2, 0.0):
        for L in Ls:
            f = run_file(a.out, j2, L)
            done = f.with_name(f.name.replace("quench_", "analysed_"))
            if done.exists() and done.stat().st_mtime >= f.stat().st_mtime:
                out["runs"].append(load_json(done)["data"])
                out["params"]["max_bond"] = out["runs"][-1]["params"]["max_bond"]
                continue
            if j2 not in a.j2s or not f.exists():
                continue
            run = load_json(f)["data"]
            out["params"]["max_bond"] = run["params"]["max_bond"]
            t = np.asarray(run["times"])
            o = np.asarray(run["values"])
            err = np.asarray(run["error"])
            bad = np.nonzero(~(err <= a.err_tol))[0]
            n_ok = int(bad[0]) if bad.size else t.size
            run["t_trusted"] = float(t[n_ok - 1])
            t_phi, late = dephasing_time(t[:n_ok], o[:n_ok])
            chain = chain_of(L, j2)
            obs = run["observable"]
            E0 = dm.tn.initial_energy(chain, "neel")
            t0 = time.perf_counter()
            tv = {}
            chi_th = a.thermal_chi_chaotic if j2 else a.thermal_chi
            run["thermal_max_bond"] = chi_th
            ensembles = (("canonical", 0),) + ((("grand_canonical", None),) if L <= a.gc_max_L else ())
            for key, sz in ensembles:
                for b_max in (1.0, 3.0):  # beta* of a Neel quench is small (~0.4); extend only if needed
                    grid = np.round(np.arange(0, b_max + 1e-9, 0.1), 12)
                    th = dm.tn.thermal_state(chain, grid, observables=[obs], max_bond=chi_th, cutoff=1e-10,
                                             dtau=0.1, error_run="bond", sz=sz, progress=False)
                    try:
                        tv[key] = dm.tn.thermal_value(chain, obs, E0, thermal=th, sz=sz)
                        break
                    except ValueError:
                        if b_max == 3.0:
                            raise
                run[f"thermal_{key}_max_trunc"] = float(th.truncation_error.max())
            gc = tv.get("grand_canonical")
            run.update(t_phi=t_phi, late=late, energy=E0, beta_star=tv["canonical"].beta,
                       thermal=tv["canonical"].value, thermal_error=tv["canonical"].error,
                       beta_star_gc=gc.beta if gc else None, thermal_gc=gc.value if gc else None,
                       seconds_thermal=time.perf_counter() - t0)
            if L <= 16:
                ed = ed_curve(chain, obs, t)
                run["ed"] = ed
                run["max_dev_ed"] = float(np.max(np.abs(ed - o)))
                run["max_dev_ed_trusted"] = float(np.max(np.abs(ed - o)[:n_ok]))
            out["runs"].append(run)
            save_json(done, run, out["params"])
            print(f"J2={j2} L={L}: t_phi={t_phi:.2f} late={late:.4f} (t<={run['t_trusted']:g}) "
                  f"canonical {tv['canonical'].value:.4f} (beta*={tv['canonical'].beta:.3f}) "
                  f"grand-canonical {gc.value if gc else float('nan'):.4f} bond {max(run['bond_dim'])} "
                  f"disc {run['discarded'][-1]:.1e} "
                  + (f"|TEBD-ED| {run['max_dev_ed']:.1e} " if "ed" in run else ""), flush=True)
    out["teq_lambda2_bath_ed"] = TEQ_LAMBDA2_ED
    print(table(out))
    path = Path(a.out)
    save_json(path / "eth_vs_bath_tn.json", out, out["params"])
    plot(out, path / "eth_vs_bath_tn.png")
    print(f"wrote {path}/eth_vs_bath_tn.json and .png")


def table(out) -> str:
    """The table of time scales and late values (markdown) for docs/studies.md."""
    rows = ["| chain | L | $t_\\phi$ | trusted to t | $O_{late}$ | canonical $S^z=0$ ($\\beta^*$) | grand-canonical "
            "| max \\|TEBD - ED\\| (trusted) | discarded weight at the cut | error estimate at the cut |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for r in out["runs"]:
        t = np.asarray(r["times"])
        k = int(np.searchsorted(t, r["t_trusted"] - 1e-9))
        gc = "-" if r.get("thermal_gc") is None else f"{r['thermal_gc']:.4f}"
        ed = f"{r['max_dev_ed_trusted']:.1e}" if "max_dev_ed_trusted" in r else "(no ED)"
        name = "chaotic" if r["j2"] else "integrable"
        rows.append(f"| {name} | {r['L']} | {r['t_phi']:.2f} | {r['t_trusted']:g} | {r['late']:.4f} | "
                    f"{r['thermal']:.4f} ({r['beta_star']:.3f}) | {gc} | {ed} | {r['discarded'][k]:.1e} | "
                    f"{r['error'][k]:.1e} |")
    return "\n".join(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--phase", choices=("quench", "analyse", "all"), default="all")
    ap.add_argument("--Ls", default=None, help="comma-separated chain lengths (default 16,32,64)")
    ap.add_argument("--chains", default="chaotic,integrable", help="which chains (chaotic: J2 = 0.5, integrable: J2 = 0)")
    ap.add_argument("--t-max", dest="t_max", type=float, default=None)
    ap.add_argument("--chi", type=int, default=None, help="TEBD bond dimension (default 64)")
    ap.add_argument("--thermal-chi", dest="thermal_chi", type=int, default=64,
                    help="purification bond dimension, integrable chain (default 64; error run at half)")
    ap.add_argument("--thermal-chi-chaotic", dest="thermal_chi_chaotic", type=int, default=32,
                    help="purification bond dimension, chaotic chain (supersites with ancillas: local dimension 16, "
                         "so 64 costs SVDs of 1024 x 1024; default 32)")
    ap.add_argument("--dt", type=float, default=0.1)
    ap.add_argument("--gc-max-L", dest="gc_max_L", type=int, default=32,
                    help="also the grand-canonical thermal value (all S^z sectors) up to this L, for comparison")
    ap.add_argument("--err-tol", dest="err_tol", type=float, default=1e-2,
                    help="cut each curve where its error estimate first exceeds this")
    ap.add_argument("--out", default="results/eth_vs_bath_tn")
    ap.add_argument("--plot-only", dest="plot_only", action="store_true",
                    help="redraw the figure from the JSON of an earlier analyse phase")
    a = ap.parse_args(argv)
    names = {"chaotic": J2, "integrable": 0.0}
    a.j2s = tuple(names[c.strip()] for c in a.chains.split(","))
    if a.plot_only:
        data = load_json(Path(a.out) / "eth_vs_bath_tn.json")["data"]
        plot(data, Path(a.out) / "eth_vs_bath_tn.png")
        print(table(data))
        return
    Ls = (8, 16) if a.quick else (16, 32, 64)
    if a.Ls:
        Ls = tuple(int(x) for x in a.Ls.split(","))
    t_max = a.t_max or (3.0 if a.quick else 10.0)
    chi = a.chi or (32 if a.quick else 64)
    times = np.round(np.linspace(0, t_max, int(round(t_max / 0.1)) + 1), 12)
    Path(a.out).mkdir(parents=True, exist_ok=True)
    if a.phase in ("quench", "all"):
        phase_quench(a, Ls, times, chi)
    if a.phase in ("analyse", "all"):
        phase_analyse(a, Ls)


def plot(out, fname):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
    for k, (j2, title) in enumerate(((J2, f"chaotic (J2 = {J2})"), (0.0, "integrable (J2 = 0)"))):
        for r in out["runs"]:
            if r["j2"] != j2:
                continue
            t, o = np.asarray(r["times"]), np.asarray(r["values"])
            ok = t <= r["t_trusted"] + 1e-9
            line, = ax[k].plot(t[ok], o[ok], label=f"L = {r['L']} (TEBD, t <= {r['t_trusted']:g})")
            ax[k].axhline(r["thermal"], color=line.get_color(), ls="--", lw=0.8)
            if "ed" in r:
                ax[k].plot(t, r["ed"], "k:", lw=1.2, label=f"ED L = {r['L']}")
        ax[k].set_title(title + ": Neel quench")
        ax[k].set_xlabel("t")
        ax[k].set_ylabel(r"$\langle\sigma^z_c\sigma^z_{c+1}\rangle$ (dashed: canonical thermal, $S^z=0$)")
        ax[k].legend(fontsize=7)
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
    fig.savefig(fname, dpi=80)


if __name__ == "__main__":
    main()
