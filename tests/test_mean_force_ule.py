"""Issue 15: at which order in lambda the ULE stationary state differs from the Gibbs state of H_S and from the
second-order mean-force state (and Redfield's, for comparison), on a qubit and a three-site chain.

Fitted slopes of log(distance) against log(lambda) over lambda = 0.025, 0.05, 0.1; tolerance 0.2. The
mean-force state is the independent second-order construction of applications.mean_force (checked against ED
in test_mean_force.py)."""

from __future__ import annotations

import numpy as np
import pytest

import davies_mb as dm
from davies_mb.applications import mean_force as mf
from davies_mb.operators import pauli, site_operator

LAMS = np.array([0.025, 0.05, 0.1])
BATH = dm.OhmicBath(beta=2.0, eta=0.5, cutoff=3.0)


def _qubit():
    return 0.6 * np.diag([1.0, -1.0]), np.array([[0.5, 1.0], [1.0, -0.5]])


def _chain():
    L = 3
    H = dm.models.xxz(L, 0.5, j2=0.3, hz=0.2, hx=0.15).hamiltonian(sparse=False)
    H = np.asarray(H.toarray() if hasattr(H, "toarray") else H)
    X = (site_operator(pauli("x"), 0, L) + 0.5 * site_operator(pauli("z"), 1, L)).toarray()
    return H, X


def _slope(y):
    return float(np.polyfit(np.log(LAMS), np.log(np.asarray(y)), 1)[0])


def _distances(H, X):
    """Per strength: populations (eigenbasis of H, l1) and coherences (max) of each stationary state minus
    rho_MF, and trace distances to the Gibbs state and to rho_MF."""
    spec = dm.diagonalize(H)
    _, U = np.linalg.eigh(H)

    def split(rho):
        r = U.conj().T @ rho @ U
        return np.diag(r).real, r - np.diag(np.diag(r))

    out = {}
    for lam in LAMS:
        m = mf.mean_force_state(H, X, BATH, float(lam))
        pm, cm = split(m.rho)
        for name, cls in (("ule", dm.ULEGenerator), ("redfield", dm.RedfieldGenerator)):
            for ls in (False, True):
                rho = cls(spec, [X], BATH, strength=float(lam), lamb_shift=ls).stationary_state()
                p, c = split(rho)
                d = out.setdefault((name, ls), {"gibbs": [], "mf": [], "pop": [], "coh": [], "imag": []})
                d["imag"].append(float(np.max(np.abs(np.imag(rho)))))
                d.setdefault("real_vs_gibbs", []).append(float(np.max(np.abs(np.real(rho) - m.gibbs))))
                d["gibbs"].append(dm.trace_distance(rho, m.gibbs))
                d["mf"].append(dm.trace_distance(rho, m.rho))
                d["pop"].append(float(np.abs(p - pm).sum()))
                d["coh"].append(float(np.abs(c - cm).max()))
    return out


@pytest.mark.parametrize("system", [_qubit, _chain], ids=["qubit", "chain3"])
def test_ule_stationary_state_orders(system):
    H, X = system()
    out = _distances(H, X)
    for ls in (False, True):
        ule = out[("ule", ls)]
        # the ULE (with or without its Lamb shift) leaves the Gibbs state of H_S at lambda^2 ...
        assert abs(_slope(ule["gibbs"]) - 2.0) < 0.2
        # ... and misses rho_MF at lambda^2 too, in the populations and in the coherences: unlike Redfield with
        # the Lamb shift, its O(lambda^2) coherences are not those of rho_MF (sqrt(g g') vs (g + g')/2)
        assert abs(_slope(ule["mf"]) - 2.0) < 0.2
        assert abs(_slope(ule["pop"]) - 2.0) < 0.2
        assert abs(_slope(ule["coh"]) - 2.0) < 0.2
        assert ule["mf"][0] > 1e-5  # a real O(lambda^2) difference, not round-off
        # H and X are real, so exp(-beta H_tot) and rho_MF are real; the ULE's stationary state is not: its
        # dissipator alone (no Lamb shift needed) makes an O(lambda^2) imaginary coherence (<sigma_y> != 0)
        assert abs(_slope(ule["imag"]) - 2.0) < 0.2
    # without its Lamb shift that imaginary part is the whole O(lambda^2) story: Re(rho_ULE) = Gibbs + O(lambda^4)
    assert abs(_slope(out[("ule", False)]["real_vs_gibbs"]) - 4.0) < 0.2
    # Redfield for comparison: exactly Gibbs without the Lamb shift (PHYSICS.md section 5); with it, coherences
    # right to O(lambda^2) (error lambda^4), populations off at lambda^2
    assert max(out[("redfield", False)]["gibbs"]) < 1e-12
    assert max(out[("redfield", False)]["imag"]) < 1e-12
    imag = out[("redfield", True)]["imag"]  # with the Lamb shift: real to O(lambda^2) (qubit: exactly)
    assert imag[0] < 1e-12 or imag[1] / imag[0] > 12  # lambda^4 (chain: 14.7 from 0.025 to 0.05)
    red = out[("redfield", True)]
    assert abs(_slope(red["coh"]) - 4.0) < 0.2
    assert abs(_slope(red["pop"]) - 2.0) < 0.2
    assert abs(_slope(red["gibbs"]) - 2.0) < 0.2
