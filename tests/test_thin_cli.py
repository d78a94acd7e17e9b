"""The command line is thin: ``vpp doctor`` and ``vpp forecast`` call one public function
of the package each (:func:`vpp.doctor.doctor`, :func:`vpp.report.forecast_run.run_forecast`),
which gives what the command prints."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

import vpp.cli
from vpp.doctor import doctor
from vpp.report.forecast_run import run_forecast

REPO = Path(__file__).resolve().parent.parent


def test_doctor_checks_highs_and_pvlib(capsys):
    report = doctor()
    assert report.ok
    assert report.lines[0].startswith("vpp ")
    assert any(line == "HiGHS in memory: ok" for line in report.lines)
    assert any(line.startswith("pvlib clear sky") and line.endswith(" ok") for line in report.lines)
    assert vpp.cli.main(["doctor"]) == 0
    assert capsys.readouterr().out.splitlines() == report.lines


def test_run_forecast_writes_the_day_ahead_forecast(tmp_path, monkeypatch, capsys):
    for folder in ("scenarios", "forecasts"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    scenario = Path("scenarios") / "xushuguan-factory-next-day.yaml"
    outcome = run_forecast(scenario, out="mine")
    assert sorted(p.name for p in outcome.written) == [
        "pv_forecast.csv",
        "pv_forecast.parquet",
        "pv_forecast.png",
    ]
    frame = pd.read_csv(tmp_path / "mine" / "pv_forecast.csv")
    assert {"roof", "carport"} <= {c.split("_")[0] for c in frame.columns}
    assert outcome.text.splitlines()[0].startswith("forecast xushuguan-2026-07-15.csv")
    assert vpp.cli.main(["forecast", str(scenario), "--out", "cli"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(outcome.text + "\n")
    assert (tmp_path / "cli" / "pv_forecast.csv").read_bytes() == (
        tmp_path / "mine" / "pv_forecast.csv"
    ).read_bytes()
