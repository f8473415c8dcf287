r"""Parameter sweeps on dask.distributed: grouped per chain, cached per point, resumable.

>>> import davies_mb as dm                                                    # doctest: +SKIP
>>> report = dm.sweeps.run("studies/sweep_example.toml", "results/sweep_example")  # doctest: +SKIP
>>> ds = dm.sweeps.load("results/sweep_example")  # xarray.Dataset, one dim per swept parameter  # doctest: +SKIP

- :func:`load_sweep` validates a description (TOML file, TOML string or dict; see :mod:`.spec`).
- :func:`plan` groups the points into tasks, one diagonalization per chain, one generator per
  (coupling, bath) pair, strengths by ``with_strength``; it estimates each task's memory and refuses
  tasks that would not fit a worker.
- :func:`run` computes the tasks on a ``dask.distributed`` cluster (default: a ``LocalCluster`` with one
  single-threaded process per core; or ``client=`` / ``scheduler=`` for an existing one, e.g. from
  dask-jobqueue) and writes each point atomically as soon as it arrives (see :mod:`.store`).
- :func:`status` and :func:`load` read a store back; ``load`` returns an ``xarray.Dataset``.

dask, distributed and xarray are optional dependencies: ``pip install 'davies-mb[dask]'``.
"""

from .compute import compute_task
from .plot import heatmaps
from .runner import Plan, RunReport, Task, local_cluster, plan, run
from .spec import CONSERVED_ALIASES, QUANTITIES, VALID_QUANTITIES, Point, Sweep, load_sweep, parse_grid
from .store import Store, SweepStatus, load, status

__all__ = [
    "CONSERVED_ALIASES",
    "QUANTITIES",
    "VALID_QUANTITIES",
    "Plan",
    "Point",
    "RunReport",
    "Store",
    "Sweep",
    "SweepStatus",
    "Task",
    "compute_task",
    "heatmaps",
    "load",
    "load_sweep",
    "local_cluster",
    "parse_grid",
    "plan",
    "run",
    "status",
]
