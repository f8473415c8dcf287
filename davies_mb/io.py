"""Results on disk: JSON with the parameters and version that made them, written atomically."""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["save_json", "load_json", "provenance", "atomic_write", "check_writable_folder"]


def _file_mode() -> int:
    """Permissions of a new file as ``open()`` would give it: ``0o666`` less the process umask (0644 typically).

    ``tempfile.mkstemp`` creates files readable by the owner only (0600); a result file must not keep that.
    """
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def check_writable_folder(folder, option: str = "--out") -> Path:
    """Create ``folder`` if needed and check that files can be written there; raise before any work is done.

    Raises
    ------
    OSError
        When ``folder`` is an existing file, lies below a file, or is not writable; the message names
        ``option`` and the folder.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{option} {str(folder)!r} is an existing file, not a folder; "
                                 "give a folder for the results")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise type(e)(f"{option} {str(folder)!r}: cannot create the folder ({e.strerror or e})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"{option} {str(folder)!r}: the folder is not writable")
    return folder


def atomic_write(path, write) -> Path:
    """Write a file atomically: ``write(tmp_path)`` fills a temporary file in the same folder, which is then
    given normal permissions (0666 less the umask) and renamed onto ``path`` (``os.replace``), so that an
    interrupted run never leaves a half-written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp" + path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


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


def json_safe(o):
    """Nested data as strict-JSON values: arrays and numpy scalars as Python values, ``inf`` and ``-inf`` as the
    strings ``"inf"``/``"-inf"`` and NaN as ``null`` (Python's ``json`` would write ``Infinity``/``NaN``, which
    strict parsers reject). Used for what the command line prints."""
    if isinstance(o, dict):
        return {str(k): json_safe(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [json_safe(v) for v in o]
    if isinstance(o, np.ndarray) or isinstance(o, (np.generic, complex, set, frozenset)):
        return json_safe(_default(o)) if not isinstance(o, np.floating) else json_safe(float(o))
    if isinstance(o, float) and not np.isfinite(o):
        return None if np.isnan(o) else ("inf" if o > 0 else "-inf")
    return o


def save_json(path, data: dict, params: dict | None = None) -> Path:
    """Write ``{"params": ..., "provenance": ..., "data": ...}`` to ``path`` atomically.

    The file is written to a temporary name in the same folder and renamed (:func:`atomic_write`), so an
    interrupted run never leaves a half-written result; it gets normal permissions (0666 less the umask).
    """
    payload = {"params": params or {}, "provenance": provenance(), "data": data}
    text = json.dumps(payload, indent=1, default=_default)  # fails before anything is written

    def write(tmp):
        with open(tmp, "w") as f:
            f.write(text)

    return atomic_write(path, write)


def load_json(path) -> dict:
    """Read a result written by :func:`save_json`."""
    with open(path) as f:
        return json.load(f)
