r"""Tensor networks past exact diagonalization: quench dynamics, thermal states and ground states of long chains.

Built on quimb (MPS, MPO, ``LocalHam1D`` gates, ``tensor_split``, ``DMRG2``) from the same
:class:`~davies_mb.models.SpinChain` term list that the exact code uses.

>>> import davies_mb as dm
>>> r = dm.tn.quench(dm.tfim(8, g=0.5), "+x", [0.0, 0.5], ["x4"], max_bond=16, error_run=None)
>>> round(float(r.values["x4"][0]), 12)
1.0
"""

from ._engine import trotter_schedule
from ._local import Grouping, group_chain
from .quench import QuenchResult, initial_mps, quench
from .thermal import (
    GroundState,
    ThermalResult,
    ThermalValue,
    ground_state,
    initial_energy,
    thermal_state,
    thermal_value,
)

__all__ = [
    "Grouping",
    "group_chain",
    "trotter_schedule",
    "QuenchResult",
    "initial_mps",
    "quench",
    "GroundState",
    "ThermalResult",
    "ThermalValue",
    "ground_state",
    "initial_energy",
    "thermal_state",
    "thermal_value",
]
