"""The README's planning example, over its full year, as a new user runs it.

``vpp size scenarios/xushuguan-factory-planning.yaml`` must solve: it once ended with
HiGHS status ``Unknown`` (exit 4) when the interior point stalled on the badly scaled
year. The model is now scaled (HiGHS gives no scaling warning), and a stalled strategy
falls back to the next (:mod:`vpp.model.strategies`). About 20-40 s.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import vpp
import vpp.cli
from vpp.model import highs_log

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "xushuguan-factory-planning.yaml"


@pytest.mark.slow
def test_the_readme_planning_example_solves_over_its_full_year(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(highs_log, "PROGRESS_EVERY_S", 0.5)  # the solve takes seconds
    out = tmp_path / "sizing"
    code = vpp.cli.main(["size", str(EXAMPLE), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err  # the self-check (sized bill == sizing objective) passed too
    summary = json.loads((out / "summary.json").read_text())
    assert summary["horizon_years"] == pytest.approx(1.0)
    solver = summary["solver"]
    assert solver["status"] == "Optimal"
    assert solver["warnings"] == []  # no scaling warning from HiGHS
    assert "HiGHS interior point:" in err  # progress while solving, not minutes of silence
    # the sized scenario is a scenario a user can run again
    assert vpp.load_scenario(out / "sized-scenario.yaml", allow_outside=True).site.batteries


EMC_EXAMPLE = ROOT / "scenarios" / "xushuguan-factory-emc.yaml"
#: The issue's bar for the bill error on typical days (12 plus the month-peak days) [-].
TYPICAL_BILL_ERROR_BOUND = 0.02


@pytest.mark.slow
def test_the_emc_planning_example_sizes_on_typical_days_and_reports_every_part(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The second planning example: typical days, an energy-management contract with
    tax, subsidy and debt, and battery fade. Its report shows the limit flags, the finance
    by party and the ageing (issue 16, done when)."""
    out = tmp_path / "sizing"
    code = vpp.cli.main(["size", str(EMC_EXAMPLE), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    rp = summary["representative_periods"]
    assert rp["typical_days"] >= 12 and rp["extreme_days"]
    assert abs(rp["bill_error_fraction"]) < TYPICAL_BILL_ERROR_BOUND
    # each month's billed peak on the typical days against the full-year run's, reported
    dispatch = json.loads((out / "dispatch" / "summary.json").read_text())
    peaks = rp["peak_error"]["by_month"]
    assert set(peaks) == set(dispatch["peak_import_kw"]) and len(peaks) == 12
    for month, row in peaks.items():
        assert row["full_kw"] == pytest.approx(dispatch["peak_import_kw"][month])
        assert row["error_fraction"] == pytest.approx(row["typical_kw"] / row["full_kw"] - 1.0)
    parties = summary["finance"]["by_party"]["parties"]
    assert {"investor", "host"} <= set(parties)
    efc = summary["finance"]["battery_fade"]["bess"]["equivalent_full_cycles_per_year"]
    assert 0.0 < efc["nameplate"] < efc["usable"]  # usable capacity is the smaller one
    report = (out / "report.html").read_text()
    for heading in ("Chosen sizes", "Finance by party", "Battery ageing"):
        assert f"<h2>{heading}" in report
    assert "limit, not the economics" in report
