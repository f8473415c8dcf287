"""The large-system code paths of the Davies generator agree with the exact dense ones.

Above size thresholds the generator switches from one dense eigh of the population (nu = 0) block to
its slow modes component by component of the level transition graph (a dense eigh per small component,
Lanczos with kernel deflation per large one), and finally to a matrix-free block. Here the thresholds
(module constants of ``davies_mb.davies``) are lowered so that a small chain takes every path, spies
confirm that the path was really taken (``scipy.sparse.linalg.eigsh`` called, the matrix-free operator
built), and the results are compared with the dense path (itself checked against the textbook brute
force elsewhere).
"""

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import davies_mb as dm
import davies_mb._davies_core as core
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


def _spy(monkeypatch, owner, name, calls):
    original = getattr(owner, name)

    def spy(*args, **kwargs):
        calls[name] = calls.get(name, 0) + 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)


@pytest.mark.parametrize("coupling, kernel", [("x0+z1", 1), ("z0", 9), ("x0", 2)])
@pytest.mark.parametrize("path", ["components-dense", "lanczos", "matrix-free"])
def test_large_paths_match_dense(monkeypatch, chain_and_spectrum, coupling, kernel, path):
    chain, spec = chain_and_spectrum
    A = chain.parse_operator(coupling)
    calls = {}
    _spy(monkeypatch, spla, "eigsh", calls)  # davies.py calls spla.eigsh: the module attribute is replaced
    _spy(monkeypatch, dv._Core, "_lanczos_top", calls)
    _spy(monkeypatch, dv._Core, "w0_operator", calls)
    rates0, k0, rho0, _ = _results(spec, A)
    assert calls == {}  # the reference is the dense path: one eigh of the whole nu = 0 block
    assert k0 == kernel  # open XXZ L=8 at Delta=0.5: z0 conserves S^z plus root-of-unity degeneracies
    monkeypatch.setattr(core, "_DENSE_W0", 10)  # past this the block is split into graph components
    if path in ("lanczos", "matrix-free"):
        monkeypatch.setattr(core, "_DENSE_COMPONENT", 5)  # components above this size go to Lanczos
    if path == "matrix-free":
        monkeypatch.setattr(core, "_MATRIX_FREE_BYTES", 1)  # the block is never stored
    rates1, k1, rho1, rep = _results(spec, A)
    assert calls.get("_lanczos_top", 0) >= 1
    if path == "components-dense":
        assert "eigsh" not in calls and "w0_operator" not in calls
    else:
        assert calls.get("eigsh", 0) >= 1, "the Lanczos path did not run"
        assert ("w0_operator" in calls) == (path == "matrix-free")
    assert k1 == k0
    np.testing.assert_allclose(rates1, rates0, rtol=1e-8, atol=0)
    assert np.max(np.abs(rho1 - rho0)) < 1e-9
    assert rep.ok(1e-9)
