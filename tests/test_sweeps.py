"""Sweeps: description validation, grouping, dask vs serial, kill and resume, failures, load to xarray.

Every value a sweep stores is checked against the public API called directly in the test (an independent
construction of the same chain, bath and generator), and against analytic facts: Davies rates scale as
lambda^2 (PHYSICS.md section 4), an XXZ chain without fields coupled through sigma^x only conserves
prod sigma^x (2 stationary states, section 4), and a unique stationary state is the Gibbs state.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

import davies_mb as dm
from davies_mb import sweeps

import distributed  # noqa: F401,E402 - in the test extra: a failing import must fail, not skip
import xarray  # noqa: F401,E402

ROOT = Path(__file__).resolve().parents[1]

# tiny chains: L = 4, 5; two couplings, one that keeps the hidden parity prod sigma^x and one that does not
BASE = {
    "name": "tiny",
    "strength": [0.05, 0.2],
    "quantities": ["gap", "gap_lambda2", "kernel_dim", "t_eq_lambda2_gap", "t_eq_distance", "exponent_gap",
                   "distance_to_gibbs", "conserved_flip", "r_mean", "dim"],
    "model": {"family": "xxz", "L": [4, 5], "bc": "open", "delta": 0.9, "j2": 0.3},
    "couplings": {"x": "x0", "xz": "x0+z1"},
    "bath": {"kind": "ohmic", "beta": [0.5, 1.0], "eta": 1.0, "cutoff": 5.0},
    "options": {"n_times": 60},
}


def _values(store) -> dict:
    """{key: record data} of every point file in a store."""
    out = {}
    for p in sorted((Path(store) / "points").glob("*.json")):
        out[p.stem] = json.loads(p.read_text())["data"]
    return out


@pytest.fixture(scope="module")
def serial_store(tmp_path_factory):
    store = tmp_path_factory.mktemp("serial")
    rep = sweeps.run(BASE, store, serial=True, progress=False)
    assert rep.done == 16 and rep.failed == 0
    return store


_NUMBA_ENV_BEFORE = os.environ.get("NUMBA_NUM_THREADS")


@pytest.fixture(scope="module")
def client():
    """One 2-worker LocalCluster for the module (start-up is slow)."""
    from distributed import Client

    cluster = sweeps.local_cluster(2, memory_limit="2GiB")
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


# -- description ---------------------------------------------------------------------------------------
def test_grids():
    assert sweeps.parse_grid("x", "0.5:1.5:3") == [0.5, 1.0, 1.5]
    assert_allclose(sweeps.parse_grid("x", "1e-3:1e-1:3:log"), [1e-3, 1e-2, 1e-1], rtol=1e-12)
    assert sweeps.parse_grid("x", "0:0.3:4") == [0.0, 0.1, 0.2, 0.3]  # canonical floats, no 0.30000000000000004
    assert sweeps.parse_grid("L", [4, 6], integer=True) == [4, 6]
    with pytest.raises(ValueError, match="'model.delta'.*lo:hi:n"):
        sweeps.parse_grid("model.delta", "0.5:1.5")
    with pytest.raises(ValueError, match="'strength'.*log grid"):
        sweeps.parse_grid("strength", "0:1:3:log")
    with pytest.raises(ValueError, match="'model.L'.*integers"):
        sweeps.parse_grid("model.L", [4.5], integer=True)


def test_sweep_axes_and_keys():
    sw = sweeps.load_sweep(BASE)
    assert sw.dims == ["L", "coupling", "beta", "strength"]
    assert sw.n_points == 16
    pts = sw.points()
    assert len({p.key for p in pts}) == 16
    # the key is the hash of the canonical parameters and the version: a new version is a new point
    assert {p.key for p in sw.points(version="0.0.0")}.isdisjoint({p.key for p in pts})
    # the same description as TOML gives the same keys
    toml = (ROOT / "studies" / "sweep_example.toml").read_text()
    a, b = sweeps.load_sweep(toml), sweeps.load_sweep(ROOT / "studies" / "sweep_example.toml")
    assert [p.key for p in a.points()] == [p.key for p in b.points()]
    assert a.n_points == 16


@pytest.mark.parametrize("change, match", [
    ({"quantities": ["gap", "gapp"]}, r"'quantities': unknown name 'gapp' \(did you mean 'gap'\?\)"),
    ({"quantities": ["t_eq_fit_magnetization"]}, r"'quantities': unknown name 't_eq_fit_magnetization'"),
    ({"model": {"family": "xxz", "L": 4, "detla": 0.5}}, r"'model': unknown name 'detla' \(did you mean 'delta'\?\)"),
    ({"model": {"family": "tfim", "L": 4, "delta": 0.5}}, r"'model': unknown name 'delta'"),
    ({"model": {"family": "xxz", "delta": 0.5}}, r"'model.L' is missing"),
    ({"model": {"family": "xzz", "L": 4}}, r"'model.family': unknown name 'xzz'"),
    ({"bath": {"beta": 1.0, "temperature": 2}}, r"'bath': unknown name 'temperature'"),
    ({"bath": {"beta": [1.0, -1.0]}}, r"'bath.beta': values must be > 0"),
    ({"couplings": {"far": "x7"}}, r"'couplings.far'.*site 7"),
    ({"strength": "0.1:0.01"}, r"'strength'.*lo:hi:n"),
    ({"options": {"epsilon": 2.0}}, r"'options.epsilon'"),
    ({"speed": 3}, r"'<top level>': unknown name 'speed'"),
])
def test_bad_descriptions_name_the_key(change, match):
    with pytest.raises(ValueError, match=match):
        sweeps.load_sweep(BASE | change)


def test_refused_before_anything_runs(tmp_path, capsys):
    store = tmp_path / "store"
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text('name = "bad"\nstrength = [0.1\n[model]\nL = 4\n')
    with pytest.raises(ValueError, match="not valid TOML"):
        sweeps.run(bad_toml, store, serial=True)
    with pytest.raises(ValueError, match="unknown name 'gapp'"):
        sweeps.run(BASE | {"quantities": ["gapp"]}, store, serial=True)
    assert not store.exists()
    # the command line refuses it with exit code 2 and writes nothing
    from davies_mb.cli import main

    assert main(["sweep", "run", str(bad_toml), "--store", str(store)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert not store.exists()
    # --plan reports the plan and runs nothing
    good = tmp_path / "good.toml"
    good.write_text((ROOT / "studies" / "sweep_example.toml").read_text())
    assert main(["sweep", "run", str(good), "--store", str(store), "--plan"]) == 0
    out = capsys.readouterr().out
    assert "16 points in 8 tasks (8 diagonalizations, 8 generators)" in out and "memory per task" in out
    assert not store.exists()


def test_thread_limits_are_restored():
    import numba
    from threadpoolctl import threadpool_info

    from davies_mb.sweeps.compute import limit_threads

    def state():
        return {p["filepath"]: p["num_threads"] for p in threadpool_info()}, numba.get_num_threads()

    (pools, nb) = state()
    with limit_threads(1):
        assert all(n == 1 for n in state()[0].values())
        assert numba.get_num_threads() == 1
    after, nb_after = state()
    assert nb_after == nb and all(after[f] == n for f, n in pools.items())


# -- planning ------------------------------------------------------------------------------------------
def test_plan_groups_one_diagonalization_per_chain(monkeypatch):
    sw = BASE | {"quantities": ["gap", "kernel_dim"], "strength": [0.01, 0.03, 0.1],
                 "model": BASE["model"] | {"delta": [0.5, 0.9]}}
    pl = sweeps.plan(sw)
    assert len(pl.tasks) == 4  # 2 L x 2 delta chains
    assert pl.n_generators == 4 * 2 * 2  # x 2 couplings x 2 betas
    assert pl.n_points == 4 * 2 * 2 * 3
    # count what the tasks really build: one diagonalization per chain, one generator per (coupling, bath)
    calls = {"diag": 0, "gen": 0}
    diag, init = dm.diagonalize, dm.DaviesGenerator.__init__

    def counting_diag(*a, **k):
        calls["diag"] += 1
        return diag(*a, **k)

    def counting_init(self, *a, _core=None, **k):
        calls["gen"] += _core is None
        return init(self, *a, _core=_core, **k)

    monkeypatch.setattr(dm, "diagonalize", counting_diag)
    monkeypatch.setattr(dm.DaviesGenerator, "__init__", counting_init)
    for t in pl.tasks:
        recs = sweeps.compute_task(t.payload(pl.sweep.quantities, pl.sweep.options))
        assert all(r["status"] == "done" for r in recs)
    assert calls == {"diag": 4, "gen": 16}


def test_plan_refuses_tasks_that_do_not_fit():
    pl = sweeps.plan(BASE)
    assert all(t.memory > 0 for t in pl.tasks)
    big = max(pl.tasks, key=lambda t: t.n)
    assert big.n == 32 and big.memory >= 4 * 32 * 32 * 8
    with pytest.raises(MemoryError, match=r"the task xxz\(L=5"):
        sweeps.plan(BASE, worker_memory=big.memory - 1)


# -- values against the public API called directly --------------------------------------------------------
def test_values_match_direct_computation(serial_store):
    ds = sweeps.load(serial_store)
    assert (ds["status"] == 1).all()
    for L in (4, 5):
        chain = dm.xxz(L, 0.9, j2=0.3)
        spec = dm.diagonalize(chain)
        r_mean = dm.eth.sector_level_statistics(chain, (L % 2) / 2).mean
        for cname, op in (("x", "x0"), ("xz", "x0+z1")):
            for beta in (0.5, 1.0):
                gen = dm.DaviesGenerator(spec, [chain.parse_operator(op)], dm.OhmicBath(beta=beta, eta=1.0, cutoff=5.0))
                pt = ds.sel(L=L, coupling=cname, beta=beta)
                for lam in (0.05, 0.2):
                    g = gen.with_strength(lam)
                    assert_allclose(pt["gap"].sel(strength=lam), g.gap(), rtol=1e-9)
                    assert_allclose(pt["gap_lambda2"].sel(strength=lam), g.gap() / lam**2, rtol=1e-9)
                    assert_allclose(pt["t_eq_lambda2_gap"].sel(strength=lam), lam**2 / g.gap(), rtol=1e-9)
                # Davies covariance: gap / lambda^2 and t_eq lambda^2 do not depend on lambda; exponent -2
                assert_allclose(pt["gap_lambda2"].values, pt["gap_lambda2"].values[0], rtol=1e-9)
                assert_allclose(pt["t_eq_distance"].values * np.array([0.05, 0.2]) ** 2,
                                pt["t_eq_distance"].values[0] * 0.05**2, rtol=1e-6)
                assert_allclose(pt["exponent_gap"].values, -2.0, atol=1e-9)
                # hidden parity: sigma^x coupling without fields keeps prod sigma^x (2 stationary states)
                k = 2 if cname == "x" else 1
                assert (pt["kernel_dim"].values == k).all()
                assert (pt["conserved_flip"].values == (1.0 if cname == "x" else 0.0)).all()
                assert_allclose(pt["dim"].values, 2**L)
                assert_allclose(pt["r_mean"].values, r_mean, rtol=1e-12)
                if k == 1:  # a unique stationary state is the Gibbs state
                    assert (pt["distance_to_gibbs"].values < 1e-8).all()
                else:  # the final state keeps the Neel state's parity weights (1/2 each, as <P_x> = 0)
                    psi = dm.product_state(L, "neel")
                    rho_inf = gen.stationary_state(np.outer(psi, psi))
                    d = dm.trace_distance(rho_inf, spec.gibbs(beta))
                    assert_allclose(pt["distance_to_gibbs"].values, d, rtol=1e-8, atol=1e-12)


def test_gap_against_the_dense_superoperator(serial_store):
    """Independent of the Davies block code: eigenvalues of the full d^2 x d^2 superoperator (L = 4)."""
    ds = sweeps.load(serial_store)
    chain = dm.xxz(4, 0.9, j2=0.3)
    gen = dm.DaviesGenerator(dm.diagonalize(chain), [chain.parse_operator("x0+z1")], dm.OhmicBath(beta=1.0),
                             strength=0.2)
    mu = np.linalg.eigvals(gen.superoperator())
    rates = np.sort(-mu.real)
    gap = rates[rates > 1e-10][0]
    assert_allclose(ds["gap"].sel(L=4, coupling="xz", beta=1.0, strength=0.2), gap, rtol=1e-8)


# -- dask ----------------------------------------------------------------------------------------------
def test_two_workers_equal_serial(client, serial_store, tmp_path):
    rep = sweeps.run(BASE, tmp_path / "dask", client=client, progress=False)
    assert rep.done == 16 and rep.failed == 0 and rep.workers == 2
    a, b = _values(serial_store), _values(tmp_path / "dask")
    assert a.keys() == b.keys() and len(a) == 16
    workers = {b[k]["worker"] for k in b}
    assert len(workers) == 2  # both workers computed points
    for k in a:
        assert a[k]["status"] == b[k]["status"] == "done"
        assert a[k]["values"].keys() == b[k]["values"].keys()
        for q, v in a[k]["values"].items():
            assert_allclose(b[k]["values"][q], v, rtol=1e-9, atol=1e-14, err_msg=f"{k} {q}")
    # one BLAS/OpenMP/numba thread per worker process (no oversubscription)
    envs = client.run(lambda: {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                              "NUMBA_NUM_THREADS")})
    assert all(v == "1" for env in envs.values() for v in env.values()), envs
    # ... and only there: the caller's environment is left alone (a NUMBA_NUM_THREADS=1 left behind made
    # numba refuse its next config reload in this process, breaking later numba work)
    assert os.environ.get("NUMBA_NUM_THREADS") == _NUMBA_ENV_BEFORE
    # resuming a complete store computes nothing
    rep2 = sweeps.run(BASE, tmp_path / "dask", client=client, progress=False)
    assert (rep2.done, rep2.failed, rep2.skipped) == (0, 0, 16)


def test_failing_point_is_recorded_and_not_retried(client, tmp_path, capsys):
    # sz = 3 does not exist at L = 4 (|S^z| <= 2): that task fails, the sz = 0 one finishes;
    # the coupling z0 keeps S^z, so the sector computation is valid
    desc = {"name": "fails", "strength": [0.1], "quantities": ["gap", "kernel_dim"],
            "model": {"family": "xxz", "L": 4, "delta": 0.5, "sector": [{"sz": 0}, {"sz": 3}]},
            "couplings": {"z": "z0"}, "bath": {"beta": 1.0}}
    store = tmp_path / "fails"
    rep = sweeps.run(desc, store, client=client, progress=False)
    assert (rep.done, rep.failed) == (1, 1)
    st = sweeps.status(store)
    assert (st.total, st.done, st.failed, st.missing) == (2, 1, 1, 0)
    (key, msg), = st.errors.items()
    assert st.failed_coords[key]["sector"] == "sz=3" and "sz" in msg and "ValueError" in msg
    ds = sweeps.load(store)
    assert ds["status"].sel(sector="sz=3") == 2 and np.isnan(ds["gap"].sel(sector="sz=3"))
    chain = dm.xxz(4, 0.5)
    gen = dm.DaviesGenerator(dm.diagonalize(chain, sector={"sz": 0}), [chain.pauli("z", 0)], dm.OhmicBath(beta=1.0),
                             strength=0.1)
    assert_allclose(ds["gap"].sel(sector="sz=0"), gen.gap(), rtol=1e-9)
    # not retried unless asked
    assert sweeps.run(desc, store, client=client, progress=False).failed == 0
    # retried with retry_failed, here through the scheduler's address (the `--scheduler ADDR` route)
    rep = sweeps.run(desc, store, scheduler=client.scheduler.address, progress=False, retry_failed=True)
    assert (rep.done, rep.failed, rep.skipped, rep.workers) == (0, 1, 1, 2)
    # the command line reports it
    from davies_mb.cli import main

    capsys.readouterr()
    assert main(["sweep", "status", str(store), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["total"], out["done"], out["failed"], out["missing"]) == (2, 1, 1, 0)
    assert "sz" in out["errors"][0]["error"]


# -- kill and resume -----------------------------------------------------------------------------------
KILL = BASE | {"name": "kill", "quantities": ["gap", "kernel_dim", "t_eq_distance"],
               "model": {"family": "xxz", "L": [4, 5], "delta": "0.1:0.9:4", "j2": 0.3},
               "couplings": {"xz": "x0+z1"}, "bath": {"beta": 1.0}}


def test_sigkill_then_resume(tmp_path):
    desc = tmp_path / "kill.toml"
    sw = sweeps.load_sweep(KILL)
    total = sw.n_points  # 2 L x 4 delta x 2 strengths = 16 points in 8 tasks
    desc.write_text(_to_toml(KILL))  # through TOML, as from the command line
    store = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "davies_mb.cli", "sweep", "run", str(desc), "--store", str(store),
                             "--serial", "--quiet"], cwd=tmp_path, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    points = store / "points"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        n = len(list(points.glob("*.json"))) if points.is_dir() else 0
        if n >= 2:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name: p.read_bytes() for p in points.glob("*.json")}
    assert 2 <= len(before) < total, "the kill must land partway"
    written = []
    rep = sweeps.run(desc, store, serial=True, progress=False, on_record=lambda r: written.append(r["key"]))
    # every point exactly once: the resumed run wrote only the missing ones, the old files are untouched
    assert rep.skipped == len(before) and rep.done == total - len(before)
    assert len(written) == len(set(written)) == total - len(before)
    assert not {k + ".json" for k in written} & before.keys()
    after = {p.name: p.read_bytes() for p in points.glob("*.json")}
    assert len(after) == total and not list(points.glob("*.tmp"))
    assert all(after[n] == b for n, b in before.items())
    # and the values equal an uninterrupted run
    ref = tmp_path / "ref"
    sweeps.run(KILL, ref, serial=True, progress=False)
    a, b = _values(store), _values(ref)
    assert a.keys() == b.keys()
    for k in a:
        for q, v in a[k]["values"].items():
            assert_allclose(b[k]["values"][q], v, rtol=1e-9, err_msg=f"{k} {q}")
    assert sweeps.status(store).missing == 0


def _to_toml(d: dict) -> str:
    """A small TOML writer for the test's description (top-level keys first, then one table per dict)."""
    def val(v):
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {val(x)}" for k, x in v.items()) + "}"
        return repr(v)

    lines = [f"{k} = {val(v)}" for k, v in d.items() if not isinstance(v, dict)]
    for k, v in d.items():
        if isinstance(v, dict):
            lines.append(f"[{k}]")
            lines += [f"{kk} = {val(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


# -- xarray, export, plot --------------------------------------------------------------------------------
def test_load_missing_points_are_nan_and_export(serial_store, tmp_path):
    import shutil

    import xarray as xr

    part = tmp_path / "part"
    shutil.copytree(serial_store, part)
    gone = sorted((part / "points").glob("*.json"))[:5]
    for p in gone:
        p.unlink()
    ds = sweeps.load(part)
    assert int((ds["status"] == 0).sum()) == 5 and int(np.isnan(ds["gap"]).sum()) == 5
    assert sweeps.status(part).missing == 5
    full = sweeps.load(serial_store)
    assert full["gap"].dims == ("L", "coupling", "beta", "strength")
    assert full.attrs["fixed_j2"] == 0.3 and full.attrs["fixed_delta"] == 0.9
    assert "Davies gap" in full["gap"].attrs["description"]
    full.to_netcdf(tmp_path / "sweep.nc")
    back = xr.load_dataset(tmp_path / "sweep.nc")
    assert_allclose(back["gap"].values, full["gap"].values)


def test_plot_cli(serial_store, tmp_path):
    from davies_mb.cli import main

    out = tmp_path / "h.png"
    assert main(["sweep", "plot", str(serial_store), "--x", "beta", "--y", "L", "--quantity", "gap_lambda2",
                 "--select", "strength=0.05", "--out", str(out)]) == 0
    assert out.stat().st_size > 1000
    assert main(["sweep", "plot", str(serial_store), "--x", "beta", "--y", "spin", "--out", str(out)]) == 2
