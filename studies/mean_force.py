"""Study: the Hamiltonian of mean force to second order (issue 12, item 5).

Two-level system H_S = 0.6 sigma^z, coupling X = sigma^x + 0.5 sigma^z.

1. Two explicit modes (w = 1, 1.7; c = 1, 0.6; beta = 2), exact reduced state by ED (Fock space truncated at
   14 quanta): error of the second-order rho_MF (~ strength^4) and of the Gibbs state of H_S (~ strength^2).
2. Ohmic bath (eta 0.5, cutoff 3, beta 2): distance to rho_MF of the Davies stationary state (Gibbs of H_S)
   and of the long-time Redfield state with the Lamb shift (populations and coherences separately), and the
   effective splitting of H_MF, against the strength.

Run: ``python studies/mean_force.py``; writes results/mean_force/mean_force.json and mean_force.png.
"""

from __future__ import annotations

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


if __name__ == "__main__":
    main()
