"""Results on disk: JSON with the parameters and version that made them, written atomically."""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["save_json", "load_json", "provenance"]


def provenance() -> dict:
    """Version and environment stamp stored beside every result."""
    import quimb
    import scipy

    from . import __version__

    return {
        "davies_mb": __version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "quimb": quimb.__version__,
        "python": platform.python_version(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _default(o):
    if isinstance(o, np.ndarray):
        if np.iscomplexobj(o):
            return {"real": o.real.tolist(), "imag": o.imag.tolist()}
        return o.tolist()
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.complexfloating, complex)):
        return {"real": float(o.real), "imag": float(o.imag)}
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError(f"cannot store {type(o).__name__} in JSON")


def save_json(path, data: dict, params: dict | None = None) -> Path:
    """Write ``{"params": ..., "provenance": ..., "data": ...}`` to ``path`` atomically.

    The file is written to a temporary name in the same folder and renamed, so an interrupted run
    never leaves a half-written result.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"params": params or {}, "provenance": provenance(), "data": data}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=1, default=_default)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_json(path) -> dict:
    """Read a result written by :func:`save_json`."""
    with open(path) as f:
        return json.load(f)
