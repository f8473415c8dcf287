r"""Plan a sweep into tasks and run them on dask.distributed (or serially), writing each point as it arrives.

Grouping: the points that share a chain (model parameters, ``L``, boundary condition, sector) form one
task, so the chain is diagonalized once; inside it the points that share a (coupling, bath) pair share one
generator and differ only in :math:`\lambda` (:meth:`~davies_mb.DaviesGenerator.with_strength`). Couplings
and bath parameters (beta, eta, cutoff) reuse the task's spectrum.

Memory per task (an estimate, refused before anything runs when it exceeds a worker's limit): with
:math:`n` the dimension that is diagonalized and :math:`b` bytes per entry (8 real, 16 complex),

.. math::  M \approx b\,n^2\,(4 + 2 n_A + n_O + 2 [\text{conserved}])

for the Hamiltonian and its eigenvectors, the Davies blocks, each of the :math:`n_A` coupling operators in
the eigenbasis (and one work copy), the :math:`n_O` fitted observables and, when conserved quantities are
asked for, the commutant basis.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections import defaultdict

from .. import _checks
from .compute import compute_task
from .spec import Sweep, load_sweep
from .store import Store, _cleanup_tmp

__all__ = ["Plan", "Task", "plan", "run", "RunReport", "local_cluster"]


@dataclasses.dataclass(frozen=True)
class Task:
    """One unit of work: a chain and its (coupling, bath) groups of points."""

    chain: dict
    n: int
    groups: tuple
    memory: int
    complex: bool

    @property
    def n_points(self) -> int:
        return sum(len(g["points"]) for g in self.groups)

    def payload(self, quantities, options) -> dict:
        return {**self.chain, "groups": [dict(g) for g in self.groups], "quantities": list(quantities),
                "options": dict(options)}


@dataclasses.dataclass(frozen=True)
class Plan:
    """What a run will do: tasks, points, diagonalizations, generators and memory per task."""

    sweep: Sweep
    tasks: tuple
    n_points: int
    n_skipped: int
    worker_memory: int

    @property
    def n_generators(self) -> int:
        return sum(len(t.groups) for t in self.tasks)

    @property
    def max_memory(self) -> int:
        return max((t.memory for t in self.tasks), default=0)

    def summary(self) -> str:
        lines = [f"sweep {self.sweep.name!r}: {self.sweep.n_points} points over {self.sweep.dims or 'no swept axis'}",
                 f"  to compute: {self.n_points} points in {len(self.tasks)} tasks ({len(self.tasks)} "
                 f"diagonalizations, {self.n_generators} generators); {self.n_skipped} already in the store",
                 f"  memory per task: max {self.max_memory / 2**20:.1f} MiB (worker limit "
                 f"{self.worker_memory / 2**30:.2f} GiB)"]
        return "\n".join(lines)


def _dimension(family, L, sector) -> tuple:
    if not sector:
        return 2**L, False
    from ..sectors import sector_dimension

    try:
        d = sector_dimension(L, sector)
    except (ValueError, TypeError):  # e.g. a sector that does not exist: the task fails and says why
        return 0, False
    k = sector.get("k")
    cplx = k is not None and (2 * k) % L != 0  # momenta other than 0, pi have complex eigenvectors
    return int(d), bool(cplx)


def plan(sweep, store=None, *, resume: bool = True, retry_failed: bool = False,
         worker_memory: int | None = None) -> Plan:
    """Group the points still to compute into tasks (one per chain) and estimate their memory.

    Parameters
    ----------
    sweep : Sweep, dict, TOML string or path
    store : str or Path, optional
        With ``resume``, points already done there are skipped, and failed ones too unless ``retry_failed``.
    worker_memory : int, optional
        Bytes one worker may use (default: :func:`davies_mb._checks.memory_limit`).

    Raises
    ------
    MemoryError
        When a task would not fit ``worker_memory`` (the message names the chain and the estimate).
    """
    sweep = load_sweep(sweep)
    limit = _checks.memory_limit() if worker_memory is None else int(worker_memory)
    done = {}
    if store is not None and resume and Store(store).exists():
        done = Store(store).statuses()
    skip = {k for k, s in done.items() if s == "done" or (s == "failed" and not retry_failed)}
    chains = defaultdict(lambda: defaultdict(list))
    n_points = 0
    for p in sweep.points():
        if p.key in skip:
            continue
        n_points += 1
        pr = p.params
        ckey = (tuple(sorted(pr["model"].items())), pr["L"], pr["bc"], p.coords["sector"])
        gkey = (pr["coupling"], tuple(sorted(pr["bath"].items())))
        chains[ckey][gkey].append((p.key, pr["strength"], pr))
    tasks = []
    n_obs = 2 if any("fit_" in q for q in sweep.quantities) else 0
    cons = any(q.startswith("conserved_") for q in sweep.quantities)
    for ckey, groups in chains.items():
        model, L, bc, slabel = ckey
        sector = sweep.sectors[slabel]
        n, cplx = _dimension(sweep.family, L, sector)
        n_ops = max(len(sweep.couplings[g[0]]) for g in groups)
        itemsize = 16 if cplx else 8
        arrays = [4 * n * n * itemsize, 2 * n_ops * n * n * itemsize, n_obs * n * n * itemsize]
        if cons:
            arrays.append(2 * n * n * itemsize)
        label = f"the task {sweep.family}(L={L}, bc={bc}, {dict(model)}, sector {slabel})"
        mem = _checks.check_memory_total(
            label, arrays, limit=limit,
            hint="Give each worker more memory (LocalCluster(memory_limit=...) or DAVIES_MB_MEMORY_LIMIT), use a "
                 "symmetry sector (model.sector), or a smaller L.")
        gs = []
        for (cname, bath), pts in groups.items():
            gs.append({"coupling": cname, "coupling_ops": sweep.couplings[cname], "bath": dict(bath),
                       "points": [(k, lam) for k, lam, _ in sorted(pts, key=lambda t: t[1])]})
        chain = {"family": sweep.family, "L": L, "bc": bc, "model": dict(model), "sector": sector}
        tasks.append(Task(chain, n, tuple(gs), mem, cplx))
    tasks.sort(key=lambda t: -t.n)  # the largest first: the run ends with small tasks, not one big straggler
    return Plan(sweep, tuple(tasks), n_points, len(skip & {p.key for p in sweep.points()}), limit)


@dataclasses.dataclass(frozen=True)
class RunReport:
    """What a run did: points written (done, failed), tasks, seconds, and the store."""

    store: str
    done: int
    failed: int
    tasks: int
    skipped: int
    seconds: float
    workers: int

    def __str__(self) -> str:
        return (f"{self.done} points done, {self.failed} failed, {self.skipped} skipped (already in the store), "
                f"{self.tasks} tasks on {self.workers} worker(s) in {self.seconds:.1f} s; store {self.store}")


#: Environment of each worker process: one thread for BLAS, OpenMP and numba (no oversubscription).
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "NUMBA_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1"}


def local_cluster(workers: int | None = None, *, memory_limit="auto", **kwargs):
    """A ``dask.distributed.LocalCluster``: ``workers`` processes (default: one per core), one thread each,
    BLAS/OpenMP/numba threads set to 1 in every worker (set before the worker starts)."""
    import dask
    from distributed import LocalCluster

    workers = (os.cpu_count() or 1) if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers!r}")
    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {}) | WORKER_ENV
    # the nanny writes pre-spawn-environ into this (the parent) process's os.environ too; numba re-reads
    # NUMBA_NUM_THREADS at every config reload and refuses a value that differs from its running thread
    # pool, so leaving "1" behind breaks the caller's later numba work: restore the caller's environment
    saved = {k: os.environ.get(k) for k in env}
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
            return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                memory_limit=memory_limit, dashboard_address=kwargs.pop("dashboard_address", ":0"),
                                **kwargs)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _failure_records(task: Task, exc: BaseException) -> list:
    msg = f"{type(exc).__name__}: {exc}"
    return [{"key": k, "status": "failed", "values": {}, "error": f"task failed: {msg}", "traceback": "",
             "warnings": [], "worker": None, "elapsed": None} for g in task.groups for k, _ in g["points"]]


def run(sweep, store=None, *, client=None, scheduler: str | None = None, workers: int | None = None,
        serial: bool = False, resume: bool = True, retry_failed: bool = False, progress: bool | None = None,
        on_record=None) -> RunReport:
    """Run a sweep: plan it, compute the tasks on dask.distributed, write each point as soon as it arrives.

    Parameters
    ----------
    sweep : Sweep, dict, TOML string or path
    store : str or Path, optional
        The store folder (default ``results/<sweep name>``). An existing store is resumed: points already
        done are skipped, failed ones too unless ``retry_failed``; ``resume=False`` recomputes every point.
    client : distributed.Client, optional
        Run on this client's cluster.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``), e.g. one started by dask-jobqueue.
    workers : int, optional
        Worker processes of the default ``LocalCluster`` (default: one per core).
    serial : bool
        Compute in this process, one task after the other (no dask), e.g. for debugging.
    progress : bool, optional
        A tqdm bar with points done, failed and the ETA (default: on when stderr is a terminal).
    on_record : callable, optional
        Called with each record after it is written (for tests and monitoring).

    Returns
    -------
    RunReport
    """
    sweep = load_sweep(sweep)
    st = Store(store if store is not None else os.path.join("results", sweep.name))
    t0 = time.perf_counter()
    own = None
    try:
        if not serial and client is None:
            from distributed import Client

            if scheduler is not None:
                client = own = Client(scheduler)
            else:
                cluster = local_cluster(workers)
                client = own = Client(cluster)
        worker_mem = None
        if client is not None:
            lims = [w.get("memory_limit") or 0 for w in client.scheduler_info()["workers"].values()]
            lims = [x for x in lims if x]
            if lims:
                worker_mem = min(min(lims), _checks.memory_limit())
        pl = plan(sweep, st.path, resume=resume, retry_failed=retry_failed, worker_memory=worker_mem)
        st.write_sweep(sweep)
        _cleanup_tmp(st)
        params = {p.key: p.params for p in sweep.points()}
        payloads = [t.payload(sweep.quantities, sweep.options) for t in pl.tasks]
        counts = {"done": 0, "failed": 0}
        bar = _bar(pl.n_points, progress, sweep.name)

        def write(records):
            for rec in records:
                st.write_point(params[rec["key"]], rec)
                counts[rec["status"]] += 1
                if on_record is not None:
                    on_record(rec)
            bar.update(len(records))
            bar.set_postfix(done=counts["done"], failed=counts["failed"], refresh=False)

        if client is None:
            for task, payload in zip(pl.tasks, payloads):
                try:
                    write(compute_task(payload))
                except Exception as e:  # noqa: BLE001 - compute_task records its own errors; this is a bug guard
                    write(_failure_records(task, e))
            n_workers = 1
        else:
            from distributed import as_completed

            n_workers = len(client.scheduler_info()["workers"])
            futures = client.map(compute_task, payloads, pure=False, key=[f"sweep-task-{i}-{time.time_ns()}"
                                                                          for i in range(len(payloads))])
            which = {f.key: t for f, t in zip(futures, pl.tasks)}
            for fut in as_completed(futures):
                try:
                    records = fut.result()
                except Exception as e:  # noqa: BLE001 - a worker died (memory) or the task raised
                    records = _failure_records(which[fut.key], e)
                write(records)
                fut.release()
        bar.close()
        return RunReport(str(st.path), counts["done"], counts["failed"], len(pl.tasks), pl.n_skipped,
                         time.perf_counter() - t0, n_workers)
    finally:
        if own is not None:
            cluster = own.cluster if scheduler is None else None
            own.close()
            if cluster is not None:
                cluster.close()


def _bar(total, enabled, name):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"sweep {name}", unit="pt",
                disable=(None if enabled is None else not enabled), smoothing=0.1)
