"""Study: the Hamiltonian of mean force to second order (issue 12, item 5).

Two-level system H_S = 0.6 sigma^z, coupling X = sigma^x + 0.5 sigma^z.

1. Two explicit modes (w = 1, 1.7; c = 1, 0.6; beta = 2), exact reduced state by ED (Fock space truncated at
   14 quanta): error of the second-order rho_MF (~ strength^4) and of the Gibbs state of H_S (~ strength^2).
2. Ohmic bath (eta 0.5, cutoff 3, beta 2): distance to rho_MF of the Davies stationary state (Gibbs of H_S)
   and of the long-time Redfield state with the Lamb shift (populations and coherences separately), and the
   effective splitting of H_MF, against the strength.

3. Closed forms (Cresser and Anders, PRL 127, 250601 (2021)): H_S = (omega/2) sigma^z, omega = 1,
   X = cos(theta) sigma^z - sin(theta) sigma^x, theta = pi/3, one mode (w_b = 1.5, c = 1, beta = 2): the
   exact reduced state (ED, Fock space up to 4 (lambda/w_b)^2 + 12 lambda/w_b + 30 quanta) from weak to
   ultrastrong coupling, against the O(lambda^2) closed form and the ultrastrong limit
   exp(-beta sum_n P_n H_S P_n)/Z (and the "projected Gibbs state" sum_n P_n exp(-beta H_S) P_n / Z, which is
   not the limit).
4. Issue 15: trace distance of the ULE and Redfield stationary states (Lamb shift on and off) to the Gibbs
   state of H_S and to the second-order rho_MF, against lambda, for the qubit of item 2 and a three-site XXZ
   chain (Delta 0.5, J2 0.3, h_z 0.2, h_x 0.15; X = sigma^x_0 + 0.5 sigma^z_1), Ohmic bath as in item 2.

Run: ``python studies/mean_force.py`` (about a minute); writes results/mean_force/mean_force.json,
mean_force.png, mean_force_closed_forms.png, mean_force_orders.png (+ .json).
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import davies_mb as dm  # noqa: E402
from davies_mb.applications import mean_force as mf  # noqa: E402
from davies_mb.io import save_json  # noqa: E402

OUT = Path("results/mean_force")
H = 0.6 * np.diag([1.0, -1.0])
X = np.array([[0.5, 1.0], [1.0, -0.5]])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    modes = mf.DiscreteModes((1.0, 1.7), (1.0, 0.6), 2.0)
    lams = np.geomspace(0.01, 0.3, 10)
    err_mf, err_g = [], []
    for lam in lams:
        ex = mf.exact_reduced_state(H, X, modes, float(lam), n_max=14)
        r = mf.mean_force_state(H, X, modes, float(lam))
        err_mf.append(dm.trace_distance(r.rho, ex))
        err_g.append(dm.trace_distance(r.gibbs, ex))
    bath = dm.OhmicBath(beta=2.0, eta=0.5, cutoff=3.0)
    spec = dm.diagonalize(H)
    lams2 = np.geomspace(0.01, 0.3, 10)
    dav, pop, coh, split = [], [], [], []
    for lam in lams2:
        r = mf.mean_force_state(H, X, bath, float(lam))
        red = dm.RedfieldGenerator(spec, [X], bath, strength=float(lam), lamb_shift=True).stationary_state()
        dav.append(dm.trace_distance(r.gibbs, r.rho))
        pop.append(abs(red[0, 0] - r.rho[0, 0]))
        coh.append(abs(red[0, 1] - r.rho[0, 1]))
        split.append(float(np.ptp(np.linalg.eigvalsh(r.h_mf))))
    slope = lambda y, x: float(np.polyfit(np.log(x[:5]), np.log(np.asarray(y)[:5]), 1)[0])  # noqa: E731
    data = dict(lams=lams, err_mean_force=err_mf, err_gibbs=err_g, lams_ohmic=lams2, davies_distance=dav,
                redfield_population_error=pop, redfield_coherence_error=coh, hmf_splitting=split,
                slopes=dict(mean_force=slope(err_mf, lams), gibbs=slope(err_g, lams), davies=slope(dav, lams2),
                            redfield_populations=slope(pop, lams2), redfield_coherences=slope(coh, lams2)))
    save_json(OUT / "mean_force.json", data, params=dict(H="0.6 sz", X="sx + 0.5 sz", beta=2.0, eta=0.5, cutoff=3.0))

    fig, ax = plt.subplots(1, 3, figsize=(14, 3.8))
    ax[0].loglog(lams, err_mf, "o-", label=r"second-order $\rho_{MF}$")
    ax[0].loglog(lams, err_g, "s-", label=r"$e^{-\beta H_S}/Z$ (Davies)")
    ax[0].loglog(lams, 2 * lams**4, "k:", lw=0.8, label=r"$\propto\lambda^4$")
    ax[0].loglog(lams, 0.4 * lams**2, "k--", lw=0.8, label=r"$\propto\lambda^2$")
    ax[0].set_xlabel(r"$\lambda$")
    ax[0].set_ylabel("trace distance to exact (ED)")
    ax[0].set_title("two explicit modes", fontsize=9)
    ax[0].legend(fontsize=8)
    ax[1].loglog(lams2, dav, "s-", label="Davies (Gibbs of $H_S$)")
    ax[1].loglog(lams2, pop, "o-", label="Redfield + Lamb shift: populations")
    ax[1].loglog(lams2, coh, "^-", label="Redfield + Lamb shift: coherence")
    ax[1].set_xlabel(r"$\lambda$")
    ax[1].set_ylabel(r"distance to $\rho_{MF}$")
    ax[1].set_title("Ohmic bath", fontsize=9)
    ax[1].legend(fontsize=8)
    ax[2].semilogx(lams2, split, "o-")
    ax[2].axhline(1.2, color="k", lw=0.8)
    ax[2].set_xlabel(r"$\lambda$")
    ax[2].set_ylabel(r"level splitting of $H_{MF}$")
    ax[2].set_title(r"$H_{MF}$ (line: bare splitting 1.2)", fontsize=9)
    fig.tight_layout()
    fig.savefig(OUT / "mean_force.png", dpi=90)
    print(data["slopes"])
    closed_forms()
    orders()


def _bloch(rho) -> tuple[float, float]:
    return float(2.0 * np.real(rho[0, 1])), float(np.real(rho[0, 0] - rho[1, 1]))


def closed_forms() -> None:
    """Item 3: ED from weak to ultrastrong coupling against the two closed-form limits."""
    omega, theta, beta, wb = 1.0, np.pi / 3, 2.0, 1.5
    sz, sx = np.diag([1.0, -1.0]), np.array([[0.0, 1.0], [1.0, 0.0]])
    H, X = 0.5 * omega * sz, np.cos(theta) * sz - np.sin(theta) * sx
    modes = mf.DiscreteModes((wb,), (1.0,), beta)
    lams = np.geomspace(0.05, 6.0, 24)
    ex, weak, conv = [], [], []
    for lam in lams:
        n_max = int(4 * (lam / wb) ** 2 + 12 * lam / wb + 30)
        r = mf.exact_reduced_state(H, X, modes, float(lam), n_max=n_max)
        ex.append(r)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the weak form is plotted far beyond its range on purpose
            weak.append(dm.applications.spin_boson_mean_force(omega, theta, modes, float(lam)).rho)
    # Fock truncation check at the largest coupling
    n_max = int(4 * (lams[-1] / wb) ** 2 + 12 * lams[-1] / wb + 30)
    conv = float(np.max(np.abs(ex[-1] - mf.exact_reduced_state(H, X, modes, float(lams[-1]), n_max=n_max + 30))))
    us = dm.applications.spin_boson_mean_force(omega, theta, modes, limit="ultrastrong")
    x, U = np.linalg.eigh(X)
    e, V = np.linalg.eigh(H)
    G = (V * np.exp(-beta * e)) @ V.T
    proj = sum(np.outer(U[:, k], U[:, k]) * (U[:, k] @ G @ U[:, k]) for k in range(2))
    proj = proj / np.trace(proj)
    d_weak = [dm.trace_distance(a, b) for a, b in zip(ex, weak)]
    d_us = [dm.trace_distance(a, us.rho) for a in ex]
    d_proj = [dm.trace_distance(a, proj) for a in ex]
    gib = -np.tanh(beta * omega / 2)
    data = dict(lams=lams, exact_bloch=[_bloch(r) for r in ex], weak_bloch=[_bloch(r) for r in weak],
                ultrastrong_bloch=us.bloch, projected_gibbs_bloch=_bloch(proj), gibbs_rz=gib,
                distance_to_weak=d_weak, distance_to_ultrastrong=d_us, distance_to_projected_gibbs=d_proj,
                truncation_error_at_largest_lambda=conv,
                weak_integrals=dataclasses.asdict(dm.applications.spin_boson_integrals(omega, modes)))
    save_json(OUT / "mean_force_closed_forms.json", data,
              params=dict(omega=omega, theta=theta, beta=beta, mode_frequency=wb, mode_coupling=1.0))
    exb, wkb = np.array(data["exact_bloch"]), np.array(data["weak_bloch"])
    fig, ax = plt.subplots(1, 3, figsize=(14, 3.8))
    for k, (lab, i_us) in enumerate(((r"$r_x$ (coherence)", 0), (r"$r_z$ (population)", 2))):
        ax[k].semilogx(lams, exb[:, k], "ko", ms=4, label="exact (ED)")
        ok = np.abs(wkb[:, k] - exb[:, k]) < 0.3
        ax[k].semilogx(lams[ok], wkb[ok, k], "C0-", label=r"weak: $O(\lambda^2)$ closed form")
        ax[k].axhline(us.bloch[i_us], color="C3", label=r"ultrastrong: $e^{-\beta\sum_n P_nH_SP_n}/Z$")
        ax[k].axhline(_bloch(proj)[k], color="C2", ls="--", lw=0.9, label=r"$\sum_n P_ne^{-\beta H_S}P_n/Z$")
        ax[k].axhline(0.0 if k == 0 else gib, color="gray", ls=":", lw=0.9, label="Gibbs of $H_S$")
        ax[k].set_xlabel(r"$\lambda$")
        ax[k].set_ylabel(lab)
    ax[0].legend(fontsize=7)
    ax[0].set_title(r"qubit + one mode, $\theta=\pi/3$, $\beta\omega=2$", fontsize=9)
    ax[2].loglog(lams, d_weak, "C0o-", ms=3, label="to weak closed form")
    ax[2].loglog(lams, d_us, "C3s-", ms=3, label="to ultrastrong limit")
    ax[2].loglog(lams, d_proj, "C2^--", ms=3, label=r"to $\sum_n P_ne^{-\beta H_S}P_n/Z$")
    ax[2].loglog(lams[lams > 2], 0.1 / lams[lams > 2] ** 2, "k:", lw=0.8, label=r"$\propto\lambda^{-2}$")
    ax[2].loglog(lams[lams < 0.5], 0.1 * lams[lams < 0.5] ** 4, "k--", lw=0.8, label=r"$\propto\lambda^{4}$")
    ax[2].set_xlabel(r"$\lambda$")
    ax[2].set_ylabel("trace distance of the exact state")
    ax[2].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(OUT / "mean_force_closed_forms.png", dpi=90)
    print("closed forms: distance to ultrastrong at lambda = 6:", d_us[-1], "truncation", conv)


def _chain():
    L = 3
    H = dm.xxz(L, 0.5, j2=0.3, hz=0.2, hx=0.15).hamiltonian(sparse=False)
    H = np.asarray(H.toarray() if hasattr(H, "toarray") else H)
    X = (dm.site_operator(dm.pauli("x"), 0, L) + 0.5 * dm.site_operator(dm.pauli("z"), 1, L)).toarray()
    return H, X


def orders() -> None:
    """Item 4 (issue 15): at which order the ULE / Redfield stationary states leave Gibbs and rho_MF."""
    bath = dm.OhmicBath(beta=2.0, eta=0.5, cutoff=3.0)
    lams = np.geomspace(0.01, 0.3, 8)
    systems = {"qubit": (H, X), "chain L=3": _chain()}
    data = dict(lams=lams)
    fig, ax = plt.subplots(2, 2, figsize=(11, 7.5))
    for col, (name, (Hs, Xs)) in enumerate(systems.items()):
        spec = dm.diagonalize(Hs)
        U = np.linalg.eigh(Hs)[1]

        def coh(rho):
            r = U.conj().T @ rho @ U
            return r - np.diag(np.diag(r))

        curves = {}
        for lam in lams:
            m = mf.mean_force_state(Hs, Xs, bath, float(lam))
            for gname, cls in (("ULE", dm.ULEGenerator), ("Redfield", dm.RedfieldGenerator)):
                for ls in (False, True):
                    rho = cls(spec, [Xs], bath, strength=float(lam), lamb_shift=ls).stationary_state()
                    key = f"{gname}{' + Lamb shift' if ls else ''}"
                    c = curves.setdefault(key, {"gibbs": [], "mf": [], "mf_coherence": []})
                    c["gibbs"].append(dm.trace_distance(rho, m.gibbs))
                    c["mf"].append(dm.trace_distance(rho, m.rho))
                    c["mf_coherence"].append(float(np.max(np.abs(coh(rho) - coh(m.rho)))))
            c = curves.setdefault("Davies (Gibbs of H_S)", {"mf": [], "mf_coherence": []})
            c["mf"].append(dm.trace_distance(m.gibbs, m.rho))
            c["mf_coherence"].append(float(np.max(np.abs(coh(m.rho)))))
        slopes = {k: {q: float(np.polyfit(np.log(lams[:4]), np.log(np.maximum(v, 1e-300)[:4]), 1)[0])
                      for q, v in c.items()} for k, c in curves.items()}
        data[name] = dict(curves=curves, slopes_small_lambda=slopes)
        style = {"ULE": "C0o-", "ULE + Lamb shift": "C1s-", "Redfield": "C2^-", "Redfield + Lamb shift": "C3v-",
                 "Davies (Gibbs of H_S)": "k-"}
        for key, c in curves.items():
            ax[0, col].loglog(lams, c["mf"], style[key], ms=4, label=f"{key}")
            ax[1, col].loglog(lams, c["mf_coherence"], style[key], ms=4, label=f"{key}")
        for key in ("ULE", "ULE + Lamb shift"):
            ax[0, col].loglog(lams, curves[key]["gibbs"], style[key][:2] + ":", lw=1.2,
                              label=f"{key}: distance to Gibbs")
        ax[0, col].set_ylabel(r"trace distance to $\rho_{MF}$")
        ax[1, col].set_ylabel(r"coherences (eigenbasis of $H_S$): max $|\rho - \rho_{MF}|$")
        ax[1, col].loglog(lams, 0.3 * lams**4, "k--", lw=0.8, label=r"$\propto\lambda^4$")
        ax[0, col].set_title(f"{name}, Ohmic bath", fontsize=9)
        for a in ax[:, col]:
            a.set_xlabel(r"$\lambda$")
            a.legend(fontsize=6.5)
        print(name, {k: {q: round(x, 2) for q, x in v.items()} for k, v in slopes.items()})
    save_json(OUT / "mean_force_orders.json", data, params=dict(beta=2.0, eta=0.5, cutoff=3.0,
                                                               chain="xxz L=3 delta 0.5 j2 0.3 hz 0.2 hx 0.15"))
    fig.tight_layout()
    fig.savefig(OUT / "mean_force_orders.png", dpi=80)


if __name__ == "__main__":
    main()
