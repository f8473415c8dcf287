"""Study: the two-level benchmark (issue 12, item 2).

H = w0 sigma^z / 2 coupled through sigma^x (+ a sigma^z part for pure dephasing) to an Ohmic bath and to a
structured SpectralBath (an Ohmic background plus a Lorentzian peak). Panels:

1. p_e(beta) from the Davies stationary state against 1/(exp(beta w0) + 1), beta from 1e-2 to 1e3;
2. relaxation of the Bloch vector from a pure state: Davies evolution against the closed-form Bloch
   equations with T1 and T2 from the bath;
3. 1/T1 against w0 for the structured bath (it follows J(w0) (1 + 2 n(w0))).

Run: ``python studies/two_level.py``; writes results/two_level/two_level.json and two_level.png.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import davies_mb as dm  # noqa: E402
from davies_mb.applications import two_level as tl  # noqa: E402
from davies_mb.io import save_json  # noqa: E402

OUT = Path("results/two_level")
W0, LAM = 1.0, 0.2


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    # 1. p_e(beta)
    betas = np.geomspace(1e-2, 1e3, 31)
    pe = []
    for b in betas:
        gen = tl.two_level_generator(W0, dm.OhmicBath(beta=float(b), eta=0.5, cutoff=5.0), "x", LAM)
        pe.append(float(gen.stationary_state(np.eye(2) / 2)[0, 0].real))
    pe = np.array(pe)
    exact = np.array([tl.excited_population(W0, float(b)) for b in betas])
    rel_err = np.abs(pe - exact) / np.maximum(exact, 1e-300)

    # 2. relaxation, coupling 0.8 sx + 0.3 sz at beta = 1
    A = 0.8 * dm.pauli("x") + 0.3 * dm.pauli("z")
    bath = dm.OhmicBath(beta=1.0, eta=0.5, cutoff=5.0)
    p = tl.bloch_parameters(W0, bath, A, LAM)
    theta = 2.2
    psi = np.array([np.cos(theta / 2), np.sin(theta / 2)])
    rho0 = np.outer(psi, psi)
    times = np.linspace(0, 4 * p.t1, 400)
    r_dav = tl.bloch_vector(tl.two_level_generator(W0, bath, A, LAM).evolve(rho0, times))
    r_bloch = p.bloch_vector(tl.bloch_vector(rho0), times)
    bloch_err = float(np.max(np.abs(r_dav - r_bloch)))

    # 3. structured bath
    def J(w):
        return 0.02 * w * np.exp(-w / 5.0) + 0.3 * w * 0.05**2 / ((w - 1.0) ** 2 + 0.05**2)

    sbath = dm.SpectralBath(J, 2.0, frequency_scale=0.05)
    w0s = np.linspace(0.5, 1.5, 201)
    inv_t1 = np.array([1 / tl.bloch_parameters(float(w), sbath, "x", LAM).t1 for w in w0s])

    data = dict(betas=betas, p_excited=pe, p_exact=exact, max_rel_err_pe=float(rel_err.max()),
                t1=p.t1, t2=p.t2, gamma_phi=p.gamma_phi, bloch_max_abs_err=bloch_err,
                structured_w0=w0s, structured_inv_t1=inv_t1)
    save_json(OUT / "two_level.json", data, params=dict(w0=W0, strength=LAM, eta=0.5, cutoff=5.0))

    fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
    ax[0].loglog(betas, exact, "k-", label=r"$1/(e^{\beta\omega_0}+1)$")
    ax[0].loglog(betas, pe, "o", ms=4, label="Davies stationary")
    ax[0].set_ylim(1e-300, 1)
    ax[0].set_xlabel(r"$\beta\omega_0$")
    ax[0].set_ylabel(r"$p_e$")
    ax[0].legend(fontsize=8)
    for k, lab in enumerate("xyz"):
        ax[1].plot(times / p.t1, r_dav[:, k], lw=2, alpha=0.5, label=f"Davies {lab}")
        ax[1].plot(times / p.t1, r_bloch[:, k], "k--", lw=0.8)
    ax[1].set_xlabel(r"$t/T_1$")
    ax[1].set_title(f"Bloch equations (dashed), T1 = {p.t1:.3g}, T2 = {p.t2:.3g}", fontsize=9)
    ax[1].legend(fontsize=8)
    ax[2].plot(w0s, inv_t1)
    ax[2].set_xlabel(r"$\omega_0$")
    ax[2].set_ylabel(r"$1/T_1$")
    ax[2].set_title("structured SpectralBath (peak at 1)", fontsize=9)
    fig.tight_layout()
    fig.savefig(OUT / "two_level.png", dpi=90)
    print(f"p_e max relative error {rel_err.max():.2e}; Bloch max abs error {bloch_err:.2e}; T1 {p.t1:.4g} T2 {p.t2:.4g}")


if __name__ == "__main__":
    main()
