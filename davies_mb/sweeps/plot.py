"""Heat maps of sweep quantities over two swept parameters (``davies-mb sweep plot``)."""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["heatmaps"]


def _select(ds, x, y, select: dict):
    """Fix every other swept dimension: to ``select[dim]`` where given, else to each of its values
    (one panel per combination)."""
    others = [d for d in ds.dims if d not in (x, y)]
    for d in select:
        if d not in ds.dims:
            raise ValueError(f"select: {d!r} is not a swept parameter of this store (they are {list(ds.dims)})")
    ds = ds.sel({d: v for d, v in select.items()})
    others = [d for d in others if d not in select]
    combos = list(itertools.product(*(ds[d].values.tolist() for d in others)))
    return ds, others, combos


def heatmaps(ds, quantities, x: str, y: str, *, select: dict | None = None, log: bool = False, path=None):
    """One heat map per quantity (rows) and per combination of the other swept parameters (columns).

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`davies_mb.sweeps.load`.
    quantities : list of str
    x, y : str
        Swept parameters on the axes.
    select : dict, optional
        Values of other swept parameters to fix (``{"beta": 1.0}``); the rest get one column per value.
    log : bool
        Colour scale on log10 of the values.
    path : str or Path, optional
        Save the figure there (PNG).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for d in (x, y):
        if d not in ds.dims:
            raise ValueError(f"{d!r} is not a swept parameter of this store; swept: {list(ds.dims)}")
    for q in quantities:
        if q not in ds.data_vars:
            raise ValueError(f"quantity {q!r} is not in this store; it has {[v for v in ds.data_vars]}")
    ds, others, combos = _select(ds, x, y, dict(select or {}))
    if len(combos) > 12:
        raise ValueError(f"{len(combos)} panels per quantity over {others}: fix some with --select dim=value")
    fig, axes = plt.subplots(len(quantities), len(combos), figsize=(3.6 * len(combos) + 0.6, 3.0 * len(quantities)),
                             squeeze=False, constrained_layout=True)
    for i, q in enumerate(quantities):
        for j, combo in enumerate(combos):
            sub = ds[q].sel(dict(zip(others, combo))).transpose(y, x)
            vals = np.asarray(sub.values, dtype=float)
            if log:
                with np.errstate(divide="ignore", invalid="ignore"):
                    vals = np.where(vals > 0, np.log10(vals), np.nan)
            ax = axes[i, j]
            xs, ys = [str(v) for v in ds[x].values], [str(v) for v in ds[y].values]
            im = ax.imshow(vals, origin="lower", aspect="auto", cmap="viridis")
            ax.set_xticks(range(len(xs)), xs, rotation=45)
            ax.set_yticks(range(len(ys)), ys)
            ax.set_xlabel(x)
            ax.set_ylabel(y)
            finite = vals[np.isfinite(vals)]
            mid = 0.5 * (finite.min() + finite.max()) if finite.size else 0.0
            for (r, c), v in np.ndenumerate(vals):
                if np.isfinite(v):  # dark text on the bright (yellow) end of viridis
                    ax.text(c, r, f"{v:.3g}", ha="center", va="center", fontsize=7, color="k" if v > mid else "w")
            title = ", ".join(f"{d}={v}" for d, v in zip(others, combo))
            ax.set_title(f"{'log10 ' if log else ''}{q}" + (f"\n{title}" if title else ""), fontsize=9)
            fig.colorbar(im, ax=ax, shrink=0.8)
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
