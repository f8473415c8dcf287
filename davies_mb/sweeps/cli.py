"""``davies-mb sweep run|status|plot``: the sweep subcommands (wired into :mod:`davies_mb.cli`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["add_parser"]


def _parse_select(items) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--select {item!r} must look like dim=value, e.g. beta=1.0")
        k, v = item.split("=", 1)
        try:
            val = int(v) if v.strip().lstrip("-").isdigit() else float(v)
        except ValueError:
            val = v
        out[k.strip()] = val
    return out


def cmd_run(a) -> int:
    from . import load_sweep, plan, run

    sweep = load_sweep(Path(a.file))  # validated before anything starts
    store = a.store or str(Path("results") / Path(a.file).stem)
    if a.plan_only:
        print(plan(sweep, store, resume=not a.no_resume, retry_failed=a.retry_failed).summary())
        return 0
    rep = run(sweep, store, scheduler=a.scheduler, workers=a.workers, serial=a.serial,
              resume=not a.no_resume, retry_failed=a.retry_failed, progress=None if not a.quiet else False)
    print(rep)
    return 0 if rep.failed == 0 else 1


def cmd_status(a) -> int:
    from . import status

    st = status(a.store)
    if a.json:
        print(json.dumps(st.to_dict(), default=str))
    else:
        print(st)
    return 0


def cmd_plot(a) -> int:
    from . import load
    from .plot import heatmaps

    ds = load(a.store)
    dims = list(ds.dims)
    if len(dims) < 2:
        raise ValueError(f"a heat map needs two swept parameters; this store sweeps {dims}")
    x = a.x or dims[0]
    y = a.y or next(d for d in dims if d != x)
    quantities = a.quantity or [v for v in ds.data_vars if v != "status"][:2]
    out = Path(a.out) if a.out else Path(a.store) / f"heatmap_{y}_{x}.png"
    heatmaps(ds, quantities, x, y, select=_parse_select(a.select), log=a.log, path=out)
    print(f"wrote {out}")
    return 0


def add_parser(sub) -> None:
    """Add ``sweep`` with its three subcommands to the top-level subparsers."""
    s = sub.add_parser("sweep", help="parameter sweeps on dask.distributed: run, status, plot")
    ss = s.add_subparsers(dest="sweep_command", required=True)
    r = ss.add_parser("run", help="run (or resume) a sweep described by a TOML file")
    r.add_argument("file", help="the sweep description (TOML), e.g. studies/sweep_example.toml")
    r.add_argument("--store", default=None, help="store folder (default results/<name of the TOML>)")
    r.add_argument("--scheduler", default=None, help="address of a running dask scheduler (default: a LocalCluster)")
    r.add_argument("--workers", type=int, default=None, help="LocalCluster worker processes (default: one per core)")
    r.add_argument("--serial", action="store_true", help="compute in this process, without dask")
    r.add_argument("--resume", action="store_true", default=True,
                   help="skip points already in the store (the default when the store exists)")
    r.add_argument("--no-resume", action="store_true", help="recompute every point, overwriting the store's")
    r.add_argument("--retry-failed", action="store_true", help="compute again the points that failed before")
    r.add_argument("--plan", dest="plan_only", action="store_true", help="print the plan and stop")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_run)
    t = ss.add_parser("status", help="points total, done, failed (with their errors), missing")
    t.add_argument("store")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    t.set_defaults(func=cmd_status)
    p = ss.add_parser("plot", help="heat maps of quantities over two swept parameters")
    p.add_argument("store")
    p.add_argument("--x", default=None, help="swept parameter on the x axis (default: the first)")
    p.add_argument("--y", default=None, help="swept parameter on the y axis (default: the second)")
    p.add_argument("--quantity", action="append", default=None, help="quantity to plot (repeat for several)")
    p.add_argument("--select", action="append", default=None, help="fix another swept parameter: dim=value")
    p.add_argument("--log", action="store_true", help="log10 colour scale")
    p.add_argument("--out", default=None, help="PNG path (default STORE/heatmap_<y>_<x>.png)")
    p.set_defaults(func=cmd_plot)


if __name__ == "__main__":  # pragma: no cover
    from ..cli import main

    sys.exit(main(["sweep", *sys.argv[1:]]))
