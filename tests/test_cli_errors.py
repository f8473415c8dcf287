"""The command line answers bad input with one line on stderr and exit status 2 (issue 10, item 7).

Through ``main(argv)`` with capsys (the same code path as the ``davies-mb`` script); one case runs the
installed script in a subprocess to check the exit status the shell sees.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

import davies_mb as dm
from davies_mb.cli import build_parser, main


def _fails(capsys, argv, *needles):
    """Run ``davies-mb argv``; it must exit 2 with exactly one stderr line containing every needle."""
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse's own errors exit from parse_args
        rc = e.code
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert rc == 2, (argv, rc, err)
    assert len(lines) == 1, err
    assert lines[0].startswith(f"davies-mb {argv[0]}: error:") or lines[0].startswith("davies-mb: error:"), err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


@pytest.mark.parametrize("argv, needles", [
    (["gap", "--L", "4", "--sector", "k"], ["--sector", "'k'", "key=value", "sz=0"]),
    (["gap", "--L", "4", "--sector", "sz=abc"], ["--sector sz=abc", "must be a number", "key=value"]),
    (["gap", "--L", "4", "--sector", "spin=0"], ["--sector key 'spin'", "sz, k, parity, flip"]),
    (["gap", "--L", "4", "--sector", ""], ["--sector is empty"]),
    (["gap", "--L", "4", "--sector", "sz=0,sz=1"], ["twice"]),
    (["gap", "--L", "4", "--sector", "sz=inf"], ["finite"]),
    (["gap", "--L", "4", "--sector", "k=1"], ["translation"]),  # an open chain has no momentum
    (["gap", "--L", "4", "--sector", "sz=7"], ["sz=7"]),
    (["gap", "--L", "4", "--eta", "0"], ["--eta", "> 0", "'0'"]),
    (["gap", "--L", "4", "--eta", "-1"], ["--eta"]),
    (["gap", "--L", "4", "--cutoff", "nan"], ["--cutoff"]),
    (["gap", "--L", "4", "--strength", "0"], ["--strength"]),
    (["gap", "--L", "4", "--beta", "nan"], ["--beta"]),
    (["gap", "--L", "4", "--beta", "-2"], ["--beta", "> 0"]),
    (["gap", "--L", "4", "--beta", "hot"], ["--beta", "'hot'"]),
    (["gap", "--L", "abc"], ["--L", "'abc'"]),
    (["gap", "--L", "1"], ["L must be >= 2"]),
    (["gap", "--L", "4", "--delta", "nan"], ["delta"]),
    (["gap", "--L", "4", "--g", "1.0"], ["--g is not a parameter of the xxz model"]),
    (["gap", "--L", "4", "--coupling", "x9"], ["site 9"]),
    (["gap", "--L", "4", "--coupling", "q0"], ["q0"]),
    (["gap", "--L", "4", "--model", "potts"], ["--model", "potts"]),
    (["gap", "--L", "30"], ["GiB", "DAVIES_MB_MEMORY_LIMIT", "sector"]),  # refused before allocating
    (["teq", "--L", "4", "--lambdas", "a:b:c"], ["--lambdas"]),
    (["teq", "--L", "4", "--epsilon", "0"], ["--epsilon"]),
    (["teq", "--L", "4", "--no-save", "--initial", "0101x"], ["initial state", "bit string"]),
    (["teq", "--L", "4", "--no-save", "--sector", "sz=abc"], ["--sector sz=abc"]),
    (["conserved", "--L", "4", "--initial", "sideways"], ["--initial"]),
    (["eth", "--L", "4", "--discard", "0.7"], ["discard"]),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, needles):
    _fails(capsys, argv, *needles)


def test_teq_strength_is_gone_and_sector_works(capsys, tmp_path):
    """--strength meant nothing to teq (the strengths are --lambdas): it is no longer accepted; --sector is used."""
    assert "--strength" not in build_parser()._subparsers._group_actions[0].choices["teq"].format_help()
    _fails(capsys, ["teq", "--L", "4", "--strength", "0.1", "--no-save"], "--strength")
    rc = main(["teq", "--L", "6", "--delta", "0.5", "--coupling", "z0", "--lambdas", "0.01,0.1",
               "--sector", "sz=0", "--no-save", "--no-two-step", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    # independently: the same scan on the sz = 0 sector through the public API
    chain = dm.xxz(6, 0.5)
    ref = dm.teq_scan(chain, chain.parse_operator("z0"), dm.OhmicBath(beta=1.0), [0.01, 0.1],
                      sector=dict(sz=0), progress=False)
    np.testing.assert_allclose(out["t_gap"], ref.t_gap, rtol=1e-12)
    with pytest.warns(UserWarning, match="stationary states"):
        full = dm.teq_scan(chain, chain.parse_operator("z0"), dm.OhmicBath(beta=1.0), [0.01, 0.1], progress=False)
    # z0 conserves S^z: the full space has one stationary state per S^z sector, the sector has fewer
    assert out["stationary_states"] == ref.stationary_states < full.stationary_states


def test_out_into_a_file_fails_before_computing(capsys, tmp_path, monkeypatch):
    target = tmp_path / "a_file"
    target.write_text("keep me")

    def never(*a, **k):
        raise AssertionError("the scan ran before --out was checked")

    monkeypatch.setattr(dm, "teq_scan", never)
    line = _fails(capsys, ["teq", "--L", "4", "--out", str(target)], "--out", "a_file", "not a folder")
    assert target.read_text() == "keep me"
    # a folder below a file cannot be created either
    _fails(capsys, ["teq", "--L", "4", "--out", str(target / "sub")], "--out")
    _fails(capsys, ["demo", "--L", "4", "--out", str(target)], "--out")
    assert "Traceback" not in line


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="permissions: POSIX, not root")
def test_out_into_a_read_only_folder_fails_before_computing(capsys, tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    monkeypatch.setattr(dm, "teq_scan", lambda *a, **k: (_ for _ in ()).throw(AssertionError("ran")))
    try:
        _fails(capsys, ["teq", "--L", "4", "--out", str(ro / "x")], "--out")
        _fails(capsys, ["teq", "--L", "4", "--out", str(ro)], "--out", "not writable")
    finally:
        ro.chmod(0o700)


def test_beta_inf_parses_to_numpy_inf():
    a = build_parser().parse_args(["gap", "--beta", "inf"])
    assert a.beta == np.inf and isinstance(a.beta, float)
    assert build_parser().parse_args(["gap", "--beta", "2.5"]).beta == 2.5


def test_result_files_are_atomic_and_0644(tmp_path, capsys):
    """mkstemp files are 0600; results get 0666 less the umask (0644 under the usual 022)."""
    from davies_mb.io import load_json, save_json

    old = os.umask(0o022)
    try:
        p = save_json(tmp_path / "r" / "x.json", {"a": np.arange(3)}, params={"L": 4})
        assert stat.S_IMODE(p.stat().st_mode) == 0o644
        assert load_json(p)["data"]["a"] == [0, 1, 2]
        rc = main(["teq", "--L", "4", "--lambdas", "0.01,0.1", "--n-times", "50", "--no-two-step",
                   "--out", str(tmp_path / "teq"), "--json"])
        assert rc == 0
        for f in (tmp_path / "teq").iterdir():
            assert stat.S_IMODE(f.stat().st_mode) == 0o644, f
        assert sorted(f.name for f in (tmp_path / "teq").iterdir()) == ["teq.json", "teq_scaling.png"]
        os.umask(0o077)
        q = save_json(tmp_path / "y.json", {})
        assert stat.S_IMODE(q.stat().st_mode) == 0o600  # the umask is honoured
    finally:
        os.umask(old)
    # an unserializable payload fails before anything is written, and leaves no temporary file
    with pytest.raises(TypeError):
        save_json(tmp_path / "z.json", {"bad": object()})
    assert not (tmp_path / "z.json").exists()
    assert not [f for f in tmp_path.iterdir() if f.name.endswith(".tmp") or ".tmp." in f.name]


def test_gge_xx_at_infinite_temperature_target(capsys):
    """`davies-mb gge --model xx --L 20 --theta 0` failed (mu diverges at beta = 0 and N != L/2)."""
    assert main(["gge", "--model", "xx", "--L", "20", "--theta", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # even sites up (theta = 0), odd sites at pi/3: zero XX energy = the beta = 0 energy at this filling,
    # N = 10 + 10 cos^2(pi/6) = 17.5 up spins: n = 0.875, beta * mu = ln(n / (1 - n))
    assert out["beta"] == 0.0
    assert out["beta_mu"] == pytest.approx(np.log(0.875 / 0.125), abs=1e-12)
    # infinite-temperature Gibbs at filling n: <S^z_i S^z_i+1> = (n - 1/2)^2, no hopping correlations
    assert out["gibbs"]["SzSz"] == pytest.approx(0.375**2, abs=1e-12)
    assert abs(out["gibbs"]["SxSx+SySy"]) < 1e-12


def test_installed_script_exit_status():
    exe = os.path.join(os.path.dirname(sys.executable), "davies-mb")
    cmd = [exe] if os.path.exists(exe) else [sys.executable, "-m", "davies_mb.cli"]
    r = subprocess.run(cmd + ["gap", "--L", "4", "--sector", "sz=abc"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "davies-mb gap: error: --sector sz=abc" in r.stderr
