"""The ``davies-mb`` command: one subcommand per job.

``davies-mb gap --model xxz --L 8 --delta 0.5 --j2 0.3 --beta 1 --coupling "x0+z1" --json``
``davies-mb teq --model xxz --L 8 --delta 0.5 --coupling "x0+z1" --lambdas 1e-3:1e-1:6``
``davies-mb demo``
``davies-mb teq-size --ff-sizes 8,64,1000 --sizes 6,8 --json``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import warnings

import numpy as np

from .io import json_safe as _json_safe  # strict JSON: inf -> "inf", NaN -> null

__all__ = ["main", "build_parser"]

_MODEL_PARAMS = {
    "xxz": dict(delta=float, j=float, j2=float, delta2=float, hz=float, hx=float, staggered=float,
                disorder=float, seed=int),
    "tfim": dict(g=float, j=float, h=float),
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (``davies-mb <cmd>: error: ...``) and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive(name):
    """argparse type: a finite real number > 0, the option named in the message."""

    def parse(text):
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number > 0, got {text!r}") from None
        if not (np.isfinite(v) and v > 0):
            raise argparse.ArgumentTypeError(f"{name} must be a finite number > 0, got {text!r}")
        return v

    parse.__name__ = name
    return parse


def _beta(text):
    """argparse type for --beta: a number > 0, or ``inf`` (zero temperature) -> ``np.inf``."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--beta must be a number > 0 or inf (zero temperature), got {text!r}") from None
    if np.isnan(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"--beta must be > 0 (or inf for zero temperature), got {text!r}")
    return np.inf if np.isinf(v) else v


def _add_system_args(p: argparse.ArgumentParser, *, strength: bool = True) -> None:
    g = p.add_argument_group("chain")
    g.add_argument("--model", default="xxz", choices=["xxz", "xx", "heisenberg", "tfim"],
                   help="chain family (default xxz)")
    g.add_argument("--L", type=int, default=8, help="number of sites (default 8)")
    g.add_argument("--bc", default="open", choices=["open", "periodic"])
    for name, typ in {**_MODEL_PARAMS["xxz"], **_MODEL_PARAMS["tfim"]}.items():
        g.add_argument(f"--{name}", type=typ, default=None, help=f"chain parameter {name}")
    g.add_argument("--sector", default=None,
                   help="one symmetry sector, e.g. 'sz=0' or 'sz=0,k=0,parity=1' (default: full space)")
    b = p.add_argument_group("bath")
    b.add_argument("--coupling", default=None, action="append",
                   help="system-bath coupling as a Pauli sum (default 'x0+z1'); repeat for independent baths")
    b.add_argument("--bath", default="ohmic", choices=["ohmic", "drude"])
    b.add_argument("--beta", type=_beta, default=1.0, help="inverse temperature, or inf (default 1)")
    b.add_argument("--eta", type=_positive("--eta"), default=1.0, help="bath coupling density > 0 (default 1)")
    b.add_argument("--cutoff", type=_positive("--cutoff"), default=5.0, help="bath cutoff frequency (default 5)")
    b.add_argument("--s", type=_positive("--s"), default=1.0, help="Ohmic exponent s >= 1 (default 1)")
    if strength:
        b.add_argument("--strength", type=_positive("--strength"), default=0.1, help="coupling lambda (default 0.1)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def _chain_from_args(a):
    import davies_mb as dm

    allowed = _MODEL_PARAMS["tfim" if a.model == "tfim" else "xxz"]
    kwargs = {}
    for name in set(_MODEL_PARAMS["xxz"]) | set(_MODEL_PARAMS["tfim"]):
        val = getattr(a, name)
        if val is None:
            continue
        fixed = {"xx": {"delta"}, "heisenberg": {"delta"}}.get(a.model, set())
        if name not in allowed or name in fixed:
            valid = ", ".join("--" + k for k in allowed if k not in fixed)
            raise ValueError(f"--{name} is not a parameter of the {a.model} model (its parameters: {valid})")
        kwargs[name] = val
    factory = {"xxz": dm.xxz, "xx": dm.xx, "heisenberg": dm.heisenberg, "tfim": dm.tfim}[a.model]
    return factory(a.L, bc=a.bc, **kwargs)


_SECTOR_FORM = "key=value[,key=value...] with keys sz, k, parity, flip, e.g. --sector sz=0 or --sector sz=0,k=0,parity=1"


def _parse_sector(text):
    if text is None:
        return None
    if not text.strip():
        raise ValueError(f"--sector is empty; use {_SECTOR_FORM}")
    out = {}
    for item in text.split(","):
        if "=" not in item:
            raise ValueError(f"--sector item {item.strip()!r} is not key=value; use {_SECTOR_FORM}")
        k, v = (x.strip() for x in item.split("=", 1))
        if k not in ("sz", "k", "parity", "flip"):
            raise ValueError(f"--sector key {k!r} is unknown; use {_SECTOR_FORM}")
        if k in out:
            raise ValueError(f"--sector gives {k} twice; use {_SECTOR_FORM}")
        try:
            x = float(v)
        except ValueError:
            raise ValueError(f"--sector {k}={v}: the value must be a number (sz integer or half-integer, k an "
                             f"integer, parity and flip +1 or -1); use {_SECTOR_FORM}") from None
        if not np.isfinite(x):
            raise ValueError(f"--sector {k}={v}: the value must be finite; use {_SECTOR_FORM}")
        out[k] = int(x) if x == int(x) else x
    return out


def _bath_from_args(a):
    import davies_mb as dm

    if a.bath == "ohmic":
        return dm.OhmicBath(beta=a.beta, eta=a.eta, cutoff=a.cutoff, s=a.s)
    return dm.DrudeLorentzBath(beta=a.beta, eta=a.eta, cutoff=a.cutoff)


def _couplings(a, chain):
    texts = a.coupling or ["x0+z1"]
    return texts, [chain.parse_operator(t) for t in texts]


def cmd_gap(a) -> int:
    import davies_mb as dm

    t0 = time.perf_counter()
    chain = _chain_from_args(a)
    sector = _parse_sector(a.sector)
    spec = dm.diagonalize(chain, sector=sector)
    t1 = time.perf_counter()
    texts, ops = _couplings(a, chain)
    gen = dm.DaviesGenerator(spec, ops, _bath_from_args(a), strength=a.strength)
    gap = gen.gap()
    kdim = gen.kernel_dimension()
    rates = gen.relaxation_rates(5)
    rep = gen.check()
    t2 = time.perf_counter()
    out = {
        "model": chain.name, "L": chain.L, "params": chain.params, "sector": sector,
        "couplings": texts, "beta": a.beta, "strength": a.strength,
        "dimension": spec.n, "levels": int(spec.level_energies.size),
        "max_degeneracy": int(spec.degeneracies.max()),
        "gap": gap, "relaxation_time": 1.0 / gap if gap > 0 else float("inf"),
        "gap_over_lambda2": gap / a.strength**2,
        "kernel_dimension": kdim, "slowest_rates": rates.tolist(),
        "check": {**dataclasses.asdict(rep), "ok": rep.ok()},
        "seconds": {"diagonalize": t1 - t0, "generator": t2 - t1},
    }
    if a.json:
        print(json.dumps(_json_safe(out)))
        return 0
    print(f"{chain.formula}")
    print(f"  L = {chain.L}, {chain.bc}, params: "
          + ", ".join(f"{k}={v}" for k, v in chain.params.items() if k not in ("L", "bc", "hz_sites") and v))
    print(f"  dimension {spec.n}, {out['levels']} levels (max degeneracy {out['max_degeneracy']})"
          + (f", sector {sector}" if sector else ""))
    print(f"  couplings {texts}, {a.bath} bath beta={a.beta} eta={a.eta} cutoff={a.cutoff}, lambda={a.strength}")
    print(f"  gap                  {gap:.6g}   (gap / lambda^2 = {gap / a.strength**2:.6g})")
    print(f"  relaxation time      {out['relaxation_time']:.6g}")
    if gen.beta is None:
        what = ("  (unique: a non-equilibrium steady state, baths at different temperatures)" if kdim == 1 else
                "  (several, and the baths have different temperatures)")
    elif np.isinf(gen.beta):
        what = ("  (unique: relaxes to the ground level)" if kdim == 1 else
                "  (zero temperature: states the bath cannot lower stay, see docs/theory.md section 5)")
    else:
        what = ("  (unique: thermalizes to Gibbs)" if kdim == 1 else "  (a conserved quantity survives the bath)")
    print(f"  stationary states    {kdim}" + what)
    print(f"  slowest rates        {np.array2string(rates, precision=5)}")
    resid = "  ".join(f"{k} {v:.1e}" for k, v in dataclasses.asdict(rep).items() if v is not None)
    print(f"  check residuals      {resid}  -> {'ok' if rep.ok() else 'FAILED: ' + ', '.join(rep.failures())}")
    print(f"  time                 diagonalize {t1 - t0:.2f} s, generator {t2 - t1:.2f} s")
    return 0


def _lambdas(text: str) -> np.ndarray:
    """'1e-3:1e-1:6' (log-spaced, both ends included) or a comma list '0.01,0.03,0.1'."""
    try:
        if ":" in text:
            lo, hi, n = text.split(":")
            return np.geomspace(float(lo), float(hi), int(n))
        return np.array([float(x) for x in text.split(",")])
    except ValueError:
        raise ValueError(f"--lambdas must be 'lo:hi:n' (log-spaced) or a comma list, got {text!r}") from None


def _run_teq(chain, texts, ops, bath, lams, *, initial, observable, method, epsilon, n_times, out, as_json,
             two_step=True, progress=None, sector=None) -> dict:
    """The ergodicity study: lambda scan, two-step relaxation, table, JSON and figures."""
    import davies_mb as dm
    from .io import save_json

    t0 = time.perf_counter()
    scan = dm.teq_scan(chain, ops, bath, lams, initial=initial, method=method, epsilon=epsilon,
                       n_times=n_times, progress=progress, sector=sector)
    t1 = time.perf_counter()
    if observable:
        obs_text, obs_op = observable, chain.parse_operator(observable)
    else:  # bond-averaged sigma^x sigma^x: local, and far from its thermal value in the diagonal ensemble
        nb = chain.L if chain.bc == "periodic" else chain.L - 1
        obs_text = "mean_j x_j x_j+1"
        obs_op = sum(chain.pauli("x", j) @ chain.pauli("x", (j + 1) % chain.L) for j in range(nb)) / nb
    steps = None
    if two_step and method == "davies" and scan.thermalizes:
        steps = dm.two_step_relaxation(chain, ops, bath, lams, obs_op, initial=initial, progress=progress,
                                       sector=sector)
    t2 = time.perf_counter()
    params = dict(model=chain.name, L=chain.L, bc=chain.bc, chain=chain.params, couplings=texts, beta=bath.beta,
                  eta=bath.eta, cutoff=bath.cutoff, bath=type(bath).__name__, strengths=lams, initial=initial,
                  observable=obs_text, method=method, epsilon=epsilon, n_times=n_times, sector=sector)
    data = {"scan": scan.to_dict(), "two_step": steps.to_dict() if steps is not None else None,
            "seconds": {"scan": t1 - t0, "two_step": t2 - t1}}
    files = []
    if out:
        files.append(str(save_json(f"{out}/teq.json", data, params=params)))
        try:
            from .plots import plot_scan, plot_two_step

            files.append(str(plot_scan(scan, f"{out}/teq_scaling.png",
                                       title=f"{chain.name} L={chain.L}, couplings {texts}, beta={bath.beta:g}")))
            if steps is not None:
                files.append(str(plot_two_step(steps, f"{out}/two_step.png", observable=obs_text)))
        except ImportError as e:
            print(f"  (no figures: {e})", file=sys.stderr)
    summary = {
        "strengths": lams.tolist(), "t_gap": scan.t_gap.tolist(), "t_distance": scan.t_distance.tolist(),
        "t_fit": {k: v.tolist() for k, v in scan.t_fit.items()},
        "final_distance_to_gibbs": scan.final_distance_to_gibbs.tolist(),
        "exponents": {k: f.exponent for k, f in scan.fits.items()},
        "exponent_stderr": {k: f.stderr for k, f in scan.fits.items()},
        "stationary_states": scan.stationary_states, "thermalizes": scan.thermalizes, "message": scan.message,
        "secular_strength": scan.secular_strength,
        "in_secular_regime": None if scan.in_secular_regime is None else scan.in_secular_regime.tolist(),
        "two_step": None if steps is None else {
            "observable": obs_text, "initial_value": steps.initial_value, "de_value": steps.de_value,
            "gibbs_value": steps.gibbs_value, "t_dephasing": steps.t_dephasing.tolist(),
            "t_bath": steps.t_bath.tolist()},
        "files": files, "seconds": time.perf_counter() - t0,
    }
    if as_json:
        print(json.dumps(_json_safe(summary)))
        return summary
    print(scan.table())
    if steps is not None:
        print(f"\n  two-step relaxation of <{obs_text}> from the {initial} state: "
              f"{steps.initial_value:.4f} -> diagonal ensemble {steps.de_value:.4f} -> Gibbs {steps.gibbs_value:.4f}")
        print(f"  {'lambda':>10} {'t_dephasing':>12} {'t_bath':>12} {'t_bath*lambda^2':>16} {'secular':>8}")
        sec = steps.in_secular_regime if steps.in_secular_regime is not None else [True] * len(lams)
        for lam, td, tb, ok in zip(lams, steps.t_dephasing, steps.t_bath, sec):
            print(f"  {lam:>10.4g} {td:>12.4f} {tb:>12.5g} {tb * lam**2:>16.4f} {'yes' if ok else 'NO':>8}")
    if files:
        print("\n  written: " + ", ".join(files))
    print(f"  time: scan {t1 - t0:.1f} s, two-step {t2 - t1:.1f} s")
    return summary


def cmd_teq(a) -> int:
    """t_eq versus lambda for any chain and coupling (the ergodicity study)."""
    chain = _chain_from_args(a)
    sector = _parse_sector(a.sector)
    if sector is not None:
        sector = chain.check_sector(sector)
    texts, ops = _couplings(a, chain)
    bath, lams = _bath_from_args(a), _lambdas(a.lambdas)
    out = None if a.no_save else a.out
    if out:
        from .io import check_writable_folder

        check_writable_folder(out)  # before the scan, not after it
    _run_teq(chain, texts, ops, bath, lams, initial=a.initial,
             observable=a.observable, method=a.method, epsilon=a.epsilon, n_times=a.n_times,
             out=out, as_json=a.json, two_step=not a.no_two_step, sector=sector)
    return 0


def cmd_demo(a) -> int:
    """The main job: bath-induced ergodicity restoration of an integrable XXZ chain (about a minute)."""
    import davies_mb as dm

    if a.out:
        from .io import check_writable_folder

        check_writable_folder(a.out)  # before the work, not after it
    L, delta, beta = a.L, 0.5, 1.0
    chain = dm.xxz(L, delta)
    bath = dm.OhmicBath(beta=beta, eta=1.0, cutoff=5.0)
    t0 = time.perf_counter()
    spec = dm.diagonalize(chain)
    print(f"davies-mb demo: open XXZ chain, L = {L}, Delta = {delta} (integrable), Ohmic bath at beta = {beta}")
    print(f"  {spec.n} states in {spec.level_energies.size} levels (max degeneracy {spec.degeneracies.max()}), "
          f"diagonalized in {time.perf_counter() - t0:.2f} s\n")
    print("  which couplings thermalize the chain? (Neel initial state)")
    print(f"  {'coupling':<8} {'stationary states':>18}  {'|rho_inf - Gibbs|_1':>20}  conserved")
    rho0 = np.outer(*(2 * [dm.product_state(L, "neel")]))
    gibbs = spec.gibbs(beta)
    for text, why in (("z0", "total S^z"), ("x0", "parity prod sigma^x"), ("x0+z1", "-")):
        gen = dm.DaviesGenerator(spec, chain.parse_operator(text), bath, strength=0.1)
        kdim = gen.kernel_dimension()
        dist = dm.trace_distance(gen.stationary_state(rho0), gibbs)
        print(f"  {text:<8} {kdim:>18d}  {dist:>20.3e}  {why if kdim > 1 else '-'}")
    print("\n  coupling x0+z1 thermalizes uniquely: t_eq versus lambda over two decades")
    _run_teq(chain, ["x0+z1"], [chain.parse_operator("x0+z1")], bath, np.geomspace(1e-3, 1e-1, 6),
             initial="neel", observable=None, method="davies", epsilon=1e-3, n_times=200, out=a.out,
             as_json=False)
    print("  Davies: every rate is lambda^2 times a constant, so every t_eq above scales as lambda^-2;\n"
          "  the local observable first dephases on t ~ 1/J to the (non-thermal) diagonal ensemble, the same\n"
          "  for every lambda, and only then relaxes to the Gibbs value on t ~ lambda^-2.")
    print(f"  total {time.perf_counter() - t0:.1f} s")
    return 0


def _product_state(text: str, L: int) -> np.ndarray:
    """Density matrix of a product state: 'neel' (0101...), 'domain' (00..011..1), 'up', or a bit string."""
    named = {"neel": "01" * (L // 2) + "0" * (L % 2), "domain": "0" * (L // 2) + "1" * (L - L // 2),
             "up": "0" * L}
    bits = named.get(text, text)
    if len(bits) != L or set(bits) - {"0", "1"}:
        raise ValueError(f"--initial must be neel, domain, up or a bit string of length {L} (0 = up), got {text!r}")
    psi = np.zeros(2**L)
    psi[int(bits, 2)] = 1.0
    return np.outer(psi, psi)


def cmd_conserved(a) -> int:
    import davies_mb as dm
    from .conserved import recognize, restricted_equilibrium

    t0 = time.perf_counter()
    chain = _chain_from_args(a)
    spec = dm.diagonalize(chain, sector=_parse_sector(a.sector))
    texts, ops = _couplings(a, chain)
    gen = dm.DaviesGenerator(spec, ops, _bath_from_args(a), strength=a.strength)
    rep = recognize(gen, chain.L, periodic=(chain.bc == "periodic"))
    rho0 = _product_state(a.initial, chain.L)
    with warnings.catch_warnings():
        # undamped coherences only affect the approach, not the time-averaged final state reported here
        warnings.simplefilter("ignore")
        req = restricted_equilibrium(gen, rho0)
    out = {
        "model": chain.name, "L": chain.L, "params": chain.params, "couplings": texts, "beta": a.beta,
        "stationary_states": rep.n_stationary, "recognized": list(rep.recognized),
        "unrecognized": rep.n_unrecognized, "unrecognized_support": list(rep.unrecognized_support),
        "transition_graph_components": rep.components, "initial": a.initial,
        "final_energy": req.energy, "gibbs_energy": req.energy_gibbs,
        "trace_distance_to_gibbs": req.trace_distance_to_gibbs, "sector_weights": req.weights.tolist(),
        "formula_residual": req.formula_residual, "seconds": time.perf_counter() - t0,
    }
    if a.json:
        print(json.dumps(_json_safe(out)))
        return 0
    print(f"{chain.formula}\n  couplings {texts}, beta = {a.beta}")
    print("  " + rep.summary().replace("\n", "\n  "))
    print(f"  initial state {a.initial!r}: final energy {req.energy:.6f} (Gibbs {req.energy_gibbs:.6f}), "
          f"trace distance to Gibbs {req.trace_distance_to_gibbs:.3e}")
    return 0


def cmd_eth(a) -> int:
    """ETH diagnostics of a chain: pooled level statistics, diagonal / off-diagonal ETH, Neel dephasing."""
    import davies_mb as dm

    t0 = time.perf_counter()
    chain = _chain_from_args(a)
    sz = None if "sz" not in chain.symmetries else (0 if a.sz is None else (int(a.sz) if a.sz == int(a.sz) else a.sz))
    st = dm.eth.sector_level_statistics(chain, sz, discard=a.discard)
    op = chain.parse_operator(a.observable or "z0*z1")  # Pauli matrices
    out = {"model": chain.name, "L": chain.L, "params": chain.params, "sz": sz, "levels": st.to_dict(),
           "observable": a.observable or "z0*z1"}
    if not a.no_eth:
        d = dm.eth.diagonal_eth(chain, op, sz)
        off = dm.eth.offdiagonal_eth(chain, op, sz, omega_max=a.omega_max)
        out["diagonal_eth"] = d.to_dict()
        out["gaussianity"] = off.gaussianity(a.omega_max)
    if a.dephasing:
        psi = dm.product_state(chain.L, "neel")
        times = np.linspace(0.0, a.t_max, 401)
        q = dm.eth.quench(chain, psi, [dm.eth.symmetrize(chain, op)], times)
        out["dephasing"] = {"initial": "neel", "diagonal_ensemble": float(q.diagonal[0]),
                            "t_dephasing": dm.eth.dephasing_time(times, q.values[0], q.diagonal[0])}
    out["seconds"] = time.perf_counter() - t0
    if a.json:
        print(json.dumps(_json_safe(out)))
        return 0
    lv = out["levels"]
    print(chain.formula)
    print(f"  L = {chain.L}, {chain.bc}, S^z = {sz}: {lv['n_sectors']} fully resolved sectors, "
          f"{lv['n_levels']} levels, {lv['n_used']} used ({lv['fraction_used']:.0%}, {a.discard:g} cut at each edge)")
    print(f"  <r> = {lv['mean']:.4f} +- {lv['sem']:.4f}   (Poisson 0.3863, GOE 0.5307, GUE 0.5996) -> {lv['closest']}")
    if "diagonal_eth" in out:
        de = out["diagonal_eth"]
        print(f"  {out['observable']}: mean |O_n+1 - O_n| = {de['fluctuation']:.4g}, "
              f"mean |O_nn - O_mc| = {de['mc_deviation']:.4g} ({de['n_in_window']} states in the window)")
        print(f"  Gaussianity <|O_mn|^2>/<|O_mn|>^2 = {out['gaussianity']:.4f} (|omega| <= {a.omega_max:g}; "
              f"GOE pi/2 = {np.pi / 2:.4f})")
    if "dephasing" in out:
        dp = out["dephasing"]
        print(f"  Neel quench: dephasing time {dp['t_dephasing']:.4g}, diagonal ensemble {dp['diagonal_ensemble']:+.5f}")
    print(f"  time {out['seconds']:.2f} s")
    return 0


def cmd_gge(a) -> int:
    """Quench of a free-fermion chain: GGE (mode occupations) vs Gibbs at the same energy, optional ED DE."""
    import davies_mb as dm
    from davies_mb import integrable as ig

    t0 = time.perf_counter()
    L = a.L
    if a.model == "tfim":
        m0, m1 = ig.tfim_modes(L, "periodic", g=a.g0), ig.tfim_modes(L, "periodic", g=a.g1)
        n = ig.mode_occupations(m1, ig.gaussian_correlations(m0, ig.ground_state_occupations(m0)))
        energy = m1.constant + m1.energies @ n
        gib = dm.free_fermion_gibbs(m1, energy)

        def obs(G):
            return {"m_x": float(np.mean(np.diag(G, 1)[::2])), "zz": float(np.mean(np.diag(G, 1)[1::2]))}

        out = {"model": "tfim", "bc": "periodic", "L": L, "g0": a.g0, "g1": a.g1, "energy_density": energy / L,
               "beta": gib["beta"], "gge": obs(ig.gaussian_correlations(m1, n)),
               "gibbs": obs(ig.gaussian_correlations(m1, gib["occupations"]))}
        if a.ed_L:
            ch1 = dm.tfim(a.ed_L, a.g1, bc="periodic")
            psi = np.linalg.eigh(dm.tfim(a.ed_L, a.g0, bc="periodic").hamiltonian(sparse=False))[1][:, 0]
            rde = dm.diagonal_ensemble(dm.diagonalize(ch1), psi)
            out["diagonal_ensemble_ed"] = {"L": a.ed_L, "m_x": float(np.sum(ch1.pauli("x", 0).T.multiply(rde)))}
    else:
        m = ig.xx_modes(L, "open", hz=a.hz)
        th_odd = a.theta if a.theta_odd is None else a.theta_odd
        C0 = ig.tilted_state_correlations(L, [a.theta if s % 2 == 0 else th_odd for s in range(L)])
        n = ig.mode_occupations(m, C0)
        energy, number = m.constant + m.energies @ n, float(np.trace(C0))
        gib = dm.free_fermion_gibbs(m, energy, number)
        i = L // 2 - 1

        def obs(C):
            return {"SxSx+SySy": float(np.real(C[i, i + 1])), "nnn_hop": float(2 * np.real(C[i, i + 2])),
                    "SzSz": float(np.real((C[i, i] - 0.5) * (C[i + 1, i + 1] - 0.5) - abs(C[i, i + 1]) ** 2))}

        out = {"model": "xx", "bc": "open", "L": L, "theta": a.theta, "theta_odd": th_odd, "hz": a.hz, "energy_density": energy / L,
               "beta": gib["beta"], "mu": gib["mu"], "beta_mu": gib["beta_mu"], "central_bond": i, "gge": obs(ig.gaussian_correlations(m, n)),
               "gibbs": obs(ig.gaussian_correlations(m, gib["occupations"]))}
        if a.ed_L:
            ch = dm.xx(a.ed_L, hz=a.hz)
            psi = np.ones(1)
            for s in range(a.ed_L):
                t = a.theta if s % 2 == 0 else th_odd
                psi = np.kron(psi, [np.cos(t / 2), np.sin(t / 2)])
            rde = dm.diagonal_ensemble(dm.diagonalize(ch), psi)
            k = a.ed_L // 2 - 1
            zz = ch.op("z", k) @ ch.op("z", k + 1)
            out["diagonal_ensemble_ed"] = {"L": a.ed_L, "SzSz": float(np.sum(zz.T.multiply(rde)))}
    out["seconds"] = time.perf_counter() - t0
    if a.json:
        print(json.dumps(_json_safe(out)))
        return 0
    print(f"{a.model} quench, L = {L}: energy density {out['energy_density']:.6f}, Gibbs beta {out['beta']:.6f}")
    for key in out["gge"]:
        print(f"  {key:<10} GGE {out['gge'][key]: .6f}   Gibbs {out['gibbs'][key]: .6f}")
    if "diagonal_ensemble_ed" in out:
        print(f"  diagonal ensemble (ED): {out['diagonal_ensemble_ed']}")
    return 0


def _int_list(text: str, name: str) -> list:
    if not text.strip():
        return []
    try:
        return [int(x) for x in text.split(",")]
    except ValueError:
        raise ValueError(f"{name} must be a comma list of integers like '8,16,32', got {text!r}") from None


def cmd_teq_size(a) -> int:
    """t_eq lambda^2 versus L: free fermions (FreeFermionDavies) and exact XXZ (DaviesGenerator), edge bath."""
    from .size_scaling import exact_size_scan, free_fermion_size_scan

    bath = _bath_from_args(a)
    ff_sizes = _int_list(a.ff_sizes, "--ff-sizes")
    sizes = _int_list(a.sizes, "--sizes")
    models = [m for m in a.ff_models.split(",") if m]
    scans = []
    with warnings.catch_warnings():
        if a.json:
            warnings.simplefilter("ignore")
        for m in models if ff_sizes else []:
            scans.append(free_fermion_size_scan(m, ff_sizes, bath, strength=a.strength, hz=a.hz, g=a.g))
        for j2 in (0.0, a.j2) if sizes else ():
            scans.append(exact_size_scan(sizes, bath, delta=a.delta, j2=j2, coupling=a.coupling,
                                         strength=a.strength))
    if a.json:
        print(json.dumps(_json_safe({s.label: s.to_dict() for s in scans})))
        return 0
    for s in scans:
        print(s.table() + "\n")
def cmd_otto(a) -> int:
    """Finite-time quantum Otto engine: limit cycle (and optionally a power map) of a qubit or chain medium."""
    import davies_mb as dm
    from davies_mb.applications import otto

    t0 = time.perf_counter()
    hh, hc, A = otto.otto_medium(a.medium, a.w_hot, a.w_cold, L=a.L, theta=a.theta)
    bh = dm.OhmicBath(beta=a.beta_hot, eta=a.eta, cutoff=a.cutoff)
    bc = dm.OhmicBath(beta=a.beta_cold, eta=a.eta, cutoff=a.cutoff)
    c = otto.otto_cycle(hh, hc, A, bh, bc, a.tau_hot, a.tau_cold, a.strength, tau_switch=a.tau_switch)
    out = {"medium": a.medium, "w_hot": a.w_hot, "w_cold": a.w_cold, "otto_efficiency": 1 - a.w_cold / a.w_hot,
           **c.to_dict()}
    if a.map:
        lo, hi, n = a.map.split(":")
        taus = np.geomspace(float(lo), float(hi), int(n))
        m = otto.otto_power_map(hh, hc, A, bh, bc, taus, taus, a.strength, tau_switch=a.tau_switch)
        out["power_map"] = {"taus": taus.tolist(), "power": m.power.tolist(), "best": m.best.to_dict()}
    out["seconds"] = time.perf_counter() - t0
    if a.json:
        print(json.dumps(_json_safe(out)))
        return 0
    print(f"Otto cycle ({a.medium}): {c.mode}, W = {c.work:.6g}, Q_hot = {c.heat_hot:.6g}, "
          f"Q_cold = {c.heat_cold:.6g}, efficiency = {c.efficiency:.6g} (Otto {1 - a.w_cold / a.w_hot:.6g}), "
          f"power = {c.power:.6g}")
    if a.map:
        b = m.best
        print(f"  best power on the grid: {b.power:.6g} at tau_hot = {b.tau_hot:.4g}, tau_cold = {b.tau_cold:.4g}")
    return 0


# -- tensor networks (davies_mb.tn): long chains past exact diagonalization -------------------------------
def _add_tn_chain_args(p: argparse.ArgumentParser, L: int = 32) -> None:
    g = p.add_argument_group("chain (as in `davies-mb gap`)")
    g.add_argument("--model", default="xxz", choices=["xxz", "xx", "heisenberg", "tfim"],
                   help="chain family (default xxz)")
    g.add_argument("--L", type=int, default=L, help=f"number of sites (default {L})")
    g.add_argument("--bc", default="open", choices=["open", "periodic"],
                   help="boundary condition (tensor networks need open)")
    for name, typ in {**_MODEL_PARAMS["xxz"], **_MODEL_PARAMS["tfim"]}.items():
        g.add_argument(f"--{name}", type=typ, default=None, help=f"chain parameter {name}")
    t = p.add_argument_group("tensor network")
    t.add_argument("--max-bond", dest="max_bond", type=int, default=64, help="largest bond dimension (default 64)")
    t.add_argument("--tn-cutoff", dest="tn_cutoff", type=float, default=1e-12,
                   help="relative discarded weight per SVD (default 1e-12)")
    t.add_argument("--order", type=int, default=4, choices=[1, 2, 4], help="product-formula order (default 4)")
    t.add_argument("--tol", type=float, default=1e-6, help="accepted total discarded weight (default 1e-6)")
    t.add_argument("--error-run", dest="error_run", default="bond", choices=["bond", "dt", "none"],
                   help="reference run for the error estimate (default bond: half the bond dimension)")
    t.add_argument("--observable", action="append", default=None,
                   help="Pauli string, e.g. 'z32' or 'x10*x11'; repeat for several")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def _float_list(text, name):
    try:
        if ":" in text:
            lo, hi, n = text.split(":")
            return np.linspace(float(lo), float(hi), int(n)).tolist()
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--{name} must be a comma list like 0.5,1,1.5 or lo:hi:n, got {text!r}") from None


def cmd_tn_quench(a) -> int:
    import davies_mb as dm

    t0 = time.perf_counter()
    chain = _chain_from_args(a)
    times = _float_list(a.times, "times")
    obs = a.observable or [f"z{chain.L // 2}"]
    r = dm.tn.quench(chain, a.initial, times, obs, max_bond=a.max_bond, cutoff=a.tn_cutoff, dt=a.dt,
                     order=a.order, tol=a.tol, error_run=None if a.error_run == "none" else a.error_run)
    out = {"times": r.times.tolist(), "values": {k: v.tolist() for k, v in r.values.items()},
           "error": r.error, "max_bond": a.max_bond,
           "bond_dim": r.bond_dim.tolist(), "discarded": r.discarded.tolist(), "entropy": r.entropy.tolist(),
           "entropy_cut": r.entropy_cut, "within_tolerance": r.within_tolerance, "model": chain.name,
           "params": {k: v for k, v in chain.params.items() if k != "hz_sites"}, "initial": a.initial,
           "dt": a.dt, "order": a.order, "seconds": time.perf_counter() - t0}
    if a.json:
        print(json.dumps(_json_safe(out)))
        return 0
    print(f"tn-quench {chain!r} from {a.initial!r}: max_bond {a.max_bond}, dt {a.dt}, order {a.order}")
    print("  t      " + "".join(f"{k:>14}" for k in r.values) + "   bond   discarded   S_half")
    for i, t in enumerate(r.times):
        vals = "".join(f"{r.values[k][i]:14.8f}" for k in r.values)
        print(f"  {t:<6.3g} {vals}   {r.bond_dim[i]:4d}   {r.discarded[i]:.2e}   {r.entropy[i]:.4f}")
    return 0


def cmd_tn_thermal(a) -> int:
    import davies_mb as dm

    t0 = time.perf_counter()
    chain = _chain_from_args(a)
    betas = _float_list(a.betas, "betas")
    r = dm.tn.thermal_state(chain, betas, observables=a.observable or (), max_bond=a.max_bond,
                            cutoff=a.tn_cutoff, dtau=a.dtau, order=a.order, tol=a.tol,
                            error_run=None if a.error_run == "none" else a.error_run, sz=a.sz)
    out = {"betas": r.betas.tolist(), "energy": r.energy.tolist(), "energy_per_site": r.energy_per_site.tolist(),
           "truncation_error": r.truncation_error.tolist(), "log_z": r.log_z.tolist(),
           **{"energy_error": r.energy_error, "energy_per_site_error": r.energy_per_site_error},
           "values": {k: v.tolist() for k, v in r.values.items()},
           "value_errors": r.value_errors, "max_bond": a.max_bond,
           "bond_dim": r.bond_dim.tolist(), "within_tolerance": r.within_tolerance, "model": chain.name,
           "params": {k: v for k, v in chain.params.items() if k != "hz_sites"}, "dtau": a.dtau,
           "order": a.order, "sz": a.sz, "seconds": time.perf_counter() - t0}
    if a.json:
        print(json.dumps(_json_safe(out)))
        return 0
    print(f"tn-thermal {chain!r}: purification, max_bond {a.max_bond}, dtau {a.dtau}, order {a.order}")
    print("  beta     energy          e/site (bulk)   trunc. error   bond")
    for i, b in enumerate(r.betas):
        print(f"  {b:<7.3g} {r.energy[i]:<15.9f} {r.energy_per_site[i]:<15.9f} {r.truncation_error[i]:.2e}     "
              f"{r.bond_dim[i]}")
    return 0


def _add_tn_parsers(sub) -> None:
    q = sub.add_parser("tn-quench", help="quench of a long chain by TEBD (tensor networks, e.g. L = 64)")
    _add_tn_chain_args(q)
    q.add_argument("--initial", default="neel",
                   help="neel, domain, up, down, +x, -x or a bit string (0 = up) (default neel)")
    q.add_argument("--times", default="0:5:11", help="output times: comma list or lo:hi:n (default 0:5:11)")
    q.add_argument("--dt", type=float, default=0.05, help="largest time step (default 0.05)")
    q.set_defaults(func=cmd_tn_quench)
    t = sub.add_parser("tn-thermal", help="thermal state of a long chain by purification (tensor networks)")
    _add_tn_chain_args(t)
    t.add_argument("--betas", default="0.5,1,2", help="inverse temperatures: comma list or lo:hi:n")
    t.add_argument("--dtau", type=float, default=0.05, help="largest imaginary-time step (default 0.05)")
    t.add_argument("--sz", type=float, default=None,
                   help="canonical ensemble at fixed total S^z (e.g. 0 for the Neel sector; default: all sectors)")
    t.set_defaults(func=cmd_tn_thermal)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="davies-mb", description="Many-body thermalization with the Davies generator")
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("gap", help="Davies gap, stationary states and check residuals of a chain + bath")
    _add_system_args(g)
    g.set_defaults(func=cmd_gap)
    c = sub.add_parser("conserved", help="conserved quantities that survive the bath and the final state they imply")
    _add_system_args(c)
    c.add_argument("--initial", default="neel", help="initial product state: neel, domain, up or a bit string")
    c.set_defaults(func=cmd_conserved)
    t = sub.add_parser("teq", help="t_eq versus the coupling lambda, fitted exponent, two-step relaxation")
    _add_system_args(t, strength=False)  # the strengths are --lambdas
    t.add_argument("--lambdas", default="1e-3:1e-1:6", help="'lo:hi:n' log-spaced or a comma list")
    t.add_argument("--initial", default="neel", help="initial product state: neel, domain, up or a bit string")
    t.add_argument("--observable", default=None,
                   help="local observable of the two-step plot as a Pauli sum, e.g. 'z3*z4' "
                        "(default: the bond average of x_j x_j+1)")
    t.add_argument("--method", default="davies", choices=["davies", "redfield", "ule"])
    t.add_argument("--epsilon", type=_positive("--epsilon"), default=1e-3,
                   help="trace-distance threshold (default 1e-3)")
    t.add_argument("--n-times", dest="n_times", type=int, default=200, help="times per trajectory (default 200)")
    t.add_argument("--out", default="results/teq", help="folder for JSON and PNG (default results/teq)")
    t.add_argument("--no-save", action="store_true", help="write no files")
    t.add_argument("--no-two-step", action="store_true", help="skip the two-step relaxation")
    t.set_defaults(func=cmd_teq)
    e = sub.add_parser("eth", help="ETH diagnostics: level statistics in fully resolved sectors, ETH, dephasing")
    e.add_argument("--model", default="xxz", choices=["xxz", "xx", "heisenberg", "tfim"])
    e.add_argument("--L", type=int, default=12, help="number of sites (default 12)")
    e.add_argument("--bc", default="periodic", choices=["open", "periodic"], help="default periodic")
    for name, typ in {**_MODEL_PARAMS["xxz"], **_MODEL_PARAMS["tfim"]}.items():
        e.add_argument(f"--{name}", type=typ, default=None, help=f"chain parameter {name}")
    e.add_argument("--sz", type=float, default=None, help="total S^z of the sectors (default 0)")
    e.add_argument("--discard", type=float, default=0.1, help="fraction cut at each spectral edge (default 0.1)")
    e.add_argument("--observable", default=None, help="local observable as a Pauli sum, e.g. 'z0*z3' (default z0*z1)")
    e.add_argument("--omega-max", dest="omega_max", type=float, default=0.2, help="|omega| window (default 0.2)")
    e.add_argument("--no-eth", action="store_true", help="level statistics only")
    e.add_argument("--dephasing", action="store_true", help="also the Neel-quench dephasing time")
    e.add_argument("--t-max", dest="t_max", type=float, default=10.0, help="quench time window (default 10)")
    e.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    e.set_defaults(func=cmd_eth)
    q = sub.add_parser("gge", help="quench of a free-fermion chain: GGE vs Gibbs at the same energy")
    q.add_argument("--model", default="tfim", choices=["tfim", "xx"],
                   help="tfim: ring, ground state of g0 evolved with g1; xx: open chain from a tilted product state")
    q.add_argument("--L", type=int, default=200, help="chain length for the free-fermion GGE (default 200)")
    q.add_argument("--g0", type=float, default=0.5, help="TFIM initial field (default 0.5)")
    q.add_argument("--g1", type=float, default=2.0, help="TFIM final field (default 2.0)")
    q.add_argument("--theta", type=float, default=float(np.pi / 2),
                   help="XX tilt angle of the product state on even sites (default pi/2)")
    q.add_argument("--theta-odd", type=float, default=float(np.pi / 3),
                   help="XX tilt angle on odd sites (default pi/3; equal angles give a translation-invariant state)")
    q.add_argument("--hz", type=float, default=0.0, help="XX field (default 0)")
    q.add_argument("--ed-L", type=int, default=0, help="also the diagonal ensemble by ED at this (small) L")
    q.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    q.set_defaults(func=cmd_gge)
    d = sub.add_parser("demo", help="the main job: bath-induced ergodicity restoration of an integrable chain")
    d.add_argument("--L", type=int, default=8)
    d.add_argument("--out", default="results/demo", help="folder for JSON and PNG (default results/demo)")
    d.set_defaults(func=cmd_demo)
    z = sub.add_parser("teq-size", help="t_eq lambda^2 versus L: free fermions to L = 1000, exact XXZ (edge bath)")
    z.add_argument("--ff-sizes", dest="ff_sizes", default="8,16,32,64,128,256,512,1000",
                   help="free-fermion sizes, comma list ('' to skip; default 8,...,1000)")
    z.add_argument("--ff-models", dest="ff_models", default="xx,tfim",
                   help="xx (coupling x0) and/or tfim (coupling z0), comma list (default xx,tfim)")
    z.add_argument("--hz", type=float, default=0.3, help="XX field (default 0.3: no particle-hole pairing)")
    z.add_argument("--g", type=float, default=1.5, help="Ising transverse field (default 1.5: paramagnet)")
    z.add_argument("--sizes", default="6,8,10", help="XXZ sizes for the exact generator ('' to skip; default 6,8,10)")
    z.add_argument("--delta", type=float, default=0.5, help="XXZ anisotropy (default 0.5)")
    z.add_argument("--j2", type=float, default=0.3, help="next-nearest exchange of the chaotic chain (default 0.3)")
    z.add_argument("--coupling", default="z0", help="XXZ coupling as a Pauli sum (default z0: S^z = 0 sector)")
    z.add_argument("--bath", default="ohmic", choices=["ohmic", "drude"])
    z.add_argument("--beta", type=float, default=1.0)
    z.add_argument("--eta", type=float, default=1.0)
    z.add_argument("--cutoff", type=float, default=5.0)
    z.add_argument("--s", type=float, default=1.0, help="Ohmic exponent (default 1)")
    z.add_argument("--strength", type=float, default=0.1, help="lambda (t_eq lambda^2 does not depend on it)")
    z.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    z.set_defaults(func=cmd_teq_size)
    from .sweeps.cli import add_parser as _add_sweep_parser

    _add_sweep_parser(sub)  # davies-mb sweep run|status|plot
    o = sub.add_parser("otto", help="finite-time quantum Otto engine: limit cycle, efficiency, power (map)")
    o.add_argument("--medium", default="qubit", choices=["qubit", "chain"])
    o.add_argument("--L", type=int, default=3, help="chain medium: number of sites (default 3, at most 5)")
    o.add_argument("--theta", type=float, default=0.0, help="chain medium: rotation of h_cold (friction; default 0)")
    o.add_argument("--w-hot", dest="w_hot", type=float, default=2.0, help="hot frequency scale (default 2)")
    o.add_argument("--w-cold", dest="w_cold", type=float, default=1.0, help="cold frequency scale (default 1)")
    o.add_argument("--beta-hot", dest="beta_hot", type=float, default=0.5, help="default 0.5")
    o.add_argument("--beta-cold", dest="beta_cold", type=float, default=2.0, help="default 2")
    o.add_argument("--tau-hot", dest="tau_hot", type=float, default=1.0, help="hot stroke time (default 1)")
    o.add_argument("--tau-cold", dest="tau_cold", type=float, default=1.0, help="cold stroke time (default 1)")
    o.add_argument("--tau-switch", dest="tau_switch", type=float, default=0.0, help="time per switch (default 0)")
    o.add_argument("--eta", type=float, default=1.0, help="Ohmic bath coupling density (default 1)")
    o.add_argument("--cutoff", type=float, default=5.0, help="bath cutoff frequency (default 5)")
    o.add_argument("--strength", type=float, default=0.3, help="coupling lambda (default 0.3)")
    o.add_argument("--map", default=None, help="also a power map over stroke times 'lo:hi:n' (log-spaced)")
    o.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    o.set_defaults(func=cmd_otto)
    _add_tn_parsers(sub)
    return p


def main(argv=None) -> int:
    """Run one subcommand. Bad input, a computation that would not fit (MemoryError) and files that cannot be
    written (OSError) end with one line ``davies-mb <cmd>: error: ...`` on stderr and exit status 2."""
    parser = build_parser()
    a = parser.parse_args(argv)
    try:
        return a.func(a)
    except (ValueError, TypeError, MemoryError, OSError, RuntimeError) as e:
        msg = " ".join(str(e).split()) or type(e).__name__  # one line, whatever the message
        print(f"davies-mb {a.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
