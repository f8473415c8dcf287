r"""One task of a sweep: one chain, diagonalized once, and every (coupling, bath, strength) point on it.

A task is plain data (a dict that pickles cheaply to a dask worker); :func:`compute_task` returns one record
per point. Inside a task:

- the chain is built and diagonalized once (:func:`davies_mb.diagonalize`);
- each (coupling, bath) pair builds one :class:`~davies_mb.DaviesGenerator` at :math:`\lambda = 1`, and every
  strength is :meth:`~davies_mb.DaviesGenerator.with_strength` of it (rates scale as :math:`\lambda^2`);
- the :math:`t_{eq}` quantities come from one :func:`davies_mb.teq_scan` over all strengths of the pair
  (it reuses the spectrum: one more generator at :math:`\lambda = 1`, none per strength);
- chain-only quantities (``dim``, ``r_mean``) are computed once and shared by all points.

Errors are caught at the level where they arise and recorded in every point they affect, with the message:
a sector that does not exist fails the whole task, a coupling that leaves the sector fails its pairs, a
quantity that cannot be evaluated fails only its points. Warnings (e.g. "the bath leaves 2 stationary
states") are recorded with the points, not printed.
"""

from __future__ import annotations

import contextlib
import os
import time
import traceback
import warnings

import numpy as np

__all__ = ["compute_task", "limit_threads"]

_QMAP = {"fit_energy": "fit:energy", "fit_sz": "fit:Sz"}


@contextlib.contextmanager
def limit_threads(n: int = 1):
    """Limit BLAS/OpenMP (threadpoolctl) and numba to ``n`` threads while the block runs.

    One thread per worker process: a sweep is parallel over points, and nested BLAS threads on top of one
    process per core only oversubscribe the cores. The previous limits are restored afterwards, so a
    serial run does not change the caller's process.
    """
    with contextlib.ExitStack() as stack:
        try:
            from threadpoolctl import threadpool_limits

            stack.enter_context(threadpool_limits(n))
        except ImportError:  # pragma: no cover - the workers' environment variables still apply
            pass
        try:
            import numba

            before = numba.get_num_threads()
            numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
            stack.callback(numba.set_num_threads, before)
        except Exception:  # pragma: no cover - never fail a point over a thread setting
            pass
        yield


def _chain(task):
    import davies_mb as dm

    factory = {"xxz": dm.xxz, "xx": dm.xx, "heisenberg": dm.heisenberg, "tfim": dm.tfim}[task["family"]]
    return factory(task["L"], bc=task["bc"], **task["model"])


def _bath(spec: dict):
    import davies_mb as dm

    kw = {k: v for k, v in spec.items() if k != "kind"}
    return dm.OhmicBath(**kw) if spec["kind"] == "ohmic" else dm.DrudeLorentzBath(**kw)


def _error(e: BaseException) -> dict:
    return {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(limit=8)}


def _initial_vector(chain, spec, options):
    import davies_mb as dm

    return dm.product_state(chain.L, options["initial"])


def _chain_quantities(chain, spec, wanted, options) -> dict:
    """Quantities of the chain alone, computed once per task; a failure is recorded per quantity."""
    import davies_mb as dm

    out = {}
    if "dim" in wanted:
        out["dim"] = float(spec.n)
    if "r_mean" in wanted:
        try:
            # the middle S^z sector: 0 for even L, 1/2 for odd L (the largest, the one ETH studies use)
            sz = (chain.L % 2) / 2 if "sz" in chain.symmetries else None
            out["r_mean"] = float(dm.eth.sector_level_statistics(chain, sz, discard=options["discard"]).mean)
        except Exception as e:  # noqa: BLE001 - recorded with the points
            out["r_mean"] = e
    return out


def _pair(chain, spec, ops_text, bath_spec, strengths, wanted, options) -> dict:
    """Values of one (coupling, bath) pair at every strength: ``{strength: {quantity: value or exception}}``."""
    import davies_mb as dm

    from .spec import CONSERVED_ALIASES

    ops = [chain.parse_operator(t) for t in ops_text]
    bath = _bath(bath_spec)
    lams = np.asarray(strengths, dtype=float)
    per = {lam: {} for lam in strengths}
    caught = []

    def put(name, values):
        for lam, v in zip(strengths, values):
            per[lam][name] = v

    teq = [q for q in wanted if q.startswith(("t_eq_", "exponent_"))]
    # teq_scan reports the gap, the kernel and the final distance to Gibbs too: then it is the only generator
    from_scan = [q for q in ("gap", "gap_lambda2", "kernel_dim", "distance_to_gibbs") if q in wanted] if teq else []
    needs_gen = any(q in wanted and q not in from_scan
                    for q in ("gap", "gap_lambda2", "kernel_dim", "distance_to_gibbs")) or any(
        q.startswith("conserved_") for q in wanted)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        if needs_gen:
            gen = dm.DaviesGenerator(spec, ops, bath, strength=1.0, lamb_shift=options["lamb_shift"])
            if "gap" in wanted or "gap_lambda2" in wanted:
                try:
                    gaps = [gen.with_strength(lam).gap() for lam in lams]
                    put("gap", gaps)
                    put("gap_lambda2", [g / lam**2 for g, lam in zip(gaps, lams)])
                except Exception as e:  # noqa: BLE001
                    put("gap", [e] * lams.size)
                    put("gap_lambda2", [e] * lams.size)
            if "kernel_dim" in wanted:
                try:  # the kernel does not depend on lambda
                    put("kernel_dim", [float(gen.kernel_dimension())] * lams.size)
                except Exception as e:  # noqa: BLE001
                    put("kernel_dim", [e] * lams.size)
            if "distance_to_gibbs" in wanted:
                try:  # the final state does not depend on lambda either
                    psi = _initial_vector(chain, spec, options)
                    rho_inf = gen.stationary_state(np.outer(psi, psi))
                    d = dm.trace_distance(rho_inf, spec.gibbs(bath.beta))
                    put("distance_to_gibbs", [float(d)] * lams.size)
                except Exception as e:  # noqa: BLE001
                    put("distance_to_gibbs", [e] * lams.size)
            cons = [q for q in wanted if q.startswith("conserved_")]
            if cons:
                try:
                    rep = dm.recognize(gen, L=chain.L, periodic=chain.bc == "periodic")
                    for q in cons:
                        put(q, [float(CONSERVED_ALIASES[q.removeprefix("conserved_")] in rep.recognized)] * lams.size)
                except Exception as e:  # noqa: BLE001
                    for q in cons:
                        put(q, [e] * lams.size)
        if teq:
            try:
                obs = None
                if any("fit_" in q for q in teq):
                    obs = {"energy": chain.hamiltonian(sparse=True)}
                    if "sz" in chain.symmetries:
                        obs["Sz"] = chain.total("z")
                scan = dm.teq_scan(spec, ops, bath, lams, initial=_initial_vector(chain, spec, options),
                                   observables=obs or {}, epsilon=options["epsilon"], n_times=options["n_times"],
                                   t_max_factor=options["t_max_factor"], lamb_shift=options["lamb_shift"],
                                   progress=False)
                with np.errstate(divide="ignore"):
                    gaps = 1.0 / np.asarray(scan.t_gap)  # t_gap = 1/gap exactly (inf when the gap is 0)
                for q, vals in (("gap", gaps), ("gap_lambda2", gaps / lams**2),
                                ("kernel_dim", [float(scan.stationary_states)] * lams.size),
                                ("distance_to_gibbs", scan.final_distance_to_gibbs)):
                    if q in from_scan:
                        put(q, [float(v) for v in vals])
                for q in teq:
                    m = q.removeprefix("exponent_").removeprefix("t_eq_").removeprefix("lambda2_")
                    key = _QMAP.get(m, m)
                    if key == "gap":
                        t = scan.t_gap
                    elif key == "distance":
                        t = scan.t_distance
                    elif key.removeprefix("fit:") in scan.t_fit:
                        t = scan.t_fit[key.removeprefix("fit:")]
                    else:
                        put(q, [ValueError(f"{q}: the observable does not relax (it is conserved or stays at "
                                           f"its final value): {scan.message}")] * lams.size)
                        continue
                    if q.startswith("exponent_"):
                        put(q, [scan.fits[key].exponent] * lams.size)
                    elif q.startswith("t_eq_lambda2_"):
                        put(q, list(np.asarray(t) * lams**2))
                    else:
                        put(q, list(np.asarray(t)))
            except Exception as e:  # noqa: BLE001
                for q in teq + from_scan:
                    put(q, [e] * lams.size)
        caught = [str(x.message) for x in w]
    return per, caught


def compute_task(task: dict) -> list:
    """Compute every point of one task with one BLAS/numba thread; one record per point (see :func:`_compute`)."""
    with limit_threads(1):
        return _compute(task)


def _compute(task: dict) -> list:
    """Compute every point of one task; returns one record per point.

    A record is ``{"key", "status": "done" | "failed", "values": {quantity: float}, "error", "traceback",
    "warnings", "elapsed", "worker"}``. ``task`` comes from :func:`davies_mb.sweeps.plan`.
    """
    import davies_mb as dm

    t0 = time.perf_counter()
    wanted = list(task["quantities"])
    options = task["options"]
    worker = f"{os.uname().nodename}:{os.getpid()}"
    records = []

    def finish(key, values, caught):
        failed = {q: v for q, v in values.items() if isinstance(v, BaseException)}
        missing = [q for q in wanted if q not in values]
        rec = {"key": key, "warnings": caught, "worker": worker, "elapsed": time.perf_counter() - t0}
        if failed or missing:
            q0, e0 = next(iter(failed.items())) if failed else (missing[0], None)
            rec.update(status="failed", values={q: float(v) for q, v in values.items() if q not in failed},
                       error=(f"{q0}: {type(e0).__name__}: {e0}" if e0 is not None else f"{q0}: not computed"),
                       traceback="".join(traceback.format_exception(e0)) if e0 is not None else "")
        else:
            rec.update(status="done", values={q: float(v) for q, v in values.items()}, error=None)
        records.append(rec)

    try:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            chain = _chain(task)
            spec = dm.diagonalize(chain, sector=task["sector"])
            base = _chain_quantities(chain, spec, wanted, options)
    except Exception as e:  # noqa: BLE001 - e.g. a sector that does not exist: every point of the task fails
        err = _error(e)
        for g in task["groups"]:
            for key, _ in g["points"]:
                records.append({"key": key, "status": "failed", "values": {}, "error": err["error"],
                                "traceback": err["traceback"], "warnings": [], "worker": worker,
                                "elapsed": time.perf_counter() - t0})
        return records
    pair_wanted = [q for q in wanted if q not in base]
    for g in task["groups"]:
        strengths = [lam for _, lam in g["points"]]
        try:
            per, caught = (_pair(chain, spec, g["coupling_ops"], g["bath"], strengths, pair_wanted, options)
                           if pair_wanted else ({lam: {} for lam in strengths}, []))
        except Exception as e:  # noqa: BLE001 - e.g. a coupling that leaves the sector
            per, caught = {lam: {q: e for q in pair_wanted} for lam in strengths}, []
        for key, lam in g["points"]:
            finish(key, {**base, **per[lam]}, caught)
    return records
