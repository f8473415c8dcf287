r"""The sweep description: a TOML file or the same structure as a Python dict, validated on load.

A description names the chain family and its parameter grids, the couplings, the bath, the strengths and
the quantities wanted per point. Every value may be a scalar, a list, or a grid string:

``"lo:hi:n"``
    ``n`` points evenly spaced from ``lo`` to ``hi`` (``numpy.linspace``).
``"lo:hi:n:log"``
    ``n`` points log-spaced from ``lo`` to ``hi`` (``numpy.geomspace``; ``lo, hi > 0``).

Example (``studies/sweep_example.toml``)::

    name = "sweep_example"
    strength = [0.01, 0.1]
    quantities = ["gap", "gap_lambda2", "kernel_dim", "t_eq_distance", "distance_to_gibbs"]

    [model]
    family = "xxz"          # xxz, xx, heisenberg or tfim
    L = [6, 8]
    bc = "open"
    delta = [0.5, 1.0]
    j2 = [0.0, 0.3]

    [couplings]             # name = Pauli sum (sigma, not S), or a list of them (independent baths)
    edge = "x0+z1"

    [bath]
    kind = "ohmic"          # ohmic or drude
    beta = 1.0
    eta = 1.0
    cutoff = 5.0

Every parameter with more than one value is a dimension of the sweep (and of the ``xarray.Dataset`` that
:func:`davies_mb.sweeps.load` returns); single values are fixed and kept as attributes.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import itertools
import json
import numbers
import re
from pathlib import Path

import numpy as np

__all__ = ["Sweep", "Point", "QUANTITIES", "CONSERVED_ALIASES", "parse_grid", "load_sweep"]

# model parameters of each family (the keyword arguments of dm.xxz, dm.xx, dm.heisenberg, dm.tfim)
_XXZ = ("delta", "j", "j2", "delta2", "hz", "hx", "staggered", "disorder", "seed")
MODEL_PARAMS = {
    "xxz": _XXZ,
    "xx": tuple(p for p in _XXZ if p != "delta"),
    "heisenberg": tuple(p for p in _XXZ if p != "delta"),
    "tfim": ("g", "j", "h"),
}
_INT_PARAMS = {"L", "seed"}
_BATH_PARAMS = {"ohmic": ("beta", "eta", "cutoff", "s"), "drude": ("beta", "eta", "cutoff")}
_BATH_DEFAULTS = {"eta": 1.0, "cutoff": 5.0, "s": 1.0}
_TOP_KEYS = ("name", "model", "couplings", "bath", "strength", "quantities", "options")
_OPTIONS = {"initial": "neel", "epsilon": 1e-3, "n_times": 200, "t_max_factor": 30.0, "discard": 0.1,
            "lamb_shift": False}

#: Conserved quantities that ``conserved_<alias>`` asks about (names of :func:`davies_mb.conserved.known_charges`).
CONSERVED_ALIASES = {
    "sz": "total S^z",
    "s2": "total S^2",
    "flip": "spin flip prod sigma^x",
    "zparity": "prod sigma^z (fermion parity)",
    "parity": "reflection j -> L-1-j",
}
_TEQ_METHODS = ("gap", "distance", "fit_energy", "fit_sz")

#: Quantities per point and what they are (``<m>`` is one of gap, distance, fit_energy, fit_sz).
QUANTITIES = {
    "dim": "dimension of the diagonalized space (2^L or the sector's)",
    "r_mean": "<r>, mean level-spacing ratio pooled over the fully resolved sectors at S^z = 0 (1/2 for odd L)",
    "gap": "Davies gap Delta at the point's lambda",
    "gap_lambda2": "Delta / lambda^2 (lambda-independent inside Davies)",
    "kernel_dim": "number of independent stationary states",
    "distance_to_gibbs": "trace distance of the final state (from options.initial) to the Gibbs state",
    "t_eq_<m>": "t_eq by method m (teq_scan): gap = 1/Delta, distance = trace distance < epsilon, "
                "fit_energy / fit_sz = exponential tail of <H> / <S^z>",
    "t_eq_lambda2_<m>": "t_eq lambda^2 (the prefactor c of t_eq = c / lambda^2)",
    "exponent_<m>": "power-law exponent p of t_eq ~ lambda^p fitted over the sweep's strengths",
    "conserved_<q>": "1 if the bath leaves q conserved, else 0; q in " + ", ".join(CONSERVED_ALIASES),
}


def _quantity_names() -> list:
    names = ["dim", "r_mean", "gap", "gap_lambda2", "kernel_dim", "distance_to_gibbs"]
    for m in _TEQ_METHODS:
        names += [f"t_eq_{m}", f"t_eq_lambda2_{m}", f"exponent_{m}"]
    names += [f"conserved_{a}" for a in CONSERVED_ALIASES]
    return names


VALID_QUANTITIES = tuple(_quantity_names())


def _unknown(where: str, key, valid) -> ValueError:
    close = difflib.get_close_matches(str(key), [str(v) for v in valid], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ValueError(f"sweep key {where!r}: unknown name {key!r}{hint}; valid: {', '.join(map(str, valid))}")


def _canon_float(x) -> float:
    """A float with 12 significant digits, so grids like 0:0.3:4 give 0.1, not 0.30000000000000004."""
    return float(f"{float(x):.12g}")


def parse_grid(key: str, value, *, integer: bool = False, positive: bool = False) -> list:
    """The values of one swept parameter: a scalar, a list, ``"lo:hi:n"`` (linear) or ``"lo:hi:n:log"``.

    Raises ValueError naming ``key`` on malformed input.
    """
    if isinstance(value, str) and ":" in value:
        parts = value.split(":")
        scale = "lin"
        if len(parts) == 4 and parts[3].strip() in ("log", "lin"):
            scale = parts.pop().strip()
        try:
            if len(parts) != 3:
                raise ValueError
            lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise ValueError(f"sweep key {key!r}: grid {value!r} must look like 'lo:hi:n' (linear) or "
                             "'lo:hi:n:log' (log-spaced), e.g. '0.5:1.5:3'") from None
        if n < 1:
            raise ValueError(f"sweep key {key!r}: grid {value!r} needs n >= 1 points")
        if scale == "log":
            if lo <= 0 or hi <= 0:
                raise ValueError(f"sweep key {key!r}: log grid {value!r} needs lo, hi > 0")
            vals = np.geomspace(lo, hi, n)
        else:
            vals = np.linspace(lo, hi, n)
        values = list(vals)
    elif isinstance(value, (list, tuple)):
        values = list(value)
    else:
        values = [value]
    if not values:
        raise ValueError(f"sweep key {key!r}: empty list; give at least one value")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"sweep key {key!r}: values must be numbers, got {v!r} ({type(v).__name__})")
        if not np.isfinite(v):
            raise ValueError(f"sweep key {key!r}: values must be finite, got {v!r}")
        if integer:
            if float(v) != int(v):
                raise ValueError(f"sweep key {key!r}: values must be integers, got {v!r}")
            out.append(int(v))
        else:
            out.append(_canon_float(v))
        if positive and out[-1] <= 0:
            raise ValueError(f"sweep key {key!r}: values must be > 0, got {v!r}")
    if len(set(out)) != len(out):
        raise ValueError(f"sweep key {key!r}: repeated values in {out}")
    return out


def _as_list_of_str(key, value) -> list:
    vals = value if isinstance(value, (list, tuple)) else [value]
    if not vals or not all(isinstance(v, str) and v.strip() for v in vals):
        raise TypeError(f"sweep key {key!r}: expected a string or a list of strings, got {value!r}")
    if len(set(vals)) != len(vals):
        raise ValueError(f"sweep key {key!r}: repeated values in {vals}")
    return [v.strip() for v in vals]


def _sector_label(sector) -> str:
    if not sector:
        return "full"
    return ",".join(f"{k}={sector[k]:g}" for k in ("sz", "k", "parity", "flip") if k in sector)


def _parse_sectors(value) -> list:
    """``sector``: absent/empty (full space), a table ``{sz = 0}`` or a list of tables."""
    items = value if isinstance(value, list) else [value]
    out = []
    for s in items:
        if s is None or s == {} or s == "full":
            out.append(None)
            continue
        if not isinstance(s, dict):
            raise TypeError(f"sweep key 'model.sector': expected a table like {{sz = 0}} or a list of them, got {s!r}")
        for k, v in s.items():
            if k not in ("sz", "k", "parity", "flip"):
                raise _unknown("model.sector", k, ("sz", "k", "parity", "flip"))
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"sweep key 'model.sector.{k}': expected a number, got {v!r}")
        out.append({k: (int(v) if float(v) == int(v) else float(v)) for k, v in s.items()})
    return out


def _check_quantity(q):
    if not isinstance(q, str):
        raise TypeError(f"sweep key 'quantities': expected names (strings), got {q!r}")
    if q not in VALID_QUANTITIES:
        raise _unknown("quantities", q, VALID_QUANTITIES)
    return q


@dataclasses.dataclass(frozen=True)
class Point:
    """One point of a sweep: its coordinates, its canonical parameters and its key (hash)."""

    key: str
    coords: dict
    params: dict


@dataclasses.dataclass(frozen=True)
class Sweep:
    """A validated sweep description (from :func:`load_sweep`).

    Attributes
    ----------
    name : str
    family : str
        ``"xxz"``, ``"xx"``, ``"heisenberg"`` or ``"tfim"``.
    axes : dict name -> list
        The values of every parameter, in a fixed order: model parameters (as written), ``L``, ``bc``,
        ``sector``, ``coupling``, the bath parameters, ``strength``. ``sector`` values are labels
        (``"full"``, ``"sz=0"``), ``coupling`` values are the names of ``couplings``.
    couplings : dict name -> list of str
        Pauli sums of each named coupling (one bath per entry).
    bath_kind : str
    sectors : dict label -> dict or None
    quantities : tuple of str
    options : dict
        ``initial``, ``epsilon``, ``n_times``, ``t_max_factor``, ``discard``, ``lamb_shift``.
    source : dict
        The description as given (stored beside the results).
    """

    name: str
    family: str
    axes: dict
    couplings: dict
    bath_kind: str
    sectors: dict
    quantities: tuple
    options: dict
    source: dict

    @property
    def dims(self) -> list:
        """The swept parameters (more than one value), in axis order."""
        return [k for k, v in self.axes.items() if len(v) > 1]

    @property
    def n_points(self) -> int:
        return int(np.prod([len(v) for v in self.axes.values()]))

    @property
    def model_params(self) -> list:
        return [k for k in self.axes if k in MODEL_PARAMS[self.family]]

    @property
    def bath_params(self) -> list:
        return [k for k in self.axes if k in _BATH_PARAMS[self.bath_kind]]

    def points(self, version: str | None = None) -> list:
        """Every point, with its canonical parameters and key (hash of the parameters and ``version``)."""
        if version is None:
            from .. import __version__ as version
        names = list(self.axes)
        out = []
        for combo in itertools.product(*(self.axes[n] for n in names)):
            coords = dict(zip(names, combo))
            params = {
                "family": self.family,
                "model": {k: coords[k] for k in self.model_params},
                "L": coords["L"], "bc": coords["bc"], "sector": self.sectors[coords["sector"]],
                "coupling": coords["coupling"], "coupling_ops": self.couplings[coords["coupling"]],
                "bath": {"kind": self.bath_kind, **{k: coords[k] for k in self.bath_params}},
                "strength": coords["strength"],
                "quantities": sorted(self.quantities),
                "options": dict(sorted(self.options.items())),
                "version": version,
            }
            out.append(Point(point_key(params), coords, params))
        return out

    def to_dict(self) -> dict:
        return {"name": self.name, "family": self.family, "axes": self.axes, "couplings": self.couplings,
                "bath_kind": self.bath_kind, "sectors": self.sectors, "quantities": list(self.quantities),
                "options": self.options, "source": self.source}


def point_key(params: dict) -> str:
    """SHA-256 (first 20 hex digits) of the canonical JSON of a point's parameters (keys sorted)."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _read_toml(path: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        try:
            import tomli as tomllib
        except ModuleNotFoundError as e:
            raise ImportError("reading a sweep TOML on Python < 3.11 needs tomli: pip install 'davies-mb[dask]'") from e
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"sweep file {str(path)!r} is not valid TOML: {e}") from None


def load_sweep(description) -> Sweep:
    """Validate a sweep description: a path to a TOML file, a TOML string, a dict, or a :class:`Sweep`.

    Errors (ValueError, TypeError) name the offending key, e.g. ``sweep key 'model.delta': ...`` or
    ``sweep key 'quantities': unknown name 'gapp' (did you mean 'gap'?)``.
    """
    if isinstance(description, Sweep):
        return description
    name_default = "sweep"
    if isinstance(description, (str, Path)):
        text = str(description)
        if isinstance(description, Path) or (("\n" not in text) and text.endswith(".toml")):
            path = Path(description)
            if not path.is_file():
                raise ValueError(f"sweep file {str(path)!r} does not exist")
            raw = _read_toml(path)
            name_default = path.stem
        else:
            try:
                import tomllib
            except ModuleNotFoundError:  # pragma: no cover
                import tomli as tomllib
            try:
                raw = tomllib.loads(text)
            except tomllib.TOMLDecodeError as e:
                raise ValueError(f"sweep description is not valid TOML: {e}") from None
    elif isinstance(description, dict):
        raw = copy.deepcopy(description)
    else:
        raise TypeError(f"sweep description must be a TOML path, a TOML string or a dict, got "
                        f"{type(description).__name__}")
    return _validate(raw, name_default)


def _validate(raw: dict, name_default: str) -> Sweep:
    for k in raw:
        if k not in _TOP_KEYS:
            raise _unknown("<top level>", k, _TOP_KEYS)
    for k in ("model", "couplings", "bath", "strength", "quantities"):
        if k not in raw:
            raise ValueError(f"sweep key {k!r} is missing (required: model, couplings, bath, strength, quantities)")
    name = raw.get("name", name_default)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"sweep key 'name': expected letters, digits, '_', '.', '-', got {name!r}")

    model = raw["model"]
    if not isinstance(model, dict):
        raise TypeError(f"sweep key 'model' must be a table, got {model!r}")
    family = model.get("family", "xxz")
    if family not in MODEL_PARAMS:
        raise _unknown("model.family", family, MODEL_PARAMS)
    axes = {}
    for k, v in model.items():
        if k in ("family", "L", "bc", "sector"):
            continue
        if k not in MODEL_PARAMS[family]:
            raise _unknown("model", k, ("family", "L", "bc", "sector") + MODEL_PARAMS[family])
        axes[k] = parse_grid(f"model.{k}", v, integer=k in _INT_PARAMS)
    if "L" not in model:
        raise ValueError("sweep key 'model.L' is missing: give the chain length(s), e.g. L = [6, 8]")
    axes["L"] = parse_grid("model.L", model["L"], integer=True, positive=True)
    axes["bc"] = _as_list_of_str("model.bc", model.get("bc", "open"))
    for bc in axes["bc"]:
        if bc not in ("open", "periodic"):
            raise _unknown("model.bc", bc, ("open", "periodic"))
    sectors = {}
    for s in _parse_sectors(model.get("sector")):
        sectors[_sector_label(s)] = s
    axes["sector"] = list(sectors)

    couplings = raw["couplings"]
    if not isinstance(couplings, dict) or not couplings:
        raise TypeError(f"sweep key 'couplings' must be a table name = \"Pauli sum\", got {couplings!r}")
    cmap = {}
    for cname, ops in couplings.items():
        cmap[cname] = _as_list_of_str(f"couplings.{cname}", ops)
        from ..models import parse_pauli_sum

        for op in cmap[cname]:
            try:  # on the shortest chain: a site beyond it is refused here, before anything runs
                parse_pauli_sum(op, min(axes["L"]))
            except (ValueError, TypeError) as e:
                raise ValueError(f"sweep key 'couplings.{cname}': {op!r} is not a Pauli sum on L = "
                                 f"{min(axes['L'])} sites like 'x0+z1': {e}") from None
    axes["coupling"] = list(cmap)

    bath = raw["bath"]
    if not isinstance(bath, dict):
        raise TypeError(f"sweep key 'bath' must be a table, got {bath!r}")
    kind = bath.get("kind", "ohmic")
    if kind not in _BATH_PARAMS:
        raise _unknown("bath.kind", kind, _BATH_PARAMS)
    for k in bath:
        if k != "kind" and k not in _BATH_PARAMS[kind]:
            raise _unknown("bath", k, ("kind",) + _BATH_PARAMS[kind])
    if "beta" not in bath:
        raise ValueError("sweep key 'bath.beta' is missing: give the inverse temperature(s)")
    for k in _BATH_PARAMS[kind]:
        v = bath.get(k, _BATH_DEFAULTS.get(k))
        axes[k] = parse_grid(f"bath.{k}", v, positive=(k != "s"))
    axes["strength"] = parse_grid("strength", raw["strength"], positive=True)

    qs = raw["quantities"]
    if isinstance(qs, str):
        qs = [qs]
    if not isinstance(qs, list) or not qs:
        raise TypeError(f"sweep key 'quantities' must be a non-empty list of names, got {qs!r}")
    quantities = tuple(dict.fromkeys(_check_quantity(q) for q in qs))

    opts = dict(_OPTIONS)
    given = raw.get("options", {})
    if not isinstance(given, dict):
        raise TypeError(f"sweep key 'options' must be a table, got {given!r}")
    for k, v in given.items():
        if k not in _OPTIONS:
            raise _unknown("options", k, _OPTIONS)
        want = type(_OPTIONS[k])
        if want is float and isinstance(v, numbers.Real) and not isinstance(v, bool):
            v = float(v)
        if not isinstance(v, want) or (want is int and isinstance(v, bool)):
            raise TypeError(f"sweep key 'options.{k}': expected {want.__name__}, got {v!r}")
        opts[k] = v
    if not 0 < opts["epsilon"] < 1:
        raise ValueError(f"sweep key 'options.epsilon' must lie in (0, 1), got {opts['epsilon']!r}")
    if opts["n_times"] < 10:
        raise ValueError(f"sweep key 'options.n_times' must be >= 10, got {opts['n_times']!r}")
    if any(q.startswith("exponent_") for q in quantities) and len(axes["strength"]) < 2:
        raise ValueError("sweep key 'quantities': exponent_* needs at least two values of 'strength'")
    return Sweep(name=name, family=family, axes=axes, couplings=cmap, bath_kind=kind, sectors=sectors,
                 quantities=quantities, options=opts, source=raw)
