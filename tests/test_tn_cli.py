"""`davies-mb tn-quench` and `davies-mb tn-thermal`: JSON output checked against ED at small L."""

import json

import numpy as np
import pytest
import scipy.linalg as sla

import davies_mb as dm
from davies_mb.cli import main


def test_tn_quench_json(capsys):
    rc = main(["tn-quench", "--model", "tfim", "--g", "0.5", "--L", "4", "--initial", "+x", "--observable", "x2",
               "--times", "0.5,1,1.5", "--tn-cutoff", "0", "--error-run", "none", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["times"] == [0.5, 1.0, 1.5] and out["max_bond"] == 64 and out["error"]["x2"] == [None] * 3
    chain = dm.tfim(4, g=0.5)
    H = chain.hamiltonian(sparse=False)
    v0 = np.ones(16) / 4.0
    X = chain.parse_operator("x2").toarray()
    ref = [np.vdot(v, X @ v).real for v in (sla.expm(-1j * H * t) @ v0 for t in out["times"])]
    np.testing.assert_allclose(out["values"]["x2"], ref, atol=1e-7)


def test_tn_thermal_json(capsys):
    rc = main(["tn-thermal", "--model", "heisenberg", "--L", "6", "--betas", "0.5,1,2", "--tn-cutoff", "0",
               "--error-run", "none", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    w = np.linalg.eigvalsh(dm.heisenberg(6).hamiltonian(sparse=False))
    ref = [np.exp(-b * (w - w[0])) @ w / np.exp(-b * (w - w[0])).sum() for b in out["betas"]]
    np.testing.assert_allclose(out["energy"], ref, atol=1e-8)
    assert len(out["energy_per_site"]) == 3 and len(out["truncation_error"]) == 3


def test_tn_thermal_json_fixed_sz(capsys):
    rc = main(["tn-thermal", "--model", "heisenberg", "--L", "6", "--betas", "0,1", "--sz", "0", "--tn-cutoff", "0",
               "--error-run", "none", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    H = dm.heisenberg(6).hamiltonian(sparse=False)
    idx = [b for b in range(64) if bin(b).count("1") == 3]  # S^z = 0: three down spins
    w = np.linalg.eigvalsh(H[np.ix_(idx, idx)])
    ref = [np.exp(-b * (w - w[0])) @ w / np.exp(-b * (w - w[0])).sum() for b in out["betas"]]
    np.testing.assert_allclose(out["energy"], ref, atol=1e-8)
    assert out["sz"] == 0


@pytest.mark.parametrize("argv,msg", [
    (["tn-quench", "--L", "8", "--observable", "z9"], "site 9"),
    (["tn-thermal", "--L", "8", "--betas", "-1"], "beta must be >= 0"),
    (["tn-quench", "--L", "8", "--initial", "ghz"], "not a product state"),
    (["tn-thermal", "--model", "tfim", "--L", "8", "--sz", "0"], "conserves total S^z"),
])
def test_tn_cli_errors(capsys, argv, msg):
    assert main(argv) == 2
    assert msg in capsys.readouterr().err
