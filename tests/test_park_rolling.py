"""The park backtest (vpp.operation.park_rolling): the park operated day after day."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from vpp.operation.park_rolling import run_park_rolling
from vpp.portfolio.park import load_park

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "scenarios" / "park" / "sites"
#: Relative agreement of two optimal costs of the same problem [-].
COST_RTOL = 1e-7


def _park(tmp_path: Path, days: int, rolling: str, *, notified: bool = True) -> object:
    text = (ROOT / "scenarios" / "park" / "xushuguan-park.yaml").read_text(encoding="utf-8")
    text = text.replace("days: 1", f"days: {days}").replace("file: sites/", f"file: {SITES}/")
    if not notified:
        text = "\n".join(line for line in text.splitlines() if "notified_at" not in line)
    # the park file's own operation block (its comment included) gives way to the test's
    text = re.split(r"\n(?:#[^\n]*\n)*operation:", text)[0]
    text += f"\noperation:\n  mode: rolling\n  rolling: {rolling}\n"
    path = tmp_path / "park.yaml"
    path.write_text(text, encoding="utf-8")
    return load_park(path, allow_outside=True)


def test_perfect_forecasts_over_the_horizon_cost_what_perfect_foresight_costs(tmp_path):
    """Windows that reach the horizon's end on perfect forecasts: re-planning each day
    from the settled state keeps the perfect-foresight optimum (Bellman), events and
    feeder limit included."""
    park = _park(
        tmp_path,
        3,
        "{reoptimize_hour: 15, load_forecast: perfect, pv_forecast: perfect, lookahead_h: 72}",
        notified=False,
    )
    result = run_park_rolling(park, lookahead_past_end=False)
    rolling = result.summary["rolling"]
    assert rolling["decisions"] == 4  # 00:00 of the first day, then 15:00 of each day
    perfect = rolling["perfect"]
    assert result.summary["net_cost_cny"] == pytest.approx(perfect["net_cost_cny"], rel=COST_RTOL)
    for name, cost in perfect["by_site_cny"].items():
        assert result.sites[name].summary["total_cost_cny"] == pytest.approx(cost, rel=1e-6)
    assert rolling["shared_limit_violation"]["steps"] == 0


def test_an_event_announced_after_a_decision_is_not_planned_by_it(tmp_path):
    """The event is notified at 09:00 of its day: the 00:00 decision cannot know it, the
    15:00 decision of the day before is the run's start, so the event is planned by no
    day-ahead window and the perfect-forecast park costs more than perfect foresight
    (which knows the event from the start)."""
    park = _park(
        tmp_path,
        2,
        "{reoptimize_hour: 15, load_forecast: perfect, pv_forecast: perfect, lookahead_h: 48}",
    )
    result = run_park_rolling(park, lookahead_past_end=False)
    rolling = result.summary["rolling"]
    assert result.summary["net_cost_cny"] > rolling["perfect"]["net_cost_cny"] + 1.0


def test_imperfect_forecasts_cost_more_and_violations_are_counted(tmp_path):
    park = _park(
        tmp_path,
        2,
        "{reoptimize_hour: 15, load_forecast: profile, pv_forecast: synthetic, lookahead_h: 48}",
    )
    result = run_park_rolling(park)
    rolling = result.summary["rolling"]
    assert rolling["cost_of_imperfect_forecasts_cny"] > 0.0
    net = result.schedule["park_net_import_kw"].abs()
    limit = park.spec.shared_limit_kw
    assert rolling["shared_limit_violation"]["steps"] == int((net > limit + 1e-6).sum())
    for site in result.sites.values():
        assert site.summary["mode"] == "park-rolling"
        assert len(site.schedule) == 2 * 96


#: Two reused-versus-rebuilt dispatches agree to this [kW, kWh].
REUSE_TOL_KW = 1e-7
#: Energy balances of the settled EV sessions close to this, relative [-].
ENERGY_RTOL = 1e-6
#: The demo event's day, and its name.
EVENT_DAY = "2026-07-14"
EVENT = "summer-peak-0715"
PROFILE = "{reoptimize_hour: 15, load_forecast: profile, pv_forecast: synthetic, lookahead_h: 48"


def _dated(park_text: str, start: str) -> str:
    return park_text.replace("start: 2026-07-15,", f"start: {start},")


@pytest.fixture(scope="module")
def unannounced(tmp_path_factory):
    """Two days from the day before the event, the event known from the start (no
    notification time): the windows issued at 00:00 and 15:00 of the first day and at
    15:00 of the event day all hold it. Every decision's inputs and plan are recorded."""
    import vpp.operation.park_rolling as module

    tmp = tmp_path_factory.mktemp("unannounced")
    park = _park(tmp, 2, PROFILE + "}", notified=False)
    path = Path(park.file)
    path.write_text(_dated(path.read_text(encoding="utf-8"), EVENT_DAY), encoding="utf-8")
    park = load_park(path, allow_outside=True)
    calls = []
    original = module.plan_park_window

    def recording(park, sites, window, committed, **kwargs):
        plan = original(park, sites, window, committed, **kwargs)
        calls.append((window, sites, dict(committed), plan))
        return plan

    module.plan_park_window = recording
    try:
        result = run_park_rolling(park, reference=False)
    finally:
        module.plan_park_window = original
    return park, result, calls


def test_a_committed_offer_is_kept_by_the_later_windows(unannounced):
    """The first window holding the event decides its offer; every later window holding
    it gets that offer as committed and plans it unchanged; the settled summary's offer
    is that decision."""
    _park_, result, calls = unannounced
    holding = [c for c in calls if any(ev.event.name == EVENT for ev in c[3].events)]
    assert len(holding) >= 2
    first = holding[0][3].offers_kw[EVENT]
    assert first > 0.0  # joined: the test would be empty otherwise
    assert EVENT not in holding[0][2]
    for _window, _sites, committed, plan in holding[1:]:
        assert committed[EVENT] == first
        assert plan.offers_kw[EVENT] == pytest.approx(first, abs=1e-9)
        assert not any("broken" in note for note in plan.notes)
    (event,) = result.summary["demand_response"]
    assert event["offered_kw"] == pytest.approx(first, abs=1e-9)


def test_ev_fleets_are_operated_and_their_shortfall_is_reported(unannounced):
    """The logistics site's trucks: every session that departs inside the horizon gets its
    energy from the operated charging; the energy given plus the settled shortfall is
    what the sessions on the horizon owe, and the shortfall is priced in the bill at the
    fleet's price. The only shortfall is at the horizon's last step: the evening's trucks,
    still connected at the end, owe the share of their energy inside the horizon, which
    the operation (planned past the end) gives them after midnight."""
    from vpp.inputs.site import build_inputs

    _park_, result, _calls = unannounced
    site = result.sites["logistics"]
    fleet = site.scenario.site.ev_fleets[0]
    trucks = next(a for a in build_inputs(site.scenario).assets if a.name == fleet.name)
    due = float(np.sum(trucks.series["session_energy_kwh"]))
    step_h = site.horizon.step_h
    charge = site.schedule["trucks_charge_kw"].to_numpy()
    given = float(charge.sum()) * step_h * fleet.charge_efficiency
    unmet = site.schedule["trucks_unmet_kwh"].to_numpy()
    assert due > 1000.0 and given > 0.5 * due
    assert given + unmet.sum() == pytest.approx(due, rel=ENERGY_RTOL)
    assert np.all(unmet[:-1] <= 1e-6)  # sessions departing inside the horizon: served
    ends = np.asarray(trucks.series["session_end_step"], int)
    still_connected = ends >= len(charge)
    assert still_connected.any() or unmet[-1] <= 1e-6
    assert site.summary["ev_cost_cny"] == pytest.approx(
        unmet.sum() * fleet.unmet_cost_cny_per_kwh, rel=ENERGY_RTOL, abs=1e-6
    )


def test_the_month_to_date_peak_is_carried_across_days(unannounced):
    """Each window's peak floor is the largest settled import since the month began
    (the days before it included), and the settled bill charges each site once on the
    month's largest import: a day below an earlier peak adds nothing."""
    _park_, result, calls = unannounced
    for name, site in result.sites.items():
        imp = site.schedule["grid_import_kw"]
        index = imp.index
        for window, sites, _committed, _plan in calls[1:]:
            grid = next(a for a in sites[name].assets if a.kind == "grid")
            before = imp[index < window.index[0]]
            assert float(grid.series["peak_floor_kw"][0]) == pytest.approx(before.max(), abs=1e-6)
        daily = imp.groupby(index.date).max()
        rate = site.scenario.site.grid.basic_charge.demand_cny_per_kw_month
        assert site.summary["demand_charge_cny"] == pytest.approx(rate * daily.max(), rel=1e-9)
    assert any(
        (daily := s.schedule["grid_import_kw"].groupby(s.schedule.index.date).max()).iloc[1]
        < daily.iloc[0]
        for s in result.sites.values()
    )  # at least one site has a day below an earlier day's peak


def test_reused_site_models_give_the_dispatch_of_rebuilt_ones(tmp_path):
    """The park LP assembled from reused site models equals the one from models built
    for each window: same dispatch, bill and offers (two days over the event, a month
    end is not needed: the grid's months are part of the structure)."""
    runs = {}
    for reuse in (True, False):
        folder = tmp_path / str(reuse)
        folder.mkdir()
        park = _park(folder, 2, PROFILE + f", reuse_model: {str(reuse).lower()}}}")
        runs[reuse] = run_park_rolling(park, reference=False)
    reused, rebuilt = runs[True], runs[False]
    models = reused.summary["rolling"]["models"]
    assert models["updated"] > 0 and rebuilt.summary["rolling"]["models"]["updated"] == 0
    for name, site in reused.sites.items():
        other = rebuilt.sites[name].schedule
        columns = [c for c in other.columns if c.endswith(("_kw", "_kwh"))]
        diff = (site.schedule[columns] - other[columns]).abs().max()
        assert diff.max() <= REUSE_TOL_KW, diff[diff > REUSE_TOL_KW]
    assert reused.summary["total_cost_cny"] == pytest.approx(
        rebuilt.summary["total_cost_cny"], rel=1e-12
    )
    offers = [(e["name"], e["offered_kw"]) for e in reused.summary["demand_response"]]
    assert offers == [(e["name"], e["offered_kw"]) for e in rebuilt.summary["demand_response"]]


def test_a_backtest_writes_its_rolling_outputs(unannounced, tmp_path):
    """park_summary.json carries the rolling block, each site's schedule its forecast,
    plan and violation columns, and the terminal text the backtest's lines."""
    import json

    import pandas as pd

    from vpp.report.park_files import park_text, write_park

    _park_, result, _calls = unannounced
    write_park(result, tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "park_summary.json").read_text(encoding="utf-8"))
    rolling = summary["rolling"]
    for key in ("decisions", "notes", "shared_limit_violation", "perfect", "models"):
        assert key in rolling
    assert "cost_of_imperfect_forecasts_cny" in rolling
    assert (tmp_path / "out" / "park.png").stat().st_size > 0
    for name in result.sites:
        frame = pd.read_csv(tmp_path / "out" / "sites" / name / "schedule.csv", nrows=2)
        for column in (
            "load_forecast_kw",
            "grid_import_plan_kw",
            "grid_import_violation_kw",
            "grid_export_violation_kw",
        ):
            assert column in frame.columns
    text = park_text(result)
    assert rolling["decisions"] == 3  # 00:00 of the first day, then 15:00 of each day
    assert "operated: 3 decision(s)" in text
    assert "cost of imperfect forecasts: not computed" in text  # reference=False here
