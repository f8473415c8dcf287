"""t_eq lambda^2 versus L (size_scaling) and the `davies-mb teq-size` command."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

import davies_mb as dm
from davies_mb.cli import main
from davies_mb.size_scaling import exact_size_scan, free_fermion_size_scan


def test_free_fermion_scan_matches_closed_form():
    """lambda^2 / gap = 2 / min_k |phi_k(0)|^2 (gamma(e_k) + gamma(-e_k)) (PHYSICS.md section 5); the energy
    tail decays at the slowest population rate, twice the gap (a coherence decays at Gamma_k / 2)."""
    bath = dm.OhmicBath(beta=1.0)
    sizes = [8, 12, 16, 24, 32, 48]
    s = free_fermion_size_scan("xx", sizes, bath, hz=0.3, fit_min_L=12)
    for L, tg in zip(sizes, s.t_gap):
        k = np.pi * np.arange(1, L + 1) / (L + 1)
        e = 0.3 + np.cos(k)
        phi2 = 2 / (L + 1) * np.sin(k) ** 2
        assert_allclose(tg, 2 / np.min(phi2 * (bath.gamma(e) + bath.gamma(-e))), rtol=1e-9)
    assert np.all((s.t_energy / s.t_gap > 0.45) & (s.t_energy / s.t_gap < 0.55))
    # t ~ L^3 asymptotically (band-edge modes, |phi_k(0)|^2 ~ k^2 / L^3): already close at these sizes
    assert 2.6 < s.fits["gap"].exponent < 3.05
    assert np.isfinite(s.fits["gap"].stderr)
    t = free_fermion_size_scan("tfim", [8, 16], bath, g=1.5)
    assert np.all(t.t_gap > 0) and t.t_gap[1] > 4 * t.t_gap[0]


def test_exact_scan_matches_generator():
    bath = dm.OhmicBath(beta=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = exact_size_scan([4, 6], bath, delta=0.5, coupling="z0", strength=0.1)
    for L, tg in zip([4, 6], s.t_gap):
        chain = dm.xxz(L, 0.5)
        gen = dm.DaviesGenerator(dm.diagonalize(chain, sector=dict(sz=0)), chain.pauli("z", 0), bath, 0.1)
        assert_allclose(tg, 0.1**2 / gen.gap(), rtol=1e-10)
    assert np.all(np.isfinite(s.t_energy))


def test_size_scan_input():
    bath = dm.OhmicBath(beta=1.0)
    with pytest.raises(ValueError, match="sizes"):
        free_fermion_size_scan("xx", [8.5], bath)
    with pytest.raises(ValueError, match="model"):
        free_fermion_size_scan("xxz", [8], bath)
    with pytest.raises(ValueError, match="dark"):
        free_fermion_size_scan("xx", [8], bath, hz=0.0)  # particle-hole pairs: no unique equilibrium


def test_cli_teq_size(capsys):
    assert main(["teq-size", "--ff-sizes", "8,16", "--sizes", "", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"XX hz=0.3, sigma^x_0", "TFIM g=1.5, sigma^z_0"}
    assert out["XX hz=0.3, sigma^x_0"]["sizes"] == [8, 16]
    assert main(["teq-size", "--ff-sizes", "8,x"]) == 2
    assert "comma list" in capsys.readouterr().err
