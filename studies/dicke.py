"""Study: Dicke cooperative thermalization and superradiance (issue 12, item 4).

H = w0 J_z, A = 2 J_x, one Ohmic bath (eta 1, cutoff 5), strength 0.1, w0 = 1.

1. Superradiant bursts from the fully excited state at beta = inf (Gamma_0 = 1), N = 1 ... 1000:
   intensity / N^2 against N t / ln N; peak time and peak intensity against N (mean field: ln N / N, N^2/4).
2. Cooperative thermalization: the gap of the J = N/2 block over the single-atom rate 1/T1, against N,
   at beta w0 = 0.1, 0.5, 2 (N independent atoms, each with its own bath: 1 for every N).
3. Restricted equilibrium, N = 4 in the full 2^4 space (DaviesGenerator): <J_z>(t) from |e g g g> relaxes
   to the J^2-restricted value, not to the Gibbs value; from |e e e e> to the Gibbs value of the J = 2 block.

Run: ``python studies/dicke.py``; writes results/dicke/dicke.json and dicke.png.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import davies_mb as dm  # noqa: E402
from davies_mb.applications import dicke as dk  # noqa: E402
from davies_mb.io import save_json  # noqa: E402

OUT = Path("results/dicke")
LAM, W0 = 0.1, 1.0


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    Ns = np.array([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000])
    bursts = {int(N): dk.superradiance(int(N), np.inf) for N in Ns}
    peak_t = np.array([bursts[int(N)].peak_time for N in Ns])
    peak_i = np.array([bursts[int(N)].peak_intensity for N in Ns])

    gaps = {}
    Ng = np.unique(np.geomspace(1, 1000, 25).astype(int))
    for bw in (0.1, 0.5, 2.0):
        bath = dm.OhmicBath(beta=bw / W0, eta=1.0, cutoff=5.0)
        g1 = dk.collective_gap(1, W0, bath, LAM)
        gaps[bw] = np.array([dk.collective_gap(int(N), W0, bath, LAM) / g1 for N in Ng])

    N = 4
    beta = 1.0
    bath = dm.OhmicBath(beta=beta, eta=1.0, cutoff=5.0)
    Jz, A = dk.full_space_operators(N)
    gen = dm.DaviesGenerator(dm.diagonalize(W0 * Jz), [A], bath, strength=LAM)
    t = np.linspace(0, 60, 200)
    traj = {}
    for name, bits in (("eggg", "0111"), ("eeee", "0000")):
        psi = np.zeros(2**N)
        psi[int(bits, 2)] = 1.0
        traj[name] = gen.expect([Jz], np.outer(psi, psi), t)[0]
    gibbs_jz = float(np.trace(Jz @ dm.diagonalize(W0 * Jz).gibbs(beta)).real)

    data = dict(Ns=Ns, peak_time=peak_t, peak_intensity=peak_i, gap_N=Ng,
                gap_ratio={str(k): v for k, v in gaps.items()}, kernel_dimension_N4=gen.kernel_dimension(),
                t=t, jz_eggg=traj["eggg"], jz_eeee=traj["eeee"], gibbs_jz=gibbs_jz)
    save_json(OUT / "dicke.json", data, params=dict(w0=W0, strength=LAM, eta=1.0, cutoff=5.0))

    fig, ax = plt.subplots(1, 4, figsize=(17, 3.8))
    for Nn in (1, 10, 100, 1000):
        r = bursts[Nn]
        x = r.times * Nn / max(np.log(Nn), 1.0)
        ax[0].plot(x, r.intensity / Nn**2, label=f"N = {Nn}")
    ax[0].set_xlabel(r"$N\Gamma_0 t / \ln N$")
    ax[0].set_ylabel(r"$I / N^2$")
    ax[0].set_xlim(0, 4)
    ax[0].legend(fontsize=8)
    ax[0].set_title(r"superradiant bursts, $\beta = \infty$", fontsize=9)
    ax[1].loglog(Ns, peak_i, "o-", label="peak intensity")
    ax[1].loglog(Ns, Ns**2 / 4.0, "k--", lw=0.8, label=r"$N^2/4$")
    pos = peak_t > 0  # N <= 2 emit most at t = 0 (no burst)
    ax[1].loglog(Ns[pos], peak_t[pos] * 1e4, "s-", label=r"peak time $\times 10^4$")
    ax[1].loglog(Ns[1:], np.log(Ns[1:]) / Ns[1:] * 1e4, "k:", lw=0.8, label=r"$10^4\ln N / N$")
    ax[1].set_xlabel("N")
    ax[1].legend(fontsize=7)
    for bw, g in gaps.items():
        ax[2].loglog(Ng, g, "o-", ms=3, label=rf"$\beta\omega_0 = {bw:g}$")
    ax[2].loglog(Ng, Ng, "k--", lw=0.8, label="N")
    ax[2].axhline(1.0, color="gray", lw=0.8, label="independent atoms")
    ax[2].set_xlabel("N")
    ax[2].set_ylabel(r"gap / $(1/T_1)$")
    ax[2].legend(fontsize=7)
    ax[2].set_title("cooperative thermalization", fontsize=9)
    ax[3].plot(t, traj["eggg"], label=r"from $|eggg\rangle$")
    ax[3].plot(t, traj["eeee"], label=r"from $|eeee\rangle$")
    ax[3].axhline(gibbs_jz, color="k", lw=0.8, label="Gibbs (full space)")
    ax[3].set_xlabel("t")
    ax[3].set_ylabel(r"$\langle J_z\rangle$")
    ax[3].set_title(rf"N = 4, $\beta = 1$: restricted equilibrium ({gen.kernel_dimension()} stationary states)",
                    fontsize=8)
    ax[3].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(OUT / "dicke.png", dpi=90)
    print(f"peak intensity / (N^2/4) at N = 1000: {peak_i[-1] / 250000:.3f}; peak time * N / ln N: "
          f"{peak_t[-1] * 1000 / np.log(1000):.3f}; gap ratio at N = 1000, beta w0 = 2: {gaps[2.0][-1]:.1f}")


if __name__ == "__main__":
    main()
