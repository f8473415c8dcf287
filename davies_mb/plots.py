"""Figures of the ergodicity study (matplotlib, imported only when a figure is drawn).

Each function draws one PNG and returns its path; the data are in the result objects, which are saved
beside the figures as JSON by the callers (CLI and studies).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_scan", "plot_two_step"]


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("figures need matplotlib: pip install 'davies-mb[plot]'") from e
    return plt


def _save(plt, fig, path) -> Path:
    fig.tight_layout()
    from .io import atomic_write

    try:  # atomically, with normal permissions, like the JSON results
        return atomic_write(Path(path), lambda tmp: fig.savefig(tmp, dpi=130))
    finally:
        plt.close(fig)


def plot_scan(scans, path, title: str = "") -> Path:
    r"""Log-log :math:`t_{eq}` versus :math:`\lambda` for one or several :class:`~davies_mb.ScanResult`.

    Each method is one marker series; the fitted power law is drawn as a line with its exponent in the legend.
    """
    plt = _pyplot()
    scans = scans if isinstance(scans, (list, tuple)) else [scans]
    fig, ax = plt.subplots(figsize=(6.0, 4.5))
    markers = {"gap": "o", "distance": "s"}
    for s in scans:
        tag = "" if len(scans) == 1 else f"{s.method}: "
        cols = {"gap": s.t_gap, "distance": s.t_distance}
        cols.update({f"fit:{k}": v for k, v in s.t_fit.items()})
        for key, t in cols.items():
            ok = np.isfinite(t)
            if not ok.any():
                continue
            f = s.fits[key]
            lab = f"{tag}{key}  (p = {f.exponent:.3f})"
            (line,) = ax.loglog(s.strengths[ok], t[ok], markers.get(key, "^"), mfc="none", label=lab)
            if np.isfinite(f.exponent):
                x = np.geomspace(s.strengths.min(), s.strengths.max(), 50)
                ax.loglog(x, f.prefactor * x**f.exponent, "-", color=line.get_color(), lw=0.8)
    ax.set_xlabel(r"coupling $\lambda$")
    ax.set_ylabel(r"$t_{eq}$")
    ax.set_title(title or r"bath-induced relaxation time, $t_{eq}\propto\lambda^{-2}$ (Davies)")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    return _save(plt, fig, path)


def plot_two_step(res, path, observable: str = "O", title: str = "") -> Path:
    r"""The two-step relaxation of :class:`~davies_mb.TwoStepResult`: dephasing, GGE plateau, then Gibbs."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 4.5))
    t = res.times
    pos = t > 0
    ax.semilogx(t[pos], res.isolated[pos], color="0.6", lw=1.0, label="isolated chain")
    for lam, y in zip(res.strengths, res.davies):
        ax.semilogx(t[pos], y[pos], lw=1.2, label=rf"bath $\lambda$ = {lam:.3g}")
    ax.axhline(res.de_value, ls="--", color="k", lw=0.8, label=f"diagonal ensemble (GGE) {res.de_value:.4f}")
    ax.axhline(res.gibbs_value, ls=":", color="r", lw=1.0, label=f"Gibbs {res.gibbs_value:.4f}")
    ax.axvline(res.t_dephasing_isolated, color="0.4", lw=0.6)
    for tb in res.t_bath:
        if np.isfinite(tb):
            ax.axvline(tb, color="0.8", lw=0.6)
    ax.set_xlabel("time t (1/J)")
    ax.set_ylabel(f"<{observable}>(t)")
    ax.set_title(title or r"two-step relaxation: dephasing ($t\sim 1/J$), then the bath ($t\sim\lambda^{-2}$)")
    ax.legend(fontsize=7, loc="best")
    ax.grid(True, which="both", alpha=0.3)
    return _save(plt, fig, path)
