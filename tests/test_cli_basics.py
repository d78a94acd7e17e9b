"""The ``vpp`` command's basics: --version, -q and -v before or after the subcommand."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from helpers import battery, scenario_dict, write_scenario

import vpp.cli


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A 24-step site with a battery: solved in well under a second. Its output folder is
    not written (the figures would take most of the time; tests/test_demo.py writes it)."""
    import vpp.report.files

    monkeypatch.setattr(vpp.report.files, "write_run", lambda result, out: [])
    price = [0.3] * 12 + [0.9] * 12
    batteries = [battery(energy_kwh=50.0, power_kw=25.0)]
    data = scenario_dict(tmp_path, [100.0] * 24, price=price, batteries=batteries)
    return write_scenario(tmp_path, data)


def test_version_is_the_installed_one(capsys):
    with pytest.raises(SystemExit) as exc:
        vpp.cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"vpp {version('vpp')}"


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_silences_progress_not_results(tiny, tmp_path, capsys, where):
    args = ["run", str(tiny), "--out", str(tmp_path / "out")]
    assert vpp.cli.main(args) == 0  # by default: progress lines on stderr
    lines = capsys.readouterr().err.splitlines()
    assert any(line.startswith("[") and "solving with HiGHS" in line for line in lines)
    argv = ["-q", *args] if where == "before" else [*args, "--quiet"]
    assert vpp.cli.main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "bill [CNY]" in captured.out  # the result still prints


def test_quiet_still_prints_errors(tmp_path, capsys):
    code = vpp.cli.main(["run", "-q", str(tmp_path / "missing.yaml")])
    assert code == 2
    assert "vpp: error" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_adds_stage_timings_and_solver_detail(tiny, tmp_path, capsys, where):
    args = ["run", str(tiny), "--out", str(tmp_path / "out")]
    argv = ["-v", *args] if where == "before" else [*args, "-v"]
    assert vpp.cli.main(argv) == 0
    err = capsys.readouterr().err
    stage = [line for line in err.splitlines() if "solving with HiGHS" in line]
    assert stage and " s, +" in stage[0]  # [ elapsed s, +stage s]
    assert "HiGHS: Optimal" in err


def test_quiet_after_verbose_before_resets(tiny, tmp_path, capsys):
    """Each call sets the output level again: a quiet call after a verbose one is quiet."""
    out = str(tmp_path / "out")
    assert vpp.cli.main(["-v", "run", str(tiny), "--out", out]) == 0
    capsys.readouterr()
    assert vpp.cli.main(["-q", "run", str(tiny), "--out", out]) == 0
    assert capsys.readouterr().err == ""


def test_quiet_and_verbose_together_are_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        vpp.cli.main(["-q", "tariffs", "-v"])
    assert exc.value.code == 2
    assert "-q (quiet) and -v (verbose) contradict" in capsys.readouterr().err


def test_sweep_progress_bar_follows_quiet(capsys):
    """The sweep's bar (vpp.parallel.progress_bar) is off with -q, on otherwise."""
    from vpp.console import configure_output, progress_bar

    try:
        configure_output(quiet=True, verbose=0)
        progress_bar()(1, 2)
        assert capsys.readouterr().err == ""
        configure_output(quiet=False, verbose=0)
        progress_bar()(2, 2)
        assert "2/2 runs" in capsys.readouterr().err
    finally:
        configure_output(quiet=False, verbose=0)
