"""Study: conserved quantities that survive the bath, and the restricted equilibrium they imply.

A chain weakly coupled to a thermal bath (Davies generator) thermalizes to exp(-beta H)/Z only if nothing but
the identity commutes with H and every jump operator A(w) (PHYSICS.md section 4). Four cases, all started in
the Neel state |0101...> (0 = spin up):

1. ``xxz_z0``: open XXZ chain (Delta = 0.55, no field), A = sigma^z_0. Total S^z is conserved: L + 1
   stationary states, the final state is the Gibbs state of the initial S^z sector (sector-weighted Gibbs).
2. ``xxz_x0``: same chain, A = sigma^x_0 only. The coupling breaks S^z and looks generic, but
   P_x = prod_j sigma^x_j commutes with H (no field) and with sigma^x_0: 2 stationary states (hidden parity).
   The Neel state has <P_x> = 0; the x-polarized state |+x>^L (P_x = +1) is shown as well.
3. ``xxz_x0_z1``: same chain, A = sigma^x_0 + sigma^z_1: only the identity survives, unique thermalization.
4. ``heisenberg_S0S1``: isotropic Heisenberg chain (Delta = 1) with the SU(2)-invariant coupling
   A = S_0 . S_1. Every total S^a (and S^2) is conserved, the conserved algebra is non-abelian: with the
   multiplet decomposition H = sum_J C^{m_J} (x) C^{2J+1}, the commutant is sum_J 1 (x) M_{2J+1}, so the
   number of stationary states is sum_J (2J+1)^2 (165 for L = 8) if the bath mixes each multiplicity space.

5. ``generalized_gibbs``: a coupling that conserves a charge Q other than H, and the state exp(-beta H - mu Q)/Z
   (davies_mb.conserved.charge_gibbs). (a) TFIM (g = 0.7) with sigma^x_0 conserves the fermion parity
   P = prod sigma^x, which has two eigenvalues: the final state is exactly exp(-beta H - mu P)/Z. (b) XXZ with
   sigma^z_0 conserves S^z (L + 1 eigenvalues): the exact final state carries one multiplier per sector, and
   the one-multiplier state exp(-beta H - mu S^z)/Z gets local observables right up to O(1/L) (equivalence of
   ensembles) although the two states stay at finite trace distance. (c) The integrable charge Q3 (energy
   current of the periodic XXZ chain): no local operator commutes with it without commuting with H, so no
   local bath coupling can conserve Q3 while exchanging energy.

For each case 1-4: number of stationary states, recognized names, final energy versus Gibbs energy, trace
distance to Gibbs, the check that long-time evolution (t = 60/gap) reaches the predicted state, and
relaxation curves <H>(t), <S^z>(t), <(S^z)^2>(t), <P_x>(t), <S^2>(t) from the Neel state up to t = 20/gap.

Usage: ``python studies/commuting_charges.py --L 8 --out results/commuting_charges``
Writes ``summary.json`` (with parameters, davies_mb.io.save_json), ``relaxation.png`` and ``final_states.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Many small dense matrices (d = 2^L <= 1024): BLAS threads bring nothing and, on a busy machine, spinning
# OpenBLAS workers slow the run down several-fold. One thread unless the caller chose otherwise (must be set
# before numpy is imported).
if "numpy" not in sys.modules:
    for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

import davies_mb as dm  # noqa: E402
from davies_mb.conserved import known_charges, recognize, restricted_equilibrium  # noqa: E402
from davies_mb.io import save_json  # noqa: E402

DELTA = 0.55
BETA = 1.0
STRENGTH = 0.1
BATH = dict(beta=BETA, eta=1.0, cutoff=5.0)


def product_state(bits: str) -> np.ndarray:
    psi = np.zeros(2 ** len(bits))
    psi[int(bits, 2)] = 1.0
    return np.outer(psi, psi)


def x_polarized(L: int) -> np.ndarray:
    psi = np.ones(2**L) / np.sqrt(2**L)
    return np.outer(psi, psi)


def dense(op) -> np.ndarray:
    return op.toarray() if sp.issparse(op) else np.asarray(op)


def span_distance(X, Qs) -> float:
    """Relative Hilbert-Schmidt distance of X to the span of the orthonormal Hermitian Qs."""
    x = dense(X).astype(complex)
    r = x.copy()
    for Q in Qs:  # explicit residual (subtracting squared norms would lose half the digits)
        r -= np.vdot(Q, x) * Q
    return float(np.linalg.norm(r) / np.linalg.norm(x))


def trace_distance(a, b) -> float:
    return 0.5 * float(np.sum(np.abs(np.linalg.eigvalsh(a - b))))


def build_cases(L: int):
    xxz = dm.xxz(L, DELTA)
    heis = dm.heisenberg(L)
    s0s1 = sp.csr_array(sum(heis.op(a, 0) @ heis.op(a, 1) for a in "xyz"))
    s0s1 = sp.csr_array(s0s1.real) if not np.any(np.imag(s0s1.data)) else s0s1
    return [
        dict(name="xxz_z0", label=r"XXZ, $\sigma^z_0$", chain=xxz, coupling=xxz.pauli("z", 0),
             coupling_text="sigma^z_0", expected=L + 1,
             why="total S^z commutes with H and sigma^z_0: one stationary state per S^z sector"),
        dict(name="xxz_x0", label=r"XXZ, $\sigma^x_0$", chain=xxz, coupling=xxz.pauli("x", 0),
             coupling_text="sigma^x_0", expected=2,
             why="hidden parity prod_j sigma^x_j commutes with H (no field) and with sigma^x_0"),
        dict(name="xxz_x0_z1", label=r"XXZ, $\sigma^x_0+\sigma^z_1$", chain=xxz,
             coupling=xxz.parse_operator("x0+z1"), coupling_text="sigma^x_0 + sigma^z_1", expected=1,
             why="sigma^z_1 breaks prod sigma^x, sigma^x_0 breaks S^z: nothing but the identity survives"),
        dict(name="heisenberg_S0S1", label=r"Heisenberg, $\vec S_0\cdot\vec S_1$", chain=heis, coupling=s0s1,
             coupling_text="S_0 . S_1 (SU(2) invariant)",
             expected=sum((2 * J + 1) ** 2 for J in np.arange(L % 2 / 2, L / 2 + 0.5)),
             why="H and A are SU(2) invariant: the commutant is sum_J 1_{m_J} (x) M_{2J+1}, "
                 "dimension sum_J (2J+1)^2"),
    ]


def observables(chain):
    L = chain.L
    Sz = chain.total("z")
    S2 = sp.csr_array(sum(chain.total(a) @ chain.total(a) for a in "xyz"))
    S2 = sp.csr_array(S2.real) if not np.any(np.imag(S2.data)) else S2
    Px = known_charges(L)["spin flip prod sigma^x"]
    return {"H": chain.hamiltonian(sparse=True), "S^z": Sz, "(S^z)^2": sp.csr_array(Sz @ Sz), "P_x": Px,
            "S^2": S2}


def run_case(case, L, n_times=150):
    t0 = time.perf_counter()
    chain = case["chain"]
    spec = dm.diagonalize(chain)
    bath = dm.OhmicBath(**BATH)
    gen = dm.DaviesGenerator(spec, [case["coupling"]], bath, strength=STRENGTH)
    rep = recognize(gen, L)
    Qs = rep.quantities
    gap = gen.gap()
    obs = observables(chain)
    H = dense(obs["H"])
    gibbs = spec.gibbs(BETA)
    neel = product_state(("01" * L)[:L])
    inits = {"neel": neel}
    if case["name"] == "xxz_x0":
        inits["x_polarized"] = x_polarized(L)
    finals = {}
    for iname, rho0 in inits.items():
        req = restricted_equilibrium(gen, rho0)
        rho_long = gen.evolve(rho0, [60.0 / gap])[0]
        # every conserved expectation value is kept: tr(Q rho_inf) = tr(Q rho0)
        kept = max(abs(np.vdot(Q, req.state) - np.vdot(Q, rho0)) for Q in Qs)
        # rho_inf = exp(-beta H) C with C in the conserved algebra (a "generalized Gibbs" state)
        E, V = np.linalg.eigh(H)
        C = (V * np.exp(BETA * (E - E[0]))) @ V.conj().T @ req.state
        finals[iname] = dict(
            energy_final=req.energy, energy_gibbs=req.energy_gibbs,
            trace_distance_to_gibbs=req.trace_distance_to_gibbs,
            sector_weights=np.round(req.weights, 12),
            # NaN when the conserved algebra is non-abelian (no projector formula): stored as null
            formula_residual=None if np.isnan(req.formula_residual) else req.formula_residual,
            evolve_60_over_gap_max_abs_diff=float(np.max(np.abs(rho_long - req.state))),
            conserved_expectations_kept=float(kept),
            gibbs_factor_in_conserved_span=span_distance(C, Qs),
            final={k: float(np.real(np.vdot(dense(O), req.state))) for k, O in obs.items()},
            gibbs={k: float(np.real(np.vdot(dense(O), gibbs))) for k, O in obs.items()},
            initial={k: float(np.real(np.vdot(dense(O), rho0))) for k, O in obs.items()},
        )
    # relaxation curve from Neel, log-spaced up to 20 / gap
    times = np.concatenate([[0.0], np.logspace(np.log10(1e-5 / gap), np.log10(20.0 / gap), n_times)])
    curves = gen.expect(list(obs.values()), neel, times)
    rho_inf = restricted_equilibrium(gen, neel).state
    d_inf, d_gibbs = [], []
    for rho_t in gen.evolve(neel, times):
        d_inf.append(trace_distance(rho_t, rho_inf))
        d_gibbs.append(trace_distance(rho_t, gibbs))
    # named operators that are (or are not) conserved, measured here against the returned span
    named = {"total S^z": chain.total("z"), "total S^x": chain.total("x"), "total S^y": chain.total("y"),
             "S^2": obs["S^2"], "prod sigma^x": obs["P_x"]}
    in_span = {k: span_distance(X, Qs) < 1e-8 for k, X in named.items()}
    return dict(
        name=case["name"], label=case["label"], coupling=case["coupling_text"], why=case["why"],
        model=chain.name, params={k: v for k, v in chain.params.items() if not isinstance(v, list)},
        stationary_states=gen.kernel_dimension(), conserved_quantities=len(Qs), expected=int(case["expected"]),
        recognized=list(rep.recognized), unrecognized=rep.n_unrecognized, components=rep.components,
        conserved_named_operators=in_span, gap=gap, relaxation_time=1.0 / gap,
        persistent_oscillations=gen.persistent_oscillations(), finals=finals,
        times=times, curves={k: curves[i] for i, k in enumerate(obs)},
        distance_to_rho_inf=np.array(d_inf), distance_to_gibbs=np.array(d_gibbs), seconds=time.perf_counter() - t0,
    )


def plot(results, out: Path, L: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    panels = [("H", r"$\langle H\rangle$"), ("(S^z)^2", r"$\langle (S^z_{\rm tot})^2\rangle$"),
              ("P_x", r"$\langle P_x\rangle$  (spin-flip parity)"),
              ("S^2", r"$\langle \vec S_{\rm tot}^{\,2}\rangle$")]
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), constrained_layout=True)
    axes = axes.ravel()
    xlabel = r"$t\,\Delta$  (time in units of the relaxation time $1/\Delta$)"
    for ax, (key, ylabel) in zip(axes, panels):
        for r, col in zip(results, colors):
            x = r["times"][1:] * r["gap"]
            ax.semilogx(x, r["curves"][key][1:], color=col, lw=1.6, label=r["label"])
            fin = r["finals"]["neel"]
            ax.axhline(fin["final"][key], color=col, ls="--", lw=1.0)
            ax.plot([x[-1]], [fin["gibbs"][key]], marker="o", mfc="none", color=col, ms=9, mew=1.5)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    ax = axes[4]
    for r, col in zip(results, colors):
        x = r["times"][1:] * r["gap"]
        ax.loglog(x, np.maximum(r["distance_to_rho_inf"][1:], 1e-16), color=col, lw=1.6)
        ax.loglog(x, np.maximum(r["distance_to_gibbs"][1:], 1e-16), color=col, lw=1.2, ls=":")
    ax.set_ylim(1e-12, 2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("trace distance")
    ax.set_title(r"solid: $D(\rho(t), \rho_\infty)$,  dotted: $D(\rho(t), e^{-\beta H}/Z)$", fontsize=10)
    ax.grid(alpha=0.3)
    ax = axes[5]
    ax.axis("off")
    handles, labels = axes[0].get_legend_handles_labels()
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.0, 1.04), fontsize=9.5,
              title="chain and bath coupling")
    lines = [f"L = {L}, open chains, Neel initial state |0101...>,",
             f"Ohmic bath beta = {BETA}, lambda = {STRENGTH}",
             "solid: <O>(t) from gen.expect",
             "dashed: predicted restricted equilibrium tr(O rho_inf)",
             "open circle: Gibbs value of the same chain",
             "P_x = prod_j sigma^x_j; <S^z_tot> = 0 throughout (symmetry)"]
    for r in results:
        f = r["finals"]["neel"]
        lines.append(f"{r['name']:<16}{r['stationary_states']:>4} stationary, "
                     f"D(rho_inf, Gibbs) {f['trace_distance_to_gibbs']:.2g}")
    ax.text(0.0, -0.02, "\n".join(lines), va="bottom", ha="left", family="monospace", fontsize=8.5,
            transform=ax.transAxes)
    fig.suptitle("Relaxation from the Neel state: surviving conserved quantities stop it short of the Gibbs state")
    fig.savefig(out / "relaxation.png", dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), constrained_layout=True)
    names = [r["name"] for r in results]
    xs = np.arange(len(results))
    axes[0].bar(xs, [r["stationary_states"] for r in results], color=colors)
    axes[0].plot(xs, [r["expected"] for r in results], "k_", ms=30, mew=2, label="predicted")
    axes[0].set_yscale("log")
    axes[0].set_xticks(xs, names, rotation=15)
    axes[0].set_ylabel("number of stationary states")
    axes[0].legend()
    for x, r in zip(xs, results):
        axes[0].text(x, r["stationary_states"] * 1.1, str(r["stationary_states"]), ha="center")
    d_neel = np.array([r["finals"]["neel"]["trace_distance_to_gibbs"] for r in results])
    floor = 1e-16
    axes[1].bar(xs - 0.18, np.maximum(d_neel, floor), width=0.35, color=colors, label=r"Neel $|0101\ldots\rangle$")
    for x, v in zip(xs - 0.18, d_neel):
        axes[1].text(x, max(v, floor) * 1.6, f"{v:.2g}", ha="center", fontsize=9)
    for x, r in zip(xs, results):
        if "x_polarized" in r["finals"]:
            v = r["finals"]["x_polarized"]["trace_distance_to_gibbs"]
            axes[1].bar([x + 0.18], [v], width=0.35, color="tab:orange", hatch="//", alpha=0.6,
                        label=r"$|{+x}\rangle^{\otimes L}$ ($P_x = +1$)")
            axes[1].text(x + 0.18, v * 1.6, f"{v:.2g}", ha="center", fontsize=9)
    axes[1].set_yscale("log")
    axes[1].set_ylim(floor / 3, 10)
    axes[1].set_xticks(xs, names, rotation=15)
    axes[1].set_ylabel(r"$\frac{1}{2}\Vert\rho_\infty - e^{-\beta H}/Z\Vert_1$")
    axes[1].set_title("distance of the final state to the global Gibbs state (round-off = thermal)")
    axes[1].legend(loc="lower right")
    fig.savefig(out / "final_states.png", dpi=110)
    plt.close(fig)

def tilted(L: int, theta: float) -> np.ndarray:
    """Product state with every spin at angle theta from +z in the x-z plane (state vector)."""
    s1 = np.array([np.cos(theta / 2), np.sin(theta / 2)])
    psi = s1
    for _ in range(L - 1):
        psi = np.kron(psi, s1)
    return psi


def local_commutant(L: int, delta: float, Q) -> list:
    """Null space of X -> [X, Q] over local operators: every 1- and 2-site Pauli product on sites (0, 1) and
    every translation-invariant sum of Pauli strings of range <= 3 (periodic chain). Returns the null
    vectors as {name: coefficient} dicts and the largest ||[X, H]|| among them."""
    import itertools

    chain = dm.xxz(L, delta, bc="periodic")
    H = chain.hamiltonian(sparse=True)
    ops = {}
    for r in (1, 2, 3):
        for word in itertools.product("ixyz", repeat=r):
            if word[0] == "i" or word[-1] == "i":
                continue
            tot = 0
            for j in range(L):
                T = sp.identity(2**L, format="csr")
                for k, c in enumerate(word):
                    if c != "i":
                        T = T @ chain.pauli(c, (j + k) % L)
                tot = tot + T
            ops["sum_j " + "".join(word)] = sp.csr_array(tot)
    for a in "xyz":
        ops[f"{a}0"] = chain.pauli(a, 0)
        for b in "xyz":
            ops[f"{a}0*{b}1"] = sp.csr_array(chain.pauli(a, 0) @ chain.pauli(b, 1))
    names = list(ops)
    Qs = sp.csr_array(Q)
    C = np.array([(ops[n] @ Qs - Qs @ ops[n]).toarray().ravel() for n in names]).T
    _, sv, vt = np.linalg.svd(C, full_matrices=False)
    null = vt[sv < 1e-9 * sv[0]]
    out, worst = [], 0.0
    for v in null:
        v = v / v[np.argmax(np.abs(v))]
        X = sum(c * ops[n] for c, n in zip(v, names))
        worst = max(worst, float(abs(X @ H - H @ X).max()))
        out.append({n: complex(c) for n, c in zip(names, v) if abs(c) > 1e-8})
    return out, worst


def generalized_gibbs(out: Path, sizes=(6, 8, 10)):
    """Case 5: a coupling that conserves a charge Q other than H, and the state exp(-beta H - mu Q)/Z."""
    from davies_mb.conserved import charge_gibbs
    from davies_mb.integrable import xxz_charge

    bath = dm.OhmicBath(**BATH)
    res = {}
    # (a) TFIM, sigma^x_0: conserves the fermion parity P = prod sigma^x (two eigenvalues): exact
    L = 8
    ch = dm.tfim(L, g=0.7)
    spec = dm.diagonalize(ch)
    gen = dm.DaviesGenerator(spec, [ch.pauli("x", 0)], bath, strength=STRENGTH)
    P = known_charges(L)["spin flip prod sigma^x"]
    psi = tilted(L, 1.2)
    rho0 = np.outer(psi, psi)
    val = float(psi @ (P @ psi))
    req = restricted_equilibrium(gen, rho0)
    cg = charge_gibbs(spec, BETA, P, val)
    long = gen.evolve(rho0, [60.0 / gen.gap()])[0]
    res["tfim_parity"] = dict(L=L, g=0.7, coupling="sigma^x_0", theta=1.2, stationary_states=gen.kernel_dimension(),
                              P_initial=val, mu=cg.mu, distance_exact_vs_charge_gibbs=trace_distance(req.state, cg.state),
                              distance_evolved_vs_charge_gibbs=trace_distance(long, cg.state),
                              distance_to_gibbs=req.trace_distance_to_gibbs)
    print(f"\n5a TFIM L={L}, g=0.7, coupling sigma^x_0: {gen.kernel_dimension()} stationary states (fermion parity "
          f"P = prod sigma^x); tilted state <P> = {val:.4f}: final state = exp(-beta H - mu P)/Z with mu = "
          f"{cg.mu:.6f} to {res['tfim_parity']['distance_exact_vs_charge_gibbs']:.1e} (evolved: "
          f"{res['tfim_parity']['distance_evolved_vs_charge_gibbs']:.1e}); distance to Gibbs "
          f"{req.trace_distance_to_gibbs:.4f}")
    # (b) XXZ, sigma^z_0: conserves S^z (L + 1 eigenvalues); one multiplier is right for local observables
    rows = []
    for L in sizes:
        ch = dm.xxz(L, DELTA)
        spec = dm.diagonalize(ch)
        gen = dm.DaviesGenerator(spec, [ch.pauli("z", 0)], bath, strength=STRENGTH)
        psi = tilted(L, 1.0)
        rho0 = np.outer(psi, psi)
        Sz = ch.total("z")
        val = float(psi @ (Sz @ psi))
        req = restricted_equilibrium(gen, rho0)
        cg = charge_gibbs(spec, BETA, Sz, val)
        H = ch.hamiltonian(sparse=True)
        zz = sp.csr_array(ch.op("z", L // 2 - 1) @ ch.op("z", L // 2))
        ev = lambda r, A: float(np.real((A @ r).trace()))  # noqa: E731
        rows.append(dict(L=L, Sz_initial=val, mu=cg.mu, trace_distance=trace_distance(req.state, cg.state),
                         energy_density_exact=ev(req.state, H) / L, energy_density_charge_gibbs=ev(cg.state, H) / L,
                         zz_exact=ev(req.state, zz), zz_charge_gibbs=ev(cg.state, zz)))
        r = rows[-1]
        print(f"5b XXZ L={L}, sigma^z_0, tilted theta=1: D(exact, exp(-beta H - mu S^z)) = {r['trace_distance']:.4f}, "
              f"energy density {r['energy_density_exact']:.5f} vs {r['energy_density_charge_gibbs']:.5f}, "
              f"<S^z S^z>_mid {r['zz_exact']:.5f} vs {r['zz_charge_gibbs']:.5f}")
    res["xxz_sz"] = rows
    # (c) Q3 of the periodic XXZ chain: no local coupling conserves it without conserving H
    Lc = 6
    Q3 = xxz_charge(Lc, 3, DELTA)
    null, worst = local_commutant(Lc, DELTA, Q3)
    res["q3_local_commutant"] = dict(L=Lc, dimension=len(null), max_commutator_with_H=worst,
                                     vectors=[{k: [v.real, v.imag] for k, v in n.items()} for n in null])
    print(f"5c periodic XXZ L={Lc}: the local operators (1-2 sites, translation-invariant range <= 3) that commute "
          f"with Q3 span {len(null)} dimensions, and all of them commute with H (max ||[X, H]|| = {worst:.1e})")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    Ls = np.array([r["L"] for r in rows])
    ax.plot(1 / Ls, [abs(r["energy_density_exact"] - r["energy_density_charge_gibbs"]) for r in rows], "o-",
            label="energy density")
    ax.plot(1 / Ls, [abs(r["zz_exact"] - r["zz_charge_gibbs"]) for r in rows], "s-",
            label=r"$\langle S^z_{L/2-1}S^z_{L/2}\rangle$")
    ax.plot(1 / Ls, [r["trace_distance"] for r in rows], "^--", label="trace distance of the states")
    ax.set_xlabel("1/L")
    ax.set_ylabel(r"|exact final $-$ $e^{-\beta H-\mu S^z}/Z$|")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    ax.set_title(r"XXZ + $\sigma^z_0$ bath, tilted initial state: one multiplier for $S^z$", fontsize=9)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "generalized_gibbs.png", dpi=130)
    plt.close(fig)
    save_json(out / "generalized_gibbs.json", res, params=dict(delta=DELTA, beta=BETA, strength=STRENGTH,
                                                               bath=dict(kind="ohmic", **BATH), sizes=list(sizes)))
    return res



def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--L", type=int, default=8, help="chain length (default 8)")
    p.add_argument("--out", default="results/commuting_charges", help="output folder")
    a = p.parse_args(argv)
    L = a.L
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for case in build_cases(L):
        r = run_case(case, L)
        results.append(r)
        f = r["finals"]["neel"]
        print(f"{r['name']:<16} coupling {r['coupling']}")
        print(f"  stationary states {r['stationary_states']} (predicted {r['expected']}), "
              f"gap {r['gap']:.5g}, {r['seconds']:.1f} s")
        print(f"  recognized: {', '.join(r['recognized'])}" + (f"; {r['unrecognized']} unrecognized direction(s)"
                                                              if r["unrecognized"] else ""))
        print(f"  conserved (distance to the span < 1e-8): "
              f"{', '.join(k for k, v in r['conserved_named_operators'].items() if v) or 'none of the named'}")
        for iname, f in r["finals"].items():
            fr = f["formula_residual"]
            print(f"  {iname:<11} E_inf {f['energy_final']:.6f}  E_Gibbs {f['energy_gibbs']:.6f}  "
                  f"D(rho_inf, Gibbs) {f['trace_distance_to_gibbs']:.4g}")
            print(f"              |evolve(60/gap) - rho_inf|_max {f['evolve_60_over_gap_max_abs_diff']:.1e}  "
                  f"formula residual {'n/a (non-abelian)' if fr is None else format(fr, '.1e')}  "
                  f"conserved expectations kept to {f['conserved_expectations_kept']:.1e}  "
                  f"rho_inf exp(beta H) in the conserved span to {f['gibbs_factor_in_conserved_span']:.1e}")
            print("              final (Gibbs): " + "  ".join(
                f"<{k}> {f['final'][k]:.4f} ({f['gibbs'][k]:.4f})" for k in ("(S^z)^2", "P_x", "S^2")))
    params = dict(L=L, delta=DELTA, beta=BETA, strength=STRENGTH, bath=dict(kind="ohmic", **BATH), bc="open",
                  initial="neel (01...), plus |+x>^L for xxz_x0", times="0 and 150 log-spaced in [1e-5, 20]/gap")
    path = save_json(out / "summary.json", {"cases": results}, params=params)
    plot(results, out, L)
    generalized_gibbs(out)
    print(f"\nwrote {path}, {out / 'relaxation.png'}, {out / 'final_states.png'}, "
          f"{out / 'generalized_gibbs.json'}, {out / 'generalized_gibbs.png'}")


if __name__ == "__main__":
    main()
