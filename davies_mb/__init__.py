"""davies-mb: many-body thermalization with the Davies master equation.

Build spin chains with quimb, diagonalize them exactly (with symmetry sectors), couple them weakly to
thermal baths and study their relaxation with the Davies (secular, weak-coupling, KMS) generator.

>>> import davies_mb as dm
>>> chain = dm.xxz(L=6, delta=0.5, j2=0.3)
>>> spec = dm.diagonalize(chain)
>>> gen = dm.DaviesGenerator(spec, couplings=[chain.pauli("x", 0) + chain.pauli("z", 1)],
...                          bath=dm.OhmicBath(beta=1.0), strength=0.1)
>>> round(gen.gap() / 0.1**2, 6) > 0
True
"""

from .baths import Bath, DrudeLorentzBath, OhmicBath
from .conserved import (
    ChargeGibbs,
    ConservationReport,
    RestrictedEquilibrium,
    charge_gibbs,
    conserved_quantities,
    recognize,
    restricted_equilibrium,
)
from ._checks import SelfCheckError
from .davies import CheckReport, DaviesGenerator, ModeExpansion, PropagatedExpectation
from .free_fermion_davies import FreeFermionDavies, FreeFermionTrajectory
from . import dynamics
from . import eth
from .dynamics import (
    diagonal_ensemble,
    distance_trajectory,
    log_times,
    relative_entropy,
    time_grid,
    trace_distance,
    unitary_evolve,
    unitary_expect,
)
from .ergodicity import (
    PowerLawFit,
    ScanResult,
    TwoStepResult,
    product_state,
    secular_crossover,
    teq_scan,
    two_step_relaxation,
)
from . import integrable
from .gge import GGEConvergenceError, GGEResult, free_fermion_gge, free_fermion_gibbs, gge  # dm.gge: the function
from .models import SpinChain, heisenberg, ising, j1j2, tfim, xx, xxz
from .operators import pauli, site_operator, spin_operator
from .redfield import RedfieldGenerator
from .ule import ULEGenerator
from .validity import CrossoverResult, SecularRegime, secular_regime, ule_crossover
from .sectors import sector_basis, sector_dimension, sector_labels
from .spectrum import Spectrum, diagonalize
from . import sweeps  # parameter sweeps on dask.distributed (dask, xarray imported only when used)
from .spectral_bath import SpectralBath
from . import applications
from . import tn

__version__ = "0.1.0"

__all__ = [
    "Bath",
    "CheckReport",
    "ChargeGibbs",
    "charge_gibbs",
    "ConservationReport",
    "RestrictedEquilibrium",
    "conserved_quantities",
    "recognize",
    "restricted_equilibrium",
    "DaviesGenerator",
    "ModeExpansion",
    "PropagatedExpectation",
    "SelfCheckError",
    "dynamics",
    "eth",
    "diagonal_ensemble",
    "distance_trajectory",
    "log_times",
    "relative_entropy",
    "time_grid",
    "trace_distance",
    "unitary_evolve",
    "unitary_expect",
    "PowerLawFit",
    "ScanResult",
    "TwoStepResult",
    "product_state",
    "secular_crossover",
    "teq_scan",
    "two_step_relaxation",
    "integrable",
    "GGEConvergenceError",
    "GGEResult",
    "free_fermion_gge",
    "free_fermion_gibbs",
    "gge",
    "DrudeLorentzBath",
    "OhmicBath",
    "RedfieldGenerator",
    "SpinChain",
    "Spectrum",
    "diagonalize",
    "heisenberg",
    "ising",
    "j1j2",
    "pauli",
    "sector_basis",
    "sector_dimension",
    "sector_labels",
    "site_operator",
    "spin_operator",
    "tfim",
    "xx",
    "xxz",
    "ULEGenerator",
    "CrossoverResult",
    "SecularRegime",
    "secular_regime",
    "ule_crossover",
    "sweeps",
    "tn",
    "__version__",
    "FreeFermionDavies",
    "FreeFermionTrajectory",
    "SpectralBath",
    "applications",
]
