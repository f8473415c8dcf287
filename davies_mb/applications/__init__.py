"""Classic applications of the Davies equation, built on the public API (``dm.applications``).

* :mod:`.two_level` -- the two-level benchmark in Bloch-equation form (T1, T2, p_e at every beta);
* :mod:`.local_global` -- local versus global master equations (LocalGenerator), Redfield as reference;
* :mod:`.dicke` -- Dicke cooperative thermalization in the |J, M> basis, superradiance;
* :mod:`.glauber` -- Glauber's kinetic Ising model from Davies (degenerate-spectrum stress test);
* :mod:`.mean_force` -- second-order mean-force state and H_MF, against explicit modes (ED);
* :mod:`.mean_force_spin_boson` -- the spin-boson mean-force state in closed form (weak and ultrastrong limits);
* :mod:`.otto` -- the finite-time quantum Otto engine, its limit cycle solved as a fixed point.
"""

from . import dicke, glauber, local_global, mean_force, mean_force_spin_boson, otto, two_level
from .mean_force import DiscreteModes, MeanForceState, mean_force_state
from .mean_force_spin_boson import (
    SpinBosonIntegrals,
    SpinBosonMeanForce,
    spin_boson_integrals,
    spin_boson_mean_force,
    ultrastrong_state,
)
from .dicke import SuperradianceResult, superradiance
from .local_global import (
    LocalGenerator,
    MasterEquationComparison,
    compare_master_equations,
    concurrence,
    mutual_information,
)
from .otto import OttoCycle, OttoPowerMap, otto_cycle, otto_medium, otto_power_map, two_level_otto
from .two_level import BlochParameters, bloch_parameters, bloch_vector, excited_population, two_level_generator

__all__ = [
    "mean_force",
    "DiscreteModes",
    "MeanForceState",
    "mean_force_state",
    "mean_force_spin_boson",
    "SpinBosonIntegrals",
    "SpinBosonMeanForce",
    "spin_boson_integrals",
    "spin_boson_mean_force",
    "ultrastrong_state",
    "glauber",
    "dicke",
    "SuperradianceResult",
    "superradiance",
    "local_global",
    "LocalGenerator",
    "MasterEquationComparison",
    "compare_master_equations",
    "concurrence",
    "mutual_information",
    "otto",
    "OttoCycle",
    "OttoPowerMap",
    "otto_cycle",
    "otto_medium",
    "otto_power_map",
    "two_level_otto",
    "two_level",
    "BlochParameters",
    "bloch_parameters",
    "bloch_vector",
    "excited_population",
    "two_level_generator",
]
