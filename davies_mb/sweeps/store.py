r"""The sweep store: one JSON file per point, written atomically, keyed by the hash of its parameters.

Layout of a store folder::

    STORE/sweep.json             the validated description (axes, quantities, options) of the last run
    STORE/points/<key>.json      one finished point: params, provenance, status, values or error

``<key>`` is the SHA-256 of the point's canonical parameters and the package version
(:func:`davies_mb.sweeps.spec.point_key`), so a point is stored once whatever the order of the sweep, a
changed parameter or a new version is a new point, and two runs can never write the same point
differently. Each file is written to a temporary name in the same folder and renamed
(:func:`davies_mb.io.save_json`): a run killed with SIGKILL leaves whole files or none, and loses only
the points that were still being computed.

Why files and not xyzpy, zarr or NetCDF as the primary store: xyzpy's ``Harvester`` merges each batch
into one dataset on disk (a crash during the merge risks the whole file) and its ``Crop`` keys results by
position in a fixed grid, not by the parameters, so a changed grid silently mixes points; an appendable
zarr array must be sized in advance and a partially written chunk is not atomic. One small file per
point needs no locking and no fixed grid; :func:`load` assembles them into an ``xarray.Dataset``, which
then exports with ``to_netcdf`` or ``to_zarr``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from ..io import load_json, save_json
from .spec import Sweep, load_sweep

__all__ = ["Store", "SweepStatus", "load", "status"]


class Store:
    """A folder of per-point results (see the module docstring)."""

    def __init__(self, path):
        self.path = Path(path)
        self.points_dir = self.path / "points"

    def exists(self) -> bool:
        return (self.path / "sweep.json").is_file()

    def write_sweep(self, sweep: Sweep) -> None:
        save_json(self.path / "sweep.json", sweep.to_dict())
        self.points_dir.mkdir(parents=True, exist_ok=True)

    def read_sweep(self) -> Sweep:
        if not self.exists():
            raise ValueError(f"store {str(self.path)!r} holds no sweep (no sweep.json): run "
                             "`davies-mb sweep run FILE.toml --store DIR` first")
        data = load_json(self.path / "sweep.json")["data"]
        return load_sweep(data["source"] | {"name": data["name"]})

    def write_point(self, params: dict, record: dict) -> Path:
        """Write one point atomically (temporary file + rename)."""
        return save_json(self.points_dir / f"{record['key']}.json", record, params=params)

    def read_point(self, key: str) -> dict | None:
        p = self.points_dir / f"{key}.json"
        if not p.is_file():
            return None
        return load_json(p)

    def keys(self) -> set:
        """Keys of every stored point (temporary files of interrupted writes are ignored)."""
        if not self.points_dir.is_dir():
            return set()
        return {p.name[:-5] for p in self.points_dir.iterdir() if p.name.endswith(".json")}

    def statuses(self) -> dict:
        """``{key: "done" | "failed"}`` of every stored point."""
        out = {}
        for k in self.keys():
            rec = self.read_point(k)
            if rec is not None:
                out[k] = rec["data"]["status"]
        return out


@dataclasses.dataclass(frozen=True)
class SweepStatus:
    """Counts of a store against its sweep: ``total``, ``done``, ``failed`` (with errors), ``missing``."""

    total: int
    done: int
    failed: int
    missing: int
    errors: dict  # key -> message
    failed_coords: dict  # key -> coordinates

    def to_dict(self) -> dict:
        return {"total": self.total, "done": self.done, "failed": self.failed, "missing": self.missing,
                "errors": [{"key": k, "coords": self.failed_coords[k], "error": e} for k, e in self.errors.items()]}

    def __str__(self) -> str:
        lines = [f"total {self.total}, done {self.done}, failed {self.failed}, missing {self.missing}"]
        for k, e in self.errors.items():
            lines.append(f"  failed {self.failed_coords[k]}: {e}")
        return "\n".join(lines)


def status(store) -> SweepStatus:
    """Count the points of the store's sweep that are done, failed (with their errors) or missing."""
    st = Store(store)
    sweep = st.read_sweep()
    points = sweep.points()
    errors, coords = {}, {}
    done = failed = 0
    for p in points:
        rec = st.read_point(p.key)
        if rec is None:
            continue
        if rec["data"]["status"] == "done":
            done += 1
        else:
            failed += 1
            errors[p.key] = rec["data"]["error"]
            coords[p.key] = p.coords
    return SweepStatus(len(points), done, failed, len(points) - done - failed, errors, coords)


def load(store, *, include_failed: bool = False):
    """The store's results as an ``xarray.Dataset``: one dimension per swept parameter, NaN where missing.

    Parameters
    ----------
    store : str or Path
        The store folder of :func:`davies_mb.sweeps.run`.
    include_failed : bool
        Keep the values a failed point did compute (default: a failed point is all NaN).

    Returns
    -------
    xarray.Dataset
        One float variable per quantity, over the swept parameters (``sweep.dims``); a ``status``
        variable (0 missing, 1 done, 2 failed); fixed parameters, the quantities' meaning and the package
        version are attributes. Export with ``ds.to_netcdf(path)`` or ``ds.to_zarr(path)``.
    """
    try:
        import xarray as xr
    except ImportError as e:  # pragma: no cover
        raise ImportError("davies_mb.sweeps.load needs xarray: pip install 'davies-mb[dask]'") from e
    from .. import __version__

    st = Store(store)
    sweep = st.read_sweep()
    dims = sweep.dims
    shape = tuple(len(sweep.axes[d]) for d in dims)
    index = {d: {v: i for i, v in enumerate(sweep.axes[d])} for d in dims}
    data = {q: np.full(shape, np.nan) for q in sweep.quantities}
    stat = np.zeros(shape, dtype=np.int8)
    for p in sweep.points():
        rec = st.read_point(p.key)
        if rec is None:
            continue
        idx = tuple(index[d][p.coords[d]] for d in dims)
        ok = rec["data"]["status"] == "done"
        stat[idx] = 1 if ok else 2
        if ok or include_failed:
            for q, v in rec["data"]["values"].items():
                if q in data:
                    data[q][idx] = np.nan if v is None else v
    fixed = {k: (v[0] if k != "sector" else v[0]) for k, v in sweep.axes.items() if len(v) == 1}
    attrs = {"sweep": sweep.name, "family": sweep.family, "davies_mb_version": __version__,
             "couplings": json.dumps(sweep.couplings), "options": json.dumps(sweep.options),
             **{f"fixed_{k}": v for k, v in fixed.items()}}
    ds = xr.Dataset({q: (dims, a) for q, a in data.items()} | {"status": (dims, stat)},
                    coords={d: list(sweep.axes[d]) for d in dims}, attrs=attrs)
    from .spec import QUANTITIES

    for q in sweep.quantities:
        for pattern, meaning in QUANTITIES.items():
            stem = pattern.split("<")[0]
            if q == pattern or ("<" in pattern and q.startswith(stem)):
                ds[q].attrs["description"] = meaning
                break
    ds["status"].attrs["description"] = "0 missing, 1 done, 2 failed (see davies-mb sweep status)"
    return ds


def _cleanup_tmp(store: Store) -> int:
    """Remove temporary files left by writes that a kill interrupted; returns how many."""
    n = 0
    if store.points_dir.is_dir():
        for p in store.points_dir.iterdir():
            if p.name.endswith(".tmp"):
                os.unlink(p)
                n += 1
    return n
