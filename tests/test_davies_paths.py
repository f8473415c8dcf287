"""The large-system code paths of the Davies generator agree with the exact dense ones.

Above size thresholds the generator switches from one dense eigh of the population (nu = 0) block to
Lanczos with kernel deflation, component by component of the level transition graph, and finally to a
matrix-free block. Here the thresholds are lowered so that a small chain takes every path, and the
results are compared with the dense path (itself checked against the textbook brute force elsewhere).
"""

import numpy as np
import pytest

import davies_mb as dm
import davies_mb.davies as dv


@pytest.fixture(scope="module")
def chain_and_spectrum():
    chain = dm.xxz(8, 0.5, j2=0.3)
    return chain, dm.diagonalize(chain)


def _results(spec, A):
    gen = dm.DaviesGenerator(spec, A, dm.OhmicBath(beta=1.0), strength=0.1)
    rho0 = np.zeros((spec.dim, spec.dim))
    rho0[5, 5] = 1.0
    return gen.relaxation_rates(4), gen.kernel_dimension(), gen.stationary_state(rho0), gen.check()


@pytest.mark.parametrize("coupling, kernel", [("x0+z1", 1), ("z0", 9), ("x0", 2)])
@pytest.mark.parametrize("path", ["lanczos", "lanczos-components", "matrix-free"])
def test_large_paths_match_dense(monkeypatch, chain_and_spectrum, coupling, kernel, path):
    chain, spec = chain_and_spectrum
    A = chain.parse_operator(coupling)
    rates0, k0, rho0, _ = _results(spec, A)
    assert k0 == kernel  # open XXZ L=8 at Delta=0.5: z0 conserves S^z plus root-of-unity degeneracies
    monkeypatch.setattr(dv, "_DENSE_W0", 10)
    if path in ("lanczos-components", "matrix-free"):
        monkeypatch.setattr(dv, "_DENSE_COMPONENT", 5)
    if path == "matrix-free":
        monkeypatch.setattr(dv, "_MATRIX_FREE_BYTES", 1)
    rates1, k1, rho1, rep = _results(spec, A)
    assert k1 == k0
    np.testing.assert_allclose(rates1, rates0, rtol=1e-8, atol=0)
    assert np.max(np.abs(rho1 - rho0)) < 1e-9
    assert rep.ok(1e-9)
