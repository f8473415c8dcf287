"""Study: Glauber dynamics from the Davies generator (issue 12, item 7).

Ising ring H = -J sum s^z_j s^z_{j+1} (J = 1, periodic), a bath on every site through s^x_j with the
Glauber rate function gamma(w) = alpha / (1 + exp(-beta w)) (a SpectralBath), alpha = 1, strength 0.5.

1. Uniform magnetization from the all-up state, L = 5, several beta: Davies against Glauber's
   exp(-alpha_G (1 - tanh 2 beta J) t).
2. One spin up, the others at infinite temperature, L = 5: <s^z_k>(t) for k = 0, 1, 2 against the ring modes,
   and the infinite-chain Bessel form exp(-alpha_G t) I_k(gamma_G alpha_G t) (finite-size effects late).
3. The degenerate spectrum: levels, degeneracies, size of the zero-frequency block (sum g^2) for L = 3..6.

Run: ``python studies/glauber.py``; writes results/glauber/glauber.json and glauber.png.
"""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.special import ive  # noqa: E402

import davies_mb as dm  # noqa: E402
from davies_mb.applications import glauber as gl  # noqa: E402
from davies_mb.io import save_json  # noqa: E402

OUT = Path("results/glauber")
JC, LAM, L = 1.0, 0.5, 5


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    Z = np.diag([1.0, -1.0])
    Zs = [dm.site_operator(Z, j, L) for j in range(L)]
    d = 2**L
    t = np.linspace(0, 30, 61)
    a = LAM**2
    uni = {}
    err = 0.0
    for beta in (0.1, 0.3, 0.6, 1.2):
        gen = gl.glauber_generator(L, JC, beta, strength=LAM)
        rho0 = np.zeros((d, d))
        rho0[0, 0] = 1.0
        m = gen.expect(Zs, rho0, t).mean(axis=0)
        ex = np.exp(-a * (1 - np.tanh(2 * beta * JC)) * t)
        err = max(err, float(np.max(np.abs(m - ex))))
        uni[beta] = (m, ex)
    beta = 0.6
    gen = gl.glauber_generator(L, JC, beta, strength=LAM)
    rho0 = np.kron(np.diag([1.0, 0.0]), np.eye(d // 2) / (d // 2))
    mloc = gen.expect(Zs, rho0, t)
    ring = gl.glauber_magnetization(np.eye(L)[0], t, J=JC, beta=beta, alpha_g=a).T
    g = np.tanh(2 * beta * JC)
    bessel = np.array([ive(k, g * a * t) * np.exp(-(1 - g) * a * t) for k in range(3)])
    err_loc = float(np.max(np.abs(mloc - ring)))
    stats = []
    for Ls in (3, 4, 5, 6):
        t0 = time.perf_counter()
        gs = gl.glauber_generator(Ls, JC, 0.5, strength=LAM)
        gap = gs.gap()
        deg = gs.spectrum.degeneracies
        stats.append(dict(L=Ls, levels=int(deg.size), degeneracies=deg.tolist(), w0_block=int(np.sum(deg**2)),
                          gap=float(gap), gap_glauber=float(a * (1 - np.tanh(1.0))),  # the uniform magnetization mode, q = 0
                          seconds=time.perf_counter() - t0))

    data = dict(t=t, uniform={str(b): dict(davies=m, glauber=e) for b, (m, e) in uni.items()}, max_err_uniform=err,
                local_davies=mloc, local_ring=ring, local_bessel_infinite=bessel, max_err_local=err_loc,
                spectra=stats)
    save_json(OUT / "glauber.json", data, params=dict(J=JC, strength=LAM, alpha=1.0, L=L))

    fig, ax = plt.subplots(1, 3, figsize=(14, 3.8))
    for b, (m, e) in uni.items():
        ax[0].semilogy(t, m, "o", ms=3, label=rf"$\beta = {b}$")
        ax[0].semilogy(t, e, "k-", lw=0.8)
    ax[0].set_xlabel("t")
    ax[0].set_ylabel("m(t)")
    ax[0].set_title(f"uniform decay, L = {L} (lines: Glauber)", fontsize=9)
    ax[0].legend(fontsize=8)
    for k in range(3):
        ax[1].plot(t, mloc[k], "o", ms=3, label=rf"$\langle\sigma^z_{k}\rangle$ Davies")
        ax[1].plot(t, ring[k], "k-", lw=0.8)
        ax[1].plot(t, bessel[k], "k:", lw=0.8)
    ax[1].set_xlabel("t")
    ax[1].set_title(r"one spin up, $\beta = 0.6$ (solid: ring, dotted: infinite chain)", fontsize=9)
    ax[1].legend(fontsize=8)
    Ls = [s["L"] for s in stats]
    ax[2].semilogy(Ls, [s["w0_block"] for s in stats], "o-", label=r"zero-frequency block $\sum_\epsilon g_\epsilon^2$")
    ax[2].semilogy(Ls, [2**x for x in Ls], "s--", label=r"$2^L$")
    ax[2].semilogy(Ls, [s["seconds"] for s in stats], "^-", label="seconds (build + gap)")
    ax[2].set_xlabel("L")
    ax[2].set_title("degenerate spectra", fontsize=9)
    ax[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "glauber.png", dpi=90)
    print(f"max |Davies - Glauber|: uniform {err:.2e}, local {err_loc:.2e}; spectra {stats}")


if __name__ == "__main__":
    main()
