"""The park as one virtual power plant: shared limit, decomposition, demand response, bad input.

- The shared limit holds at every step, and binds when set below the unconstrained peak.
- Dantzig-Wolfe decomposition gives the monolithic optimum (the same LP, solved apart).
- The demand-response settlement in the summary is the rules' settlement of the
  schedules: effective response = baseline mean - metered mean, recomputed here.
- Every site's result passes the invariants of every solved case.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import check_invariants

import vpp.cli
from vpp.errors import EXIT_INFEASIBLE, DataError, InfeasibleError, ScenarioError
from vpp.portfolio.park import load_park
from vpp.portfolio.run import run_park

ROOT = Path(__file__).resolve().parent.parent
PARK = ROOT / "scenarios" / "park" / "xushuguan-park.yaml"
#: Park costs, monolithic vs decomposed [-].
COST_RTOL = 1e-6
#: The shared limit at every step [kW].
LIMIT_TOL_KW = 1e-5


def park_file(tmp_path: Path, **changes: object) -> Path:
    """The demo park with ``changes``, in ``tmp_path`` with a copy of its site files (a
    park reads files inside its project folder only, README 'Scenario files')."""
    data = yaml.safe_load(PARK.read_text())
    shutil.copytree(PARK.parent / "sites", tmp_path / "sites", dirs_exist_ok=True)
    data.update(changes)
    path = tmp_path / "park.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo park with a shared limit that binds (7,000 kW instead of 7,500)."""
    return park_file(tmp_path_factory.mktemp("tight"), shared_limit_kw=7000)


def test_decomposed_equals_monolithic_and_the_limit_holds(tight: Path) -> None:
    park = load_park(tight)
    mono = run_park(park, method="monolithic")
    deco = run_park(park, method="decomposed")
    assert mono.summary["total_cost_cny"] == pytest.approx(
        deco.summary["total_cost_cny"], rel=COST_RTOL
    )
    assert mono.summary["dr_payment_cny"] == pytest.approx(
        deco.summary["dr_payment_cny"], rel=COST_RTOL, abs=1e-6
    )
    for result in (mono, deco):
        net = result.schedule["park_net_import_kw"].to_numpy()
        assert np.all(np.abs(net) <= 7000 + LIMIT_TOL_KW)
        for site in result.sites.values():
            check_invariants(site)
    assert mono.summary["shared_limit"]["binding_steps"] > 0
    assert deco.summary["solve"]["iterations"] >= 2


def test_demand_response_is_offered_delivered_and_settled() -> None:
    result = run_park(load_park(PARK))
    (event,) = result.summary["demand_response"]
    steps = result.schedule.index.tz_localize(None)
    inside = (steps >= np.datetime64(event["start"])) & (steps < np.datetime64(event["end"]))
    metered = result.schedule.loc[inside, "park_net_import_kw"].to_numpy()
    settled = event["settlement"]
    assert settled["metered_mean_kw"] == pytest.approx(metered.mean(), rel=1e-9)
    effective = settled["baseline_mean_kw"] - settled["metered_mean_kw"]
    assert settled["effective_kw"] == pytest.approx(effective, rel=1e-9)
    offered = event["offered_kw"]
    assert offered > 0.0 and effective >= offered - 1e-6  # the plant delivers its offer
    paid = min(effective, settled["cap_fraction"] * offered)
    assert settled["payment_cny"] == pytest.approx(paid * event["payment_cny_per_kw"], rel=1e-9)
    shares = event["payment_by_site_cny"]
    assert sum(shares.values()) == pytest.approx(settled["payment_cny"], rel=1e-9)
    delivered = event["delivered_kw_by_site"]
    assert sum(delivered.values()) == pytest.approx(effective, rel=1e-6)


def test_cli_runs_the_demo_park(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "park"
    assert vpp.cli.main(["run", str(PARK), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "as one virtual power plant" in text and "summer-peak-0715" in text
    assert (out / "park_summary.json").is_file() and (out / "park.png").is_file()
    for name in ("electronics", "biomedicine", "logistics", "rnd-offices"):
        assert (out / "sites" / name / "report.html").is_file()


# ---- bad input ----------------------------------------------------------------------


def test_a_site_listed_twice_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load(PARK.read_text())
    site = data["sites"][0]["file"]
    path = park_file(tmp_path, sites=[{"file": site}, {"file": site}])
    with pytest.raises(ScenarioError) as exc:
        load_park(path)
    assert "more than once" in str(exc.value)


def test_an_event_outside_the_horizon_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load(PARK.read_text())
    event = dict(data["demand_response"][0], start="2026-07-16T17:00", end="2026-07-16T19:00")
    with pytest.raises(ScenarioError) as exc:
        run_park(load_park(park_file(tmp_path, demand_response=[event])))
    problem = exc.value.problems[0]
    assert problem.key == "demand_response[0]" and "not inside the horizon" in problem.message


def test_a_limit_below_the_must_run_load_is_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = park_file(tmp_path, shared_limit_kw=3000, demand_response=[])
    with pytest.raises(InfeasibleError) as exc:
        run_park(load_park(path))
    problem = exc.value.problems[0]
    assert problem.key == "shared_limit_kw" and "3000 kW cannot be kept" in problem.message
    assert problem.timestamp.startswith("2026-07-15T")
    assert vpp.cli.main(["run", str(path), "--out", str(tmp_path / "o")]) == EXIT_INFEASIBLE
    assert not (tmp_path / "o").exists()


def test_joining_an_event_is_a_choice(tmp_path: Path) -> None:
    """Every combination of events is weighed, so the park's net cost with events is never
    above its cost without them (an offer of nothing would still bind it to its baseline)."""
    from vpp.portfolio.run import participation_cases

    assert participation_cases(2) == [(0, 1), (0,), (1,), ()]
    (tmp_path / "x").mkdir()
    without = run_park(load_park(park_file(tmp_path / "x", demand_response=[])))
    for rate in (0.01, 15.0):
        data = yaml.safe_load(PARK.read_text())
        event = dict(data["demand_response"][0], payment_cny_per_kw=rate)
        folder = tmp_path / f"r{rate}"
        folder.mkdir()
        result = run_park(load_park(park_file(folder, demand_response=[event])))
        assert result.summary["solve"]["participation_cases"] == 2
        assert result.summary["net_cost_cny"] <= without.summary["net_cost_cny"] * (1 + COST_RTOL)


def test_sites_read_in_parallel_equal_those_read_in_turn(monkeypatch) -> None:
    import vpp.portfolio.park as park_module
    from vpp.portfolio.park import site_inputs

    park = load_park(PARK)
    monkeypatch.setattr(park_module, "PARALLEL_INPUTS_MIN_SITES", 0)
    parallel = site_inputs(park, workers=2)
    serial = site_inputs(park)
    assert list(parallel) == list(serial)
    for name in serial:
        a, b = parallel[name], serial[name]
        assert a.series.equals(b.series)
        assert [x.name for x in a.assets] == [x.name for x in b.assets]


def _limit_series(tmp_path: Path, key: str, kw: float) -> Path:
    """The demo park whose site rnd-offices has ``key`` as a series of ``kw`` covering
    only 07-10..07-19 (the run is on 07-15; the baseline reads 06-24..07-14)."""
    path = park_file(tmp_path)
    site = tmp_path / "sites" / "rnd-offices.yaml"
    data = yaml.safe_load(site.read_text())
    data["site"]["grid"][key] = {"file": "lim.csv", "column": "kw"}
    site.write_text(yaml.safe_dump(data, sort_keys=False))
    stamps = pd.date_range(
        "2026-07-10", "2026-07-20", freq="15min", inclusive="left", tz="Asia/Shanghai"
    )
    pd.DataFrame({"timestamp": stamps.map(pd.Timestamp.isoformat), "kw": kw}).to_csv(
        tmp_path / "sites" / "lim.csv", index=False
    )
    return path


def test_a_limit_series_need_not_cover_the_baseline_history(tmp_path: Path) -> None:
    """The demand-response baseline reads each site over the 21 days before the run; a
    grid import-limit series covering only the days around the run (1,200 kW, the demo's
    number) is not read there, and the event settles as the demo's."""
    site = yaml.safe_load((PARK.parent / "sites" / "rnd-offices.yaml").read_text())
    assert site["site"]["grid"]["import_limit_kw"] == 1200
    result = run_park(load_park(_limit_series(tmp_path, "import_limit_kw", 1200.0)))
    demo = run_park(load_park(PARK))
    assert result.summary["demand_response"] == demo.summary["demand_response"]


def test_a_baseline_series_short_of_the_history_names_the_history_window(tmp_path):
    """The export limit bounds the baseline's export (PV), so the baseline reads it over
    its history window; a series short of it is bad input naming that window."""
    path = _limit_series(tmp_path, "export_limit_kw", 200.0)
    with pytest.raises(DataError) as err:
        run_park(load_park(path))
    (problem,) = err.value.problems
    assert problem.key == "site.grid.export_limit_kw column 'kw'"
    assert problem.message.startswith(
        "the demand-response baseline of event 'summer-peak-0715' reads the site's history, "
        "21 days from 2026-06-24 to 2026-07-15 (exclusive)"
    )
    assert problem.fix.startswith("extend the input to cover the history window from 2026-06-24")
